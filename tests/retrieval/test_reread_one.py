"""Reading one stored invoice again with another engine keeps what people corrected and its status."""

from __future__ import annotations

from decimal import Decimal

from extraction.options import ExtractOptions
from extraction.pipeline import extract
from retrieval.service import InvoiceService
from tests.builders import invoice_spec, make_invoice_pdf


def test_a_reading_with_another_engine_keeps_corrections_and_approval(service: InvoiceService) -> None:
    data = make_invoice_pdf(invoice_spec(vendor="Kestrel Optik AG", number="KO-17"))
    stored = service.store_result(extract(data, "ko.pdf", settings=service.settings), data)
    service.correct_invoice(stored.invoice_id, {"total": "999.99", "invoice_number": "KO-17/A"}, "dana")
    service.approve_invoice(stored.invoice_id, "dana")

    again = extract(data, "ko.pdf", ExtractOptions(engine="rapidocr", dpi=110), service.settings)
    assert again.invoice.total != Decimal("999.99")
    record = service.reread_invoice(stored.invoice_id, again, "erin")

    assert record.total == Decimal("999.99") and record.invoice_number == "KO-17/A"
    assert record.result.fields["total"].source == "corrected by dana"
    assert record.status == "approved" and not record.result.validation.needs_review
    assert {p.engine for p in record.result.pages} == {"rapidocr"}
    engine_entries = [c for c in record.corrections if c.field == "engine"]
    assert engine_entries and engine_entries[-1].new == "rapidocr" and engine_entries[-1].who == "erin"
