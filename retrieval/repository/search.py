"""SQL of searching: structured filters, the keyword dictionary and postings, and the ranked lists' queries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from retrieval.repository.database import one_row
from utils.text import fold

if TYPE_CHECKING:
    from decimal import Decimal

    from duckdb import DuckDBPyConnection as Cursor

    from retrieval.models import SearchFilters
    from retrieval.vendors import VendorResolver

VENDOR_FILTER_MIN = 0.85  # lookup score from which a typed vendor filter names a vendor


def filter_sql(filters: SearchFilters, resolver: VendorResolver | None, alias: str = "i") -> tuple[str, list[Any]]:
    """A WHERE fragment (starting with ' AND') and its parameters for structured filters."""
    sql = ""
    params: list[Any] = []  # SQL parameters: ids, text, dates, amounts, flags
    if filters.vendor:
        vendor = filters.vendor.strip()
        if vendor.isascii() and vendor.isdigit() and len(vendor) < 19:  # an id; "²" is a digit too
            sql += f" AND {alias}.vendor_id = ?"
            params.append(int(vendor))
        else:
            ids = [
                vid for vid, score, _ in (resolver.lookup(vendor, 10) if resolver else []) if score >= VENDOR_FILTER_MIN
            ]
            sql += (
                f" AND (list_contains(?::BIGINT[], {alias}.vendor_id)"
                f" OR strip_accents(lower({alias}.vendor_name)) LIKE ?)"
            )
            params.extend([ids, f"%{fold(vendor)}%"])
    if filters.date_from:
        sql += f" AND {alias}.invoice_date >= ?"
        params.append(filters.date_from)
    if filters.date_to:
        sql += f" AND {alias}.invoice_date <= ?"
        params.append(filters.date_to)
    if filters.min_total is not None:
        sql += f" AND {alias}.total >= ?"
        params.append(filters.min_total)
    if filters.max_total is not None:
        sql += f" AND {alias}.total <= ?"
        params.append(filters.max_total)
    if filters.currency:
        sql += f" AND {alias}.currency = ?"
        params.append(filters.currency.strip().upper())
    if filters.needs_review is not None:
        sql += f" AND {alias}.needs_review = ?"
        params.append(filters.needs_review)
    return sql, params


# -- invoices within filters ----------------------------------------------------------------------
def filtered_ids(con: Cursor, where: str, params: list[Any]) -> np.ndarray:
    """The ids of the invoices within the filters (a filter_sql fragment)."""
    found = con.execute(f"SELECT i.id FROM invoices i WHERE true {where}", params).fetchnumpy()
    return np.asarray(found["id"], dtype=np.int64)


def filtered_count(con: Cursor, where: str, params: list[Any]) -> int | None:
    """How many invoices are within the filters."""
    row = con.execute(f"SELECT count(*) FROM invoices i WHERE true {where}", params).fetchone()
    return row[0] if row else None


def filtered_subset(con: Cursor, ids: list[int], where: str, params: list[Any]) -> set[int]:
    """Which of these invoices are within the filters."""
    return {
        int(r[0])
        for r in con.execute(
            f"SELECT i.id FROM invoices i JOIN (SELECT unnest(?::BIGINT[]) AS k) ON i.id = k WHERE true {where}",
            [ids, *params],
        ).fetchall()
    }


def filtered_vectors(con: Cursor, where: str, params: list[Any]) -> list[tuple]:
    """(invoice_id, vector) of the invoices within the filters."""
    return con.execute(
        f"SELECT e.invoice_id, e.vector FROM embeddings e JOIN invoices i ON i.id = e.invoice_id WHERE true {where}",
        params,
    ).fetchall()


def newest_page(con: Cursor, where: str, params: list[Any], limit: int, offset: int) -> list[int]:
    """Ids of a page of the invoices within the filters, newest invoice date first."""
    rows = con.execute(
        f"SELECT i.id FROM invoices i WHERE true {where}"
        " ORDER BY i.invoice_date DESC NULLS LAST, i.id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    return [int(r[0]) for r in rows]


# -- structured matches ---------------------------------------------------------------------------
def by_number(con: Cursor, codes: list[str], where: str, params: list[Any]) -> list[int]:
    """Invoices whose invoice number key is one of these codes (newest id first, at most 50)."""
    rows = con.execute(
        f"""SELECT i.id FROM invoices i JOIN (SELECT unnest(?::VARCHAR[]) AS code) c
            ON i.invoice_number_key = c.code WHERE true {where} ORDER BY i.id DESC LIMIT 50""",
        [codes, *params],
    ).fetchall()
    return [int(r[0]) for r in rows]


def by_number_part(con: Cursor, codes: list[str], where: str, params: list[Any]) -> list[int]:
    """Invoices whose invoice number key (5+ characters) contains one of these codes (at most 50)."""
    rows = con.execute(
        f"""SELECT i.id FROM invoices i WHERE length(i.invoice_number_key) >= 5
            AND len(list_filter(?::VARCHAR[], lambda c: contains(i.invoice_number_key, c))) > 0
            {where} ORDER BY i.id DESC LIMIT 50""",
        [codes, *params],
    ).fetchall()
    return [int(r[0]) for r in rows]


def by_amount(con: Cursor, amounts: list[Decimal], where: str, params: list[Any]) -> list[int]:
    """Invoices whose total or amount due is one of these amounts (newest first, at most 50)."""
    marks = ", ".join("?::DECIMAL(18,4)" for _ in amounts)
    rows = con.execute(
        f"""SELECT i.id FROM invoices i
            WHERE (i.total IN ({marks}) OR i.amount_due IN ({marks}))
            {where} ORDER BY i.invoice_date DESC NULLS LAST, i.id DESC LIMIT 50""",
        [*amounts, *amounts, *params],
    ).fetchall()
    return [int(r[0]) for r in rows]


def by_vendors(con: Cursor, vendors: list[int], where: str, params: list[Any]) -> list[int]:
    """Invoices of these vendors, in the vendors' order, newest first within each (at most 50)."""
    rows = con.execute(
        f"""SELECT i.id FROM invoices i WHERE i.vendor_id IN ({", ".join("?" for _ in vendors)}) {where}
            ORDER BY list_position(?::BIGINT[], i.vendor_id), i.invoice_date DESC NULLS LAST,
                     i.id DESC LIMIT 50""",
        [*vendors, *params, vendors],
    ).fetchall()
    return [int(r[0]) for r in rows]


