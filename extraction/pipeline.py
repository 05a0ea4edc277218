"""The extract() pipeline: bytes in, validated ExtractionResult out."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

from extraction.documents import load_document
from extraction.engines.registry import require_engine
from extraction.markdown import render
from extraction.options import ExtractOptions, parse_page_ranges
from extraction.schema import DocumentInfo, ExtractionResult, PageInfo
from utils.settings import Settings, get_settings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from extraction.documents import Document
    from extraction.markdown import PageMarkdown


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = round(timings.get(stage, 0.0) + time.perf_counter() - start, 4)


def read_pages(
    document: Document, options: ExtractOptions, settings: Settings, timings: dict[str, float]
) -> list[PageMarkdown]:
    """OCR (or read) the selected pages of a loaded document with the chosen engine."""
    from extraction.engines.auto import fallback_failed_pages

    numbers = (
        parse_page_ranges(options.pages, document.page_count) if options.pages else [p.number for p in document.pages]
    )
    pages = [document.pages[n - 1] for n in numbers]
    engine = require_engine(options.engine or settings.engine, settings)
    engine_options = engine.options_model(dpi=options.dpi or settings.dpi)
    with _timed(timings, "ocr"):
        pages_md = engine.recognize(document, pages, engine_options)
    if any(p.failure for p in pages_md):
        with _timed(timings, "ocr_fallback"):
            pages_md = fallback_failed_pages(document, pages_md, engine_options, settings)
    return pages_md


def result_from_pages(
    document: Document, pages_md: list[PageMarkdown], settings: Settings, timings: dict[str, float]
) -> ExtractionResult:
    """Parse and validate pages already read into one ExtractionResult."""
    from extraction.parser import parse_invoice
    from extraction.validate import validate

    with _timed(timings, "parse"):
        parsed = parse_invoice(pages_md)
    with _timed(timings, "validate"):
        validation = validate(parsed.invoice, parsed.fields, parsed.reasons, settings.low_confidence)
    page_infos = [
        PageInfo(
            number=p.number, engine=p.engine, markdown=p.to_markdown(), width=p.width, height=p.height, notes=p.notes
        )
        for p in pages_md
    ]
    return ExtractionResult(
        document=DocumentInfo(
            sha256=document.sha256,
            filename=document.filename,
            media_type=document.media_type,
            page_count=document.page_count,
        ),
        invoice=parsed.invoice,
        fields=parsed.fields,
        validation=validation,
        pages=page_infos,
        markdown=render(pages_md),
        timings=timings,
    )


def extract(
    data: bytes, filename: str, options: ExtractOptions | None = None, settings: Settings | None = None
) -> ExtractionResult:
    """Read one document and return its validated invoice; bad input raises an InvoiceOcrError."""
    settings = settings or get_settings()
    options = options or ExtractOptions()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    with _timed(timings, "load"):
        document = load_document(data, filename, settings)
    try:
        pages_md = read_pages(document, options, settings, timings)
        result = result_from_pages(document, pages_md, settings, timings)
    finally:
        document.close()
    result.timings["total"] = round(time.perf_counter() - start, 4)
    return result
