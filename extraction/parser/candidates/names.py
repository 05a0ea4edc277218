"""Party-name candidates: spans of the first page that could name the seller or the customer.

Each name-like cell is a candidate, with variants: the whole line, the line joined with the next
(names printed over two lines), the text after a seller or customer label, and the part before an
address or a separator. Features say how it is printed (size, position, capitals), what it holds
(a legal form, a business word, a title, a copy stamp, a section heading, an address), which labels
and blocks it sits in, and how it ties to the document's identifiers (e-mail domain, web address,
tax and registration numbers nearby, the same name again in the footer).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from extraction.parser.candidates import Candidate, Layout
from extraction.parser.labels import fold
from extraction.parser.misreads import only_match
from extraction.parser.nearby import label_features, labels_in, line_offset
from extraction.parser.vocab import (
    BOILERPLATE,
    COMPANY_SUFFIX,
    COMPANY_SUFFIXES,
    COPY_STAMP,
    DOCUMENT_TITLE,
    FIGURES_AS_LETTERS,
    GENERIC_LINE,
    LEGAL_FORM,
    MORE_GENERIC_LINE,
    SECTION_HEADING,
    TRAILING_TITLE,
)

if TYPE_CHECKING:
    from extraction.parser.context import Doc, Line

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")
_WEB = re.compile(r"(?:https?://)?(?:www\.)([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)", re.IGNORECASE)
_SEPARATORS = re.compile(r"\s+[●•·|–—]\s+|\s+-\s+|\s*\|\s*")
_REG_TAIL = re.compile(
    r"\s*[(\[]\s*(?:co\.?\s*(?:no|reg)\.?\s*:?\s*)?[A-Z]{0,3}\d{4,}[\w\s\-]*[)\]]\W*$", re.IGNORECASE
)
# A line that holds only a company registration number ("(1120908-M)", "Co. Reg No: 273500-U").
REG_LINE = re.compile(
    r"^[(\[]?\s*(?:(?:co\.?|company|roc|reg|registration)\.?\s*(?:no|reg)?\.?\s*:?\s*)?[A-Z]{0,3}\d{5,}"
    r"(?:[-\s]?[A-Z]{1,2})?\s*[)\]]?\.?$",
    re.IGNORECASE,
)
_LEADING_LABEL = re.compile(r"^[^:]{1,24}:\s*(?=\S)")
_STREET = re.compile(
    r"\b(?:str(?:asse|aße|\.)|straat|weg|laan|street|st\.|road|rd\.?|avenue|ave\.?|blvd|lane|rue|chemin|calle|"
    r"avenida|via|viale|piazza|jalan|jln|taman|lot|no\.|suite|floor|level|postfach|bp|cedex)(?:\b|(?<=\.))",
    re.IGNORECASE,
)
_POSTCODE = re.compile(r"\b(?:\d{4,5}|\d{3}\s?\d{2}|[A-Z]{1,2}\d{1,2}[A-Z]?\s?\d[A-Z]{2}|\d{4}\s?[A-Z]{2})\b")
_POSSESSIVE = re.compile(r"[A-Za-z]['’]s\b")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_IBAN_START = re.compile(r"\b[A-Z]{2}\d{2}\s?[A-Z0-9]{4}")
VARIANTS = ("cell", "line", "joined", "labelled", "part")
LABEL_REACH = 8  # lines above a name that a customer label still marks (the distance feature caps here)
MAX_LINES = 60


@lru_cache(maxsize=20_000)
def _nameish(text: str) -> bool:
    letters = sum(ch.isalpha() for ch in text)
    return letters >= 2 and letters >= 0.4 * len(text.replace(" ", "")) and len(text) <= 90


_CAPS_WORD = re.compile(r"\b(?=[A-Z0-9]*[A-Z][A-Z0-9]*[A-Z])[A-Z0-9]*[0158][A-Z0-9]*\b")
_SLASHED = re.compile(r"(?<![\w/])([0158])/([A-Z])(?![\w/])")


def _letters_for_digits(text: str) -> str:
    """OCR's digit-for-letter confusions inside capital words undone: '5DN BHD', '1DEA' -> 'SDN BHD', 'IDEA'."""

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        digits = sum(ch.isdigit() for ch in word)
        if 2 * digits > len(word) - digits:
            return word
        # Only a digit before a letter: a trailing one is a code's or postcode's ("LS1", "KJ1").
        return "".join(
            ch.translate(FIGURES_AS_LETTERS) if i + 1 < len(word) and word[i + 1].isalpha() else ch
            for i, ch in enumerate(word)
        )

    text = _CAPS_WORD.sub(fix, text)
    # A one-letter abbreviation pair such as "S/B" read with a digit: "5/B".
    return _SLASHED.sub(lambda m: m.group(1).translate(FIGURES_AS_LETTERS) + "/" + m.group(2), text)


