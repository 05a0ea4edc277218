"""Search text and tokens: what the keyword index and the embedding see of an invoice."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal

from extraction.schema import ExtractionResult
from utils.text import fold

MARKDOWN_CHARS = 6000
EMBED_MARKDOWN_CHARS = 400

_TOKEN = re.compile(r"[a-z0-9]+(?:[./\-_][a-z0-9]+)*")
_PARTS = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"[A-Za-z]*[a-z][A-Z][A-Za-z]*")  # a word joined from capitalised parts: QualityHosting
_CAMEL_PARTS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_AMOUNT = re.compile(r"(?<![\d.,])\d{1,3}(?:[,.' ]\d{3})*(?:[.,]\d{1,2})?(?![\d])")


def money_token(value: Decimal | float | None) -> str | None:
    """The canonical token of an amount: 1234.5 -> '1234.50'."""
    if value is None:
        return None
    return f"{Decimal(str(value)).quantize(Decimal('0.01')):f}"


def tokenize(text: str) -> list[str]:
    """Tokens of a text: whole codes like 'inv/2023/03/0008' and their parts; amounts as '1234.50'.

    A word joined from capitalised parts also gives its parts ('QualityHosting' -> 'hosting').
    """
    folded = fold(text)
    out: list[str] = []
    for match in _CAMEL.finditer(text):
        out.extend(p.lower() for p in _CAMEL_PARTS.findall(match.group(0)) if len(p) >= 3)
    for match in _AMOUNT.finditer(folded):
        raw = match.group(0)
        if re.search(r"[.,]\d{2}$", raw):
            whole, frac = raw[:-3], raw[-2:]
            out.append(re.sub(r"[^\d]", "", whole) + "." + frac)
    for match in _TOKEN.finditer(folded):
        token = match.group(0)
        out.append(token)
        parts = _PARTS.findall(token)
        if len(parts) > 1:
            out.extend(parts)
            out.append("".join(parts))
    return [t for t in out if len(t) <= 64]


def term_counts(text: str) -> Counter[str]:
    """Token frequencies of a text."""
    return Counter(tokenize(text))


def _party_text(result: ExtractionResult) -> list[str]:
    inv = result.invoice
    parts = [inv.vendor.name, inv.vendor.tax_id, inv.vendor.iban, inv.vendor.email, inv.customer.name]
    return [p for p in parts if p]


def search_text(result: ExtractionResult, vendor_aliases: list[str] | None = None) -> str:
    """The text the keyword index holds for an invoice: fields first, then line items and markdown."""
    inv = result.invoice
    fields = [
        *_party_text(result),
        *(vendor_aliases or []),
        inv.invoice_number,
        inv.purchase_order,
        inv.currency,
        inv.invoice_date.isoformat() if inv.invoice_date else None,
        inv.due_date.isoformat() if inv.due_date else None,
        *(money_token(v) for v in (inv.total, inv.subtotal, inv.tax_total, inv.amount_due)),
        inv.payment_terms,
    ]
    items = [li.description for li in inv.line_items if li.description]
    head = " ".join(str(f) for f in fields if f)
    return "\n".join([head, " ".join(items), result.markdown[:MARKDOWN_CHARS]])


def embedding_text(result: ExtractionResult) -> str:
    """The text embedded for an invoice: a compact header, the line items, the start of the markdown."""
    inv = result.invoice
    head = []
    if inv.vendor.name:
        head.append(f"Vendor: {inv.vendor.name}.")
    if inv.invoice_number:
        head.append(f"Invoice {inv.invoice_number}.")
    if inv.invoice_date:
        head.append(f"Date {inv.invoice_date.isoformat()}.")
    if inv.total is not None:
        head.append(f"Total {money_token(inv.total)} {inv.currency or ''}.".replace(" .", "."))
    items = "; ".join(li.description for li in inv.line_items[:20] if li.description)
    if items:
        head.append(f"Items: {items}.")
    body = re.sub(r"[|#*`>\-]{2,}|\s+", " ", result.markdown[: EMBED_MARKDOWN_CHARS * 2])[:EMBED_MARKDOWN_CHARS]
    return " ".join(head) + "\n" + body


def flatten(text: str) -> tuple[str, str]:
    """The text on one line, and that line folded: what `snippet` searches (worth keeping per document)."""
    flat = re.sub(r"\s+", " ", _COMMENT.sub(" ", text).replace("|", " ")).strip()
    return flat, fold(flat)


def snippet(flattened: tuple[str, str], terms: list[str], width: int = 160) -> str:
    """A short window of a flattened text around the first query term found, or the start of the text."""
    flat, folded = flattened
    best = -1
    for term in terms:
        if len(term) < 2:
            continue
        pos = folded.find(term)
        if pos >= 0 and (best < 0 or pos < best):
            best = pos
    if best < 0:
        return flat[:width] + ("…" if len(flat) > width else "")
    start = max(0, best - width // 3)
    end = min(len(flat), start + width)
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")
