"""Re-read reads through the one reading unit: a document past its time budget fails alone, nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from extraction.reading import DocumentReader
from retrieval.reread import reread
from retrieval.service import InvoiceService
from tests.builders import blank_pdf, make_result, make_settings, simple_invoice_pdf


def _runs(service: InvoiceService, invoice_id: int) -> int:
    return service.store.scalar("SELECT count(*) FROM extraction_runs WHERE invoice_id = ?", [invoice_id])


# With reader processes the budget also covers starting a fresh reader after the slow one was stopped.
@pytest.mark.parametrize(("processes", "budget"), [(True, 20.0), (False, 5.0)], ids=["reader-process", "in-process"])
def test_a_document_past_its_budget_fails_its_invoice_only_and_nothing_of_it_is_stored(
    tmp_path: Path, embedder, processes: bool, budget: float
) -> None:
    # 300 blank pages go to OCR (about 0.5 s a page): far past the budget; a text-layer invoice is well within it.
    settings = make_settings(tmp_path / "data", extract_workers=1, document_timeout=budget, extract_processes=processes)
    service = InvoiceService(settings)
    reader = DocumentReader(settings)
    try:
        slow = service.store_result(make_result(number="SLOW-1")[0], blank_pdf(300), enrich=False)
        pdf = simple_invoice_pdf("Wayne Enterprises Inc", "WE-2024-7", "03.04.2024", [("Cape", "90.00")], "90.00")
        fine = service.store_result(make_result(vendor="Wayne Enterprises Inc", number="WE-2024-7")[0], pdf)
        reader.extract_invoices(pdf, "warm.pdf")  # engines loaded (and a reader started) before the clock matters
        before, runs = service.get_invoice(slow.invoice_id).result, _runs(service, slow.invoice_id)

        report = reread(service, [slow.invoice_id, fine.invoice_id], "erin", reader=reader)

        assert list(report.failed) == [slow.invoice_id] and report.reread == [fine.invoice_id]
        assert "INVOICE_OCR_DOCUMENT_TIMEOUT" in report.failed[slow.invoice_id]
        after = service.get_invoice(slow.invoice_id).result  # (its similar-invoices enrichment may move on)
        assert (after.invoice, after.validation, after.timings) == (before.invoice, before.validation, before.timings)
        assert _runs(service, slow.invoice_id) == runs
        again = service.get_invoice(fine.invoice_id)
        assert again.result.invoice.total == 90 and ("engine", "erin") in [(c.field, c.who) for c in again.corrections]
    finally:
        reader.shutdown()
        service.close()


def test_the_service_rereads_with_the_reader_it_was_given(tmp_path: Path, embedder) -> None:
    # The server opens its InvoiceService with its own reading unit: re-reads from the API and the page use it.
    settings = make_settings(tmp_path / "data", extract_workers=1, extract_processes=False)
    reader = DocumentReader(settings.model_copy(update={"document_timeout": 0.5}))
    service = InvoiceService(settings, reader)
    try:
        slow = service.store_result(make_result(number="SLOW-2")[0], blank_pdf(30), enrich=False)
        report = service.reread(invoice_ids=[slow.invoice_id], who="erin")
        assert list(report.failed) == [slow.invoice_id] and not report.reread
    finally:
        service.close()
