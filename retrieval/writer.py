"""Storing new extraction results: recognise the vendor, embed, write the rows in one transaction, index."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

from extraction.identifiers import vendor_identifiers
from extraction.schema import ExtractionResult, FieldInfo, check_amounts
from retrieval.enrich import build_enrichment
from retrieval.repository import invoices as sql
from retrieval.repository import vendors as vendor_sql
from retrieval.repository.database import dumps
from retrieval.textindex import embedding_text
from retrieval.vendors import MATCH_CONFIDENCE
from utils.hashing import sha256_hex

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection as Cursor

    from faiss_service.embeddings import Embedder
    from retrieval.history import InvoiceHistory
    from retrieval.index_sync import IndexSync
    from retrieval.repository.database import Store
    from retrieval.vendors import VendorResolver


def engine_of(result: ExtractionResult) -> str | None:
    """The engines that read a result's pages, joined with '+' (None when none is named)."""
    engines = Counter(p.engine for p in result.pages if p.engine)
    return "+".join(sorted(engines)) if engines else None


def first_page(result: ExtractionResult) -> int | None:
    """The page a result's invoice starts on (None: the whole file)."""
    return result.page_range[0] if result.page_range else None


def flag_conflicts(result: ExtractionResult, conflicts: list[dict[str, Any]]) -> None:
    """Flag a result whose vendor shares a tax id, IBAN or registration with another vendor."""
    for c in conflicts:
        result.validation.reasons.append(
            f"{c['kind'].replace('_', ' ')} {c['value']} is also claimed by vendor {c['vendor_id']} ({c['vendor']}):"
            " flagged, not merged"
        )
    if conflicts:
        result.validation.needs_review = True


class ResultWriter:
    """Stores extraction results: file, document, invoice, vendor, run and embedding, then the index entry."""

    def __init__(
        self, store: Store, embedder: Embedder, resolver: VendorResolver, sync: IndexSync, history: InvoiceHistory
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.resolver = resolver
        self.sync = sync
        self.history = history

    def store_many(self, items: list[tuple[ExtractionResult, bytes]], enrich: bool = True) -> list[ExtractionResult]:
        """Store several results in one transaction (embedded in one batch); each with its id and enrichment."""
        prepared = []
        for result, data in items:
            check_amounts(result.invoice, result.document.filename)  # before anything of the batch is written
            if data:
                sha = sha256_hex(data)
                if sha != result.document.sha256:
                    result = result.model_copy(update={"document": result.document.model_copy(update={"sha256": sha})})
            prepared.append((result, data))
        new = [(r, d) for r, d in prepared if self.history.existing_invoice(r.document.sha256, first_page(r)) is None]
        read_names = {}
        for r, _ in new:
            read_names[id(r)] = r.invoice.vendor.name
            self.recognise(r)
        vectors: np.ndarray | list[np.ndarray] = (
            self.embedder.encode([embedding_text(r) for r, _ in new]) if new else []
        )
        for result, data in new:
            if data:
                self.store.save_file(result.document.sha256, data)
        stored_ids: dict[int, tuple[int, int | None, np.ndarray]] = {}
        if new:
            with self.store.transaction() as cur:
                for (result, data), vector in zip(new, vectors, strict=True):
                    stored_ids[id(result)] = (
                        *self._insert(cur, result, data, vector, read_names.get(id(result))),
                        vector,
                    )
            fresh = [(i, v) for i, _, v in stored_ids.values()]
            self.sync.add([i for i, _ in fresh], np.vstack([v for _, v in fresh]))
        out = []
        for result, _data in prepared:
            if id(result) in stored_ids:
                invoice_id, vendor_id, vector = stored_ids[id(result)]
                stored = result.model_copy(update={"invoice_id": invoice_id})
                if enrich:
                    stored.enrichment = build_enrichment(
                        self.store, self.sync.index(), stored, vector, vendor_id, invoice_id
                    )
                out.append(stored)
                continue
            existing = self.history.existing_invoice(result.document.sha256, first_page(result))
            stored = self.history.get_invoice(existing).result if existing is not None else result
            stored.invoice_id = existing
            stored.enrichment = (stored.enrichment or {}) | {
                "note": f"this document was already stored as invoice {existing}"
            }
            out.append(stored)
        return out

    def recognise(self, result: ExtractionResult) -> int | None:
        """Give a result from a known vendor that vendor's canonical name, saying which identifier (or name) matched.

        The name read on the page stays in the field's source; a vendor recognised only by meaning keeps
        the name as read.
        """
        invoice = result.invoice
        identifiers = vendor_identifiers(invoice, result.markdown)
        vendor_id, how = self.resolver.match(invoice.vendor, identifiers=identifiers)
        if vendor_id is None or how == "embedding":
            return None
        canonical = vendor_sql.vendor_name(self.store.cursor(), vendor_id)
        read = invoice.vendor.name
        if not canonical or canonical == read:
            return vendor_id
        why = f"{how.replace('_', ' ')} {identifiers.get(how) or getattr(invoice.vendor, how, None) or ''}".strip()
        before = result.fields.get("vendor.name")
        seen = f"read as {read!r}" if read else "no name read"
        result.invoice = invoice.model_copy(update={"vendor": invoice.vendor.model_copy(update={"name": canonical})})
        result.fields["vendor.name"] = FieldInfo(
            value=canonical,
            confidence=MATCH_CONFIDENCE.get(how, 0.5),
            page=before.page if before else None,
            bbox=before.bbox if before else None,
            source=f"known vendor {canonical} (id {vendor_id}) recognised by its {why}; {seen}",
        )
        result.validation.reasons.append(f"vendor {seen}: recognised as {canonical} by its {why}")
        return vendor_id

    def _insert(
        self, cur: Cursor, result: ExtractionResult, data: bytes, vector: np.ndarray, read_name: str | None = None
    ) -> tuple[int, int | None]:
        """Inside the writer transaction: document, vendor, invoice, line items, postings, embedding, run.

        `read_name`: the vendor name as read when recognise() replaced it (kept as an alias of the vendor).
        """
        doc = result.document
        again = sql.invoice_on_page(cur, doc.sha256, first_page(result))
        if again:  # stored meanwhile (another thread, or twice in one batch)
            return again
        document_id = sql.document_id(cur, doc.sha256)
        if document_id is None:
            document_id = sql.insert_document(cur, result, len(data), bool(data))
        party = result.invoice.vendor
        if read_name and read_name != party.name:
            party = party.model_copy(update={"name": read_name})
        vendor_id, _how, conflicts = self.resolver.resolve_with_conflicts(
            party, cur, vendor_identifiers(result.invoice, result.markdown)
        )
        flag_conflicts(result, conflicts)
        engine = engine_of(result)
        invoice_id = sql.insert_invoice(self.store, cur, result, vendor_id, document_id, engine)
        if conflicts:
            vendor_sql.claim_new_conflicts(cur, invoice_id)
        self.store.put_embedding(cur, invoice_id, self.sync.model_name, vector)
        sql.insert_run(cur, document_id, invoice_id, engine, dumps(result.timings), result.timings.get("total"))
        return invoice_id, vendor_id
