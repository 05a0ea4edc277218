"""One consistency pass over the whole invoice: the fields' best candidates must agree with each other.

Subtotal + tax = total, the tax below the total, the due date not before the issue date, the vendor
not the customer, the invoice number neither a company's registration number nor the issue date's
figures. Where the best candidates disagree, the runner-up candidates are tried (a value the scorer
ranked lower but that makes the invoice add up); what still disagrees is left for validation to flag.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from itertools import product
from typing import TYPE_CHECKING

from extraction.parser.candidates.names import LABEL_REACH, REG_LINE
from extraction.parser.labels import find_label
from extraction.parser.scoring import Ranked, sigmoid, value_key
from extraction.parser.vocab import COMPANY_SUFFIX
from utils.money import within_cents

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from extraction.parser.candidates import Candidate

TOP = 4  # candidates per field the pass may choose among
# The log-likelihood a combination gains when subtotal + tax = total: agreement is strong evidence,
# but not against a clear winner.
AGREEMENT_GAIN = 2.0


@dataclass
class Choice:
    """A field's chosen candidate and its confidence, and whether the consistency pass changed it."""

    candidate: Candidate
    probability: float
    changed: bool = False


def _as_ranked(ranked: dict[str, Ranked | None], names: Iterable[str]) -> dict[str, Choice | None]:
    """Each field's own best candidate with its probability, before the pass changes anything."""
    return {name: Choice(r.candidate, r.probability) if (r := ranked.get(name)) else None for name in names}


def _stand_in(options: list[tuple[Candidate, float]], fits: Callable[[Candidate], bool]) -> Choice | None:
    """The first runner-up that fits, only when it is likely on its own (its score's sigmoid at least 1/2)."""
    for cand, score in options:
        if fits(cand):
            return Choice(cand, sigmoid(score), changed=True) if sigmoid(score) >= 0.5 else None
    return None


def _log(p: float) -> float:
    return math.log(max(p, 1e-12))


def _options(ranked: Ranked | None, floor: float | None) -> list[tuple[Candidate | None, float]]:
    """A field's top candidates with their log-likelihoods, and (when `floor` is given) being absent.

    The best candidate weighs its calibrated probability p; a runner-up its own score's share, never
    above 1 - p; absence weighs 1 - p, shifted so that absence and presence tie at the field's floor
    (the probability under which the field is not reported).
    """
    if ranked is None:
        return [(None, 0.0)]
    p = ranked.probability
    out: list[tuple[Candidate | None, float]] = [(ranked.candidate, _log(p))]
    out += [(c, _log(min(sigmoid(score), 1.0 - p))) for c, score in ranked.others[: TOP - 1]]
    if floor is not None:
        out.append((None, _log(1.0 - p) + math.log(floor / (1.0 - floor))))
    return out


def _adds_up(sub: Decimal, tax: Decimal, total: Decimal) -> bool:
    # Two cents cover rounding per line and cash rounding to five cents.
    return within_cents(sub + tax, total, 2)


def _tax_fits(tax: Decimal, total: Decimal) -> bool:
    """A tax below the total in size and not of the other sign (a discount or a deduction is no tax)."""
    return abs(tax) < abs(total) and tax * total >= 0


def parts_add_up(sub: Decimal, tax: Decimal, total: Decimal) -> bool:
    """Whether a subtotal of the total's sign and a tax that fits the total add up to it."""
    return _tax_fits(tax, total) and sub != 0 and (sub > 0) == (total > 0) and _adds_up(sub, tax, total)


def _consistent(t: Candidate, s: Candidate | None, x: Candidate | None) -> tuple[bool, bool]:
    """(possible, adds up): a tax fits the total; subtotal + tax = total with the total's sign."""
    if x is not None and not _tax_fits(x.value, t.value):
        return False, False
    if s is None or x is None:
        return True, False
    return True, parts_add_up(s.value, x.value, t.value)


@dataclass(frozen=True)
class Payment:
    """What a receipt's payment lines say of its total: tendered less change, and never the tendered sum."""

    implied: frozenset[Decimal] = frozenset()  # tendered less a positive change
    tendered: frozenset[Decimal] = frozenset()  # sums handed over that a positive change says exceed the total

    def agrees(self, total: Decimal) -> bool:
        """Whether the payment lines imply this total."""
        return total in self.implied

    def excludes(self, total: Decimal) -> bool:
        """Whether this total is a sum handed over, with change given back (so more than the total)."""
        return total in self.tendered and total not in self.implied


