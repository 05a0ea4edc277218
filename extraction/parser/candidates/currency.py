"""Currency candidates: each currency the document names (codes, symbols, words) or implies by its country.

A country is only evidence the document itself shows: the country part of an IBAN or a VAT number, an
international phone prefix, a country name, a legal form that exists in one country only. A currency
implied that way is a weak candidate; the scorer's probability (and the review flag) say so.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from extraction.parser.candidates import Candidate, Layout
from extraction.parser.money import ISO_CODES, SYMBOLS, WORDLIKE_CODES, currency_votes, printed_currencies

if TYPE_CHECKING:
    from extraction.parser.context import Doc

# Country (ISO 3166 alpha-2) -> currency.
COUNTRY_CURRENCY = {
    **dict.fromkeys(
        [
            "AT",
            "BE",
            "CY",
            "DE",
            "EE",
            "ES",
            "FI",
            "FR",
            "GR",
            "HR",
            "IE",
            "IT",
            "LT",
            "LU",
            "LV",
            "MT",
            "NL",
            "PT",
            "SI",
            "SK",
        ],
        "EUR",
    ),
    "GB": "GBP",
    "CH": "CHF",
    "LI": "CHF",
    "PL": "PLN",
    "CZ": "CZK",
    "HU": "HUF",
    "SE": "SEK",
    "NO": "NOK",
    "DK": "DKK",
    "RO": "RON",
    "BG": "BGN",
    "US": "USD",
    "CA": "CAD",
    "AU": "AUD",
    "NZ": "NZD",
    "MY": "MYR",
    "SG": "SGD",
    "IN": "INR",
    "JP": "JPY",
    "CN": "CNY",
    "HK": "HKD",
}


def cell_currency(cell: str) -> str | None:
    """The currency a cell holding nothing else names ("RM", "(EUR)", "€"), if any."""
    token = cell.strip(" ()[]:.").strip()
    if token in SYMBOLS:
        return SYMBOLS[token]
    upper = token.upper()
    return upper if upper in ISO_CODES and upper not in WORDLIKE_CODES and token.isupper() else None


def currency_candidates(doc: Doc, layout: Layout) -> list[Candidate]:
    """Every currency the document names or implies, with its features."""
    named = currency_votes(doc.text)
    with_amount: Counter[str] = Counter()
    for line in doc.lines:
        for amount in doc.amounts(line):
            if amount.currency:
                with_amount[amount.currency] += 1
    # A currency alone in a cell: a column header ("Price RM", "Amount (EUR)").
    in_cells: Counter[str] = Counter()
    for line in doc.lines:
        for cell in line.cells:
            code = cell_currency(cell)
            if code:
                in_cells[code] += 1
    implied: Counter[str] = Counter()
    for country, n in doc.countries.items():
        if country in COUNTRY_CURRENCY:
            implied[COUNTRY_CURRENCY[country]] += n
    dollar = "$" in doc.text
    codes = set(named) | set(in_cells) | set(implied) | ({"USD"} if dollar else set())
    # A currency printed beside the amounts or over their column is the document's: a country the text
    # shows ("BAWANG BESAR INDIA", an item's origin) implies no other one. "SDN BHD 105095" prints no dinar.
    sure = printed_currencies(doc.text)
    printed = {c for c in with_amount if c != "$" and (c not in WORDLIKE_CODES or c in sure)} | set(in_cells)
    if printed:
        codes -= set(implied) - set(named) - printed
    total_named = sum(named.values()) or 1
    out: list[Candidate] = []
    ranked = [c for c, _ in named.most_common()]
    for code in sorted(codes):
        f = dict(layout.doc_features)
        f["named_votes"] = float(min(named[code], 30))
        f["named_share"] = named[code] / total_named
        f["named_rank"] = float(ranked.index(code)) if code in ranked else 9.0
        f["named_codes"] = float(len(named))
        f["beside_amounts"] = float(min(with_amount[code], 30))
        f["in_cells"] = float(min(in_cells[code], 10))
        f["bare_dollar"] = float(code == "USD" and dollar and not named["USD"])
        f["dollar_amounts"] = float(min(with_amount["$"], 30))
        f["implied_votes"] = float(min(implied[code], 10))
        f["implied_other"] = float(min(sum(v for k, v in implied.items() if k != code), 10))
        out.append(Candidate("currency", code, code, None, features=f))
    return out
