"""A FAISS vector index keyed by int64 ids: exact below a size threshold, HNSW beyond, saved atomically."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import faiss
import numpy as np

from utils.errors import IndexCorrupt
from utils.files import write_atomic

INDEX_FILE = "index.faiss"
META_FILE = "meta.json"
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 64
# Rebuild an HNSW index once this share of its entries are removed (HNSW cannot delete).
TOMBSTONE_REBUILD_SHARE = 0.2


@dataclass(frozen=True)
class IndexMeta:
    """What the meta file records next to a saved index."""

    model: str
    dim: int
    count: int
    kind: str


def _gpu_count() -> int:
    get = getattr(faiss, "get_num_gpus", None)
    return int(get()) if get else 0


def _as_matrix(vectors: np.ndarray, dim: int) -> np.ndarray:
    matrix = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.shape[1] != dim:
        raise ValueError(f"vectors have dimension {matrix.shape[1]}, the index {dim}")
    return matrix


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class VectorIndex:
    """Inner-product search over unit vectors with int64 ids; thread-safe."""

    def __init__(self, dim: int, model: str = "", hnsw_threshold: int = 20_000, use_gpu: bool | None = None) -> None:
        self.dim = dim
        self.model = model
        self.hnsw_threshold = hnsw_threshold
        self.use_gpu = _gpu_count() > 0 if use_gpu is None else use_gpu
        self._lock = threading.RLock()
        self._tombstones: set[int] = set()
        self._gpu_index: faiss.Index | None = None
        self._index = self._new_index("flat")
        self.kind = "flat"

    # -- construction -------------------------------------------------------------------------
    def _new_index(self, kind: str) -> faiss.IndexIDMap2:
        if kind == "hnsw":
            graph = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            graph.hnsw.efSearch = HNSW_EF_SEARCH
            return faiss.IndexIDMap2(graph)
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    def _kind_for(self, count: int) -> str:
        return "hnsw" if count >= self.hnsw_threshold else "flat"

    # -- reading ------------------------------------------------------------------------------
    @property
    def count(self) -> int:
        """Live vectors in the index."""
        with self._lock:
            return int(self._index.ntotal) - len(self._tombstones)

    def ids(self) -> np.ndarray:
        """The live ids, sorted."""
        with self._lock:
            all_ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
            if self._tombstones:
                all_ids = all_ids[~np.isin(all_ids, np.fromiter(self._tombstones, dtype=np.int64))]
            return np.sort(all_ids)

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of every live entry."""
        with self._lock:
            all_ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
            n = int(self._index.ntotal)
            vecs = self._index.index.reconstruct_n(0, n) if n else np.zeros((0, self.dim), np.float32)
            if self._tombstones:
                keep = ~np.isin(all_ids, np.fromiter(self._tombstones, dtype=np.int64))
                all_ids, vecs = all_ids[keep], vecs[keep]
            return all_ids, np.ascontiguousarray(vecs, dtype=np.float32)

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (ids, scores) per query row, at most as many columns as live vectors; missing slots are -1, -inf."""
        queries = _as_matrix(vectors, self.dim)
        with self._lock:
            total = int(self._index.ntotal)
            # Sized by what the index holds, never by k: a k from a request cannot allocate more than the index.
            k = max(0, min(k, total - len(self._tombstones)))
            out_ids = np.full((len(queries), k), -1, dtype=np.int64)
            out_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
            if k == 0:
                return out_ids, out_scores
            fetch = min(total, k + len(self._tombstones))
            index = self._search_index()
            if self.kind == "hnsw":
                graph = cast("faiss.IndexHNSWFlat", faiss.downcast_index(self._index.index))  # kind "hnsw"
                graph.hnsw.efSearch = max(HNSW_EF_SEARCH, fetch)
            if len(queries) == 1:
                # One query does not parallelize; idle OpenMP workers waking on busy cores cost milliseconds.
                threads = faiss.omp_get_max_threads()
                faiss.omp_set_num_threads(1)
                try:
                    scores, ids = index.search(queries, fetch)
                finally:
                    faiss.omp_set_num_threads(threads)
            else:
                scores, ids = index.search(queries, fetch)
            dead = self._tombstones
        for row in range(len(queries)):
            keep = [(i, s) for i, s in zip(ids[row], scores[row], strict=True) if i >= 0 and int(i) not in dead][:k]
            for col, (i, s) in enumerate(keep):
                out_ids[row, col] = i
                out_scores[row, col] = s
        return out_ids, out_scores

    def _search_index(self) -> faiss.Index:
        # HNSW has no GPU implementation in FAISS; exact search moves to the GPUs when there are any.
        if self.use_gpu and self.kind == "flat" and _gpu_count() > 0:
            if self._gpu_index is None:
                self._gpu_index = faiss.index_cpu_to_all_gpus(self._index)
            return self._gpu_index
        return self._index

    # -- writing ------------------------------------------------------------------------------
    def add(self, ids: np.ndarray | list[int], vectors: np.ndarray) -> None:
        """Add (or replace) vectors under ids."""
        id_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        matrix = _as_matrix(vectors, self.dim)
        if len(id_arr) != len(matrix):
            raise ValueError("ids and vectors differ in length")
        if len(id_arr) == 0:
            return
        with self._lock:
            existing = self._present(id_arr)
            if self.kind == "hnsw" and existing.size:
                # HNSW cannot drop a vector: replacing one means rebuilding from the live set.
                live_ids, live_vecs = self.vectors()
                keep = ~np.isin(live_ids, id_arr)
                self.rebuild(np.concatenate([live_ids[keep], id_arr]), np.vstack([live_vecs[keep], matrix]))
                return
            if existing.size:
                self._index.remove_ids(faiss.IDSelectorBatch(existing))
            self._tombstones.difference_update(int(i) for i in id_arr)
            if self.kind == "flat" and self._kind_for(int(self._index.ntotal) + len(id_arr)) == "hnsw":
                live_ids, live_vecs = self.vectors()
                self.rebuild(np.concatenate([live_ids, id_arr]), np.vstack([live_vecs, matrix]))
                return
            self._index.add_with_ids(matrix, id_arr)
            self._gpu_index = None

    def _present(self, id_arr: np.ndarray) -> np.ndarray:
        all_ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        # A tombstoned id still has its old vector in an HNSW graph: it counts as present.
        return id_arr[np.isin(id_arr, all_ids)]

    def remove(self, ids: np.ndarray | list[int]) -> int:
        """Remove ids; returns how many were present."""
        id_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        with self._lock:
            all_ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
            present = id_arr[np.isin(id_arr, all_ids)]
            present = np.array([i for i in present if int(i) not in self._tombstones], dtype=np.int64)
            if not present.size:
                return 0
            if self.kind == "flat":
                self._index.remove_ids(faiss.IDSelectorBatch(present))
                self._gpu_index = None
            else:
                self._tombstones.update(int(i) for i in present)
                if len(self._tombstones) > TOMBSTONE_REBUILD_SHARE * int(self._index.ntotal):
                    live_ids, live_vecs = self.vectors()
                    self.rebuild(live_ids, live_vecs)
            return int(present.size)

    def rebuild(self, ids: np.ndarray | list[int], vectors: np.ndarray) -> None:
        """Replace the whole content; the kind follows the size threshold."""
        id_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        matrix = _as_matrix(vectors, self.dim) if len(id_arr) else np.zeros((0, self.dim), np.float32)
        with self._lock:
            kind = self._kind_for(len(id_arr))
            index = self._new_index(kind)
            if len(id_arr):
                index.add_with_ids(matrix, id_arr)
            self._index, self.kind = index, kind
            self._tombstones = set()
            self._gpu_index = None

    # -- persistence --------------------------------------------------------------------------
    def meta(self) -> IndexMeta:
        """What the meta file would record now."""
        return IndexMeta(model=self.model, dim=self.dim, count=self.count, kind=self.kind)

    def save(self, directory: Path) -> None:
        """Write index and meta atomically (temp file, fsync, rename); meta last, with the index's sha256."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            data = faiss.serialize_index(self._index).tobytes()
            meta = self.meta().__dict__ | {"tombstones": sorted(self._tombstones), "ntotal": int(self._index.ntotal)}
        meta["sha256"] = hashlib.sha256(data).hexdigest()
        # The meta file names the index size, so a torn pair (new index, old meta) is detected on load.
        write_atomic(directory / INDEX_FILE, data)
        write_atomic(directory / META_FILE, json.dumps(meta).encode())
        _fsync_dir(directory)

    @classmethod
    def load(cls, directory: Path, hnsw_threshold: int = 20_000, use_gpu: bool | None = None) -> VectorIndex:
        """Read a saved index; IndexCorrupt when missing, unreadable, damaged (checksum) or unlike its meta."""
        directory = Path(directory)
        try:
            meta = json.loads((directory / META_FILE).read_text())
            data = (directory / INDEX_FILE).read_bytes()
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"cannot read the index in {directory}: {exc}") from exc
        # FAISS reads flipped bytes inside its vectors without complaint: the checksum is what finds them.
        # An index saved without one cannot be trusted either; it is derived state, so it is rebuilt.
        if not isinstance(meta, dict) or meta.get("sha256") != hashlib.sha256(data).hexdigest():
            raise IndexCorrupt(f"the index in {directory} does not match the checksum in its meta file")
        try:
            index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        except (ValueError, RuntimeError) as exc:
            raise IndexCorrupt(f"cannot read the index in {directory}: {exc}") from exc
        if not isinstance(index, faiss.IndexIDMap2):
            index = faiss.downcast_index(index)
        if not isinstance(index, faiss.IndexIDMap2) or index.d != meta.get("dim"):
            raise IndexCorrupt("index kind or dimension disagrees with its meta file")
        if int(index.ntotal) != int(meta.get("ntotal", -1)):
            raise IndexCorrupt("index size disagrees with its meta file")
        out = cls(int(meta["dim"]), str(meta.get("model", "")), hnsw_threshold, use_gpu)
        out._index = index
        out.kind = str(meta.get("kind", "flat"))
        out._tombstones = {int(i) for i in meta.get("tombstones", [])}
        return out


def read_meta(directory: Path) -> IndexMeta | None:
    """The meta file of a saved index, or None."""
    try:
        raw = json.loads((Path(directory) / META_FILE).read_text())
        return IndexMeta(str(raw["model"]), int(raw["dim"]), int(raw["count"]), str(raw["kind"]))
    except (OSError, ValueError, KeyError):
        return None
