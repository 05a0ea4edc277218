"""Page images of stored documents, rendered once and kept in a small cache."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from app.ui.drawing import placeholder
from app.ui.viewer import viewer_html

if TYPE_CHECKING:
    from PIL import Image

    from retrieval.models import InvoiceRecord
    from retrieval.service import InvoiceService
    from utils.settings import Settings

VIEW_DPI = 120
_CACHE_SIZE = 48
_cache: OrderedDict[tuple[str, int], Image.Image] = OrderedDict()
_words: OrderedDict[tuple[str, int], list[tuple[float, float, float, float, str]]] = OrderedDict()
_lock = threading.Lock()


def page_numbers(record: InvoiceRecord) -> list[int]:
    """The file's page numbers this invoice spans (all pages unless the file held several invoices)."""
    result = record.result
    if result.page_range and len(result.page_range) == 2:
        first, last = result.page_range
        return list(range(first, last + 1))
    count = result.document.page_count or len(result.pages) or 1
    return list(range(1, count + 1))


def _render(service: InvoiceService, settings: Settings, record: InvoiceRecord, page: int) -> Image.Image:
    from extraction.documents import MEDIA_XML, load_document

    if record.result.document.media_type == MEDIA_XML:
        return placeholder("E-invoice XML: no page image")
    path, _media_type, filename = service.document_file(record.id)
    document = load_document(path.read_bytes(), filename, settings)
    try:
        if page > document.page_count:
            return placeholder(f"Page {page} is not in this document")
        return document.pages[page - 1].render(VIEW_DPI)
    finally:
        document.close()


def page_image(service: InvoiceService, settings: Settings, record: InvoiceRecord, page: int) -> Image.Image:
    """The page picture without boxes (cached by document and page)."""
    key = (record.result.document.sha256, page)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    image = _render(service, settings, record, page)
    with _lock:
        _cache[key] = image
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return image


def page_words(
    service: InvoiceService, settings: Settings, record: InvoiceRecord, page: int
) -> list[tuple[float, float, float, float, str]]:
    """The words of a PDF page's text layer with their boxes in 0..1 page units (none for pictures and XML)."""
    from extraction.documents import MEDIA_XML, load_document

    key = (record.result.document.sha256, page)
    with _lock:
        if key in _words:
            return _words[key]
    words: list[tuple[float, float, float, float, str]] = []
    if record.result.document.media_type != MEDIA_XML:
        path, _media_type, filename = service.document_file(record.id)
        document = load_document(path.read_bytes(), filename, settings)
        try:
            if document.pdf is not None and page <= document.page_count:
                info = document.pages[page - 1]
                with document.lock:
                    raw = document.pdf[page - 1].get_text("words")
                words = [
                    (w[0] / info.width, w[1] / info.height, w[2] / info.width, w[3] / info.height, str(w[4]))
                    for w in raw[:3000]
                ]
        finally:
            document.close()
    with _lock:
        _words[key] = words
        while len(_words) > _CACHE_SIZE:
            _words.popitem(last=False)
    return words


def page_viewer(
    service: InvoiceService, settings: Settings, record: InvoiceRecord, page: int, highlight: str | None = None
) -> str:
    """The viewer's HTML for one page: the picture, a thin box on each value, its words; a note why boxes lack."""
    from extraction.documents import MEDIA_XML
    from utils.errors import InvoiceOcrError

    result = record.result
    exact = any(p.engine == "einvoice" for p in result.pages)
    if result.document.media_type == MEDIA_XML:
        message = "E-invoice XML file: there is no page to show. Its values were read exactly from the XML."
        return viewer_html(None, {}, page, [], message=message, note="e-invoice XML: exact values")
    try:
        image = page_image(service, settings, record, page)
        words = page_words(service, settings, record, page)
    except InvoiceOcrError as exc:
        return viewer_html(None, {}, page, [], message=exc.message[:200])
    note = "Read from the e-invoice XML inside this PDF: values are exact, so no boxes are drawn." if exact else ""
    if not exact and not any(i.page == page and i.bbox for i in result.fields.values()):
        note = "No value was read from this page."
    return viewer_html(image, result.fields, page, words, highlight, settings.low_confidence, note=note)
