"""InvoiceService: everything the app needs from the invoice history, behind one facade."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from pydantic import ValidationError

from extraction.identifiers import vendor_identifiers
from extraction.schema import MAX_TEXT_CHARS, ExtractionResult, FieldInfo, Invoice, check_amounts, long_texts
from faiss_service.embeddings import get_embedder
from faiss_service.index import VectorIndex, read_meta
from retrieval.enrich import build_enrichment
from retrieval.export import export_rows
from retrieval.hints import HistoryHints
from retrieval.models import (
    Correction,
    InvoicePage,
    InvoiceRecord,
    InvoiceSummary,
    SearchFilters,
    SearchHit,
    SearchPage,
    SearchQuery,
    VendorEvent,
    VendorPage,
    VendorProfile,
)
from retrieval.search import Searcher, filter_sql
from retrieval.store import INVOICE_PARTY_FIELDS, Store, dumps
from retrieval.textindex import embedding_text, search_text
from retrieval.vendor_records import VendorRecords
from retrieval.vendors import MATCH_CONFIDENCE, VendorResolver, normalize_code, vendor_profile
from utils.dotted import get_path, set_path
from utils.errors import IndexCorrupt, InvalidRequest, NotFound
from utils.hashing import sha256_hex
from utils.settings import Settings

log = logging.getLogger(__name__)

SAVE_EVERY_WRITES = 500  # the index is derived state: saving it is an optimisation, repaired on start
SAVE_EVERY_SECONDS = 60.0
_MONEY_FIELDS = ("subtotal", "tax_total", "total", "amount_due")
INVOICE_LOCK_STRIPES = 64
_Method = TypeVar("_Method", bound=Callable[..., Any])


def _engine_of(result: ExtractionResult) -> str | None:
    engines = Counter(p.engine for p in result.pages if p.engine)
    return "+".join(sorted(engines)) if engines else None


def _first_page(result: ExtractionResult) -> int | None:
    return result.page_range[0] if result.page_range else None


def _model_dim(path: Path) -> int | None:
    """The embedding dimension read from a sentence-transformers folder, without loading the model."""
    try:
        pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
        return int(pooling["word_embedding_dimension"])
    except (OSError, ValueError, KeyError):
        return None


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> Any:
    too_long = long_texts(value, path=dotted)
    if too_long:  # refused before anything reads it: vendor resolution on a 300 kB name held the server 25 s
        raise InvalidRequest(f"{too_long[0]} is longer than {MAX_TEXT_CHARS} characters")
    try:
        return set_path(target, dotted, value)
    except KeyError:
        raise InvalidRequest(f"unknown field {dotted!r}") from None


def _flag_conflicts(result: ExtractionResult, conflicts: list[dict[str, Any]]) -> None:
    """Flag a result whose vendor shares a tax id, IBAN or registration with another vendor."""
    for c in conflicts:
        result.validation.reasons.append(
            f"{c['kind'].replace('_', ' ')} {c['value']} is also claimed by vendor {c['vendor_id']} ({c['vendor']}):"
            " flagged, not merged"
        )
    if conflicts:
        result.validation.needs_review = True


def one_writer_per_invoice(method: _Method) -> _Method:
    """Run a method that reads and rewrites one invoice (its first argument) under that invoice's lock.

    Concurrent corrections of one invoice would otherwise each read the same stored version and the last
    write would drop the others' changes (and break the audit chain old -> new).
    """

    @functools.wraps(method)
    def locked(self: InvoiceService, invoice_id: int, *args: Any, **kwargs: Any) -> Any:
        with self._invoice_locks[invoice_id % INVOICE_LOCK_STRIPES]:
            return method(self, invoice_id, *args, **kwargs)

    return locked  # type: ignore[return-value]


class InvoiceService:
    """Everything the app needs from the history: one instance per process, built once (FastAPI lifespan / CLI)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.db_path, settings.files_dir)
        self.embedder = get_embedder(settings.embedding_model, settings.embedding_backend, settings.embedding_threads)
        self.model_name = self.embedder.name
        self.resolver = VendorResolver(self.store, self.embedder)
        self.records = VendorRecords(self.store, self.resolver)
        self.hints = HistoryHints(self.store, self.resolver)
        self._index_lock = threading.RLock()
        self._invoice_locks = [threading.RLock() for _ in range(INVOICE_LOCK_STRIPES)]
        self._index: VectorIndex | None = None
        self._dirty_writes = 0
        self._last_save = time.monotonic()
        self.repaired: str | None = None
        removed = self.store.remove_orphan_files()
        if removed:
            log.warning("removed %d stored files that no document names (an interrupted write)", removed)
        self._open_index()
        self.searcher = Searcher(
            self.store, self.index, self.embedder, self.resolver, min_similarity=settings.semantic_min_score
        )

    # -- the vector index --------------------------------------------------------------------------
    def _dim(self) -> int:
        dim = _model_dim(self.embedder.path)
        return dim if dim else self.embedder.dim

    def index(self) -> VectorIndex:
        """The vector index (created empty when there is none yet)."""
        index = self._index
        if index is not None:  # no lock: writers hold it while saving, and readers must not wait on that
            return index
        with self._index_lock:
            if self._index is None:
                self._index = VectorIndex(self._dim(), self.model_name, self.settings.hnsw_threshold)
            return self._index

    def _open_index(self) -> None:
        """Load the saved index and bring it in line with DuckDB: repair small gaps, rebuild otherwise."""
        index_dir = self.settings.index_dir
        other_models = self.store.scalar("SELECT count(*) FROM embeddings WHERE model <> ?", [self.model_name])
        if other_models:
            # Stored vectors come from another model: they cannot be mixed with this one's.
            self.repaired = "re-embedded: model changed"
            self.reindex()
            return
        with self.store.transaction() as cur:
            dropped = self.store.drop_orphans(cur)
        if dropped:
            log.warning("dropped %d rows of deleted invoices", dropped)
        meta = read_meta(index_dir)
        try:
            loaded = VectorIndex.load(index_dir, self.settings.hnsw_threshold) if meta else None
        except IndexCorrupt as exc:
            log.warning("rebuilding the vector index: %s", exc.args[0])
            loaded = None
        if loaded is not None and (loaded.model != self.model_name or loaded.dim != self._dim()):
            loaded = None
        db_ids = self.store.embedding_ids()
        if loaded is None:
            self._index = VectorIndex(self._dim(), self.model_name, self.settings.hnsw_threshold)
            if len(db_ids) or meta is not None or index_dir.exists():
                self._rebuild_from_store()
                self.repaired = "rebuilt from stored embeddings"
            return
        self._index = loaded
        index_ids = loaded.ids()
        missing = np.setdiff1d(db_ids, index_ids)
        extra = np.setdiff1d(index_ids, db_ids)
        if missing.size or extra.size:
            if extra.size:
                loaded.remove(extra)
            if missing.size:
                ids, vectors = self.store.embeddings(missing.tolist())
                loaded.add(ids, vectors)
            self.repaired = f"repaired: {missing.size} added, {extra.size} removed"
            self.save_index()

    def _rebuild_from_store(self) -> int:
        ids, vectors = self.store.embeddings(model=self.model_name)
        index = self.index()
        index.rebuild(ids, vectors if len(ids) else np.zeros((0, index.dim), np.float32))
        self.save_index()
        return len(ids)

    def save_index(self) -> None:
        """Write the index to disk now (atomically)."""
        with self._index_lock:
            self.index().save(self.settings.index_dir)
            self._dirty_writes = 0
            self._last_save = time.monotonic()

    def _after_write(self, n: int = 1) -> None:
        self._dirty_writes += n
        if self._dirty_writes >= SAVE_EVERY_WRITES or time.monotonic() - self._last_save > SAVE_EVERY_SECONDS:
            self.save_index()

    def close(self) -> None:
        """Save the index and close the database."""
        try:
            if self._dirty_writes:
                self.save_index()
        finally:
            self.searcher.close()
            self.store.close()

    # -- documents and storing -----------------------------------------------------------------------
    def has_document(self, sha256: str) -> bool:
        """Whether a file with this hash is stored with at least one invoice."""
        return bool(
            self.store.scalar(
                "SELECT count(*) FROM documents d JOIN invoices i ON i.document_id = d.id WHERE d.sha256 = ?", [sha256]
            )
        )

    def _existing_invoice(self, sha256: str, page_first: int | None) -> int | None:
        row = self.store.fetch(
            "SELECT i.id FROM invoices i JOIN documents d ON d.id = i.document_id WHERE d.sha256 = ?"
            " AND coalesce(i.page_first, 1) = coalesce(?, 1) ORDER BY i.id LIMIT 1",
            [sha256, page_first],
        )
        return int(row[0][0]) if row else None

    def store_result(self, result: ExtractionResult, data: bytes, enrich: bool = True) -> ExtractionResult:
        """Store file, document, invoice, vendor, run and embedding; return the result with id and enrichment."""
        return self.store_many([(result, data)], enrich=enrich)[0]

    def store_many(self, items: list[tuple[ExtractionResult, bytes]], enrich: bool = True) -> list[ExtractionResult]:
        """Store several results in one transaction (embedded in one batch); each as store_result."""
        prepared = []
        for result, data in items:
            check_amounts(result.invoice, result.document.filename)  # before anything of the batch is written
            if data:
                sha = sha256_hex(data)
                if sha != result.document.sha256:
                    result = result.model_copy(update={"document": result.document.model_copy(update={"sha256": sha})})
            prepared.append((result, data))
        new = [(r, d) for r, d in prepared if self._existing_invoice(r.document.sha256, _first_page(r)) is None]
        read_names = {}
        for r, _ in new:
            read_names[id(r)] = r.invoice.vendor.name
            self.recognise(r)
        vectors = self.embedder.encode([embedding_text(r) for r, _ in new]) if new else []
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
            with self._index_lock:
                fresh = [(i, v) for i, _, v in stored_ids.values()]
                self.index().add([i for i, _ in fresh], np.vstack([v for _, v in fresh]))
                self._after_write(len(fresh))
        out = []
        for result, _data in prepared:
            if id(result) in stored_ids:
                invoice_id, vendor_id, vector = stored_ids[id(result)]
                stored = result.model_copy(update={"invoice_id": invoice_id})
                if enrich:
                    stored.enrichment = build_enrichment(
                        self.store, self.index(), stored, vector, vendor_id, invoice_id
                    )
                out.append(stored)
                continue
            existing = self._existing_invoice(result.document.sha256, _first_page(result))
            stored = self.get_invoice(existing).result if existing is not None else result
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
        canonical = self.store.scalar("SELECT name FROM vendors WHERE id = ?", [vendor_id])
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
        self, cur: Any, result: ExtractionResult, data: bytes, vector: np.ndarray, read_name: str | None = None
    ) -> tuple[int, int | None]:
        """Inside the writer transaction: document, vendor, invoice, line items, postings, embedding, run.

        `read_name`: the vendor name as read when recognise() replaced it (kept as an alias of the vendor).
        """
        doc = result.document
        page_first, page_last = (result.page_range or [None, None])[:2]
        again = cur.execute(
            "SELECT i.id, i.vendor_id FROM invoices i JOIN documents d ON d.id = i.document_id WHERE d.sha256 = ?"
            " AND coalesce(i.page_first, 1) = coalesce(?, 1)",
            [doc.sha256, page_first],
        ).fetchone()
        if again:  # stored meanwhile (another thread, or twice in one batch)
            return int(again[0]), again[1]
        row = cur.execute("SELECT id FROM documents WHERE sha256 = ?", [doc.sha256]).fetchone()
        if row:
            document_id = int(row[0])
        else:
            document_id = int(
                cur.execute(
                    "INSERT INTO documents (sha256, filename, media_type, page_count, size, stored_path)"
                    " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    [
                        doc.sha256,
                        doc.filename,
                        doc.media_type,
                        doc.page_count,
                        len(data),
                        f"files/{doc.sha256}" if data else None,
                    ],
                ).fetchone()[0]
            )
        party = result.invoice.vendor
        if read_name and read_name != party.name:
            party = party.model_copy(update={"name": read_name})
        vendor_id, _how, conflicts = self.resolver.resolve_with_conflicts(
            party, cur, vendor_identifiers(result.invoice, result.markdown)
        )
        _flag_conflicts(result, conflicts)
        cols = self._invoice_columns(cur, vendor_id, result)
        cols |= {"document_id": document_id, "page_first": page_first, "page_last": page_last}
        cols["engine"] = _engine_of(result)
        names = ", ".join(cols)
        marks = ", ".join("?" for _ in cols)
        invoice_id = int(
            cur.execute(
                f"INSERT INTO invoices ({names}) VALUES ({marks}) RETURNING id", list(cols.values())
            ).fetchone()[0]
        )
        self._write_children(cur, invoice_id, result, cols["search_text"])
        if conflicts:
            cur.execute("UPDATE vendor_conflicts SET invoice_id = ? WHERE invoice_id IS NULL", [invoice_id])
        self.store.put_embedding(cur, invoice_id, self.model_name, vector)
        cur.execute(
            "INSERT INTO extraction_runs (document_id, invoice_id, engine, timings, seconds) VALUES (?, ?, ?, ?, ?)",
            [document_id, invoice_id, cols["engine"], dumps(result.timings), result.timings.get("total")],
        )
        return invoice_id, vendor_id

    def _invoice_columns(self, cur: Any, vendor_id: int | None, result: ExtractionResult) -> dict[str, Any]:
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

    def _write_children(self, cur: Any, invoice_id: int, result: ExtractionResult, text: str) -> None:
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
        self.store.index_text(cur, invoice_id, text)

    def _update_invoice(self, cur: Any, invoice_id: int, vendor_id: int | None, result: ExtractionResult) -> None:
        cols = self._invoice_columns(cur, vendor_id, result)
        sets = ", ".join(f"{k} = ?" for k in cols)
        cur.execute(
            f"UPDATE invoices SET {sets}, updated_at = current_timestamp WHERE id = ?", [*cols.values(), invoice_id]
        )
        self._write_children(cur, invoice_id, result, cols["search_text"])

    # -- enrichment and search -------------------------------------------------------------------------
    def enrich(self, result: ExtractionResult) -> dict:
        """Enrichment without storing: vendor context, similar invoices, duplicates, anomalies."""
        vendor_id, _ = self.resolver.match(result.invoice.vendor)
        vector = self.embedder.encode_one(embedding_text(result))
        return build_enrichment(self.store, self.index(), result, vector, vendor_id, result.invoice_id)

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

    def reread(
        self,
        vendor: str | None = None,
        needs_review: bool | None = None,
        who: str = "system",
        invoice_ids: list[int] | None = None,
        engine: str | None = None,
    ) -> Any:
        """Re-read stored invoices (these ids, of one vendor, or in review) with current history; corrections kept.

        `engine` reads the pages with that engine (a registry name) instead of the settings' default.
        """
        from retrieval.reread import reread

        where, params = filter_sql(SearchFilters(vendor=vendor, needs_review=needs_review), self.resolver)
        if invoice_ids is not None:
            if not invoice_ids:
                return reread(self, [], who, engine)
            where += f" AND i.id IN ({', '.join('?' for _ in invoice_ids)})"
            params.extend(int(i) for i in invoice_ids)
        rows = self.store.fetch(f"SELECT i.id FROM invoices i WHERE true {where} ORDER BY i.id", params)
        ids = [int(r[0]) for r in rows]
        return reread(self, ids, who, engine)

    def index_vector(self, invoice_id: int, vector: np.ndarray) -> None:
        """Put one invoice's vector in the index (replacing its earlier one)."""
        with self._index_lock:
            self.index().add([invoice_id], vector)
            self._after_write()

    # -- invoices -------------------------------------------------------------------------------------
    _SUMMARY = (
        "SELECT i.id, i.vendor_id, i.vendor_name AS vendor, i.invoice_number, i.invoice_date, i.due_date, i.total,"
        " i.currency, i.needs_review, i.status, d.filename, d.sha256, i.created_at"
        " FROM invoices i LEFT JOIN documents d ON d.id = i.document_id WHERE true"
    )

    def list_invoices(
        self, filters: SearchFilters, limit: int = 50, offset: int = 0, vendor_id: int | None = None
    ) -> InvoicePage:
        """A page of invoices, newest first, with the total count."""
        where, params = filter_sql(filters, self.resolver)
        if vendor_id is not None:
            where += " AND i.vendor_id = ?"
            params.append(vendor_id)
        total = self.store.scalar(f"SELECT count(*) FROM invoices i WHERE true {where}", params)
        rows = self.store.fetch_dicts(
            self._SUMMARY + where + " ORDER BY i.invoice_date DESC NULLS LAST, i.id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return InvoicePage(items=[InvoiceSummary(**r) for r in rows], total=int(total or 0), limit=limit, offset=offset)

    def review_queue(self, limit: int = 200, exclude: int | None = None) -> InvoicePage:
        """Invoices that need review and are not approved, oldest first (by when they were stored)."""
        where = " AND i.needs_review AND i.status <> 'approved'"
        params: list[Any] = []
        if exclude is not None:
            where += " AND i.id <> ?"
            params.append(exclude)
        total = self.store.scalar(f"SELECT count(*) FROM invoices i WHERE true {where}", params)
        rows = self.store.fetch_dicts(self._SUMMARY + where + " ORDER BY i.created_at, i.id LIMIT ?", [*params, limit])
        return InvoicePage(items=[InvoiceSummary(**r) for r in rows], total=int(total or 0), limit=limit, offset=0)

    def get_invoice(self, invoice_id: int) -> InvoiceRecord:
        """One stored invoice with its extraction, fresh enrichment and audit log; NotFound."""
        rows = self.store.fetch_dicts(
            self._SUMMARY.replace("FROM invoices", ", i.result FROM invoices") + " AND i.id = ?", [invoice_id]
        )
        if not rows:
            raise NotFound(f"invoice {invoice_id} not found")
        row = rows[0]
        result = ExtractionResult.model_validate_json(row.pop("result"))
        result.invoice_id = invoice_id
        vectors = self.store.embeddings([invoice_id])[1]
        vector = vectors[0] if len(vectors) else None
        result.enrichment = build_enrichment(self.store, self.index(), result, vector, row["vendor_id"], invoice_id)
        corrections = [
            Correction(field=f, old=json.loads(o) if o else None, new=json.loads(n) if n else None, who=w, at=a)
            for f, o, n, w, a in self.store.fetch(
                "SELECT field, old, new, who, changed_at FROM corrections WHERE invoice_id = ? ORDER BY id",
                [invoice_id],
            )
        ]
        return InvoiceRecord(**row, result=result, corrections=corrections)

    def _stored_result(self, invoice_id: int) -> tuple[ExtractionResult, int | None]:
        row = self.store.fetch("SELECT result, vendor_id FROM invoices WHERE id = ?", [invoice_id])
        if not row:
            raise NotFound(f"invoice {invoice_id} not found")
        return ExtractionResult.model_validate_json(row[0][0]), row[0][1]

    @one_writer_per_invoice
    def correct_invoice(self, invoice_id: int, changes: dict[str, Any], who: str) -> InvoiceRecord:
        """Apply corrections (dotted fields), keep the old values in the audit log, re-validate and re-index."""
        if not changes:
            raise InvalidRequest("no changes given")
        result, vendor_id = self._stored_result(invoice_id)
        data = result.invoice.model_dump(mode="json")
        audit = []
        for field, value in changes.items():
            old = _set_dotted(data, field, value)
            audit.append((field, old, value))
        try:
            invoice = Invoice.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise InvalidRequest(f"invalid correction: {problems}") from exc
        check_amounts(invoice, f"correction of invoice {invoice_id}")
        fields = dict(result.fields)
        validated = invoice.model_dump(mode="json")
        for n, (field, old, _new) in enumerate(audit):
            value = get_path(validated, field)
            audit[n] = (field, old, value)
            fields[field] = FieldInfo(value=value, confidence=1.0, source=f"corrected by {who}")
        result = result.model_copy(update={"invoice": invoice, "fields": fields, "enrichment": None})
        result.validation = self._revalidate(result)
        vector = self.embedder.encode_one(embedding_text(result))
        read_name = None
        for f, old, _ in audit:
            if f == "vendor.name":
                read_name = old
            elif f == "vendor" and isinstance(old, dict):
                read_name = old.get("name")
        with self.store.transaction() as cur:
            # Checked in the writing transaction: a delete that won the race leaves nothing to write rows for.
            if not cur.execute("SELECT count(*) FROM invoices WHERE id = ?", [invoice_id]).fetchone()[0]:
                raise NotFound(f"invoice {invoice_id} not found")
            if any(f == "vendor" or f.startswith("vendor.") for f, _, _ in audit):
                identifiers = vendor_identifiers(invoice, result.markdown)
                if any(f in ("vendor", "vendor.name") for f, _, _ in audit):
                    vendor_id, conflicts = self.records.follow_correction(
                        cur, invoice_id, vendor_id, read_name, invoice.vendor, identifiers, who
                    )
                elif vendor_id is not None:
                    conflicts = self.resolver.add_aliases(cur, vendor_id, invoice.vendor, identifiers, invoice_id)
                else:
                    vendor_id, _, conflicts = self.resolver.resolve_with_conflicts(
                        invoice.vendor, cur, identifiers, invoice_id
                    )
                _flag_conflicts(result, conflicts)
            result.invoice_id = invoice_id
            self._update_invoice(cur, invoice_id, vendor_id, result)
            cur.execute("UPDATE invoices SET status = 'corrected' WHERE id = ?", [invoice_id])
            for field, old, new in audit:
                cur.execute(
                    "INSERT INTO corrections (invoice_id, field, old, new, who) VALUES (?, ?, ?, ?, ?)",
                    [invoice_id, field, dumps(old), dumps(new), who],
                )
            self.store.put_embedding(cur, invoice_id, self.model_name, vector)
        with self._index_lock:
            self.index().add([invoice_id], vector)
            self._after_write()
        return self.get_invoice(invoice_id)

    @one_writer_per_invoice
    def reread_invoice(self, invoice_id: int, result: ExtractionResult, who: str) -> InvoiceRecord:
        """Replace an invoice's reading with a new one of the same file (status back to new; audit entry)."""
        old, _vendor_id = self._stored_result(invoice_id)
        if old.document.sha256 != result.document.sha256:
            raise InvalidRequest(f"invoice {invoice_id}: the new reading is of another file")
        result = result.model_copy(update={"invoice_id": invoice_id, "enrichment": None})
        vector = self.embedder.encode_one(embedding_text(result))
        engines = ", ".join(sorted({p.engine for p in result.pages})) or None
        before = ", ".join(sorted({p.engine for p in old.pages})) or None
        with self.store.transaction() as cur:
            vendor_id, _ = self.resolver.resolve(result.invoice.vendor, cur)
            self._update_invoice(cur, invoice_id, vendor_id, result)
            cur.execute("UPDATE invoices SET status = 'new' WHERE id = ?", [invoice_id])
            cur.execute(
                "INSERT INTO corrections (invoice_id, field, old, new, who) VALUES (?, 'engine', ?, ?, ?)",
                [invoice_id, dumps(before), dumps(engines), who],
            )
            self.store.put_embedding(cur, invoice_id, self.model_name, vector)
        with self._index_lock:
            self.index().add([invoice_id], vector)
            self._after_write()
        return self.get_invoice(invoice_id)

    def _revalidate(self, result: ExtractionResult) -> Any:
        try:
            from extraction.validate import validate
        except ImportError:  # validation module not available: keep the previous verdict
            return result.validation
        return validate(result.invoice, result.fields, [], self.settings.low_confidence)

    @one_writer_per_invoice
    def approve_invoice(self, invoice_id: int, who: str) -> InvoiceRecord:
        """Mark an invoice approved (audit entry)."""
        self._stored_result(invoice_id)
        with self.store.transaction() as cur:
            old = cur.execute("SELECT status FROM invoices WHERE id = ?", [invoice_id]).fetchone()[0]
            cur.execute(
                "UPDATE invoices SET status = 'approved', needs_review = false, updated_at = current_timestamp"
                " WHERE id = ?",
                [invoice_id],
            )
            cur.execute(
                "INSERT INTO corrections (invoice_id, field, old, new, who) VALUES (?, 'status', ?, ?, ?)",
                [invoice_id, dumps(old), dumps("approved"), who],
            )
        return self.get_invoice(invoice_id)

    @one_writer_per_invoice
    def delete_invoice(self, invoice_id: int) -> None:
        """Remove an invoice, its line items, embedding and index entry; the audit log stays."""
        with self.store.transaction() as cur:
            row = cur.execute("SELECT document_id FROM invoices WHERE id = ?", [invoice_id]).fetchone()
            if not row:
                raise NotFound(f"invoice {invoice_id} not found")
            document_id = row[0]
            for table, key in (("line_items", "invoice_id"), ("embeddings", "invoice_id"), ("invoices", "id")):
                cur.execute(f"DELETE FROM {table} WHERE {key} = ?", [invoice_id])
            self.store.unindex_text(cur, invoice_id)
            left = cur.execute("SELECT count(*) FROM invoices WHERE document_id = ?", [document_id]).fetchone()[0]
            sha = None
            if not left:
                sha = cur.execute("SELECT sha256 FROM documents WHERE id = ?", [document_id]).fetchone()[0]
                cur.execute("DELETE FROM documents WHERE id = ?", [document_id])
        if sha:
            self.store.file_path(sha).unlink(missing_ok=True)
        with self._index_lock:
            self.index().remove([invoice_id])
            self._after_write()

    def document_file(self, invoice_id: int) -> tuple[Path, str, str]:
        """(path, media_type, filename) of the original file; NotFound."""
        row = self.store.fetch(
            "SELECT d.sha256, d.media_type, d.filename FROM invoices i JOIN documents d ON d.id = i.document_id"
            " WHERE i.id = ?",
            [invoice_id],
        )
        if not row:
            raise NotFound(f"invoice {invoice_id} not found")
        sha, media_type, filename = row[0]
        path = self.store.file_path(sha)
        if not path.exists():
            raise NotFound(f"the original file of invoice {invoice_id} is not stored")
        return path, media_type or "application/octet-stream", filename or sha

    # -- export, maintenance, figures -------------------------------------------------------------------
    def export(self, filters: SearchFilters, fmt: str) -> Iterator[str]:
        """'csv' | 'jsonl': chunks of text."""
        return export_rows(self.store, filters, fmt, self.resolver)

    def feedback_export(self) -> Iterator[str]:
        """JSON lines: raw markdown, the invoice as extracted and as corrected, and its vendor's learned hints."""
        rows = self.store.fetch(
            "SELECT i.id, i.result, i.status, i.vendor_id FROM invoices i WHERE i.status IN ('corrected', 'approved')"
            " ORDER BY i.id"
        )
        learned: dict[int, dict[str, Any] | None] = {}
        for invoice_id, raw, status, vendor_id in rows:
            if vendor_id is not None and vendor_id not in learned:
                learned[vendor_id] = self.vendor_hints(vendor_id)
            result = json.loads(raw)
            corrected = result["invoice"]
            extracted = json.loads(json.dumps(corrected))
            for field, old in self.store.fetch(
                "SELECT field, old FROM corrections WHERE invoice_id = ? AND field <> 'status' ORDER BY id DESC",
                [invoice_id],
            ):
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

    def reindex(self) -> int:
        """Re-embed every stored invoice, rebuild the index and keyword postings, drop rows of deleted invoices."""
        rows = self.store.fetch("SELECT id, result FROM invoices ORDER BY id")
        batch = 256
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            results = [ExtractionResult.model_validate_json(r[1]) for r in chunk]
            vectors = self.embedder.encode([embedding_text(r) for r in results])
            with self.store.transaction() as cur:
                present = {
                    r[0]
                    for r in cur.execute(
                        "SELECT id FROM invoices WHERE list_contains(?::BIGINT[], id)", [[r[0] for r in chunk]]
                    ).fetchall()
                }
                for (invoice_id, _), result, vector in zip(chunk, results, vectors, strict=True):
                    if invoice_id not in present:  # deleted since it was read
                        continue
                    self.store.put_embedding(cur, invoice_id, self.model_name, vector)
                    self.store.index_text(cur, invoice_id, search_text(result, self._vendor_names(cur, invoice_id)))
        with self.store.transaction() as cur:
            cur.execute("DELETE FROM embeddings WHERE model <> ?", [self.model_name])
            self.store.drop_orphans(cur)
        self.store.compact_postings()
        with self._index_lock:
            return self._rebuild_from_store()

    def _vendor_names(self, cur: Any, invoice_id: int) -> list[str]:
        return [
            r[0]
            for r in cur.execute(
                "SELECT v.name FROM invoices i JOIN vendors v ON v.id = i.vendor_id WHERE i.id = ?", [invoice_id]
            ).fetchall()
        ]

    def record_failure(self, filename: str, error_code: str, engine: str | None) -> None:
        """Count one failed extraction, for error-rate figures."""
        self.store.record_failure(filename, error_code, engine)

    def health(self) -> dict:
        """Store and index state, and whether they agree."""
        invoice_ids = self.store.fetch_numpy("SELECT id FROM invoices ORDER BY id")["id"].astype(np.int64)
        invoices = len(invoice_ids)
        db_ids = self.store.embedding_ids(self.model_name)
        index = self.index()
        index_ids = index.ids()
        orphans = self.store.orphan_counts()
        # The index, the stored vectors and the invoices must name the same ids, and nothing may outlive its invoice.
        consistent = bool(
            np.array_equal(index_ids, invoice_ids) and np.array_equal(db_ids, invoice_ids) and not any(orphans.values())
        )
        return {
            "store": {
                "path": str(self.settings.db_path),
                "schema_version": self.store.schema_version(),
                "invoices": invoices,
                "documents": int(self.store.scalar("SELECT count(*) FROM documents") or 0),
                "vendors": int(self.store.scalar("SELECT count(*) FROM vendors") or 0),
            },
            "index": {
                "kind": index.kind,
                "count": index.count,
                "model": self.model_name,
                "dim": index.dim,
                "consistent": consistent,
                "missing": int(np.setdiff1d(invoice_ids, index_ids).size),
                "orphans": int(np.setdiff1d(index_ids, invoice_ids).size),
                "orphan_rows": orphans,
                "repaired": self.repaired,
            },
        }

    def dashboard(self) -> dict:
        """Documents per day, latency p50/p90 per engine, error rate, approved-without-edits share, backlog."""
        per_day = [
            {"day": d.isoformat(), "documents": int(n)}
            for d, n in self.store.fetch(
                "SELECT created_at::DATE AS day, count(*) FROM documents GROUP BY day ORDER BY day DESC LIMIT 60"
            )
        ]
        latency = {
            engine or "unknown": {"p50": p50, "p90": p90, "runs": int(n)}
            for engine, p50, p90, n in self.store.fetch(
                "SELECT engine, quantile_cont(seconds, 0.5), quantile_cont(seconds, 0.9), count(*)"
                " FROM extraction_runs WHERE seconds IS NOT NULL GROUP BY engine ORDER BY engine"
            )
        }
        runs = int(self.store.scalar("SELECT count(*) FROM extraction_runs") or 0)
        failures = int(self.store.scalar("SELECT count(*) FROM failures") or 0)
        approved = int(self.store.scalar("SELECT count(*) FROM invoices WHERE status = 'approved'") or 0)
        untouched = int(
            self.store.scalar(
                "SELECT count(*) FROM invoices i WHERE status = 'approved' AND NOT EXISTS"
                " (SELECT 1 FROM corrections c WHERE c.invoice_id = i.id AND c.field <> 'status')"
            )
            or 0
        )
        backlog = int(self.store.scalar("SELECT count(*) FROM invoices WHERE needs_review AND status = 'new'") or 0)
        return {
            "documents_per_day": per_day,
            "latency": latency,
            "error_rate": round(failures / (runs + failures), 4) if runs + failures else 0.0,
            "failures": failures,
            "runs": runs,
            "approved_without_edits": round(untouched / approved, 4) if approved else None,
            "review_backlog": backlog,
            "generated_at": dt.datetime.now(dt.UTC).isoformat(),
        }
