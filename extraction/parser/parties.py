"""Vendor and customer: names, addresses, tax ids, IBANs (checksum-validated), emails and phones."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from extraction.parser.context import fold_map
from extraction.parser.labels import find_label, fold
from extraction.parser.vocab import COPY_TITLE

if TYPE_CHECKING:
    from extraction.parser.context import Doc, Line
    from extraction.schema import FieldInfo

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
_VAT = re.compile(
    r"\b(?:ATU\d{8}|BE[01]\d{9}|BG\d{9,10}|CHE[\-\s]?\d{3}\.?\d{3}\.?\d{3}|CY\d{8}[A-Z]|CZ\d{8,10}|DE\d{9}|"
    r"DK\d{8}|EE\d{9}|EL\d{9}|ES[A-Z0-9]\d{7}[A-Z0-9]|FI\d{8}|FR[A-Z0-9]{2}\d{9}|GB(?:\d{9}|\d{12})|HR\d{11}|"
    r"HU\d{8}|IE\d[A-Z0-9]\d{5}[A-Z]{1,2}|IT\d{11}|LT(?:\d{9}|\d{12})|LU\d{8}|LV\d{11}|MT\d{8}|NL\d{9}B\d{2}|"
    r"PL\d{10}|PT\d{9}|RO\d{2,10}|SE\d{12}|SI\d{8}|SK\d{10})\b"
)
# Words that may follow a tax-id label before its value ("GST ID. No:", "VAT Reg. No.").
_NUMBER_WORDS = re.compile(r"^(?:(?:reg(?:istration)?|id|no|nr|number|num)\b[\s.:#\-]*)+", re.IGNORECASE)
_TAX_TOKEN = re.compile(r"[A-Z]{0,3}[\s\-]?\d[\dA-Z\s\-./]{4,22}[\dA-Z]")
_PHONE = re.compile(r"(?:\+|\(\+?)?\d[\d\s()./\-]{6,18}\d")
_ADDRESS_HINT = re.compile(
    r"\b(?:\d{4,5}|\d{3}\s?\d{2}|[A-Z]{1,2}\d{1,2}[A-Z]?\s?\d[A-Z]{2})\b|\b(?:str(?:asse|aße|\.)|straat|weg|laan|"
    r"street|st\.?|road|rd\.?|avenue|ave\.?|blvd|lane|rue|chemin|calle|avenida|ul\.|jalan|jln|taman|lot|no\.)",
    re.IGNORECASE,
)


@dataclass
class Parties:
    """Both parties' fields and their provenance."""

    values: dict[str, str] = field(default_factory=dict)
    infos: dict[str, FieldInfo] = field(default_factory=dict)


def iban_valid(iban: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN (spaces ignored)."""
    s = iban.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", s):
        return False
    moved = s[4:] + s[:4]
    digits = "".join(str(int(c, 36)) for c in moved)
    return int(digits) % 97 == 1


def _customer_cells(doc: Doc) -> set[tuple[int, int]]:
    """(line, cell) positions inside a customer block: after a customer label, a few lines down."""
    region: set[tuple[int, int]] = set()
    for line in doc.lines:
        for k, cell in enumerate(line.cells):
            hit = find_label(cell, "customer_label")
            if hit is None:
                continue
            # A label at the start of its cell opens a block; one deep inside a sentence does not.
            if hit.start > 3 or COPY_TITLE.match(fold(cell)[hit.end :]):
                continue
            region.add((line.index, k))
            for j in range(line.index + 1, min(line.index + 6, len(doc.lines))):
                nxt = doc.lines[j]
                if nxt.page != line.page:
                    break
                if any(find_label(c, "vendor_label") for c in nxt.cells):
                    break
                if line.is_row and nxt.is_row and len(nxt.cells) > k:
                    region.add((j, k))
                elif not nxt.is_row or len(nxt.cells) == 1:
                    region.update((j, c) for c in range(len(nxt.cells)))
    return region


def _address_after(doc: Doc, line: Line, customer: set[tuple[int, int]], is_customer: bool) -> str | None:
    parts: list[str] = []
    for j in range(line.index + 1, min(line.index + 5, len(doc.lines))):
        nxt = doc.lines[j]
        cell = nxt.cells[0]
        inside = (j, 0) in customer
        if nxt.page != line.page or inside != is_customer:
            break
        if _EMAIL.search(cell) or find_label(cell, "phone") or find_label(cell, "tax_id") or doc.dates(nxt):
            break
        if _ADDRESS_HINT.search(cell) and sum(ch.isalpha() for ch in cell) >= 3:
            parts.append(cell.strip(" ,"))
        elif parts:
            break
    return ", ".join(parts) if parts else None


def party_details(doc: Doc, vendor_line: Line | None, customer_line: Line | None) -> Parties:
    """Addresses under the chosen names, and identifiers (e-mail, IBAN, tax id, phone) by the block they sit in."""
    out = Parties()
    customer = _customer_cells(doc)
    if customer_line is not None:
        customer.add((customer_line.index, 0))
    for who, line, conf in (("vendor", vendor_line, 0.5), ("customer", customer_line, 0.5)):
        if line is None:
            continue
        address = _address_after(doc, line, customer, who == "customer")
        if address:
            out.values[f"{who}.address"] = address
            out.infos[f"{who}.address"] = doc.info(address, conf, line)
    _identifiers(doc, customer, out)
    return out


def _set(out: Parties, key: str, value: str, conf: float, doc: Doc, line: Line) -> None:
    if key not in out.values:
        out.values[key] = value
        out.infos[key] = doc.info(value, conf, line)


def _identifiers(doc: Doc, customer: set[tuple[int, int]], out: Parties) -> None:
    for line in doc.lines:
        for k, cell in enumerate(line.cells):
            who = "customer" if (line.index, k) in customer else "vendor"
            for m in _EMAIL.finditer(cell):
                _set(out, f"{who}.email", m.group(0), 0.9, doc, line)
            for m in _IBAN.finditer(cell):
                if iban_valid(m.group(0)):
                    _set(out, f"{who}.iban", m.group(0).replace(" ", ""), 0.95, doc, line)
            for m in _VAT.finditer(cell.replace(" ", "")):
                _set(out, f"{who}.tax_id", m.group(0), 0.85, doc, line)
            folded, fmap = fold_map(cell)
            hit = find_label(cell, "tax_id", folded)
            if hit is not None:
                rest = cell[fmap[hit.end] :] if hit.end < len(fmap) else ""
                rest = _NUMBER_WORDS.sub("", rest.lstrip(" :.#-"))
                if not rest and k + 1 < len(line.cells):
                    rest = line.cells[k + 1].lstrip(" :.#-")
                token = _TAX_TOKEN.match(rest)
                if token and sum(ch.isdigit() for ch in token.group(0)) >= 5:
                    _set(out, f"{who}.tax_id", token.group(0).strip(), 0.75, doc, line)
            hit = find_label(cell, "phone", folded)
            if hit is not None:
                rest = cell[fmap[hit.end] :] if hit.end < len(fmap) else ""
                phone = _PHONE.search(rest)
                if phone and sum(ch.isdigit() for ch in phone.group(0)) >= 7:
                    _set(out, f"{who}.phone", phone.group(0).strip(), 0.7, doc, line)
