"""What is printed around a span: the labels before, after, above and over the column of a value.

Every candidate generator describes a value by the labels near it in the same four places, so the
learned scorers see one vocabulary of label features (`before_total`, `above_invoice_date`, ...) whatever
the field.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from extraction.parser.labels import LabelHit, find_labels, fold

if TYPE_CHECKING:
    from extraction.parser.context import Doc, Line

LABEL_KINDS = (
    "total",
    "amount_due",
    "net",
    "subtotal",
    "tax",
    "paid",
    "change",
    "rounding",
    "discount",
    "not_money",
    "invoice_number",
    "invoice_number_doc",
    "invoice_date",
    "due_date",
    "other_date",
    "vendor_label",
    "customer_label",
    "tax_id",
    "phone",
    "purchase_order",
    "payment_terms",
    "account_number",
)
_FIGURE = re.compile(r"\d")


@lru_cache(maxsize=200_000)
def labels_in(text: str) -> dict[str, LabelHit]:
    """Every label kind found in `text` with its strongest hit (cached: treat the result as read-only)."""
    if not any(ch.isalpha() for ch in text):
        return {}
    return find_labels(text, LABEL_KINDS)


def before_text(doc: Doc, line: Line, start: int) -> str:
    """The text before a value on its line, back to the previous amount or date."""
    cut = 0
    for _s, e in doc.figure_spans(line):
        if e <= start:
            cut = max(cut, e)
    return line.text[cut:start]


def after_text(doc: Doc, line: Line, end: int) -> str:
    """The text after a value on its line, up to the next amount or date."""
    cut = len(line.text)
    for s, _e in doc.figure_spans(line):
        if s >= end:
            cut = min(cut, s)
    return line.text[end:cut]


def _column_of(line: Line, start: int) -> tuple[float, float] | None:
    """The horizontal extent of the cell holding `start`, where boxes are known."""
    if line.cell_boxes is None:
        return None
    box = line.cell_boxes[line.cell_at(start)]
    return (box[0], box[2])


def _cell_over(above: Line, line: Line, start: int) -> str | None:
    """The cell of `above` over the cell of `line` holding `start` (by box overlap, else by index from the right)."""
    extent = _column_of(line, start)
    if extent is not None and above.cell_boxes is not None:
        x0, x1 = extent
        best, overlap = None, 0.0
        for cell, box in zip(above.cells, above.cell_boxes, strict=True):
            inter = min(x1, box[2]) - max(x0, box[0])
            if inter > overlap:
                best, overlap = cell, inter
        return best
    if above.is_row and line.is_row:
        k = line.cell_at(start) - len(line.cells) + len(above.cells)
        if 0 <= k < len(above.cells):
            return above.cells[k]
    return None


def above_text(doc: Doc, line: Line, start: int) -> str:
    """The label printed over a value: the cell above it, or a short line above that holds no figure."""
    return _over_cell(doc, line, start)[0]


def header_text(doc: Doc, line: Line, start: int) -> str:
    """The column header over a value in a table: the nearest row above (up to 8) whose cell there is words only."""
    return _over_cell(doc, line, start)[1]


def _over_cell(doc: Doc, line: Line, start: int) -> tuple[str, str]:
    """The text above and the column header over the cell holding `start`, read once per cell (every value in a
    cell shares them)."""
    key = (line.index, line.cell_at(start))
    found = doc.over_cell.get(key)
    if found is None:
        found = doc.over_cell[key] = (_above_text(doc, line, start), _header_text(doc, line, start))
    return found


def _above_text(doc: Doc, line: Line, start: int) -> str:
    if line.index == 0:
        return ""
    above = doc.lines[line.index - 1]
    if above.page != line.page:
        return ""
    cell = _cell_over(above, line, start)
    if cell is not None:
        return cell
    if len(above.cells) == 1 and len(above.text) <= 48 and not _FIGURE.search(above.text):
        return above.text
    return ""


def _header_text(doc: Doc, line: Line, start: int) -> str:
    if not line.is_row and line.cell_boxes is None:
        return ""
    for j in range(line.index - 2, max(-1, line.index - 9), -1):
        above = doc.lines[j]
        if above.page != line.page:
            break
        cell = _cell_over(above, line, start)
        if cell and not _FIGURE.search(cell) and sum(ch.isalpha() for ch in cell) >= 2:
            return cell
    return ""


def label_features(doc: Doc, line: Line, start: int, end: int) -> dict[str, float]:
    """Per slot and label kind, the strength (1..3) of the label found there; absent kinds are 0 (cached: treat
    as read-only)."""
    above, header = _over_cell(doc, line, start)
    return _label_features(before_text(doc, line, start), after_text(doc, line, end), above, header)


@lru_cache(maxsize=20_000)
def _label_features(before: str, after: str, above: str, header: str) -> dict[str, float]:
    """The label features of the four slots' texts (cached: values of a kind share their labels' texts)."""
    out = dict(_slot_features("before", before))
    out.update(_slot_features("after", after))
    out.update(_slot_features("above", above))
    out.update(_slot_features("header", header))
    out.update(_before_shape(before))
    return out


@lru_cache(maxsize=20_000)
def _slot_features(slot: str, text: str) -> dict[str, float]:
    """`{slot}_{kind}`: the strength of each label kind in one slot's text (cached: treat as read-only)."""
    return {f"{slot}_{kind}": float(hit.strength) for kind, hit in labels_in(text.strip()).items()}


@lru_cache(maxsize=20_000)
def _before_shape(before: str) -> dict[str, float]:
    """How the text before a value ends: its letters, the gap of punctuation, a colon (cached: read-only)."""
    return {
        "before_letters": float(min(sum(ch.isalpha() for ch in before), 40)),
        "before_gap": float(min(len(before) - len(before.rstrip(" :.#-=|")), 10)),
        "before_colon": float(before.rstrip().endswith((":", "#"))),
    }


def label_text(doc: Doc, line: Line, start: int) -> str:
    """The folded words printed before a value on its line, else over it: its label as a vendor prints it."""
    before = _folded_words(before_text(doc, line, start))
    if sum(ch.isalpha() for ch in before) >= 2:
        return before
    return _folded_words(above_text(doc, line, start))


@lru_cache(maxsize=20_000)
def _folded_words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(text)).split())


def nearest_label(doc: Doc, line: Line, start: int, kinds: tuple[str, ...]) -> tuple[Line, int, int] | None:
    """Where the label of one of `kinds` nearest a value is printed (for the field's box)."""
    before = before_text(doc, line, start)
    offset = start - len(before)
    hits = [h for k, h in labels_in(before.strip()).items() if k in kinds]
    if hits:
        lead = len(before) - len(before.lstrip())
        hit = max(hits, key=lambda h: h.end)
        return (
            line,
            offset + lead + line_offset(before.strip(), hit.start),
            offset + lead + line_offset(before.strip(), hit.end),
        )
    above_line = doc.lines[line.index - 1] if line.index > 0 else None
    if above_line is not None and above_line.page == line.page:
        above = above_text(doc, line, start)
        if above and any(k in labels_in(above.strip()) for k in kinds):
            pos = above_line.text.find(above)
            if pos >= 0:
                return above_line, pos, pos + len(above)
    return None


def line_offset(text: str, folded_offset: int) -> int:
    """The index in `text` of a position in its folded form."""
    from extraction.parser.context import fold_map

    _, fmap = fold_map(text)
    if folded_offset >= len(fmap):
        return len(text)
    return fmap[folded_offset]
