"""Vendor and customer: names, addresses, tax ids, IBANs (checksum-validated), emails and phones."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from extraction.parser.context import fold_map
from extraction.parser.dates import find_dates
from extraction.parser.labels import COMPANY_SUFFIX, GENERIC_LINE, LEGAL_FORM, find_label, fold

if TYPE_CHECKING:
    from extraction.parser.context import Doc, Line
    from extraction.schema import FieldInfo

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_URL = re.compile(r"(?:https?://|www\.)\S+|\b\S+\.(?:com|net|org|de|fr|nl|es|pl|co\.uk|my|eu|io)\b", re.IGNORECASE)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
_VAT = re.compile(
    r"\b(?:ATU\d{8}|BE[01]\d{9}|BG\d{9,10}|CHE[\-\s]?\d{3}\.?\d{3}\.?\d{3}|CY\d{8}[A-Z]|CZ\d{8,10}|DE\d{9}|"
    r"DK\d{8}|EE\d{9}|EL\d{9}|ES[A-Z0-9]\d{7}[A-Z0-9]|FI\d{8}|FR[A-Z0-9]{2}\d{9}|GB(?:\d{9}|\d{12})|HR\d{11}|"
    r"HU\d{8}|IE\d[A-Z0-9]\d{5}[A-Z]{1,2}|IT\d{11}|LT(?:\d{9}|\d{12})|LU\d{8}|LV\d{11}|MT\d{8}|NL\d{9}B\d{2}|"
    r"PL\d{10}|PT\d{9}|RO\d{2,10}|SE\d{12}|SI\d{8}|SK\d{10})\b"
)
_TAX_TOKEN = re.compile(r"[A-Z]{0,3}[\s\-]?\d[\dA-Z\s\-./]{4,22}[\dA-Z]")
_PHONE = re.compile(r"(?:\+|\(\+?)?\d[\d\s()./\-]{6,18}\d")
_ADDRESS_HINT = re.compile(
    r"\b(?:\d{4,5}|\d{3}\s?\d{2}|[A-Z]{1,2}\d{1,2}[A-Z]?\s?\d[A-Z]{2})\b|\b(?:str(?:asse|aße|\.)|straat|weg|laan|"
    r"street|st\.?|road|rd\.?|avenue|ave\.?|blvd|lane|rue|chemin|calle|avenida|ul\.|jalan|jln|taman|lot|no\.)",
    re.IGNORECASE,
)
_ONLY_LEGAL = re.compile(
    r"^\W*(?:\(?m\)?\s*)?(?:sdn\.?\s*bhd\.?|bhd\.?|berhad|gmbh|ltd\.?|limited|inc\.?|llc|b\.?v\.?|s\.?a\.?)\W*$",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"\s+[●•·|–—]\s+|\s+-\s+|\s{2,}")
_TITLE_WORDS = re.compile(
    r"^\W*(?:tax invoice|invoice|receipt|rechnung|facture|factuur|factura|faktura(?: vat)?)\W+|"
    r"\W+(?:tax invoice|invoice|receipt|rechnung|facture|factuur|factura|faktura(?: vat)?)\W*$",
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


# "Customer Receipt", "Customer Billing Receipt", "Customer Copy": a title, not a customer block.
_COPY_TITLE = re.compile(r"\W*(?:billing\s+)?(?:receipt|copy)\b")


def _customer_cells(doc: Doc) -> set[tuple[int, int]]:
    """(line, cell) positions inside a customer block: after a customer label, a few lines down."""
    region: set[tuple[int, int]] = set()
    for line in doc.lines:
        for k, cell in enumerate(line.cells):
            hit = find_label(cell, "customer_label")
            if hit is None:
                continue
            # A label at the start of its cell opens a block; one deep inside a sentence does not.
            if hit.start > 3 or _COPY_TITLE.match(fold(cell)[hit.end :]):
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


_REG_TAIL = re.compile(
    r"(?<=[A-Za-z.)])\s*[(\[]?\s*(?:co\.?\s*(?:no|reg)\.?\s*:?\s*)?\d{4,}[\w\s\-]*[)\]]?(?:\s*\(.*\))?\W*$",
    re.IGNORECASE,
)
_STREET_WORDS = re.compile(
    r"\b(?:jalan|jln|taman|tmn|lorong|persiaran|bandar|kampung|mukim|street|road|avenue|blvd|boulevard|strasse|"
    r"straße|rue|calle|avenida|ulica|floor|level|suite|lot|block|blok)\b",
    re.IGNORECASE,
)
_LEADING_LABEL = re.compile(r"^[^:]{1,20}:\s*(?=\S)")


_WELCOME = re.compile(r"^\W*welcome\s+to\s+", re.IGNORECASE)
_UNIT_PREFIX = re.compile(r"^#\s?[A-Za-z]?\d+[A-Za-z]?\s+(?=[A-Za-z])")  # "#B01 OYAJI RESTAURANT"
_TILL_SUFFIX = re.compile(r"\s+(?:reg|register|till|pos|lane)\s*#?\s*\d{1,3}\s*$", re.IGNORECASE)


def _clean_name(text: str) -> str:
    if GENERIC_LINE.match(fold(text).strip(" .:*-#")):
        return ""
    text = _UNIT_PREFIX.sub("", _WELCOME.sub("", text.strip()))
    text = _TITLE_WORDS.sub("", text).strip()
    text = _REG_TAIL.sub("", text).strip()
    return text.strip(" ,;:*#-–|").strip()


def _nameish(text: str) -> bool:
    """Whether a cell could be a company or store name."""
    folded = fold(text).strip(" .:*-#")
    letters = sum(ch.isalpha() for ch in text)
    if letters < 3 or letters < 0.5 * len(text.replace(" ", "")):
        return False
    if GENERIC_LINE.match(folded) or _EMAIL.search(text) or _URL.search(text):
        return False
    if find_label(text, "phone") and re.search(r"\d{3}", text):
        return False
    if find_label(text, "tax_id") and re.search(r"\d{4}", text):
        return False
    if re.search(r"\d[.,]\d\d\b", text) and find_label(text, "total"):
        return False
    for category in ("invoice_number", "invoice_date", "total", "customer_label", "payment_terms"):
        hit = find_label(text, category)
        if hit is not None and hit.strength >= 2 and category != "total":
            return False
    return not (re.match(r"^(?:no\.?\s*)?\d", folded) and (_ADDRESS_HINT.search(text) or "," in text))


def _in_top(doc: Doc, line: Line, first_page_lines: int) -> bool:
    if line.page != doc.lines[0].page:
        return False
    if line.bbox is not None and line.bbox != (0.0, 0.0, 0.0, 0.0) and line.bbox[3] > line.bbox[1]:
        return line.bbox[1] < 0.3
    return line.index < max(8, first_page_lines // 4)


def _vendor_name(doc: Doc, customer: set[tuple[int, int]]) -> tuple[str, float, Line] | None:
    """The seller's name, its confidence and the line it was read from."""
    if not doc.lines:
        return None
    first_page = [ln for ln in doc.lines if ln.page == doc.lines[0].page]
    found = _labelled_vendor(doc) or _name_above_registration(doc, first_page, customer)
    if found is not None:
        return found
    heights = _line_heights(first_page)
    legal = _legal_name(doc, first_page, customer)
    top = _top_name(doc, first_page, customer, heights)
    if legal is not None:
        return top if top is not None and _brand_wins(top[2], legal, heights) else legal
    return _titled_name(first_page, customer) or top


