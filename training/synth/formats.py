"""How amounts, money and dates are written on paper in each locale."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from training.synth import vocab

CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    """Round half up to cents, the way invoices round."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _group(digits: str, sep: str, indian: bool) -> str:
    if not sep or len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    size = 2 if indian else 3
    groups: list[str] = []
    while head:
        groups.insert(0, head[-size:])
        head = head[:-size]
    return sep.join([*groups, tail])


def format_number(value: Decimal, style: str, decimals: int = 2) -> str:
    """Decimal -> '1.234,56' / '1,234.56' / '1 234,56' / '12,34,567.00' ... (sign in front)."""
    thousands, point = vocab.AMOUNT_STYLES[style]
    q = abs(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    whole, _, frac = f"{q:f}".partition(".")
    text = _group(whole, thousands, style == "indian") + (point + frac if decimals else "")
    return ("-" if value < 0 else "") + text


@dataclass(frozen=True)
class MoneyStyle:
    """One document's way of writing amounts: number style, currency mark and where it goes."""

    style: str
    mark: str  # '€', 'EUR', 'RM', ...
    mark_first: bool
    space: str  # between mark and number: '' or ' '
    negative: str = "minus"  # 'minus' ('-12.00'), 'trailing' ('12.00-'), 'parens' ('(12.00)')

    def number(self, value: Decimal) -> str:
        """The number alone, sign as the document writes it."""
        text = format_number(abs(value), self.style)
        if value >= 0:
            return text
        return {"minus": f"-{text}", "trailing": f"{text}-", "parens": f"({text})"}[self.negative]

    def money(self, value: Decimal) -> str:
        """The number with the currency mark."""
        num = self.number(value)
        if self.mark_first:
            if num.startswith("-"):
                return f"-{self.mark}{self.space}{num[1:]}"
            return f"{self.mark}{self.space}{num}"
        return f"{num}{self.space}{self.mark}"


def format_date(date: dt.date, pattern: str, language: str) -> str:
    """Fill a vocab.DATE_FORMATS pattern for a date in a language."""
    full, abbr = vocab.MONTHS[language]
    return pattern.format(
        d=date.day, dd=f"{date.day:02d}", m=date.month, mm=f"{date.month:02d}", B=full[date.month - 1],
        b=abbr[date.month - 1], Y=date.year, y=f"{date.year % 100:02d}",
    )  # fmt: skip
