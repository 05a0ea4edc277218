"""Arithmetic and sanity checks on a parsed invoice -> Validation with needs_review and reasons."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import TYPE_CHECKING

from extraction.parser.scoring import value_key
from extraction.schema import Check, Validation
from utils.money import rate_agrees, within_cents

if TYPE_CHECKING:
    from collections.abc import Mapping

    from extraction.schema import FieldInfo, Invoice

# Tolerances in cents: sums of rounded lines may be off by a cent per line, capped.
SUM_TOLERANCE_CENTS = 2
RATE_TOLERANCE_CENTS = 2
# Checks of the lines (line items, tax lines) against the figures they should add up to.
LINE_CHECKS = ("line_items_sum", "tax_lines_sum")
KEY_FIELDS = ("vendor.name", "invoice_date", "total", "currency")
# Their confidences multiply into the document's: make train picks the review threshold on that product.
JOINT_FIELDS = ("vendor.name", "invoice_date", "total")
JOINT_REASON = "vendor, date and total have low confidence together"
MAX_FUTURE_DAYS = 366
MIN_YEAR = 1990


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _check_lines_sum(invoice: Invoice) -> Check | None:
    amounts = [item.amount for item in invoice.line_items if item.amount is not None]
    if len(amounts) < 2 or invoice.subtotal is None:
        return None
    total = sum(amounts, Decimal(0))
    tolerance = max(SUM_TOLERANCE_CENTS, min(len(amounts), 10))
    ok = within_cents(total, invoice.subtotal, tolerance)
    # Prices printed with tax included: the lines may add up to the total instead.
    if not ok and invoice.total is not None and within_cents(total, invoice.total, tolerance):
        return Check(name="line_items_sum", passed=True, detail=f"line items add up to the total {_money(total)}")
    detail = f"line items add up to {_money(total)}, subtotal is {_money(invoice.subtotal)}"
    return Check(name="line_items_sum", passed=ok, detail=detail)


def _check_totals(invoice: Invoice) -> Check | None:
    if invoice.subtotal is None or invoice.total is None:
        return None
    tax = invoice.tax_total if invoice.tax_total is not None else Decimal(0)
    ok = within_cents(invoice.subtotal + tax, invoice.total, SUM_TOLERANCE_CENTS)
    if invoice.tax_total is None and not ok:
        # Without a tax amount the check cannot tell a missing tax from a wrong total.
        return Check(name="subtotal_plus_tax", passed=True, detail="no tax amount to compare with")
    if not ok and _figures_agree(invoice):
        # Prices that include tax: the subtotal printed is already the total, the tax a part of it.
        detail = f"prices include tax: subtotal {_money(invoice.subtotal)} is the total, tax {_money(tax)} inside it"
        return Check(name="subtotal_plus_tax", passed=True, detail=detail)
    detail = (
        f"{_money(invoice.subtotal)} + {_money(tax)} = {_money(invoice.subtotal + tax)}, total {_money(invoice.total)}"
    )
    return Check(name="subtotal_plus_tax", passed=ok, detail=detail)


def _check_tax_rates(invoice: Invoice) -> list[Check]:
    checks: list[Check] = []
    for line in invoice.tax_lines:
        if line.rate is None or line.base is None or line.amount is None:
            continue
        expected = line.base * line.rate / 100
        ok = rate_agrees(line.base, line.rate, line.amount, RATE_TOLERANCE_CENTS)
        detail = f"{_money(line.base)} x {line.rate}% = {_money(expected)}, printed {_money(line.amount)}"
        checks.append(Check(name="tax_rate", passed=ok, detail=detail))
    amounts = [t.amount for t in invoice.tax_lines if t.amount is not None]
    if len(amounts) >= 2 and invoice.tax_total is not None:
        total = sum(amounts, Decimal(0))
        ok = within_cents(total, invoice.tax_total, SUM_TOLERANCE_CENTS)
        detail = f"tax lines add up to {_money(total)}, tax total is {_money(invoice.tax_total)}"
        checks.append(Check(name="tax_lines_sum", passed=ok, detail=detail))
    return checks


def _check_parties(invoice: Invoice) -> Check | None:
    """The seller and the customer are two parties: one name read as both means one of them is wrong."""
    vendor, customer = invoice.vendor.name, invoice.customer.name
    if not vendor or not customer:
        return None
    return Check(
        name="vendor_not_customer",
        passed=value_key(vendor) != value_key(customer),
        detail=f"vendor {vendor!r}, customer {customer!r}",
    )


def _check_dates(invoice: Invoice, today: dt.date) -> list[Check]:
    checks: list[Check] = []
    issued, due = invoice.invoice_date, invoice.due_date
    if issued is not None and due is not None:
        checks.append(
            Check(
                name="due_after_issue",
                passed=due >= issued,
                detail=f"due {due.isoformat()}, issued {issued.isoformat()}",
            )
        )
    for name, value in (("invoice_date", issued), ("due_date", due)):
        if value is None:
            continue
        limit = today + dt.timedelta(days=MAX_FUTURE_DAYS + (90 if name == "due_date" else 0))
        ok = dt.date(MIN_YEAR, 1, 1) <= value <= limit
        checks.append(
            Check(name=f"{name}_plausible", passed=ok, detail=f"{name.replace('_', ' ')} {value.isoformat()}")
        )
    return checks


def _check_currency(invoice: Invoice, fields: dict[str, FieldInfo]) -> Check | None:
    if invoice.currency is None:
        return None
    seen_info = fields.get("currencies_seen")
    seen = seen_info.value if seen_info is not None and isinstance(seen_info.value, list) else []
    others = sorted(str(code) for code in seen if code != invoice.currency)
    if not others:
        return Check(name="currency_consistent", passed=True, detail=invoice.currency)
    return Check(
        name="currency_consistent",
        passed=False,
        detail=f"{invoice.currency} and also {', '.join(others)} on the document",
    )


def _figures_agree(invoice: Invoice) -> bool:
    """Whether subtotal, a printed tax amount and total agree (tax on top, or prices that include it)."""
    sub, tax, total = invoice.subtotal, invoice.tax_total, invoice.total
    if sub is None or tax is None or total is None:
        return False
    return within_cents(sub + tax, total, SUM_TOLERANCE_CENTS) or (
        0 <= tax < total and within_cents(sub, total, SUM_TOLERANCE_CENTS)
    )


def joint_confidence(fields: dict[str, FieldInfo], present: Mapping[str, object]) -> float:
    """The chance that vendor, date and total are all right: the product of their confidences (0 if one is missing)."""
    joint = 1.0
    for key in JOINT_FIELDS:
        info = fields.get(key)
        joint *= 0.0 if present[key] is None else (info.confidence if info is not None else 1.0)
    return joint


def _cut(confidence: float) -> str:
    """Two places, cut rather than rounded: 0.9096 under 0.91 reads "0.90 < 0.91", never "0.91 < 0.91"."""
    return f"{math.floor(confidence * 100) / 100:.2f}"


def validate(
    invoice: Invoice,
    fields: dict[str, FieldInfo],
    reasons: list[str],
    low_confidence: float,
    today: dt.date | None = None,
) -> Validation:
    """Run every check; needs_review when one fails (but see LINE_CHECKS), a key field is missing or unsure.

    Unsure: a key field's confidence, or vendor, date and total's joint confidence, is under low_confidence.
    """
    today = today or dt.date.today()
    checks: list[Check] = []
    for check in (
        _check_lines_sum(invoice),
        _check_totals(invoice),
        _check_currency(invoice, fields),
        _check_parties(invoice),
    ):
        if check is not None:
            checks.append(check)
    checks.extend(_check_tax_rates(invoice))
    checks.extend(_check_dates(invoice, today))
    checks.append(
        Check(
            name="total_present",
            passed=invoice.total is not None,
            detail=_money(invoice.total) if invoice.total is not None else "no total",
        )
    )
    out_reasons = list(dict.fromkeys(reasons))
    for check in checks:
        if not check.passed:
            out_reasons.append(f"check {check.name} failed: {check.detail}")
    present = {
        "vendor.name": invoice.vendor.name,
        "invoice_date": invoice.invoice_date,
        "total": invoice.total,
        "currency": invoice.currency,
    }
    kind = fields.get("document_type")
    # A till receipt often names no currency at all; the currency is a key field of invoices only.
    keys = [k for k in KEY_FIELDS if not (k == "currency" and kind is not None and kind.value == "receipt")]
    unsure: list[str] = []
    for key in keys:
        if present[key] is None:
            message = f"{key} not found"
            if not any(r.startswith(key.replace("_", " ").replace(".", " ")) or r.startswith(key) for r in out_reasons):
                out_reasons.append(message)
            continue
        info = fields.get(key)
        if info is not None and info.confidence < low_confidence:
            unsure.append(key)
            out_reasons.append(f"{key} has low confidence ({_cut(info.confidence)} < {low_confidence:.2f})")
    joint = joint_confidence(fields, present)
    if 0 < joint < low_confidence and not unsure:
        out_reasons.append(f"{JOINT_REASON} ({_cut(joint)} < {low_confidence:.2f})")
    # A failed sum of line items or tax lines while the invoice's own figures agree says the lines were
    # misread: it stays a failed check with its reason, but alone it does not send the invoice to review.
    lines_only = _figures_agree(invoice)
    needs_review = any(not c.passed and not (lines_only and c.name in LINE_CHECKS) for c in checks)
    needs_review = needs_review or any(present[k] is None for k in keys)
    needs_review = needs_review or bool(unsure) or joint < low_confidence
    return Validation(checks=checks, needs_review=needs_review, reasons=out_reasons)
