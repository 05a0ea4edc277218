"""Splitting one file's pages into invoices."""

from __future__ import annotations

from extraction.markdown import page_from_text
from extraction.schema import Invoice, LineItem
from extraction.split import looks_like_invoice, split_invoices


def _first(number: str, n: int, vendor: str = "Acme Supplies GmbH") -> str:
    return (
        f"# {vendor}\n\nINVOICE\n\nInvoice No: {number}\n\nInvoice Date: 05.03.2024\n\n"
        "| Description | Amount |\n|---|---|\n| Widget | 100.00 |"
    )


def _last(number: str, total: str = "119.00") -> str:
    return f"Invoice No: {number}\n\nSubtotal 100.00 EUR\n\nVAT 19% 19.00 EUR\n\nTotal {total} EUR"


def _pages(*texts: str):
    return [page_from_text(t, i + 1, "textlayer", 595, 842) for i, t in enumerate(texts)]


def _numbers(groups):
    return [[p.number for p in g] for g in groups]


def test_one_page_is_one_invoice():
    assert _numbers(split_invoices(_pages(_first("A-1", 1) + "\n\n" + _last("A-1")))) == [[1]]


def test_multi_page_invoice_stays_whole():
    pages = _pages(_first("A-1", 1), "continued: more lines\n\n| Gadget | 50.00 |", _last("A-1"))
    assert _numbers(split_invoices(pages)) == [[1, 2, 3]]


def test_two_invoices_in_one_file_are_split_at_the_new_number():
    pages = _pages(_first("A-1", 1), _last("A-1"), _first("B-2", 3, "Beta Tools Ltd"), _last("B-2", "59.50"))
    assert _numbers(split_invoices(pages)) == [[1, 2], [3, 4]]


def test_single_page_invoices_back_to_back():
    pages = _pages(
        _first("A-1", 1) + "\n\n" + _last("A-1"),
        _first("B-2", 2) + "\n\n" + _last("B-2"),
        _first("C-3", 3) + "\n\n" + _last("C-3"),
    )
    assert _numbers(split_invoices(pages)) == [[1], [2], [3]]


def test_other_number_before_any_total_does_not_cut_the_invoice():
    # Page 2 shows another number but neither it nor page 1 has shown a total yet.
    pages = _pages(_first("A-1", 1), "Invoice No: X-99\n\n| Gadget | 50.00 |", _last("A-1"))
    assert _numbers(split_invoices(pages)) == [[1, 2, 3]]


def test_looks_like_invoice_needs_a_number_or_an_amount():
    assert not looks_like_invoice(Invoice())
    assert not looks_like_invoice(Invoice(payment_terms="Net 30"))
    assert looks_like_invoice(Invoice(invoice_number="A-1"))
    assert looks_like_invoice(Invoice(total="12.50"))
    assert looks_like_invoice(Invoice(line_items=[LineItem(description="x", amount="3")]))
