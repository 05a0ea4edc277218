"""Extraction as the API runs it: in the bounded pool, split into invoices, stored and enriched."""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from extraction.options import ExtractOptions, check_page_limit
from utils.errors import Abandoned, InvoiceOcrError, NotAnInvoice

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.api.metrics import Metrics
    from app.api.workers import ExtractionPool, Job
    from extraction.reading import DocumentReader
    from extraction.schema import ExtractionResult
    from retrieval.service import InvoiceService
    from utils.settings import Settings

log = logging.getLogger("invoice_ocr.api")


class OcrResponse(BaseModel):
    """POST /ocr: the document as markdown text (compatible with the original service)."""

    text: str = Field(description="Markdown of the pages read, pages separated by '<!-- page N -->' markers.")
    pages: int = Field(description="Number of pages read.")
    engine: str = Field(description="The engine that read most pages.")
    engines: list[str] = Field(default_factory=list, description="Engine per page, in page order.")
    page_count: int = Field(description="Pages in the document.")
    filename: str
    sha256: str
    media_type: str
    page_markdown: list[str] = Field(default_factory=list, description="Markdown per page.")
    timings: dict[str, float] = Field(default_factory=dict)


def make_options(
    engine: str | None, pages: str | None, dpi: int | None = None, max_pages: int | None = None
) -> ExtractOptions:
    """Per-call options, checked before anything is queued (unknown engine, bad page range -> 400).

    Page ranges are checked by their bounds (against `max_pages` when given), never expanded.
    """
    options = ExtractOptions(engine=engine, pages=pages or None, dpi=dpi)
    if options.pages and max_pages is not None:
        check_page_limit(options.pages, max_pages)
    return options


