"""The document as the parser sees it: lines with cells, folded text, language, separators, date order."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from extraction.parser.country import US_ADDRESS, US_PHONE, country_votes, shown_country
from extraction.parser.dates import DateMatch, Order, decide_order, find_dates
from extraction.parser.figures import normalise_figures
from extraction.parser.labels import LABEL_FOLD
from extraction.parser.money import AmountMatch, CurrencyGuess, detect_currency, find_amounts
from extraction.schema import FieldInfo

if TYPE_CHECKING:
    from extraction.markdown import PageMarkdown, TextLine

_CELL_GAP = re.compile(r"\s{2,}|\t|\s\|\s")
_PERCENT = re.compile(r"[-+]?\d+(?:[.,]\d+)?\s?%")
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp]\.?[Mm]\.?)?")
_LONG_DIGITS = re.compile(r"(?<![\d.,])\d{7,}(?![\d.,]\d)")
_FIGURE = re.compile(r"\d")

_LANGUAGE_WORDS: dict[str, tuple[str, ...]] = {
    "de": (
        "rechnung",
        "datum",
        "betrag",
        "summe",
        "mwst",
        "ust",
        "gesamt",
        "steuer",
        "netto",
        "brutto",
        "zahlbar",
        "bankverbindung",
        "und",
        "lieferung",
        "menge",
        "einzelpreis",
        "kunde",
        "bitte",
        "vom",
    ),
    "fr": (
        "facture",
        "montant",
        "tva",
        "ttc",
        "paiement",
        "echeance",
        "quantite",
        "prix",
        "le",
        "la",
        "des",
        "du",
        "client",
        "reglement",
        "total ht",
    ),
    "nl": ("factuur", "btw", "totaal", "bedrag", "betaling", "aantal", "prijs", "klant", "het", "een", "van", "voor"),
    "es": ("factura", "fecha", "importe", "iva", "cliente", "cantidad", "precio", "pago", "el", "los", "las", "del"),
    "it": (
        "fattura",
        "importo",
        "totale",
        "imponibile",
        "quantita",
        "prezzo",
        "pagamento",
        "scadenza",
        "scontrino",
        "ricevuta",
        "sconto",
        "il",
        "della",
    ),
    "pl": ("faktura", "sprzedawca", "nabywca", "razem", "zaplaty", "wartosc", "cena", "ilosc", "netto", "brutto"),
    "en": (
        "invoice",
        "total",
        "date",
        "amount",
        "tax",
        "receipt",
        "thank",
        "you",
        "the",
        "and",
        "qty",
        "price",
        "payment",
        "due",
        "bill",
        "cash",
        "change",
        "subtotal",
    ),
}
_MARKUP = re.compile(r"\*\*|__|^#+\s|^[-*]\s(?=\S)|</?(?:b|i|strong|em|br|span|p|div)\s*/?>")


@lru_cache(maxsize=100_000)
def fold_map(text: str) -> tuple[str, list[int]]:
    """Folded text (lower case, no accents) and, per folded character, its index in `text` (cached: read-only)."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        piece = LABEL_FOLD[ord(ch)].lower()  # each character on its own: `index` points back into `text`
        for c in piece:
            out.append(c)
            index.append(i)
    return "".join(out), index


@dataclass
class Line:
    """One line of the document with its cells, folded text and provenance."""

    index: int
    text: str
    page: int
    bbox: tuple[float, float, float, float] | None
    cells: list[str]
    block: int
    confidence: float | None
    is_row: bool
    folded: str = ""
    fmap: list[int] = field(default_factory=list)
    heading: bool = False
    engine: str = ""
    cell_boxes: list[tuple[float, float, float, float]] | None = None

    @cached_property
    def cell_starts(self) -> list[int]:
        """Where each cell begins in `text` (cells are joined by two spaces)."""
        starts, pos = [], 0
        for cell in self.cells:
            starts.append(pos)
            pos += len(cell) + 2
        return starts

    def cell_at(self, offset: int) -> int:
        """The index of the cell holding `offset` of `text`."""
        k = bisect_right(self.cell_starts, offset)
        return k - 1 if k else 0

    def span_box(self, start: int, end: int) -> tuple[float, float, float, float] | None:
        """The box of `text[start:end]`: its cells' boxes (or the line's) cut in proportion to the characters."""
        if self.bbox is None or self.bbox[2] <= self.bbox[0]:
            return self.bbox
        if self.cell_boxes is None or len(self.cell_boxes) != len(self.cells):
            return _cut_box(self.bbox, start, end, 0, len(self.text))
        first, last = self.cell_at(start), self.cell_at(max(start, end - 1))
        starts = self.cell_starts
        if first == last:  # most spans lie in one cell
            return _cut_box(self.cell_boxes[first], start, end, starts[first], starts[first] + len(self.cells[first]))
        boxes = [
            _cut_box(self.cell_boxes[k], start, end, starts[k], starts[k] + len(self.cells[k]))
            for k in range(first, last + 1)
        ]
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))

    def original_offset(self, folded_offset: int) -> int:
        """The index in `text` of a position in `folded`."""
        if folded_offset >= len(self.fmap):
            return len(self.text)
        return self.fmap[folded_offset]


