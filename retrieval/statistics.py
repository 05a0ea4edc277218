"""Figures about the history: store and index health, and the dashboard's numbers."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from retrieval.repository import invoices as invoice_sql
from retrieval.repository import stats as sql

if TYPE_CHECKING:
    from retrieval.index_sync import IndexSync
    from retrieval.repository.database import Store


def health(store: Store, sync: IndexSync) -> dict:
    """Store and index state, and whether they agree."""
    invoice_ids = invoice_sql.all_ids(store.cursor())
    invoices = len(invoice_ids)
    db_ids = store.embedding_ids(sync.model_name)
    index = sync.index()
    index_ids = index.ids()
    orphans = store.orphan_counts()
    # The index, the stored vectors and the invoices must name the same ids, and nothing may outlive its invoice.
    consistent = bool(
        np.array_equal(index_ids, invoice_ids) and np.array_equal(db_ids, invoice_ids) and not any(orphans.values())
    )
    return {
        "store": {
            "path": str(store.db_path),
            "schema_version": store.schema_version(),
            "invoices": invoices,
            **sql.table_counts(store.cursor()),
        },
        "index": {
            "kind": index.kind,
            "count": index.count,
            "model": sync.model_name,
            "dim": index.dim,
            "consistent": consistent,
            "missing": int(np.setdiff1d(invoice_ids, index_ids).size),
            "orphans": int(np.setdiff1d(index_ids, invoice_ids).size),
            "orphan_rows": orphans,
            "repaired": sync.repaired,
        },
    }


def dashboard(store: Store) -> dict:
    """Documents per day, latency p50/p90 per engine, error rate, approved-without-edits share, backlog."""
    con = store.cursor()
    per_day = [{"day": d.isoformat(), "documents": int(n)} for d, n in sql.documents_per_day(con)]
    latency = {
        engine or "unknown": {"p50": p50, "p90": p90, "runs": int(n)} for engine, p50, p90, n in sql.latency(con)
    }
    counts = sql.review_counts(con)
    runs, failures, approved = counts["runs"], counts["failures"], counts["approved"]
    return {
        "documents_per_day": per_day,
        "latency": latency,
        "error_rate": round(failures / (runs + failures), 4) if runs + failures else 0.0,
        "failures": failures,
        "runs": runs,
        "approved_without_edits": round(counts["untouched"] / approved, 4) if approved else None,
        "review_backlog": counts["backlog"],
        "generated_at": dt.datetime.now(dt.UTC).isoformat(),
    }