class Extractor:
    """Runs extraction jobs in the pool, reading with the one reading unit; stores only through the write gate."""

    def __init__(
        self,
        settings: Settings,
        pool: ExtractionPool,
        metrics: Metrics,
        service: Callable[[], InvoiceService],
        reader: DocumentReader,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.metrics = metrics
        self._service = service
        self.reader = reader

    def read_invoices(
        self,
        data: bytes,
        filename: str,
        options: ExtractOptions,
        on_page: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], BaseException | None] | None = None,
        hints: Any = None,
    ) -> list[ExtractionResult]:
        """One result per invoice in the file, read by the reading unit within the time budget (no storing).

        `should_stop()` is asked while the document is read; an error it returns stops the reading and is raised.
        A vendor the history recognises has its pages parsed with its learned hints (`hints`: another lookup).
        """
        return self.reader.extract_invoices(
            data, filename, options, hints=hints or self._hints(), on_page=on_page, should_stop=should_stop
        )

    def _hints(self) -> Any:
        """The history's hints as a snapshot (plain data: the same in reader processes and in this one,
        and no database query per document), None while the history is starting."""
        try:
            service = self._service()
        except InvoiceOcrError:
            return None
        from retrieval.hints import snapshot

        return snapshot(service.hints)

    @staticmethod
    def stopper(job: Job) -> Callable[[], BaseException | None]:
        """What stops a job's reading besides its time budget (the reader's): its request gone (left, timed out)."""

        def should_stop() -> BaseException | None:
            if job.cancelled.is_set():
                return Abandoned("the request was abandoned; its reading was stopped and nothing was stored")
            return None

        return should_stop

    async def extract(
        self, data: bytes, filename: str, options: ExtractOptions, store: bool = True, enrich: bool = True
    ) -> list[ExtractionResult]:
        """One file -> one result per invoice it holds (usually one)."""
        return await self.pool.run(lambda job: self._extract_job(job, data, filename, options, store, enrich))

    async def extract_many(
        self, files: list[tuple[bytes, str]], options: ExtractOptions, store: bool = True, enrich: bool = True
    ) -> list[list[ExtractionResult]]:
        """Several files admitted to the queue together (all or Busy); results in file order."""
        jobs = [
            (lambda job, d=data, n=name: self._extract_job(job, d, n, options, store, enrich)) for data, name in files
        ]
        return await self.pool.run_many(jobs)

    def extract_sync(
        self,
        data: bytes,
        filename: str,
        options: ExtractOptions,
        on_page: Callable[[int, int], None] | None = None,
    ) -> list[ExtractionResult]:
        """Blocking extract-and-store for plain threads (the page's handlers), reporting each page read."""
        return self.pool.run_sync(
            lambda job: self._extract_job(
                job, data, filename, options, store=True, enrich=True, on_page=on_page, ocr_hint=False
            )
        )

    def reread_sync(
        self,
        invoice_id: int,
        options: ExtractOptions,
        who: str,
        on_page: Callable[[int, int], None] | None = None,
    ) -> Any:
        """Blocking: read a stored invoice's file again (another engine, say); its corrections and status stay."""
        from retrieval.reread import history_hints

        service = self._service()
        record = service.get_invoice(invoice_id)
        path, _media_type, filename = service.document_file(invoice_id)
        data = path.read_bytes()
        first = (record.result.page_range or [1])[0]

        def job_fn(job: Job) -> Any:
            try:
                hints = history_hints(service, invoice_id)  # not taught by its own review
                results = self._results(data, filename, options, on_page, False, self.stopper(job), hints)
            except InvoiceOcrError as exc:
                self._record_failure(job, filename, exc.code, options.engine)
                raise
            result = next((r for r in results if (r.page_range or [1])[0] == first), results[0])
            return job.commit(lambda: service.reread_invoice(invoice_id, result, who))

        return self.pool.run_sync(job_fn)

    async def ocr(self, data: bytes, filename: str, options: ExtractOptions) -> OcrResponse:
        """Markdown of the pages, without parsing or storing."""
        return await self.pool.run(lambda job: self._ocr_job(job, data, filename, options))

    def _ocr_job(self, job: Job, data: bytes, filename: str, options: ExtractOptions) -> OcrResponse:
        from extraction.markdown import render

        start = time.perf_counter()
        info, pages_md, timings = self.reader.read_pages(data, filename, options, should_stop=self.stopper(job))
        engines = [p.engine for p in pages_md]
        self.metrics.observe_document(engines, timings.get("ocr"))
        timings["total"] = round(time.perf_counter() - start, 4)
        return OcrResponse(
            text=render(pages_md),
            pages=len(pages_md),
            engine=Counter(engines).most_common(1)[0][0] if engines else "none",
            engines=engines,
            page_markdown=[p.to_markdown() for p in pages_md],
            timings=timings,
            **info,
        )

    def _extract_job(
        self,
        job: Job,
        data: bytes,
        filename: str,
        options: ExtractOptions,
        store: bool,
        enrich: bool,
        on_page: Callable[[int, int], None] | None = None,
        ocr_hint: bool = True,
    ) -> list[ExtractionResult]:
        try:
            results = self._results(data, filename, options, on_page, ocr_hint, self.stopper(job))
        except InvoiceOcrError as exc:
            self._record_failure(job, filename, exc.code, options.engine)
            raise
        if store:
            service = self._service()
            return [job.commit(lambda r=r: service.store_result(r, data, enrich=enrich)) for r in results]  # type: ignore[misc]  # mypy infers no lambda with a default (r=r)
        if enrich:
            service = self._service()
            for r in results:
                r.enrichment = service.enrich(r)
        return results

    def _results(
        self,
        data: bytes,
        filename: str,
        options: ExtractOptions,
        on_page: Callable[[int, int], None] | None,
        ocr_hint: bool,
        should_stop: Callable[[], BaseException | None] | None = None,
        hints: Any = None,
    ) -> list[ExtractionResult]:
        from extraction.pipeline import engines_used

        try:
            results = self.read_invoices(data, filename, options, on_page, should_stop, hints)
        except NotAnInvoice as exc:
            if not ocr_hint:
                raise
            raise NotAnInvoice(f"{exc.message}; POST /ocr returns the text") from exc
        self.metrics.observe_document(engines_used(results), results[0].timings.get("ocr"))
        return results

    def _record_failure(self, job: Job, filename: str, code: str, engine: str | None) -> None:
        try:
            service = self._service()
            job.commit(lambda: service.record_failure(filename, code, engine))
        except Exception:  # failure statistics must never hide the real error
            log.debug("could not record the failure of %s", filename, exc_info=True)