@dataclass
class Doc:
    """Everything the field extractors share."""

    lines: list[Line]
    text: str
    language: str
    decimal: str | None
    currency: CurrencyGuess | None
    order: Order | None
    order_reason: str
    countries: Counter[str] = field(default_factory=Counter)  # evidence per country code (`country_votes`)
    extra: dict[str, FieldInfo] = field(default_factory=dict)
    _amounts: dict[int, list[AmountMatch]] = field(default_factory=dict)
    _dates: dict[int, list[DateMatch]] = field(default_factory=dict)
    _figures: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    over_cell: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)  # nearby's texts over a cell

    def figure_spans(self, line: Line) -> list[tuple[int, int]]:
        """Where the amounts and dates of a line are, in order."""
        if line.index not in self._figures:
            spans = [(a.start, a.end) for a in self.amounts(line)] + [(d.start, d.end) for d in self.dates(line)]
            self._figures[line.index] = sorted(spans)
        return self._figures[line.index]

    def dates(self, line: Line) -> list[DateMatch]:
        """Dates on a line, read in the document's order."""
        if line.index not in self._dates:
            self._dates[line.index] = find_dates(normalise_figures(line.text), self.order)
        return self._dates[line.index]

    def amounts(self, line: Line, text: str | None = None, offset: int = 0) -> list[AmountMatch]:
        """Amounts on a line (or in `text`, part of it), skipping dates, times, percentages and long ids."""
        if text is None:
            if line.index not in self._amounts:
                self._amounts[line.index] = self._scan(line.text, line)
            return self._amounts[line.index]
        return self._scan(text, line, offset)

    def _scan(self, text: str, line: Line, offset: int = 0) -> list[AmountMatch]:
        if _FIGURE.search(text) is None:  # no figure, no amount
            return []
        masked = normalise_figures(text)
        spans = [(d.start - offset, d.end - offset) for d in self.dates(line)]
        for pattern in (_PERCENT, _TIME, _LONG_DIGITS):
            spans.extend((m.start(), m.end()) for m in pattern.finditer(text))
        for start, end in spans:
            if end <= 0 or start >= len(masked):
                continue
            start, end = max(start, 0), min(end, len(masked))
            masked = masked[:start] + "\x00" * (end - start) + masked[end:]
        return find_amounts(masked, self.decimal)

    def info(self, value: object, confidence: float, line: Line | None) -> FieldInfo:
        """A FieldInfo with this line's provenance; OCR confidence caps the parser's own."""
        if line is not None and line.confidence is not None:
            confidence = min(confidence, confidence * (0.5 + 0.5 * max(0.0, min(1.0, line.confidence))))
        confidence = max(0.0, min(1.0, confidence))
        if line is None:
            return FieldInfo(value=value, confidence=round(confidence, 3))
        bbox = list(line.bbox) if line.bbox is not None else None
        return FieldInfo(value=value, confidence=round(confidence, 3), page=line.page, bbox=bbox, source=line.text)


def _cut_box(box: tuple[float, ...], start: int, end: int, lo: int, hi: int) -> tuple[float, float, float, float]:
    """The part of `box` (holding text[lo:hi]) under text[start:end], in proportion to the characters."""
    x0, y0, x1, y1 = box
    n = max(hi - lo, 1)
    a, b = max(0, min(start - lo, n)), max(0, min(end - lo, n))
    if b <= a:
        return (x0, y0, x1, y1)
    return (x0 + (x1 - x0) * a / n, y0, x0 + (x1 - x0) * b / n, y1)


