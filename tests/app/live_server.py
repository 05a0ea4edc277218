"""A real uvicorn server on loopback, in a thread, for the API and page tests."""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn

from app.api.http_protocol import http_protocol
from app.api.main import create_app

if TYPE_CHECKING:
    from utils.settings import Settings


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """create_app(settings) served by uvicorn on a free loopback port."""

    def __init__(self, settings: Settings, ui: bool = True) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings, ui=ui)
        # Page sessions keep streams open; a short graceful-shutdown limit keeps stop() prompt.
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=3,
            http=http_protocol(),  # as `invoice-ocr serve` runs it
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def service(self) -> Any:
        """The app's InvoiceService (open once started)."""
        return self.app.state.services.service

    def start(self) -> LiveServer:
        """Start and wait until /health answers."""
        self.thread.start()
        deadline = time.monotonic() + 90
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        assert httpx.get(self.url + "/health", timeout=10).status_code == 200
        return self

    def stop(self) -> None:
        """Stop and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(30)
        assert not self.thread.is_alive()
