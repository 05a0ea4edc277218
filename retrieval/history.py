"""Reading the invoice history: pages of invoices, the review queue, one invoice with its audit log, the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extraction.schema import ExtractionResult
from retrieval.enrich import build_enrichment
from retrieval.models import Correction, InvoicePage, InvoiceRecord, InvoiceSummary, SearchFilters
from retrieval.repository import invoices as sql
from retrieval.repository.search import filter_sql
from retrieval.textindex import embedding_text
from utils.errors import NotFound

if TYPE_CHECKING:
    from faiss_service.embeddings import Embedder
    from retrieval.index_sync import IndexSync
    from retrieval.repository.database import Store
    from retrieval.vendors import VendorResolver


class InvoiceHistory:
    """The read side of the stored invoices (every query through the repository, on this thread's cursor)."""

    def __init__(self, store: Store, embedder: Embedder, resolver: VendorResolver, sync: IndexSync) -> None:
        self.store = store
        self.embedder = embedder
        self.resolver = resolver
        self.sync = sync

    def has_document(self, sha256: str) -> bool:
        """Whether a file with this hash is stored with at least one invoice."""
        return sql.has_document(self.store.cursor(), sha256)

    def existing_invoice(self, sha256: str, page_first: int | None) -> int | None:
        """The invoice already stored from this file starting on this page, or None."""
        found = sql.invoice_on_page(self.store.cursor(), sha256, page_first)
        return found[0] if found else None

    def list_invoices(
        self, filters: SearchFilters, limit: int = 50, offset: int = 0, vendor_id: int | None = None
    ) -> InvoicePage:
        """A page of invoices, newest first, with the total count."""
        where, params = filter_sql(filters, self.resolver)
        if vendor_id is not None:
            where += " AND i.vendor_id = ?"
            params.append(vendor_id)
        con = self.store.cursor()
        total = sql.count(con, where, params)
        rows = sql.summary_page(con, where, params, "i.invoice_date DESC NULLS LAST, i.id DESC", limit, offset)
        return InvoicePage(items=[InvoiceSummary(**r) for r in rows], total=total, limit=limit, offset=offset)

    def review_queue(self, limit: int = 200, exclude: int | None = None) -> InvoicePage:
        """Invoices that need review and are not approved, oldest first (by when they were stored)."""
        where = " AND i.needs_review AND i.status <> 'approved'"
        params: list[Any] = []
        if exclude is not None:
            where += " AND i.id <> ?"
            params.append(exclude)
        con = self.store.cursor()
        total = sql.count(con, where, params)
        rows = sql.queue_page(con, where, params, limit)
        return InvoicePage(items=[InvoiceSummary(**r) for r in rows], total=total, limit=limit, offset=0)

    def get_invoice(self, invoice_id: int) -> InvoiceRecord:
        """One stored invoice with its extraction, fresh enrichment and audit log; NotFound."""
        con = self.store.cursor()
        row = sql.summary_with_result(con, invoice_id)
        if row is None:
            raise NotFound(f"invoice {invoice_id} not found")
        result = ExtractionResult.model_validate_json(row.pop("result"))
        result.invoice_id = invoice_id
        vectors = self.store.embeddings([invoice_id])[1]
        vector = vectors[0] if len(vectors) else None
        result.enrichment = build_enrichment(
            self.store, self.sync.index(), result, vector, row["vendor_id"], invoice_id
        )
        corrections = [
            Correction(field=f, old=json.loads(o) if o else None, new=json.loads(n) if n else None, who=w, at=a)
            for f, o, n, w, a in sql.corrections(con, invoice_id)
        ]
        return InvoiceRecord(**row, result=result, corrections=corrections)

    def stored_result(self, invoice_id: int) -> tuple[ExtractionResult, int | None]:
        """An invoice's stored result and vendor id; NotFound."""
        row = sql.stored_result(self.store.cursor(), invoice_id)
        if row is None:
            raise NotFound(f"invoice {invoice_id} not found")
        return ExtractionResult.model_validate_json(row[0]), row[1]

    def document_file(self, invoice_id: int) -> tuple[Path, str, str]:
        """(path, media_type, filename) of the original file; NotFound."""
        row = sql.document_of(self.store.cursor(), invoice_id)
        if not row:
            raise NotFound(f"invoice {invoice_id} not found")
        sha, media_type, filename = row
        path = self.store.file_path(sha)
        if not path.exists():
            raise NotFound(f"the original file of invoice {invoice_id} is not stored")
        return path, media_type or "application/octet-stream", filename or sha

    def select(self, vendor: str | None, needs_review: bool | None, invoice_ids: list[int] | None) -> list[int]:
        """The ids of the invoices of one vendor, in review, and among these ids (each when given), in order."""
        where, params = filter_sql(SearchFilters(vendor=vendor, needs_review=needs_review), self.resolver)
        if invoice_ids is not None:
            if not invoice_ids:
                return []
            where += f" AND i.id IN ({', '.join('?' for _ in invoice_ids)})"
            params.extend(int(i) for i in invoice_ids)
        return sql.ids(self.store.cursor(), where, params)

    def enrich(self, result: ExtractionResult) -> dict:
        """Enrichment without storing: vendor context, similar invoices, duplicates, anomalies."""
        vendor_id, _ = self.resolver.match(result.invoice.vendor)
        vector = self.embedder.encode_one(embedding_text(result))
        return build_enrichment(self.store, self.sync.index(), result, vector, vendor_id, result.invoice_id)
