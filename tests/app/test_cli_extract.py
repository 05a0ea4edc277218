"""`invoice-ocr extract` as a user runs it: the installed console script, in a subprocess."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import clean_environ, invoice_spec, make_invoice_pdf

SCRIPT = shutil.which("invoice-ocr", path=str(Path(sys.executable).parent)) or "invoice-ocr"


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = clean_environ(data_dir=str(data_dir))
    # cwd away from the checkout, so a developer's .env is not read
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, env=env, cwd=data_dir.parent, timeout=300)


@pytest.fixture
def files(tmp_path):
    first = tmp_path / "first.pdf"
    first.write_bytes(make_invoice_pdf(invoice_spec(number="A-1")))
    second = tmp_path / "second.pdf"
    second.write_bytes(make_invoice_pdf(invoice_spec(number="B-2", language="de")))
    bad = tmp_path / "bad.pdf"
    bad.write_text("this is not a pdf")
    return first, second, bad


def test_json_lines_in_the_order_given(files, tmp_path):
    first, second, _ = files
    proc = run_cli("extract", str(second), str(first), "--format", "json", data_dir=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["document"]["filename"] for r in rows] == ["second.pdf", "first.pdf"]
    assert [r["invoice"]["invoice_number"] for r in rows] == ["B-2", "A-1"]
    assert isinstance(rows[0]["invoice"]["total"], float | int)
    assert rows[0]["invoice"]["invoice_date"] == "2024-03-05"


def test_bad_file_is_reported_and_the_rest_go_on(files, tmp_path):
    first, second, bad = files
    proc = run_cli("extract", str(first), str(bad), str(second), data_dir=tmp_path)
    assert proc.returncode == 1
    assert len(proc.stdout.splitlines()) == 2
    (reason,) = proc.stderr.strip().splitlines()
    assert reason.startswith(str(bad)) and "unsupported file type" in reason
    missing = run_cli("extract", str(tmp_path / "nope.pdf"), data_dir=tmp_path)
    assert missing.returncode == 1 and "cannot read" in missing.stderr


def test_markdown_format_and_unknown_engine(files, tmp_path):
    first, _, _ = files
    proc = run_cli("extract", str(first), "--format", "markdown", data_dir=tmp_path)
    assert proc.returncode == 0
    assert "| Description" in proc.stdout and "A-1" in proc.stdout
    proc = run_cli("extract", str(first), "--engine", "nonesuch", data_dir=tmp_path)
    assert proc.returncode == 2
    assert "known engines" in proc.stderr and "rapidocr" in proc.stderr
