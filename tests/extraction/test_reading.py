"""The reading unit: the same results in reader processes as in-process, progress, the time budget, lower
priority, crashes, recycling, shutdown."""

from __future__ import annotations

import os
import threading
import time

import pytest

from extraction.options import ExtractOptions
from extraction.pipeline import extract_invoices
from extraction.reader_processes import EXTRACT_NICE, ReaderProcesses
from extraction.reading import DocumentReader
from tests.builders import blank_pdf, encrypted_pdf, invoice_spec, make_invoice_pdf, make_settings
from utils.errors import Abandoned, DocumentTooSlow, EncryptedDocument, UnreadableDocument


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


@pytest.fixture
def reader(tmp_path):
    unit = DocumentReader(make_settings(tmp_path / "data", extract_workers=1))
    yield unit
    unit.shutdown()


def test_results_match_reading_in_process_and_progress_is_reported(reader, tmp_path):
    settings = reader.settings
    assert reader.isolated
    pdf = make_invoice_pdf(invoice_spec(number="PROC-1001"), pages=2)
    progress: list[tuple[int, int]] = []
    there = reader.extract_invoices(pdf, "p.pdf", ExtractOptions(), on_page=lambda *p: progress.append(p))
    here = extract_invoices(pdf, "p.pdf", ExtractOptions(), settings)
    assert [r.invoice.model_dump() for r in there] == [r.invoice.model_dump() for r in here]
    assert there[0].invoice.invoice_number == "PROC-1001"
    assert progress and progress[-1][1] == 2  # (pages done, pages in all) as the pages were read

    info, pages, timings = reader.read_pages(pdf, "p.pdf", ExtractOptions())
    assert info["page_count"] == 2 and info["media_type"] == "application/pdf" and len(pages) == 2
    assert "PROC-1001" in pages[0].to_markdown() and "load" in timings


def test_domain_errors_come_back_as_themselves(reader):
    with pytest.raises(EncryptedDocument) as info:
        reader.extract_invoices(encrypted_pdf(), "locked.pdf", ExtractOptions())
    assert info.value.message


@pytest.mark.parametrize("processes", [True, False], ids=["reader-process", "in-process"])
def test_a_read_past_the_time_budget_is_stopped(tmp_path, processes):
    settings = make_settings(tmp_path / "data", extract_workers=1, document_timeout=0.2, extract_processes=processes)
    with DocumentReader(settings) as reader:
        assert reader.isolated is processes
        start = time.monotonic()
        with pytest.raises(DocumentTooSlow) as info:
            reader.read_pages(blank_pdf(300), "blank.pdf", ExtractOptions())
        assert "INVOICE_OCR_DOCUMENT_TIMEOUT" in info.value.message and time.monotonic() - start < 60
        # The caller's own reason to stop comes first.
        with pytest.raises(Abandoned):
            reader.read_pages(blank_pdf(2), "b.pdf", ExtractOptions(), should_stop=lambda: Abandoned("gone"))


def test_readers_run_at_lower_priority(readers):
    assert readers.call(_niceness) >= EXTRACT_NICE > os.getpriority(os.PRIO_PROCESS, 0)
    # Idle class: OCR gets only the CPU time that searches and the server leave unused.
    assert readers.call(_scheduler) == os.SCHED_IDLE != os.sched_getscheduler(0)


def test_foreground_readers_keep_the_callers_priority():
    # A CLI run is the machine's foreground job: its readers are not pushed into the idle class.
    readers = ReaderProcesses(workers=1, background=False)
    try:
        assert readers.call(_niceness) == os.getpriority(os.PRIO_PROCESS, 0)
        assert readers.call(_scheduler) == os.sched_getscheduler(0)
    finally:
        readers.shutdown()


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
