"""Convert the official DeepSeek-OCR-2 download into transformers' native layout, offline.

`huggingface-cli download deepseek-ai/DeepSeek-OCR-2` gives the remote-code layout: a `deepseek_vl_v2`
config (`language_config`, `vision_config.width`, `projector_config`) and weights named after DeepSeek's
own modules (`model.sam_model.blocks.*`, `model.qwen2_model.model.model.layers.*`, one tensor per MoE
expert). The native `DeepseekOcr2ForConditionalGeneration` wants a `deepseek_ocr2` config and its own
module names, with each layer's experts fused into `gate_up_proj` / `down_proj`. The renames follow the
mapping transformers publishes for `deepseek_ocr2`; sizes the official config leaves out are read from
the tensor shapes, and the few it cannot carry are the published DeepSeek-OCR-2 values.

Weights stream tensor by tensor (one layer's experts at most are held at once) into shards written in a
hidden folder next to the target, which is renamed into place only when everything is written and the
tensor names and shapes match what the native model expects.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extraction.model_files.folder import (
    DEEPSEEK_OCR,
    DEEPSEEK_OCR2,
    DEEPSEEK_OCR2_NATIVE,
    WEIGHT_INDEX,
    inspect_folder,
    read_safetensors_header,
)
from utils.errors import ConversionError

if TYPE_CHECKING:
    import torch

DEFAULT_SHARD_BYTES = 2 * 1024**3

# Official name -> native name, tried in order; the first match wins, a key matching none is an error.
RENAMES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), target)
    for pattern, target in (
        (r"^model\.sam_model\.blocks\.(\d+)\.norm1\.", r"model.vision_tower.sam_encoder.layers.\1.layer_norm1."),
        (r"^model\.sam_model\.blocks\.(\d+)\.norm2\.", r"model.vision_tower.sam_encoder.layers.\1.layer_norm2."),
        (r"^model\.sam_model\.blocks\.(\d+)\.(attn|mlp)\.", r"model.vision_tower.sam_encoder.layers.\1.\2."),
        (r"^model\.sam_model\.patch_embed\.proj\.", "model.vision_tower.sam_encoder.patch_embed.projection."),
        (r"^model\.sam_model\.pos_embed$", "model.vision_tower.sam_encoder.pos_embed"),
        (r"^model\.sam_model\.neck\.0\.", "model.vision_tower.sam_encoder.neck.conv1."),
        (r"^model\.sam_model\.neck\.1\.", "model.vision_tower.sam_encoder.neck.layer_norm1."),
        (r"^model\.sam_model\.neck\.2\.", "model.vision_tower.sam_encoder.neck.conv2."),
        (r"^model\.sam_model\.neck\.3\.", "model.vision_tower.sam_encoder.neck.layer_norm2."),
        (r"^model\.sam_model\.net_2\.", "model.vision_tower.sam_encoder.proj.conv1."),
        (r"^model\.sam_model\.net_3\.", "model.vision_tower.sam_encoder.proj.conv2."),
        (r"^model\.qwen2_model\.model\.model\.(layers|norm)\.", r"model.vision_tower.vision_encoder.\1."),
        (r"^model\.qwen2_model\.query_768\.", "model.vision_tower.query_768_resolution."),
        (r"^model\.qwen2_model\.query_1024\.", "model.vision_tower.query_1024_resolution."),
        (r"^model\.projector\.layers\.", "model.multi_modal_projector."),
        (r"^model\.view_seperator$", "model.view_separator"),
        (r"^model\.(embed_tokens|layers|norm)\.", r"model.language_model.\1."),
        (r"^lm_head\.", "lm_head."),
    )
)
EXPERT = re.compile(r"^(model\.language_model\.layers\.\d+\.mlp\.experts)\.(\d+)\.(gate|up|down)_proj\.weight$")

# DeepSeek-OCR-2's query encoder is Qwen2-0.5B-shaped; its config carries only the width. These are the
# published values for the rest (64-wide heads, RMS eps 1e-6, rope theta 1e6).
ENCODER_HEAD_DIM = 64
ENCODER_RMS_EPS = 1e-6
ENCODER_ROPE_THETA = 1_000_000.0
DOWNSAMPLE_RATIO = 4
# Remote-code config keys with no meaning for the native classes (dropped without a warning).
REMOTE_ONLY_KEYS = {
    "architectures", "auto_map", "model_type", "torch_dtype", "dtype", "transformers_version", "_name_or_path",
    "lm_head", "rm_head", "use_mla", "kv_lora_rank", "q_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim",
    "v_head_dim", "first_k_dense_replace", "moe_layer_freq", "rope_theta", "aux_loss_alpha", "seq_aux",
}  # fmt: skip
DTYPE_NAMES = {"BF16": "bfloat16", "F16": "float16", "F32": "float32"}


@dataclass
class ConversionReport:
    """What a conversion wrote."""

    source: Path
    target: Path
    tensors: int = 0
    nbytes: int = 0
    shards: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of the official checkpoint: where it is, its dtype and shape."""

    file: Path
    dtype: str
    shape: tuple[int, ...]


