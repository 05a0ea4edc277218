"""The one way a document is read off its caller's thread: load, OCR and parse, within a time budget.

`DocumentReader` is what the API's workers, the CLI's ingest and the bulk re-read all read documents
with. Per the settings it reads in reader processes (INVOICE_OCR_EXTRACT_PROCESSES, the default: lower
priority, crash isolation, recycled past INVOICE_OCR_READER_MAX_RSS_MB; see reader_processes.py) or in
the calling thread, and every read has the per-document time budget (INVOICE_OCR_DOCUMENT_TIMEOUT): a
read that runs past it is stopped and raises DocumentTooSlow, so nothing of it can be stored.

Why in extraction/: a read is extraction work (extraction.documents, the engines, the parser) and needs
nothing above it; the history's vendor hints come in as a plain lookup (a picklable snapshot for reader
processes). Below retrieval and app, it serves both without an import running upward: app/api (the
HTTP pool, its Busy line and shutdown gate stay there), retrieval/ingest.py and retrieval/reread.py.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, TypeVar

from extraction.reader_processes import ReaderProcesses
from utils.errors import DocumentTooSlow

if TYPE_CHECKING:
    from collections.abc import Callable

    from extraction.hints import HintsLookup, VendorHints
    from extraction.markdown import PageMarkdown
    from extraction.options import ExtractOptions
    from extraction.schema import ExtractionResult
    from utils.settings import Settings

    StopCheck = Callable[[], BaseException | None]
    PageCallback = Callable[[int, int], None]
    Hints = VendorHints | HintsLookup

T = TypeVar("T")


class DocumentInfo(TypedDict):
    """What read_pages tells of the document it loaded."""

    page_count: int
    filename: str
    sha256: str
    media_type: str


class ProgressSink(Protocol):
    """Where a job sends its page progress, (done, total): the reader's pipe, or a _Sender here."""

    def send(self, pair: tuple[int, int], /) -> None:
        """Report (pages done, pages in all)."""


class _Sender:
    """Anything with send((done, total)): the reader's pipe, or a callback here."""

    def __init__(self, on_page: PageCallback) -> None:
        self._on_page = on_page

    def send(self, pair: tuple[int, int]) -> None:
        """Report (pages done, pages in all)."""
        self._on_page(*pair)


def _progress(conn: ProgressSink | None) -> PageCallback | None:
    return None if conn is None else (lambda done, total: conn.send((done, total)))


# The jobs, module-level so that a spawned reader imports them by name; `conn` carries page progress.
def _extract_invoices(
    data: bytes,
    filename: str,
    options: ExtractOptions | None,
    settings: Settings,
    hints: Hints | None,
    conn: ProgressSink | None,
) -> list[ExtractionResult]:
    from extraction.pipeline import extract_invoices

    return extract_invoices(data, filename, options, settings, _progress(conn), hints=hints)


def _read_pages(
    data: bytes, filename: str, options: ExtractOptions, settings: Settings, conn: ProgressSink | None
) -> tuple[DocumentInfo, list[PageMarkdown], dict[str, float]]:
    from extraction.documents import load_document
    from extraction.pipeline import read_pages

    timings: dict[str, float] = {}
    start = time.perf_counter()
    document = load_document(data, filename, settings)
    timings["load"] = round(time.perf_counter() - start, 4)
    try:
        pages_md = read_pages(document, options, settings, timings, _progress(conn))
        info: DocumentInfo = {
            "page_count": document.page_count,
            "filename": document.filename,
            "sha256": document.sha256,
            "media_type": document.media_type,
        }
    finally:
        document.close()
    return info, pages_md, timings


def _warm_up() -> None:
    """What every read needs, loaded by a fresh reader process before its first document is timed.

    Seconds on a busy machine (PyMuPDF loads its layout models when imported): not the document's time.
    """
    import pymupdf  # noqa: F401  (imported by extraction.documents on the first PDF)

    import extraction.pipeline  # noqa: F401  (documents, engines' registry, markdown, parser)
    from extraction.parser.scoring import load_models

    load_models()


