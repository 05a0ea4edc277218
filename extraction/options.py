"""Per-call extraction options (separate from service-wide settings)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from utils.errors import InvalidRequest


class ExtractOptions(BaseModel):
    """Options one extraction call may set."""

    engine: str | None = Field(None, description="Engine name; None means the configured default.")
    dpi: int | None = Field(None, ge=50, le=600, description="Rasterization DPI for OCR pages.")
    pages: str | None = Field(None, description="Page selection such as '1-3,7' (1-based).")

    @field_validator("pages")
    @classmethod
    def _check_pages(cls, value: str | None) -> str | None:
        if value is not None:
            parse_page_ranges(value, 10**9)
        return value


def parse_page_ranges(spec: str, page_count: int) -> list[int]:
    """1-based page numbers from '1-3,7'; pages past the end are dropped; bad syntax raises."""
    pages: list[int] = []
    for part in spec.replace(" ", "").split(","):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise InvalidRequest(f"bad page range {part!r}: use forms like '1-3,7'")
        first, last = int(lo), int(hi) if sep else int(lo)
        if first < 1 or last < first:
            raise InvalidRequest(f"bad page range {part!r}: pages start at 1 and ranges go up")
        pages.extend(p for p in range(first, min(last, page_count) + 1) if p not in pages)
    if not pages and page_count:
        raise InvalidRequest(f"page selection {spec!r} selects no page of {page_count}")
    return pages
