"""Re-read stored documents with what the history now knows, keeping every human correction.

Documents are read by the one reading unit (extraction.reading.DocumentReader): a reader process within the
per-document time budget, so one document that is too slow or crashes its reader fails only its invoice
(reported, nothing of it stored) and the others go on.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from extraction.identifiers import vendor_identifiers
from extraction.options import ExtractOptions
from extraction.reading import DocumentReader
from extraction.schema import ExtractionResult, FieldInfo, Invoice
from retrieval.hints import HintsSnapshot, snapshot_excluding
from retrieval.repository import invoices as sql
from retrieval.repository.database import dumps
from retrieval.review import set_dotted
from retrieval.textindex import embedding_text
from utils.errors import InvalidRequest, InvoiceOcrError, NotFound

if TYPE_CHECKING:
    from retrieval.service import InvoiceService


class RereadReport(BaseModel):
    """What a re-read did: invoices read again, those whose invoice changed, and those that failed."""

    reread: list[int] = Field(default_factory=list)
    changed: list[int] = Field(default_factory=list)
    hinted: list[int] = Field(default_factory=list, description="Read with a known vendor's hints.")
    failed: dict[int, str] = Field(default_factory=dict)
    engine: str | None = Field(None, description="The engine asked for; null: the default.")


def human_corrections(service: InvoiceService, invoice_id: int) -> list[tuple[str, Any, str]]:
    """(field, value, who) of every field a person corrected, the latest value per field, in order."""
    latest: dict[str, tuple[Any, str]] = {}
    for field, new, who in sql.human_corrections(service.store.cursor(), invoice_id):
        latest.pop(field, None)
        latest[field] = (json.loads(new) if new else None, who)
    return [(f, v, w) for f, (v, w) in latest.items()]


def _apply(result: ExtractionResult, corrections: list[tuple[str, Any, str]]) -> ExtractionResult:
    data = result.invoice.model_dump(mode="json")
    fields = dict(result.fields)
    for field, value, who in corrections:
        set_dotted(data, field, value)
        fields[field] = FieldInfo(value=value, confidence=1.0, source=f"corrected by {who}")
    return result.model_copy(update={"invoice": Invoice.model_validate(data), "fields": fields})


def reread_invoice(
    service: InvoiceService, invoice_id: int, who: str, engine: str | None, reader: DocumentReader
) -> tuple[bool, bool]:
    """Read one stored invoice's pages again with `reader` (with `engine`, else the default) and its vendor's hints.

    Returns (invoice changed, hints used).
    """
    path, _media_type, filename = service.document_file(invoice_id)
    row = sql.reread_row(service.store.cursor(), invoice_id)
    if not row:  # deleted in between
        raise NotFound(f"invoice {invoice_id} not found")
    first, last = row[0], row[1]
    pages = f"{first}-{last}" if first is not None and last is not None else None
    lookup = history_hints(service, invoice_id)
    results = reader.extract_invoices(
        path.read_bytes(), filename, ExtractOptions(pages=pages, engine=engine), hints=lookup
    )
    return store_reading(service, invoice_id, results[0], who)


def history_hints(service: InvoiceService, invoice_id: int) -> HintsSnapshot:
    """The hints lookup for re-reading an invoice: the history's snapshot without that invoice's own review."""
    return snapshot_excluding(service.hints, invoice_id)


def store_reading(service: InvoiceService, invoice_id: int, result: ExtractionResult, who: str) -> tuple[bool, bool]:
    """Store a new reading of a stored invoice's file, keeping every human correction and the invoice's status.

    The audit log records the re-read as an 'engine' entry (engines before and now).
    Returns (invoice changed, hints used).
    """
    with service.invoice_lock(invoice_id):  # a correction meanwhile would otherwise be lost
        row = sql.reread_row(service.store.cursor(), invoice_id)
        if not row:  # deleted in between
            raise NotFound(f"invoice {invoice_id} not found")
        _first, _last, vendor_id, status, raw = row
        before = ExtractionResult.model_validate_json(raw)
        if before.document.sha256 != result.document.sha256:
            raise InvalidRequest(f"invoice {invoice_id}: the new reading is of another file")
        result = result.model_copy(update={"page_range": before.page_range, "enrichment": None})
        service.recognise(result)
        corrections = human_corrections(service, invoice_id)
        result = _apply(result, corrections)
        result.validation = service.review.revalidate(result)
        if status == "approved":
            result.validation.needs_review = False
        hinted = "vendor_hints" in result.fields
        if hinted:  # as a first reading says it (the re-read itself is in the audit log, not a warning)
            result.validation.reasons.append(str(result.fields["vendor_hints"].source))
        vendor_corrected = any(f in ("vendor", "vendor.name") for f, _, _ in corrections)
        changed = result.invoice != before.invoice
        engines, engines_before = _engines(result), _engines(before)
        vector = service.embedder.encode_one(embedding_text(result))
        with service.store.transaction() as cur:
            if not vendor_corrected:
                vendor_id, _, _conflicts = service.resolver.resolve_with_conflicts(
                    result.invoice.vendor, cur, vendor_identifiers(result.invoice, result.markdown), invoice_id
                )
            result.invoice_id = invoice_id
            sql.update_invoice(service.store, cur, invoice_id, vendor_id, result)
            sql.set_status(cur, invoice_id, status)
            sql.add_correction(cur, invoice_id, "engine", dumps(engines_before), dumps(engines), who)
            service.store.put_embedding(cur, invoice_id, service.model_name, vector)
            sql.insert_run_of(cur, invoice_id, json.dumps(result.timings), result.timings.get("total"))
        service.index_vector(invoice_id, vector)
        return changed, hinted


def _engines(result: ExtractionResult) -> str | None:
    return ", ".join(sorted({p.engine for p in result.pages})) or None


def reread(
    service: InvoiceService,
    invoice_ids: list[int],
    who: str,
    engine: str | None = None,
    reader: DocumentReader | None = None,
) -> RereadReport:
    """Re-read several stored invoices; one that fails (or runs past its time budget) is reported, the others go on.

    Reads with `reader` (the server's), else with a reading unit of one reader process at the caller's
    priority, closed at the end.
    """
    from extraction.engines.registry import check_engine_name

    if engine is not None:
        check_engine_name(engine)
    report = RereadReport(engine=engine)
    if not invoice_ids:
        return report
    unit = reader or DocumentReader(service.settings, workers=1, background=False)
    try:
        for invoice_id in invoice_ids:
            try:
                changed, hinted = reread_invoice(service, invoice_id, who, engine, unit)
            except InvoiceOcrError as exc:
                report.failed[invoice_id] = exc.message
                continue
            report.reread.append(invoice_id)
            if changed:
                report.changed.append(invoice_id)
            if hinted:
                report.hinted.append(invoice_id)
    finally:
        if reader is None:
            unit.shutdown()
    return report
