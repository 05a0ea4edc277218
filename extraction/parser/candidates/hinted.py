"""Features from a known vendor's reading hints: how this document agrees with what its history showed.

Each hinted candidate gets `hints` = 1 (so the scorers can tell "no history" from "disagrees") and the
agreement of its value with the vendor's name, number shape and label, total label, tax rates and
currency. The scorers weigh them like any other feature: a habit makes a reading likelier, it does
not force one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from extraction.parser.candidates.numbers import shape
from extraction.parser.labels import fold
from extraction.parser.tax import line_rate

if TYPE_CHECKING:
    from extraction.hints import VendorHints
    from extraction.parser.candidates import Candidate


def _squeeze(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(text)).split())


def _has_label(text: str, labels: tuple[str, ...]) -> float:
    words = f" {text} "
    return float(any(f" {_words(lbl)} " in words for lbl in labels if _words(lbl)))


def add_hint_features(cands: dict[str, list[Candidate]], hints: VendorHints) -> None:
    """Add the hint features to every candidate (in place)."""
    names = [_squeeze(n) for n in (hints.name, *hints.aliases) if _squeeze(n)]
    for cand in cands["name"]:
        key = _squeeze(cand.value)
        cand.features["hints"] = 1.0
        cand.features["hint_name"] = max((fuzz.ratio(key, n) / 100 for n in names), default=0.0)
    for cand in cands["number"]:
        cand.features["hints"] = 1.0
        cand.features["hint_number_shape"] = float(
            hints.number_pattern is not None and shape(cand.value) == hints.number_pattern
        )
        cand.features["hint_number_label"] = _has_label(cand.label_text, hints.number_labels)
    rates = set(hints.tax_rates)
    for cand in cands["amount"]:
        cand.features["hints"] = 1.0
        cand.features["hint_total_label"] = _has_label(cand.label_text, hints.total_labels)
        rate = line_rate(cand.line.text) if cand.line is not None else None
        cand.features["hint_tax_rate"] = float(rate is not None and rate in rates)
    for cand in cands["currency"]:
        cand.features["hints"] = 1.0
        cand.features["hint_currency"] = float(hints.currency is not None and cand.value == hints.currency)
    for cand in cands["date"]:
        cand.features["hints"] = 1.0