def payment(cands: Iterable[Candidate]) -> Payment:
    """The totals the amounts after 'paid/cash/card' and 'change' labels imply and exclude.

    Only where the sum tendered less the change is itself printed: "Cash 30.90" may be the total paid in
    cash as well as the note handed over.
    """
    cands = list(cands)
    printed = {c.value for c in cands}
    paid = {c.value for c in cands if c.features.get("before_paid", 0) > 0 and c.value > 0}
    change = {c.value for c in cands if c.features.get("before_change", 0) > 0 and c.value > 0}
    pairs = [(p, ch) for p in paid for ch in change if p > ch and p - ch in printed]
    return Payment(frozenset(p - ch for p, ch in pairs), frozenset(p for p, _ in pairs))


def amounts(
    ranked: dict[str, Ranked | None], floors: dict[str, float], paid: Payment | None = None
) -> dict[str, Choice | None]:
    """Total, subtotal and tax: the most likely combination of their top candidates (or absence).

    A combination where subtotal + tax = total gains AGREEMENT_GAIN (one that replaces the best total
    only with parts at or above their floors), and so does a total that the payment lines imply
    (tendered less change); one with a tax not below the total, or of the other sign, is impossible (a
    subtotal above the total is not: a discount after the subtotal), and so is a total that is the sum
    tendered when change was given. A field the search changes gets the share of the combinations that
    agree with it as its confidence. A total whose parts, each its own scorer's best, add up to it
    without any change gains what such agreement was worth out of fold (`FieldModel.agreed`); a subtotal
    and tax that add up with the total are as sure as the total.
    """
    paid = paid or Payment()
    best = {name: ranked.get(name) for name in ("total", "subtotal", "tax")}
    chosen = _as_ranked(ranked, best)
    if best["total"] is None:
        return chosen
    leader = best["total"].candidate
    combos: list[tuple[float, Candidate, Candidate | None, Candidate | None]] = []
    sub_floor, tax_floor = floors.get("subtotal", 0.5), floors.get("tax", 0.5)
    totals = [(t, tl) for t, tl in _options(best["total"], None) if t is not None and not paid.excludes(t.value)]
    for (t, tl), (s, sl), (x, xl) in product(
        totals or _options(best["total"], None), _options(best["subtotal"], sub_floor), _options(best["tax"], tax_floor)
    ):
        assert t is not None
        doubtful = (s is not None and math.exp(sl) < sub_floor) or (x is not None and math.exp(xl) < tax_floor)
        if doubtful and t is not leader:
            # Parts too doubtful to report may be confirmed by the total, never overturn it: the amount
            # tendered less the change always "adds up" with the total.
            continue
        possible, adds_up = _consistent(t, s, x)
        if possible:
            gain = AGREEMENT_GAIN * (adds_up + paid.agrees(t.value))
            combos.append((tl + sl + xl + gain, t, s, x))
    top = max(c[0] for c in combos)
    weights = [math.exp(c[0] - top) for c in combos]
    _, t, s, x = max(combos, key=lambda c: c[0])
    for index, (name, cand) in enumerate((("total", t), ("subtotal", s), ("tax", x)), start=1):
        current = chosen[name]
        if cand is None:
            chosen[name] = None
        elif current is None or cand is not current.candidate:
            share = sum(w for w, c in zip(weights, combos, strict=True) if c[index] is cand) / sum(weights)
            chosen[name] = Choice(cand, share, changed=True)
    if s is not None and x is not None and _consistent(t, s, x)[1]:
        total = chosen["total"]
        assert total is not None  # t, the total of the best combination, was chosen above
        model = best["total"].model
        if model is not None and not total.changed and _own_and_reported(chosen, sub_floor, tax_floor):
            total.probability = model.agreed(total.probability)
        for name in ("subtotal", "tax"):
            part = chosen[name]
            if part is not None:
                part.probability = max(part.probability, total.probability)
    return chosen


def _own_and_reported(chosen: dict[str, Choice | None], sub_floor: float, tax_floor: float) -> bool:
    """Whether the subtotal and the tax are each their own scorer's best, likely enough to be reported."""
    sub, tax = chosen["subtotal"], chosen["tax"]
    return all(c is not None and not c.changed and c.probability >= f for c, f in ((sub, sub_floor), (tax, tax_floor)))


def _same_span(a: Candidate, b: Candidate) -> bool:
    return a.line is b.line and a.start == b.start and a.value == b.value


