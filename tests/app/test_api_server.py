"""`invoice-ocr serve` as a real process: ready on /health, serves, shuts down gracefully, store intact."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.app.live_server import free_port
from tests.builders import clean_environ, make_invoice_pdf, spec

CLI = str(Path(sys.executable).with_name("invoice-ocr"))


def _start(data_dir: Path, port: int) -> subprocess.Popen:
    env = clean_environ(data_dir=str(data_dir), api_keys="")
    return subprocess.Popen(
        [CLI, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=data_dir.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_ready(proc: subprocess.Popen, url: str, limit: float = 90) -> dict:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            response = httpx.get(url + "/health", timeout=2)
            if response.status_code == 200:
                return response.json()
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server never answered /health")


def _stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_serve_graceful_shutdown_finishes_in_flight_work_and_keeps_the_store(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _start(tmp_path / "data", port)
    try:
        health = _wait_ready(proc, url)
        assert health["status"] == "ok" and health["engines"]["textlayer"]["available"] is True
        first = httpx.post(
            url + "/extract",
            files={"file": ("a.pdf", make_invoice_pdf(spec("SRV-1001")), "application/pdf")},
            timeout=120,
        )
        assert first.status_code == 200, first.text
        # An extraction that needs OCR is in flight when the server is told to stop.
        scan = make_invoice_pdf(spec("SRV-1002", "Zeta Print Studio"), pages=1, image_pages={1}, image_dpi=100)
        answer: dict[str, httpx.Response] = {}
        thread = threading.Thread(
            target=lambda: answer.update(
                r=httpx.post(
                    url + "/extract",
                    params={"dpi": 100},
                    files={"file": ("s.pdf", scan, "application/pdf")},
                    timeout=300,
                )
            )
        )
        thread.start()
        deadline = time.monotonic() + 30
        while httpx.get(url + "/health").json()["queue"]["running"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _stop(proc) == 0
        thread.join(60)
        assert answer["r"].status_code == 200, answer["r"].text
    finally:
        _stop(proc)
    proc = _start(tmp_path / "data", port)
    try:
        health = _wait_ready(proc, url)
        assert health["store"]["invoices"] == 2, health
        assert health["index"]["consistent"] is True, health
        numbers = {i["invoice_number"] for i in httpx.get(url + "/invoices").json()["items"]}
        assert numbers == {"SRV-1001", "SRV-1002"}
    finally:
        assert _stop(proc) == 0
