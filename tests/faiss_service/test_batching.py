"""Query embeddings batched across threads: the same vectors as one by one, fewer model calls, errors shared."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from faiss_service.batching import EmbeddingBatcher
from faiss_service.embeddings import get_embedder


class CountingEmbedder:
    """The real embedder, counting model calls (and failing on demand)."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.real = get_embedder(None)
        self.calls: list[int] = []
        self.fail_on = fail_on
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def encode(self, texts: list[str]) -> np.ndarray:
        self.entered.set()
        self.gate.wait(10)
        self.calls.append(len(texts))
        if self.fail_on in texts:
            raise ValueError(f"cannot embed {self.fail_on!r}")
        return self.real.encode(texts)


def test_concurrent_queries_share_model_calls_and_get_their_own_vectors() -> None:
    counting = CountingEmbedder()
    batcher = EmbeddingBatcher(counting, max_batch=8)
    texts = [f"invoice from vendor number {i}" for i in range(20)] + ["invoice from vendor number 19"]
    counting.gate.clear()  # the model is busy: everything submitted meanwhile waits for the next calls
    first = batcher.submit("warm up")
    assert counting.entered.wait(10)
    futures = [batcher.submit(t) for t in texts]
    counting.gate.set()
    vectors = [f.result(30) for f in futures]
    first.result(30)
    for text, vec in zip(texts, vectors, strict=True):
        np.testing.assert_allclose(vec, counting.real.encode_one(text), atol=1e-5)
    assert counting.calls[0] == 1  # the lone first query was not held back
    assert counting.calls[1:] == [8, 8, 4]  # the repeated text (same batch) went through the model once
    batcher.close()


def test_a_lone_query_is_not_held_back_and_threads_can_wait_on_it() -> None:
    batcher = EmbeddingBatcher(CountingEmbedder())
    with ThreadPoolExecutor(4) as pool:
        vectors = list(pool.map(batcher.encode_one, ["alpha", "beta", "gamma", "delta"]))
    assert all(v.shape == (batcher.embedder.real.dim,) for v in vectors)
    batcher.close()


def test_a_failing_batch_fails_each_of_its_callers_and_the_next_batch_works() -> None:
    counting = CountingEmbedder(fail_on="poison")
    batcher = EmbeddingBatcher(counting)
    counting.gate.clear()
    busy = batcher.submit("first")
    assert counting.entered.wait(10)
    doomed = [batcher.submit("poison"), batcher.submit("innocent bystander")]
    counting.gate.set()
    busy.result(30)
    for future in doomed:
        with pytest.raises(ValueError, match="poison"):
            future.result(30)
    assert batcher.encode_one("later").shape == (counting.real.dim,)
    batcher.close()
    with pytest.raises(RuntimeError):
        batcher.submit("after close")