def _split_cells(text_line: TextLine) -> tuple[list[str], bool]:
    if text_line.cells:
        return [c.strip() for c in text_line.cells], True
    cells = [c.strip() for c in _CELL_GAP.split(text_line.text) if c.strip()]
    return cells, False


def _language(folded_text: str) -> str:
    words = Counter(re.findall(r"[a-z]+", folded_text))
    scores = {lang: sum(words[w] for w in vocab if " " not in w) for lang, vocab in _LANGUAGE_WORDS.items()}
    # English words are common elsewhere (total, date): weigh them down a little.
    scores["en"] = int(scores["en"] * 0.8)
    lang, score = max(scores.items(), key=lambda kv: kv[1])
    return lang if score >= 2 else "unknown"


def _decimal_hint(text: str) -> str | None:
    comma = len(re.findall(r"\d,\d{2}(?!\d)", text))
    dot = len(re.findall(r"\d\.\d{2}(?!\d)", text))
    if comma > 2 * dot and comma >= 2:
        return ","
    if dot > 2 * comma and dot >= 2:
        return "."
    return None


_TWELVE_HOUR = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\s?[AP]\.?M\b", re.IGNORECASE)
_NON_US = re.compile(r"\b(?:VAT|GST|SST|ABN|MWST|BTW|TVA|IVA|postcode)\b|£|€|\bRM\s?\d", re.IGNORECASE)


def _looks_us(text: str, currency: CurrencyGuess | None) -> bool:
    """US documents write dates month-first: dollar amounts, a state + ZIP, a US phone number or a 12-hour
    clock, and no sign of a day-first English-speaking country (VAT, GST, £ ...)."""
    if currency is not None and currency.code != "USD":
        return False
    if _NON_US.search(text):
        return currency is not None and not currency.weak
    signals = (currency is not None) + bool(US_ADDRESS.search(text)) + bool(US_PHONE.search(text))
    signals += bool(_TWELVE_HOUR.search(text))
    return signals >= 1


def build_doc(pages: list[PageMarkdown], order_hint: str | None = None) -> Doc:
    """The parser's view of the pages.

    `order_hint` ("DMY"/"MDY") is a known vendor's habit: it decides the day/month order unless a date
    on this document does.
    """
    lines: list[Line] = []
    for page in pages:
        is_heading = {i for i, b in enumerate(page.blocks) if b.kind == "heading"}
        for text_line in page.lines():
            raw_cells, is_row = _split_cells(text_line)
            cleaned = [_MARKUP.sub("", c).strip() for c in raw_cells]
            cells = [c for c in cleaned if c]
            if not cells:
                continue
            boxes = text_line.cell_boxes
            if boxes is not None and len(boxes) == len(raw_cells):
                boxes = [(x0, y0, x1, y1) for (x0, y0, x1, y1), c in zip(boxes, cleaned, strict=True) if c]
            else:
                boxes = None
            text = "  ".join(cells)
            folded, fmap = fold_map(text)
            line = Line(
                len(lines),
                text,
                text_line.page,
                text_line.bbox,
                cells,
                text_line.block,
                text_line.confidence,
                is_row,
                folded,
                fmap,
            )
            line.heading = text_line.block in is_heading
            line.engine = page.engine
            line.cell_boxes = boxes
            lines.append(line)
    full = "\n".join(line.text for line in lines)
    folded_full = "\n".join(line.folded for line in lines)
    language = _language(folded_full)
    currency = detect_currency(full)
    if language in ("en", "unknown") and _looks_us(full, currency):
        language = "en-us"
    countries = country_votes(full, folded_full)
    country = shown_country(countries)
    # A bare "$" is any dollar: the country the document shows says more about its date order.
    sure_currency = currency.code if currency and not (currency.weak and country) else None
    order, reason = decide_order(full, language, sure_currency, country)
    hinted = {"DMY": "dmy", "MDY": "mdy"}.get(order_hint or "")
    if hinted is not None and not reason.startswith("another date"):
        order = hinted  # type: ignore[assignment]
        reason = "the vendor's earlier invoices write " + ("day first" if hinted == "dmy" else "month first")
    return Doc(lines, full, language, _decimal_hint(full), currency, order, reason, countries)
