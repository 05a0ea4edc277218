"""Fixtures for the API tests: real InvoiceService (DuckDB + FAISS) in temporary dirs, TestClient, live server."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.api.main import create_app
from utils.settings import Settings


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for one test app: its own data dir, nothing from the environment that matters."""
    values: dict[str, object] = {"data_dir": data_dir, "api_keys": [], "engine": "auto"}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A real uvicorn server on loopback, in a thread."""

    def __init__(self, settings: Settings, ui: bool = True) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings, ui=ui)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        assert httpx.get(self.url + "/health", timeout=10).status_code == 200
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(60)
        assert not self.thread.is_alive()


@pytest.fixture(scope="module")
def live(module_dir: Path) -> Iterator[LiveServer]:
    server = LiveServer(make_settings(module_dir / "live"), ui=False).start()
    try:
        yield server
    finally:
        server.stop()