def dates(ranked: dict[str, Ranked | None]) -> dict[str, Choice | None]:
    """Invoice and due date: a due date before the issue date gives way to the next due candidate after it.

    One printed date is never both: a due date read from the issue date's own span gives way to another
    due candidate only when that one is likely on its own (a till receipt has no due date).
    """
    issue, due = ranked.get("invoice_date"), ranked.get("due_date")
    chosen = _as_ranked(ranked, ("invoice_date", "due_date"))
    if issue is None or due is None:
        return chosen
    if _same_span(due.candidate, issue.candidate):
        chosen["due_date"] = _stand_in(due.others[: TOP - 1], lambda c: c.value >= issue.candidate.value)
        return chosen
    if due.candidate.value >= issue.candidate.value:
        return chosen
    for cand, score in due.others[: TOP - 1]:
        if cand.value >= issue.candidate.value:
            chosen["due_date"] = Choice(cand, sigmoid(score), changed=True)
            return chosen
    chosen["due_date"] = None if due.probability < issue.probability else chosen["due_date"]
    return chosen


def _has_customer_cue(cand: Candidate) -> bool:
    """A customer label on the name's line or a few lines above it ("Bill to", "Kunde", ...)."""
    f = cand.features
    return f.get("customer_label_same_line", 0) > 0 or f.get("customer_label_above", LABEL_REACH) < LABEL_REACH


def parties(ranked: dict[str, Ranked | None]) -> dict[str, Choice | None]:
    """Vendor and customer: never the same name.

    A name both scorers chose is the vendor's unless a customer label marks it and the customer scorer
    rates it higher. Every invoice has a seller: a vendor that loses the name takes its scorer's best
    other name, as sure as the scorer is of it among the rest. Many documents name no customer: a
    customer that loses it takes its next candidate only when that one is likely on its own.
    """
    vendor, customer = ranked.get("vendor"), ranked.get("customer")
    chosen = _as_ranked(ranked, ("vendor", "customer"))
    if vendor is None or customer is None:
        return chosen
    if value_key(vendor.candidate.value) != value_key(customer.candidate.value):
        return chosen
    customer_keeps = _has_customer_cue(customer.candidate) and customer.score > vendor.score
    loser, winner = ("vendor", customer) if customer_keeps else ("customer", vendor)
    source = vendor if customer_keeps else customer
    taken = value_key(winner.candidate.value)

    def untaken(cand: Candidate) -> bool:
        return value_key(cand.value) != taken

    rest = source.without(untaken) if loser == "vendor" else None
    if rest is not None:
        chosen[loser] = Choice(rest.candidate, rest.probability, changed=True)
    else:
        chosen[loser] = _stand_in(source.others, untaken)
    return chosen


def _in_name_block(number: Candidate, name: Candidate) -> bool:
    """Whether a number is printed as part of a chosen name: inside its span, or alone on the line below it."""
    if number.line is None or name.line is None:
        return False
    lines = name.lines or (name.line,)
    last = lines[-1].index + (1 if name.features.get("variant_joined") else 0)
    if number.line.index == name.line.index:
        return name.start <= number.start and number.end <= name.end
    if name.line.index < number.line.index <= last:
        return True  # a line the name continues over
    return number.line.index == last + 1 and bool(REG_LINE.match(number.line.text.strip()))


def names_a_company(number: Candidate, seller: Candidate | None) -> bool:
    """Whether a number is a company's registration: printed with the seller's name, under a trade-register
    label ("Co. Reg No.", "HRB", "KvK"), or in brackets right after a legal form ("... SDN BHD (1135772-K)")."""
    if seller is not None and _in_name_block(number, seller):
        return True
    if find_label(number.label_text, "registration") is not None:
        return True
    line = number.line.text if number.line is not None else ""
    bracketed = line[number.start - 1 : number.start] == "(" and line[number.end : number.end + 1] == ")"
    return bracketed and COMPANY_SUFFIX.search(line[: max(number.start - 1, 0)].rstrip()[-12:]) is not None


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.line is not None and a.line is b.line and a.start < b.end and b.start < a.end


def invoice_number(ranked: Ranked | None, vendor: Choice | None, issue_date: Choice | None = None) -> Choice | None:
    """The invoice number: never a company's registration number (the seller's above all), nor unlabelled
    figures of the span the likelier issue date was read from ("Date:2019-04-0209:15:33", glued to its time)."""
    if ranked is None:
        return None
    seller = vendor.candidate if vendor is not None else None
    date = issue_date.candidate if issue_date is not None and issue_date.probability >= ranked.probability else None

    def fits(number: Candidate) -> bool:
        # A number under its own label ("Receipt # 20161223-10019") is one, whatever date it holds.
        labelled = number.features.get("before_invoice_number", 0) > 0
        glued = date is not None and not labelled and _overlaps(number, date)
        return not names_a_company(number, seller) and not glued

    if fits(ranked.candidate):
        return Choice(ranked.candidate, ranked.probability)
    return _stand_in(ranked.others[: TOP - 1], fits)