def _labelled_vendor(doc: Doc) -> tuple[str, float, Line] | None:
    """The name after or under an explicit seller label in the upper part of a page."""
    for line in doc.lines:
        # A footer label is often far from its value.
        if line.bbox is not None and line.bbox[3] > line.bbox[1] and line.bbox[1] > 0.5:
            continue
        for k, cell in enumerate(line.cells):
            folded, fmap = fold_map(cell)
            hit = find_label(cell, "vendor_label", folded)
            if hit is None or hit.start > 3:
                continue
            rest = _clean_name(cell[fmap[hit.end] :] if hit.end < len(fmap) else "")
            if rest and _nameish(rest):
                return _cut(rest), 0.85, line
            for below in doc.lines[line.index + 1 : line.index + 4]:
                if below.page != line.page:
                    break
                aligned = below.is_row and line.is_row and len(below.cells) > k and len(line.cells) > 1
                name = _named_value(below.cells[k] if aligned else " ".join(below.cells))
                if name and _nameish(name):
                    return _cut(name), 0.8, below
    return None


def _name_above_registration(
    doc: Doc, first_page: list[Line], customer: set[tuple[int, int]]
) -> tuple[str, float, Line] | None:
    """The name printed just above a company registration number ("(1365663-P)", "Co. Reg. 12345")."""
    for line in first_page[1:12]:
        reg = line.text.strip()
        # A bare run of digits is as likely an account or phone number: ask for a suffix letter or brackets.
        if not _REG_LINE.match(reg) or not re.search(r"[A-Za-z(\[]", reg):
            continue
        above = doc.lines[line.index - 1]
        if (above.index, 0) in customer or len(above.cells) != 1:
            continue
        name = _clean_name(above.cells[0])
        if not name or not _nameish(name) or _STREET_WORDS.search(name) or _BOILERPLATE.search(name):
            continue
        if name != above.cells[0].strip(" ,;:*#-–|"):
            continue
        before = doc.lines[above.index - 1] if above.index > 0 else None
        if before is not None and before.page == above.page and _continues(before.cells[-1], name):
            name = _clean_name(before.cells[-1]) + " " + name
        return _fix_ocr(name), 0.8, above
    return None


