"""Export of the invoice history as CSV or JSON lines, streamed in chunks."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from retrieval.enrich import _jsonable
from retrieval.search import filter_sql
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

_SELECT = """SELECT i.id, d.filename, d.sha256, i.vendor_id, i.vendor_name AS vendor, i.vendor_tax_id, i.vendor_iban,
    i.customer_name AS customer, i.invoice_number, i.invoice_date, i.due_date, i.purchase_order, i.currency,
    i.subtotal, i.tax_total, i.total, i.amount_due, i.payment_terms,
    (SELECT count(*) FROM line_items l WHERE l.invoice_id = i.id) AS line_items,
    i.needs_review, i.status, i.created_at, i.result
    FROM invoices i LEFT JOIN documents d ON d.id = i.document_id WHERE true"""
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
    cur = store._con.cursor()  # its own cursor: the stream may be read from another thread
    try:
        cur.execute(_SELECT + where + " ORDER BY i.id", params)
        names = [d[0] for d in cur.description]
        while True:
            batch = cur.fetchmany(CHUNK)
            if not batch:
                break
            for row in batch:
                yield dict(zip(names, row, strict=True))
    finally:
        cur.close()


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
