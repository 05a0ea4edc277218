"""Money comparisons: the tolerances every check, parser rule and match uses (all on Decimal)."""

from __future__ import annotations

from decimal import Decimal

CENT = Decimal("0.01")
HALF_CENT = Decimal("0.005")
# A tax computed from a printed rate may be off by this share of itself (rates printed rounded, e.g. 7.7 %).
RATE_SLACK = Decimal("0.002")


def within_cents(a: Decimal, b: Decimal, cents: int) -> bool:
    """Whether `a` and `b` differ by at most `cents` cents."""
    return abs(a - b) <= Decimal(cents) / 100


def same_amount(a: Decimal, b: Decimal) -> bool:
    """Whether two amounts are equal to the cent (they differ by less than half a cent)."""
    return abs(a - b) < HALF_CENT


def rate_agrees(base: Decimal, rate: Decimal, amount: Decimal, cents: int = 2) -> bool:
    """Whether base x rate% = amount within `cents` or 0.2 % of it (per-line rounding leaves a little slack)."""
    expected = base * rate / 100
    return abs(expected - amount) <= max(Decimal(cents) / 100, abs(expected) * RATE_SLACK)


def exponent(value: Decimal) -> int:
    """The exponent of a finite Decimal: 1.50 -> -2, 15E+2 -> 2 (ValueError for NaN and infinities)."""
    exp = value.as_tuple().exponent
    if not isinstance(exp, int):
        raise ValueError(f"{value} has no exponent")
    return exp
