"""Records the retrieval layer returns: search hits, vendor profiles, stored invoices."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from extraction.schema import ExtractionResult, Money

SearchMode = Literal["hybrid", "semantic", "keyword"]
# Deepest hit a search can page to (offset + limit): ranked lists are sized from it, so it bounds their memory.
MAX_RESULT_WINDOW = 1000


def check_result_window(offset: int, limit: int) -> None:
    """ValueError when a page of hits ends past MAX_RESULT_WINDOW."""
    if offset + limit > MAX_RESULT_WINDOW:
        raise ValueError(
            f"offset + limit is {offset + limit}: searches page through the best {MAX_RESULT_WINDOW} hits;"
            " narrow the query or the filters to see others"
        )


def _utc(value: dt.datetime) -> dt.datetime:
    # DuckDB hands back naive UTC timestamps; JSON date-times carry their offset.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


UtcDatetime = Annotated[dt.datetime, AfterValidator(_utc)]
ReviewStatus = Literal["new", "corrected", "approved"]


class SearchFilters(BaseModel):
    """Structured filters shared by search, listing and export."""

    vendor: str | None = Field(None, description="Vendor name (any spelling) or id.")
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    min_total: Money | None = None
    max_total: Money | None = None
    currency: str | None = Field(None, description="ISO 4217 code.")
    needs_review: bool | None = None


class SearchQuery(SearchFilters):
    """A search: text, mode, filters and paging."""

    q: str = ""
    mode: SearchMode = "hybrid"
    limit: int = Field(20, ge=1, le=200)
    offset: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _window(self) -> SearchQuery:
        check_result_window(self.offset, self.limit)
        return self


class SearchHit(BaseModel):
    """One invoice found by a search, with why it matched."""

    invoice_id: int
    score: float
    vendor: str | None = None
    invoice_number: str | None = None
    invoice_date: dt.date | None = None
    total: Money | None = None
    currency: str | None = None
    snippet: str = ""
    matched: list[str] = Field(default_factory=list, description="keyword, semantic, vendor, number, amount")


class SearchPage(BaseModel):
    """One page of a search: its hits and how many invoices match in all."""

    total: int = Field(description="Invoices matching the query and filters, over all pages.")
    hits: list[SearchHit] = Field(default_factory=list)
    message: str | None = Field(None, description="Said in words when no invoice matches.")


def no_match_message(q: str) -> str:
    """What a search says when nothing matches."""
    return f"No invoices match “{q.strip()}”." if q.strip() else "No invoices match these filters."


class MonthlySpend(BaseModel):
    """Spend of one vendor in one month and currency."""

    month: str = Field(description="YYYY-MM")
    currency: str | None = None
    total: Money
    count: int


class VendorConflict(BaseModel):
    """An identifier this vendor shares with another vendor: flagged for a person, never merged."""

    kind: str = Field(description="tax_id, iban or registration")
    key: str
    other_vendor_id: int
    other_vendor: str | None = None
    invoice_id: int | None = Field(None, description="The invoice that brought the identifier.")


class VendorProfile(BaseModel):
    """A canonical vendor with what its invoice history says about it."""

    id: int
    name: str
    aliases: list[str] = Field(default_factory=list)
    tax_id: str | None = None
    ibans: list[str] = Field(default_factory=list)
    identifiers: dict[str, list[str]] = Field(
        default_factory=dict, description="Identifiers it is recognised by: tax_id, iban, phone, email_domain, ..."
    )
    conflicts: list[VendorConflict] = Field(default_factory=list)
    invoice_count: int = 0
    spend: dict[str, Money] = Field(default_factory=dict, description="Total per currency.")
    spend_per_month: list[MonthlySpend] = Field(default_factory=list)
    first_date: dt.date | None = None
    last_date: dt.date | None = None
    typical_min: Money | None = None
    typical_max: Money | None = None
    usual_currency: str | None = None
    payment_terms: str | None = None
    score: float | None = Field(None, description="Lookup match score, best 1.0.")
    matched: str | None = Field(None, description="The name or alias the lookup matched.")


class InvoiceSummary(BaseModel):
    """One row of the invoice history."""

    id: int
    vendor_id: int | None = None
    vendor: str | None = None
    invoice_number: str | None = None
    invoice_date: dt.date | None = None
    due_date: dt.date | None = None
    total: Money | None = None
    currency: str | None = None
    needs_review: bool = False
    status: ReviewStatus = "new"
    filename: str | None = None
    sha256: str | None = None
    created_at: UtcDatetime | None = None


class Correction(BaseModel):
    """One audit-log entry: a field changed by a person."""

    field: str
    old: object = None
    new: object = None
    who: str
    at: UtcDatetime


class InvoiceRecord(InvoiceSummary):
    """A stored invoice: its summary, the full extraction, and its audit log."""

    result: ExtractionResult
    corrections: list[Correction] = Field(default_factory=list)


class InvoicePage(BaseModel):
    """A page of invoices."""

    items: list[InvoiceSummary]
    total: int
    limit: int
    offset: int


class VendorSummary(BaseModel):
    """One row of the vendor list."""

    id: int
    name: str
    aliases: list[str] = Field(default_factory=list)
    invoice_count: int = 0
    conflicts: int = Field(0, description="Identifiers shared with another vendor.")


class VendorPage(BaseModel):
    """A page of vendors, by name."""

    items: list[VendorSummary]
    total: int
    limit: int
    offset: int


class VendorEvent(BaseModel):
    """One vendor audit-log entry: a rename, merge, or an invoice moved by a correction."""

    action: str
    vendor_id: int | None = None
    other_vendor_id: int | None = None
    invoice_id: int | None = None
    detail: dict = Field(default_factory=dict)
    who: str
    at: UtcDatetime
