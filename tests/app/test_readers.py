"""Reader processes: the same results as reading in-process, progress, lower priority, crashes, shutdown."""

from __future__ import annotations

import os
import threading
import time

import pytest

from app.api.readers import EXTRACT_NICE, ReaderProcesses
from extraction.options import ExtractOptions
from extraction.pipeline import extract_invoices
from tests.builders import encrypted_pdf, invoice_spec, make_invoice_pdf, make_settings
from utils.errors import Abandoned, EncryptedDocument, UnreadableDocument


# Run inside the reader process (module-level, so the spawned child can import them).
def _niceness(_conn) -> int:
    return os.getpriority(os.PRIO_PROCESS, 0)


def _scheduler(_conn) -> int:
    return os.sched_getscheduler(0)


def _die(_conn) -> None:
    os._exit(3)


def _sleep(seconds: float, _conn) -> str:
    time.sleep(seconds)
    return "slept"


def _pid(_conn) -> int:
    return os.getpid()


@pytest.fixture
def readers():
    pool = ReaderProcesses(workers=1)
    yield pool
    pool.shutdown()


def test_results_match_reading_in_process_and_progress_is_reported(readers, tmp_path):
    settings = make_settings(tmp_path / "data")
    pdf = make_invoice_pdf(invoice_spec(number="PROC-1001"), pages=2)
    progress: list[tuple[int, int]] = []
    there = readers.extract_invoices(pdf, "p.pdf", ExtractOptions(), settings, on_page=lambda *p: progress.append(p))
    here = extract_invoices(pdf, "p.pdf", ExtractOptions(), settings)
    assert [r.invoice.model_dump() for r in there] == [r.invoice.model_dump() for r in here]
    assert there[0].invoice.invoice_number == "PROC-1001"
    assert progress and progress[-1][1] == 2  # (pages done, pages in all) as the pages were read

    info, pages, timings = readers.read_pages(pdf, "p.pdf", ExtractOptions(), settings)
    assert info["page_count"] == 2 and info["media_type"] == "application/pdf" and len(pages) == 2
    assert "PROC-1001" in pages[0].to_markdown() and "load" in timings


def test_domain_errors_come_back_as_themselves(readers, tmp_path):
    with pytest.raises(EncryptedDocument) as info:
        readers.extract_invoices(encrypted_pdf(), "locked.pdf", ExtractOptions(), make_settings(tmp_path / "d"))
    assert info.value.message


def test_readers_run_at_lower_priority(readers):
    assert readers.call(_niceness) >= EXTRACT_NICE > os.getpriority(os.PRIO_PROCESS, 0)
    # Idle class: OCR gets only the CPU time that searches and the server leave unused.
    assert readers.call(_scheduler) == os.SCHED_IDLE != os.sched_getscheduler(0)


def test_a_crashing_reader_fails_only_its_own_call_and_is_replaced(readers):
    first = readers.call(_pid)
    with pytest.raises(UnreadableDocument) as info:
        readers.call(_die)
    assert "nothing was stored" in info.value.message
    assert readers.call(_sleep, 0) == "slept"
    assert readers.call(_pid) != first


def test_a_reader_left_holding_much_memory_is_replaced_after_its_job():
    # A reader kept the 7.3 GB of a frame bomb after it, and other documents then failed for want of memory.
    keeps = ReaderProcesses(workers=1, max_rss_bytes=1 << 40)
    recycles = ReaderProcesses(workers=1, max_rss_bytes=1)
    try:
        assert keeps.call(_pid) == keeps.call(_pid)
        first = recycles.call(_pid)
        assert recycles.call(_pid) != first
    finally:
        keeps.shutdown()
        recycles.shutdown()


def test_shutdown_stops_a_running_reader_and_refuses_new_calls():
    readers = ReaderProcesses(workers=1)
    assert readers.call(_sleep, 0) == "slept"  # started
    outcome: list[object] = []

    def long_call() -> None:
        try:
            outcome.append(readers.call(_sleep, 60))
        except Abandoned as exc:
            outcome.append(exc)

    caller = threading.Thread(target=long_call)
    caller.start()
    time.sleep(0.5)
    start = time.monotonic()
    readers.shutdown()
    caller.join(20)
    assert not caller.is_alive() and time.monotonic() - start < 20
    assert outcome and isinstance(outcome[0], Abandoned)
    with pytest.raises(Abandoned):
        readers.call(_sleep, 0)
