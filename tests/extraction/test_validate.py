"""Validation checks, reasons and needs_review."""

import datetime as dt
from decimal import Decimal

from extraction.schema import FieldInfo, Invoice, LineItem, Party, TaxLine
from extraction.validate import validate

TODAY = dt.date(2024, 6, 1)


def _good() -> tuple[Invoice, dict[str, FieldInfo]]:
    invoice = Invoice(
        vendor=Party(name="Northwind Traders Ltd"),
        invoice_date=dt.date(2024, 3, 5),
        due_date=dt.date(2024, 4, 4),
        currency="EUR",
        subtotal=Decimal("95.00"),
        tax_total=Decimal("19.00"),
        total=Decimal("114.00"),
        tax_lines=[TaxLine(rate=Decimal(20), base=Decimal("95.00"), amount=Decimal("19.00"))],
        line_items=[LineItem(amount=Decimal("20.00")), LineItem(amount=Decimal("75.00"))],
    )
    fields = {k: FieldInfo(value="x", confidence=0.9) for k in ("vendor.name", "invoice_date", "total", "currency")}
    return invoice, fields


def _failed(validation) -> set[str]:
    return {c.name for c in validation.checks if not c.passed}


def test_consistent_invoice_passes() -> None:
    invoice, fields = _good()
    v = validate(invoice, fields, [], 0.6, today=TODAY)
    assert not v.needs_review
    assert v.reasons == []
    assert {"line_items_sum", "subtotal_plus_tax", "tax_rate", "due_after_issue", "total_present"} <= {
        c.name for c in v.checks
    }


def test_line_items_not_adding_up_are_reported_but_agreeing_figures_need_no_review() -> None:
    invoice, fields = _good()
    invoice.line_items[0].amount = Decimal("21.00")
    v = validate(invoice, fields, [], 0.6, today=TODAY)
    assert _failed(v) == {"line_items_sum"}
    assert any("line items add up to 96.00" in r for r in v.reasons)
    # subtotal + tax = total holds, so the lines are what was misread: a reason, not a review.
    assert not v.needs_review


def test_misread_lines_need_review_when_the_figures_do_not_agree() -> None:
    invoice, fields = _good()
    invoice.line_items[0].amount = Decimal("21.00")
    invoice.tax_total = None
    invoice.tax_lines = [TaxLine(amount=Decimal("7.00")), TaxLine(amount=Decimal("9.00"))]
    v = validate(invoice, fields, [], 0.6, today=TODAY)
    assert "line_items_sum" in _failed(v)
    assert v.needs_review


def test_tax_lines_not_adding_up_with_agreeing_figures_need_no_review() -> None:
    invoice, fields = _good()
    invoice.tax_lines = [TaxLine(amount=Decimal("19.00")), TaxLine(amount=Decimal("95.00"))]
    v = validate(invoice, fields, [], 0.6, today=TODAY)
    assert _failed(v) == {"tax_lines_sum"}
    assert not v.needs_review


def test_prices_that_include_tax_pass_the_totals_check() -> None:
    invoice, fields = _good()
    invoice.subtotal, invoice.tax_total, invoice.total = Decimal("8.20"), Decimal("0.46"), Decimal("8.20")
    invoice.line_items, invoice.tax_lines = [], []
    v = validate(invoice, fields, [], 0.6, today=TODAY)
    check = next(c for c in v.checks if c.name == "subtotal_plus_tax")
    assert check.passed and "include tax" in check.detail
    assert not v.needs_review
    # A tax as large as the total is no included tax.
    invoice.tax_total = Decimal("8.20")
    assert "subtotal_plus_tax" in _failed(validate(invoice, fields, [], 0.6, today=TODAY))


def test_subtotal_plus_tax_within_a_cent_passes_and_beyond_fails() -> None:
    invoice, fields = _good()
    invoice.total = Decimal("114.01")
    assert "subtotal_plus_tax" not in _failed(validate(invoice, fields, [], 0.6, today=TODAY))
    invoice.total = Decimal("114.10")
    v = validate(invoice, fields, [], 0.6, today=TODAY)
    assert "subtotal_plus_tax" in _failed(v)
    assert v.needs_review


def test_tax_rate_disagreeing_with_base() -> None:
    invoice, fields = _good()
    invoice.tax_lines = [TaxLine(rate=Decimal(19), base=Decimal("95.00"), amount=Decimal("19.00"))]
    v = validate(invoice, fields, [], 0.6, today=TODAY)
    assert "tax_rate" in _failed(v)


def test_due_date_before_issue_date() -> None:
    invoice, fields = _good()
    invoice.due_date = dt.date(2024, 3, 1)
    v = validate(invoice, fields, [], 0.6, today=TODAY)
    assert "due_after_issue" in _failed(v)


