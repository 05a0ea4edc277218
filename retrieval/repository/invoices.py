"""SQL of the invoice tables: documents, invoices, line items, extraction runs and the corrections audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection as Cursor


def set_search_text(cur: Cursor, invoice_id: int, text: str) -> None:
    """Replace the keyword text kept on an invoice row."""
    cur.execute("UPDATE invoices SET search_text = ? WHERE id = ?", [text, invoice_id])
