"""Fixtures for the API tests: real InvoiceService (DuckDB + FAISS) in temporary dirs, TestClient, live server."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from tests.app.browser import ensure_chromium
from tests.app.live_server import LiveServer
from tests.builders import make_settings


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api")


@pytest.fixture(scope="module")
def api(module_dir: Path) -> Iterator[TestClient]:
    """One app per test module (the embedding model loads once)."""
    with TestClient(create_app(make_settings(module_dir / "data"))) as client:
        yield client


@pytest.fixture
def client_for(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """Build a TestClient for custom settings; every one is closed at the end."""
    stack = contextlib.ExitStack()

    def build(**overrides: object) -> TestClient:
        settings = make_settings(overrides.pop("data_dir", tmp_path / "data"), **overrides)  # type: ignore[arg-type]
        return stack.enter_context(TestClient(create_app(settings, ui=False)))

    with stack:
        yield build


@pytest.fixture(scope="module")
def live(module_dir: Path) -> Iterator[LiveServer]:
    server = LiveServer(make_settings(module_dir / "live"), ui=False).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium for the page tests (installed by the system-deps script when missing)."""
    return ensure_chromium()
