"""Per-call extraction options (separate from service-wide settings)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from extraction.engines.registry import EngineName
from utils.errors import InvalidRequest

MAX_PAGES_SPEC = 200  # characters in a page selection


class ExtractOptions(BaseModel):
    """Options one extraction call may set."""

    engine: EngineName | None = Field(
        None, description="Engine name (UnknownEngine lists the known ones); None means the configured default."
    )
    dpi: int | None = Field(None, ge=50, le=600, description="Rasterization DPI for OCR pages.")
    pages: str | None = Field(None, max_length=MAX_PAGES_SPEC, description="Page selection such as '1-3,7' (1-based).")

    @field_validator("pages")
    @classmethod
    def _check_pages(cls, value: str | None) -> str | None:
        if value is not None:
            page_spans(value)
        return value


def page_spans(spec: str) -> list[tuple[int, int]]:
    """The (first, last) ranges of a selection like '1-3,7', checked by their bounds alone (never expanded)."""
    spans = []
    for part in spec.replace(" ", "").split(","):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        if not lo.isascii() or not lo.isdigit() or (sep and not (hi.isascii() and hi.isdigit())):
            raise InvalidRequest(f"bad page range {part[:40]!r}: use forms like '1-3,7'")
        first, last = int(lo), int(hi) if sep else int(lo)
        if first < 1 or last < first:
            raise InvalidRequest(f"bad page range {part[:40]!r}: pages start at 1 and ranges go up")
        spans.append((first, last))
    return spans


def check_page_limit(spec: str, max_pages: int) -> None:
    """InvalidRequest when a range starts past the most pages a document may have."""
    for first, _last in page_spans(spec):
        if first > max_pages:
            raise InvalidRequest(f"page {first} is past the limit of {max_pages} pages per document")


def parse_page_ranges(spec: str, page_count: int) -> list[int]:
    """1-based page numbers from '1-3,7', in the order given; pages past the end are dropped; bad syntax raises."""
    pages: dict[int, None] = {}
    for first, last in page_spans(spec):
        pages.update(dict.fromkeys(range(first, min(last, page_count) + 1)))
    if not pages and page_count:
        raise InvalidRequest(f"page selection {spec!r} selects no page of {page_count}")
    return list(pages)
