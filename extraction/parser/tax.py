"""Tax lines: a rate with its base and amount, read from labelled lines and from rows that add up."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from extraction.parser.labels import find_label
from extraction.parser.money import find_amounts
from extraction.schema import TaxLine
from utils.money import rate_agrees

if TYPE_CHECKING:
    from extraction.parser.context import Doc

_RATE = re.compile(r"(?<![\d.,])(\d{1,2}(?:[.,]\d{1,3})?)\s?%")
_MAX_RATE = Decimal(30)


def tax_within(other: Decimal, rate: Decimal, amount: Decimal) -> bool:
    """Whether `amount` is the rate% tax on `other`, taken as the net or as the gross (tax included)."""
    return rate_agrees(other, rate, amount) or rate_agrees(other * 100 / (100 + rate), rate, amount)


@lru_cache(maxsize=20_000)
def line_rate(text: str) -> Decimal | None:
    """The one tax rate printed on a line ("VAT 20%"), or None when there is none or several."""
    rates = [Decimal(m.group(1).replace(",", ".")) for m in _RATE.finditer(text)]
    rates = [r for r in rates if 0 <= r <= _MAX_RATE]
    return rates[0] if len(rates) == 1 else None


def tax_lines(doc: Doc, subtotal: Decimal | None = None, total: Decimal | None = None) -> list[TaxLine]:
    """Tax lines of the document, each rate once."""
    out: list[TaxLine] = []
    seen: set[tuple[Decimal, Decimal | None]] = set()
    for line in doc.lines:
        rate = line_rate(line.text)
        if rate is None:
            continue
        masked = _RATE.sub(" ", line.text)
        amounts = [a.value for a in find_amounts(masked, doc.decimal) if a.has_decimals or a.currency]
        labelled = find_label(line.text, "tax") is not None
        base = amount = None
        for i in range(len(amounts)):
            for j in range(len(amounts)):
                if (
                    i != j
                    and amounts[i] != 0
                    and abs(amounts[j]) < abs(amounts[i])
                    and rate_agrees(amounts[i], rate, amounts[j])
                ):
                    base, amount = amounts[i], amounts[j]
                    break
            if base is not None:
                break
        if base is None:
            if not labelled or not amounts or len(amounts) > 2:
                continue
            amount = amounts[-1]
            if subtotal is not None and rate_agrees(subtotal, rate, amount):
                base = subtotal
            elif rate == 0 and amount == 0:
                base = None
            elif len(amounts) == 2 and rate_agrees(amounts[0], rate, amount, cents=5):
                base = amounts[0]
        key = (rate, amount)
        if key in seen:
            continue
        seen.add(key)
        out.append(TaxLine(rate=rate, base=base, amount=amount))
    return _settle_guesses(out, subtotal, total)


def _settle_guesses(lines: list[TaxLine], subtotal: Decimal | None, total: Decimal | None) -> list[TaxLine]:
    """Lone amounts beside a rate that are the sum the tax is levied on, or that sum with the tax, are not taxes.

    Two of them at one rate that differ by that rate ("excl. GST 6%: 24.00", "incl. GST 6%: 25.44") make one
    tax line; a non-zero amount at 0% is a base; one that is the subtotal, the total, another line's base or
    the net or gross of another line's tax is dropped. A lone amount is a line read without a base.
    """
    out = [t for t in lines if t.base is not None]
    lone = [t for t in lines if t.base is None]
    paired: set[int] = set()
    for net in lone:
        for gross in lone:
            if (
                net.rate == gross.rate
                and id(net) not in paired
                and id(gross) not in paired
                and net.rate is not None
                and net.amount is not None
                and gross.amount is not None
                and 0 < net.amount < gross.amount
                and rate_agrees(net.amount, net.rate, gross.amount - net.amount)
            ):
                paired.update((id(net), id(gross)))
                out.append(TaxLine(rate=net.rate, base=net.amount, amount=gross.amount - net.amount))
    for line in lone:
        if id(line) in paired:
            continue
        if line.rate == 0 and line.amount:
            if not any(other.base == line.amount for other in out):
                out.append(TaxLine(rate=line.rate, base=line.amount, amount=Decimal(0)))
        elif not _net_or_gross(line, lines, subtotal, total):
            out.append(line)
    order = {id(t): i for i, t in enumerate(lines)}
    return sorted(out, key=lambda t: order.get(id(t), len(order)))


def _net_or_gross(line: TaxLine, lines: list[TaxLine], subtotal: Decimal | None, total: Decimal | None) -> bool:
    """Whether a lone amount beside a rate is the sum it is levied on or the sum with it ("incl. GST 6%: 37.10").

    It is when it is the document's subtotal or total, another tax line's base, or the rate of it is another
    tax line's amount.
    """
    amount = line.amount
    if amount is None or amount == 0 or line.rate in (None, 0):
        return False
    if amount in (subtotal, total):
        return True
    return any(
        other is not line
        and other.amount is not None
        and (amount == other.base or tax_within(amount, line.rate, other.amount))
        for other in lines
    )
