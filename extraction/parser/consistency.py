"""One consistency pass over the whole invoice: the fields' best candidates must agree with each other.

Subtotal + tax = total, the tax below the total, the due date not before the issue date, the vendor
not the customer. Where the best candidates disagree, the runner-up candidates are tried (a value
the scorer ranked lower but that makes the invoice add up); what still disagrees is left for
validation to flag.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from itertools import product
from typing import TYPE_CHECKING

from extraction.parser.scoring import Ranked, value_key

if TYPE_CHECKING:
    from extraction.parser.candidates import Candidate

TOP = 4  # candidates per field the pass may choose among
_CENT = Decimal("0.01")


@dataclass
class Choice:
    """A field's chosen candidate and its confidence, and whether the consistency pass changed it."""

    candidate: Candidate
    probability: float
    changed: bool = False


def _options(ranked: Ranked | None) -> list[tuple[Candidate, float]]:
    if ranked is None:
        return []
    return [(ranked.candidate, ranked.score), *ranked.others[: TOP - 1]]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))


def _adds_up(sub: Decimal, tax: Decimal, total: Decimal) -> bool:
    return abs(sub + tax - total) <= 2 * _CENT


def amounts(ranked: dict[str, Ranked | None]) -> dict[str, Choice | None]:
    """Total, subtotal and tax: the most likely combination, preferring one where subtotal + tax = total."""
    best = {name: ranked.get(name) for name in ("total", "subtotal", "tax")}
    chosen: dict[str, Choice | None] = {
        name: Choice(r.candidate, r.probability) if r is not None else None for name, r in best.items()
    }
    total, sub, tax = chosen["total"], chosen["subtotal"], chosen["tax"]
    if total is not None and sub is not None and tax is not None:
        if _adds_up(sub.candidate.value, tax.candidate.value, total.candidate.value):
            return chosen
        combos = []
        for (t, ts), (s, ss), (x, xs) in product(
            _options(best["total"]), _options(best["subtotal"]), _options(best["tax"])
        ):
            if _adds_up(s.value, x.value, t.value) and x.value < t.value and s.value > 0:
                likelihood = math.log(_sigmoid(ts)) + math.log(_sigmoid(ss)) + math.log(_sigmoid(xs))
                combos.append((likelihood, t, s, x))
        if combos:
            _, t, s, x = max(combos, key=lambda c: c[0])
            for name, cand in (("total", t), ("subtotal", s), ("tax", x)):
                current = chosen[name]
                if current is not None and cand is not current.candidate:
                    score = next(sc for c, sc in _options(best[name]) if c is cand)
                    chosen[name] = Choice(cand, _sigmoid(score), changed=True)
            return chosen
    # Impossible relations: a tax not below the total, a subtotal above it. The less likely one goes.
    total = chosen["total"]
    if total is not None:
        for name in ("tax", "subtotal"):
            other = chosen[name]
            if other is None:
                continue
            limit = (
                other.candidate.value >= total.candidate.value
                if name == "tax"
                else other.candidate.value > total.candidate.value
            )
            if limit and total.candidate.value > 0 and other.probability <= total.probability:
                chosen[name] = None
    return chosen


def dates(ranked: dict[str, Ranked | None]) -> dict[str, Choice | None]:
    """Invoice and due date: a due date before the issue date gives way to the next due candidate after it."""
    issue, due = ranked.get("invoice_date"), ranked.get("due_date")
    chosen: dict[str, Choice | None] = {
        "invoice_date": Choice(issue.candidate, issue.probability) if issue else None,
        "due_date": Choice(due.candidate, due.probability) if due else None,
    }
    if issue is None or due is None:
        return chosen
    if due.candidate.value >= issue.candidate.value:
        return chosen
    for cand, score in due.others[: TOP - 1]:
        if cand.value >= issue.candidate.value:
            chosen["due_date"] = Choice(cand, _sigmoid(score), changed=True)
            return chosen
    chosen["due_date"] = None if due.probability < issue.probability else chosen["due_date"]
    return chosen


def parties(ranked: dict[str, Ranked | None]) -> dict[str, Choice | None]:
    """Vendor and customer: never the same name; the less likely one takes its next candidate."""
    vendor, customer = ranked.get("vendor"), ranked.get("customer")
    chosen: dict[str, Choice | None] = {
        "vendor": Choice(vendor.candidate, vendor.probability) if vendor else None,
        "customer": Choice(customer.candidate, customer.probability) if customer else None,
    }
    if vendor is None or customer is None:
        return chosen
    if value_key(vendor.candidate.value) != value_key(customer.candidate.value):
        return chosen
    loser, winner = ("customer", vendor) if vendor.probability >= customer.probability else ("vendor", customer)
    source = customer if loser == "customer" else vendor
    for cand, score in source.others:
        if value_key(cand.value) != value_key(winner.candidate.value):
            chosen[loser] = Choice(cand, _sigmoid(score), changed=True)
            return chosen
    chosen[loser] = None
    return chosen
