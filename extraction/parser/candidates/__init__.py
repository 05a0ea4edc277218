"""Candidates: every span of a document that could hold a field's value, described by named features.

A generator per kind of value (amounts, dates, invoice numbers, party names, currencies) lists the
spans; the features say where each stands (page position, print size, table row), what is printed
around it (labels before, after, above and over its column) and how it relates to the rest of the
document (arithmetic with other amounts, other dates, identifiers nearby). The learned scorers in
`extraction.parser.scoring` rank them; nothing here decides.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from statistics import median
from typing import TYPE_CHECKING, Any

from extraction.parser.vocab import RECEIPT_WORDS

if TYPE_CHECKING:
    from extraction.hints import VendorHints
    from extraction.parser.context import Doc, Line


@dataclass
class Candidate:
    """One possible value of a field: what it reads as, where it was printed, and its features."""

    kind: str  # amount | date | number | name | currency
    value: Any
    text: str
    line: Line | None
    start: int = 0
    end: int = 0
    features: dict[str, float] = field(default_factory=dict)
    label_text: str = ""  # the folded text printed before the value on its line (its label, if any)
    lines: tuple[Line, ...] = ()  # a value printed over several whole lines (from `line` on)

    def box(self) -> tuple[float, float, float, float] | None:
        """The box of the value itself on its page."""
        if self.line is None:
            return None
        boxes = [b for ln in self.lines[1:] if (b := ln.bbox) is not None]
        first = self.line.span_box(self.start, self.end)
        if first is None or not boxes:
            return first
        boxes.append(first)
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


LANGUAGE_FEATURES = ("en", "en-us", "de", "fr", "nl", "es", "it", "pl")


class Layout:
    """Per-page facts the position features need, computed once per document."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.first_page = doc.lines[0].page if doc.lines else 1
        self.page_lines: dict[int, list[Line]] = {}
        for line in doc.lines:
            self.page_lines.setdefault(line.page, []).append(line)
        self.position: dict[int, int] = {}
        for lines in self.page_lines.values():
            for i, line in enumerate(lines):
                self.position[line.index] = i
        # A box shared by several lines (a paragraph) says nothing about any one line's print size.
        shared = Counter((ln.block, ln.bbox) for ln in doc.lines)
        self.height: dict[int, float] = {
            ln.index: h for ln in doc.lines if shared[(ln.block, ln.bbox)] == 1 and (h := line_height(ln)) is not None
        }
        self.median_height: dict[int, float] = {}
        for page, lines in self.page_lines.items():
            heights = [self.height[ln.index] for ln in lines if ln.index in self.height]
            self.median_height[page] = median(heights) if heights else 0.0
        self.receipt_words = receipt_word_count(doc)
        self.doc_features = {
            "doc_lines": float(min(len(doc.lines), 300)),
            "doc_pages": float(len(self.page_lines)),
            "doc_receipt_words": float(min(self.receipt_words, 10)),
            "doc_text_layer": float(any(ln.engine == "textlayer" for ln in doc.lines)),
            "doc_boxes": float(any(ln.bbox is not None for ln in doc.lines)),
        }
        for code in LANGUAGE_FEATURES:
            self.doc_features[f"lang_{code}"] = float(doc.language == code)
        self._static: dict[int, dict[str, float]] = {}

    def line_features(self, line: Line, start: int = 0, end: int | None = None) -> dict[str, float]:
        """Where a span stands on its page and how it is printed."""
        out = dict(self._line_static(line))
        box = line.span_box(start, len(line.text) if end is None else end)
        if box is not None and box[3] > box[1]:
            out["y"] = (box[1] + box[3]) / 2
            out["x0"] = box[0]
            out["x1"] = box[2]
        else:
            out["y"] = out["line_frac"]
            out["x0"] = -1.0
            out["x1"] = -1.0
        k = line.cell_at(start)
        out["cell_index"] = float(k)
        out["last_cell"] = float(k == len(line.cells) - 1)
        return out

    def _line_static(self, line: Line) -> dict[str, float]:
        """The document's features and the line's own, the same for every span of the line (computed once)."""
        found = self._static.get(line.index)
        if found is None:
            lines = self.page_lines[line.page]
            i = self.position[line.index]
            n = len(lines)
            height = self.height.get(line.index)
            base = self.median_height.get(line.page) or 0.0
            found = self._static[line.index] = {
                **self.doc_features,
                "first_page": float(line.page == self.first_page),
                "line_frac": i / max(n - 1, 1),
                "line_index": float(min(i, 60)),
                "lines_below": float(min(n - 1 - i, 60)),
                "height_ratio": height / base if height and base else 1.0,
                "heading": float(line.heading),
                "row": float(line.is_row),
                "cells": float(min(len(line.cells), 12)),
                "ocr_conf": line.confidence if line.confidence is not None else 1.0,
                "line_chars": float(min(len(line.text), 120)),
            }
        return found


def receipt_word_count(doc: Doc) -> int:
    """How many till-slip words (cashier, change, receipt ...) the document prints."""
    return len(RECEIPT_WORDS.findall("\n".join(ln.folded for ln in doc.lines)))


def line_height(line: Line) -> float | None:
    """A line's own box height (a proxy for its print size), where it has a box of its own."""
    if line.bbox is None:
        return None
    height = line.bbox[3] - line.bbox[1]
    return height if 0 < height < 0.25 else None


# Which candidates each learned field chooses from.
FIELD_KINDS = {
    "vendor": "seller",  # the name candidates that could be a seller (names.seller_candidates)
    "customer": "name",
    "invoice_date": "date",
    "due_date": "date",
    "total": "amount",
    "subtotal": "amount",
    "tax": "amount",
    "invoice_number": "number",
    "currency": "currency",
}


def generate(doc: Doc, hints: VendorHints | None = None, layout: Layout | None = None) -> dict[str, list[Candidate]]:
    """Every kind of candidate for a document; a known vendor's reading hints add features."""
    from extraction.parser.candidates.amounts import amount_candidates
    from extraction.parser.candidates.currency import currency_candidates
    from extraction.parser.candidates.dates import date_candidates
    from extraction.parser.candidates.names import name_candidates, seller_candidates
    from extraction.parser.candidates.numbers import number_candidates

    layout = layout or Layout(doc)
    names = name_candidates(doc, layout)
    out = {
        "name": names,
        "seller": seller_candidates(names),
        "date": date_candidates(doc, layout),
        "amount": amount_candidates(doc, layout),
        "number": number_candidates(doc, layout),
        "currency": currency_candidates(doc, layout),
    }
    if hints is not None:
        from extraction.parser.candidates.hinted import add_hint_features

        add_hint_features(out, hints)
    return out
