"""`auto`: per page, the best engine available for that page.

A GPU engine that fails on a page (a model that will not load, out of memory, a loop, a timeout, a server
that refuses or is down) leaves the page marked with `failure`; the pipeline's fallback policy
(`extraction.pipeline.fallback_failed_pages`) reads it again on the CPU. A configured GPU engine that cannot
run at all is noted on each page the CPU engines read instead.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar

from extraction.engines import registry
from extraction.engines.base import Availability, EngineOptions, OcrEngine
from extraction.engines.einvoice import parse_einvoice
from extraction.engines.registry import cpu_raster_engine, get_engine, is_available
from extraction.markdown import PageMarkdown
from utils.engine_options import AutoOptions
from utils.errors import InvoiceOcrError

if TYPE_CHECKING:
    from extraction.documents import Document, Page
    from utils.settings import Settings

log = logging.getLogger(__name__)


def skipped_notes(settings: Settings, chosen: str) -> list[str]:
    """Why each configured GPU engine ranked above `chosen` did not read the page (a failed load, no server)."""
    notes = []
    for name in registry.GPU_ENGINES:
        if name == chosen:
            break
        try:
            engine = get_engine(name, settings)
            availability = engine.available() if engine.configured() else None
        except Exception as exc:  # a broken engine module is reported like an unavailable engine
            availability = Availability(False, f"{type(exc).__name__}: {exc}")
        if availability is not None and not availability:
            notes.append(f"{name} not used: {availability.reason}")
    return notes


def raster_engine(settings: Settings) -> str | None:
    """The best available engine for a page without text: DeepSeek, then vLLM, then the CPU engines."""
    for name in registry.GPU_ENGINES:
        if is_available(name, settings):
            return name
    return cpu_raster_engine(settings)


def xml_readable(document: Document) -> bool:
    """Whether the document carries e-invoice XML that parses."""
    if document.xml is None:
        return False
    try:
        parse_einvoice(document.xml)
    except InvoiceOcrError as exc:
        log.warning("e-invoice XML of %s unreadable: %s", document.filename, exc)
        return False
    return True


class AutoEngine(OcrEngine):
    """Chooses per page: e-invoice XML, then the PDF text layer, then the best raster engine available."""

    name: ClassVar[str] = "auto"
    description: ClassVar[str] = "Per page the best engine available: e-invoice XML, text layer, DeepSeek, CPU OCR."
    # Pages are rasterized only by the raster engines this engine hands them to.
    options_model: ClassVar[type[EngineOptions]] = AutoOptions
    needs_raster: ClassVar[bool] = False

    def available(self) -> Availability:
        """Always available: the text layer needs nothing; raster pages need a raster engine (checked per page)."""
        return Availability(True)

    def choose(self, document: Document, page: Page, xml_ok: bool | None = None) -> str:
        """The engine name for one page (`xml_ok`: whether the document's e-invoice XML reads)."""
        if xml_ok is None:
            xml_ok = xml_readable(document)
        if xml_ok and page.number == 1:
            return "einvoice"
        textlayer = get_engine("textlayer", self.settings)
        if document.pdf is not None and textlayer.accepts(document, page):
            return "textlayer"
        if xml_ok:
            # An image-only page of an e-invoice: the XML already carries the data, so no OCR is spent on it.
            return "einvoice"
        # With no raster engine available, the configured one reports why when asked to read.
        return raster_engine(self.settings) or self.settings.raster_engine

    def recognize(self, document: Document, pages: list[Page], options: EngineOptions) -> list[PageMarkdown]:
        """Read each page with its chosen engine (one batch per engine), in page order; failed pages stay marked."""
        xml_ok = xml_readable(document)
        if document.xml is not None and not xml_ok and document.pdf is None and not document.frames:
            parse_einvoice(document.xml)  # a bare XML file that does not parse: raise its reason
        plan: dict[str, list[int]] = {}
        for index, page in enumerate(pages):
            plan.setdefault(self.choose(document, page, xml_ok), []).append(index)
        results: list[PageMarkdown | None] = [None] * len(pages)
        for name, indexes in plan.items():
            batch = [pages[i] for i in indexes]
            raster = (*registry.GPU_ENGINES, *registry.CPU_RASTER_ENGINES)
            skipped = skipped_notes(self.settings, name) if name in raster else []
            for i, md in zip(indexes, self._read(name, document, batch, options), strict=True):
                md.notes[:0] = skipped
                results[i] = md
        out = [md for md in results if md is not None]
        if document.xml is not None and not xml_ok:
            for md in out:
                if md.number == 1:
                    md.notes.insert(0, "the e-invoice XML could not be read; page read from its content")
        return out

    def _read(self, name: str, document: Document, batch: list[Page], options: EngineOptions) -> list[PageMarkdown]:
        engine = get_engine(name, self.settings)
        try:
            return engine.recognize(document, batch, engine.own_options(options))
        except Exception as exc:
            if not isinstance(exc, InvoiceOcrError) and name not in registry.GPU_ENGINES:
                raise  # a bug in a CPU engine is not hidden behind another engine
            if name in registry.CPU_RASTER_ENGINES and cpu_raster_engine(self.settings, exclude=name) is None:
                raise
            reason = exc.message if isinstance(exc, InvoiceOcrError) else f"{type(exc).__name__}: {exc}"
            log.warning(
                "engine %s failed on %s: %s",
                name,
                document.filename,
                reason,
                exc_info=not isinstance(exc, InvoiceOcrError),
            )
            # Marked as failed: the pipeline's fallback policy reads them again with a CPU engine.
            return [
                PageMarkdown(p.number, name, p.width, p.height, notes=[f"{name} failed: {reason}"], failure=reason)
                for p in batch
            ]
