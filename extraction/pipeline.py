"""The extract() pipeline: bytes in, validated ExtractionResult out."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

from extraction.documents import load_document
from extraction.engines.registry import cpu_raster_engine, get_engine, require_engine
from extraction.markdown import render
from extraction.options import ExtractOptions, parse_page_ranges
from extraction.schema import (
    MAX_TEXT_CHARS,
    DocumentInfo,
    ExtractionResult,
    FieldInfo,
    Invoice,
    PageInfo,
    check_amounts,
    clip_texts,
    long_texts,
)
from utils.errors import InvoiceOcrError, NotAnInvoice
from utils.settings import Settings, get_settings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from extraction.documents import Document
    from extraction.engines.base import EngineOptions
    from extraction.hints import HintsLookup, VendorHints
    from extraction.markdown import PageMarkdown
    from extraction.parser import ParsedInvoice

    Hints = VendorHints | HintsLookup


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = round(timings.get(stage, 0.0) + time.perf_counter() - start, 4)


def read_pages(
    document: Document,
    options: ExtractOptions,
    settings: Settings,
    timings: dict[str, float],
    on_page: Callable[[int, int], None] | None = None,
) -> list[PageMarkdown]:
    """OCR (or read) the selected pages of a loaded document with the chosen engine.

    With `on_page(done, count)` the pages are read one at a time so progress can be shown;
    without it they go to the engine as one batch.
    """
    numbers = (
        parse_page_ranges(options.pages, document.page_count) if options.pages else [p.number for p in document.pages]
    )
    pages = [document.pages[n - 1] for n in numbers]
    engine = require_engine(options.engine or settings.engine, settings)
    engine_options = engine.call_options(dpi=options.dpi)
    with _timed(timings, "ocr"):
        if on_page is None:
            pages_md = engine.recognize(document, pages, engine_options)
        else:
            pages_md = []
            for done, page in enumerate(pages):
                on_page(done, len(pages))
                pages_md.extend(engine.recognize(document, [page], engine_options))
            on_page(len(pages), len(pages))
    if any(p.failure for p in pages_md):
        with _timed(timings, "ocr_fallback"):
            pages_md = fallback_failed_pages(document, pages_md, engine_options, settings)
    return pages_md


def fallback_failed_pages(
    document: Document, pages_md: list[PageMarkdown], options: EngineOptions, settings: Settings
) -> list[PageMarkdown]:
    """The fallback policy: pages an engine marked with `failure` are read again on the CPU, in place order.

    Engines only report what failed (a loop, a timeout, a model that would not load, a server that is down);
    here each such page goes to the best available CPU raster engine other than the one that failed
    (INVOICE_OCR_RASTER_ENGINE first), at the same dpi, and its notes say what failed and who re-read it. A page
    no engine can re-read keeps its failure and a note saying so.
    """
    failed = [i for i, md in enumerate(pages_md) if md.failure]
    if not failed:
        return pages_md
    out = list(pages_md)
    by_engine: dict[str, list[int]] = {}
    for i in failed:
        name = cpu_raster_engine(settings, exclude=pages_md[i].engine)
        if name is None:
            out[i].notes.append(
                f"{pages_md[i].engine} output unusable ({pages_md[i].failure}); no CPU engine to re-read"
            )
            continue
        by_engine.setdefault(name, []).append(i)
    for name, indexes in by_engine.items():
        engine = get_engine(name, settings)
        pages = [document.pages[pages_md[i].number - 1] for i in indexes]
        try:
            reread = engine.recognize(document, pages, engine.own_options(options))
        except InvoiceOcrError as exc:
            for i in indexes:
                out[i].notes.append(f"re-reading with {name} failed too: {exc}")
            continue
        for i, md in zip(indexes, reread, strict=True):
            old = pages_md[i]
            md.notes = [*old.notes, f"{old.engine} output unusable ({old.failure}); re-read with {name}", *md.notes]
            md.failure = None
            out[i] = md
    return out


def bounded(parsed: ParsedInvoice) -> tuple[ParsedInvoice, list[str]]:
    """The parsed invoice with every text field cut to MAX_TEXT_CHARS (a reason for each), and the fields cut."""
    from extraction.parser import ParsedInvoice

    data = parsed.invoice.model_dump(mode="json")
    long = long_texts(data)
    if not long:
        return parsed, []
    fields = {
        name: info.model_copy(update={"value": clip_texts(info.value), "source": clip_texts(info.source)})
        for name, info in parsed.fields.items()
    }
    reasons = [f"{path} was longer than {MAX_TEXT_CHARS} characters and was cut" for path in long]
    return ParsedInvoice(Invoice.model_validate(clip_texts(data)), fields, [*parsed.reasons, *reasons]), long


def parse_with_hints(
    pages_md: list[PageMarkdown], hints: Hints | None = None
) -> tuple[ParsedInvoice, VendorHints | None]:
    """Parse pages with a vendor's hints: given as a value, or found by a lookup before or after parsing.

    A lookup is asked first with the pages alone (identifiers printed on them); when that finds nothing
    it is asked again with the invoice parsed without hints, and a vendor it then recognises gets the
    same pages parsed again with its hints (the pages are not read twice).
    """
    from extraction.hints import VendorHints
    from extraction.parser import parse_invoice

    used = hints if hints is None or isinstance(hints, VendorHints) else hints(pages_md, None)
    parsed = parse_invoice(pages_md, used)
    if used is None and hints is not None and not isinstance(hints, VendorHints):
        used = hints(pages_md, parsed.invoice)
        if used is not None:
            parsed = parse_invoice(pages_md, used)
    return parsed, used


def hinted(parsed: ParsedInvoice, hints: VendorHints | None) -> ParsedInvoice:
    """The parsed invoice with a reason and a `vendor_hints` provenance entry saying which hints it was read with."""
    if hints is None:
        return parsed
    fields = dict(parsed.fields)
    fields["vendor_hints"] = FieldInfo(
        value={
            "vendor": hints.name,
            "vendor_id": hints.vendor_id,
            "documents": hints.documents,
            "matched_by": hints.matched_by,
        },
        confidence=max(0.0, min(1.0, hints.match_confidence)),
        source=hints.describe(),
    )
    return replace(parsed, fields=fields, reasons=[*parsed.reasons, hints.describe()])


def result_from_pages(
    document: Document,
    pages_md: list[PageMarkdown],
    settings: Settings,
    timings: dict[str, float],
    hints: Hints | None = None,
) -> ExtractionResult:
    """Parse (with a known vendor's hints when given) and validate pages already read into one ExtractionResult."""
    from extraction.validate import validate

    with _timed(timings, "parse"):
        parsed, used = parse_with_hints(pages_md, hints)
        parsed, cut = bounded(hinted(parsed, used))
    with _timed(timings, "validate"):
        validation = validate(parsed.invoice, parsed.fields, parsed.reasons, settings.low_confidence)
        validation.needs_review = validation.needs_review or bool(cut)
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
    data: bytes,
    filename: str,
    options: ExtractOptions | None = None,
    settings: Settings | None = None,
    hints: Hints | None = None,
) -> ExtractionResult:
    """Read one document and return its validated invoice; bad input raises an InvoiceOcrError.

    `hints`: a known vendor's VendorHints, or a HintsLookup that finds them (see parse_with_hints).
    """
    settings = settings or get_settings()
    options = options or ExtractOptions()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    with _timed(timings, "load"):
        document = load_document(data, filename, settings)
    try:
        pages_md = read_pages(document, options, settings, timings)
        result = result_from_pages(document, pages_md, settings, timings, hints)
    finally:
        document.close()
    result.timings["total"] = round(time.perf_counter() - start, 4)
    return result


