"""Markdown pages -> Invoice with per-field confidence and provenance, plus reasons for what is missing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from extraction.parser.amounts import choose
from extraction.parser.context import Doc, build_doc
from extraction.parser.fields import dates, invoice_number, labelled_text
from extraction.parser.line_items import line_items
from extraction.parser.money import currency_votes
from extraction.parser.parties import parties
from extraction.parser.tax import tax_lines
from extraction.schema import FieldInfo, Invoice, Party

if TYPE_CHECKING:
    from extraction.markdown import PageMarkdown

__all__ = ["ParsedInvoice", "parse_invoice"]


@dataclass
class ParsedInvoice:
    """The parsed invoice, each found field's FieldInfo (dotted keys), and reasons for gaps."""

    invoice: Invoice
    fields: dict[str, FieldInfo] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)


def _flatten(invoice: Invoice) -> dict[str, Any]:
    data = invoice.model_dump(mode="json")
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items() if v is not None})
        elif value is not None and not isinstance(value, list):
            out[key] = value
    return out


def _from_einvoice(pages: list[PageMarkdown]) -> ParsedInvoice | None:
    for page in pages:
        if page.invoice is not None:
            fields = dict(page.invoice_fields or {})
            for key, value in _flatten(page.invoice).items():
                fields.setdefault(key, FieldInfo(value=value, confidence=1.0, page=page.number, source="e-invoice XML"))
            return ParsedInvoice(page.invoice, fields, [])
    return None


def _currency(doc: Doc) -> tuple[str, FieldInfo] | None:
    guess = doc.currency
    if guess is None:
        return None
    seen = sorted(currency_votes(doc.text))
    if len(seen) > 1:
        doc.extra["currencies_seen"] = FieldInfo(value=seen, confidence=0.9, source="currency symbols and codes")
    line = next((ln for ln in doc.lines if guess.evidence and guess.evidence in ln.text), None)
    conf = 0.6 if guess.weak else 0.9
    return guess.code, doc.info(guess.code, conf, line)


_RECEIPT_WORDS = re.compile(
    r"\b(?:receipt|kassenbon|quittung|ticket|recu|kassabon|bon|recibo|paragon|cashier|kasse|caissier|kassa|"
    r"cajero|server|table|tendered|change due)\b"
)


def _document_type(doc: Doc, candidates: list[Any], data: dict[str, Any], customer: dict[str, Any]) -> str:
    """'receipt' for till slips (payment lines, cashier, receipt words; no due date or customer), else 'invoice'."""
    if data.get("due_date") is not None or customer.get("name"):
        return "invoice"
    paid = any(c.category in ("paid", "change") for c in candidates)
    folded = "\n".join(line.folded for line in doc.lines)
    return "receipt" if paid or _RECEIPT_WORDS.search(folded) else "invoice"


def parse_invoice(pages: list[PageMarkdown]) -> ParsedInvoice:
    """Parse pages read by any engine; exact e-invoice data, when a page carries it, is used as is."""
    exact = _from_einvoice(pages)
    if exact is not None:
        return exact
    doc = build_doc(pages)
    fields: dict[str, FieldInfo] = {}
    reasons: list[str] = []
    if not doc.lines:
        return ParsedInvoice(Invoice(), {}, ["no text was read from the document"])

    vendor: dict[str, Any] = {}
    customer: dict[str, Any] = {}
    found = parties(doc)
    for key, value in found.values.items():
        who, name = key.split(".", 1)
        (vendor if who == "vendor" else customer)[name] = value
    fields.update(found.infos)
    if "vendor.name" not in found.values:
        reasons.append("vendor name not found")

    data: dict[str, Any] = {"vendor": Party(**vendor), "customer": Party(**customer)}
    number = invoice_number(doc)
    if number is not None:
        data["invoice_number"], fields["invoice_number"] = number

    date_infos, date_values, date_reasons = dates(doc)
    data.update(date_values)
    fields.update(date_infos)
    reasons.extend(date_reasons)

    currency = _currency(doc)
    if currency is not None:
        data["currency"], fields["currency"] = currency
        if doc.currency is not None and doc.currency.weak:
            reasons.append("currency read from a bare '$' sign: USD assumed")
    else:
        reasons.append("currency not found (no symbol or ISO code on the document)")

    fields.update(doc.extra)
    money = choose(doc)
    data.update(money.values)
    fields.update(money.infos)
    reasons.extend(money.reasons)

    kind = _document_type(doc, money.candidates, data, customer)
    fields["document_type"] = FieldInfo(value=kind, confidence=0.7, source="payment lines, labels and parties")

    data["tax_lines"] = tax_lines(doc, money.values.get("subtotal"))
    data["line_items"] = line_items(doc)

    for key, category, token in (("purchase_order", "purchase_order", True), ("payment_terms", "payment_terms", False)):
        found_text = labelled_text(doc, category, token)
        if found_text is not None:
            data[key], fields[key] = found_text
    return ParsedInvoice(Invoice(**data), fields, reasons)
