"""SQL of the invoice tables: documents, invoices, line items, extraction runs and the corrections audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from extraction.identifiers import normalize_code
from retrieval.repository.database import dumps, one_row
from retrieval.repository.schema import INVOICE_PARTY_FIELDS
from retrieval.textindex import search_text

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator
    from decimal import Decimal

    from duckdb import DuckDBPyConnection as Cursor

    from extraction.schema import ExtractionResult
    from retrieval.repository.database import Store

_MONEY_FIELDS = ("subtotal", "tax_total", "total", "amount_due")
_SUMMARY = (
    "SELECT i.id, i.vendor_id, i.vendor_name AS vendor, i.invoice_number, i.invoice_date, i.due_date, i.total,"
    " i.currency, i.needs_review, i.status, d.filename, d.sha256, i.created_at"
    " FROM invoices i LEFT JOIN documents d ON d.id = i.document_id WHERE true"
)


def _dicts(cur: Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


# -- documents ------------------------------------------------------------------------------------
def has_document(con: Cursor, sha256: str) -> bool:
    """Whether a file with this hash is stored with at least one invoice."""
    return bool(
        one_row(
            con.execute(
                "SELECT count(*) FROM documents d JOIN invoices i ON i.document_id = d.id WHERE d.sha256 = ?", [sha256]
            )
        )[0]
    )


def invoice_on_page(con: Cursor, sha256: str, page_first: int | None) -> tuple[int, int | None] | None:
    """(id, vendor_id) of the invoice stored from this file starting on this page (the first one), or None."""
    row = con.execute(
        "SELECT i.id, i.vendor_id FROM invoices i JOIN documents d ON d.id = i.document_id WHERE d.sha256 = ?"
        " AND coalesce(i.page_first, 1) = coalesce(?, 1) ORDER BY i.id LIMIT 1",
        [sha256, page_first],
    ).fetchone()
    return (int(row[0]), row[1]) if row else None


def document_id(cur: Cursor, sha256: str) -> int | None:
    """The id of the stored document with this hash."""
    row = cur.execute("SELECT id FROM documents WHERE sha256 = ?", [sha256]).fetchone()
    return int(row[0]) if row else None


def insert_document(cur: Cursor, result: ExtractionResult, size: int, stored: bool) -> int:
    """A new document row for a result's file; its id."""
    doc = result.document
    return int(
        one_row(
            cur.execute(
                "INSERT INTO documents (sha256, filename, media_type, page_count, size, stored_path)"
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                [
                    doc.sha256,
                    doc.filename,
                    doc.media_type,
                    doc.page_count,
                    size,
                    f"files/{doc.sha256}" if stored else None,
                ],
            )
        )[0]
    )


def document_of(con: Cursor, invoice_id: int) -> tuple[str, str | None, str | None] | None:
    """(sha256, media_type, filename) of an invoice's document, or None."""
    row = con.execute(
        "SELECT d.sha256, d.media_type, d.filename FROM invoices i JOIN documents d ON d.id = i.document_id"
        " WHERE i.id = ?",
        [invoice_id],
    ).fetchone()
    return tuple(row) if row else None


# -- invoice rows ---------------------------------------------------------------------------------
def invoice_columns(cur: Cursor, vendor_id: int | None, result: ExtractionResult) -> dict[str, Any]:
    """The invoice row's columns from a result (every Invoice field, the JSON, validation, search text)."""
    inv = result.invoice
    cols: dict[str, Any] = {"vendor_id": vendor_id}
    for party in ("vendor", "customer"):
        for key in INVOICE_PARTY_FIELDS:
            cols[f"{party}_{key}"] = getattr(getattr(inv, party), key)
    for key in ("invoice_number", "invoice_date", "due_date", "purchase_order", "currency", "payment_terms"):
        cols[key] = getattr(inv, key)
    for key in _MONEY_FIELDS:
        cols[key] = getattr(inv, key)
    cols["invoice_number_key"] = normalize_code(inv.invoice_number) or None
    cols["tax_lines"] = dumps([t.model_dump(mode="json") for t in inv.tax_lines])
    cols["validation"] = result.validation.model_dump_json()
    cols["needs_review"] = result.validation.needs_review
    cols["result"] = result.model_copy(update={"enrichment": None, "invoice_id": None}).model_dump_json()
    canonical = []
    if vendor_id is not None:
        canonical = [r[0] for r in cur.execute("SELECT name FROM vendors WHERE id = ?", [vendor_id]).fetchall()]
    cols["search_text"] = search_text(result, canonical)
    return cols