# Legal forms a name in capitals ends with, as they are spelled; one OCR misread ("SON BHD", "SDN HD",
# "S/8") is put right when exactly one of them fits.
LEGAL_TAILS = ("SDN BHD", "S/B", "BERHAD", "PTE LTD", "PTY LTD", "PVT LTD", "GMBH", "LIMITED", "SARL", "B.V.")


# Figures OCR reads for the letters of a legal form ("5DN 8HD", "SBN 3HD").
_FORM_FIGURES = str.maketrans("01583", "OISBB")
# A company registration number or a postcode printed after the legal form: words that each hold a
# figure, perhaps a short code in brackets ("S/B 273500-U (KJ1)", "SDN BHD 1095514-X", "plc BD3 7DL").
_REG_AFTER_FORM = re.compile(
    rf"(?<=\S)(?P<form>\s(?:{'|'.join(COMPANY_SUFFIXES)})\.?)(?:\s+[(\[]?[\w\-/]*\d[\w\-/]*[)\]]?)+"
    r"(?:\s*[(\[][A-Z0-9]{1,4}[)\]])?\W*$",
    re.IGNORECASE,
)


# A till's code printed before the name: a letter or two in brackets ("(P)"), or a run of four or more
# figures ("000002"); only where at least two words follow, so figures that are the name's stay.
_LEADING_CODE = re.compile(r"^(?:\([A-Za-z]{1,2}\)|\d{4,})\s+(?=\S+\s+\S)")


def party_name(text: str) -> str:
    """A chosen party name as the reader gets it: no code before it, no title or registration number after it,
    its legal form spelled."""
    bare = _REG_AFTER_FORM.sub(r"\g<form>", TRAILING_TITLE.sub("", _LEADING_CODE.sub("", text)))
    return spell_legal_form(bare if _nameish(bare) else text)


def spell_legal_form(text: str) -> str:
    """A capitals name whose last word or two are a legal form misread by one letter or figure, put right."""
    words = text.split()
    if not text.isupper() or len(words) < 2:
        return text
    for size in (2, 1):
        tail = " ".join(words[-size:])
        if len(words) <= size or tail in LEGAL_TAILS or tail.rstrip(".") in LEGAL_TAILS:
            continue
        forms = [f for f in LEGAL_TAILS if f.count(" ") == size - 1]
        fixed = tail.translate(_FORM_FIGURES)
        form = fixed if fixed in forms else only_match(fixed, [f for f in forms if len(f) >= 6])
        if form is not None:
            return " ".join([*words[:-size], form])
    return text


@lru_cache(maxsize=20_000)
def clean_name(text: str) -> str:
    """A name without a leading 'Label:', a trailing registration number or title word, and stray punctuation."""
    text = _LEADING_LABEL.sub("", text.strip())
    text = _letters_for_digits(_REG_TAIL.sub("", text))
    return text.strip(" ,;:*#-–|.").strip() if not text.endswith(".") or len(text) < 3 else text.strip(" ,;:*#-–|")


def _domains(doc: Doc) -> list[str]:
    """The second-level names of the document's e-mail domains and web addresses ("northwind" of northwind.de)."""
    names: list[str] = []
    for line in doc.lines:
        for m in _EMAIL.finditer(line.text):
            names.append(m.group(1))
        for m in _WEB.finditer(line.text):
            names.append(m.group(1))
    out = []
    for host in names:
        # The organisation's own label: not the top-level domain, not "co"/"com" in "co.uk", not "www" or "mail".
        labels = [p for p in host.lower().split(".")[:-1] if p not in _GENERIC_HOST_LABELS]
        if labels:
            out.append(_NOT_ALNUM.sub("", max(labels, key=len)))
    return [d for d in dict.fromkeys(out) if len(d) >= 3]


_GENERIC_HOST_LABELS = frozenset({"www", "mail", "email", "info", "co", "com", "org", "net", "gov", "ac", "or", "ne"})


def _squeeze(text: str) -> str:
    return _NOT_ALNUM.sub("", fold(text))


