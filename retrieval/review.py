"""Review and audit: corrections, approvals, re-readings and deletions of stored invoices, each in the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from extraction.identifiers import vendor_identifiers
from extraction.schema import MAX_TEXT_CHARS, ExtractionResult, FieldInfo, Invoice, check_amounts, long_texts
from retrieval.repository import invoices as sql
from retrieval.repository.database import dumps
from retrieval.textindex import embedding_text
from retrieval.writer import flag_conflicts
from utils.dotted import get_path, set_path
from utils.errors import InvalidRequest, NotFound

if TYPE_CHECKING:
    from faiss_service.embeddings import Embedder
    from retrieval.history import InvoiceHistory
    from retrieval.index_sync import IndexSync
    from retrieval.repository.database import Store
    from retrieval.vendor_records import VendorRecords
    from retrieval.vendors import VendorResolver
    from utils.settings import Settings


def set_dotted(target: dict[str, Any], dotted: str, value: Any) -> Any:
    """Set a dotted field ('vendor.name') of an invoice's JSON to a value; the old value (InvalidRequest if unknown)."""
    too_long = long_texts(value, path=dotted)
    if too_long:  # refused before anything reads it: vendor resolution on a 300 kB name held the server 25 s
        raise InvalidRequest(f"{too_long[0]} is longer than {MAX_TEXT_CHARS} characters")
    try:
        return set_path(target, dotted, value)
    except KeyError:
        raise InvalidRequest(f"unknown field {dotted!r}") from None


class Review:
    """What people do to stored invoices; callers hold the invoice's lock (one writer per invoice)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        embedder: Embedder,
        resolver: VendorResolver,
        records: VendorRecords,
        sync: IndexSync,
        history: InvoiceHistory,
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.resolver = resolver
        self.records = records
        self.sync = sync
        self.history = history

    def revalidate(self, result: ExtractionResult) -> Any:
        """The validation verdict of a changed result (the previous one when validation cannot be loaded)."""
        try:
            from extraction.validate import validate
        except ImportError:  # validation module not available: keep the previous verdict
            return result.validation
        return validate(result.invoice, result.fields, [], self.settings.low_confidence)

    def correct(self, invoice_id: int, changes: dict[str, Any], who: str) -> None:
        """Apply corrections (dotted fields), keep the old values in the audit log, re-validate and re-index."""
        if not changes:
            raise InvalidRequest("no changes given")
        result, vendor_id = self.history.stored_result(invoice_id)
        data = result.invoice.model_dump(mode="json")
        audit = []
        for field, value in changes.items():
            old = set_dotted(data, field, value)
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
        result.validation = self.revalidate(result)
        vector = self.embedder.encode_one(embedding_text(result))
        read_name = None
        for f, old, _ in audit:
            if f == "vendor.name":
                read_name = old
            elif f == "vendor" and isinstance(old, dict):
                read_name = old.get("name")
        with self.store.transaction() as cur:
            # Checked in the writing transaction: a delete that won the race leaves nothing to write rows for.
            if not sql.exists(cur, invoice_id):
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
                flag_conflicts(result, conflicts)
            result.invoice_id = invoice_id
            sql.update_invoice(self.store, cur, invoice_id, vendor_id, result)
            sql.set_status(cur, invoice_id, "corrected")
            for field, old, new in audit:
                sql.add_correction(cur, invoice_id, field, dumps(old), dumps(new), who)
            self.store.put_embedding(cur, invoice_id, self.sync.model_name, vector)
        self.sync.add([invoice_id], vector)

    def approve(self, invoice_id: int, who: str) -> None:
        """Mark an invoice approved (audit entry)."""
        self.history.stored_result(invoice_id)
        with self.store.transaction() as cur:
            old = sql.status(cur, invoice_id)
            sql.approve(cur, invoice_id)
            sql.add_correction(cur, invoice_id, "status", dumps(old), dumps("approved"), who)

    def delete(self, invoice_id: int) -> None:
        """Remove an invoice, its line items, embedding and index entry; the audit log stays."""
        with self.store.transaction() as cur:
            found, sha = sql.delete(self.store, cur, invoice_id)
            if not found:
                raise NotFound(f"invoice {invoice_id} not found")
        if sha:
            self.store.file_path(sha).unlink(missing_ok=True)
        self.sync.remove([invoice_id])
