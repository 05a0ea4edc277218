"""The same sentence embeddings through ONNX Runtime: a local export of the model, about 3x faster on a CPU."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from utils.errors import OnnxUnsupported
from utils.files import replaced_atomically

log = logging.getLogger(__name__)

EXPORT_VERSION = 1  # bump when the exported graph changes


def cache_dir() -> Path:
    """Where exported models are kept: INVOICE_OCR_CACHE_DIR, else the user's cache folder."""
    explicit = os.environ.get("INVOICE_OCR_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "invoice-ocr"


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def check_supported(model_dir: Path) -> int:
    """The model's max sequence length when it is a mean-pooled transformer with a fast tokenizer."""
    modules = _read_json(model_dir / "modules.json")
    kinds: list[str] = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules] if isinstance(modules, list) else []
    if kinds[:2] != ["Transformer", "Pooling"] or any(k not in ("Transformer", "Pooling", "Normalize") for k in kinds):
        raise OnnxUnsupported(f"modules {kinds} are not Transformer + mean Pooling (+ Normalize)")
    pooling = _read_json(model_dir / "1_Pooling" / "config.json")
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    if modes != {"pooling_mode_mean_tokens"}:
        raise OnnxUnsupported(f"pooling {sorted(modes)} is not mean pooling")
    if not (model_dir / "tokenizer.json").is_file():
        raise OnnxUnsupported("no tokenizer.json (fast tokenizer) in the model folder")
    return int(_read_json(model_dir / "sentence_bert_config.json").get("max_seq_length") or 512)


def _fingerprint(model_dir: Path) -> str:
    """A key that changes when the weights, torch or this export change."""
    import torch

    digest = hashlib.sha256(f"{EXPORT_VERSION}|{torch.__version__}".encode())
    for path in sorted(model_dir.glob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.name}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def export(model, out: Path) -> None:
    """Write the transformer of a loaded SentenceTransformer as an ONNX graph (temp file, then rename)."""
    import torch

    bert = model[0].auto_model.eval()
    sample = model.tokenizer(["an invoice from a vendor"], return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class _Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, *inputs):
            return self.bert(**dict(zip(names, inputs, strict=True))).last_hidden_state

    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "hidden"]}
    out.parent.mkdir(parents=True, exist_ok=True)
    with replaced_atomically(out) as tmp, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about shapes the dynamic axes already cover
        torch.onnx.export(
            _Encoder(), tuple(sample[n] for n in names), str(tmp), input_names=names, output_names=["hidden"],
            dynamic_axes=axes, opset_version=17, dynamo=False,
        )  # fmt: skip


class OnnxEncoder:
    """Mean-pooled, L2-normalized sentence vectors from an ONNX export run by ONNX Runtime on the CPU."""

    def __init__(self, graph: Path, model_dir: Path, max_tokens: int, threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(threads, 1)
        options.inter_op_num_threads = 1
        # Idle intra-op threads sleep instead of spinning: a spinning thread takes the core the server's
        # event loop needs between the short query batches.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.no_padding()
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Vectors for texts, shape (n, dim), float32, unit length; batches of similar length."""
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out: dict[int, np.ndarray] = {}  # by position in texts
        for lo in range(0, len(order), batch_size):
            chunk = order[lo : lo + batch_size]
            width = max(len(encodings[i].ids) for i in chunk)
            feeds = {name: np.zeros((len(chunk), width), np.int64) for name in self.inputs}
            for row, i in enumerate(chunk):
                enc = encodings[i]
                n = len(enc.ids)
                feeds["input_ids"][row, :n] = enc.ids
                feeds["attention_mask"][row, :n] = enc.attention_mask
                if "token_type_ids" in feeds:
                    feeds["token_type_ids"][row, :n] = enc.type_ids
            hidden = self.session.run(None, feeds)[0]
            mask = feeds["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            for row, i in enumerate(chunk):
                out[i] = pooled[row]
        return np.ascontiguousarray(np.stack([out[i] for i in range(len(texts))]), dtype=np.float32)


def load_onnx_encoder(model_dir: Path, torch_model: Callable[[], Any], threads: int = 1) -> OnnxEncoder:
    """An ONNX encoder for a sentence-transformers folder, exported once (from torch_model()) into the cache."""
    max_tokens = check_supported(model_dir)
    try:
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise OnnxUnsupported("onnxruntime is not installed") from exc
    graph = cache_dir() / "onnx" / f"{model_dir.name}-{_fingerprint(model_dir)}.onnx"
    if not graph.is_file():
        try:
            import onnx  # noqa: F401  (the exporter writes through it)
        except ImportError as exc:
            raise OnnxUnsupported("the onnx package is not installed") from exc
        log.info("exporting %s to ONNX at %s (once)", model_dir.name, graph)
        export(torch_model(), graph)
    return OnnxEncoder(graph, model_dir, max_tokens, threads)
