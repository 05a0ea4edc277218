"""The page reads only files uploaded through it: raw HTTP calls naming server-side paths are refused.

gradio_client uploads every local file it is given before calling, so these calls are made with raw HTTP,
the way a hostile client would: the event's file value names a path on the server.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.app.live_server import LiveServer
from tests.builders import invoice_spec, make_invoice_pdf, make_settings

if TYPE_CHECKING:
    from collections.abc import Iterator

REFUSED = "only files dropped on this page are read"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(make_settings(tmp_path_factory.mktemp("uploads") / "data")).start()
    try:
        yield live
    finally:
        live.stop()


def _call(server: LiveServer, data: list[Any], api: str = "extract", timeout: float = 30) -> tuple[str, str]:
    """Call a page event the raw way; (SSE event name of the answer, its data)."""
    base = f"{server.url}/ui/gradio_api/call/{api}"
    with httpx.Client(timeout=timeout) as client:
        started = client.post(base, json={"data": data})
        assert started.status_code == 200, started.text
        event_id = started.json()["event_id"]
        event, payload = "", ""
        with client.stream("GET", f"{base}/{event_id}") as answer:
            for line in answer.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    payload = line.split(":", 1)[1].strip()
                    if event in ("complete", "error"):
                        return event, payload
    return event, payload


def _file(path: str, **extra: Any) -> dict[str, Any]:
    return {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": Path(path).name, **extra}


def _copies(secret: bytes) -> list[Path]:
    """Files in Gradio's upload and cache folder holding `secret`."""
    from gradio.utils import get_upload_folder

    found = []
    for folder, _dirs, files in os.walk(get_upload_folder()):
        for name in files:
            path = Path(folder) / name
            try:
                if path.is_file() and path.stat().st_size == len(secret) and path.read_bytes() == secret:
                    found.append(path)
            except OSError:
                continue
    return found


def test_a_raw_call_naming_a_server_path_reads_nothing(server: LiveServer, tmp_path: Path) -> None:
    private = tmp_path / "private" / "salaries-2024.pdf"
    private.parent.mkdir()
    private.write_bytes(make_invoice_pdf(invoice_spec(number="PRIVATE-1")))
    secret = tmp_path / "private" / "keys.txt"
    secret.write_bytes(b"not-for-the-page " + os.urandom(16).hex().encode())

    answers = {}
    for name, value in {
        "private pdf": [_file(str(private))],
        "secret": [_file(str(secret))],
        "missing": [_file(str(tmp_path / "private" / "nothing-here.pdf"))],
        "no meta": [{"path": str(private), "orig_name": "x.pdf"}],
        "as a stream": [_file(str(private), is_stream=True)],
        "relative": [_file("../" * 12 + str(private).lstrip("/"))],
    }.items():
        answers[name] = _call(server, [value, "auto"])

    stored = server.service.list_invoices(_filters()).items
    assert [i.invoice_number for i in stored] == [], "a file never uploaded was read and stored"
    assert _copies(secret.read_bytes()) == [], "the secret was copied into a temp folder"
    assert {event for event, _data in answers.values()} == {"error"}, answers
    messages = {name: json.loads(data)["error"] for name, (_event, data) in answers.items()}
    # One answer for every path, existing or not: no existence oracle. (A value without file metadata is
    # refused as malformed before any path is looked at.)
    named = {name: text for name, text in messages.items() if name != "no meta"}
    assert len(set(named.values())) == 1 and REFUSED in messages["missing"], messages

    started = time.monotonic()
    event, _data = _call(server, [[_file("/dev/zero")], "auto"], timeout=20)
    assert event == "error" and time.monotonic() - started < 10
    assert httpx.get(server.url + "/health", timeout=5).status_code == 200


def test_a_file_uploaded_through_the_page_is_read(server: LiveServer, tmp_path: Path) -> None:
    data = make_invoice_pdf(invoice_spec(number="UPLOADED-7"))
    with httpx.Client(timeout=30) as client:
        uploaded = client.post(
            f"{server.url}/ui/gradio_api/upload", files=[("files", ("uploaded.pdf", data, "application/pdf"))]
        )
    assert uploaded.status_code == 200, uploaded.text
    path = uploaded.json()[0]
    event, payload = _call(server, [[_file(path)], "auto"], timeout=120)
    assert event == "complete", payload
    assert [i.invoice_number for i in server.service.list_invoices(_filters()).items] == ["UPLOADED-7"]


def _filters() -> Any:
    from retrieval.models import SearchFilters

    return SearchFilters()


def test_the_drop_zone_is_drawn_by_the_built_in_file_component(server: LiveServer) -> None:
    # The browser draws each component by its type; an unknown type is fetched as a custom component
    # that does not exist, and the whole page stays blank.
    config = httpx.get(f"{server.url}/ui/config", timeout=30).json()
    upload = next(c for c in config["components"] if c.get("props", {}).get("elem_id") == "upload")
    assert upload["type"] == "file"
    assert "custom_component" not in json.dumps(upload)
