"""Identifier and date fields: invoice number, purchase order, payment terms, invoice and due dates."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from extraction.parser.context import fold_map
from extraction.parser.dates import find_dates
from extraction.parser.labels import find_label, fold
from extraction.parser.vocab import GENERIC_LINE

if TYPE_CHECKING:
    from extraction.parser.context import Doc, Line
    from extraction.schema import FieldInfo

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.\-]*[A-Za-z0-9]|[0-9]")
_LEAD = re.compile(r"^[\s:#.\-–=|)(*]*(?:(?:no|nr|n°|nº|number|nummer|num)\b\.?)?[\s:#.\-–=|]*", re.IGNORECASE)
_BAD_NUMBER = re.compile(r"^(?:\d{1,2}|page|seite|date|datum|of|von|vom|du|de)$", re.IGNORECASE)


def _token(text: str) -> str | None:
    text = _LEAD.sub("", text, count=1).strip()
    # "F 1234K20/1234/12": a one-letter series prefix belongs to the number.
    prefixed = re.match(r"^([A-Z])\s(?=\d)", text)
    m = _TOKEN.match(text[2:] if prefixed else text)
    if m is None:
        return None
    token = (text[:2] if prefixed else "") + m.group(0).rstrip(".-/")
    if not any(ch.isdigit() for ch in token) or len(token) > 40 or _BAD_NUMBER.match(token):
        return None
    if find_dates(token) and len(find_dates(token)[0].text) >= len(token) - 1:
        return None
    return token


def _value_after(doc: Doc, line: Line, cell_index: int, rest: str) -> tuple[str | None, Line]:
    """The token after a label: in the same cell, the next cell, the cell below, or the next line."""
    token = _token(rest)
    if token:
        return token, line
    if cell_index + 1 < len(line.cells):
        token = _token(line.cells[cell_index + 1])
        if token:
            return token, line
        return None, line
    nxt = doc.lines[line.index + 1] if line.index + 1 < len(doc.lines) else None
    if nxt is not None and nxt.page == line.page:
        if line.is_row and nxt.is_row and len(nxt.cells) == len(line.cells):
            token = _token(nxt.cells[cell_index])
        elif (len(nxt.cells) >= 1 and not any(ch.isalpha() for ch in nxt.cells[0][:1])) or len(nxt.cells[0]) < 30:
            token = _token(nxt.cells[0])
        else:
            token = None
        if token:
            return token, nxt
    return None, line


def labelled_text(doc: Doc, category: str, want_token: bool) -> tuple[str, FieldInfo] | None:
    """A labelled value such as a purchase order number (a token) or payment terms (the text)."""
    for line in doc.lines:
        for k, cell in enumerate(line.cells):
            folded, fmap = fold_map(cell)
            hit = find_label(cell, category, folded)
            if hit is None:
                continue
            rest = cell[fmap[hit.end] :] if hit.end < len(fmap) else ""
            if want_token:
                token, src = _value_after(doc, line, k, rest)
                if token:
                    return token, doc.info(token, 0.75, src)
                continue
            text = rest.strip(" :.-")
            if not text and k + 1 < len(line.cells):
                text = line.cells[k + 1].strip()
            if text and not GENERIC_LINE.match(fold(text)) and len(text) <= 120:
                return text, doc.info(text, 0.7, line)
    return None