def _legal_name(doc: Doc, first_page: list[Line], customer: set[tuple[int, int]]) -> tuple[str, float, Line] | None:
    """A company name (legal form or business word) at the top of the first page, outside the customer block."""
    for line in first_page:
        if not _in_top(doc, line, len(first_page)):
            continue
        for k, cell in enumerate(line.cells):
            if (line.index, k) in customer:
                continue
            for part in _company_parts(cell):
                if re.search(r",\s*[A-Z]{2}\b", part):  # "City, ST 12345"
                    continue
                labelled = bool(_LEADING_LABEL.match(part))
                part = _after_suffix(_clean_name(_LEADING_LABEL.sub("", part)))
                if not part or not LEGAL_FORM.search(part):
                    continue
                if not _nameish(part) and not _ONLY_LEGAL.match(part):
                    continue
                if _ADDRESS_HINT.search(part) and re.search(r"\d", part) and not _ONLY_LEGAL.match(part):
                    continue
                prev = doc.lines[line.index - 1] if line.index > 0 else None
                if not labelled and prev is not None and prev.page == line.page and _continues(prev.cells[-1], part):
                    return _fix_ocr(_clean_name(prev.cells[-1]) + " " + part), 0.75, line
                if _ONLY_LEGAL.match(part):
                    continue
                return _fix_ocr(part), 0.8, line
    return None


def _titled_name(first_page: list[Line], customer: set[tuple[int, int]]) -> tuple[str, float, Line] | None:
    """A name followed by a document title at the top ("Acme Invoice"): the issuer naming its own document."""
    for line in first_page[:8]:
        for k, cell in enumerate(line.cells):
            m = _NAME_TITLE.match(cell)
            if (
                m
                and (line.index, k) not in customer
                and _nameish(m.group(1))
                and _clean_name(cell)
                and not _BOILERPLATE.search(m.group(1))
            ):
                return _clean_name(m.group(1)), 0.75, line
    return None


# How much taller a line must be to count as the prominent one (a logo or store name over small print).
_PROMINENT = 1.4
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp]\.?[Mm]\.?)?")
_TABLE_HEADER = re.compile(r"\b(?:qty|quantity|price|description|amount|item|items|unit price)\b", re.IGNORECASE)


