"""SQL of the figures: table sizes, documents per day, run latencies, failures and review counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection as Cursor


def _count(con: Cursor, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int((row[0] if row else 0) or 0)


def table_counts(con: Cursor) -> dict[str, int]:
    """How many documents and vendors are stored."""
    return {
        "documents": _count(con, "SELECT count(*) FROM documents"),
        "vendors": _count(con, "SELECT count(*) FROM vendors"),
    }


def documents_per_day(con: Cursor, days: int = 60) -> list[tuple]:
    """(day, documents stored) of the latest days with any, newest first."""
    return con.execute(
        "SELECT created_at::DATE AS day, count(*) FROM documents GROUP BY day ORDER BY day DESC LIMIT ?", [days]
    ).fetchall()


def latency(con: Cursor) -> list[tuple]:
    """(engine, p50 seconds, p90 seconds, runs) per engine of the timed extraction runs."""
    return con.execute(
        "SELECT engine, quantile_cont(seconds, 0.5), quantile_cont(seconds, 0.9), count(*)"
        " FROM extraction_runs WHERE seconds IS NOT NULL GROUP BY engine ORDER BY engine"
    ).fetchall()


def review_counts(con: Cursor) -> dict[str, int]:
    """Runs, failures, approved invoices, those approved without a field edit, and the review backlog."""
    return {
        "runs": _count(con, "SELECT count(*) FROM extraction_runs"),
        "failures": _count(con, "SELECT count(*) FROM failures"),
        "approved": _count(con, "SELECT count(*) FROM invoices WHERE status = 'approved'"),
        "untouched": _count(
            con,
            "SELECT count(*) FROM invoices i WHERE status = 'approved' AND NOT EXISTS"
            " (SELECT 1 FROM corrections c WHERE c.invoice_id = i.id AND c.field <> 'status')",
        ),
        "backlog": _count(con, "SELECT count(*) FROM invoices WHERE needs_review AND status = 'new'"),
    }
