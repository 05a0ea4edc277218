"""Line items from table rows under a recognised header, or from text lines 'desc qty price amount'."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

from extraction.parser.labels import find_label, fold
from extraction.parser.money import find_amounts
from extraction.schema import LineItem
from utils.money import within_cents

if TYPE_CHECKING:
    from extraction.parser.context import Doc, Line

_HEADER_WORDS: dict[str, str] = {
    "description": r"description|desc|item|items|article|artikel|product|produkt|bezeichnung|artikelbezeichnung|"
    r"leistung|beschreibung|designation|libelle|omschrijving|descripcion|concepto|descrizione|articolo|prodotto|"
    r"nazwa(?: towaru)?|title|service|services|details|particulars|code/desc",
    "quantity": r"qty|quantity|menge|anzahl|quantite|qte|aantal|cantidad|cant|quantita|q\.?\s?ta|qt|ilosc|units|"
    r"hours|hrs|pcs|stk",
    "unit_price": r"unit price|price|rate|einzelpreis|preis|prix unitaire|prix|stukprijs|prijs per stuk|prijs|"
    r"precio unitario|precio|prezzo unitario|prezzo|cena|unit cost|nettopreis|rsp|u/price",
    "amount": r"amount|total|line total|betrag|gesamt|summe|montant|bedrag|importe|wartosc|net amount|nettowert|"
    r"gesamtpreis|positionsbetrag|prix ht|total ht|importo|totale|amt",
    "tax_rate": r"vat|tax|mwst|ust|tva|btw|iva|gst|%",
}
_HEADER_RE = {k: re.compile(rf"(?:^|\W)(?:{v})(?:$|\W)") for k, v in _HEADER_WORDS.items()}
_PERCENT = re.compile(r"(\d+(?:[.,]\d+)?)\s?%")
_QTY = re.compile(
    r"^\s*[-]?(\d+(?:[.,]\d+)?)\s*(?:x|×|@|pcs?|stk\.?|st|units?|unit\(s\)|kg|g|l|liter\(s\)|h|hrs?)?\s*$",
    re.IGNORECASE,
)
_STOP = ("total", "subtotal", "tax", "amount_due", "paid", "change")


def _header_columns(line: Line) -> dict[str, int]:
    found: dict[str, int] = {}
    for k, cell in enumerate(line.cells):
        folded = fold(cell)
        if len(folded) > 40 or re.search(r"\d{3}", folded):
            continue
        for name, pattern in _HEADER_RE.items():
            if name not in found and pattern.search(folded):
                found[name] = k
                break
    return found


def _is_header(line: Line) -> bool:
    cols = _header_columns(line)
    return len(line.cells) >= 2 and "description" in cols and len(cols) >= 2 and not find_amounts(line.text)


def _stops(line: Line) -> bool:
    first = line.cells[0]
    return any((hit := find_label(first, c)) is not None and hit.start <= 2 for c in _STOP)


def _item_from_cells(cells: list[str], decimal: str | None) -> LineItem | None:
    money: list[tuple[int, Decimal]] = []
    rate: Decimal | None = None
    qty: Decimal | None = None
    texts: list[str] = []
    for k, cell in enumerate(cells):
        pm = _PERCENT.search(cell)
        if pm and len(cell.strip()) <= 8:
            rate = Decimal(pm.group(1).replace(",", "."))
            continue
        qm = _QTY.match(cell)
        amounts = find_amounts(cell, decimal)
        letters = sum(ch.isalpha() for ch in cell)
        if amounts and letters <= 3 and len(amounts) == 1 and (amounts[0].has_decimals or amounts[0].currency):
            if qm and not amounts[0].currency and qty is None and not money and re.search(r"[a-z×x@]", cell, re.I):
                qty = Decimal(qm.group(1).replace(",", "."))
            else:
                money.append((k, amounts[0].value))
        elif qm and qty is None:
            qty = Decimal(qm.group(1).replace(",", "."))
        elif letters >= 2:
            texts.append(cell)
    if not money or not texts:
        return None
    amount = money[-1][1]
    unit = money[-2][1] if len(money) >= 2 else None
    if qty is None and len(money) >= 3 and money[0][1] == money[0][1].to_integral_value():
        qty = money[0][1]
    if unit is not None and qty is not None and not within_cents(unit * qty, amount, 5) and len(money) >= 3:
        # The unit price may be an earlier column (a discount column between).
        for _, value in money[:-1]:
            if within_cents(value * qty, amount, 5):
                unit = value
                break
    description = max(texts, key=len)
    return LineItem(description=description, quantity=qty, unit_price=unit, amount=amount, tax_rate=rate)


_TEXT_ITEM = re.compile(
    r"^(?P<desc>.*?[A-Za-z]{2}.*?)\s+(?:(?P<qty>\d+(?:[.,]\d+)?)\s*(?:x|×|@|pcs?)?\s+)?"
    r"(?:(?P<price>\d+[.,]\d{2})\s+)?(?P<amount>-?\d+[.,]\d{2})\s*[A-Z]?$"
)


def line_items(doc: Doc) -> list[LineItem]:
    """Items from tables with a header in any supported language; else from 'desc [qty] [price] amount' lines."""
    items: list[LineItem] = []
    in_table = False
    for line in doc.lines:
        if _is_header(line):
            in_table = True
            continue
        if not in_table:
            continue
        if _stops(line):
            in_table = False
            continue
        if len(line.cells) >= 2:
            item = _item_from_cells(line.cells, doc.decimal)
            if item is not None:
                items.append(item)
    if items:
        return items
    started = False
    for line in doc.lines:
        if _stops(line) and started:
            break
        m = _TEXT_ITEM.match(line.text.replace("  ", " "))
        if m is None or doc.dates(line) or find_label(line.text, "tax_id") or find_label(line.text, "phone"):
            continue
        if any(find_label(line.text, c) for c in ("total", "subtotal", "tax", "paid", "change", "rounding")):
            continue
        amount = find_amounts(m.group("amount"), doc.decimal)
        if not amount:
            continue
        started = True
        qty = Decimal(m.group("qty").replace(",", ".")) if m.group("qty") else None
        price = find_amounts(m.group("price"), doc.decimal)[0].value if m.group("price") else None
        items.append(
            LineItem(description=m.group("desc").strip(), quantity=qty, unit_price=price, amount=amount[0].value)
        )
    return items
