"""Synthetic invoices and receipts with exact labels, for fitting and testing the parser's scorers.

    from training.synth import generate
    for doc in generate(100, seed=1):
        doc.pdf                           # born-digital PDF with a text layer, 1-2 pages
        doc.png(dpi=150, noise="scan")    # page 1 as PNG: None (clean), "scan" or "photo"
        doc.label                         # the values, keyed like ../shared/data/dev/labels.jsonl rows
        doc.spans                         # where each labelled value was drawn (page, box in 0..1 units, text)

Document i of (seed) is the same whatever n is, so sets can grow without changing what they hold.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from training.synth import vocab
from training.synth.canvas import Canvas
from training.synth.content import Content, make_content
from training.synth.layouts import InvoiceLayout
from training.synth.receipts import ReceiptLayout
from training.synth.render import rasterize

KINDS = ("invoice", "receipt")
LANGUAGES = vocab.LANGUAGES
__all__ = ["KINDS", "LANGUAGES", "SynthDoc", "generate", "make_doc"]


@dataclass
class SynthDoc:
    """One generated document: its PDF, its labels and where each labelled value sits on the page."""

    id: str
    pdf: bytes
    label: dict
    spans: list[dict] = field(default_factory=list)
    page_count: int = 1

    def png(self, dpi: int = 150, noise: str | None = None, seed: int | None = None) -> bytes:
        """Page 1 as PNG; noise None, 'scan' or 'photo' (blur, grain, skew, light, JPEG), same bytes per seed.

        Without a seed the degradation is drawn from the document's id, so documents differ from each other.
        """
        if seed is None:
            seed = zlib.crc32(self.id.encode())
        return rasterize(self.pdf, dpi=dpi, noise=noise, seed=seed)


def _money(value) -> float | None:
    return None if value is None else float(value)


def _label(c: Content, cv: Canvas, layout: str, vendor_in_logo: bool) -> dict:
    printed = {s.field: s.text for s in cv.spans}
    v = c.vendor
    tax_known = c.kind == "invoice" or "tax" in printed
    # the seller's name as the page prints it: its legal name, else the trade name its header shows
    vendor = v.brand if "vendor" not in printed and "vendor_brand" in printed else v.name
    return {
        "dataset": "synth",
        "vendor": vendor,
        "customer": c.customer.name if c.customer else None,
        "invoice_number": c.number,
        "date": c.date.isoformat(),
        "due_date": c.due_date.isoformat() if c.due_date and "due_date" in printed else None,
        "total": _money(c.total),
        "subtotal": _money(c.subtotal) if tax_known else None,
        "tax": _money(c.tax) if tax_known else None,
        "currency": c.currency,
        "language": c.language,
        "layout": layout,
        "kind": c.kind,
        "country": c.country,
        "vendor_tax_id": v.tax.tax_id if v.tax and "vendor_tax_id" in printed else None,
        "vendor_iban": v.iban if "vendor_iban" in printed else None,
        "vendor_email": v.email if "vendor_email" in printed else None,
        "vendor_web": v.web if "vendor_web" in printed else None,
        "vendor_phone": v.phone if "vendor_phone" in printed else None,
        "date_order": c.date_order,
        "vendor_in_logo": vendor_in_logo,
        "rounding": _money(c.rounding) if c.rounding else None,
        "amount_due": _money(c.amount_due),
        "line_items": [
            {
                "description": it.description,
                "quantity": float(it.quantity),
                "unit_price": float(it.unit_price),
                "amount": float(it.amount),
            }
            for it in c.items
        ],
    }


def make_doc(seed: int, index: int, kind: str, language: str) -> SynthDoc:
    """Document `index` of a seed, of the given kind and language."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose from {KINDS}")
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; choose from {LANGUAGES}")
    rng = random.Random(f"synth/{seed}/{index}")
    content = make_content(rng, kind, language)
    layout: InvoiceLayout | ReceiptLayout
    if kind == "invoice":
        layout = InvoiceLayout(content, rng)
        canvas = layout.draw()
        name = layout.family
    else:
        layout = ReceiptLayout(content, rng)
        canvas = layout.draw()
        name = layout.layout
    spans = []
    for s in canvas.spans:
        page = canvas.pages[s.page - 1]
        x0, y0, x1, y1 = s.bbox
        box = [round(x0 / page.width, 4), round(y0 / page.height, 4), round(x1 / page.width, 4),
               round(y1 / page.height, 4)]  # fmt: skip
        spans.append({"field": s.field, "page": s.page, "bbox": box, "text": s.text})
    label = _label(content, canvas, name, layout.vendor_in_logo)
    return SynthDoc(id=f"synth-{seed}-{index}", pdf=canvas.to_pdf(), label=label, spans=spans,
                    page_count=len(canvas.pages))  # fmt: skip


def generate(n: int, seed: int, kinds: tuple[str, ...] = KINDS, languages: tuple[str, ...] = LANGUAGES
             ) -> Iterator[SynthDoc]:  # fmt: skip
    """n documents cycling through every (kind, language) pair; deterministic in (seed, index)."""
    kinds, languages = tuple(kinds), tuple(languages)
    if not kinds or not languages:
        raise ValueError("kinds and languages must not be empty")
    for i in range(n):
        kind = kinds[i % len(kinds)]
        language = languages[(i // len(kinds)) % len(languages)]
        yield make_doc(seed, i, kind, language)