def _line_heights(lines: list[Line]) -> dict[int, float]:
    """Each line's own box height, where it has one (not a box shared by a paragraph, not a skewed merge)."""
    seen = Counter((ln.block, ln.bbox) for ln in lines)
    out: dict[int, float] = {}
    for ln in lines:
        if ln.bbox is None or seen[(ln.block, ln.bbox)] > 1:
            continue
        height = ln.bbox[3] - ln.bbox[1]
        if 0 < height < 0.25:
            out[ln.index] = height
    return out


def _taller(a: Line, b: Line, heights: dict[int, float], factor: float) -> bool:
    """Whether line `a` is printed at least `factor` times as tall as line `b`."""
    ha, hb = heights.get(a.index), heights.get(b.index)
    return ha is not None and hb is not None and ha >= factor * hb


def _brand_wins(brand: Line, legal: tuple[str, float, Line], heights: dict[int, float]) -> bool:
    """Whether the name line above the legal-form line is the vendor rather than the legal name."""
    # A business word alone ("Restaurant", "Food Court ...") continues or describes the name above it;
    # a company suffix wins unless the line above is printed much larger (a receipt's store name).
    name, _, line = legal
    if brand.page != line.page or brand.index >= line.index:
        return False
    if not COMPANY_SUFFIX.search(name):
        return True
    # A large line with digits is a stamp or a store number, not the store's name.
    return not re.search(r"\d", brand.text) and _taller(brand, line, heights, _PROMINENT)


def _without_dates(cell: str, doc: Doc) -> str:
    """The cell with its dates and times taken out ("Rosa Deli Main St Mar 3, 2021" -> "Rosa Deli Main St")."""
    spans = [(d.start, d.end) for d in find_dates(cell, doc.order)]
    spans += [m.span() for m in _TIME.finditer(cell)]
    if not spans:
        return cell
    parts, last = [], 0
    for start, end in sorted(spans):
        if start >= last:
            parts.append(cell[last:start])
        last = max(last, end)
    parts.append(cell[last:])
    return " ".join(" ".join(parts).split()).strip(" ,;-–|")


