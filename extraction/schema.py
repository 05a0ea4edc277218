"""The Invoice and ExtractionResult models: the JSON contract of DESIGN.md."""

from __future__ import annotations

import datetime as dt
from decimal import Context, Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

from utils.errors import AmountOutOfRange
from utils.money import exponent


def _decimal_to_json(value: Decimal) -> float | int:
    # A JSON number; float repr round-trips the decimal text for money-sized values.
    return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)


def _plain_decimal(value: Decimal) -> Decimal:
    # "1.5E+3" keeps its exponent in a Decimal, and a database DECIMAL column reads that as 15.0 (the digits
    # without the exponent): written out as 1500 it means the same in the JSON and in every column.
    if value.is_finite() and exponent(value) > 0 and value.adjusted() < _PLAIN_DIGITS:
        return value.quantize(Decimal(1), context=Context(prec=_PLAIN_DIGITS + 2))
    return value


_PLAIN_DIGITS = 40  # larger values are left as they are: no history column holds them, they are refused
Money = Annotated[
    Decimal, AfterValidator(_plain_decimal), PlainSerializer(_decimal_to_json, return_type=float, when_used="json")
]

# What the history's DECIMAL(18, 4) amount columns and DECIMAL(9, 4) rate column hold (4 decimal places).
MAX_AMOUNT = Decimal(10) ** 14
MAX_RATE = Decimal(10) ** 5
_FOUR_PLACES = Decimal("0.0001")


# The longest text an invoice field keeps (names, addresses, numbers, terms, line descriptions): longer ones
# are cut when read from a document and refused in a correction, so no later step meets a 300 kB name.
MAX_TEXT_CHARS = 1000


class Party(BaseModel):
    """A vendor or a customer."""

    name: str | None = None
    address: str | None = None
    tax_id: str | None = None
    iban: str | None = None
    email: str | None = None
    phone: str | None = None


class TaxLine(BaseModel):
    """One tax rate with its base and amount."""

    rate: Money | None = Field(None, description="Percent, e.g. 19 for 19%.")
    base: Money | None = None
    amount: Money | None = None


class LineItem(BaseModel):
    """One billed line."""

    description: str | None = None
    quantity: Money | None = None
    unit_price: Money | None = None
    amount: Money | None = None
    tax_rate: Money | None = None


class Invoice(BaseModel):
    """The structured invoice; a field not found is None, never a default."""

    vendor: Party = Field(default_factory=Party)
    customer: Party = Field(default_factory=Party)
    invoice_number: str | None = None
    invoice_date: dt.date | None = None
    due_date: dt.date | None = None
    purchase_order: str | None = None
    currency: str | None = Field(None, description="ISO 4217 code.")
    subtotal: Money | None = None
    tax_total: Money | None = None
    total: Money | None = None
    amount_due: Money | None = None
    tax_lines: list[TaxLine] = Field(default_factory=list)
    line_items: list[LineItem] = Field(default_factory=list)
    payment_terms: str | None = None


def long_texts(value: Any, limit: int = MAX_TEXT_CHARS, path: str = "") -> list[str]:
    """Dotted paths of the strings longer than `limit` inside a JSON-like value (dicts, lists, strings)."""
    if isinstance(value, str):
        return [path] if len(value) > limit else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in long_texts(v, limit, f"{path}.{k}" if path else str(k))]
    if isinstance(value, (list, tuple)):
        return [p for n, v in enumerate(value) for p in long_texts(v, limit, f"{path}.{n}" if path else str(n))]
    return []


def _out_of_range(value: Decimal | None, limit: Decimal) -> bool:
    if value is None:
        return False
    # Rounded to the column's 4 places, 99999999999999.99999 becomes 10**14: out of range as well.
    return not value.is_finite() or abs(value) >= limit or abs(value.quantize(_FOUR_PLACES)) >= limit


def amounts_out_of_range(invoice: Invoice) -> list[str]:
    """Dotted paths of the amounts the invoice history cannot hold (|amount| >= 10**14, line tax rate >= 10**5)."""
    totals = ("subtotal", "tax_total", "total", "amount_due")
    paths = [f for f in totals if _out_of_range(getattr(invoice, f), MAX_AMOUNT)]
    for n, item in enumerate(invoice.line_items):
        for name in ("quantity", "unit_price", "amount"):
            if _out_of_range(getattr(item, name), MAX_AMOUNT):
                paths.append(f"line_items.{n}.{name}")
        if _out_of_range(item.tax_rate, MAX_RATE):
            paths.append(f"line_items.{n}.tax_rate")
    return paths


def check_amounts(invoice: Invoice, what: str) -> None:
    """AmountOutOfRange naming the amounts of `what` (a file, a correction) that the history cannot hold."""
    paths = amounts_out_of_range(invoice)
    if paths:
        raise AmountOutOfRange(
            f"{what}: {', '.join(paths)} out of range (amounts must stay below {MAX_AMOUNT:,.0f} in size,"
            f" line tax rates below {MAX_RATE:,.0f})"
        )


def clip_texts(value: Any, limit: int = MAX_TEXT_CHARS) -> Any:
    """A JSON-like value with every string cut to `limit` characters."""
    if isinstance(value, str):
        return value[:limit]
    if isinstance(value, dict):
        return {k: clip_texts(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clip_texts(v, limit) for v in value]
    return value


class FieldInfo(BaseModel):
    """Where one field's value came from and how sure the parser is."""

    value: Any = None
    confidence: float = Field(0.0, ge=0.0, le=1.0)
    page: int | None = None
    bbox: list[float] | None = Field(None, description="[x0, y0, x1, y1] in 0..1 page units.")
    source: str | None = Field(None, description="The text the value was read from.")


class Check(BaseModel):
    """One validation check."""

    name: str
    passed: bool
    detail: str = ""


class Validation(BaseModel):
    """All checks, and whether a person should look at the invoice."""

    checks: list[Check] = Field(default_factory=list)
    needs_review: bool = False
    reasons: list[str] = Field(default_factory=list)


class DocumentInfo(BaseModel):
    """The input file."""

    sha256: str
    filename: str
    media_type: str
    page_count: int


class PageInfo(BaseModel):
    """One page as read by one engine."""

    number: int
    engine: str
    markdown: str
    width: float
    height: float
    notes: list[str] = Field(default_factory=list, description="Fallbacks and retries on this page.")


class ExtractionResult(BaseModel):
    """One document's extraction, validation and (when stored) enrichment."""

    model_config = ConfigDict(ser_json_inf_nan="null")

    document: DocumentInfo
    invoice: Invoice
    fields: dict[str, FieldInfo] = Field(default_factory=dict)
    validation: Validation = Field(default_factory=Validation)
    pages: list[PageInfo] = Field(default_factory=list)
    markdown: str = ""
    enrichment: dict[str, Any] | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    invoice_id: int | None = Field(None, description="Id in the invoice history once stored.")
    page_range: list[int] | None = Field(None, description="[first, last] page when a file held several invoices.")