def hit_rows(con: Cursor, ids: list[int]) -> list[dict[str, Any]]:
    """What a search hit shows of these invoices (with their keyword text)."""
    cur = con.execute(
        "SELECT id, vendor_name, invoice_number, invoice_date, total, currency, search_text"
        " FROM invoices JOIN (SELECT unnest(?::BIGINT[]) AS k) ON id = k",
        [ids],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


# -- the keyword dictionary and postings ----------------------------------------------------------
def terms_after(con: Cursor, termid: int) -> dict[str, np.ndarray]:
    """Columns term and termid of the dictionary terms newer than a term id."""
    return con.execute("SELECT term, termid FROM fts_dict WHERE termid > ?", [termid]).fetchnumpy()


def termid(con: Cursor, term: str) -> int | None:
    """The dictionary id of a term, or None."""
    row = con.execute("SELECT termid FROM fts_dict WHERE term = ?", [term]).fetchone()
    return row[0] if row else None


def newest_termid(con: Cursor) -> int | None:
    """The highest dictionary term id (None when the dictionary is empty)."""
    return one_row(con.execute("SELECT max(termid) FROM fts_dict"))[0]


def words_between(con: Cursor, after: int, upto: int, pattern: str) -> list[tuple]:
    """(term, termid) of the dictionary terms in (after, upto] that fully match a regular expression."""
    return con.execute(
        "SELECT term, termid FROM fts_dict WHERE termid > ? AND termid <= ? AND regexp_full_match(term, ?)"
        " ORDER BY termid",
        [after, upto, pattern],
    ).fetchall()


def document_lengths(con: Cursor) -> dict[str, np.ndarray]:
    """Columns invoice_id and len of every keyword document."""
    return con.execute("SELECT invoice_id, len FROM fts_docs").fetchnumpy()


def postings(con: Cursor, termid: int) -> dict[str, np.ndarray]:
    """Columns invoice_id and tf of one term's postings."""
    return con.execute("SELECT invoice_id, tf FROM fts_postings WHERE termid = ?", [termid]).fetchnumpy()
