"""The vector index kept in step with DuckDB: open (repair or rebuild), add and remove, save atomically, reindex."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from extraction.schema import ExtractionResult
from faiss_service.index import VectorIndex, read_meta
from retrieval.repository import invoices as sql
from retrieval.textindex import embedding_text, search_text
from utils.errors import IndexCorrupt

if TYPE_CHECKING:
    from faiss_service.embeddings import Embedder
    from retrieval.repository.database import Store
    from utils.settings import Settings

log = logging.getLogger(__name__)

SAVE_EVERY_WRITES = 500  # the index is derived state: saving it is an optimisation, repaired on start
SAVE_EVERY_SECONDS = 60.0
REINDEX_BATCH = 256


def model_dim(path: Path) -> int | None:
    """The embedding dimension read from a sentence-transformers folder, without loading the model."""
    try:
        pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
        return int(pooling["word_embedding_dimension"])
    except (OSError, ValueError, KeyError):
        return None


class IndexSync:
    """Owns the FAISS index: derived from the stored embeddings, saved now and then, repaired on open."""

    def __init__(self, settings: Settings, store: Store, embedder: Embedder) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.model_name = embedder.name
        self.lock = threading.RLock()
        self._index: VectorIndex | None = None
        self._dirty_writes = 0
        self._last_save = time.monotonic()
        self.repaired: str | None = None

    def dim(self) -> int:
        """The embedding dimension of the model."""
        dim = model_dim(self.embedder.path)
        return dim if dim else self.embedder.dim

    def index(self) -> VectorIndex:
        """The vector index (created empty when there is none yet)."""
        index = self._index
        if index is not None:  # no lock: writers hold it while saving, and readers must not wait on that
            return index
        with self.lock:
            if self._index is None:
                self._index = VectorIndex(self.dim(), self.model_name, self.settings.hnsw_threshold)
            return self._index

    def open(self) -> None:
        """Load the saved index and bring it in line with DuckDB: repair small gaps, rebuild otherwise."""
        index_dir = self.settings.index_dir
        if sql.other_model_count(self.store.cursor(), self.model_name):
            # Stored vectors come from another model: they cannot be mixed with this one's.
            self.repaired = "re-embedded: model changed"
            self.reindex()
            return
        with self.store.transaction() as cur:
            dropped = self.store.drop_orphans(cur)
        if dropped:
            log.warning("dropped %d rows of deleted invoices", dropped)
        meta = read_meta(index_dir)
        try:
            loaded = VectorIndex.load(index_dir, self.settings.hnsw_threshold) if meta else None
        except IndexCorrupt as exc:
            log.warning("rebuilding the vector index: %s", exc.args[0])
            loaded = None
        if loaded is not None and (loaded.model != self.model_name or loaded.dim != self.dim()):
            loaded = None
        db_ids = self.store.embedding_ids()
        if loaded is None:
            self._index = VectorIndex(self.dim(), self.model_name, self.settings.hnsw_threshold)
            if len(db_ids) or meta is not None or index_dir.exists():
                self.rebuild_from_store()
                self.repaired = "rebuilt from stored embeddings"
            return
        self._index = loaded
        index_ids = loaded.ids()
        missing = np.setdiff1d(db_ids, index_ids)
        extra = np.setdiff1d(index_ids, db_ids)
        if missing.size or extra.size:
            if extra.size:
                loaded.remove(extra)
            if missing.size:
                ids, vectors = self.store.embeddings(missing.tolist())
                loaded.add(ids, vectors)
            self.repaired = f"repaired: {missing.size} added, {extra.size} removed"
            self.save()

    def rebuild_from_store(self) -> int:
        """Rebuild the index from this model's stored embeddings and save it; how many it holds."""
        ids, vectors = self.store.embeddings(model=self.model_name)
        index = self.index()
        index.rebuild(ids, vectors if len(ids) else np.zeros((0, index.dim), np.float32))
        self.save()
        return len(ids)

    def save(self) -> None:
        """Write the index to disk now (atomically)."""
        with self.lock:
            self.index().save(self.settings.index_dir)
            self._dirty_writes = 0
            self._last_save = time.monotonic()

    def _after_write(self, n: int = 1) -> None:
        self._dirty_writes += n
        if self._dirty_writes >= SAVE_EVERY_WRITES or time.monotonic() - self._last_save > SAVE_EVERY_SECONDS:
            self.save()

    def add(self, ids: list[int], vectors: np.ndarray) -> None:
        """Put committed invoices' vectors in the index (replacing earlier ones); saved now and then."""
        with self.lock:
            self.index().add(ids, vectors)
            self._after_write(len(ids))

    def remove(self, ids: list[int]) -> None:
        """Take deleted invoices out of the index; saved now and then."""
        with self.lock:
            self.index().remove(ids)
            self._after_write(len(ids))

    def save_if_dirty(self) -> None:
        """Save the index when writes since the last save are not on disk yet."""
        if self._dirty_writes:
            self.save()

    def reindex(self) -> int:
        """Re-embed every stored invoice, rebuild the index and keyword postings, drop rows of deleted invoices."""
        rows = sql.all_results(self.store.cursor())
        for start in range(0, len(rows), REINDEX_BATCH):
            chunk = rows[start : start + REINDEX_BATCH]
            results = [ExtractionResult.model_validate_json(r[1]) for r in chunk]
            vectors = self.embedder.encode([embedding_text(r) for r in results])
            with self.store.transaction() as cur:
                present = sql.present(cur, [r[0] for r in chunk])
                for (invoice_id, _), result, vector in zip(chunk, results, vectors, strict=True):
                    if invoice_id not in present:  # deleted since it was read
                        continue
                    self.store.put_embedding(cur, invoice_id, self.model_name, vector)
                    self.store.index_text(cur, invoice_id, search_text(result, sql.vendor_names(cur, invoice_id)))
        with self.store.transaction() as cur:
            sql.drop_other_models(cur, self.model_name)
            self.store.drop_orphans(cur)
        self.store.compact_postings()
        with self.lock:
            return self.rebuild_from_store()
