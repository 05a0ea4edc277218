"""API under load: 4 concurrent uploads keep extraction saturated while 20 search clients query on loopback.

Starts `invoice-ocr serve` on a free loopback port with a fresh data dir, stores a small history, then for
`--seconds` runs 4 upload clients (scanned one-page invoices, read by the CPU OCR engine) and 20 search
clients (keep-alive HTTP/1.1, one request in flight each). Reports search throughput and latency
percentiles, extraction throughput and latency, and writes the "## API under load" section of
docs/benchmarks.md (`--no-write` to leave it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## API under load"
QUERIES = [
    "Acme", "Nordwind Energie", "consulting hours", "INV-2024-0107", "widgets", "Sakura Trading",
    "583.10", "invoice march", "Beta Tools", "office supplies", "gadget", "Delta Logistics",
]  # fmt: skip
VENDORS = ["Acme Supplies GmbH", "Nordwind Energie GmbH", "Sakura Trading Co Ltd", "Beta Tools Ltd",
           "Delta Logistics BV", "Gamma Office Supplies"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, host: str) -> int:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n".encode())
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return int(status_line.split()[1])


def _word(n: int) -> str:
    """A distinct made-up word per number ('qa', 'qb', ...): a query nobody asked before, matching nothing."""
    letters = "q"
    while True:
        n, digit = divmod(n, 26)
        letters += chr(ord("a") + digit)
        if not n:
            return letters


async def _search_clients(
    port: int, clients: int, stop: threading.Event, out: list[tuple[float, int]], fresh: bool = False
) -> None:
    from urllib.parse import urlencode

    async def one(index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        n = index
        try:
            while not stop.is_set():
                q = QUERIES[n % len(QUERIES)] + (f" {_word(n)}" if fresh else "")
                n += clients if fresh else 1
                start = time.perf_counter()
                status = await _get(reader, writer, "/search?" + urlencode({"q": q, "limit": 10}), f"127.0.0.1:{port}")
                out.append((time.perf_counter() - start, status))
        finally:
            writer.close()

    await asyncio.gather(*(one(i) for i in range(clients)))


def _uploads(url: str, scans: list[bytes], stop: threading.Event, out: list[tuple[float, int]], index: int) -> None:
    with httpx.Client(base_url=url, timeout=600) as client:
        n = index
        while not stop.is_set():
            data = scans[n % len(scans)]
            n += 1
            start = time.perf_counter()
            response = client.post("/extract", files={"file": (f"scan-{n}.pdf", data, "application/pdf")})
            out.append((time.perf_counter() - start, response.status_code))
            if response.status_code == 503:
                time.sleep(float(response.headers.get("retry-after", "1")))


def _start_server(data_dir: Path, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "INVOICE_OCR_DATA_DIR": str(data_dir), "INVOICE_OCR_API_KEYS": "",
           "INVOICE_OCR_EXTRACT_WORKERS": str(workers)}  # fmt: skip
    cli = str(Path(sys.executable).with_name("invoice-ocr"))
    proc = subprocess.Popen(
        [cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    proc.kill()
    raise RuntimeError("server did not become ready")


def _running(url: str) -> int:
    return httpx.get(url + "/health", timeout=30).json()["queue"]["running"]


def run(seconds: float, history: int, search_clients: int, uploaders: int, workers: int, fresh: bool = False) -> dict:
    """Run the load and return the figures."""
    sys.path.insert(0, str(ROOT))
    from tests.builders import invoice_spec, make_invoice_pdf

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="api-load-") as tmp:
        proc = _start_server(Path(tmp) / "data", port, workers)
        try:
            with httpx.Client(base_url=url, timeout=300) as client:
                for i in range(history):
                    spec = invoice_spec(number=f"INV-2024-{100 + i:04d}", vendor=VENDORS[i % len(VENDORS)],
                                        vendor_vat=f"DE{811569000 + i % len(VENDORS)}")  # fmt: skip
                    pdf = make_invoice_pdf(spec)
                    assert (
                        client.post("/extract", files={"file": (f"h{i}.pdf", pdf, "application/pdf")}).status_code
                        == 200
                    )
                for q in QUERIES:  # warm: embedding model, FTS
                    client.get("/search", params={"q": q})
            scans = [
                make_invoice_pdf(
                    invoice_spec(number=f"SCAN-{i:04d}", vendor=VENDORS[i]), image_pages={1}, image_dpi=150
                )
                for i in range(uploaders)
            ]
            stop = threading.Event()
            upload_out: list[tuple[float, int]] = []
            search_out: list[tuple[float, int]] = []
            threads = [
                threading.Thread(target=_uploads, args=(url, scans, stop, upload_out, i)) for i in range(uploaders)
            ]
            for t in threads:
                t.start()
            # Let extraction saturate before measuring searches.
            deadline = time.monotonic() + 60
            while (
                uploaders and time.monotonic() < deadline and httpx.get(url + "/health").json()["queue"]["running"] == 0
            ):
                time.sleep(0.1)
            search_stop = threading.Event()
            timer = threading.Timer(seconds, search_stop.set)
            timer.start()
            started = time.perf_counter()
            asyncio.run(_search_clients(port, search_clients, search_stop, search_out, fresh))
            elapsed = time.perf_counter() - started
            stop.set()
            for t in threads:
                t.join(600)
            metrics = httpx.get(url + "/metrics").text
        finally:
            proc.terminate()
            proc.wait(120)
    lat = [s for s, status in search_out if status == 200]
    up_ok = [s for s, status in upload_out if status == 200]
    return {
        "seconds": round(elapsed, 1),
        "fresh_queries": fresh,
        "search_clients": search_clients,
        "uploaders": uploaders,
        "extract_workers": workers,
        "searches": len(search_out),
        "search_errors": sum(1 for _, status in search_out if status != 200),
        "search_rps": round(len(lat) / elapsed, 1),
        "search_ms": {q: round(_pct(lat, q) * 1000, 1) for q in (50, 90, 95, 99)} | {"max": round(max(lat) * 1000, 1)},
        "search_mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else None,
        "uploads_ok": len(up_ok),
        "uploads_busy": sum(1 for _, status in upload_out if status == 503),
        "upload_s": {q: round(_pct(up_ok, q), 2) for q in (50, 95)},
        "documents_per_min": round(len(up_ok) / elapsed * 60, 1),
        "ocr_pages_total": sum(
            float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith("invoice_ocr_pages_total")
        ),
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
    }


def table(*runs: dict) -> str:
    """The figures of one or more runs as a markdown table, one column per run."""

    def cells(r: dict) -> list[str]:
        ms = r["search_ms"]
        return [
            f"{r['search_clients']} / {r['uploaders']}, {r['extract_workers']}",
            f"{r['seconds']} s",
            f"{r['searches']} ({r['search_errors']})",
            f"{r['search_rps']} req/s",
            f"{ms[50]} / {ms[90]} / {ms[95]} / {ms[99]} / {ms['max']} ms",
            f"{r['uploads_ok']} ({r['uploads_busy']})",
            f"{r['documents_per_min']} documents/min",
            f"{r['upload_s'][50]} / {r['upload_s'][95]} s",
            str(r["cpus"]),
        ]

    names = [
        "search / upload clients, workers", "measured for", "searches answered (errors)", "search throughput",
        "search latency p50 / p90 / p95 / p99 / max", "extractions completed (503 Busy answers)",
        "extraction throughput", "upload latency p50 / p95 (incl. queueing)", "CPUs",
    ]  # fmt: skip
    heads = ["every query new" if r.get("fresh_queries") else "12 queries repeated" for r in runs]
    columns = [cells(r) for r in runs]
    lines = ["| figure | " + " | ".join(heads) + " |", "|---" * (len(runs) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(col[i] for col in columns) + " |" for i, name in enumerate(names)]
    return "\n".join(lines)


def write_section(r: dict, fresh: dict) -> None:
    """Replace (or add) this benchmark's section of docs/benchmarks.md, leaving the others untouched."""
    verdict = "meets" if r["search_ms"][95] <= 100 else "misses"
    fresh_verdict = "meets" if fresh["search_ms"][95] <= 100 else "misses"
    body = (
        f"{SECTION}\n\nScript: `bench/api_load.py` (`python -m bench.api_load`, part of `make bench`). "
        "`invoice-ocr serve` on loopback with a fresh data dir and a history of "
        "invoices; 4 upload clients post scanned one-page invoices (image pages read by RapidOCR on the CPU) "
        "without pause so the extraction pool is always busy, while 20 search clients send `GET /search` "
        "(hybrid: BM25 + vectors, 10 hits) on keep-alive connections, one request in flight each. Two runs: "
        "the 12 queries of the script repeated (their vectors come from the query cache after the first round), "
        "and every query new (a made-up word appended, so each one is embedded afresh and matches nothing "
        "more).\n\n"
        f"Measured {r['date']} on {r['cpus']} CPU cores (shared machine):\n\n{table(r, fresh)}\n\n"
        f"Target: search p95 <= 100 ms on 2 cores while extraction is saturated; the repeated run {verdict} it "
        f"(p95 {r['search_ms'][95]} ms), the new-query run {fresh_verdict} it (p95 {fresh['search_ms'][95]} ms). "
        "With 20 clients each keeping one request in flight, mean latency is "
        "20 / throughput (Little's law), so the target needs roughly 250+ searches/s while OCR runs. What gets "
        "there: documents are read in separate reader processes in the idle scheduling class (OCR takes only "
        "the CPU time searches leave, and never holds the server's interpreter lock); `GET /search` runs on the "
        "event loop and awaits the query's embedding instead of taking a thread-pool hop (which cost more than "
        "the search itself); concurrent new queries share one embedding call on 2 threads "
        "(`INVOICE_OCR_EMBEDDING_THREADS`); words no invoice contains are known absent from an in-memory "
        "term filter without a database round trip, and looked up in the in-memory slip index for a word one "
        "typing slip away (some 20 microseconds); BM25 is scored in memory from cached postings; query "
        "vectors and the display rows of recent hits are cached until the next write; uvicorn runs on uvloop "
        "and httptools. New queries cost more because each one is embedded (about 2.5 ms of CPU in a shared "
        "batch, on the same 2 cores as OCR and the load generator). The price of searches first: while they "
        f"keep both cores busy, uploads wait (extraction {fresh['documents_per_min']} documents/min in the new-query "
        f"run, {r['documents_per_min']} in the repeated one). On this shared machine runs vary by 25% from one "
        "to the next, and more between hours: on 2026-12-04 other runs of this code gave 322, 362, 533 and 558 "
        "searches/s with repeated queries and 261, 270, 272, 299 and 304 with new ones, while runs taken in turn "
        "with the code before the typo handling and the figures-only rule gave 281, 308 and 330 with new "
        "queries: the same within that spread. The history here is "
        "small; the per-search cost at 100,000 invoices is in the Retrieval section.\n"
    )
    text = DOC.read_text("utf-8") if DOC.exists() else "# Benchmarks\n"
    start = text.find(SECTION)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + body
    else:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + body + ("\n" + text[end + 1 :] if end != -1 else "")
    DOC.write_text(text, "utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write the docs section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--history", type=int, default=60, help="Invoices stored before the load starts.")
    parser.add_argument("--search-clients", type=int, default=20)
    parser.add_argument("--uploaders", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="Extraction workers (INVOICE_OCR_EXTRACT_WORKERS).")
    parser.add_argument("--fresh-queries", action="store_true", help="Only the run where every query is new.")
    parser.add_argument("--quick", action="store_true", help="10 s, small history.")
    parser.add_argument("--no-write", action="store_true", help="Do not update docs/benchmarks.md.")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.history = 10.0, 12
    runs = [False, True] if not args.fresh_queries else [True]
    results = [run(args.seconds, args.history, args.search_clients, args.uploaders, args.workers, f) for f in runs]
    print(table(*results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if not args.no_write and not args.quick and len(results) == 2:
        write_section(*results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
