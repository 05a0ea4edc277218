"""Document reading (load, OCR, parse) in separate lower-priority processes.

Reading a scan is CPU-heavy Python and native code. In the server's own process it competes with the
event loop for the GIL, so searches wait behind OCR even at a lower thread priority, and a document
that crashes a native library would take the whole server down. Here each read runs in a spawned child
in the idle scheduling class (at nice 10 where that class is not available): it reads with the CPU time
the server leaves unused, so searches keep their latency while documents are read, and a crashed child
costs only its request (422, nothing stored) and is replaced. Results come back as the same pydantic objects.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from utils.errors import UnreadableDocument

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.connection import Connection

    from extraction.markdown import PageMarkdown
    from extraction.options import ExtractOptions
    from extraction.schema import ExtractionResult
    from utils.settings import Settings

log = logging.getLogger("invoice_ocr.readers")
# Extraction (threads, the OCR runtime's threads and reader processes) runs at a lower CPU priority, so
# that searches and reads keep their latency while a long document is being read.
EXTRACT_NICE = 10
_POLL_S = 0.05


def lower_priority() -> None:
    """Run the calling thread (and the threads and processes it starts) at EXTRACT_NICE."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not allowed: normal priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), EXTRACT_NICE)


def reader_priority() -> None:
    """Run a reader process in the idle scheduling class: it gets only CPU time nothing else wants."""
    # Only whole reader processes: a thread of the server in this class could starve while holding the GIL.
    lower_priority()
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def _abandoned(message: str) -> Exception:
    from app.api.workers import Abandoned  # workers imports this module

    return Abandoned(message)


def _progress(conn: Connection | None) -> Callable[[int, int], None] | None:
    return None if conn is None else (lambda done, total: conn.send((done, total)))


def _extract_invoices(
    data: bytes, filename: str, options: ExtractOptions, settings: Settings, conn: Connection | None
) -> list[ExtractionResult]:
    from extraction.pipeline import extract_invoices

    return extract_invoices(data, filename, options, settings, _progress(conn))


def _read_pages(
    data: bytes, filename: str, options: ExtractOptions, settings: Settings, conn: Connection | None
) -> tuple[dict[str, Any], list[PageMarkdown], dict[str, float]]:
    import time

    from extraction.documents import load_document
    from extraction.pipeline import read_pages

    timings: dict[str, float] = {}
    start = time.perf_counter()
    document = load_document(data, filename, settings)
    timings["load"] = round(time.perf_counter() - start, 4)
    try:
        pages_md = read_pages(document, options, settings, timings, _progress(conn))
        info = {
            "page_count": document.page_count,
            "filename": document.filename,
            "sha256": document.sha256,
            "media_type": document.media_type,
        }
    finally:
        document.close()
    return info, pages_md, timings


def read_pages_here(
    data: bytes, filename: str, options: ExtractOptions, settings: Settings
) -> tuple[dict[str, Any], list[PageMarkdown], dict[str, float]]:
    """Load a document and read its pages in this process: (document info, pages, timings)."""
    return _read_pages(data, filename, options, settings, None)


class ReaderProcesses:
    """A pool of `workers` spawned reader processes at lower priority, started on first use."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise _abandoned("the server is shutting down")
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),  # no copy of the server's threads or locks
                    initializer=reader_priority,
                )
            return self._executor

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)

    def extract_invoices(
        self,
        data: bytes,
        filename: str,
        options: ExtractOptions,
        settings: Settings,
        on_page: Callable[[int, int], None] | None = None,
    ) -> list[ExtractionResult]:
        """extraction.pipeline.extract_invoices in a reader process; page progress reported to `on_page`."""
        return self.call(_extract_invoices, data, filename, options, settings, on_page=on_page)

    def read_pages(
        self, data: bytes, filename: str, options: ExtractOptions, settings: Settings
    ) -> tuple[dict[str, Any], list[PageMarkdown], dict[str, float]]:
        """Load a document and read its pages in a reader process: (document info, pages, timings)."""
        return self.call(_read_pages, data, filename, options, settings)

    def call(self, fn: Callable[..., Any], *args: Any, on_page: Callable[[int, int], None] | None = None) -> Any:
        """`fn(*args, conn)` in a reader process, where conn (with on_page) carries (done, total) progress."""
        pool = self._pool()
        receiver, sender = multiprocessing.get_context("spawn").Pipe(duplex=False) if on_page else (None, None)
        try:
            try:
                future = pool.submit(fn, *args, sender)
            except BrokenProcessPool:  # a reader died since the last call: start afresh once
                self._replace(pool)
                pool = self._pool()
                future = pool.submit(fn, *args, sender)
            if receiver is None:
                return future.result()
            while not future.done() or receiver.poll():
                if receiver.poll(_POLL_S):
                    on_page(*receiver.recv())
            return future.result()
        except BrokenProcessPool as exc:
            if self._closed:
                raise _abandoned("the server is shutting down; the document was not stored") from exc
            self._replace(pool)
            log.error("a reader process died while running %s", getattr(fn, "__name__", fn))
            raise UnreadableDocument(
                "reading this document stopped its reader process (a crash in a native library or out of "
                "memory); nothing was stored"
            ) from exc
        finally:
            # The sending end stays open until the child has had it: it is pickled when the job is sent.
            for conn in (sender, receiver):
                if conn is not None:
                    conn.close()

    def shutdown(self) -> None:
        """Refuse new reads, drop queued ones and stop the reader processes (running reads are abandoned)."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is None:
            return
        # Terminate rather than wait: whatever a reader is doing, nothing of it has been stored.
        processes = list(getattr(executor, "_processes", {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(5)
