"""Tax lines read from receipts and invoices that print the net and gross beside a rate."""

from decimal import Decimal

from extraction.markdown import page_from_text
from extraction.parser.context import build_doc
from extraction.parser.tax import tax_lines


def _lines(text: str, subtotal: str | None = None, total: str | None = None) -> list[tuple]:
    doc = build_doc([page_from_text(text, 1)])
    found = tax_lines(doc, Decimal(subtotal) if subtotal else None, Decimal(total) if total else None)
    return [(t.rate, t.base, t.amount) for t in found]


def test_rate_with_base_and_amount_on_one_line() -> None:
    assert _lines("GST Summary\nSR @ 6% 35.00 2.10\n") == [(Decimal(6), Decimal("35.00"), Decimal("2.10"))]


def test_gross_beside_a_rate_is_not_a_tax() -> None:
    text = "Total Sales Inclusive GST @6% 37.10\nGST Summary\nSR @ 6% 35.00 2.10\n"
    assert _lines(text, total="37.10") == [(Decimal(6), Decimal("35.00"), Decimal("2.10"))]


def test_net_beside_a_rate_is_not_a_tax_even_without_totals() -> None:
    text = "Total Excluding GST @6% 13.30\nGST @6% 0.80\n"
    # 6% of 13.30 is 0.80: the lone 13.30 is the base of the other line's tax.
    assert _lines(text) == [(Decimal(6), None, Decimal("0.80"))]


def test_net_and_gross_at_one_rate_make_one_tax_line() -> None:
    text = "Total excl. GST 6% 24.00\nTotal incl. GST 6% 25.44\n"
    assert _lines(text) == [(Decimal(6), Decimal("24.00"), Decimal("1.44"))]


def test_amount_at_zero_rate_is_its_base() -> None:
    assert _lines("GST @0% 3.20\n") == [(Decimal(0), Decimal("3.20"), Decimal(0))]


def test_a_lone_tax_amount_stays() -> None:
    assert _lines("VAT 20% 19.00\n", subtotal="95.00", total="114.00") == [
        (Decimal(20), Decimal("95.00"), Decimal("19.00"))
    ]
    assert _lines("VAT 20% 19.00\n", total="114.00") == [(Decimal(20), None, Decimal("19.00"))]
