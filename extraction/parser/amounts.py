"""Money fields: labelled amounts (total, subtotal, tax, paid, change ...) and the choice among them.

Each line is cut into segments (a label cell and the value cells after it); a segment's category is
its most specific label. The total is chosen among candidates by label strength, then by arithmetic:
subtotal + tax = total, paid - change = total, and how often the value recurs on the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import product
from typing import TYPE_CHECKING

from extraction.parser.context import fold_map, money_close
from extraction.parser.labels import LabelHit, find_label, fold
from extraction.parser.tax import line_rate, tax_within

if TYPE_CHECKING:
    from extraction.parser.context import Doc, Line
    from extraction.parser.money import AmountMatch
    from extraction.schema import FieldInfo

MONEY_CATEGORIES = (
    "total",
    "amount_due",
    "net",
    "subtotal",
    "tax",
    "paid",
    "change",
    "rounding",
    "discount",
    "not_money",
)


@dataclass
class Candidate:
    """An amount read next to a label."""

    category: str
    strength: int
    value: Decimal
    line: Line
    has_currency: bool
    has_decimals: bool
    label_text: str
    score: float = 0.0


_INCLUDED_IN = re.compile(r"\W*(?:included|incl|inclusive)\W+(?:in\W+)?(?:the\W+)?")


def _resolve(line: Line, text: str) -> tuple[str, LabelHit] | None:
    """The category of one label cell: the most specific label wins; quantities are not money."""
    folded = fold(text)
    hits = {c: line_hit for c in MONEY_CATEGORIES if (line_hit := find_label(text, c, folded)) is not None}
    if not hits:
        return None
    nm = hits.get("not_money")
    money = {c: h for c, h in hits.items() if c != "not_money"}
    if nm is not None and (
        not money or all(h.strength <= nm.strength and h.start >= nm.start - 1 for h in money.values())
    ):
        return None
    if not money:
        return None
    if "change" in money and "total" not in money:
        return "change", money["change"]
    order = {
        "subtotal": 6,
        "tax": 5,
        "total": 4,
        "amount_due": 4,
        "net": 4,
        "rounding": 3,
        "discount": 3,
        "change": 2,
        "paid": 1,
    }

    def rank(item: tuple[str, LabelHit]) -> tuple[int, int, int]:
        category, hit = item
        return (hit.strength, order[category], hit.end - hit.start)

    category, hit = max(money.items(), key=rank)
    # "Total incl. tax" style labels: a strong total beats a weaker tax word on the same label.
    if category == "tax" and "total" in money and money["total"].strength > hit.strength:
        category, hit = "total", money["total"]
    # "GST included in total": the total only says where the tax is.
    tax_hit = money.get("tax")
    if category == "total" and tax_hit is not None and tax_hit.end <= hit.start:
        between = folded[tax_hit.end : hit.start]
        if _INCLUDED_IN.fullmatch(between):
            category, hit = "tax", tax_hit
    # "Discount total", "Total savings": the sum of the discounts, unless the total label is a specific one.
    if category == "total" and "discount" in money and money["discount"].strength >= hit.strength:
        category, hit = "discount", money["discount"]
    if category in ("paid", "rounding", "discount") and "total" in money and money["total"].strength >= 3:
        category, hit = "total", money["total"]
    # "Total paid", "Amount paid" settle the bill; "Amount tendered" is the cash handed over (change comes back).
    if category == "paid" and "total" in money and money["total"].start < hit.start:
        handed_over = money["total"].strength < 2 and folded[hit.start : hit.end].startswith(("tender", "cash"))
        if not handed_over:
            category, hit = "total", money["total"]
    # Payment words inside an item description ("... BAR SOAP") are not payment lines; after another
    # money word ("AMOUNT TENDERED") they are.
    if category == "paid" and hit.start > 3 and not any(h.start <= 3 for h in money.values()):
        return None
    return category, hit


def _pick(amounts: list[AmountMatch]) -> AmountMatch | None:
    if not amounts:
        return None
    with_dec = [a for a in amounts if a.has_decimals or a.currency]
    pool = with_dec or amounts
    return pool[-1]


def _rate_pick(line: Line, amounts: list[AmountMatch]) -> AmountMatch | None:
    """On a tax line with a rate, the amount that is that rate of another one there (of a net or a gross)."""
    rate = line_rate(line.text) if len(amounts) >= 2 else None
    if not rate:
        return None
    for tax in amounts:
        for other in amounts:
            if other is tax or abs(tax.value) >= abs(other.value):
                continue
            if tax_within(other.value, rate, tax.value):
                return tax
    return None


def _segments(line: Line) -> list[tuple[str, str, str]]:
    """(label cell, label-free rest of that cell, following value text) for each labelled cell."""
    out: list[tuple[str, str, str]] = []
    current: list[str] | None = None
    for cell in line.cells:
        resolved = _resolve(line, cell) if any(ch.isalpha() for ch in cell) else None
        if resolved is not None:
            _category, hit = resolved
            _, fmap = fold_map(cell)
            rest = cell[fmap[hit.end] :] if hit.end < len(fmap) else ""
            if current is not None and hit.start > 0:
                # "TAX | .26 BAL | 2.24": what precedes this label in its cell follows the previous one.
                current[2] += "  " + cell[: fmap[hit.start]]
            current = [cell, rest, ""]
            out.append(current)  # type: ignore[arg-type]
        elif current is not None:
            current[2] += "  " + cell
    return [tuple(s) for s in out]  # type: ignore[misc]


def collect(doc: Doc) -> list[Candidate]:
    """Every labelled amount on the document."""
    out: list[Candidate] = []
    lines = doc.lines
    for i, line in enumerate(lines):
        segments = _segments(line)
        for s_index, (label_cell, rest, values) in enumerate(segments):
            resolved = _resolve(line, label_cell)
            if resolved is None:
                continue
            category, hit = resolved
            amounts = doc.amounts(line, rest + "  " + values)
            picked = _pick(amounts)
            if category == "tax":
                # A value before its label ("1.64 Food VAT 6%") counts only where the line holds one label.
                picked = _rate_pick(line, doc.amounts(line) if len(segments) == 1 else amounts) or picked
            source_line = line
            strength = hit.strength
            if picked is None and (s_index == len(segments) - 1 or line.is_row):
                picked, source_line = _look_below(doc, i, line.cells.index(label_cell))
                # A value under a header row is a weaker reading than one beside its label.
                if source_line is not line and line.is_row and len(line.cells) >= 3:
                    strength -= 1
            if picked is None:
                continue
            out.append(
                Candidate(
                    category,
                    strength,
                    picked.value,
                    source_line,
                    bool(picked.currency),
                    picked.has_decimals,
                    label_cell,
                )
            )
    return out


def _look_below(doc: Doc, i: int, cell_index: int) -> tuple[AmountMatch | None, Line]:
    """A value printed under a label that has none beside it (the last value row under a header row)."""
    line = doc.lines[i]
    header = line.is_row and len(line.cells) >= 3
    found: tuple[AmountMatch | None, Line] = (None, line)
    for j in range(i + 1, min(i + (6 if header else 3), len(doc.lines))):
        nxt = doc.lines[j]
        if nxt.page != line.page:
            break
        letters = sum(ch.isalpha() for ch in nxt.text)
        if header:
            if letters > 6 or not nxt.is_row:
                break
            # Columns align on the right: value rows often leave leading cells empty.
            k = len(nxt.cells) - (len(line.cells) - cell_index)
            if 0 <= k < len(nxt.cells):
                picked = _pick(doc.amounts(nxt, nxt.cells[k]))
                if picked is not None:
                    found = (picked, nxt)
            continue
        if any(_resolve(nxt, c) for c in nxt.cells if any(ch.isalpha() for ch in c)):
            break
        if find_label(nxt.text, "not_money") is not None:  # "ABN: 83 600 128 738" under "Tax Invoice"
            break
        picked = _pick(doc.amounts(nxt))
        if picked is not None and letters <= 4:
            return picked, nxt
        if letters > 4:
            break
    return found


@dataclass
class MoneyFields:
    """The chosen money fields with provenance, and reasons for what was not found."""

    values: dict[str, Decimal]
    infos: dict[str, FieldInfo]
    reasons: list[str]
    candidates: list[Candidate]


def _tax_inside_another(cand: Candidate, others: list[Candidate]) -> bool:
    """'Total incl. GST @ 6%: 1.09': the value is the tax inside another amount (19.20), not a total."""
    rate = line_rate(cand.line.text)
    if not rate or find_label(cand.label_text, "tax") is None:
        return False
    return any(
        o is not cand and abs(o.value) > abs(cand.value) and tax_within(o.value, rate, cand.value) for o in others
    )


def _occurrences(doc: Doc, value: Decimal) -> int:
    return sum(1 for line in doc.lines for a in doc.amounts(line) if a.value == value)


def choose(doc: Doc) -> MoneyFields:
    """Pick total, subtotal, tax, amount due from the labelled candidates."""
    cands = collect(doc)
    by: dict[str, list[Candidate]] = {c: [x for x in cands if x.category == c] for c in MONEY_CATEGORIES}
    # "Net total" is the amount before tax on invoices and the amount to pay on many receipts:
    # it competes in both roles and the arithmetic decides.
    subtotals, taxes = by["subtotal"] + by["net"], by["tax"]
    paid, change = by["paid"], by["change"]
    totals = by["total"] + by["amount_due"] + by["net"]
    values: dict[str, Decimal] = {}
    infos: dict[str, FieldInfo] = {}
    reasons: list[str] = []

    # "Rounding RM 177.20": a rounding line that carries the rounded amount itself is the final total.
    for r in by["rounding"]:
        if abs(r.value) >= 1 and any(abs(t.value - r.value) <= Decimal("0.10") for t in totals):
            totals.append(Candidate("total", 3, r.value, r.line, r.has_currency, r.has_decimals, r.label_text))
    for cand in totals:
        score = float(cand.strength) - {"amount_due": 0.3, "net": 0.5}.get(cand.category, 0.0)
        if any(money_close(s.value + t.value, cand.value) for s, t in product(subtotals, taxes) if s is not cand):
            score += 2.0
        elif any(money_close(s.value, cand.value) for s in subtotals if s is not cand) and not taxes:
            score += 0.5
        # "Total 28.03 / Rounding 0.02 / Net Total 28.05": the amount after the rounding is the one paid.
        if any(
            money_close(o.value + r.value, cand.value) or money_close(o.value - r.value, cand.value)
            for o, r in product(totals, by["rounding"])
            if o is not cand and 0 < abs(r.value) < 1 and o.line.index < cand.line.index
        ):
            score += 1.5
        if any(money_close(p.value - c.value, cand.value) for p, c in product(paid, change) if p.value > c.value):
            score += 1.0
        elif any(money_close(p.value, cand.value) for p in paid):
            score += 0.7
        score += 0.3 * min(_occurrences(doc, cand.value) - 1, 3)
        score += 0.2 if cand.has_currency else 0.0
        score -= 0.0 if cand.has_decimals else 0.6
        score -= 1.5 if cand.value == 0 else 0.0
        score -= 1.5 if _tax_inside_another(cand, totals + paid) else 0.0
        cand.score = score

    total: Candidate | None = None
    if totals:
        total = max(totals, key=lambda c: (round(c.score, 3), abs(c.value), c.line.index))
        conf = 0.55 + 0.1 * min(total.score, 4.5)
        values["total"] = total.value
        infos["total"] = doc.info(total.value, min(conf, 0.98), total.line)
    else:
        fallback = _fallback_total(doc, paid, change, subtotals, taxes)
        if fallback is not None:
            value, conf, line, why = fallback
            values["total"] = value
            infos["total"] = doc.info(value, conf, line)
            reasons.append(f"total not labelled; {why}")
        else:
            reasons.append("total not found")

    due = [c for c in by["amount_due"]]
    if due:
        best_due = max(due, key=lambda c: (c.strength, c.line.index))
        values["amount_due"] = best_due.value
        infos["amount_due"] = doc.info(best_due.value, 0.8, best_due.line)

    t_value = values.get("total")
    sub = _choose_sub([s for s in subtotals if s is not total], taxes, t_value)
    if sub is not None:
        s_cand, conf = sub
        values["subtotal"] = s_cand.value
        infos["subtotal"] = doc.info(s_cand.value, conf, s_cand.line)
    tax = _choose_tax(taxes, values.get("subtotal"), t_value)
    if tax is not None:
        x_value, conf, line = tax
        values["tax_total"] = x_value
        infos["tax_total"] = doc.info(x_value, conf, line)
        unlabelled = _amount_before_tax(doc, line, x_value, t_value) if "subtotal" not in values else None
        if unlabelled is not None:
            sub_value, sub_line = unlabelled
            values["subtotal"] = sub_value
            infos["subtotal"] = doc.info(sub_value, 0.7, sub_line)
            infos["tax_total"] = doc.info(x_value, max(conf, 0.8), line)
    return MoneyFields(values, infos, reasons, cands)


def _amount_before_tax(doc: Doc, tax_line: Line, tax: Decimal, total: Decimal | None) -> tuple[Decimal, Line] | None:
    """An amount printed just above the tax line that, with the tax, makes the total ('FOOD 8.44 / TAX 0.61')."""
    if total is None or tax <= 0:
        return None
    for line in doc.lines[max(0, tax_line.index - 2) : tax_line.index][::-1]:
        if line.page != tax_line.page:
            continue
        for a in doc.amounts(line):
            if a.has_decimals and 0 < a.value < total and money_close(a.value + tax, total):
                return a.value, line
    return None


def _fallback_total(
    doc: Doc, paid: list[Candidate], change: list[Candidate], subtotals: list[Candidate], taxes: list[Candidate]
) -> tuple[Decimal, float, Line | None, str] | None:
    for p, c in product(paid, change):
        if p.value > c.value >= 0:
            return p.value - c.value, 0.5, p.line, "paid minus change used"
    if paid:
        p = max(paid, key=lambda x: x.value)
        return p.value, 0.4, p.line, "amount paid used"
    if subtotals:
        s = subtotals[-1]
        t = sum((x.value for x in taxes[:1]), Decimal(0))
        return s.value + t, 0.4, s.line, "subtotal plus tax used"
    best: tuple[Decimal, Line] | None = None
    for line in doc.lines:
        for a in doc.amounts(line):
            if (a.has_decimals or a.currency) and (best is None or a.value > best[0]) and a.value < 10**7:
                best = (a.value, line)
    if best is None:
        return None
    return best[0], 0.25, best[1], "largest amount on the document used"


def _choose_sub(
    subtotals: list[Candidate], taxes: list[Candidate], total: Decimal | None
) -> tuple[Candidate, float] | None:
    if not subtotals:
        return None
    if total is not None:
        for s in reversed(subtotals):
            if any(money_close(s.value + t.value, total) for t in taxes):
                return s, 0.95
            if money_close(s.value + sum((t.value for t in taxes), Decimal(0)), total):
                return s, 0.9
        for s in reversed(subtotals):
            if money_close(s.value, total):
                return s, 0.8
    best = max(subtotals, key=lambda c: (c.strength, c.value if total is None or c.value <= total else -c.value))
    return best, 0.6


def _choose_tax(
    taxes: list[Candidate], subtotal: Decimal | None, total: Decimal | None
) -> tuple[Decimal, float, Line] | None:
    if not taxes:
        return None
    if subtotal is not None and total is not None:
        for t in taxes:
            if money_close(subtotal + t.value, total):
                return t.value, 0.95, t.line
        distinct = list({(t.line.index, t.value): t for t in taxes if t.strength >= 2}.values())
        summed = sum((t.value for t in distinct), Decimal(0))
        if len(distinct) > 1 and money_close(subtotal + summed, total):
            return summed, 0.85, distinct[0].line
    best = max(taxes, key=lambda c: (c.strength, c.line.index))
    return best.value, 0.6, best.line
