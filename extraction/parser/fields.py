"""Identifier and date fields: invoice number, purchase order, payment terms, invoice and due dates."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from extraction.parser.context import fold_map
from extraction.parser.dates import find_dates
from extraction.parser.labels import GENERIC_LINE, find_label, fold

if TYPE_CHECKING:
    from extraction.parser.context import Doc, Line
    from extraction.parser.dates import DateMatch
    from extraction.schema import FieldInfo

_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.\-]*[A-Za-z0-9]|[0-9]")
_LEAD = re.compile(r"^[\s:#.\-–=|)(*]*(?:(?:no|nr|n°|nº|number|nummer|num)\b\.?)?[\s:#.\-–=|]*", re.IGNORECASE)
_DOC_NUMBER = re.compile(
    r"\b(?:tax invoice|invoice|\w*rechnung|gutschrift|rechnungskorrektur|facture|factuur|factura|"
    r"faktura(?: vat)?|credit note|receipt|bill|avoir|creditnota|nota de credito)\b(?P<mid>[^:]{0,40}?)"
    r"(?:\b(?:no|nr|n|number|nummer|num)\b\.?\s*[o°º]?|#|n°|nº)\s*[:.]?\s*(?=\S)"
)
_DOC_DIRECT = re.compile(
    r"^\W*(?:tax invoice|invoice|rechnung|gutschrift|facture|factuur|factura|faktura(?: vat)?|credit note|avoir|"
    r"creditnota|nota de credito)\b"
    r"\s*[:#]?\s*(?=[^\s]{0,8}\s?\d)"
)
_TIME_NEAR = re.compile(r"\b\d{1,2}:\d{2}")
_HASH = re.compile(r"^\s*#\s*(?=\S*\d)")
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


def invoice_number(doc: Doc) -> tuple[str, FieldInfo] | None:
    """The invoice number: strongest label first, then 'Invoice No. X' and 'Invoice X' forms."""
    best: tuple[float, str, Line] | None = None
    for line in doc.lines:
        for k, cell in enumerate(line.cells):
            folded, fmap = fold_map(cell)
            hit = find_label(cell, "invoice_number", folded)
            found: tuple[float, str | None, Line] | None = None
            if hit is not None:
                rest = cell[fmap[hit.end] :] if hit.end < len(fmap) else ""
                token, src = _value_after(doc, line, k, rest)
                # A label in the middle of a sentence is weaker than one that starts its cell.
                found = (hit.strength - (1 if hit.start > 3 else 0), token, src)
            else:
                m = _DOC_NUMBER.search(folded)
                if m is not None:
                    rest = cell[fmap[m.end()] :] if m.end() < len(fmap) else ""
                    found = (2.5 if not m.group("mid").strip() else 2.0, _token(rest), line)
                else:
                    m = _DOC_DIRECT.match(folded) or _HASH.match(folded)
                    if m is not None:
                        rest = cell[fmap[m.end()] :] if m.end() < len(fmap) else ""
                        found = (1.5 if m.re is _DOC_DIRECT else 1.0, _token(rest), line)
            if found is None or not found[1]:
                continue
            score = found[0] - 0.002 * line.index
            if best is None or score > best[0]:
                best = (score, found[1], found[2])
    if best is None:
        return None
    score, token, line = best
    conf = {3: 0.92, 2: 0.8}.get(int(score + 0.01), 0.65)
    return token, doc.info(token, conf, line)


@dataclass
class DateCandidate:
    """A date with the label that names it."""

    match: DateMatch
    line: Line
    kind: str  # invoice | due | other | none
    strength: int


def _label_kind(text: str) -> tuple[str, int]:
    folded = fold(text)
    for kind in ("due_date", "other_date", "invoice_date"):
        hit = find_label(text, kind, folded)
        if hit is not None and not (kind == "other_date" and _invoice_hit_stronger(folded, hit.strength)):
            strength = hit.strength
            # "Invoice No. 123 of 05.03.2024": a date after the document's own title is its issue date.
            if kind == "invoice_date" and strength < 3 and find_label(text, "invoice_number_doc", folded):
                strength = 3
            return {"due_date": "due", "other_date": "other", "invoice_date": "invoice"}[kind], strength
    return "none", 0


def _invoice_hit_stronger(folded: str, strength: int) -> bool:
    hit = find_label(folded, "invoice_date", folded)
    return hit is not None and hit.strength >= 3


def _context(doc: Doc, line: Line, date: DateMatch) -> str:
    """The text that labels a date: before it in its cell, the cell before, the line or header above."""
    offset = 0
    for k, cell in enumerate(line.cells):
        pos = line.text.find(cell, offset)
        if pos <= date.start < pos + len(cell) + 1:
            before = line.text[pos : date.start]
            if sum(ch.isalpha() for ch in before) >= 3:
                return before
            if k > 0 and sum(ch.isalpha() for ch in line.cells[k - 1]) >= 3:
                return line.cells[k - 1]
            prev = doc.lines[line.index - 1] if line.index > 0 else None
            if prev is not None and prev.page == line.page:
                if prev.is_row and line.is_row and len(prev.cells) == len(line.cells):
                    return prev.cells[k]
                # A label on the line above ("Invoice date:"), not a label with its own value ("Order no: 26367").
                if k == 0 and not doc.dates(prev) and len(prev.text) < 40 and not re.search(r"\d", prev.text):
                    return prev.text
            return before
        offset = pos + len(cell)
    return line.text[: date.start]


def dates(doc: Doc, today: dt.date | None = None) -> tuple[dict[str, FieldInfo], dict[str, dt.date], list[str]]:
    """Invoice and due dates with provenance, and reasons (missing, ambiguous)."""
    today = today or dt.date.today()
    cands: list[DateCandidate] = []
    for line in doc.lines:
        for match in doc.dates(line):
            if not (dt.date(1990, 1, 1) <= match.value <= today.replace(year=today.year + 2)):
                continue
            if match.kind == "compact" and not _label_kind(_context(doc, line, match))[1]:
                continue
            kind, strength = _label_kind(_context(doc, line, match))
            cands.append(DateCandidate(match, line, kind, strength))
    infos: dict[str, FieldInfo] = {}
    values: dict[str, dt.date] = {}
    reasons: list[str] = []
    invoice = [c for c in cands if c.kind == "invoice"]
    chosen: DateCandidate | None = None
    conf = 0.0
    if invoice:
        chosen = max(invoice, key=lambda c: (c.strength, -c.line.index))
        conf = 0.9 if chosen.strength >= 3 else 0.8 if chosen.strength == 2 else 0.7
    else:
        unlabelled = [c for c in cands if c.kind == "none"]
        if unlabelled:
            # On receipts the transaction date is printed with its time.
            timed = [c for c in unlabelled if _TIME_NEAR.search(c.line.text)]
            chosen = (timed or unlabelled)[0]
            conf = 0.65
    if chosen is not None:
        conf = _ambiguity(doc, chosen, conf, "invoice date", reasons)
        values["invoice_date"] = chosen.match.value
        infos["invoice_date"] = doc.info(chosen.match.value.isoformat(), conf, chosen.line)
    else:
        reasons.append("invoice date not found")
    due = [c for c in cands if c.kind == "due"]
    if due:
        pick = max(due, key=lambda c: (c.strength, -c.line.index))
        conf = _ambiguity(doc, pick, 0.85, "due date", reasons)
        values["due_date"] = pick.match.value
        infos["due_date"] = doc.info(pick.match.value.isoformat(), conf, pick.line)
    return infos, values, reasons


def _ambiguity(doc: Doc, cand: DateCandidate, conf: float, name: str, reasons: list[str]) -> float:
    match = cand.match
    if match.kind != "numeric":
        return conf
    parts = re.findall(r"\d+", match.text)
    if len(parts) < 3 or int(parts[0]) > 12 or int(parts[1]) > 12 or parts[0] == parts[1]:
        return conf
    first = "month-first" if doc.order == "mdy" else "day-first"
    if doc.order is None:
        reasons.append(f"{name} is ambiguous ({match.text}): day-first assumed because {doc.order_reason}")
        return min(conf, 0.5)
    if not doc.order_reason.startswith("another date"):
        reasons.append(f"{name} could be read either way ({match.text}): {first} assumed because {doc.order_reason}")
        return min(conf, 0.75)
    return conf


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
