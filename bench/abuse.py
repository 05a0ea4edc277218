"""Hostile requests against a live server on loopback, while /health latency and server memory are watched.

Starts `invoice-ocr serve` on a free loopback port with a fresh data dir and one stored API key (so the page
asks for a login and revoking that key is the "last key" case), stores a few invoices, then sends each
hostile request class, one after another. During each one a side thread calls `GET /health` without pause
(its worst latency is how long the event loop was blocked) and samples the resident memory of the server
process and of its reader processes. Prints a markdown table and a pass/fail line against the targets:
no request blocks the server over 2 s, no memory growth over 300 MB, no unplanned 5xx (a 503 with a
documented code, `busy` or `key_file_damaged`, is the planned answer and is counted apart). Its figures
are kept in the "## Hostile requests" section of docs/benchmarks.md.

Everything stays on 127.0.0.1 and is bounded: each case has a time limit and the whole run takes about a
minute or two on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
MAX_BLOCK_S = 2.0
MAX_GROWTH_MB = 300.0
PLANNED_5XX = {"busy", "key_file_damaged"}
CASE_LIMIT_S = 60.0


# ---------------------------------------------------------------------------------------------------
# Server and measurements


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mb(pid: int) -> tuple[float, float]:
    """Resident memory in MB of the process and of the process with all its descendants."""
    try:
        import psutil

        proc = psutil.Process(pid)
        own = proc.memory_info().rss
        total = own
        for child in proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
        return own / 2**20, total / 2**20
    except ImportError:  # /proc: the process and its direct children
        own = _proc_rss(pid)
        total = own
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            total += _proc_rss(int(child))
        return own / 2**20, total / 2**20
    except Exception:  # the server is gone
        return 0.0, 0.0


def _proc_rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Watch:
    """Side thread: GET /health in a loop (latency of each) and the server's memory, until stopped."""

    def __init__(self, url: str, pid: int) -> None:
        self.url, self.pid = url, pid
        self.latencies: list[float] = []
        self.statuses: list[int] = []
        self.rss: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._pending: float | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._mem = threading.Thread(target=self._sample, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=60) as client:
            while not self._stop.is_set():
                self._pending = time.perf_counter()
                try:
                    status = client.get(self.url + "/health").status_code
                except httpx.HTTPError:
                    status = 0
                self.latencies.append(time.perf_counter() - self._pending)
                self._pending = None
                self.statuses.append(status)
                self._stop.wait(0.05)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.rss.append(_rss_mb(self.pid))
            self._stop.wait(0.1)

    def __enter__(self) -> Watch:
        self.rss.append(_rss_mb(self.pid))
        self._thread.start()
        self._mem.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._mem.join(5)
        self._thread.join(5)
        if self._pending is not None:  # a /health call still waiting counts for as long as it has waited
            self.latencies.append(time.perf_counter() - self._pending)

    def max_latency(self) -> float:
        return max(self.latencies, default=float("nan"))


