"""Which candidates are right, by the comparison rules of the labelled sets (see ../shared/data/dev/README.md)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal
from typing import Any

from rapidfuzz import fuzz

from utils.money import same_amount

REAL_CURRENCY = ("invoice2data", "zugferd", "sroie", "synth")


def squeeze(text: str) -> str:
    """Case, accents, spaces and punctuation removed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def words(text: str) -> str:
    """Lower-case words separated by single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def name_similarity(expected: str, got: str) -> float:
    """0..100: the best of token-set ratio on words and ratio on squeezed text."""
    return max(fuzz.token_set_ratio(words(expected), words(got)), fuzz.ratio(squeeze(expected), squeeze(got)))


def vendor_names(label: dict[str, Any]) -> list[str]:
    """The names a vendor label accepts: the label, and for WildReceipt each store-name box on its own."""
    names = [label["vendor"]] if label.get("vendor") else []
    raw = label.get("raw") or {}
    if label.get("dataset") == "wildreceipt" and isinstance(raw, dict):
        names += [a["text"] for a in raw.get("annotations", []) if a.get("label") == 1 and a.get("text")]
    return list(dict.fromkeys(n for n in names if squeeze(n)))


def customer_names(label: dict[str, Any]) -> list[str]:
    """The customer names a label gives (ZUGFeRD's buyer, a synthetic invoice's customer)."""
    name = label.get("customer") or label.get("buyer")
    return [name] if name else []


def date_value(label: dict[str, Any], key: str) -> dt.date | None:
    """A label's ISO date as a date."""
    value = label.get(key)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def swapped(value: dt.date) -> dt.date | None:
    """The date with day and month exchanged, where that is a date."""
    try:
        return value.replace(month=value.day, day=value.month)
    except ValueError:
        return None


def date_matches(label: dict[str, Any], key: str, got: dt.date) -> bool:
    """Equality; a label marked ambiguous also accepts the day/month swap (its set reads them one fixed way)."""
    want = date_value(label, key)
    if want is None:
        return False
    return got == want or (bool(label.get("date_ambiguous")) and swapped(got) == want)


def money_matches(label: dict[str, Any], key: str, got: Decimal) -> bool:
    """Absolute difference below half a cent."""
    want = label.get(key)
    return want is not None and same_amount(Decimal(str(want)), got)


def number_matches(label: dict[str, Any], got: str) -> bool:
    """Equality with whitespace ignored."""
    want = label.get("invoice_number")
    return bool(want) and "".join(str(want).split()) == "".join(got.split())


def currency_label(label: dict[str, Any]) -> str | None:
    """The label's currency where it is a real one."""
    code = label.get("currency")
    if not code or str(code).endswith("?") or label.get("dataset") not in REAL_CURRENCY:
        return None
    return str(code)