def native_key(key: str) -> str:
    """The native name of an official tensor name; ConversionError when the mapping does not know it."""
    for pattern, target in RENAMES:
        if pattern.search(key):
            return pattern.sub(target, key, count=1)
    raise ConversionError(f"no native name for tensor {key!r}: not a DeepSeek-OCR-2 checkpoint?")


def read_tensor_index(folder: Path, files: tuple[Path, ...]) -> dict[str, TensorInfo]:
    """Every tensor of the official checkpoint with its file, dtype and shape (headers only)."""
    out: dict[str, TensorInfo] = {}
    for path in files:
        for key, entry in read_safetensors_header(path).items():
            if key != "__metadata__":
                out[key] = TensorInfo(path, entry["dtype"], tuple(entry["shape"]))
    return out


def _shape(tensors: dict[str, TensorInfo], key: str) -> tuple[int, ...]:
    info = tensors.get(key)
    if info is None:
        raise ConversionError(f"the checkpoint has no tensor {key!r}")
    return info.shape


def _layer_count(tensors: dict[str, TensorInfo], prefix: str) -> int:
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.")
    found = {int(m.group(1)) for key in tensors if (m := pattern.match(key))}
    if not found or found != set(range(max(found) + 1)):
        raise ConversionError(f"layers under {prefix!r} are missing or not numbered 0..n")
    return len(found)


def sam_config(official: dict[str, Any], tensors: dict[str, TensorInfo]) -> dict[str, Any]:
    """The native SAM encoder config: sizes from the tensors, heads and global layers from the config."""
    sam = ((official.get("vision_config") or {}).get("width") or {}).get("sam_vit_b")
    if not isinstance(sam, dict) or "heads" not in sam or "global_attn_indexes" not in sam:
        raise ConversionError("config.json has no vision_config.width.sam_vit_b with heads and global_attn_indexes")
    hidden, _, patch, _ = _shape(tensors, "model.sam_model.patch_embed.proj.weight")
    grid = _shape(tensors, "model.sam_model.pos_embed")[1]
    layers = _layer_count(tensors, "model.sam_model.blocks.")
    if sam.get("width", hidden) != hidden or sam.get("layers", layers) != layers:
        raise ConversionError(f"config says SAM width {sam.get('width')} x {sam.get('layers')} layers, weights differ")
    global_layers = list(sam["global_attn_indexes"])
    windowed = [i for i in range(layers) if i not in global_layers]
    window = 14
    if windowed and f"model.sam_model.blocks.{windowed[0]}.attn.rel_pos_h" in tensors:
        window = (_shape(tensors, f"model.sam_model.blocks.{windowed[0]}.attn.rel_pos_h")[0] + 1) // 2
    return {
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": int(sam["heads"]),
        "global_attn_indexes": global_layers,
        "image_size": grid * patch,
        "patch_size": patch,
        "window_size": window,
        "output_channels": _shape(tensors, "model.sam_model.neck.0.weight")[0],
        "mlp_dim": _shape(tensors, "model.sam_model.blocks.0.mlp.lin1.weight")[0],
        "qkv_bias": "model.sam_model.blocks.0.attn.qkv.bias" in tensors,
        "use_rel_pos": "model.sam_model.blocks.0.attn.rel_pos_h" in tensors,
        "downsample_channels": [
            _shape(tensors, "model.sam_model.net_2.weight")[0],
            _shape(tensors, "model.sam_model.net_3.weight")[0],
        ],
    }