def _top_candidates(
    doc: Doc, first_page: list[Line], customer: set[tuple[int, int]], heights: dict[int, float], headings: bool
) -> list[tuple[str, Line, int]]:
    """Name-like cells at the top of the first page, in order, down to the first line with an amount."""
    found: list[tuple[str, Line, int]] = []
    median = sorted(heights.values())[len(heights) // 2] if heights else None
    for line in first_page[:15]:
        if any(a.has_decimals for a in doc.amounts(line)):
            # An unlabelled amount is an item: the store name is printed above the items.
            if not headings and not _money_line(line.text):
                break
            continue
        if headings and not line.heading:
            continue
        # A line whose other cells hold a ZIP or street number is an address line ("City  State  08401").
        if len(line.cells) > 1 and any(re.search(r"\b\d{4,5}\b", c) for c in line.cells):
            continue
        if len(line.cells) > 1 and any(_TABLE_HEADER.search(c) for c in line.cells):
            continue
        for k, cell in enumerate(line.cells):
            if (line.index, k) in customer:
                continue
            cell = _without_dates(cell, doc)
            logo = median is not None and _logo_word(cell) and heights.get(line.index, 0) >= 2 * median
            if not _plain_name(cell) and not logo:
                continue
            name = _clean_name(cell)
            # A name split over cells of one line ("GREEN   GROCER", "BLUE   OX"): join the name-like neighbours.
            for nxt in line.cells[k + 1 : k + 3]:
                plain = _plain_name(nxt) and _clean_name(nxt) == nxt.strip()
                if len(line.cells) <= 3 and (plain or (_short_caps(nxt) and name.isupper())):
                    name = f"{name} {nxt.strip()}"
                else:
                    break
            found.append((name, line, k))
            break
    return found


def _top_name(
    doc: Doc, first_page: list[Line], customer: set[tuple[int, int]], heights: dict[int, float]
) -> tuple[str, float, Line] | None:
    """The first prominent or plain name-like line at the top; a much larger line just below wins."""
    for headings in (True, False):
        found = _top_candidates(doc, first_page, customer, heights, headings)
        if not found:
            continue
        best = found[0]
        # A possessive name just below a lone word ("MOON" / "JO'S GIFTS"): the word is a logo or a fragment.
        if len(found) > 1 and len(best[0].split()) == 1 and not _POSSESSIVE.search(best[0]):
            cand = found[1]
            if cand[1].index <= best[1].index + 2 and len(cand[0].split()) > 1 and _POSSESSIVE.search(cand[0]):
                best = cand
        for cand in found[1:]:
            # The store's name printed large under a small slogan or greeting ("Quality first" / "bellamart").
            if cand[1].index <= found[0][1].index + 6 and _taller(cand[1], best[1], heights, _PROMINENT):
                best = cand
        name, line, _ = best
        if len(line.cells) == 1:
            name = _with_next_line(doc, name, line, customer, heights)
        return _cut(name), 0.7 if headings else 0.6, line
    return None


def _with_next_line(doc: Doc, name: str, line: Line, customer: set[tuple[int, int]], heights: dict[int, float]) -> str:
    """The name with the line below when that is a business word continuing it ("TRATTORIA ROSA" / "Restaurant")."""
    if line.index + 1 >= len(doc.lines):
        return name
    nxt = doc.lines[line.index + 1]
    if nxt.page != line.page or len(nxt.cells) != 1 or (nxt.index, 0) in customer:
        return name
    text = nxt.cells[0].strip()
    h1 = heights.get(line.index)
    if h1 is not None and nxt.bbox is not None and line.bbox is not None and nxt.bbox[1] - line.bbox[3] > 0.5 * h1:
        return name  # printed well apart: another block
    # A capitals word too short to be a name on its own ends the one above ("BLUE" / "OX").
    if _short_caps(text) and name.isupper():
        return f"{name} {text}"
    if not _plain_name(text) or _clean_name(text) != text or COMPANY_SUFFIX.search(text):
        return name
    if fold(text).replace(" ", "") == fold(name).replace(" ", ""):
        return name
    # Only a business word continues the name: a plain line below is as often a slogan or a branch.
    if not LEGAL_FORM.search(text) or len(text.split()) > 3:
        return name
    return f"{name} {text}"


_POSSESSIVE = re.compile(r"[A-Za-z]['’]s\b", re.IGNORECASE)


def _short_caps(cell: str) -> bool:
    """A word of two or three capital letters that is not a label ("OX", not "TEL" or "TAX")."""
    word = cell.strip(" .*")
    return (
        2 <= len(word) <= 3
        and word.isalpha()
        and word.isupper()
        and not _BOILERPLATE.search(word)
        and not (_money_line(word) or GENERIC_LINE.match(fold(word)))
    )


def _logo_word(cell: str) -> bool:
    """A single lower-case word that reads as a logo when printed large ("bellamart")."""
    word = cell.strip(" .*°")
    return word.isalpha() and word.islower() and len(word) >= 4


_BOILERPLATE = re.compile(
    r"\b(?:thank|thanks|welcome|guests?|covers?|open(?:ing)?|hours|daily|without|receipt|counter|staff|server|"
    r"cashier|table|order|check|chk|station|terminal|register|reg|store|tel|phone|fax|www|http|survey|visit|"
    r"customer|copy|merchant|member|item|items|qty|quantity|price|description|amount|subtotal|product|promo|"
    r"dine|take ?away|take ?out|for here|to go|eat in|guest|invoice|bill|payment|method|change)\b",
    re.IGNORECASE,
)


def _plain_name(cell: str) -> bool:
    """A top-of-receipt cell that can be the store name (not an address, a time, boilerplate or noise)."""
    name = _clean_name(cell)
    if not name or not _nameish(name) or _STREET_WORDS.search(cell):
        return False
    # A register number after the name ("WENDY'S REG 3") is not a register line.
    if _BOILERPLATE.search(_TILL_SUFFIX.sub("", _WELCOME.sub("", cell))) or _money_line(name):
        return False
    words = name.split()
    lower = sum(w[:1].islower() for w in words)
    # A slogan or a sentence ("fresh every day", "Thank you for shopping with us").
    if len(words) > 1 and (name[:1].islower() or (len(words) >= 4 and 2 * lower >= len(words))):
        return False
    if re.search(r"\d{1,2}:\d{2}", cell) or ":" in cell:
        return False
    if _ADDRESS_HINT.search(cell) and re.search(r"\d", cell):
        return False
    if re.search(r",\s*[A-Z]{2}\b", cell):  # "City, ST"
        return False
    if name.islower() and " " not in name:  # a logo read as a lowercase fragment
        return False
    return sum(ch.isalpha() for ch in name) >= 4 and bool(re.search(r"[A-Za-z]{3}", name))


_MONEY_CATEGORIES = ("total", "subtotal", "tax", "change", "rounding")
_PAYMENT = re.compile(
    r"\b(?:visa|master\s?card|amex|american express|debit|credit card|tendered|eftpos|approval|auth code)\b",
    re.IGNORECASE,
)


def _money_line(text: str) -> bool:
    """Whether a line names a total, tax, change or payment ("After Total", "GST # R...", "VISA")."""
    if _PAYMENT.search(text):
        return True
    return any((hit := find_label(text, c)) is not None and hit.strength >= 2 for c in _MONEY_CATEGORIES)


_NAME_TITLE = re.compile(
    r"^(.{3,60}?)\s+(?:tax invoice|invoice|receipt|rechnung|facture|factuur|factura)\W*$", re.IGNORECASE
)
_NAME_LABEL = re.compile(
    r"^(?:name|firma|company|nom|raison sociale|naam|bedrijf|nombre|razon social|nazwa)\s*:\s*", re.IGNORECASE
)


def _named_value(cell: str) -> str | None:
    """A name under a seller label: 'Name: X' gives X; other 'Label: value' cells give nothing."""
    m = _NAME_LABEL.match(fold(cell))
    if m:
        return _clean_name(cell[m.end() :])
    if re.match(r"^[^:]{1,30}:", cell):
        return None
    return _clean_name(cell)


_REG_LINE = re.compile(
    r"^[(\[]?\s*(?:(?:co\.?|company|roc|reg|registration)\.?\s*(?:no|reg)?\.?\s*:?\s*)?[A-Z]{0,3}\d{5,}"
    r"(?:[-\s]?[A-Z]{1,2})?\s*[)\]]?\.?$",
    re.IGNORECASE,
)
_OCR_DIGIT = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B"})


def _fix_ocr(name: str) -> str:
    """Undo digit-for-letter OCR confusions inside upper-case words ('URBAN 1DEA SDN BHD', '5/B')."""
    if name.upper() != name:
        return name
    words = []
    for word in name.split(" "):
        letters = sum(ch.isalpha() for ch in word)
        digits = [ch for ch in word if ch.isdigit()]
        if digits and letters >= 1 and all(d in "0158" for d in digits) and (letters >= 2 or "/" in word):
            word = word.translate(_OCR_DIGIT)
        words.append(word)
    return " ".join(words)


def _company_parts(cell: str) -> list[str]:
    """A cell split at separators, name parts kept together until an address-like part."""
    out: list[str] = []
    for part in _SEPARATORS.split(cell):
        if not part.strip():
            continue
        looks_address = re.search(r"\d", part) or _STREET_WORDS.search(part) or _EMAIL.search(part)
        if (out and not looks_address and not LEGAL_FORM.search(out[-1]) and not _BOILERPLATE.search(part)) or (
            out and not looks_address and LEGAL_FORM.search(out[-1]) and len(part.split()) <= 2
        ):
            out[-1] = f"{out[-1]} - {part.strip()}"
        else:
            out.append(part.strip())
    return out


def _after_suffix(name: str) -> str:
    """A name cut after its company suffix when a branch or place name follows ('X Co. The Mall')."""
    ends = [m.end() for m in COMPANY_SUFFIX.finditer(name)]
    if not ends:
        return name
    tail = name[ends[-1] :]
    if len(re.findall(r"[A-Za-z]{2,}", tail)) >= 2 and "(" not in tail:
        return name[: ends[-1]].strip()
    return name


def _continues(previous: str, name: str) -> bool:
    """Whether a company name began on the line above: its own line holds little more than the legal form."""
    prev = previous.strip()
    if not prev or not _nameish(prev) or COMPANY_SUFFIX.search(prev) or _STREET_WORDS.search(prev):
        return False
    if re.search(r"\d", prev) or _clean_name(prev) != prev.strip(" ,;:*#-–|"):
        return False
    if prev.count("(") > prev.count(")"):
        return True
    core = LEGAL_FORM.sub(" ", re.sub(r"\(\s*m\s*\)", " ", name, flags=re.IGNORECASE))
    words = [w for w in re.split(r"\W+", core) if w]
    return len(words) <= 2 and prev.upper() == prev and name.upper() == name


def _cut(text: str) -> str:
    """The name part of 'Name - Street 12 - City': parts up to the first one that looks like an address."""
    parts = [p for p in _SEPARATORS.split(text) if p.strip()]
    kept: list[str] = []
    for part in parts:
        if kept and (re.search(r"\d", part) or _STREET_WORDS.search(part) or _EMAIL.search(part)):
            break
        kept.append(part.strip())
    return _clean_name(" - ".join(kept)) if kept else text


def _customer_name(doc: Doc, customer: set[tuple[int, int]]) -> tuple[str, Line] | None:
    for line_index, k in sorted(customer):
        line = doc.lines[line_index]
        cell = line.cells[k]
        folded, fmap = fold_map(cell)
        hit = find_label(cell, "customer_label", folded)
        text = cell[fmap[hit.end] :] if hit is not None and hit.end < len(fmap) else ("" if hit else cell)
        text = _clean_name(text)
        if text and _nameish(text) and not (_ADDRESS_HINT.search(text) and re.search(r"\d", text)):
            return text, line
    return None


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


def parties(doc: Doc) -> Parties:
    """Vendor and customer fields found on the document."""
    out = Parties()
    customer = _customer_cells(doc)
    vendor = _vendor_name(doc, customer)
    if vendor is not None:
        name, conf, line = vendor
        out.values["vendor.name"] = name
        out.infos["vendor.name"] = doc.info(name, conf, line)
        address = _address_after(doc, line, customer, False)
        if address:
            out.values["vendor.address"] = address
            out.infos["vendor.address"] = doc.info(address, 0.5, line)
    cust = _customer_name(doc, customer)
    if cust is not None:
        name, line = cust
        out.values["customer.name"] = name
        out.infos["customer.name"] = doc.info(name, 0.7, line)
        address = _address_after(doc, line, customer, True)
        if address:
            out.values["customer.address"] = address
            out.infos["customer.address"] = doc.info(address, 0.5, line)
    _identifiers(doc, customer, out)
    return out


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
                rest = rest.lstrip(" :.#-")
                if not rest and k + 1 < len(line.cells):
                    rest = line.cells[k + 1].lstrip(" :.#-")
                m = _TAX_TOKEN.match(rest)
                if m and sum(ch.isdigit() for ch in m.group(0)) >= 5:
                    _set(out, f"{who}.tax_id", m.group(0).strip(), 0.75, doc, line)
            hit = find_label(cell, "phone", folded)
            if hit is not None:
                rest = cell[fmap[hit.end] :] if hit.end < len(fmap) else ""
                m = _PHONE.search(rest)
                if m and sum(ch.isdigit() for ch in m.group(0)) >= 7:
                    _set(out, f"{who}.phone", m.group(0).strip(), 0.7, doc, line)
