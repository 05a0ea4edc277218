"""InvoiceService: everything the app needs from the invoice history, behind one facade.

The work is done by units with one job each: `index_sync` (the FAISS index kept in step with DuckDB),
`writer` (storing new results), `history` (reads), `review` (corrections, approvals, audit log),
`statistics` (health and dashboard figures), `search`, `vendors` / `vendor_records`, `hints`, `export`,
`reread`; every SQL statement lives in `retrieval.repository`.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import numpy as np

from extraction.reading import DocumentReader
from extraction.schema import ExtractionResult
from faiss_service.embeddings import get_embedder
from faiss_service.index import VectorIndex
from retrieval import statistics
from retrieval.export import export_rows, feedback_lines
from retrieval.hints import HistoryHints
from retrieval.history import InvoiceHistory
from retrieval.index_sync import IndexSync
from retrieval.models import (
    InvoicePage,
    InvoiceRecord,
    SearchFilters,
    SearchHit,
    SearchPage,
    SearchQuery,
    VendorEvent,
    VendorPage,
    VendorProfile,
)
from retrieval.repository.database import Store
from retrieval.review import Review
from retrieval.search import Searcher
from retrieval.vendor_records import VendorRecords
from retrieval.vendors import VendorResolver, vendor_profile
from retrieval.writer import ResultWriter
from utils.settings import Settings

if TYPE_CHECKING:
    from retrieval.reread import RereadReport

log = logging.getLogger(__name__)

INVOICE_LOCK_STRIPES = 64
_P = ParamSpec("_P")
_R = TypeVar("_R")


def one_writer_per_invoice(
    method: Callable[Concatenate[InvoiceService, int, _P], _R],
) -> Callable[Concatenate[InvoiceService, int, _P], _R]:
    """Run a method that reads and rewrites one invoice (its first argument) under that invoice's lock.

    Concurrent corrections of one invoice would otherwise each read the same stored version and the last
    write would drop the others' changes (and break the audit chain old -> new).
    """

    @functools.wraps(method)
    def locked(self: InvoiceService, invoice_id: int, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self.invoice_lock(invoice_id):
            return method(self, invoice_id, *args, **kwargs)

    return locked


class InvoiceService:
    """Everything the app needs from the history: one instance per process, built once (FastAPI lifespan / CLI)."""

    def __init__(self, settings: Settings, reader: DocumentReader | None = None) -> None:
        self.settings = settings
        self.reader = reader  # the reading unit re-reads use (the server's); None: each re-read starts its own
        self.store = Store(settings.db_path, settings.files_dir)
        self.embedder = get_embedder(settings.embedding_model, settings.embedding_backend, settings.embedding_threads)
        self.model_name = self.embedder.name
        self.resolver = VendorResolver(self.store, self.embedder)
        self.records = VendorRecords(self.store, self.resolver)
        self.hints = HistoryHints(self.store, self.resolver)
        self.sync = IndexSync(settings, self.store, self.embedder)
        self._index_lock = self.sync.lock
        self._invoice_locks = [threading.RLock() for _ in range(INVOICE_LOCK_STRIPES)]
        self.history = InvoiceHistory(self.store, self.embedder, self.resolver, self.sync)
        self.writer = ResultWriter(self.store, self.embedder, self.resolver, self.sync, self.history)
        self.review = Review(settings, self.store, self.embedder, self.resolver, self.records, self.sync, self.history)
        removed = self.store.remove_orphan_files()
        if removed:
            log.warning("removed %d stored files that no document names (an interrupted write)", removed)
        self.sync.open()
        self.searcher = Searcher(
            self.store, self.index, self.embedder, self.resolver, min_similarity=settings.semantic_min_score
        )

    # -- the vector index --------------------------------------------------------------------------
    @property
    def repaired(self) -> str | None:
        """What opening the history did to bring the index in line with DuckDB (None: nothing)."""
        return self.sync.repaired

    def index(self) -> VectorIndex:
        """The vector index (created empty when there is none yet)."""
        return self.sync.index()

    def save_index(self) -> None:
        """Write the index to disk now (atomically)."""
        self.sync.save()

    def index_vector(self, invoice_id: int, vector: np.ndarray) -> None:
        """Put one invoice's vector in the index (replacing its earlier one)."""
        self.sync.add([invoice_id], vector)

    def reindex(self) -> int:
        """Re-embed every stored invoice, rebuild the index and keyword postings, drop rows of deleted invoices."""
        return self.sync.reindex()

    def close(self) -> None:
        """Save the index and close the database."""
        try:
            self.sync.save_if_dirty()
        finally:
            self.searcher.close()
            self.store.close()

    # -- documents and storing -----------------------------------------------------------------------
    def has_document(self, sha256: str) -> bool:
        """Whether a file with this hash is stored with at least one invoice."""
        return self.history.has_document(sha256)

    def store_result(self, result: ExtractionResult, data: bytes, enrich: bool = True) -> ExtractionResult:
        """Store file, document, invoice, vendor, run and embedding; return the result with id and enrichment."""
        return self.store_many([(result, data)], enrich=enrich)[0]

    def store_many(self, items: list[tuple[ExtractionResult, bytes]], enrich: bool = True) -> list[ExtractionResult]:
        """Store several results in one transaction (embedded in one batch); each as store_result."""
        return self.writer.store_many(items, enrich=enrich)

    def recognise(self, result: ExtractionResult) -> int | None:
        """Give a result from a known vendor that vendor's canonical name, saying which identifier (or name) matched."""
        return self.writer.recognise(result)

    def record_failure(self, filename: str, error_code: str, engine: str | None) -> None:
        """Count one failed extraction, for error-rate figures."""
        self.store.record_failure(filename, error_code, engine)

    # -- enrichment and search -------------------------------------------------------------------------
    def enrich(self, result: ExtractionResult) -> dict:
        """Enrichment without storing: vendor context, similar invoices, duplicates, anomalies."""
        return self.history.enrich(result)

    def search(self, query: SearchQuery) -> list[SearchHit]:
        """Hybrid, semantic or keyword search with filters."""
        return self.searcher.search(query)

    async def search_async(self, query: SearchQuery) -> list[SearchHit]:
        """search() on an event loop: awaits the query's embedding instead of blocking the loop on it."""
        return await self.searcher.search_async(query)

    def search_page(self, query: SearchQuery) -> SearchPage:
        """One page of hits with the number of matches in all and, when none, a message."""
        return self.searcher.search_page(query)

    async def search_page_async(self, query: SearchQuery) -> SearchPage:
        """search_page() on an event loop."""
        return await self.searcher.search_page_async(query)

    # -- vendors -------------------------------------------------------------------------------------
    def lookup_vendors(self, name: str, limit: int = 5) -> list[VendorProfile]:
        """Vendors for a typed name, best first (tolerates typos, suffixes, partial names)."""
        out = []
        for vendor_id, score, matched in self.resolver.lookup(name, limit):
            profile = vendor_profile(self.store, vendor_id)
            out.append(profile.model_copy(update={"score": score, "matched": matched}))
        return out

    def get_vendor(self, vendor_id: int) -> VendorProfile:
        """One vendor with its profile; NotFound."""
        return vendor_profile(self.store, vendor_id)

    def list_vendors(self, limit: int = 100, offset: int = 0) -> VendorPage:
        """A page of every vendor, by name."""
        return self.records.list(limit, offset)

    def rename_vendor(self, vendor_id: int, name: str, who: str) -> VendorProfile:
        """Rename a vendor (the old name stays an alias); Conflict when another vendor has the name."""
        self.records.rename(vendor_id, name, who)
        return self.get_vendor(vendor_id)

    def merge_vendors(self, source: int, target: int, who: str) -> VendorProfile:
        """Merge vendor `source` into `target`; Conflict when their tax ids or registrations differ."""
        self.records.merge(source, target, who)
        return self.get_vendor(target)

    def vendor_events(self, vendor_id: int | None = None) -> list[VendorEvent]:
        """The vendor audit log (renames, merges, invoices moved by corrections), oldest first."""
        return self.records.events(vendor_id)

    def vendor_hints(self, vendor_id: int) -> dict[str, Any] | None:
        """What the vendor's reviewed invoices taught (VendorHints as JSON), or None before any review."""
        hints = self.hints.for_vendor(vendor_id)
        return None if hints is None else dataclasses.asdict(hints)

    # -- invoices: reads -------------------------------------------------------------------------------
    def list_invoices(
        self, filters: SearchFilters, limit: int = 50, offset: int = 0, vendor_id: int | None = None
    ) -> InvoicePage:
        """A page of invoices, newest first, with the total count."""
        return self.history.list_invoices(filters, limit, offset, vendor_id)

    def review_queue(self, limit: int = 200, exclude: int | None = None) -> InvoicePage:
        """Invoices that need review and are not approved, oldest first (by when they were stored)."""
        return self.history.review_queue(limit, exclude)

    def get_invoice(self, invoice_id: int) -> InvoiceRecord:
        """One stored invoice with its extraction, fresh enrichment and audit log; NotFound."""
        return self.history.get_invoice(invoice_id)

    def document_file(self, invoice_id: int) -> tuple[Path, str, str]:
        """(path, media_type, filename) of the original file; NotFound."""
        return self.history.document_file(invoice_id)

    # -- invoices: review and audit ---------------------------------------------------------------------
    def invoice_lock(self, invoice_id: int) -> threading.RLock:
        """The lock every read-then-rewrite of this invoice holds (corrections, approvals, re-reads)."""
        return self._invoice_locks[invoice_id % INVOICE_LOCK_STRIPES]

    @one_writer_per_invoice
    def correct_invoice(self, invoice_id: int, changes: dict[str, Any], who: str) -> InvoiceRecord:
        """Apply corrections (dotted fields), keep the old values in the audit log, re-validate and re-index."""
        self.review.correct(invoice_id, changes, who)
        return self.get_invoice(invoice_id)

    def reread_invoice(self, invoice_id: int, result: ExtractionResult, who: str) -> InvoiceRecord:
        """Store a new reading of an invoice's file (another engine, say): corrections and status kept, audited.

        Holds the invoice's lock while it rewrites it (`store_reading`).
        """
        from retrieval.reread import store_reading

        store_reading(self, invoice_id, result, who)
        return self.get_invoice(invoice_id)

    @one_writer_per_invoice
    def approve_invoice(self, invoice_id: int, who: str) -> InvoiceRecord:
        """Mark an invoice approved (audit entry)."""
        self.review.approve(invoice_id, who)
        return self.get_invoice(invoice_id)

    @one_writer_per_invoice
    def delete_invoice(self, invoice_id: int) -> None:
        """Remove an invoice, its line items, embedding and index entry; the audit log stays."""
        self.review.delete(invoice_id)

    def reread(
        self,
        vendor: str | None = None,
        needs_review: bool | None = None,
        who: str = "system",
        invoice_ids: list[int] | None = None,
        engine: str | None = None,
    ) -> RereadReport:
        """Re-read stored invoices (these ids, of one vendor, or in review) with current history; corrections kept.

        `engine` reads the pages with that engine (a registry name) instead of the settings' default.
        """
        from retrieval.reread import reread

        return reread(self, self.history.select(vendor, needs_review, invoice_ids), who, engine, self.reader)

    # -- export and figures ------------------------------------------------------------------------------
    def export(self, filters: SearchFilters, fmt: str) -> Iterator[str]:
        """'csv' | 'jsonl': chunks of text."""
        return export_rows(self.store, filters, fmt, self.resolver)

    def feedback_export(self) -> Iterator[str]:
        """JSON lines: raw markdown, the invoice as extracted and as corrected, and its vendor's learned hints."""
        return feedback_lines(self.store, self.vendor_hints)

    def health(self) -> dict:
        """Store and index state, and whether they agree."""
        return statistics.health(self.store, self.sync)

    def dashboard(self) -> dict:
        """Documents per day, latency p50/p90 per engine, error rate, approved-without-edits share, backlog."""
        return statistics.dashboard(self.store)
