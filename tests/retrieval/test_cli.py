from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from retrieval.service import InvoiceService
from tests.builders import clean_environ, make_result, make_settings, simple_invoice_pdf
from utils.settings import get_settings


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("INVOICE_OCR_DATA_DIR", str(data))
    get_settings.cache_clear()
    svc = InvoiceService(make_settings(data_dir=data))
    svc.store_result(*make_result(vendor="Coolblue B.V.", number="993548900", total="717.97", items=("Laptop",)))
    svc.store_result(*make_result(number="A-1", total="60.44", currency="USD"))
    svc.close()
    yield data
    get_settings.cache_clear()


def test_search_json(data_dir: Path) -> None:
    out = CliRunner().invoke(cli, ["search", "total 60.44", "--format", "json"])
    assert out.exit_code == 0, out.output
    hits = json.loads(out.stdout)
    assert hits[0]["invoice_number"] == "A-1" and hits[0]["total"] == 60.44 and hits[0]["currency"] == "USD"
    assert set(hits[0]) >= {
        "invoice_id",
        "score",
        "vendor",
        "invoice_number",
        "invoice_date",
        "total",
        "currency",
        "snippet",
    }
    out = CliRunner().invoke(cli, ["search", "laptop", "--mode", "keyword", "--currency", "EUR", "--format", "json"])
    assert [h["vendor"] for h in json.loads(out.stdout)] == ["Coolblue B.V."]
    out = CliRunner().invoke(cli, ["search", "x", "--date-from", "not-a-date"])
    assert out.exit_code == 2
    out = CliRunner().invoke(cli, ["search", "xqzvbl"])
    assert out.exit_code == 0 and "No invoices match “xqzvbl”." in out.stdout
    out = CliRunner().invoke(cli, ["search", "laptop", "--mode", "keyword"])
    assert "1 invoice match; showing 1." in out.stdout


def test_vendors_json_and_table(data_dir: Path) -> None:
    out = CliRunner().invoke(cli, ["vendors", "colblue", "--format", "json"])
    assert out.exit_code == 0, out.output
    vendors = json.loads(out.stdout)
    assert vendors[0]["name"] == "Coolblue B.V." and vendors[0]["invoice_count"] == 1
    assert {"id", "name", "aliases", "spend", "typical_min"} <= set(vendors[0])
    table = CliRunner().invoke(cli, ["vendors", "acme industrial"])
    assert "Acme Industrial Supplies GmbH" in table.stdout


def test_export_to_file_and_reindex(data_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    out = CliRunner().invoke(cli, ["export", "--format", "jsonl", "--output", str(target), "--currency", "USD"])
    assert out.exit_code == 0, out.output
    records = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["invoice"]["invoice_number"] for r in records] == ["A-1"]
    out = CliRunner().invoke(cli, ["export", "--format", "csv"])
    assert out.stdout.count("\n") == 3
    out = CliRunner().invoke(cli, ["reindex"])
    assert out.exit_code == 0 and "reindexed 2" in out.stdout


def _ingest(folder: Path, data: Path, **popen) -> subprocess.Popen:
    env = clean_environ(data_dir=str(data))
    cmd = [sys.executable, "-m", "app.cli", "ingest", str(folder), "--workers", "1"]
    return subprocess.Popen(
        cmd, cwd=data.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen
    )


def _pdfs(folder: Path, n: int) -> None:
    for i in range(n):
        sub = folder / f"batch{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        pdf = simple_invoice_pdf(
            f"Vendor {i % 5} GmbH", f"INV-{1000 + i}", f"2024-02-{1 + i % 9:02d}", [("Service", f"{i}.50")], f"{i}.50"
        )
        (sub / f"inv{i}.pdf").write_bytes(pdf)


@pytest.mark.slow
def test_ingest_is_resumable_and_reports_refusals(tmp_path: Path, embedder) -> None:
    folder, data = tmp_path / "in", tmp_path / "data"
    _pdfs(folder, 4)
    (folder / "notes.txt").write_text("not an invoice")
    proc = _ingest(folder, data)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert "4 stored" in stdout and "1 refused" in stdout and "notes.txt" in stdout
    assert re.search(r"\(4 invoices, \d+ needs? review\)", stdout), stdout
    proc = _ingest(folder, data)
    stdout, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "0 stored" in stdout and "4 skipped" in stdout


@pytest.mark.slow
def test_killed_ingest_leaves_a_usable_store(tmp_path: Path, embedder) -> None:
    folder, data = tmp_path / "in", tmp_path / "data"
    _pdfs(folder, 40)
    proc = _ingest(folder, data, start_new_session=True)
    deadline = time.monotonic() + 240
    files = data / "files"
    while time.monotonic() < deadline and proc.poll() is None:
        if files.exists() and any(files.iterdir()):
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    svc = InvoiceService(make_settings(data_dir=data))
    try:
        health = svc.health()
        stored = health["store"]["invoices"]
        assert stored < 40 and health["index"]["consistent"]
        assert svc.store.scalar("SELECT count(*) FROM embeddings") == stored
        assert svc.store.scalar("SELECT count(*) FROM fts_docs") == stored
    finally:
        svc.close()
    proc = _ingest(folder, data)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert f"{40 - stored} stored" in stdout and f"{stored} skipped" in stdout


def test_vendors_list_rename_merge_and_reread(data_dir: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(cli, ["vendors", "list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    by_name = {v["name"]: v["id"] for v in json.loads(listed.stdout)}
    coolblue, acme = by_name["Coolblue B.V."], by_name["Acme Industrial Supplies GmbH"]
    renamed = runner.invoke(cli, ["vendors", "rename", str(coolblue), "Coolblue", "Retail", "--who", "dana"])
    assert renamed.exit_code == 0, renamed.output
    assert "Coolblue Retail" in renamed.stdout
    assert runner.invoke(cli, ["vendors", "rename", "x"]).exit_code == 2
    merged = runner.invoke(cli, ["vendors", "merge", str(coolblue), str(acme), "--format", "json"])
    assert merged.exit_code == 0, merged.output
    assert json.loads(merged.stdout)["invoice_count"] == 2
    assert runner.invoke(cli, ["vendors", "merge", str(coolblue), str(acme)]).exit_code == 1  # gone now
    found = json.loads(runner.invoke(cli, ["vendors", "coolblue retail", "--format", "json"]).stdout)
    assert found[0]["id"] == acme
    svc = InvoiceService(make_settings(data_dir=data_dir))
    try:
        assert [(e.action, e.who) for e in svc.vendor_events()] == [("rename", "dana"), ("merge", "cli")]
    finally:
        svc.close()
    # The stored results have no files behind them: each is reported, the command says so.
    reread = runner.invoke(cli, ["reread", "--vendor", "Acme", "--format", "json"])
    assert reread.exit_code == 1 and len(json.loads(reread.stdout)["failed"]) == 2
