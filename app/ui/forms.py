"""The invoice as an editable form: field list, values as text, edits back into service changes."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import pandas as pd

from extraction.validate import JOINT_REASON
from utils.dotted import get_path

if TYPE_CHECKING:
    from collections.abc import Sequence

    from extraction.schema import ExtractionResult, Invoice, LineItem


@dataclass(frozen=True)
class FormField:
    """One editable header field: its dotted name, label and kind."""

    name: str
    label: str
    kind: str = "text"  # text | money | date | currency
    group: str = "main"  # main | more


FORM_FIELDS: tuple[FormField, ...] = (
    FormField("vendor.name", "Vendor"),
    FormField("invoice_number", "Invoice number"),
    FormField("invoice_date", "Invoice date", "date"),
    FormField("due_date", "Due date", "date"),
    FormField("currency", "Currency", "currency"),
    FormField("subtotal", "Subtotal", "money"),
    FormField("tax_total", "Tax", "money"),
    FormField("total", "Total", "money"),
    FormField("amount_due", "Amount due", "money"),
    FormField("vendor.tax_id", "Vendor tax id"),
    FormField("vendor.iban", "Vendor IBAN"),
    FormField("customer.name", "Customer"),
    FormField("purchase_order", "Purchase order", group="more"),
    FormField("payment_terms", "Payment terms", group="more"),
    FormField("vendor.address", "Vendor address", group="more"),
    FormField("vendor.email", "Vendor email", group="more"),
    FormField("vendor.phone", "Vendor phone", group="more"),
    FormField("customer.address", "Customer address", group="more"),
    FormField("customer.tax_id", "Customer tax id", group="more"),
)
FIELD_NAMES = tuple(f.name for f in FORM_FIELDS)
LINE_COLUMNS = ["description", "quantity", "unit_price", "amount", "tax_rate"]
LINE_HEADERS = ["Description", "Quantity", "Unit price", "Amount", "Tax %"]


def field_elem_id(name: str) -> str:
    """The element id of a field's text box on the page (the viewer's boxes name it too)."""
    return "field-" + name.replace(".", "-").replace("_", "-")


def as_text(value: Any) -> str:
    """A field value as the text shown in the form (dates ISO, money as written)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def money_text(value: Any) -> str:
    """An amount as the form shows it: at least two decimals (490 -> 490.00), more when it has them."""
    if isinstance(value, Decimal) and isinstance(exponent := value.as_tuple().exponent, int) and exponent > -2:
        return format(value.quantize(Decimal("0.01")), "f")
    return as_text(value)


def form_values(invoice: Invoice) -> list[str]:
    """Every form field's text, in FORM_FIELDS order."""
    return [
        money_text(get_path(invoice, f.name)) if f.kind == "money" else as_text(get_path(invoice, f.name))
        for f in FORM_FIELDS
    ]


def _same(old: Any, new_text: str, kind: str) -> bool:
    old_text = as_text(old)
    if kind == "money" and old_text and new_text:
        try:
            return Decimal(old_text) == Decimal(new_text.replace(",", "").replace(" ", ""))
        except InvalidOperation:
            return False
    return old_text.strip() == new_text.strip()


def _clean(new_text: str, kind: str) -> str | None:
    text = new_text.strip()
    if not text:
        return None
    if kind == "money":
        return text.replace(" ", "").replace(",", "")
    if kind == "currency":
        return text.upper()
    return text


def changes_from_form(invoice: Invoice, values: list[str], lines: pd.DataFrame | None) -> dict[str, Any]:
    """The edits a person made, as InvoiceService.correct_invoice changes (dotted field -> new value)."""
    changes: dict[str, Any] = {}
    for spec, text in zip(FORM_FIELDS, values, strict=True):
        text = "" if text is None else str(text)
        if not _same(get_path(invoice, spec.name), text, spec.kind):
            changes[spec.name] = _clean(text, spec.kind)
    if lines is not None:
        edited = lines_from_frame(lines)
        current = [lines_as_text(item.model_dump()) for item in invoice.line_items]
        if [lines_as_text(row) for row in edited] != current:
            changes["line_items"] = edited
    return changes


def lines_as_text(row: dict[str, Any]) -> dict[str, str]:
    """A line item with every cell as normalised text, for comparison."""
    out = {}
    for column in LINE_COLUMNS:
        text = as_text(row.get(column)).strip()
        if column != "description" and text:
            with contextlib.suppress(InvalidOperation):
                text = format(Decimal(text.replace(",", "")).normalize(), "f")
        out[column] = text
    return out


def lines_frame(invoice: Invoice) -> pd.DataFrame:
    """The line items as an editable table."""
    money_columns = ("unit_price", "amount")
    rows = [
        [money_text(getattr(item, c)) if c in money_columns else as_text(getattr(item, c)) for c in LINE_COLUMNS]
        for item in invoice.line_items
    ]
    return pd.DataFrame(rows, columns=LINE_HEADERS)