def _write_children(store: Store, cur: Cursor, invoice_id: int, result: ExtractionResult, text: str) -> None:
    """Line items and keyword postings of one invoice (replacing earlier ones)."""
    items = result.invoice.line_items
    cur.execute("DELETE FROM line_items WHERE invoice_id = ?", [invoice_id])
    if items:
        cur.execute(
            "INSERT INTO line_items SELECT ?, unnest(range(1, ?::BIGINT + 1))::INTEGER, unnest(?::VARCHAR[]),"
            " unnest(?::DECIMAL(18,4)[]), unnest(?::DECIMAL(18,4)[]), unnest(?::DECIMAL(18,4)[]),"
            " unnest(?::DECIMAL(9,4)[])",
            [
                invoice_id,
                len(items),
                [li.description for li in items],
                [li.quantity for li in items],
                [li.unit_price for li in items],
                [li.amount for li in items],
                [li.tax_rate for li in items],
            ],
        )
    store.index_text(cur, invoice_id, text)


def insert_invoice(
    store: Store, cur: Cursor, result: ExtractionResult, vendor_id: int | None, document_id: int, engine: str | None
) -> int:
    """Inside the writer transaction: a new invoice row with its line items and postings; its id."""
    page_first: int | None = None
    page_last: int | None = None
    if result.page_range:
        page_first, page_last = result.page_range[:2]
    cols = invoice_columns(cur, vendor_id, result)
    cols |= {"document_id": document_id, "page_first": page_first, "page_last": page_last}
    cols["engine"] = engine
    names = ", ".join(cols)
    marks = ", ".join("?" for _ in cols)
    invoice_id = int(
        one_row(cur.execute(f"INSERT INTO invoices ({names}) VALUES ({marks}) RETURNING id", list(cols.values())))[0]
    )
    _write_children(store, cur, invoice_id, result, cols["search_text"])
    return invoice_id


def update_invoice(store: Store, cur: Cursor, invoice_id: int, vendor_id: int | None, result: ExtractionResult) -> None:
    """Inside the writer transaction: rewrite an invoice's row, line items and postings from a result."""
    cols = invoice_columns(cur, vendor_id, result)
    sets = ", ".join(f"{k} = ?" for k in cols)
    cur.execute(
        f"UPDATE invoices SET {sets}, updated_at = current_timestamp WHERE id = ?", [*cols.values(), invoice_id]
    )
    _write_children(store, cur, invoice_id, result, cols["search_text"])


def set_search_text(cur: Cursor, invoice_id: int, text: str) -> None:
    """Replace the keyword text kept on an invoice row."""
    cur.execute("UPDATE invoices SET search_text = ? WHERE id = ?", [text, invoice_id])


def insert_run(
    cur: Cursor, document_id: int, invoice_id: int, engine: str | None, timings: str, seconds: float | None
) -> None:
    """One extraction run (`timings`: JSON text)."""
    cur.execute(
        "INSERT INTO extraction_runs (document_id, invoice_id, engine, timings, seconds) VALUES (?, ?, ?, ?, ?)",
        [document_id, invoice_id, engine, timings, seconds],
    )


