from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from faiss_service.embeddings import DEFAULT_MODEL, Embedder, default_model_path, get_embedder
from faiss_service.onnx_encoder import check_supported
from utils.errors import InvalidRequest, OnnxUnsupported


def test_real_model_gives_unit_vectors_and_meaning() -> None:
    model = get_embedder(None)
    assert model.name == DEFAULT_MODEL
    vecs = model.encode(["cloud computing services invoice", "Amazon Web Services EC2 usage", "fresh bread and pastry"])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]
    assert get_embedder(None) is model
    assert model.encode([]).shape == (0, 384)


def test_onnx_backend_gives_the_torch_vectors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVOICE_OCR_CACHE_DIR", str(tmp_path / "cache"))
    texts = ["Rechnung Müller GmbH, Straße 5", "total 60.44", "", "consulting hours " * 200]
    onnx = Embedder(backend="onnx")
    torch_model = Embedder(backend="torch")
    assert onnx.kind == "onnx" and torch_model.kind == "torch"
    a, b = onnx.encode(texts), torch_model.encode(texts)
    assert a.shape == b.shape == (4, 384) and a.dtype == np.float32
    assert np.allclose(a, b, atol=2e-5)  # same model, same pooling, same truncation
    graphs = list((tmp_path / "cache" / "onnx").glob("*.onnx"))
    assert len(graphs) == 1 and not list((tmp_path / "cache" / "onnx").glob(".*tmp"))
    # A second process start reuses the export instead of writing another.
    again = Embedder(backend="onnx")
    assert np.allclose(again.encode(texts[:1]), a[:1], atol=1e-6)
    assert list((tmp_path / "cache" / "onnx").glob("*.onnx")) == graphs


def test_more_threads_give_the_same_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    texts = ["Acme consulting hours", "total 60.44", "Rechnung " * 60]
    one, two, many = get_embedder(None), get_embedder(None, threads=2), Embedder(threads=16)
    assert two is not one and get_embedder(None, threads=2) is two
    assert (one.threads, two.threads, many.threads) == (1, 2, 2)  # never more threads than cores
    assert two.kind == "onnx"
    assert two._load().session.get_session_options().intra_op_num_threads == 2
    assert np.allclose(one.encode(texts), two.encode(texts), atol=1e-5)


def _cls_pooled_copy(tmp_path: Path) -> Path:
    """The shipped model with its pooling switched to the CLS token: a model the ONNX path does not run."""
    copy = tmp_path / "cls-model"
    shutil.copytree(default_model_path(), copy)
    pooling = copy / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config["pooling_mode_mean_tokens"], config["pooling_mode_cls_token"] = False, True
    pooling.write_text(json.dumps(config))
    return copy


def test_models_onnx_cannot_run_use_torch_or_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVOICE_OCR_CACHE_DIR", str(tmp_path / "cache"))
    folder = _cls_pooled_copy(tmp_path)
    with pytest.raises(OnnxUnsupported, match="mean pooling"):
        check_supported(folder)
    auto = Embedder(folder)
    assert auto.kind == "torch" and auto.encode(["an invoice"]).shape == (1, 384)
    with pytest.raises(InvalidRequest, match="ONNX"):
        Embedder(folder, backend="onnx").encode(["an invoice"])
    with pytest.raises(InvalidRequest, match="unknown embedding backend"):
        Embedder(backend="tensorflow")
