from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from faiss_service.embeddings import Embedder, get_embedder
from retrieval.service import InvoiceService
from tests.builders import make_settings
from utils.settings import Settings


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real offline model, loaded once for the session."""
    model = get_embedder(None)
    model.encode_one("warm up")
    return model


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(data_dir=tmp_path / "data")


@pytest.fixture
def service(settings: Settings, embedder: Embedder) -> Iterator[InvoiceService]:
    svc = InvoiceService(settings)
    yield svc
    svc.close()
