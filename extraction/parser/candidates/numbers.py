"""Invoice-number candidates: every token with a digit that is not an amount, a date or a time."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import TYPE_CHECKING

from extraction.parser.candidates import Candidate, Layout
from extraction.parser.country import US_ADDRESS
from extraction.parser.labels import compiled_labels, fold
from extraction.parser.nearby import label_features, label_text
from extraction.parser.parties import iban_valid

if TYPE_CHECKING:
    from extraction.parser.context import Doc

# Only tokens that hold a digit (the lookahead skips words without one, which are never numbers).
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9])(?=[A-Za-z0-9/_.\-]*[0-9])[A-Za-z0-9][A-Za-z0-9/_.\-]*[A-Za-z0-9]|(?<![A-Za-z0-9])\d(?![A-Za-z0-9])"
)
_NO_PREFIX = re.compile(r"^(?:no|nr|n|num|nro)\.?[:#]?(?=\d)", re.IGNORECASE)
_AMOUNT = re.compile(r"^\d{1,7}[.,]\d{2}$")
_TIME = re.compile(r"^\d{1,2}[:.]\d{2}$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")
_ADDRESS = re.compile(r"[\w.+\-]+@[\w.\-]+|(?:https?://|www\.)\S+", re.IGNORECASE)  # e-mail and web addresses
# What follows a phone label: "No", colons and slashes, then digit groups ("03-7805 7889, 016-3020 669").
_DIGIT_GROUPS = r"\+?\(?\d[\d()\-./ ]*\d"
_PHONE_NUMBER = re.compile(
    rf"(?:\s*(?:no\b\.?|[:.#=/]))*\s*({_DIGIT_GROUPS}(?:\s*[,;]\s*{_DIGIT_GROUPS})*)", re.IGNORECASE
)
_PHONE_DIGITS = 6
_AREA_CODE_PHONE = re.compile(r"\(\d{3}\)\s?\d{3}[-.\s]\d{4}")  # "(303) 555-0148"
MAX_PER_DOC = 400


def shape(token: str) -> str:
    """The token's shape: letters as A, digits as 9, other characters kept ("INV-2024-0042" -> "AAA-9999-9999")."""
    return "".join("A" if ch.isalpha() else "9" if ch.isdigit() else ch for ch in token)


def phone_spans(text: str) -> list[tuple[int, int]]:
    """Where the numbers after a phone or fax label stand in a line ("Tel/Fax : 603-7877 9712")."""
    folded = fold(text)
    if len(folded) != len(text):  # a folding that changes lengths: no offsets to map back
        return []
    spans = []
    for pattern, _ in compiled_labels("phone"):
        for label in pattern.finditer(folded):
            m = _PHONE_NUMBER.match(text, label.end())
            if m and sum(ch.isdigit() for ch in m.group(1)) >= _PHONE_DIGITS:
                spans.append((m.start(1), m.end(1)))
    return spans


def number_candidates(doc: Doc, layout: Layout) -> list[Candidate]:
    """Tokens that could be the invoice number, with their features."""
    out: list[Candidate] = []
    for line in doc.lines:
        tokens = list(_TOKEN.finditer(line.text))
        if not tokens:
            continue
        dates = [(d.start, d.end) for d in doc.dates(line)]
        # Parts of an e-mail or web address, of a labelled phone number or one with its area code in brackets, or
        # of a US state's ZIP code name a mailbox, a site, a line or a town, never the invoice.
        contacts = phone_spans(line.text)
        for pattern in (_ADDRESS, _AREA_CODE_PHONE, US_ADDRESS):
            contacts += [(a.start(), a.end()) for a in pattern.finditer(line.text)]
        for m in tokens:
            token, start = m.group(0).rstrip("./-_"), m.start()
            stripped = _NO_PREFIX.match(token)
            if stripped:
                token, start = token[stripped.end() :], start + stripped.end()
            end = start + len(token)
            if not any(ch.isdigit() for ch in token) or len(token) > 40:
                continue
            if _AMOUNT.match(token) or _TIME.match(token):
                continue
            if _inside(start, end, dates) or _inside(start, end, contacts):
                continue
            if _IBAN.match(token) and iban_valid(token):
                continue  # a bank account (its checksum holds), not a document number
            cand = Candidate("number", token, token, line, start, end)
            f = layout.line_features(line, start, end)
            f.update(label_features(doc, line, start, end))
            f.update(_token_shape(token))
            f["tok_prefix_no"] = float(bool(stripped))
            f["tok_in_date"] = float(bool(dates) and any(s < end and start < e for s, e in dates))
            f["tok_hash_before"] = float(line.text[max(0, start - 2) : start].strip().endswith("#"))
            cand.features = f
            cand.label_text = label_text(doc, line, start)
            out.append(cand)
    counts = Counter(c.value for c in out)
    for cand in out:
        cand.features["tok_occurrences"] = float(min(counts[cand.value], 6))
    if len(out) > MAX_PER_DOC:
        # Keep the labelled ones and those nearest the top: a long receipt's item codes are not its number.
        out.sort(key=lambda c: (-_label_weight(c), c.line.index if c.line else 0))
        out = out[:MAX_PER_DOC]
    return out


def _inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """Whether one of `spans` holds `start`..`end`."""
    return bool(spans) and any(s <= start and end <= e for s, e in spans)


@lru_cache(maxsize=20_000)
def _token_shape(token: str) -> dict[str, float]:
    """How a token is written: length, digits, letters, separators (cached: treat as read-only)."""
    digits = sum(ch.isdigit() for ch in token)
    return {
        "tok_len": float(len(token)),
        "tok_digits": float(digits),
        "tok_letters": float(sum(ch.isalpha() for ch in token)),
        "tok_all_digits": float(digits == len(token)),
        "tok_letters_first": float(token[0].isalpha()),
        "tok_dash": float("-" in token),
        "tok_slash": float("/" in token),
        "tok_dot": float("." in token),
        "tok_lower": float(any(ch.islower() for ch in token)),
        "tok_iban": float(bool(_IBAN.match(token))),
    }


def _label_weight(cand: Candidate) -> float:
    return sum(v for k, v in cand.features.items() if k.startswith(("before_", "above_")) and "_invoice" in k)