def _names_nobody(text: str) -> bool:
    """Whether a name-like text stands where a name could but names nobody: another language's title or copy
    mark ("KOPIE", "Lieferschein"), a section heading ("Payment Details") or a party's label alone ("Bill To:")."""
    folded = fold(text)
    return bool(MORE_GENERIC_LINE.match(folded) or SECTION_HEADING.match(folded)) or _bare_party_label(text)


def _after_party_labels(text: str) -> list[str]:
    """The text after each seller's or customer's label that opens `text` ("Bill To: ACME" -> ": ACME")."""
    hits = labels_in(text)
    found = [hits.get(kind) for kind in ("vendor_label", "customer_label")]
    return [text[line_offset(text, hit.end) :] for hit in found if hit is not None and hit.start <= 3]


def _bare_party_label(text: str) -> bool:
    """Whether a text is only a seller's or customer's label ("Bill To:", "Kunde", "Sold by"): it names nobody."""
    return any(not rest.strip(" :.-#") for rest in _after_party_labels(text))


def seller_candidates(names: list[Candidate]) -> list[Candidate]:
    """The name candidates that could be the seller: not a line that names nobody, nor one joined to the name
    under it. The customer's scorer keeps them all: it learned that a label alone names no customer."""
    return [c for c in names if not _names_nobody(c.value) and not _joined_to_nobody(c)]


def _joined_to_nobody(cand: Candidate) -> bool:
    return bool(cand.features.get("variant_joined")) and cand.line is not None and _joins_nobody(cand.line.text)


def _joins_nobody(text: str) -> bool:
    """Whether a line is only a title, a copy mark, receipt boilerplate or a party label: joined to the name
    under it, it makes no name ("KOPIE Rechnung", "Bill To Jansen Holding B.V.")."""
    name = clean_name(text)
    return bool(GENERIC_LINE.match(fold(name))) or _names_nobody(name)


def _spans(doc: Doc, lines: list[Line]) -> list[tuple[Line, int, int, str, str]]:
    """(line, start, end, text, variant) for every name-like span of these lines."""
    out: list[tuple[Line, int, int, str, str]] = []
    for pos, line in enumerate(lines):
        starts = line.cell_starts
        for k, cell in enumerate(line.cells):
            if _nameish(cell):
                out.append((line, starts[k], starts[k] + len(cell), cell, "cell"))
                for after in _after_party_labels(cell):
                    rest = after.lstrip(" :.-")
                    if _nameish(rest):
                        s = starts[k] + len(cell) - len(rest)
                        out.append((line, s, s + len(rest), rest, "labelled"))
                parts = [p for p in _SEPARATORS.split(cell) if p.strip()]
                if len(parts) > 1 and _nameish(parts[0]):
                    first = parts[0].strip()
                    s = starts[k] + cell.find(first)
                    out.append((line, s, s + len(first), first, "part"))
        if len(line.cells) > 1 and _nameish(line.text):
            out.append((line, 0, len(line.text), " ".join(line.cells), "line"))
        nxt = lines[pos + 1] if pos + 1 < len(lines) else None
        if (
            nxt is not None
            and len(line.cells) == 1
            and len(nxt.cells) == 1
            and len(line.text) <= 48
            and len(nxt.text) <= 48
            and _nameish(line.text)
            and _nameish(nxt.text)
        ):
            out.append((line, 0, len(line.text), f"{line.text} {nxt.text}", "joined"))
    return out


