"""Load behaviour: full queue -> 503 with Retry-After, timeouts store nothing, metrics move, reads stay fast."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.builders import make_invoice_pdf, spec


def _upload(client, data=None):
    data = data or make_invoice_pdf()
    return client.post("/extract", files={"file": ("a.pdf", data, "application/pdf")})


def _occupy(client, jobs: int) -> threading.Event:
    """Take `jobs` slots of the app's pool with jobs that wait for the returned event."""
    release = threading.Event()
    pool = client.app.state.services.pool
    for _ in range(jobs):
        pool.submit(lambda job: release.wait(30))
    return release


def test_full_queue_answers_503_with_retry_after(client_for):
    client = client_for(extract_workers=1, queue_size=1)
    release = _occupy(client, 2)
    try:
        refused = _upload(client)
        assert refused.status_code == 503
        assert refused.json()["error"] == "busy"
        assert int(refused.headers["retry-after"]) >= 1
        health = client.get("/health").json()
        assert health["queue"] == {"workers": 1, "running": 1, "waiting": 1, "capacity": 2}
        assert client.get("/invoices").status_code == 200  # reads are not queued behind extraction
    finally:
        release.set()
    deadline = time.monotonic() + 10
    while client.get("/health").json()["queue"]["running"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _upload(client).status_code == 200


def test_timed_out_extraction_answers_504_and_stores_nothing(client_for):
    client = client_for(extract_workers=1, queue_size=4, request_timeout=0.5)
    release = _occupy(client, 1)
    try:
        response = _upload(client)
        assert response.status_code == 504 and response.json()["error"] == "timeout"
    finally:
        release.set()
    time.sleep(0.5)
    assert client.get("/invoices").json()["total"] == 0


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_counters_move(client_for):
    client = client_for()
    before = client.get("/metrics").text
    assert _upload(client, make_invoice_pdf(spec("MET-1001"), pages=2)).status_code == 200
    assert client.post("/extract", files={"file": ("a.txt", b"hello", "text/plain")}).status_code == 415
    client.get("/search", params={"q": "Acme"})
    after = client.get("/metrics").text
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")
    moved = {
        "documents": ("invoice_ocr_documents_total", {"engine": "textlayer"}, 1),
        "pages": ("invoice_ocr_pages_total", {"engine": "textlayer"}, 2),
        "ocr latency": ("invoice_ocr_ocr_seconds_count", {"engine": "textlayer"}, 1),
        "extract latency": ("invoice_ocr_request_seconds_count", {"route": "/extract"}, 2),
        "search latency": ("invoice_ocr_request_seconds_count", {"route": "/search"}, 1),
        "errors": ("invoice_ocr_errors_total", {"kind": "unsupported_document"}, 1),
    }
    for label, (name, labels, delta) in moved.items():
        assert _metric(after, name, **labels) - _metric(before, name, **labels) == delta, label
    assert re.search(r"^invoice_ocr_queue_capacity 17\.0$", after, re.M)
    assert "invoice_ocr_queue_waiting" in after
    # Raw paths never become labels: per-template only.
    client.get("/invoices/424242")
    assert 'route="/invoices/{invoice_id}"' in client.get("/metrics").text
    assert "424242" not in client.get("/metrics").text


def test_reads_stay_fast_while_extraction_runs(live):
    # Slow, CPU-heavy extractions (image pages read by RapidOCR) run while searches are served.
    scan = make_invoice_pdf(spec("LOAD-1001"), pages=1, image_pages={1}, image_dpi=100)
    httpx.post(live.url + "/extract", files={"file": ("seed.pdf", make_invoice_pdf(), "application/pdf")}, timeout=60)
    done = threading.Event()

    def extract() -> int:
        response = httpx.post(
            live.url + "/extract",
            params={"store": "false", "dpi": 100},
            files={"file": ("s.pdf", scan, "application/pdf")},
            timeout=300,
        )
        return response.status_code

    latencies: list[float] = []

    def search_loop() -> None:
        with httpx.Client(base_url=live.url, timeout=30) as c:
            while not done.is_set() and len(latencies) < 200:
                start = time.perf_counter()
                assert c.get("/search", params={"q": "Acme", "mode": "keyword"}).status_code == 200
                assert c.get("/invoices", params={"limit": 5}).status_code == 200
                latencies.append(time.perf_counter() - start)

    with ThreadPoolExecutor(4) as pool:
        extraction = pool.submit(extract)
        searchers = [pool.submit(search_loop) for _ in range(2)]
        assert extraction.result(300) == 200
        done.set()
        for s in searchers:
            s.result(30)
    latencies.sort()
    assert len(latencies) >= 5
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    assert p95 < 1.0, f"p95 {p95:.3f}s over {len(latencies)} search+list pairs"
