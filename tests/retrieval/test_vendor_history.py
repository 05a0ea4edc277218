"""Vendor records that follow corrections, identity by identifiers, learned hints and re-reading."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from extraction.schema import ExtractionResult, FieldInfo
from retrieval.hints import learn_hints
from retrieval.models import SearchFilters
from retrieval.service import InvoiceService
from tests.builders import make_result, simple_invoice_pdf
from utils.errors import Conflict

IBAN = "DE89370400440532013000"
OTHER_IBAN = "GB29NWBK60161331926819"


def test_correcting_the_vendor_moves_the_invoice_and_teaches_the_misreading(service: InvoiceService) -> None:
    acme = service.store_result(*make_result(vendor="Acme Industrial Supplies GmbH", number="A-1"), enrich=False)
    misread = service.store_result(*make_result(vendor="Acrne lndustrial Suppl1es", number="A-2"), enrich=False)
    acme_id = service.get_invoice(acme.invoice_id).vendor_id
    assert service.get_invoice(misread.invoice_id).vendor_id != acme_id
    record = service.correct_invoice(misread.invoice_id, {"vendor.name": "Acme Industrial Supplies GmbH"}, "alice")
    assert record.vendor_id == acme_id
    profile = service.get_vendor(acme_id)
    assert profile.name == "Acme Industrial Supplies GmbH" and "Acrne lndustrial Suppl1es" in profile.aliases
    assert profile.invoice_count == 2
    assert [v.id for v in service.list_vendors().items] == [acme_id]  # the misread vendor was merged away
    actions = [e.action for e in service.vendor_events(acme_id)]
    assert "move invoice" in actions and "merge" in actions
    # The same misreading on the next invoice resolves to the corrected vendor, under its canonical name.
    again = service.store_result(*make_result(vendor="Acrne lndustrial Suppl1es", number="A-3"), enrich=False)
    stored = service.get_invoice(again.invoice_id)
    assert stored.vendor_id == acme_id
    assert stored.result.invoice.vendor.name == "Acme Industrial Supplies GmbH"
    assert "Acrne lndustrial Suppl1es" in stored.result.fields["vendor.name"].source


def test_correcting_a_lone_vendor_to_a_new_name_renames_it(service: InvoiceService) -> None:
    stored = service.store_result(*make_result(vendor="Nordwlnd Energ1e", number="N-1"), enrich=False)
    vendor_id = service.get_invoice(stored.invoice_id).vendor_id
    record = service.correct_invoice(stored.invoice_id, {"vendor.name": "Nordwind Energie AG"}, "bob")
    assert record.vendor_id == vendor_id
    profile = service.get_vendor(vendor_id)
    assert profile.name == "Nordwind Energie AG" and "Nordwlnd Energ1e" in profile.aliases
    assert service.lookup_vendors("Nordwind Energie")[0].id == vendor_id
    assert service.vendor_events(vendor_id)[0].action == "rename"


def test_rename_and_merge_with_audit_and_conflicts(service: InvoiceService) -> None:
    a = service.store_result(*make_result(vendor="Alpha Tools", number="1", tax_id="DE123456789"), enrich=False)
    b = service.store_result(*make_result(vendor="Alpha Tools Ltd London", number="2"), enrich=False)
    c = service.store_result(*make_result(vendor="Beta Parts", number="3", tax_id="DE987654321"), enrich=False)
    va, vb, vc = (service.get_invoice(x.invoice_id).vendor_id for x in (a, b, c))
    assert len({va, vb, vc}) == 3
    service.rename_vendor(va, "Alpha Tools GmbH", "carol")
    assert service.get_vendor(va).name == "Alpha Tools GmbH" and "Alpha Tools" in service.get_vendor(va).aliases
    with pytest.raises(Conflict):
        service.rename_vendor(vc, "Alpha Tools GmbH", "carol")
    merged = service.merge_vendors(vb, va, "carol")
    assert merged.invoice_count == 2 and "Alpha Tools Ltd London" in merged.aliases
    with pytest.raises(Conflict):  # two tax ids: two vendors
        service.merge_vendors(vc, va, "carol")
    assert [(e.action, e.who) for e in service.vendor_events(va)] == [("rename", "carol"), ("merge", "carol")]
    assert service.list_invoices(SearchFilters(), vendor_id=va).total == 2


def test_identifier_recognises_a_garbled_name(service: InvoiceService) -> None:
    first = service.store_result(*make_result(vendor="Northwind Traders GmbH", number="1", iban=IBAN), enrich=False)
    vendor_id = service.get_invoice(first.invoice_id).vendor_id
    result, data = make_result(vendor="N0rthw1nd Trad", number="2", iban=IBAN)
    result.fields["vendor.name"] = FieldInfo(value="N0rthw1nd Trad", confidence=0.4, source="N0rthw1nd Trad")
    stored = service.get_invoice(service.store_result(result, data, enrich=False).invoice_id)
    assert stored.vendor_id == vendor_id
    assert stored.result.invoice.vendor.name == "Northwind Traders GmbH"
    info = stored.result.fields["vendor.name"]
    assert "iban" in info.source and IBAN in info.source and info.confidence >= 0.95


def test_email_domain_and_tax_id_recognise_the_vendor(service: InvoiceService) -> None:
    md = "Globex Corporation\nbilling@globex-corp.com\nInvoice number: G-1\nTotal: 10.00 USD"
    globex, data = make_result(vendor="Globex Corporation", number="G-1", markdown=md)
    globex.invoice.vendor.email = "billing@globex-corp.com"
    first = service.store_result(globex, data, enrich=False)
    vendor_id = service.get_invoice(first.invoice_id).vendor_id
    result, data = make_result(vendor="GL0BEX", number="G-2", markdown=md.replace("G-1", "G-2"))
    result.invoice.vendor.email = "accounts@globex-corp.com"
    stored = service.get_invoice(service.store_result(result, data, enrich=False).invoice_id)
    assert stored.vendor_id == vendor_id and "email domain" in stored.result.fields["vendor.name"].source
    taxed = service.store_result(*make_result(vendor="Initech", number="T-1", tax_id="FR12345678901"), enrich=False)
    other = service.store_result(*make_result(vendor="lnitech SARL", number="T-2", tax_id="FR 1234 5678 901"))
    assert service.get_invoice(other.invoice_id).vendor_id == service.get_invoice(taxed.invoice_id).vendor_id


def test_two_vendors_claiming_one_iban_are_flagged_not_merged(service: InvoiceService) -> None:
    a = service.store_result(*make_result(vendor="Umbrella Ltd", number="U-1", tax_id="GB123456789", iban=IBAN))
    b = service.store_result(*make_result(vendor="Cyberdyne Systems", number="C-1", tax_id="GB987654321", iban=IBAN))
    va, vb = service.get_invoice(a.invoice_id).vendor_id, service.get_invoice(b.invoice_id).vendor_id
    assert va != vb
    record = service.get_invoice(b.invoice_id)
    assert record.needs_review and any("also claimed by vendor" in r for r in record.result.validation.reasons)
    conflicts = service.get_vendor(va).conflicts
    assert [(c.kind, c.key, c.other_vendor_id) for c in conflicts] == [("iban", IBAN, vb)]
    # The shared IBAN alone recognises neither vendor now.
    third = service.store_result(*make_result(vendor="Somebody Else", number="S-1", iban=IBAN), enrich=False)
    assert service.get_invoice(third.invoice_id).vendor_id not in (va, vb)
    assert service.list_vendors().items[0].conflicts + service.list_vendors().items[1].conflicts >= 1


def test_learn_hints_from_reviewed_invoices() -> None:
    results = []
    for n, (date, printed) in enumerate([("2024-03-04", "03/04/2024"), ("2024-05-13", "05/13/2024")]):
        result, _ = make_result(
            vendor="Wayne Enterprises",
            number=f"WE-{n:04d}",
            date=date,
            total="1234.50",
            currency="USD",
            markdown=f"Wayne Enterprises\nOrder ref: WE-{n:04d}\nIssued {printed}\nAmount payable: 1,234.50\n",
        )
        results.append(result)
    hints = learn_hints({"id": 7, "name": "Wayne Enterprises", "aliases": ["Wayne Ent."]}, results)
    assert hints.date_order == "MDY" and hints.currency == "USD" and hints.documents == 2
    assert hints.number_pattern == "AA-9999" and hints.number_labels == ("order ref",)
    assert hints.total_labels == ("amount payable",) and hints.vendor_id == 7
    assert "2 reviewed invoices of Wayne Enterprises" in hints.describe()


def _extract_and_store(service: InvoiceService, data: bytes, name: str) -> ExtractionResult:
    from extraction.pipeline import extract_invoices

    results = extract_invoices(data, name, None, service.settings, hints=service.hints)
    return service.store_result(results[0], data, enrich=False)


def test_reread_keeps_corrections_and_uses_hints(service: InvoiceService) -> None:
    first_pdf = simple_invoice_pdf(
        "Stark Industries GmbH", "SI-2024-001", "01.03.2024", [("Repulsor", "100.00")], "100.00"
    )
    first = _extract_and_store(service, first_pdf, "first.pdf")
    assert "vendor_hints" not in first.fields  # nothing reviewed yet
    service.correct_invoice(first.invoice_id, {"total": "111.00", "vendor.name": "Stark Industries GmbH"}, "dora")
    service.approve_invoice(first.invoice_id, "dora")
    second_pdf = simple_invoice_pdf("Stark Industries GmbH", "SI-2024-002", "02.03.2024", [("Arc", "50.00")], "50.00")
    second = _extract_and_store(service, second_pdf, "second.pdf")
    assert second.fields["vendor_hints"].value["vendor"] == "Stark Industries GmbH"
    assert any("1 reviewed invoice of Stark Industries GmbH" in r for r in second.validation.reasons)
    service.approve_invoice(second.invoice_id, "dora")
    report = service.reread(vendor="Stark Industries", who="erin")
    assert sorted(report.reread) == sorted([first.invoice_id, second.invoice_id]) and not report.failed
    assert first.invoice_id in report.hinted  # taught by the second invoice's review, not by its own
    again = service.get_invoice(first.invoice_id)
    assert again.total == Decimal("111.00") and again.status == "approved"
    assert again.result.fields["total"].source == "corrected by dora"
    assert any("reviewed invoice" in r for r in again.result.validation.reasons)  # read with its hints
    assert ("engine", "erin") in [(c.field, c.who) for c in again.corrections]  # the re-read, in the audit log
    lines = [json.loads(line) for line in service.feedback_export()]
    assert lines[0]["hints"]["name"] == "Stark Industries GmbH" and lines[0]["hints"]["documents"] == 2
    assert again.invoice_date == dt.date(2024, 3, 1)


def test_reread_of_chosen_invoices_with_an_engine_after_an_engine_change(service: InvoiceService) -> None:
    pdf = simple_invoice_pdf("Oscorp Labs Ltd", "OL-2024-001", "04.03.2024", [("Serum", "70.00")], "70.00")
    stored = _extract_and_store(service, pdf, "oscorp.pdf")
    other = _extract_and_store(
        service,
        simple_invoice_pdf("Oscorp Labs Ltd", "OL-2024-002", "05.03.2024", [("Glider", "20.00")], "20.00"),
        "b.pdf",
    )
    service.correct_invoice(stored.invoice_id, {"total": "77.00"}, "dora")
    # Reading the file again with another engine leaves an 'engine' entry in the audit log: not a field.
    service.reread_invoice(stored.invoice_id, service.get_invoice(stored.invoice_id).result, "dora")
    report = service.reread(invoice_ids=[stored.invoice_id], engine="textlayer", who="erin")
    assert report.reread == [stored.invoice_id] and not report.failed and report.engine == "textlayer"
    assert service.get_invoice(stored.invoice_id).total == Decimal("77.00")
    assert service.reread(invoice_ids=[], who="erin").reread == []
    assert other.invoice_id not in report.reread


def test_a_vendor_writing_dates_month_first_is_read_month_first(service: InvoiceService) -> None:
    def invoice(number: str, printed: str) -> bytes:
        return simple_invoice_pdf("Wayne Enterprises GmbH", number, printed, [("Cape", "40.00")], "40.00")

    unknown = _extract_and_store(service, invoice("WE-1", "03/04/2024"), "we1.pdf")
    assert unknown.invoice.invoice_date == dt.date(2024, 4, 3)  # nothing on the page says month-first: day-first
    service.correct_invoice(unknown.invoice_id, {"invoice_date": "2024-03-04"}, "dora")
    service.approve_invoice(unknown.invoice_id, "dora")
    plain = _extract_and_store(service, invoice("WE-2", "05/13/2024"), "we2.pdf")
    service.approve_invoice(plain.invoice_id, "dora")
    # The history now knows this vendor writes month-first: an ambiguous date is read that way.
    third = _extract_and_store(service, invoice("WE-3", "06/07/2024"), "we3.pdf")
    assert third.invoice.invoice_date == dt.date(2024, 6, 7)
    assert third.fields["vendor_hints"].value["documents"] == 2