def extract_invoices(
    data: bytes,
    filename: str,
    options: ExtractOptions | None = None,
    settings: Settings | None = None,
    on_page: Callable[[int, int], None] | None = None,
    hints: Hints | None = None,
) -> list[ExtractionResult]:
    """One result per invoice the file holds (a PDF may hold several, each with its page range).

    `hints` as in extract(); a lookup is asked per invoice, each having its own vendor.

    Raises NotAnInvoice when nothing invoice-like was read, so nothing meaningless gets stored.
    """
    from extraction.split import looks_like_invoice, split_invoices

    settings = settings or get_settings()
    options = options or ExtractOptions()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    with _timed(timings, "load"):
        document = load_document(data, filename, settings)
    try:
        pages_md = read_pages(document, options, settings, timings, on_page)
        with _timed(timings, "split"):
            groups = split_invoices(pages_md)
        results = []
        for group in groups:
            result = result_from_pages(document, group, settings, dict(timings), hints)
            if len(groups) > 1:
                result.page_range = [group[0].number, group[-1].number]
            results.append(result)
    finally:
        document.close()
    total = round(time.perf_counter() - start, 4)
    for result in results:
        result.timings["total"] = total
    if not any(looks_like_invoice(r.invoice) for r in results):
        raise NotAnInvoice(f"{filename}: no invoice found (no invoice number, amount or priced line was read)")
    for result in results:
        check_amounts(result.invoice, filename)
    return results


def engines_used(results: list[ExtractionResult]) -> list[str]:
    """The engine of every page read for these results, in page order."""
    return [page.engine for result in results for page in result.pages]
