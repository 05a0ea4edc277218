"""Split the pages of one file into invoices: a new invoice starts where the pages say so."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from extraction.markdown import PageMarkdown
    from extraction.schema import FieldInfo, Invoice


def _norm(number: str | None) -> str | None:
    if not number:
        return None
    key = "".join(ch for ch in number.upper() if ch.isalnum())
    return key or None


def _has_total(fields: dict[str, FieldInfo]) -> bool:
    """Whether the page shows a total under a total label (an item's amount read as the total does not count)."""
    from extraction.parser.labels import has_label

    for key in ("total", "amount_due"):
        info = fields.get(key)
        if info is None or info.value is None or not info.source:
            continue
        if has_label(info.source, "total") or has_label(info.source, "amount_due"):
            return True
    return False


def split_invoices(pages_md: list[PageMarkdown]) -> list[list[PageMarkdown]]:
    """Groups of consecutive pages, one per invoice; a multi-page file is one invoice unless pages disagree.

    A page starts a new invoice when it shows an invoice number different from the running one and
    either the running invoice already showed a labelled total or the page shows one of its own, so a
    stray reference number on a continuation page does not cut an invoice in two.
    """
    if len(pages_md) < 2:
        return [list(pages_md)]
    from extraction.parser import parse_invoice

    groups: list[list[PageMarkdown]] = []
    current: list[PageMarkdown] = []
    running: str | None = None
    running_total = False
    for page in pages_md:
        parsed = parse_invoice([page])
        number = _norm(parsed.invoice.invoice_number)
        page_total = _has_total(parsed.fields)
        starts_new = (
            bool(current)
            and number is not None
            and running is not None
            and number != running
            and (running_total or page_total)
        )
        if starts_new:
            groups.append(current)
            current, running, running_total = [], None, False
        current.append(page)
        if running is None and number is not None:
            running = number
        running_total = running_total or page_total
    groups.append(current)
    return groups


def looks_like_invoice(invoice: Invoice) -> bool:
    """Whether anything invoice-like was found: a number, an amount or a priced line (a name or date alone is not)."""
    if invoice.invoice_number or any(
        v is not None for v in (invoice.total, invoice.amount_due, invoice.subtotal, invoice.tax_total)
    ):
        return True
    return any(item.amount is not None or item.unit_price is not None for item in invoice.line_items)
