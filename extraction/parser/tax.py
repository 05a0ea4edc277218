"""Tax lines: a rate with its base and amount, read from labelled lines and from rows that add up."""

from __future__ import annotations

import re
from decimal import Decimal
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


def line_rate(text: str) -> Decimal | None:
    """The one tax rate printed on a line ("VAT 20%"), or None when there is none or several."""
    rates = [Decimal(m.group(1).replace(",", ".")) for m in _RATE.finditer(text)]
    rates = [r for r in rates if 0 <= r <= _MAX_RATE]
    return rates[0] if len(rates) == 1 else None


def tax_lines(doc: Doc, subtotal: Decimal | None = None) -> list[TaxLine]:
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
    return out
