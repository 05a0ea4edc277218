"""Amount and currency parsing."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extraction.parser.money import (
    currency_votes,
    detect_currency,
    find_amounts,
    format_amount,
    parse_amount,
    printed_currencies,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1 234,56", "1234.56"),
        ("1\u202f234,56", "1234.56"),
        ("1'234.56", "1234.56"),
        ("1234", "1234"),
        (".50", "0.50"),
        ("12,5", "12.5"),
        ("1.234.567,89", "1234567.89"),
        ("€ 12,50", "12.50"),
        ("12.50 EUR", "12.50"),
        ("USD 1,000.00", "1000.00"),
        ("RM 12.50", "12.50"),
        ("RM31.60", "31.60"),
        ("$ 4.11", "4.11"),
        ("-12.00", "-12.00"),
        ("(12.00)", "-12.00"),
        ("12.00-", "-12.00"),
        ("12.00 CR", "-12.00"),
        ("-€5.00", "-5.00"),
        ("€-5.00", "-5.00"),
        ("Total: 12.50", "12.50"),
    ],
)
def test_parse_amount_forms(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "25/12/2018", "12:30", "1.50 2.50"])
def test_parse_amount_rejects_non_amounts(text: str) -> None:
    assert parse_amount(text) is None


def test_three_decimals_after_one_separator_are_thousands_unless_told() -> None:
    assert parse_amount("1,234") == Decimal("1234")
    assert parse_amount("1.234") == Decimal("1234")
    assert parse_amount("1.234", decimal=".") == Decimal("1.234")


def test_find_amounts_spans_and_currencies() -> None:
    text = "Cash RM 10.00  Change 1.00 €"
    found = find_amounts(text)
    assert [a.value for a in found] == [Decimal("10.00"), Decimal("1.00")]
    assert [a.currency for a in found] == ["MYR", "EUR"]
    assert text[found[0].start : found[0].end] == "RM 10.00"
    assert all(a.has_decimals for a in found)


def test_find_amounts_ignores_dates_and_times() -> None:
    assert find_amounts("25/12/2018 8:13:39 PM") == []


@pytest.mark.parametrize(
    ("text", "code", "weak"),
    [
        ("Total € 12,00", "EUR", False),
        ("Amount 12.00 GBP", "GBP", False),
        ("£3.20", "GBP", False),
        ("RM 3.00 and $3", "MYR", False),
        ("12 zł", "PLN", False),
        ("₹ 319", "INR", False),
        ("Rs. 319", "INR", False),
        ("CHF 10.00", "CHF", False),
        ("S$ 12", "SGD", False),
        ("Total $4.11", "USD", True),
    ],
)
def test_detect_currency(text: str, code: str, weak: bool) -> None:
    guess = detect_currency(text)
    assert guess is not None
    assert (guess.code, guess.weak) == (code, weak)


def test_detect_currency_never_defaults() -> None:
    assert detect_currency("Total 12.00") is None
    # A bare $ next to another dollar's name is not taken as USD.
    guess = detect_currency("Total $12.00 AUD")
    assert guess is not None and guess.code == "AUD"


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("GEL PEN 0.5MM  2.50\nTotal RM 12.00", {"MYR"}),  # a pen, not the Peruvian sol
        ("KEDAI MAJU SDN BHD 3 ITEMS\nTotal RM 9.00", {"MYR"}),
        ("PEN 12.50", {"PEN"}),
        ("Total 1.250 BHD", {"BHD"}),  # the dinar has three places
        ("Currency: TRY", {"TRY"}),
        ("Total 45.00 USD", {"USD"}),
        ("NO. 1 JALAN EURO 1\nTotal RM28.05", {"MYR"}),  # a street
        ("Total 12,50 Euro", {"EUR"}),
    ],
)
def test_printed_currencies_leave_out_word_like_codes_beside_figures_without_cents(text: str, printed: set) -> None:
    assert printed_currencies(text) == printed
    assert printed <= set(currency_votes(text))


@given(
    st.decimals(min_value=Decimal("-99999999.99"), max_value=Decimal("99999999.99"), places=2),
    st.sampled_from(["en", "de", "fr", "ch", "plain"]),
)
def test_locale_round_trip(value: Decimal, style: str) -> None:
    text = format_amount(value, style)
    assert parse_amount(text) == value.quantize(Decimal("0.01"))


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2))
def test_round_trip_with_currency_and_negative_forms(value: Decimal) -> None:
    plain = format_amount(value, "en")
    assert parse_amount(f"€ {plain}") == value
    assert parse_amount(f"({plain})") == -value
    assert parse_amount(f"{plain}-") == -value
    assert parse_amount(f"{format_amount(value, 'de')} EUR") == value
