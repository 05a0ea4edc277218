"""Amount candidates: every amount printed on the document, for the total, subtotal and tax scorers.

Besides the labels around it, an amount is described by how it relates to the others: whether two
others add up to it, whether it is what was paid less the change, whether it is a printed rate of
another amount, whether the item lines above it sum to it, and where it ranks by size.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import Counter
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from extraction.parser.candidates import Candidate, Layout
from extraction.parser.nearby import label_features, label_text, labels_in
from extraction.parser.tax import line_rate, tax_within
from utils.money import CENT

if TYPE_CHECKING:
    from extraction.parser.context import Doc, Line

MONEY_KINDS = ("total", "amount_due", "net", "subtotal", "tax", "paid", "change", "rounding", "discount")


def _cents(value: Decimal) -> int:
    return int((value / CENT).to_integral_value())


def _money_label(features: dict[str, float], kinds: tuple[str, ...] = MONEY_KINDS) -> bool:
    return any(features.get(key, 0) > 0 for key in _label_keys(kinds))


@lru_cache(maxsize=64)
def _label_keys(kinds: tuple[str, ...]) -> tuple[str, ...]:
    """The features that hold a label of these kinds before or above a value."""
    return tuple(f"{slot}_{k}" for k in kinds for slot in ("before", "above"))


def _item_line(line: Line) -> bool:
    """A line that reads like a billed item: words and amounts, no money label."""
    if sum(ch.isalpha() for ch in line.text) < 3:
        return False
    return not any(k in labels_in(line.text) for k in (*MONEY_KINDS, "not_money", "tax_id", "phone"))


def amount_candidates(doc: Doc, layout: Layout) -> list[Candidate]:
    """Every amount on the document with its features."""
    out: list[Candidate] = []
    item_sum = 0
    item_sums: dict[int, int] = {}
    for line in doc.lines:
        matches = doc.amounts(line)
        item_sums[line.index] = item_sum
        rate = line_rate(line.text)
        for j, match in enumerate(matches):
            cand = Candidate("amount", match.value, match.text, line, match.start, match.end)
            f = layout.line_features(line, match.start, match.end)
            f.update(label_features(doc, line, match.start, match.end))
            f["decimals"] = float(match.has_decimals)
            f["currency_sign"] = float(bool(match.currency))
            f["negative"] = float(match.value < 0)
            f["zero"] = float(match.value == 0)
            f["amounts_on_line"] = float(len(matches))
            f["from_line_end"] = float(len(matches) - 1 - j)
            f["rate_on_line"] = float(rate is not None)
            f["digits"] = float(len(str(abs(match.value)).replace(".", "").lstrip("0")))
            cand.features = f
            cand.label_text = label_text(doc, line, match.start)
            out.append(cand)
        if matches and matches[-1].has_decimals and _item_line(line):
            item_sum += _cents(matches[-1].value)
    _relations(out, item_sums)
    return out


def _relations(cands: list[Candidate], item_sums: dict[int, int]) -> None:
    """Features that compare each amount with the others on the document."""
    cents = [_cents(c.value) for c in cands]
    present = Counter(cents)
    labelled = Counter(v for v, c in zip(cents, cands, strict=True) if _money_label(c.features))
    paid = {v for v, c in zip(cents, cands, strict=True) if _money_label(c.features, ("paid",))}
    change = {v for v, c in zip(cents, cands, strict=True) if _money_label(c.features, ("change",))}
    taxes = [c for c in cands if _money_label(c.features, ("tax",))]
    rounding = [
        (c.line.index if c.line else 0, v)
        for v, c in zip(cents, cands, strict=True)
        if _money_label(c.features, ("rounding",)) and 0 < abs(v) < 100
    ]
    positives = sorted({v for v in cents if v > 0}, reverse=True)
    rank = {v: i for i, v in enumerate(positives)}
    largest = positives[0] if positives else 0
    rates = sorted({r for c in cands if c.line is not None and (r := line_rate(c.line.text))})
    # What depends on a value alone is computed once per distinct value (Decimal arithmetic is slow).
    values = {c.value for c in cands}
    tax_of_another = _taxes_of_others(values, rates)
    tax_counts = Counter(t.value for t in taxes)
    tax_ids = {id(t) for t in taxes}
    holds_a_tax: dict[tuple[Decimal, bool], bool] = {}
    sums_of_two = {v: (_sum_of_two(v, present), _sum_of_two(v, labelled)) for v in set(cents)}
    placed = [(c.line.index, abs(c.value)) for c in cands if c.line is not None]
    for v, cand in zip(cents, cands, strict=True):
        f = cand.features
        f["value_rank"] = float(min(rank.get(v, 30), 30))
        f["of_largest"] = v / largest if largest else 0.0
        f["occurrences"] = float(min(present[v], 6))
        f["labelled_occurrences"] = float(min(labelled[v], 6))
        f["sum_of_two"] = float(sums_of_two[v][0])
        f["sum_of_two_labelled"] = float(sums_of_two[v][1])
        f["paid_less_change"] = float(any((p - v) in change for p in paid if p > v))
        f["equals_paid"] = float(v in paid)
        f["items_above_sum"] = float(v > 0 and cand.line is not None and item_sums.get(cand.line.index) == v)
        line_index = cand.line.index if cand.line is not None else 0
        f["after_rounding"] = float(
            any(i < line_index and any((v - r) == o or (v + r) == o for o in present) for i, r in rounding)
        )
        f["tax_of_another"] = float(tax_of_another[cand.value])
        key = (cand.value, id(cand) in tax_ids)
        if key not in holds_a_tax:
            holds_a_tax[key] = _holds_a_tax(cand.value, tax_counts, rates, own=key[1])
        f["holds_a_tax"] = float(holds_a_tax[key])
        size = abs(cand.value)
        f["larger_below"] = float(sum(1 for i, other in placed if i > line_index and other > size))


def _sum_of_two(v: int, values: Counter[int]) -> bool:
    """Whether two other amounts (distinct positions) add up to `v`, within a cent."""
    if v <= 0:
        return False
    for a in values:
        if a <= 0 or a >= v:
            continue
        for b in (v - a - 1, v - a, v - a + 1):
            if b in values and b > 0 and (b != a or values[a] > 1):
                return True
    return False


def _tax_of_another(value: Decimal, values: set[Decimal], rates: list[Decimal]) -> bool:
    """Whether the amount is a printed rate of a larger amount (as net or gross)."""
    if value <= 0:
        return False
    for other in values:
        if other <= value:
            continue
        if any(tax_within(other, r, value) for r in rates if r > 0):
            return True
    return False


def _taxes_of_others(values: set[Decimal], rates: list[Decimal]) -> dict[Decimal, bool]:
    """`_tax_of_another` for every value, trying for each only the amounts near what its net or gross would be."""
    ordered = sorted(values)
    approx = [float(v) for v in ordered]
    if not all(math.isfinite(a) for a in approx):
        return {v: _tax_of_another(v, values, rates) for v in values}
    positive = [r for r in rates if r > 0]
    return {v: _tax_of_another_near(v, ordered, approx, positive) for v in values}


def _tax_of_another_near(value: Decimal, ordered: list[Decimal], approx: list[float], rates: list[Decimal]) -> bool:
    """`_tax_of_another` with the amounts sorted (and as floats): at a rate r, a tax `value` within
    max(0.02, 0.2 %) of other x r / 100 or of other x r / (100 + r) puts `other` between the bounds below
    (widened by far more than float rounding), so only the amounts there are checked exactly."""
    if value <= 0:
        return False
    a = float(value)
    for r in rates:
        rate = float(r)
        low = (a - 0.02) / 1.002 * 100 / rate * (1 - 1e-9) - 1e-9
        high = (a + 0.02) / 0.998 * (100 + rate) / rate * (1 + 1e-9) + 1e-9
        for other in ordered[bisect_left(approx, low) : bisect_right(approx, high)]:
            if other > value and tax_within(other, r, value):
                return True
    return False


def _holds_a_tax(value: Decimal, taxes: Counter[Decimal], rates: list[Decimal], own: bool) -> bool:
    """Whether a labelled tax (other than the amount itself, when `own`) is a printed rate of the amount."""
    return any(tax_within(value, r, tax) for tax, n in taxes.items() if n - (own and tax == value) > 0 for r in rates)
