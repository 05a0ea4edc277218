from __future__ import annotations

import numpy as np

from faiss_service.embeddings import DEFAULT_MODEL, get_embedder


def test_real_model_gives_unit_vectors_and_meaning() -> None:
    model = get_embedder(None)
    assert model.name == DEFAULT_MODEL
    vecs = model.encode(["cloud computing services invoice", "Amazon Web Services EC2 usage", "fresh bread and pastry"])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]
    assert get_embedder(None) is model
    assert model.encode([]).shape == (0, 384)
