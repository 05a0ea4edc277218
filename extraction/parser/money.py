"""Money amounts and currencies in the forms invoices and receipts print them.

Amounts parse to `Decimal`, never through a float. Separators follow these rules:
- both `.` and `,` present: the last one is the decimal separator (`1.234,56`, `1,234.56`);
- one kind present once with exactly three digits after it (`1,234`, `1.234`): a thousands separator,
  unless `decimal` says that character is the decimal separator of the document;
- otherwise one or two digits after the last separator are decimals (`12,5`, `12.50`);
- spaces, apostrophes and narrow no-break spaces only group thousands (`1 234,56`, `1'234.56`).

Currency detection never defaults: ISO codes and unambiguous symbols (`€`, `£`, `₹`, `RM`, `zł` ...)
decide; a bare `$` counts as USD only when nothing names another dollar (`CA$`, `AUD`, `S$` ...),
and callers get a lower confidence for that case (`CurrencyGuess.weak`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from utils.money import exponent

# Symbols and local abbreviations that name one currency.
SYMBOLS: dict[str, str] = {
    "€": "EUR",
    "£": "GBP",
    "₹": "INR",
    "₽": "RUB",
    "₺": "TRY",
    "₩": "KRW",
    "₪": "ILS",
    "₫": "VND",
    "฿": "THB",
    "₱": "PHP",
    "₦": "NGN",
    "zł": "PLN",
    "Kč": "CZK",
    "RM": "MYR",
    "Rs.": "INR",
    "Rs": "INR",
    "US$": "USD",
    "U$S": "USD",
    "CA$": "CAD",
    "C$": "CAD",
    "A$": "AUD",
    "AU$": "AUD",
    "NZ$": "NZD",
    "S$": "SGD",
    "SG$": "SGD",
    "HK$": "HKD",
    "MX$": "MXN",
    "R$": "BRL",
    "SFr.": "CHF",
}

# ISO 4217 codes commonly printed on invoices and receipts.
ISO_CODES = frozenset(
    [
        "EUR",
        "USD",
        "GBP",
        "CHF",
        "PLN",
        "CZK",
        "HUF",
        "SEK",
        "NOK",
        "DKK",
        "RON",
        "BGN",
        "HRK",
        "ISK",
        "JPY",
        "CNY",
        "RMB",
        "HKD",
        "SGD",
        "MYR",
        "IDR",
        "THB",
        "PHP",
        "VND",
        "INR",
        "PKR",
        "LKR",
        "BDT",
        "AUD",
        "NZD",
        "CAD",
        "MXN",
        "BRL",
        "ARS",
        "CLP",
        "COP",
        "PEN",
        "ZAR",
        "NGN",
        "KES",
        "EGP",
        "MAD",
        "AED",
        "SAR",
        "QAR",
        "KWD",
        "BHD",
        "OMR",
        "ILS",
        "TRY",
        "RUB",
        "UAH",
        "KRW",
        "TWD",
    ]
)
_CODE_ALIASES = {"RMB": "CNY"}

_SYMBOL_ALT = "|".join(re.escape(s) for s in sorted(SYMBOLS, key=len, reverse=True))
_CURRENCY = rf"(?:{_SYMBOL_ALT}|\$|¥|\b(?:{'|'.join(sorted(ISO_CODES))})\b)"

# A number: thousands groups with one separator kind, optional decimals; or a bare decimal (.50).
_NUMBER = (
    r"(?:\d{1,3}(?:(?P<g>[.,'’\u00a0\u202f])\d{3})(?:(?P=g)\d{3})*(?:[.,]\d{1,2})?"
    r"|\d{1,3}(?:\ \d{3})+,\d{1,2}"
    r"|\d+(?:[.,]\d{1,3})?"
    r"|[.,]\d{1,2})"
)

_AMOUNT_RE = re.compile(
    rf"""
    (?<![\w.,/:\-])
    (?P<neg1>[-−–]\s?|\(\s?)?
    (?:(?P<cur1>{_CURRENCY})\s?)?
    (?P<neg2>[-−–]\s?)?
    (?P<num>{_NUMBER})
    (?![\d])
    (?!\.\d)(?!,\d)
    (?:\s?(?P<cur2>{_CURRENCY}))?
    (?P<neg3>\s?\)|-(?![\w])|\s?\b(?:CR|Cr)\b)?
    (?:(?<=\d)[A-Z](?![\w/:]))?  # a receipt's tax code glued to the amount: 24.00R
    (?![\w/:]|[.,]\w)
    """,
    re.VERBOSE,
)

_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class AmountMatch:
    """One amount found in a text: its value, where it was, and a currency printed next to it."""

    value: Decimal
    start: int
    end: int
    text: str
    currency: str | None = None
    has_decimals: bool = False


@dataclass(frozen=True)
class CurrencyGuess:
    """A currency read from a text and whether the evidence was only a bare `$`."""

    code: str
    weak: bool = False
    evidence: str = ""


def _symbol_code(symbol: str | None) -> str | None:
    if not symbol:
        return None
    if symbol in SYMBOLS:
        return SYMBOLS[symbol]
    upper = symbol.upper()
    if upper in ISO_CODES:
        return _CODE_ALIASES.get(upper, upper)
    return None


def _normalize_number(num: str, decimal: str | None = None) -> Decimal | None:
    """The Decimal for a bare number token with separators (no sign, no currency)."""
    s = num.replace("\u00a0", " ").replace("\u202f", " ").replace("’", "'")
    s = s.replace(" ", "").replace("'", "")
    if not s:
        return None
    dots, commas = s.count("."), s.count(",")
    if dots and commas:
        dec = "." if s.rfind(".") > s.rfind(",") else ","
    elif dots or commas:
        sep = "." if dots else ","
        tail = s.rsplit(sep, 1)[1]
        if dots + commas > 1:
            dec = None  # repeated: thousands groups only
        elif len(tail) == 3 and s[0] != sep and decimal != sep and s.split(sep)[0] != "0":
            dec = None
        else:
            dec = sep
    else:
        dec = None
    if dec is None:
        digits = s.replace(".", "").replace(",", "")
    else:
        whole, frac = s.rsplit(dec, 1)
        digits = whole.replace(".", "").replace(",", "") + "." + frac
    try:
        return Decimal(digits)
    except InvalidOperation:
        return None


def find_amounts(text: str, decimal: str | None = None) -> list[AmountMatch]:
    """Every amount in `text`, left to right, with its span and any currency printed beside it."""
    out: list[AmountMatch] = []
    if _DIGIT.search(text) is None:  # every amount holds a figure
        return out
    for m in _AMOUNT_RE.finditer(text):
        value = _normalize_number(m.group("num"), decimal)
        if value is None:
            continue
        neg1, neg2, neg3 = m.group("neg1") or "", m.group("neg2") or "", m.group("neg3") or ""
        negative = bool(neg1.strip() in ("-", "−", "–") or neg2 or (neg3.strip() and neg3.strip() != ")"))
        negative = negative or (neg1.strip() == "(" and neg3.strip() == ")")
        if neg1.strip() == "(" and neg3.strip() != ")":
            # An opening parenthesis alone is punctuation, not a sign.
            negative = bool(neg2)
        if negative:
            value = -value
        currency = _symbol_code(m.group("cur1")) or _symbol_code(m.group("cur2"))
        if currency is None and (m.group("cur1") == "$" or m.group("cur2") == "$"):
            currency = "$"
        has_decimals = exponent(value) < 0
        out.append(AmountMatch(value, m.start(), m.end(), m.group(0).strip(), currency, has_decimals))
    return out


def parse_amount(text: str, decimal: str | None = None) -> Decimal | None:
    """The amount in `text` when it holds exactly one (with symbols, codes, signs); else None."""
    if text is None:
        return None
    stripped = text.strip()
    if not stripped:
        return None
    matches = find_amounts(stripped, decimal)
    if len(matches) != 1:
        return None
    match = matches[0]
    rest = (stripped[: match.start] + stripped[match.end :]).strip(" :=*")
    if re.search(r"\d", rest):
        return None
    return match.value


# Codes that also occur as words or legal forms (Malaysian "SDN BHD"); they count only beside an amount.
WORDLIKE_CODES = frozenset({"BHD", "TRY", "PEN", "MAD", "CUP", "ALL", "SOS", "BAM"})
_CURRENCY_LABEL = re.compile(r"(?i)(?:currency|w[äa]hrung|devise|valuta|moneda|divisa|waluta)\W*$")
_CURRENCY_WORD_CODES = {
    "us dollar": "USD",
    "euro": "EUR",
    "pound sterling": "GBP",
    "swiss franc": "CHF",
    "ringgit": "MYR",
    "rupee": "INR",
    "zloty": "PLN",
    "złoty": "PLN",
}
_CURRENCY_WORDS = re.compile(r"(?i)\b(us dollars?|euros?|pounds? sterling|swiss francs?|ringgit|rupees?|z[łl]oty)\b")
_DOLLAR_OTHER = re.compile(r"(?:\b(?:CAD|AUD|NZD|SGD|HKD|MXN)\b|(?:CA|AU|NZ|SG|HK|MX|[CASR])\$)")


_ISO_CODE = re.compile(rf"\b({'|'.join(sorted(ISO_CODES))})\b")


def currency_votes(text: str) -> Counter[str]:
    """Evidence per ISO code: 3 per printed code, 2 per unambiguous symbol (a bare `$` is not counted)."""
    return Counter(_votes(text)[0])


def printed_currencies(text: str) -> set[str]:
    """The currencies a document surely prints: every voted code but a word-like one, or a currency's name,
    that stands only beside figures without cents ("GEL PEN 0.5MM" is a pen, "PEN 12.50" the sol)."""
    votes, _, doubtful = _votes(text)
    return set(votes) - doubtful


@lru_cache(maxsize=64)
def _votes(text: str) -> tuple[Counter[str], dict[str, str], frozenset[str]]:
    """Votes, the first spelling seen per code, and the codes seen only as words that need an amount with cents
    beside them and lack one (cached: a document's text is read three times; read-only)."""
    votes: Counter[str] = Counter()
    first_seen: dict[str, str] = {}
    sure: set[str] = set()
    for m in _ISO_CODE.finditer(text):
        code = _CODE_ALIASES.get(m.group(1), m.group(1))
        before, after = text[max(0, m.start() - 2) : m.start()], text[m.end() : m.end() + 3]
        beside = re.search(r"\d[ \t]?$", before) or re.match(r"[ \t]?[-−]?[ \t]?[\d.]", after)
        labelled = _labelled(text, m.start())
        bracketed = before.endswith("(") and after.startswith(")")
        if beside or labelled or bracketed:
            votes[code] += 3
        elif m.group(1) not in WORDLIKE_CODES:
            votes[code] += 1
        else:
            continue
        if m.group(1) not in WORDLIKE_CODES or labelled or bracketed or _beside_cents(text, m.start(), m.end()):
            sure.add(code)
        first_seen.setdefault(code, m.group(1))
    for m in _CURRENCY_WORDS.finditer(text):
        code = _CURRENCY_WORD_CODES[m.group(1).lower().rstrip("s")]
        votes[code] += 2
        # A currency's name is also a street's or a shop's ("JALAN EURO 1"): printed money needs an amount.
        if _labelled(text, m.start()) or _beside_cents(text, m.start(), m.end()):
            sure.add(code)
        first_seen.setdefault(code, m.group(0))
    for symbol, code, pattern in _SYMBOL_PATTERNS:
        if symbol not in text:  # every pattern matches the symbol itself
            continue
        n = len(pattern.findall(text))
        if n:
            votes[code] += 2 * n
            sure.add(code)
            first_seen.setdefault(code, symbol)
    return votes, first_seen, frozenset(votes) - sure


_CENTS_BEFORE = re.compile(r"\d[.,]\d{2,3}[ \t]?$")
_CENTS_AFTER = re.compile(r"[ \t]?[-−]?[ \t]?\d{1,3}(?:[.,' ]?\d{3})*[.,]\d{2,3}(?!\d)")


def _labelled(text: str, start: int) -> bool:
    """Whether a currency label ("Currency:", "Währung") stands right before `text[start:]`."""
    return _CURRENCY_LABEL.search(text[max(0, start - 24) : start]) is not None


def _beside_cents(text: str, start: int, end: int) -> bool:
    """Whether an amount with cents (or a dinar's three places) stands right before or after `text[start:end]`."""
    return bool(_CENTS_BEFORE.search(text[max(0, start - 16) : start]) or _CENTS_AFTER.match(text, end))


def _symbol_pattern(symbol: str) -> re.Pattern[str]:
    """Where a symbol counts as a vote: letter abbreviations only before a figure, `X$` only as a word's start."""
    if symbol in ("RM", "Rs", "Rs.", "SFr."):
        return re.compile(rf"(?<![A-Za-z]){re.escape(symbol)}(?=\s?[-−]?\s?\d)")
    if symbol.endswith("$") and len(symbol) > 1:
        return re.compile(rf"(?<![A-Za-z]){re.escape(symbol)}")
    return re.compile(re.escape(symbol))


_SYMBOL_PATTERNS = [(symbol, code, _symbol_pattern(symbol)) for symbol, code in SYMBOLS.items()]


def detect_currency(text: str) -> CurrencyGuess | None:
    """The currency a text is in, from ISO codes and symbols; None when nothing says."""
    votes, first_seen, _ = _votes(text)
    if votes:
        code, _ = votes.most_common(1)[0]
        return CurrencyGuess(code, False, first_seen.get(code, code))
    if "$" in text and not _DOLLAR_OTHER.search(text):
        return CurrencyGuess("USD", True, "$")
    return None


def format_amount(value: Decimal, style: str = "en") -> str:
    """`value` printed in a locale style: en 1,234.56 | de 1.234,56 | fr 1 234,56 | ch 1'234.56 | plain."""
    sign = "-" if value < 0 else ""
    q = abs(value).quantize(Decimal("0.01"))
    whole, frac = f"{q:f}".split(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    sep, dec = {"en": (",", "."), "de": (".", ","), "fr": (" ", ","), "ch": ("'", "."), "plain": ("", ".")}[style]
    return f"{sign}{sep.join(groups)}{dec}{frac}"
