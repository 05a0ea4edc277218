"""A document that takes too long to read is stopped at its time budget; a client that leaves frees its slot."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from retrieval.models import SearchFilters
from tests.app.live_server import LiveServer
from tests.builders import blank_pdf, make_settings


def _wait_for(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.parametrize("processes", [True, False], ids=["reader-process", "in-process"])
@pytest.mark.parametrize("route", ["/extract", "/ocr"])
def test_a_document_over_its_time_budget_is_stopped_with_413(client_for, processes, route):
    # 300 blank pages used to hold the only extraction slot for about 150 s.
    client = client_for(extract_workers=1, document_timeout=0.2, extract_processes=processes)
    response = client.post(route, files={"file": ("blank.pdf", blank_pdf(300), "application/pdf")})
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "document_too_slow" and "INVOICE_OCR_DOCUMENT_TIMEOUT" in response.text
    assert client.get("/health").json()["queue"]["running"] == 0
    assert client.get("/invoices").json()["total"] == 0


def test_a_client_that_leaves_gives_back_its_queued_slot(tmp_path):
    server = LiveServer(make_settings(tmp_path / "data", extract_workers=1, queue_size=2), ui=False).start()
    pool = server.app.state.services.pool
    release = threading.Event()
    pool.submit(lambda job: release.wait(60))  # the only worker is busy: the next upload waits in line
    try:
        sock = _post_and_wait(server.port, blank_pdf(1), lambda: pool.state()["waiting"] == 1)
        sock.close()  # the client gives up while its upload waits in line
        assert _wait_for(lambda: pool.state()["waiting"] == 0), pool.state()
        assert pool.state()["running"] == 1  # only the job that was already running
        release.set()
        assert _wait_for(lambda: pool.state()["running"] == 0)
        # A client that leaves while its document is being read stops the reading too.
        sock = _post_and_wait(server.port, blank_pdf(300), lambda: pool.state()["running"] == 1)
        sock.close()
        assert _wait_for(lambda: pool.state()["running"] == 0), pool.state()
        assert server.service.list_invoices(SearchFilters()).total == 0
    finally:
        release.set()
        server.stop()


def _post_and_wait(port: int, pdf: bytes, condition) -> socket.socket:
    """POST /extract over a raw socket (no answer read), once `condition()` holds; the open socket."""
    boundary = "budgetboundary"
    form = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="b.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + pdf
        + f"\r\n--{boundary}--\r\n".encode()
    )
    sock = socket.create_connection(("127.0.0.1", port))
    head = (
        f"POST /extract HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(form)}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n"
    )
    sock.sendall(head.encode() + form)
    assert _wait_for(condition), "the upload never reached the pool"
    return sock