def name_candidates(doc: Doc, layout: Layout) -> list[Candidate]:
    """Spans of the first page that could name a party, with their features."""
    if not doc.lines:
        return []
    lines = layout.page_lines[layout.first_page][:MAX_LINES]
    # The footer of the first page too (legal names are printed there).
    footer = layout.page_lines[layout.first_page][MAX_LINES:][-15:]
    lines = lines + footer
    domains = _domains(doc)
    id_lines = _identifier_lines(doc, lines)
    customer_at = _label_lines(lines, "customer_label")
    vendor_at = _label_lines(lines, "vendor_label")
    squeezed_lines = [_squeeze(ln.text) for ln in lines]
    out: list[Candidate] = []
    seen: set[tuple[int, str]] = set()
    name_rank = 0
    last_line = -1
    for line, start, end, text, variant in _spans(doc, lines):
        name = clean_name(text)
        if not name or not _nameish(name) or (line.index, name) in seen or GENERIC_LINE.match(fold(name)):
            continue  # a bare title or receipt word ("TAX INVOICE", "Welcome to") names nobody
        seen.add((line.index, name))
        if line.index != last_line:
            name_rank += 1
            last_line = line.index
        cand = Candidate("name", name, text, line, start, end)
        f = layout.line_features(line, start, end)
        f.update(label_features(doc, line, start, end))
        for v in VARIANTS:
            f[f"variant_{v}"] = float(variant == v)
        f["name_rank"] = float(min(name_rank, 40))
        f["cleaned"] = float(name != text.strip())
        f.update(name_text_features(name))  # a shared cached dict: copied by update
        key = _squeeze(name)
        f["repeats"] = float(min(sum(1 for s in squeezed_lines if key and key in s) - 1, 5)) if key else 0.0
        f["domain_match"] = max((fuzz.partial_ratio(d, key) / 100 for d in domains if key), default=0.0)
        f["domain_exact"] = float(any(d and d in key for d in domains))
        f["ids_below"] = float(_distance_below(line.index, id_lines))
        f["ids_above"] = float(_distance_above(line.index, id_lines))
        f["customer_label_above"] = float(_distance_above(line.index, customer_at, LABEL_REACH))
        f["vendor_label_above"] = float(_distance_above(line.index, vendor_at, 8))
        f["customer_label_same_line"] = float(line.index in customer_at)
        cand.features = f
        out.append(cand)
    return out


@lru_cache(maxsize=20_000)
def name_text_features(name: str) -> dict[str, float]:
    """What a name's text holds and how it is written (a shared cached dict: do not change it)."""
    folded = fold(name).strip(" .:*-#")
    words = name.split()
    letters = [ch for ch in name if ch.isalpha()]
    upper = sum(ch.isupper() for ch in letters)
    return {
        "words": float(min(len(words), 12)),
        "chars": float(min(len(name), 90)),
        "upper_ratio": upper / len(letters) if letters else 0.0,
        "title_case": float(all(w[:1].isupper() for w in words if w[:1].isalpha())),
        "lower_start": float(name[:1].islower()),
        "digits": float(min(sum(ch.isdigit() for ch in name), 10)),
        "legal_suffix": float(bool(COMPANY_SUFFIX.search(name))),
        "business_word": float(bool(LEGAL_FORM.search(name))),
        "generic_line": float(bool(GENERIC_LINE.match(folded))),
        "doc_title": float(bool(DOCUMENT_TITLE.match(folded))),
        "copy_stamp": float(bool(COPY_STAMP.match(folded))),
        "section_heading": float(bool(SECTION_HEADING.match(folded))),
        "boilerplate": float(len(BOILERPLATE.findall(name))),
        "street": float(bool(_STREET.search(name))),
        "postcode": float(bool(_POSTCODE.search(name))),
        "email_or_web": float(bool(_EMAIL.search(name) or _WEB.search(name) or "http" in folded)),
        "comma": float("," in name),
        "colon": float(":" in name),
        "possessive": float(bool(_POSSESSIVE.search(name))),
        "has_label": float(bool(labels_in(name))),
        "registration": float(bool(REG_LINE.match(name))),
    }


def _identifier_lines(doc: Doc, lines: list[Line]) -> set[int]:
    """Lines that print a tax id, a registration number, an IBAN, an e-mail address or a phone number."""
    out: set[int] = set()
    for line in lines:
        hits = labels_in(line.text)
        if (
            "tax_id" in hits
            or "phone" in hits
            or _EMAIL.search(line.text)
            or REG_LINE.match(line.text.strip())
            or _IBAN_START.search(line.text)
        ):
            out.add(line.index)
    return out


def _label_lines(lines: list[Line], kind: str) -> set[int]:
    """Lines with a label of `kind`, but for a copy's mark ("Customer Copy", "Original for Recipient")."""
    return {ln.index for ln in lines if kind in labels_in(ln.text) and not COPY_STAMP.match(fold(ln.text))}


def _distance_below(index: int, marks: set[int], limit: int = 6) -> int:
    """Lines from `index` down to the nearest marked line (limit when none is that near)."""
    for d in range(1, limit):
        if index + d in marks:
            return d
    return limit


def _distance_above(index: int, marks: set[int], limit: int = 6) -> int:
    """Lines from `index` up to the nearest marked line at or above it (0: the line itself)."""
    for d in range(0, limit):
        if index - d in marks:
            return d
    return limit