def insert_run_of(cur: Cursor, invoice_id: int, timings: str, seconds: float | None) -> None:
    """One extraction run of a stored invoice, with its document and engine (`timings`: JSON text)."""
    cur.execute(
        "INSERT INTO extraction_runs (document_id, invoice_id, engine, timings, seconds)"
        " SELECT document_id, id, engine, ?, ? FROM invoices WHERE id = ?",
        [timings, seconds, invoice_id],
    )


def exists(cur: Cursor, invoice_id: int) -> bool:
    """Whether the invoice is stored."""
    return bool(one_row(cur.execute("SELECT count(*) FROM invoices WHERE id = ?", [invoice_id]))[0])


def status(cur: Cursor, invoice_id: int) -> str:
    """An invoice's review status."""
    return one_row(cur.execute("SELECT status FROM invoices WHERE id = ?", [invoice_id]))[0]


def set_status(cur: Cursor, invoice_id: int, value: str) -> None:
    """Set an invoice's review status."""
    cur.execute("UPDATE invoices SET status = ? WHERE id = ?", [value, invoice_id])


def approve(cur: Cursor, invoice_id: int) -> None:
    """Mark an invoice approved and out of review."""
    cur.execute(
        "UPDATE invoices SET status = 'approved', needs_review = false, updated_at = current_timestamp WHERE id = ?",
        [invoice_id],
    )


def add_correction(cur: Cursor, invoice_id: int, field: str, old: str, new: str, who: str) -> None:
    """One audit-log entry (`old`, `new`: JSON text)."""
    cur.execute(
        "INSERT INTO corrections (invoice_id, field, old, new, who) VALUES (?, ?, ?, ?, ?)",
        [invoice_id, field, old, new, who],
    )


def delete(store: Store, cur: Cursor, invoice_id: int) -> tuple[bool, str | None]:
    """Inside the writer transaction: remove an invoice, its line items, embedding and postings (the audit log stays).

    Returns whether it was there and the hash of its document when that went with it (the last invoice of it).
    """
    row = cur.execute("SELECT document_id FROM invoices WHERE id = ?", [invoice_id]).fetchone()
    if not row:
        return False, None
    document = row[0]
    for table, key in (("line_items", "invoice_id"), ("embeddings", "invoice_id"), ("invoices", "id")):
        cur.execute(f"DELETE FROM {table} WHERE {key} = ?", [invoice_id])
    store.unindex_text(cur, invoice_id)
    left = one_row(cur.execute("SELECT count(*) FROM invoices WHERE document_id = ?", [document]))[0]
    sha = None
    if not left:
        sha = one_row(cur.execute("SELECT sha256 FROM documents WHERE id = ?", [document]))[0]
        cur.execute("DELETE FROM documents WHERE id = ?", [document])
    return True, sha


# -- reads ----------------------------------------------------------------------------------------
def stored_result(con: Cursor, invoice_id: int) -> tuple[str, int | None] | None:
    """(result JSON, vendor_id) of a stored invoice, or None."""
    row = con.execute("SELECT result, vendor_id FROM invoices WHERE id = ?", [invoice_id]).fetchone()
    return (row[0], row[1]) if row else None


def vendor_of(con: Cursor, invoice_id: int) -> int | None:
    """The vendor id of a stored invoice (None when it has none, or there is no such invoice)."""
    row = con.execute("SELECT vendor_id FROM invoices WHERE id = ?", [invoice_id]).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def reread_row(con: Cursor, invoice_id: int) -> tuple | None:
    """(page_first, page_last, vendor_id, status, result JSON) of a stored invoice, or None."""
    return con.execute(
        "SELECT page_first, page_last, vendor_id, status, result FROM invoices WHERE id = ?", [invoice_id]
    ).fetchone()


def count(con: Cursor, where: str, params: list[Any]) -> int:
    """How many invoices are within the filters (a filter_sql fragment)."""
    return int(one_row(con.execute(f"SELECT count(*) FROM invoices i WHERE true {where}", params))[0] or 0)