def lines_from_frame(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Line items from the edited table; empty rows dropped, numbers left as text for the model to parse."""
    items = []
    for row in frame.itertuples(index=False):
        cells = ["" if (c is None or (isinstance(c, float) and c != c)) else str(c).strip() for c in row]
        cells = (cells + [""] * len(LINE_COLUMNS))[: len(LINE_COLUMNS)]
        if not any(cells):
            continue
        item: dict[str, Any] = {}
        for column, text in zip(LINE_COLUMNS, cells, strict=True):
            if column != "description":
                text = text.replace(",", "").replace(" ", "")
            item[column] = text or None
        items.append(item)
    return items


# Which form fields each validation check concerns.
CHECK_FIELDS: dict[str, tuple[str, ...]] = {
    "line_items_sum": ("subtotal", "total"),
    "subtotal_plus_tax": ("subtotal", "tax_total", "total"),
    "tax_rate": ("tax_total",),
    "tax_lines_sum": ("tax_total",),
    "due_after_issue": ("due_date", "invoice_date"),
    "invoice_date_plausible": ("invoice_date",),
    "due_date_plausible": ("due_date",),
    "currency_consistent": ("currency",),
    "total_present": ("total",),
    "vendor_not_customer": ("vendor.name", "customer.name"),
}
# Words in unknown check names and in reasons that point at a form field.
_FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "total": ("total", "grand total"),
    "subtotal": ("subtotal", "net"),
    "tax_total": ("tax", "vat"),
    "amount_due": ("amount due", "balance"),
    "invoice_date": ("invoice date", "issued"),
    "due_date": ("due date", "due"),
    "currency": ("currency",),
    "invoice_number": ("invoice number",),
    "vendor.name": ("vendor",),
    "vendor.iban": ("iban", "vendor iban"),
    "vendor.tax_id": ("tax id", "vat id", "vendor tax id", "vendor vat id"),
}


def _fields_in(text: str) -> list[str]:
    """Form fields a check name or reason talks about (dotted names first, then words)."""
    lowered = text.lower()
    found = [name for name in FIELD_NAMES if re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", lowered)]
    if found:
        return found
    words = lowered.replace("_", " ").replace(".", " ")
    return [name for name, keys in _FIELD_WORDS.items() if any(re.search(rf"\b{re.escape(w)}\b", words) for w in keys)]


def _subject(text: str) -> list[str]:
    """The one form field a reason is about: the field named first (the longest name where two start together).

    A reason names its field first and may mention others while explaining ("invoice date could be read
    either way: day-first assumed because the currency (EUR) ..."); those are not what it warns about.
    """
    lowered = text.lower()
    spans: list[tuple[int, int, str]] = []
    for name in FIELD_NAMES:
        for match in re.finditer(rf"(?<![\w.]){re.escape(name)}(?!\w)", lowered):
            spans.append((match.start(), -len(name), name))
    words = lowered.replace("_", " ").replace(".", " ")
    for name, keys in _FIELD_WORDS.items():
        for key in keys:
            for match in re.finditer(rf"\b{re.escape(key)}\b", words):
                spans.append((match.start(), -len(key), name))
    return [min(spans)[2]] if spans else []


def field_warnings(result: ExtractionResult, low_confidence: float) -> tuple[dict[str, list[str]], list[str]]:
    """Plain warnings per form field (failed checks, low confidence) and those that concern no single field."""
    per_field: dict[str, list[str]] = {}
    general: list[str] = []

    def add(targets: list[str] | tuple[str, ...], message: str) -> None:
        targets = [t for t in targets if t in FIELD_NAMES][:3]
        for target in targets:
            per_field.setdefault(target, []).append(message)
        if not targets:
            general.append(message)

    failed = [c for c in result.validation.checks if not c.passed]
    for check in failed:
        label = check.name.replace("_", " ")
        message = f"{label}: {check.detail}" if check.detail else f"{label} failed"
        add(CHECK_FIELDS.get(check.name) or _fields_in(check.name) or _subject(check.detail), message)
    for reason in result.validation.reasons:
        if any(reason.startswith(f"check {c.name} failed") for c in failed):
            continue  # already shown as its check
        if "low confidence" in reason and any(reason.startswith(name) for name in FIELD_NAMES):
            continue  # shown below with the field
        if reason.startswith(JOINT_REASON):
            general.append(reason)  # about three fields at once, none of them unsure alone
            continue
        add(_subject(reason), reason)
    for name, info in result.fields.items():
        if name in FIELD_NAMES and info.value is not None and info.confidence < low_confidence:
            per_field.setdefault(name, []).append(f"low confidence ({info.confidence:.0%}): please check")
    return per_field, general


def result_json(result: ExtractionResult) -> str:
    """The full extraction as pretty JSON."""
    return json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=False)


CSV_COLUMNS = [
    "invoice_id",
    "vendor",
    "invoice_number",
    "invoice_date",
    "due_date",
    "currency",
    "subtotal",
    "tax_total",
    "total",
    "line_description",
    "line_quantity",
    "line_unit_price",
    "line_amount",
    "line_tax_rate",
]


def result_csv(result: ExtractionResult) -> str:
    """One CSV row per line item, the invoice's header fields repeated (one row when it has none)."""
    inv = result.invoice
    head = [
        as_text(result.invoice_id),
        as_text(inv.vendor.name),
        as_text(inv.invoice_number),
        as_text(inv.invoice_date),
        as_text(inv.due_date),
        as_text(inv.currency),
        money_text(inv.subtotal),
        money_text(inv.tax_total),
        money_text(inv.total),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    items: Sequence[LineItem | None] = inv.line_items or [None]
    for item in items:
        line = [
            (money_text if c in ("unit_price", "amount") else as_text)(getattr(item, c)) if item else ""
            for c in LINE_COLUMNS
        ]
        writer.writerow(head + line)
    return buffer.getvalue()


def money(value: Any, currency: str | None = None) -> str:
    """Money for people: thousands separators, two decimals, the currency code after."""
    if value is None or value == "":
        return "—"
    try:
        text = f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError):
        return str(value)
    if currency == "?":  # a vendor's spend with no currency read
        return f"{text} (no currency)"
    return f"{text} {currency}" if currency else text
