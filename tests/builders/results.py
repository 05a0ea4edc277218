"""Stored-invoice records for the history tests: ExtractionResults, and a plain one-page PDF with exact date strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pymupdf

from extraction.schema import DocumentInfo, ExtractionResult, Invoice, LineItem, Party
from utils.hashing import sha256_hex


def make_result(
    vendor: str | None = "Acme Industrial Supplies GmbH",
    number: str | None = "INV-1001",
    date: str | None = "2024-03-01",
    total: str | float | None = "123.45",
    currency: str | None = "EUR",
    items: tuple[str, ...] = ("Steel bolts M8", "Hex nuts"),
    tax_id: str | None = None,
    iban: str | None = None,
    markdown: str | None = None,
    needs_review: bool = False,
    salt: str = "",
) -> tuple[ExtractionResult, bytes]:
    """An ExtractionResult and the bytes of its 'file' (unique per content and salt)."""
    md = markdown or (
        f"# Invoice\n\n{vendor}\n\nInvoice number: {number}\nDate: {date}\n\n| Description | Amount |\n|---|---|\n"
        + "\n".join(f"| {i} | {total} |" for i in items)
        + f"\n\nTotal: {total} {currency or ''}"
    )
    data = f"{vendor}|{number}|{date}|{total}|{currency}|{tax_id}|{iban}|{md}|{salt}".encode()
    invoice = Invoice(
        vendor=Party(name=vendor, tax_id=tax_id, iban=iban),
        invoice_number=number,
        invoice_date=dt.date.fromisoformat(date) if date else None,
        total=Decimal(str(total)) if total is not None else None,
        currency=currency,
        line_items=[LineItem(description=i) for i in items],
    )
    result = ExtractionResult(
        document=DocumentInfo(
            sha256=sha256_hex(data), filename=f"{number or 'doc'}.pdf", media_type="application/pdf", page_count=1
        ),
        invoice=invoice,
        markdown=md,
    )
    result.validation.needs_review = needs_review
    return result, data


def simple_invoice_pdf(
    vendor: str, number: str, date: str, lines: list[tuple[str, str]], total: str, currency: str = "EUR"
) -> bytes:
    """A born-digital one-page invoice PDF."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    y = 60
    for text, size in [(vendor, 16), ("Musterstrasse 1, 10115 Berlin", 10), ("INVOICE", 18)]:
        page.insert_text((50, y), text, fontsize=size)
        y += 28
    for label, value in [("Invoice number:", number), ("Invoice date:", date)]:
        page.insert_text((50, y), label, fontsize=11)
        page.insert_text((200, y), value, fontsize=11)
        y += 20
    y += 20
    page.insert_text((50, y), "Description", fontsize=11)
    page.insert_text((450, y), "Amount", fontsize=11)
    y += 20
    for desc, amount in lines:
        page.insert_text((50, y), desc, fontsize=11)
        page.insert_text((450, y), f"{amount} {currency}", fontsize=11)
        y += 18
    y += 20
    page.insert_text((350, y), "Total:", fontsize=12)
    page.insert_text((450, y), f"{total} {currency}", fontsize=12)
    data = doc.tobytes()
    doc.close()
    return data
