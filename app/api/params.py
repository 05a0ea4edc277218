"""Query-parameter models of the API: the retrieval filters with the bounds HTTP input needs."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BeforeValidator, Field, model_validator

from retrieval.models import MAX_RESULT_WINDOW, SearchFilters, SearchMode, SearchQuery, check_result_window

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_OFFSET = 10**9


def _iso_date(value: object) -> object:
    # Only YYYY-MM-DD: numbers (epoch seconds) and other spellings are refused, not guessed.
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("use a date as YYYY-MM-DD")
    if isinstance(value, (int, float)):
        raise ValueError("use a date as YYYY-MM-DD")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


class FilterParams(SearchFilters):
    """Structured filters shared by /search, /invoices and /export."""

    vendor: str | None = Field(None, max_length=200, description="Vendor name (any spelling) or id.")
    date_from: IsoDate | None = Field(None, description="Invoice date on or after (YYYY-MM-DD).")
    date_to: IsoDate | None = Field(None, description="Invoice date on or before (YYYY-MM-DD).")
    currency: str | None = Field(None, pattern=r"^[A-Za-z]{3}$", description="ISO 4217 code.")

    def filters(self) -> SearchFilters:
        """The retrieval layer's filter object."""
        return SearchFilters(**self.model_dump(include=set(SearchFilters.model_fields)))


class SearchParams(FilterParams):
    """A search: text, mode, filters and paging."""

    q: str = Field("", max_length=1000, description="Words, a vendor, an invoice number or an amount.")
    mode: SearchMode = "hybrid"
    limit: int = Field(20, ge=1, le=200)
    offset: int = Field(0, ge=0, description=f"Hits to skip; offset + limit is at most {MAX_RESULT_WINDOW}.")
    with_total: bool = Field(False, description='Answer {"total", "hits", "message"} instead of the list of hits.')

    @model_validator(mode="after")
    def _window(self) -> SearchParams:
        check_result_window(self.offset, self.limit)
        return self

    def query(self) -> SearchQuery:
        """The retrieval layer's query object."""
        return SearchQuery(**self.model_dump(exclude={"with_total"}))