def test_absurd_dates() -> None:
    invoice, fields = _good()
    invoice.invoice_date = dt.date(2027, 1, 1)
    invoice.due_date = None
    v = validate(invoice, fields, [], 0.6, today=TODAY)
    assert "invoice_date_plausible" in _failed(v)
    invoice.invoice_date = dt.date(1975, 1, 1)
    assert "invoice_date_plausible" in _failed(validate(invoice, fields, [], 0.6, today=TODAY))


def test_mixed_currencies_fail_the_consistency_check() -> None:
    invoice, fields = _good()
    fields["currencies_seen"] = FieldInfo(value=["EUR", "USD"], confidence=0.9)
    v = validate(invoice, fields, [], 0.6, today=TODAY)
    assert "currency_consistent" in _failed(v)
    assert any("EUR and also USD" in r for r in v.reasons)


def test_missing_key_field_needs_review_with_reason() -> None:
    invoice, fields = _good()
    invoice.total = None
    invoice.subtotal = None
    v = validate(invoice, fields, ["total not found"], 0.6, today=TODAY)
    assert v.needs_review
    assert "total_present" in _failed(v)
    assert v.reasons.count("total not found") == 1
    invoice, fields = _good()
    invoice.currency = None
    v = validate(invoice, fields, [], 0.6, today=TODAY)
    assert v.needs_review and "currency not found" in v.reasons


def test_low_confidence_key_field_needs_review() -> None:
    invoice, fields = _good()
    fields["invoice_date"] = FieldInfo(value="2024-03-05", confidence=0.5)
    v = validate(invoice, fields, [], 0.6, today=TODAY)
    assert v.needs_review
    assert not _failed(v)
    assert any(r.startswith("invoice_date has low confidence") for r in v.reasons)
    assert not validate(invoice, fields, [], 0.4, today=TODAY).needs_review


def test_key_fields_each_sure_but_unsure_together_need_review() -> None:
    """Vendor, date and total at 0.95 each are all right together only 86% of the time: under 0.9, review."""
    invoice, fields = _good()
    for key in ("vendor.name", "invoice_date", "total"):
        fields[key] = FieldInfo(value="x", confidence=0.95)
    v = validate(invoice, fields, [], 0.9, today=TODAY)
    assert v.needs_review and not _failed(v)
    assert "vendor, date and total have low confidence together (0.85 < 0.90)" in v.reasons
    assert not any("has low confidence (" in r for r in v.reasons)
    assert not validate(invoice, fields, [], 0.85, today=TODAY).needs_review


def test_a_missing_key_field_is_not_also_reported_as_unsure_together() -> None:
    invoice, fields = _good()
    invoice.total = None
    v = validate(invoice, fields, [], 0.6, today=TODAY)
    assert v.needs_review and "total not found" in v.reasons
    assert not any("together" in r for r in v.reasons)


def test_a_confidence_just_under_the_threshold_never_reads_as_equal_to_it() -> None:
    invoice, fields = _good()
    fields["total"] = FieldInfo(value="119.00", confidence=0.9096)
    v = validate(invoice, fields, [], 0.91, today=TODAY)
    assert "total has low confidence (0.90 < 0.91)" in v.reasons


def test_parser_reasons_are_kept() -> None:
    invoice, fields = _good()
    v = validate(invoice, fields, ["invoice date is ambiguous (03/04/2024): day-first assumed"], 0.6, today=TODAY)
    assert v.reasons[0].startswith("invoice date is ambiguous")


def test_currency_is_a_key_field_of_invoices_not_receipts() -> None:
    invoice, fields = _good()
    invoice.currency = None
    fields.pop("currency")
    fields["document_type"] = FieldInfo(value="receipt", confidence=0.7)
    v = validate(invoice, fields, [], 0.6, today=TODAY)
    assert not v.needs_review and "currency not found" not in v.reasons
    fields["document_type"] = FieldInfo(value="invoice", confidence=0.7)
    assert validate(invoice, fields, [], 0.6, today=TODAY).needs_review


def test_one_name_read_as_both_parties_needs_review() -> None:
    invoice, fields = _good()
    invoice.customer = Party(name="NORTHWIND TRADERS LTD.")
    v = validate(invoice, fields, [], 0.6, today=TODAY)
    assert v.needs_review and "vendor_not_customer" in _failed(v)
    assert any("vendor_not_customer" in r for r in v.reasons)
    invoice.customer = Party(name="Contoso Pharmacy")
    assert not validate(invoice, fields, [], 0.6, today=TODAY).needs_review