def ids(con: Cursor, where: str = "", params: list[Any] | None = None) -> list[int]:
    """The ids of the invoices within the filters, in order."""
    rows = con.execute(f"SELECT i.id FROM invoices i WHERE true {where} ORDER BY i.id", params or []).fetchall()
    return [int(r[0]) for r in rows]


def summary_page(con: Cursor, where: str, params: list[Any], order: str, limit: int, offset: int) -> list[dict]:
    """Summaries of a page of the invoices within the filters, in `order` (an ORDER BY list)."""
    return _dicts(con.execute(_SUMMARY + where + f" ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit, offset]))


def queue_page(con: Cursor, where: str, params: list[Any], limit: int) -> list[dict]:
    """Summaries of the first invoices within the filters by when they were stored."""
    return _dicts(con.execute(_SUMMARY + where + " ORDER BY i.created_at, i.id LIMIT ?", [*params, limit]))


def summary_with_result(con: Cursor, invoice_id: int) -> dict[str, Any] | None:
    """The summary of one invoice with its stored result JSON (key `result`), or None."""
    rows = _dicts(
        con.execute(_SUMMARY.replace("FROM invoices", ", i.result FROM invoices") + " AND i.id = ?", [invoice_id])
    )
    return rows[0] if rows else None


def corrections(con: Cursor, invoice_id: int) -> list[tuple]:
    """(field, old JSON, new JSON, who, changed_at) of an invoice's audit log, oldest first."""
    return con.execute(
        "SELECT field, old, new, who, changed_at FROM corrections WHERE invoice_id = ? ORDER BY id", [invoice_id]
    ).fetchall()


def human_corrections(con: Cursor, invoice_id: int) -> list[tuple]:
    """(field, new JSON, who) of an invoice's field corrections (not status or engine changes), oldest first."""
    return con.execute(
        "SELECT field, new, who FROM corrections WHERE invoice_id = ? AND field NOT IN ('status', 'engine')"
        " ORDER BY id",
        [invoice_id],
    ).fetchall()


def all_results(con: Cursor) -> list[tuple]:
    """(id, result JSON) of every invoice, by id."""
    return con.execute("SELECT id, result FROM invoices ORDER BY id").fetchall()


def present(cur: Cursor, invoice_ids: list[int]) -> set[int]:
    """Which of these invoices are stored."""
    return {
        r[0]
        for r in cur.execute("SELECT id FROM invoices WHERE list_contains(?::BIGINT[], id)", [invoice_ids]).fetchall()
    }


def vendor_names(cur: Cursor, invoice_id: int) -> list[str]:
    """The canonical name of an invoice's vendor (none when it has no vendor)."""
    return [
        r[0]
        for r in cur.execute(
            "SELECT v.name FROM invoices i JOIN vendors v ON v.id = i.vendor_id WHERE i.id = ?", [invoice_id]
        ).fetchall()
    ]


def all_ids(con: Cursor) -> np.ndarray:
    """Every invoice id, ascending."""
    return con.execute("SELECT id FROM invoices ORDER BY id").fetchnumpy()["id"].astype(np.int64)


# -- embeddings -----------------------------------------------------------------------------------
def other_model_count(con: Cursor, model: str) -> int:
    """How many stored embeddings come from another model."""
    return int(one_row(con.execute("SELECT count(*) FROM embeddings WHERE model <> ?", [model]))[0] or 0)


def drop_other_models(cur: Cursor, model: str) -> None:
    """Remove the stored embeddings of every other model."""
    cur.execute("DELETE FROM embeddings WHERE model <> ?", [model])


# -- summaries of other invoices (enrichment) -----------------------------------------------------
_SUMMARY_SQL = (
    "SELECT i.id AS invoice_id, i.vendor_id, i.vendor_name AS vendor, i.invoice_number, i.invoice_date,"
    " i.total, i.currency, i.vendor_iban, i.status, d.filename FROM invoices i"
    " LEFT JOIN documents d ON d.id = i.document_id"
)


def summaries(con: Cursor, ids: list[int]) -> list[dict[str, Any]]:
    """Summaries (invoice_id, vendor, number, date, total, currency, IBAN, status, filename) of these invoices."""
    return _dicts(con.execute(_SUMMARY_SQL + " WHERE list_contains(?::BIGINT[], i.id)", [ids]))


def summaries_by_number(con: Cursor, vendor_id: int, number_key: str, exclude: int) -> list[dict[str, Any]]:
    """Summaries of a vendor's other invoices with this invoice number key, by id."""
    return _dicts(
        con.execute(
            _SUMMARY_SQL + " WHERE i.vendor_id = ? AND i.invoice_number_key = ? AND i.id <> ? ORDER BY i.id",
            [vendor_id, number_key, exclude],
        )
    )


def summaries_by_total(
    con: Cursor,
    vendor_id: int,
    total: Decimal,
    exclude: int,
    date_from: dt.date,
    date_to: dt.date,
    currency: str | None,
) -> list[dict[str, Any]]:
    """Summaries of a vendor's other invoices with this total, dated in a window, in this currency or none."""
    return _dicts(
        con.execute(
            _SUMMARY_SQL + " WHERE i.vendor_id = ? AND i.total = ? AND i.id <> ?"
            " AND i.invoice_date BETWEEN ? AND ? AND (i.currency IS NULL OR ? IS NULL OR i.currency = ?)",
            [vendor_id, total, exclude, date_from, date_to, currency, currency],
        )
    )


def recent_summaries(con: Cursor, vendor_id: int, exclude: int, limit: int) -> list[dict[str, Any]]:
    """Summaries of a vendor's latest other invoices, newest invoice date first."""
    return _dicts(
        con.execute(
            _SUMMARY_SQL + " WHERE i.vendor_id = ? AND i.id <> ? ORDER BY i.invoice_date DESC NULLS LAST, i.id DESC"
            " LIMIT ?",
            [vendor_id, exclude, limit],
        )
    )


# -- export ---------------------------------------------------------------------------------------
_EXPORT_SQL = """SELECT
    i.id, d.filename, d.sha256, i.vendor_id, i.vendor_name AS vendor, i.vendor_tax_id, i.vendor_iban,
    i.customer_name AS customer, i.invoice_number, i.invoice_date, i.due_date, i.purchase_order, i.currency,
    i.subtotal, i.tax_total, i.total, i.amount_due, i.payment_terms,
    (SELECT count(*) FROM line_items l WHERE l.invoice_id = i.id) AS line_items,
    i.needs_review, i.status, i.created_at, i.result
    FROM invoices i LEFT JOIN documents d ON d.id = i.document_id WHERE true"""


def export_stream(store: Store, where: str, params: list[Any], chunk: int) -> Iterator[dict[str, Any]]:
    """Export rows of the invoices within the filters, by id, fetched `chunk` at a time."""
    cur = store._con.cursor()  # its own cursor: the stream may be read from another thread
    try:
        cur.execute(_EXPORT_SQL + where + " ORDER BY i.id", params)
        names = [d[0] for d in cur.description]
        while True:
            batch = cur.fetchmany(chunk)
            if not batch:
                break
            for row in batch:
                yield dict(zip(names, row, strict=True))
    finally:
        cur.close()


def reviewed(con: Cursor) -> list[tuple]:
    """(id, result JSON, status, vendor_id) of every corrected or approved invoice, by id."""
    return con.execute(
        "SELECT i.id, i.result, i.status, i.vendor_id FROM invoices i WHERE i.status IN ('corrected', 'approved')"
        " ORDER BY i.id"
    ).fetchall()


def corrected_fields(con: Cursor, invoice_id: int) -> list[tuple]:
    """(field, old value JSON) of an invoice's corrections but status changes, newest first."""
    return con.execute(
        "SELECT field, old FROM corrections WHERE invoice_id = ? AND field <> 'status' ORDER BY id DESC", [invoice_id]
    ).fetchall()
