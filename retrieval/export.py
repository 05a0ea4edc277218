"""Export of the invoice history as CSV or JSON lines, streamed in chunks."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from retrieval.enrich import _jsonable
from retrieval.repository import invoices as sql
from retrieval.repository.search import filter_sql
from utils.dotted import set_path
from utils.errors import InvalidRequest

if TYPE_CHECKING:
    from retrieval.models import SearchFilters
    from retrieval.repository.database import Store
    from retrieval.vendors import VendorResolver

CSV_COLUMNS = [
    "id", "filename", "sha256", "vendor_id", "vendor", "vendor_tax_id", "vendor_iban", "customer",
    "invoice_number", "invoice_date", "due_date", "purchase_order", "currency", "subtotal", "tax_total",
    "total", "amount_due", "payment_terms", "line_items", "needs_review", "status", "created_at",
]  # fmt: skip

CHUNK = 500


def money_text(value: Decimal) -> str:
    """An amount as written on an invoice: two decimals at least (4.9 -> 4.90), more only when it has them."""
    text = format(value.normalize(), "f")
    whole, _, cents = text.partition(".")
    return f"{whole}.{cents.ljust(2, '0')}"


def _csv_row(row: dict[str, Any]) -> dict[str, Any]:
    amounts = {k: money_text(v) for k, v in row.items() if isinstance(v, Decimal) and v.is_finite()}
    return _jsonable(row) | amounts


def _rows(store: Store, filters: SearchFilters, resolver: VendorResolver | None) -> Iterator[dict[str, Any]]:
    where, params = filter_sql(filters, resolver)
    yield from sql.export_stream(store, where, params, CHUNK)


def export_rows(store: Store, filters: SearchFilters, fmt: str, resolver: VendorResolver | None) -> Iterator[str]:
    """Chunks of CSV (with a header) or JSON lines for the invoices matching filters."""
    if fmt not in ("csv", "jsonl"):
        raise InvalidRequest(f"unknown export format {fmt!r}: use csv or jsonl")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    if fmt == "csv":
        writer.writeheader()
    for count, row in enumerate(_rows(store, filters, resolver), start=1):
        result = json.loads(row.pop("result"))
        if fmt == "csv":
            row = _csv_row(row)
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
        else:
            record = _jsonable({k: row[k] for k in ("id", "filename", "sha256", "vendor_id", "needs_review", "status")})
            record["created_at"] = row["created_at"].isoformat() if row["created_at"] else None
            record["invoice"] = result["invoice"]
            record["validation"] = result.get("validation")
            buffer.write(json.dumps(record, ensure_ascii=False) + "\n")
        if count % CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


def feedback_lines(store: Store, vendor_hints: Callable[[int], dict[str, Any] | None]) -> Iterator[str]:
    """JSON lines: raw markdown, the invoice as extracted and as corrected, and its vendor's learned hints."""
    rows = sql.reviewed(store.cursor())
    learned: dict[int, dict[str, Any] | None] = {}
    for invoice_id, raw, status, vendor_id in rows:
        if vendor_id is not None and vendor_id not in learned:
            learned[vendor_id] = vendor_hints(vendor_id)
        result = json.loads(raw)
        corrected = result["invoice"]
        extracted = json.loads(json.dumps(corrected))
        for field, old in sql.corrected_fields(store.cursor(), invoice_id):
            set_path(extracted, field, json.loads(old) if old else None, create=True)
        yield (
            json.dumps(
                {
                    "invoice_id": invoice_id,
                    "status": status,
                    "markdown": result.get("markdown", ""),
                    "extracted": extracted,
                    "corrected": corrected,
                    "hints": learned.get(vendor_id) if vendor_id is not None else None,
                },
                ensure_ascii=False,
            )
            + "\n"
        )
