"""Markdown pages -> Invoice with per-field confidence and provenance, plus reasons for what is missing.

The key fields are chosen by learned scorers: candidate generators list every span that could hold a
field (`extraction.parser.candidates`), each with named features; a gradient-boosted model per field
ranks them and its calibrated probability is the field's confidence (`extraction.parser.scoring`);
one consistency pass makes the choices agree (`extraction.parser.consistency`). Identifiers (tax ids,
IBANs, e-mail, phone), addresses, tax lines, line items, purchase order and payment terms are read by
rules that need no learning (checksums, formats, labels). Exact e-invoice data is used as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from extraction.parser import consistency
from extraction.parser.candidates import FIELD_KINDS, Candidate, Layout, generate
from extraction.parser.candidates.name_lines import spans_whole_lines, window_candidates
from extraction.parser.candidates.names import party_name
from extraction.parser.context import Doc, Line, build_doc
from extraction.parser.doc_kind import document_type
from extraction.parser.fields import labelled_text
from extraction.parser.line_items import line_items
from extraction.parser.money import printed_currencies
from extraction.parser.nearby import nearest_label
from extraction.parser.parties import party_details
from extraction.parser.scoring import FieldModel, Ranked, load_models, rank, value_key
from extraction.parser.tax import tax_lines
from extraction.schema import FieldInfo, Invoice, Party

if TYPE_CHECKING:
    from extraction.hints import VendorHints
    from extraction.markdown import PageMarkdown

__all__ = ["ParsedInvoice", "parse_invoice"]

# Field -> (Invoice attribute, label kinds whose box joins the value's, words for a reason).
_FIELDS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "vendor": ("vendor.name", ("vendor_label",), "vendor name"),
    "customer": ("customer.name", ("customer_label",), "customer name"),
    "invoice_number": ("invoice_number", ("invoice_number", "invoice_number_doc"), "invoice number"),
    "invoice_date": ("invoice_date", ("invoice_date",), "invoice date"),
    "due_date": ("due_date", ("due_date",), "due date"),
    "total": ("total", ("total", "amount_due"), "total"),
    "subtotal": ("subtotal", ("subtotal", "net"), "subtotal"),
    "tax": ("tax_total", ("tax",), "tax"),
    "currency": ("currency", (), "currency"),
}
# Reported as missing when not found; the others are optional on many documents.
_REPORTED = ("vendor", "invoice_date", "total", "currency")


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


def _box(doc: Doc, cand: Candidate, kinds: tuple[str, ...]) -> list[float] | None:
    """The value's own box, joined with its label's where the label sits beside or just above it."""
    box = cand.box()
    if box is None or cand.line is None:
        return None
    if kinds:
        label = nearest_label(doc, cand.line, cand.start, kinds)
        if label is not None:
            line, start, end = label
            label_box = line.span_box(start, end)
            if label_box is not None and line.page == cand.line.page:
                box = (
                    min(box[0], label_box[0]),
                    min(box[1], label_box[1]),
                    max(box[2], label_box[2]),
                    max(box[3], label_box[3]),
                )
    return [round(v, 4) for v in box]


def _info(
    doc: Doc, cand: Candidate, probability: float, kinds: tuple[str, ...], source: str | None = None
) -> FieldInfo:
    value: Any = cand.value
    if hasattr(value, "isoformat"):
        value = value.isoformat()
    line = cand.line
    return FieldInfo(
        value=value,
        confidence=round(max(0.0, min(1.0, probability)), 3),
        page=line.page if line is not None else None,
        bbox=_box(doc, cand, kinds),
        source=source if source is not None else (line.text if line is not None else None),
    )


def _currency_evidence(doc: Doc, cand: Candidate) -> tuple[str | None, list[str]]:
    """The line that names the chosen currency, and reasons when only the country implies it."""
    f = cand.features
    if f.get("named_votes", 0) == 0 and f.get("bare_dollar", 0) == 0:
        printed = "only a bare '$' printed" if "$" in doc.text else "no symbol or code printed"
        return "the country the document shows", [
            f"currency {cand.value} inferred from the country the document shows ({printed})"
        ]
    if f.get("bare_dollar", 0):
        return "$", ["currency read from a bare '$' sign: USD assumed"]
    from extraction.parser.money import SYMBOLS

    marks = [cand.value, *(s for s, code in SYMBOLS.items() if code == cand.value)]
    line = next((ln for ln in doc.lines if any(m in ln.text for m in marks)), None)
    return (line.text if line is not None else None), []


def _order_reasons(doc: Doc, cand: Candidate, words: str) -> list[str]:
    """Why a date whose day and month could swap was read the way it was, unless another date decided it."""
    if not cand.features.get("swappable") or doc.order_reason.startswith("another date"):
        return []
    if doc.order is None:
        return [f"{words} is ambiguous ({cand.text}): day-first assumed because {doc.order_reason}"]
    first = "month-first" if doc.order == "mdy" else "day-first"
    return [f"{words} could be read either way ({cand.text}): {first} assumed because {doc.order_reason}"]


def _amount_due(doc: Doc, amounts: list[Candidate]) -> tuple[Decimal, FieldInfo] | None:
    """The amount labelled as due (balance due, amount to pay), the strongest label then the lowest on the page."""
    labelled = [
        c for c in amounts if c.features.get("before_amount_due", 0) >= 2 or c.features.get("above_amount_due", 0) >= 2
    ]
    if not labelled:
        return None
    best = max(labelled, key=lambda c: (c.features.get("before_amount_due", 0), c.line.index if c.line else 0))
    return best.value, _info(doc, best, 0.8, ("amount_due",))


def _last_line(cand: Candidate) -> Line | None:
    """The last line a value is printed on (its address follows it)."""
    return cand.lines[-1] if cand.lines else cand.line


def _whole_name(layout: Layout, choice: consistency.Choice | None, model: FieldModel) -> consistency.Choice | None:
    """The chosen vendor name with the neighbouring lines it is printed over, where the window scorer says so."""
    if choice is None or not spans_whole_lines(choice.candidate):
        return choice
    windows = window_candidates(layout, choice.candidate)
    best = rank(model, windows) if len(windows) > 1 else None
    if best is None or value_key(best.candidate.value) == value_key(choice.candidate.value):
        return choice
    return consistency.Choice(best.candidate, min(choice.probability, best.probability), changed=True)


def parse_invoice(pages: list[PageMarkdown], hints: VendorHints | None = None) -> ParsedInvoice:
    """Parse pages read by any engine; exact e-invoice data, when a page carries it, is used as is.

    With `hints` (what a known vendor's reviewed invoices showed) the scorers also weigh how each
    candidate agrees with the vendor's habits.
    """
    exact = _from_einvoice(pages)
    if exact is not None:
        return exact
    doc = build_doc(pages, hints.date_order if hints is not None else None)
    if not doc.lines:
        return ParsedInvoice(Invoice(), {}, ["no text was read from the document"])
    models = load_models()
    layout = Layout(doc)
    cands = generate(doc, hints, layout)
    ranked: dict[str, Ranked | None] = {
        name: rank(models[name], cands[kind]) if name in models else None for name, kind in FIELD_KINDS.items()
    }
    floors = {name: model.min_probability for name, model in models.items()}
    chosen = {
        **consistency.parties(ranked),
        **consistency.dates(ranked),
        **consistency.amounts(ranked, floors, consistency.payment(cands["amount"])),
    }
    if "vendor_lines" in models:
        chosen["vendor"] = _whole_name(layout, chosen.get("vendor"), models["vendor_lines"])
    chosen["invoice_number"] = consistency.invoice_number(
        ranked["invoice_number"], chosen.get("vendor"), chosen.get("invoice_date")
    )
    currency = ranked["currency"]
    chosen["currency"] = consistency.Choice(currency.candidate, currency.probability) if currency is not None else None

    fields: dict[str, FieldInfo] = {}
    reasons: list[str] = []
    values: dict[str, Any] = {}
    for name, (key, kinds, words) in _FIELDS.items():
        choice = chosen.get(name)
        model = models.get(name)
        if choice is None or (model is not None and choice.probability < model.min_probability):
            if name in _REPORTED:
                doubt = f" (the best reading, {choice.candidate.text!r}, is too doubtful)" if choice is not None else ""
                reasons.append(f"{words} not found{doubt}")
            continue
        source = None
        if name == "currency":
            source, why = _currency_evidence(doc, choice.candidate)
            reasons.extend(why)
            seen = sorted(printed_currencies(doc.text))
            if len(seen) > 1:
                fields["currencies_seen"] = FieldInfo(value=seen, confidence=0.9, source="currency symbols and codes")
        probability = choice.probability
        if name in ("invoice_date", "due_date"):
            reasons.extend(_order_reasons(doc, choice.candidate, words))
            if choice.candidate.features.get("swappable") and doc.order is None:
                # Nothing on the document says which of day and month comes first: a coin toss.
                probability = min(probability, 0.5)
        values[key] = choice.candidate.value
        fields[key] = _info(doc, choice.candidate, probability, kinds, source)
        if name in ("vendor", "customer"):
            # After scoring: the scorers learned names as printed; the reader gets the name alone, spelled right.
            values[key] = fields[key].value = party_name(choice.candidate.value)

    vendor_choice, customer_choice = chosen.get("vendor"), chosen.get("customer")
    vendor_line = _last_line(vendor_choice.candidate) if vendor_choice and "vendor.name" in values else None
    customer_line = customer_choice.candidate.line if customer_choice and "customer.name" in values else None
    details = party_details(doc, vendor_line, customer_line)
    vendor = {"name": values.pop("vendor.name", None)}
    customer = {"name": values.pop("customer.name", None)}
    for key, value in details.values.items():
        who, attr = key.split(".", 1)
        (vendor if who == "vendor" else customer)[attr] = value
    fields.update(details.infos)

    data: dict[str, Any] = {"vendor": Party(**vendor), "customer": Party(**customer), **values}
    due = _amount_due(doc, cands["amount"])
    if due is not None:
        data["amount_due"], fields["amount_due"] = due
    kind = document_type(doc, cands["amount"], data)
    fields["document_type"] = FieldInfo(value=kind, confidence=0.7, source="payment lines, labels and parties")
    data["tax_lines"] = tax_lines(doc, data.get("subtotal"), data.get("total"))
    data["line_items"] = line_items(doc)
    for key, category, token in (("purchase_order", "purchase_order", True), ("payment_terms", "payment_terms", False)):
        found_text = labelled_text(doc, category, token)
        if found_text is not None:
            data[key], fields[key] = found_text
    return ParsedInvoice(Invoice(**data), fields, reasons)