def _stopping(on_page: PageCallback | None, should_stop: StopCheck) -> PageCallback:
    """A page callback for reads in this thread that stops the read (raises) between pages when asked to."""

    def report(done: int, total: int) -> None:
        stop = should_stop()
        if stop is not None:
            raise stop
        if on_page is not None:
            on_page(done, total)

    return report


class DocumentReader:
    """Reads documents in reader processes (or this thread, per the settings) within the time budget.

    `workers` reader processes are kept warm (default: INVOICE_OCR_EXTRACT_WORKERS); `background` readers
    run in the idle scheduling class (a server's, beside its searches), others at the caller's priority.
    """

    def __init__(self, settings: Settings, workers: int | None = None, background: bool = True) -> None:
        self.settings = settings
        self.budget = settings.document_timeout
        self.processes = (
            ReaderProcesses(workers or settings.extract_workers, settings.reader_max_rss_mb << 20, background, _warm_up)
            if settings.extract_processes
            else None
        )

    @property
    def isolated(self) -> bool:
        """Whether reads run in reader processes (hints must then be a picklable snapshot)."""
        return self.processes is not None

    def extract_invoices(
        self,
        data: bytes,
        filename: str,
        options: ExtractOptions | None = None,
        *,
        hints: Hints | None = None,
        on_page: PageCallback | None = None,
        should_stop: StopCheck | None = None,
    ) -> list[ExtractionResult]:
        """extraction.pipeline.extract_invoices within the budget; page progress reported to `on_page`.

        `should_stop()` is asked while the document is read; an error it returns stops the read and is
        raised. With reader processes `hints` must pickle (VendorHints, retrieval.hints.HintsSnapshot).
        """
        return self._run(
            _extract_invoices, filename, (data, filename, options, self.settings, hints), on_page, should_stop
        )

    def read_pages(
        self,
        data: bytes,
        filename: str,
        options: ExtractOptions,
        *,
        on_page: PageCallback | None = None,
        should_stop: StopCheck | None = None,
    ) -> tuple[DocumentInfo, list[PageMarkdown], dict[str, float]]:
        """Load a document and read its pages within the budget: (document info, pages, timings)."""
        return self._run(_read_pages, filename, (data, filename, options, self.settings), on_page, should_stop)

    def _run(
        self,
        job: Callable[..., T],
        filename: str,
        args: tuple[Any, ...],
        on_page: PageCallback | None,
        should_stop: StopCheck | None,
    ) -> T:
        if self.processes is not None:  # the clock starts when a ready reader has the document
            stop = self._budgeted(filename, should_stop, start=None)
            return self.processes.call(job, *args, on_page=on_page, should_stop=stop)
        stop = self._budgeted(filename, should_stop, start=time.monotonic())
        return job(*args, _Sender(_stopping(on_page, stop)))

    def _budgeted(self, filename: str, should_stop: StopCheck | None, start: float | None) -> StopCheck:
        """`should_stop`, and past the document's time budget a DocumentTooSlow (from `start`, else first asked)."""
        budget = self.budget
        began = [start]

        def check() -> BaseException | None:
            stop = should_stop() if should_stop is not None else None
            if stop is not None:
                return stop
            first = began[0]
            if first is None:
                first = began[0] = time.monotonic()
            if time.monotonic() - first > budget:
                return DocumentTooSlow(
                    f"{filename}: reading took longer than the {budget:g} s allowed per document "
                    "(INVOICE_OCR_DOCUMENT_TIMEOUT) and was stopped; nothing was stored. Send fewer pages "
                    "(the 'pages' parameter) or split the file"
                )
            return None

        return check

    def shutdown(self) -> None:
        """Refuse new reads and stop every reader process (running reads raise Abandoned; nothing is stored)."""
        if self.processes is not None:
            self.processes.shutdown()

    def __enter__(self) -> DocumentReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
