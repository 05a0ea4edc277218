"""Currency candidates: each currency the document names (codes, symbols, words) or implies by its country.

A country is only evidence the document itself shows: the country part of an IBAN or a VAT number, an
international phone prefix, a country name, a legal form that exists in one country only. A currency
implied that way is a weak candidate; the scorer's probability (and the review flag) say so.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

from extraction.parser.candidates import Candidate, Layout
from extraction.parser.money import ISO_CODES, SYMBOLS, WORDLIKE_CODES, currency_votes

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
_PHONE_PREFIX = {
    "49": "DE",
    "33": "FR",
    "31": "NL",
    "32": "BE",
    "34": "ES",
    "39": "IT",
    "43": "AT",
    "41": "CH",
    "44": "GB",
    "48": "PL",
    "60": "MY",
    "65": "SG",
    "91": "IN",
    "61": "AU",
    "64": "NZ",
    "353": "IE",
    "351": "PT",
    "352": "LU",
    "45": "DK",
    "46": "SE",
    "47": "NO",
}
_COUNTRY_NAMES = {
    "DE": r"germany|deutschland",
    "AT": r"austria|osterreich",
    "CH": r"switzerland|schweiz|suisse|svizzera",
    "FR": r"france",
    "BE": r"belgium|belgique|belgie",
    "NL": r"netherlands|nederland|holland",
    "ES": r"spain|espana",
    "IT": r"italy|italia",
    "GB": r"united kingdom|england|scotland|wales",
    "IE": r"ireland",
    "PL": r"poland|polska",
    "MY": r"malaysia",
    "SG": r"singapore",
    "IN": r"india",
    "US": r"usa|united states",
    "CA": r"canada",
    "AU": r"australia",
}
_COUNTRY_NAME = re.compile(r"\b(" + "|".join(f"(?P<{k}>{v})" for k, v in _COUNTRY_NAMES.items()) + r")\b")
_IBAN = re.compile(r"\b([A-Z]{2})\d{2}\s?(?:[A-Z0-9]{4}\s?){2,7}[A-Z0-9]{1,4}\b")
_VAT = re.compile(r"\b(AT|BE|DE|DK|ES|FI|FR|GB|IE|IT|LU|NL|PL|PT|SE|CH)[ ]?(?:U)?\d{8,12}\b")
_PHONE = re.compile(r"(?:\+|\b00)(\d{2,3})[\s\-/().]*\d")
# Legal forms that exist in one country only.
_LEGAL_COUNTRY = {
    "MY": re.compile(r"\bsdn\.?\s?bhd\b|\(m\)\s*sdn|\bberhad\b"),
    "IN": re.compile(r"\bpvt\.?\s?ltd\b|\bgstin\b"),
    "SG": re.compile(r"\bpte\.?\s?ltd\b|\buen\b"),
    "DE": re.compile(r"\bgmbh\b|\bust\s?id"),
    "FR": re.compile(r"\bsarl\b|\bsiret\b|\bsiren\b"),
    "NL": re.compile(r"\bb\.?v\.\B|\bkvk\b"),
}


def country_votes(doc: Doc) -> Counter[str]:
    """Evidence per country code that the document itself shows."""
    votes: Counter[str] = Counter()
    text = doc.text
    folded = "\n".join(line.folded for line in doc.lines)
    for m in _IBAN.finditer(text):
        votes[m.group(1)] += 2
    for m in _VAT.finditer(text.replace(" ", "")):
        votes[m.group(1)] += 2
    for m in _PHONE.finditer(text):
        code = m.group(1)
        country = _PHONE_PREFIX.get(code) or _PHONE_PREFIX.get(code[:2])
        if country:
            votes[country] += 1
    for m in _COUNTRY_NAME.finditer(folded):
        votes[next(k for k, v in m.groupdict().items() if v)] += 1
    for country, pattern in _LEGAL_COUNTRY.items():
        if pattern.search(folded):
            votes[country] += 1
    return votes


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
    for country, n in country_votes(doc).items():
        if country in COUNTRY_CURRENCY:
            implied[COUNTRY_CURRENCY[country]] += n
    dollar = "$" in doc.text
    codes = set(named) | set(in_cells) | set(implied) | ({"USD"} if dollar else set())
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