def encoder_config(tensors: dict[str, TensorInfo]) -> dict[str, Any]:
    """The native query-encoder config (Qwen2-shaped): sizes from the tensors, the rest as published."""
    layer = "model.qwen2_model.model.model.layers.0."
    hidden = _shape(tensors, "model.qwen2_model.query_768.weight")[1]
    if hidden % ENCODER_HEAD_DIM:
        raise ConversionError(f"query encoder width {hidden} is not a multiple of {ENCODER_HEAD_DIM}")
    return {
        "hidden_size": hidden,
        "num_hidden_layers": _layer_count(tensors, "model.qwen2_model.model.model.layers."),
        "num_attention_heads": hidden // ENCODER_HEAD_DIM,
        "num_key_value_heads": _shape(tensors, layer + "self_attn.k_proj.weight")[0] // ENCODER_HEAD_DIM,
        "intermediate_size": _shape(tensors, layer + "mlp.gate_proj.weight")[0],
        "rms_norm_eps": ENCODER_RMS_EPS,
        "rope_parameters": {"rope_theta": ENCODER_ROPE_THETA, "rope_type": "default"},
        "vocab_size": 1,
    }


def text_config(official: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """The native language-model config from `language_config` (dense/sparse layers spelled out)."""
    from dataclasses import fields

    from transformers import DeepseekOcr2TextConfig

    language = dict(official.get("language_config") or {})
    if not language:
        raise ConversionError("config.json has no language_config")
    if language.get("use_mla") or language.get("kv_lora_rank") or language.get("q_lora_rank"):
        raise ConversionError("multi-head latent attention checkpoints have no native DeepSeek-OCR-2 class")
    if language.get("rope_scaling"):
        raise ConversionError("rope_scaling is not supported by the native DeepSeek-OCR-2 classes")
    known = {f.name for f in fields(DeepseekOcr2TextConfig)} - {"architectures", "dtype", "transformers_version"}
    out = {k: v for k, v in language.items() if k in known}
    dropped = sorted(k for k in language if k not in known and k not in REMOTE_ONLY_KEYS and k != "rope_scaling")
    if dropped:
        warnings.append(f"language_config keys without a native meaning, dropped: {', '.join(dropped)}")
    layers = int(language.get("num_hidden_layers", 0))
    first_dense = int(language.get("first_k_dense_replace", 0) or 0)
    every = max(1, int(language.get("moe_layer_freq", 1) or 1))
    out["mlp_layer_types"] = [
        "sparse" if i >= first_dense and i % every == 0 else "dense" for i in range(layers)
    ]  # DeepSeek-V2's rule for which layers are mixtures of experts
    if "rope_theta" in language:
        out["rope_parameters"] = {"rope_theta": float(language["rope_theta"]), "rope_type": "default"}
    return out


def native_config(
    official: dict[str, Any], tensors: dict[str, TensorInfo], tokenizer: Any, warnings: list[str]
) -> dict[str, Any]:
    """The `deepseek_ocr2` config.json for an official config, its tensors and its tokenizer."""
    text = text_config(official, warnings)
    if tokenizer.pad_token_id is not None:
        text.setdefault("pad_token_id", tokenizer.pad_token_id)
    image_token_id = tokenizer.convert_tokens_to_ids("<image>")
    if image_token_id is None or image_token_id == tokenizer.unk_token_id:
        raise ConversionError("the tokenizer has no <image> token")
    dtypes = {t.dtype for t in tensors.values()}
    config: dict[str, Any] = {
        "model_type": "deepseek_ocr2",
        "architectures": ["DeepseekOcr2ForConditionalGeneration"],
        "text_config": text,
        "vision_config": {"sam_config": sam_config(official, tensors), "encoder_config": encoder_config(tensors)},
        "image_token_id": int(image_token_id),
        "tie_word_embeddings": False,
    }
    if len(dtypes) == 1 and next(iter(dtypes)) in DTYPE_NAMES:
        config["dtype"] = DTYPE_NAMES[next(iter(dtypes))]
    return config


def _planned_shapes(tensors: dict[str, TensorInfo], experts: int) -> dict[str, tuple[int, ...]]:
    """Native name -> shape of every tensor the conversion will write."""
    planned: dict[str, tuple[int, ...]] = {}
    groups: dict[str, dict[str, dict[int, tuple[int, ...]]]] = {}
    for key, info in tensors.items():
        name = native_key(key)
        match = EXPERT.match(name)
        if match:
            groups.setdefault(match.group(1), {}).setdefault(match.group(3), {})[int(match.group(2))] = info.shape
        else:
            planned[name] = info.shape
    for prefix, parts in groups.items():
        if any(sorted(parts.get(p, {})) != list(range(experts)) for p in ("gate", "up", "down")):
            raise ConversionError(f"{prefix}: expected {experts} experts with gate, up and down projections")
        rows, cols = parts["gate"][0]
        planned[prefix + ".gate_up_proj"] = (experts, 2 * rows, cols)
        planned[prefix + ".down_proj"] = (experts, *parts["down"][0])
    return planned


def check_against_model(config: dict[str, Any], planned: dict[str, tuple[int, ...]]) -> None:
    """ConversionError unless the tensors to write are exactly the native model's (names and shapes)."""
    import torch
    from transformers import DeepseekOcr2Config, DeepseekOcr2ForConditionalGeneration

    with torch.device("meta"):
        model = DeepseekOcr2ForConditionalGeneration(DeepseekOcr2Config.from_dict(config))
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = sorted(set(expected) - set(planned))
    unexpected = sorted(set(planned) - set(expected))
    wrong = sorted(k for k in set(expected) & set(planned) if expected[k] != planned[k])
    if missing or unexpected or wrong:
        parts = [
            f"{label}: {', '.join(keys[:4])}{' ...' if len(keys) > 4 else ''}"
            for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
            if keys
        ]
        raise ConversionError("the converted tensors do not fit the native model (" + "; ".join(parts) + ")")


def native_tensors(tensors: dict[str, TensorInfo], experts: int) -> Iterator[tuple[str, torch.Tensor]]:
    """(native name, tensor) in checkpoint order, each layer's experts fused once all of them are read."""
    import torch
    from safetensors import safe_open

    pending: dict[str, dict[str, dict[int, torch.Tensor]]] = {}
    by_file: dict[Path, list[str]] = {}
    for key, info in tensors.items():
        by_file.setdefault(info.file, []).append(key)
    for path, keys in by_file.items():
        with safe_open(str(path), framework="pt") as handle:
            for key in keys:
                name = native_key(key)
                match = EXPERT.match(name)
                if not match:
                    yield name, handle.get_tensor(key)
                    continue
                prefix = match.group(1)
                parts = pending.setdefault(prefix, {"gate": {}, "up": {}, "down": {}})
                parts[match.group(3)][int(match.group(2))] = handle.get_tensor(key)
                if all(len(parts[p]) == experts for p in parts):
                    order = range(experts)
                    gate = torch.stack([parts["gate"][e] for e in order])
                    up = torch.stack([parts["up"][e] for e in order])
                    yield prefix + ".gate_up_proj", torch.cat([gate, up], dim=1)
                    yield prefix + ".down_proj", torch.stack([parts["down"][e] for e in order])
                    del pending[prefix]
    if pending:
        raise ConversionError(f"incomplete experts in {', '.join(sorted(pending))}")


class ShardWriter:
    """Writes tensors into safetensors shards of bounded size, then the index transformers reads."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.current: dict[str, Any] = {}
        self.current_bytes = 0
        self.shards: list[list[str]] = []
        self.nbytes = 0

    def add(self, name: str, tensor: Any) -> None:
        """Queue one tensor; a full shard is written first."""
        size = tensor.numel() * tensor.element_size()
        if self.current and self.current_bytes + size > self.max_bytes:
            self._flush()
        self.current[name] = tensor.contiguous()
        self.current_bytes += size
        self.nbytes += size

    def _flush(self) -> None:
        from safetensors.torch import save_file

        save_file(self.current, str(self.folder / f"shard-{len(self.shards):05d}.tmp"), metadata={"format": "pt"})
        self.shards.append(list(self.current))
        self.current, self.current_bytes = {}, 0

    def close(self) -> int:
        """Write the last shard, give the shards their final names and write the index; the shard count."""
        if self.current:
            self._flush()
        total = len(self.shards)
        if total == 1:
            (self.folder / "shard-00000.tmp").rename(self.folder / "model.safetensors")
            return 1
        weight_map: dict[str, str] = {}
        for i, names in enumerate(self.shards):
            final = f"model-{i + 1:05d}-of-{total:05d}.safetensors"
            (self.folder / f"shard-{i:05d}.tmp").rename(self.folder / final)
            weight_map.update(dict.fromkeys(names, final))
        index = {"metadata": {"total_size": self.nbytes}, "weight_map": weight_map}
        (self.folder / WEIGHT_INDEX).write_text(json.dumps(index, indent=2), encoding="utf-8")
        return total


def write_processor(source: Path, target: Path, config: dict[str, Any], official_processor: dict[str, Any]) -> None:
    """The native processor (image tiling derived from the vision tower) and the tokenizer, into `target`."""
    from transformers import DeepseekOcr2ImageProcessorPil, DeepseekOcr2Processor, PreTrainedTokenizerFast

    sam = config["vision_config"]["sam_config"]
    ratio = int(official_processor.get("downsample_ratio", DOWNSAMPLE_RATIO))
    # The 768 px tiles use the 12x12 query bank: tile = 12 query cells x ratio x patch.
    tile = math.isqrt(144) * ratio * sam["patch_size"]
    size = sam["image_size"]
    image_processor = DeepseekOcr2ImageProcessorPil(size={"height": size, "width": size}, tile_size=tile)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(source, local_files_only=True)
    processor = DeepseekOcr2Processor(
        image_processor=image_processor, tokenizer=tokenizer, patch_size=sam["patch_size"], downsample_ratio=ratio
    )
    processor.save_pretrained(target)


def _prepare_target(source: Path, target: Path, overwrite: bool) -> Path:
    if source.resolve() == target.resolve() or source.resolve() in target.resolve().parents:
        raise ConversionError("the target folder must be outside the source folder")
    if target.exists() and (not target.is_dir() or any(target.iterdir())) and not overwrite:
        raise ConversionError(f"{target} exists and is not empty (pass --overwrite to replace it)")
    staging = target.parent / f".{target.name}.partial"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    return staging


def convert_checkpoint(
    source: Path | str,
    target: Path | str,
    *,
    max_shard_bytes: int = DEFAULT_SHARD_BYTES,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ConversionReport:
    """Convert an official DeepSeek-OCR-2 folder into a native one at `target` (written whole or not at all)."""
    from transformers import DeepseekOcr2Config, PreTrainedTokenizerFast

    started = time.perf_counter()
    source, target = Path(source), Path(target)
    say = progress or (lambda _message: None)
    folder = inspect_folder(source)
    if folder.kind == DEEPSEEK_OCR2_NATIVE:
        raise ConversionError(f"{source} is already in the native layout; point INVOICE_OCR_DEEPSEEK_MODEL at it")
    if folder.kind == DEEPSEEK_OCR:
        raise ConversionError(
            "DeepSeek-OCR v1 has no native transformers classes: serve it with vLLM (engine `vllm`) or run the "
            "v1 side service (engine `deepseek-legacy`)"
        )
    if folder.kind != DEEPSEEK_OCR2:
        raise ConversionError(f"{source} is not an official DeepSeek-OCR-2 download ({folder.label})")
    if folder.problems or folder.weights is None:
        raise ConversionError(f"{source} is incomplete: {'; '.join(folder.problems)}")
    report = ConversionReport(source, target)
    tensors = read_tensor_index(source, folder.weights.files)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(source, local_files_only=True)
    config = native_config(folder.config, tensors, tokenizer, report.warnings)
    experts = int(config["text_config"].get("n_routed_experts", 0))
    check_against_model(config, _planned_shapes(tensors, experts))
    say(f"converting {len(tensors)} tensors ({folder.weights.nbytes / 1e9:.2f} GB) from {source}")
    staging = _prepare_target(source, target, overwrite)
    try:
        writer = ShardWriter(staging, max_shard_bytes)
        for name, tensor in native_tensors(tensors, experts):
            writer.add(name, tensor)
            report.tensors += 1
        report.shards = writer.close()
        report.nbytes = writer.nbytes
        DeepseekOcr2Config.from_dict(config).save_pretrained(staging)
        official_processor = _read_json(source / "processor_config.json")
        write_processor(source, staging, config, official_processor)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report.seconds = time.perf_counter() - started
    say(f"wrote {report.tensors} tensors in {report.shards} shard(s) to {target} in {report.seconds:.1f}s")
    return report


def _read_json(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}
