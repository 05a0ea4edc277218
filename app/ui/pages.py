"""Page images of stored documents, rendered once and kept in a small cache."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

from app.ui.drawing import draw_fields, placeholder

if TYPE_CHECKING:
    from PIL import Image

    from retrieval.models import InvoiceRecord
    from retrieval.service import InvoiceService
    from utils.settings import Settings

VIEW_DPI = 120
_CACHE_SIZE = 48
_cache: OrderedDict[tuple[str, int], Image.Image] = OrderedDict()
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


def annotated_page(
    service: InvoiceService, settings: Settings, record: InvoiceRecord, page: int, highlight: str | None = None
) -> Image.Image:
    """The page picture with every extracted field on it boxed and labelled."""
    from utils.errors import InvoiceOcrError

    try:
        image = page_image(service, settings, record, page)
    except InvoiceOcrError as exc:
        return placeholder(exc.message[:80])
    return draw_fields(image, record.result.fields, page, settings.low_confidence, highlight)
