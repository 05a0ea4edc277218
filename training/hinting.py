"""Vendor hints for training, as the history would have given them: learned from a document's siblings.

A document whose vendor has other labelled documents is also seen with the hints its siblings
(never itself) would have taught, so the scorers learn what agreement with a vendor's habits is worth,
and what disagreement is worth when the document breaks its habit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from extraction.hints import VendorHints
from extraction.parser.candidates.numbers import shape
from training import targets

if TYPE_CHECKING:
    from training.corpus import LabelledDoc

SIBLINGS = 3  # a vendor's habits are learned from up to this many of its other documents


@dataclass
class Habits:
    """What one labelled document shows of its vendor's habits."""

    vendor: str
    currency: str | None
    date_order: str | None
    number: str | None
    number_label: str | None  # the folded words printed before/over its number
    total_label: str | None


def habits_of(doc: LabelledDoc, label_texts: dict[str, str]) -> Habits | None:
    """The habits a reviewed copy of `doc` would teach (None without a vendor label)."""
    vendor = doc.label.get("vendor")
    if not vendor:
        return None
    order = doc.label.get("date_order")
    return Habits(
        vendor=vendor,
        currency=targets.currency_label(doc.label),
        date_order=order.upper() if isinstance(order, str) and order.upper() in ("DMY", "MDY") else None,
        number=doc.label.get("invoice_number") or None,
        number_label=label_texts.get("invoice_number") or None,
        total_label=label_texts.get("total") or None,
    )


def _most_common(values: list[Any]) -> Any:
    values = [v for v in values if v]
    return Counter(values).most_common(1)[0][0] if values else None


def hints_from(siblings: list[Habits]) -> VendorHints:
    """The hints the history would hold after reviewing `siblings` of one vendor."""
    numbers = [h.number for h in siblings if h.number]
    return VendorHints(
        name=siblings[0].vendor,
        documents=len(siblings),
        matched_by="name",
        match_confidence=1.0,
        date_order=_most_common([h.date_order for h in siblings]),
        currency=_most_common([h.currency for h in siblings]),
        number_labels=tuple(dict.fromkeys(h.number_label for h in siblings if h.number_label)),
        number_pattern=_most_common([shape(n) for n in numbers]),
        total_labels=tuple(dict.fromkeys(h.total_label for h in siblings if h.total_label)),
    )


def sibling_hints(habits: dict[str, tuple[str, Habits]]) -> dict[str, VendorHints]:
    """Per document id, the hints from up to SIBLINGS other documents of its group (only where it has any)."""
    groups: dict[str, list[tuple[str, Habits]]] = {}
    for doc_id, (group, habit) in sorted(habits.items()):
        groups.setdefault(group, []).append((doc_id, habit))
    out: dict[str, VendorHints] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        for k, (doc_id, _) in enumerate(members):
            others = [h for j, (_, h) in enumerate(members) if j != k][:SIBLINGS]
            out[doc_id] = hints_from(others)
    return out