@dataclass
class Server:
    """`invoice-ocr serve` on loopback: its URL, process, data dir and key."""

    url: str
    port: int
    proc: subprocess.Popen
    data_dir: Path
    key: str
    log: Path

    @property
    def auth(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


def start_server(tmp: Path, document_timeout: float = 15.0) -> Server:
    """A fresh data dir with one stored key, and the server started on it (UI mounted)."""
    from app.api.auth import KeyStore
    from utils.settings import Settings

    data_dir = tmp / "data"
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    key, _ = KeyStore.for_settings(settings).create("bench")
    port = _free_port()
    env = {**os.environ, "INVOICE_OCR_DATA_DIR": str(data_dir), "INVOICE_OCR_API_KEYS": "",
           "INVOICE_OCR_EXTRACT_WORKERS": "1", "INVOICE_OCR_QUEUE_SIZE": "16",
           "INVOICE_OCR_DOCUMENT_TIMEOUT": str(document_timeout)}  # fmt: skip
    log = tmp / "server.log"
    cli = str(Path(sys.executable).with_name("invoice-ocr"))
    with log.open("w") as out:
        proc = subprocess.Popen(
            [cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return Server(url, port, proc, data_dir, key, log)
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    proc.kill()
    raise RuntimeError("server did not become ready")


# ---------------------------------------------------------------------------------------------------
# Cases


@dataclass
class Outcome:
    """What one case saw: (status, error code) of each answer, and checks of its own."""

    answers: list[tuple[int, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, response: httpx.Response | tuple[int, str]) -> int:
        if isinstance(response, tuple):
            self.answers.append(response)
            return response[0]
        code = ""
        try:
            body = response.json()
            code = body.get("error", "") if isinstance(body, dict) else ""
        except ValueError:
            pass
        self.answers.append((response.status_code, code))
        return response.status_code

    def expect(self, ok: bool, what: str) -> None:
        if not ok:
            self.failures.append(what)


@dataclass
class Context:
    server: Server
    client: httpx.Client
    invoice_id: int


def _pdf(number: str, vendor: str = "Quellwasser Betriebe GmbH", **kwargs: Any) -> bytes:
    from tests.builders import invoice_spec, make_invoice_pdf

    return make_invoice_pdf(invoice_spec(number=number, vendor=vendor), **kwargs)


def _upload(ctx: Context, data: bytes, name: str, mime: str, route: str = "/extract", **params: str) -> httpx.Response:
    return ctx.client.post(route, params=params, files={"file": (name, data, mime)}, headers=ctx.server.auth)


def _raw(
    port: int, head: bytes, body_chunks: Any = (), timeout: float = 15.0, sent: list[int] | None = None
) -> tuple[int, str]:
    """Send a raw request; the status and error code of the answer ((0, 'no answer') when none came).

    The body is sent only while the server takes it and has not answered; `sent` gets the bytes it took.
    """
    taken = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(head)
            for chunk in body_chunks:
                readable, writable, _ = select.select([sock], [sock], [], 2.0)
                if readable or not writable:  # answered already, or not reading the body
                    break
                taken += sock.send(chunk)
        except OSError:  # the server answered and closed while the body was still being sent
            pass
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
                if _complete(answer):
                    break
        except OSError:
            pass
    if sent is not None:
        sent.append(taken)
    head_part, _, body = answer.partition(b"\r\n\r\n")
    if not head_part.startswith(b"HTTP/"):
        return 0, "no answer"
    status = int(head_part.split()[1])
    try:
        code = json.loads(body).get("error", "")
    except (ValueError, AttributeError):
        code = "not json"
    return status, code


def _complete(answer: bytes) -> bool:
    """Whether `answer` holds a whole response (its head and as many body bytes as Content-Length says)."""
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return True


def case_long_url(ctx: Context, out: Outcome) -> None:
    status = out.add(_raw(ctx.server.port, f"GET /search?q={'a' * 300_000} HTTP/1.1\r\nHost: x\r\n\r\n".encode()))
    out.expect(status == 400 and out.answers[-1][1] == "invalid_request", "a 300 kB URL answers JSON 400")


def case_search_offset(ctx: Context, out: Outcome) -> None:
    for params in ({"q": "invoice", "offset": 10**8}, {"q": "invoice", "offset": 10**8, "vendor": "Quellwasser"}):
        out.expect(out.add(ctx.client.get("/search", params=params, headers=ctx.server.auth)) == 400, "offset 10^8")


def case_page_range(ctx: Context, out: Outcome) -> None:
    pdf = _pdf("ABUSE-RANGE", pages=3)
    ocr = _upload(ctx, pdf, "r.pdf", "application/pdf", "/ocr", pages="2-99999999999")
    out.expect(out.add(ocr) == 200 and ocr.json()["pages"] == 2, "a range past the end reads the pages there are")
    for pages in ("1-80000", "1,301-99999999999"):
        out.expect(out.add(_upload(ctx, pdf, "r.pdf", "application/pdf", pages=pages)) in (200, 400), pages)


def case_deep_json(ctx: Context, out: Outcome) -> None:
    depth = 100_000
    body = ('{"changes": {"payment_terms": ' + "[" * depth + "]" * depth + "}}").encode()
    headers = {**ctx.server.auth, "content-type": "application/json"}
    status = out.add(ctx.client.patch(f"/invoices/{ctx.invoice_id}", content=body, headers=headers))
    out.expect(400 <= status < 500, "JSON nested 100 000 deep is a 4xx")
    search = ctx.client.get("/search", params={"q": "[" * 5000}, headers=ctx.server.auth)
    out.expect(out.add(search) < 500, "a query of 5000 brackets")


def _declared_body(ctx: Context, method: str, path: str, auth: bool, sent: list[int]) -> tuple[int, str]:
    key = f"X-API-Key: {ctx.server.key}\r\n" if auth else ""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{key}"
        f"Content-Length: {300 << 20}\r\n\r\n"
    ).encode()
    chunk = b" " * (1 << 20)
    return _raw(ctx.server.port, head, (chunk for _ in range(300)), timeout=10, sent=sent)


def case_huge_bodies(ctx: Context, out: Outcome) -> None:
    path, sent = f"/invoices/{ctx.invoice_id}", []
    status = out.add(_declared_body(ctx, "PATCH", path, False, sent))
    out.expect(status == 401, "unauthenticated 300 MiB PATCH: 401")
    out.expect(out.add(_declared_body(ctx, "PATCH", path, True, sent)) == 413, "300 MiB PATCH with a key: 413")
    form = f"POST /extract HTTP/1.1\r\nHost: x\r\nX-API-Key: {ctx.server.key}\r\nContent-Length: {1 << 30}\r\n"
    head = (form + "Content-Type: multipart/form-data; boundary=b\r\n\r\n").encode()
    out.expect(out.add(_raw(ctx.server.port, head, timeout=10)) == 413, "1 GiB upload declared: 413")
    sizes = " and ".join(f"{n / 2**20:.1f} MiB" for n in sent)
    out.notes.append(f"{sizes} of the 300 MiB bodies left the client before the answer (socket buffers)")


def case_slow_bodies(ctx: Context, out: Outcome, connections: int = 30, seconds: float = 6.0) -> None:
    """Slow clients: headers and bodies a byte at a time, and clients that never read their answer."""
    socks = []
    for i in range(connections):
        sock = socket.create_connection(("127.0.0.1", ctx.server.port), timeout=5)
        if i % 3 == 0:  # a body that trickles in
            sock.sendall(
                f"PATCH /invoices/{ctx.invoice_id} HTTP/1.1\r\nHost: x\r\nX-API-Key: {ctx.server.key}\r\n"
                "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n".encode()
            )
        elif i % 3 == 1:  # headers that trickle in
            sock.sendall(b"GET /invoices HTTP/1.1\r\nHost: x\r\n")
        else:  # asks for the schema and never reads it
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            for _ in range(20):
                sock.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(sock)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for i, sock in enumerate(socks):
            with contextlib.suppress(OSError):
                sock.sendall(b"{" if i % 3 == 0 else b"X-Slow: 1\r\n" if i % 3 == 1 else b"")
        time.sleep(0.5)
    for sock in socks:
        sock.close()
    response = ctx.client.get(f"/invoices/{ctx.invoice_id}", headers=ctx.server.auth)
    out.expect(out.add(response) == 200, "the server answers others afterwards")
    out.notes.append(f"{connections} slow connections for {seconds:.0f} s")


def _xml(number: str, **fields: Any) -> bytes:
    from tests.builders import invoice_spec, make_cii_xml

    return make_cii_xml(invoice_spec(number=number, **fields))


def case_amounts(ctx: Context, out: Outcome) -> None:
    huge = _xml("ABUSE-HUGE", lines=[("Everything", Decimal("1"), Decimal("1.0E+20"))])
    out.expect(out.add(_upload(ctx, huge, "big.xml", "application/xml")) == 422, "e-invoice total 1e20: 422")
    path, auth = f"/invoices/{ctx.invoice_id}", ctx.server.auth
    out.expect(out.add(ctx.client.patch(path, json={"changes": {"total": 6.4e15}}, headers=auth)) == 422, "6.4e15")
    endless = ctx.client.patch(path, json={"changes": {"total": "1e999999"}}, headers=auth)
    out.expect(out.add(endless) == 422, "1e999999")
    exp = ctx.client.patch(path, json={"changes": {"total": "1.5E+3"}}, headers=auth)
    out.add(exp)
    listed = ctx.client.get("/invoices", params={"min_total": 1000, "max_total": 2000}, headers=auth)
    ids = [i["id"] for i in listed.json()["items"]] if out.add(listed) == 200 else []
    out.expect(exp.status_code == 200 and ctx.invoice_id in ids, '"1.5E+3" is 1500 in JSON and in the column')


def case_long_vendor(ctx: Context, out: Outcome) -> None:
    name = "Quellwasser " * 17_000  # about 200 kB
    status = out.add(_upload(ctx, _xml("ABUSE-LONG", vendor=name), "long.xml", "application/xml"))
    out.expect(status in (200, 422), "an e-invoice with a 200 kB seller name")
    patch = {"changes": {"vendor.name": "A b " * 75_000}}  # 300 kB
    status = out.add(ctx.client.patch(f"/invoices/{ctx.invoice_id}", json=patch, headers=ctx.server.auth))
    out.expect(status in (400, 422), "a 300 kB vendor name in a correction: 4xx")


FIELDS = ("payment_terms", "purchase_order", "customer.name", "customer.address", "customer.email",
          "customer.phone", "customer.tax_id", "vendor.email", "vendor.phone", "vendor.address")  # fmt: skip


def case_concurrent_corrections(ctx: Context, out: Outcome) -> None:
    path, auth = f"/invoices/{ctx.invoice_id}", ctx.server.auth
    values = {name: f"abuse-{i}-{time.monotonic_ns()}" for i, name in enumerate(FIELDS)}

    def correct(item: tuple[str, str]) -> httpx.Response:
        return httpx.patch(ctx.server.url + path, json={"changes": dict([item])}, headers=auth, timeout=60)

    with ThreadPoolExecutor(len(FIELDS)) as pool:
        answers = list(pool.map(correct, values.items()))
    for response in answers:
        out.add(response)
    record = ctx.client.get(path, headers=auth).json()
    invoice = record["result"]["invoice"]

    def value(name: str) -> Any:
        party, _, key = name.partition(".")
        return invoice[party][key] if key else invoice[party]

    lost = [name for name, wanted in values.items() if value(name) != wanted]
    audit = [c for c in record["corrections"] if c["field"] in values]
    out.notes.append(f"{len(FIELDS) - len(lost)} of {len(FIELDS)} kept, {len(audit)} audit rows")
    out.expect(not lost or all(r.status_code == 409 for r in answers if r.status_code != 200), f"lost: {lost}")


def case_patch_races_delete(ctx: Context, out: Outcome, rounds: int = 3) -> None:
    auth = ctx.server.auth
    for i in range(rounds):
        created = _upload(ctx, _xml(f"ABUSE-RACE-{i}"), "race.xml", "application/xml")
        if out.add(created) != 200:
            continue
        path = f"{ctx.server.url}/invoices/{created.json()['invoice_id']}"
        with ThreadPoolExecutor(2) as pool:
            patch = pool.submit(httpx.patch, path, json={"changes": {"payment_terms": "raced"}}, headers=auth)
            delete = pool.submit(httpx.delete, path, headers=auth)
            out.add(patch.result())
            out.add(delete.result())
    health = ctx.client.get("/health").json()
    out.notes.append(f"health after: {health['status']}")
    out.expect(health["status"] == "ok", f"index and invoices agree after PATCH/DELETE races: {health}")


def case_concurrent_uploads(ctx: Context, out: Outcome, uploads: int = 24) -> None:
    pdfs = [_pdf(f"ABUSE-MANY-{i}", vendor=f"Vendor {i % 4} GmbH") for i in range(uploads)]

    def upload(data: bytes) -> httpx.Response:
        files = {"file": ("m.pdf", data, "application/pdf")}
        return httpx.post(ctx.server.url + "/extract", headers=ctx.server.auth, timeout=120, files=files)

    with ThreadPoolExecutor(uploads) as pool:
        answers = list(pool.map(upload, pdfs))
    for response in answers:
        out.add(response)
    out.notes.append(f"{uploads} uploads at once")
    out.expect(all(r.status_code in (200, 503) for r in answers), "each upload is stored or told to retry")


def _image(size: tuple[int, int], fmt: str, frames: int = 1) -> bytes:
    from PIL import Image

    image = Image.new("1", size, 1)
    buf = io.BytesIO()
    if frames > 1:
        image.save(buf, fmt, save_all=True, append_images=[image] * (frames - 1), compression="group4")
    else:
        image.save(buf, fmt, **({"compression": "group4"} if fmt == "TIFF" else {"optimize": True}))
    return buf.getvalue()


def case_image_bombs(ctx: Context, out: Outcome) -> None:
    png = _image((12_000, 12_000), "PNG")  # 144 Mpx in a few kB
    out.expect(out.add(_upload(ctx, png, "bomb.png", "image/png")) == 413, "a 144 Mpx PNG: 413")
    tiff = _image((7_680, 7_680), "TIFF", frames=24)  # 24 frames of 59 Mpx, each under the page limit
    out.expect(out.add(_upload(ctx, tiff, "frames.tif", "image/tiff")) == 413, "a TIFF frame bomb: 413")
    out.expect(out.add(_upload(ctx, tiff, "frames.tif", "image/tiff", "/ocr")) == 413, "TIFF frame bomb on /ocr")
    out.notes.append(f"PNG {len(png) // 1024} kB, TIFF {len(tiff) // 1024} kB")


def case_slow_document(ctx: Context, out: Outcome) -> None:
    from tests.builders import blank_pdf

    status = out.add(_upload(ctx, blank_pdf(300), "blank.pdf", "application/pdf"))
    out.expect(status == 413 and out.answers[-1][1] == "document_too_slow", "300 blank pages: 413 document_too_slow")


def _running(ctx: Context) -> int:
    return ctx.client.get("/health").json()["queue"]["running"]


def case_cancelled_upload(ctx: Context, out: Outcome) -> None:
    from tests.builders import blank_pdf

    pdf = blank_pdf(300)
    form = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="c.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        + pdf
        + b"\r\n--b--\r\n"
    )
    head = (
        f"POST /extract HTTP/1.1\r\nHost: x\r\nX-API-Key: {ctx.server.key}\r\nContent-Length: {len(form)}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", ctx.server.port))
    sock.sendall(head + form)
    deadline = time.monotonic() + 20
    while _running(ctx) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    sock.close()
    left = time.monotonic()
    while _running(ctx) and time.monotonic() < left + 20:
        time.sleep(0.05)
    freed = time.monotonic() - left
    out.add((0, "client left"))
    out.notes.append(f"slot free {freed:.1f} s after the client left")
    out.expect(_running(ctx) == 0, "a client that leaves frees its extraction slot")


def _page_call(ctx: Context, client: httpx.Client, value: Any) -> tuple[int, str]:
    base = f"{ctx.server.url}/ui/gradio_api/call/extract"
    started = client.post(base, json={"data": [value, "auto"]})
    if started.status_code != 200:
        return started.status_code, "refused"
    event = ""
    with client.stream("GET", f"{base}/{started.json()['event_id']}") as answer:
        for line in answer.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                return answer.status_code, f"event {event}"
    return 0, "no event"


def case_page_server_paths(ctx: Context, out: Outcome) -> None:
    anon = httpx.Client(base_url=ctx.server.url, timeout=20)
    for route in ("/ui/gradio_api/reset", "/ui/gradio_api/cancel"):
        status = out.add(anon.post(route, json={"event_id": "x", "session_hash": "x", "fn_index": 0}))
        out.expect(status in (401, 403), f"{route} without a login")
    with httpx.Client(base_url=ctx.server.url, timeout=20) as client:
        login = client.post("/ui/login", data={"username": "bench", "password": ctx.server.key})
        out.add(login)
        for path in ("/etc/passwd", str(ctx.server.data_dir / "api_keys.json"), "/dev/zero", "/nowhere/x.pdf"):
            value = [{"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": Path(path).name}]
            status, event = _page_call(ctx, client, value)
            out.add((status, event))
            out.expect(event == "event error", f"the page reads no server path ({path}): {event}")
    stored = ctx.client.get("/invoices", params={"limit": 500}, headers=ctx.server.auth).json()["items"]
    out.expect(not any("passwd" in (i.get("file_name") or "") for i in stored), "nothing stored from a server path")
    anon.close()


def case_damaged_key_file(ctx: Context, out: Outcome) -> None:
    path = ctx.server.data_dir / "api_keys.json"
    saved = path.read_bytes()
    path.write_bytes(saved[: len(saved) // 2])
    try:
        health = ctx.client.get("/health")
        out.expect(out.add(health) == 200 and health.json()["status"] == "degraded", "/health: 200, degraded")
        status = out.add(ctx.client.get("/invoices", headers=ctx.server.auth))
        out.expect(status == 503 and out.answers[-1][1] == "key_file_damaged", "keyed call: 503 key_file_damaged")
        out.expect(out.add(ctx.client.delete(f"/invoices/{ctx.invoice_id}")) in (401, 503), "no key: refused")
    finally:
        path.write_bytes(saved)
        os.utime(path)
    out.expect(out.add(ctx.client.get("/invoices", headers=ctx.server.auth)) == 200, "the repaired file works again")


def case_revoke_last_key(ctx: Context, out: Outcome) -> None:
    from app.api.auth import KeyStore

    KeyStore(ctx.server.data_dir / "api_keys.json").revoke("bench")
    status = out.add(ctx.client.delete(f"/invoices/{ctx.invoice_id}"))
    out.expect(status == 401, "with the last key revoked, an unauthenticated DELETE is 401")
    out.expect(out.add(ctx.client.get("/invoices", headers=ctx.server.auth)) == 401, "the revoked key is refused")


# (name shown in the table, function); revoking the last key ends every run, so it comes last.
CASES: list[tuple[str, Callable[[Context, Outcome], None]]] = [
    ("URL of 300 kB", case_long_url),
    ("search offset 10^8 (with and without filter)", case_search_offset),
    ("page ranges 2-99999999999, 1-80000", case_page_range),
    ("JSON nested 100 000 deep", case_deep_json),
    ("300 MiB PATCH with and without key, 1 GiB upload", case_huge_bodies),
    ("slow bodies, slow headers, unread answers", case_slow_bodies),
    ("amounts 1e20, 6.4e15, 1e999999, 1.5E+3", case_amounts),
    ("vendor names of 200 kB (XML) and 300 kB (PATCH)", case_long_vendor),
    ("10 concurrent corrections of one invoice", case_concurrent_corrections),
    ("PATCH racing DELETE, 3 rounds", case_patch_races_delete),
    ("24 concurrent uploads", case_concurrent_uploads),
    ("PNG of 144 Mpx, TIFF of 24 x 59 Mpx frames", case_image_bombs),
    ("PDF of 300 blank pages (15 s budget)", case_slow_document),
    ("upload cancelled while read", case_cancelled_upload),
    ("page call naming server paths, reset/cancel", case_page_server_paths),
    ("damaged key file", case_damaged_key_file),
    ("last key revoked while running", case_revoke_last_key),
]


# ---------------------------------------------------------------------------------------------------
# Runner


@dataclass
class Row:
    """One case's figures."""

    name: str
    statuses: dict[str, int]
    max_health_s: float
    growth_mb: float
    tree_growth_mb: float
    tree_kept_mb: float
    unplanned_5xx: int
    planned_5xx: int
    health_failures: int
    seconds: float
    notes: list[str]
    failures: list[str]

    @property
    def passed(self) -> bool:
        return (
            self.max_health_s <= MAX_BLOCK_S
            and max(self.growth_mb, self.tree_growth_mb) <= MAX_GROWTH_MB
            and self.unplanned_5xx == 0
            and self.health_failures == 0
            and not self.failures
        )


def _seed(server: Server, client: httpx.Client) -> int:
    response = client.post(
        "/extract", headers=server.auth, files={"file": ("seed.pdf", _pdf("ABUSE-SEED"), "application/pdf")}
    )
    response.raise_for_status()
    return response.json()["invoice_id"]


def run_case(ctx: Context, name: str, fn: Callable[[Context, Outcome], None]) -> Row:
    """Run one case with the watch on; errors in the case itself become failures of the row."""
    out = Outcome()
    started = time.perf_counter()
    with Watch(ctx.server.url, ctx.server.proc.pid) as watch:
        worker = threading.Thread(target=_guarded, args=(fn, ctx, out), daemon=True)
        worker.start()
        worker.join(CASE_LIMIT_S)
        if worker.is_alive():
            out.failures.append(f"did not finish in {CASE_LIMIT_S:.0f} s")
        time.sleep(0.3)  # a last look once the case is over
    base_own, base_tree = watch.rss[0]
    statuses: dict[str, int] = {}
    for status, code in out.answers:
        label = f"{status} {code}".strip() if status else code
        statuses[label] = statuses.get(label, 0) + 1
    fives = [(s, c) for s, c in out.answers if s >= 500]
    return Row(
        name=name,
        statuses=statuses,
        max_health_s=watch.max_latency(),
        growth_mb=max(own for own, _ in watch.rss) - base_own,
        tree_growth_mb=max(tree for _, tree in watch.rss) - base_tree,
        tree_kept_mb=watch.rss[-1][1] - base_tree,
        unplanned_5xx=sum(1 for _, c in fives if c not in PLANNED_5XX),
        planned_5xx=len(fives) - sum(1 for _, c in fives if c not in PLANNED_5XX),
        health_failures=sum(1 for s in watch.statuses if s != 200),
        seconds=time.perf_counter() - started,
        notes=out.notes,
        failures=out.failures,
    )


def _guarded(fn: Callable[[Context, Outcome], None], ctx: Context, out: Outcome) -> None:
    try:
        fn(ctx, out)
    except Exception as exc:  # a case that breaks is reported, not raised
        out.failures.append(f"{type(exc).__name__}: {exc}"[:300])


def run(
    cases: list[str] | None = None, document_timeout: float = 15.0, warm_ocr: bool = True, seed: bool = True
) -> dict[str, Any]:
    """Start a server, run the named cases (all by default) and return the rows and the verdict.

    `warm_ocr` reads one scanned page before measuring (the OCR engine then loads outside the figures);
    `seed` stores the invoice that corrections go to (without it they name invoice 1, which does not exist).
    """
    sys.path.insert(0, str(ROOT))
    chosen = [(name, fn) for name, fn in CASES if not cases or fn.__name__.removeprefix("case_") in cases]
    with tempfile.TemporaryDirectory(prefix="abuse-") as tmp:
        server = start_server(Path(tmp), document_timeout)
        try:
            with httpx.Client(base_url=server.url, timeout=120) as client:
                ctx = Context(server, client, _seed(server, client) if seed else 1)
                # One scanned page first, so the OCR engine is loaded in the reader before anything is measured.
                if warm_ocr:
                    scan = _pdf("ABUSE-SCAN", image_pages={1})
                    warm = client.post(
                        "/ocr", headers=server.auth, files={"file": ("scan.pdf", scan, "application/pdf")}
                    )
                    warm.raise_for_status()
                client.get("/search", params={"q": "warm up"}, headers=server.auth)
                rows = [run_case(ctx, name, fn) for name, fn in chosen]
            alive = server.proc.poll() is None
        finally:
            server.proc.terminate()
            try:
                server.proc.wait(30)
            except subprocess.TimeoutExpired:
                server.proc.kill()
    return {
        "rows": rows,
        "server_survived": alive,
        "passed": alive and all(r.passed for r in rows),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
    }


def table(result: dict[str, Any]) -> str:
    """The rows as a markdown table."""
    lines = [
        "| request | statuses seen | max /health latency | RSS growth: server / with readers (peak, kept) "
        "| 5xx (planned 503) "
        "| checks |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        seen = ", ".join(f"{label} x{n}" if n > 1 else label for label, n in sorted(r.statuses.items()))
        checks = "ok" if not r.failures and not r.health_failures else "; ".join(r.failures) or "health failed"
        if r.notes:
            checks += " (" + "; ".join(r.notes) + ")"
        lines.append(
            f"| {r.name} | {seen} | {r.max_health_s * 1000:.0f} ms "
            f"| {r.growth_mb:+.0f} / {r.tree_growth_mb:+.0f}, {r.tree_kept_mb:+.0f} MB "
            f"| {r.unplanned_5xx} ({r.planned_5xx}) | {checks} |"
        )
    return "\n".join(lines)


def verdict(result: dict[str, Any]) -> str:
    """One line against the targets."""
    rows = result["rows"]
    worst = max((r.max_health_s for r in rows), default=0.0)
    growth = max((max(r.growth_mb, r.tree_growth_mb) for r in rows), default=0.0)
    fives = sum(r.unplanned_5xx for r in rows)
    checks = sum(len(r.failures) for r in rows)
    word = "PASS" if result["passed"] else "FAIL"
    return (
        f"{word}: worst /health latency {worst:.2f} s (target <= {MAX_BLOCK_S:.0f} s), largest RSS growth "
        f"{growth:.0f} MB (target <= {MAX_GROWTH_MB:.0f} MB), {fives} unplanned 5xx (target 0), {checks} failed "
        f"checks, server {'alive' if result['server_survived'] else 'GONE'} at the end."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="Accepted for `make bench`; the run is already short.")
    parser.add_argument("--cases", nargs="*", help="Case names (function names without case_); default all.")
    parser.add_argument("--json", type=Path, help="Also write the rows as JSON here.")
    args = parser.parse_args(argv)
    result = run(args.cases)
    print(table(result))
    print()
    print(verdict(result))
    if args.json:
        rows = [r.__dict__ | {"passed": r.passed} for r in result["rows"]]
        args.json.write_text(json.dumps({**result, "rows": rows}, indent=2, default=str))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
