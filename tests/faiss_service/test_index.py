from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faiss_service.index import VectorIndex, read_meta
from utils.errors import IndexCorrupt


def unit(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(params=["flat", "hnsw"])
def index(request: pytest.FixtureRequest) -> VectorIndex:
    # hnsw_threshold 1 makes every non-empty index an HNSW one: both kinds pass the same checks.
    return VectorIndex(16, "test-model", hnsw_threshold=10**6 if request.param == "flat" else 1)


def test_add_search_finds_itself_first(index: VectorIndex) -> None:
    vecs = unit(50)
    index.add(np.arange(100, 150), vecs)
    assert index.count == 50
    ids, scores = index.search(vecs[:5], 3)
    assert ids[:, 0].tolist() == [100, 101, 102, 103, 104]
    assert np.allclose(scores[:, 0], 1.0, atol=1e-4)
    assert index.ids().tolist() == list(range(100, 150))


def test_remove_hides_ids(index: VectorIndex) -> None:
    vecs = unit(30)
    index.add(np.arange(30), vecs)
    assert index.remove([3, 7, 999]) == 2
    assert index.count == 28
    ids, _ = index.search(vecs[3], 30)
    assert 3 not in ids[0] and 7 not in ids[0]
    assert 3 not in index.ids()
    assert index.remove([3]) == 0


def test_replace_keeps_one_entry_per_id(index: VectorIndex) -> None:
    vecs = unit(20)
    index.add(np.arange(20), vecs)
    other = unit(1, seed=9)
    index.add([5], other)
    assert index.count == 20
    ids, scores = index.search(other, 2)
    assert ids[0, 0] == 5 and scores[0, 0] > 0.999
    assert index.ids().tolist().count(5) == 1


def test_re_add_after_remove(index: VectorIndex) -> None:
    vecs = unit(10)
    index.add(np.arange(10), vecs)
    index.remove([4])
    index.add([4], vecs[4])
    ids, _ = index.search(vecs[4], 1)
    assert ids[0, 0] == 4 and index.count == 10


def test_search_on_empty_and_k_beyond_count(index: VectorIndex) -> None:
    ids, _scores = index.search(unit(1), 3)
    assert ids.shape == (1, 0)
    index.add([1, 2], unit(2))
    ids, _ = index.search(unit(1, seed=3), 5)
    assert sorted(ids[0].tolist()) == [1, 2]


def test_save_load_round_trip(index: VectorIndex, tmp_path: Path) -> None:
    vecs = unit(40)
    index.add(np.arange(40), vecs)
    index.remove([0])
    index.save(tmp_path / "idx")
    loaded = VectorIndex.load(tmp_path / "idx")
    assert loaded.kind == index.kind and loaded.model == "test-model" and loaded.count == 39
    assert np.array_equal(loaded.ids(), index.ids())
    ids, _ = loaded.search(vecs[1], 1)
    assert ids[0, 0] == 1
    meta = read_meta(tmp_path / "idx")
    assert meta is not None and meta.count == 39 and meta.dim == 16
    assert not list((tmp_path / "idx").glob("*.tmp"))


def test_grows_from_flat_to_hnsw() -> None:
    index = VectorIndex(16, "m", hnsw_threshold=25)
    vecs = unit(40)
    index.add(np.arange(20), vecs[:20])
    assert index.kind == "flat"
    index.add(np.arange(20, 40), vecs[20:])
    assert index.kind == "hnsw" and index.count == 40
    ids, _ = index.search(vecs[30], 1)
    assert ids[0, 0] == 30


def test_corrupt_or_missing_files_raise(tmp_path: Path) -> None:
    index = VectorIndex(16, "m")
    index.add([1, 2], unit(2))
    index.save(tmp_path)
    (tmp_path / "index.faiss").write_bytes(b"not an index")
    with pytest.raises(IndexCorrupt):
        VectorIndex.load(tmp_path)
    (tmp_path / "index.faiss").unlink()
    with pytest.raises(IndexCorrupt):
        VectorIndex.load(tmp_path)


def test_torn_pair_is_detected(tmp_path: Path) -> None:
    small = VectorIndex(16, "m")
    small.add([1], unit(1))
    small.save(tmp_path)
    meta = (tmp_path / "meta.json").read_text()
    big = VectorIndex(16, "m")
    big.add([1, 2, 3], unit(3))
    big.save(tmp_path)
    (tmp_path / "meta.json").write_text(meta)  # an old meta beside a new index
    with pytest.raises(IndexCorrupt):
        VectorIndex.load(tmp_path)


def test_wrong_dimension_is_refused() -> None:
    index = VectorIndex(16, "m")
    with pytest.raises(ValueError):
        index.add([1], np.ones((1, 8), np.float32))


def test_flipped_bytes_inside_the_vectors_are_detected(tmp_path: Path) -> None:
    # FAISS itself loads such a file silently (37 of 45 vectors wrong); the saved checksum refuses it.
    index = VectorIndex(16, "m")
    index.add(np.arange(1, 46), unit(45))
    index.save(tmp_path)
    data = bytearray((tmp_path / "index.faiss").read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    (tmp_path / "index.faiss").write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match="checksum"):
        VectorIndex.load(tmp_path)
