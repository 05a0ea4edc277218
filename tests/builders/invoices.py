"""Documents the tests build themselves: invoice PDFs (text or image pages), CII XML, raster renderings.

Everything is generated with PyMuPDF and Pillow; nothing is read from disk or the network.

    spec = InvoiceSpec(vendor="Muster GmbH", number="RE-7", language="de", currency="EUR")
    pdf = make_invoice_pdf(spec)                          # one born-digital page with a line-item table
    pdf = make_invoice_pdf(spec, pages=3, totals_on_page=3, image_pages={2})
    xml = make_cii_xml(spec)                              # Factur-X / ZUGFeRD 2 CII (or version=1)
    pdf = make_invoice_pdf(spec, embed_xml=xml)           # Factur-X: the XML attached as factur-x.xml
    png = render_png(pdf, page=1, dpi=200)
"""

from __future__ import annotations

import datetime as dt
import io
import zlib
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "INVOICE", "number": "Invoice No:", "date": "Invoice Date:", "due": "Due Date:",
        "po": "PO Number:", "bill_to": "Bill To:", "description": "Description", "qty": "Qty",
        "price": "Unit Price", "amount": "Amount", "subtotal": "Subtotal", "tax": "VAT", "total": "Total",
        "vat_id": "VAT ID:", "iban": "IBAN:", "terms": "Payment terms:", "continued": "continued on next page",
    },
    "de": {
        "title": "RECHNUNG", "number": "Rechnungsnummer:", "date": "Rechnungsdatum:", "due": "Fällig am:",
        "po": "Bestellnummer:", "bill_to": "Rechnungsempfänger:", "description": "Beschreibung", "qty": "Menge",
        "price": "Einzelpreis", "amount": "Betrag", "subtotal": "Zwischensumme", "tax": "MwSt",
        "total": "Gesamtbetrag", "vat_id": "USt-IdNr.:", "iban": "IBAN:", "terms": "Zahlungsbedingungen:",
        "continued": "Fortsetzung auf der nächsten Seite",
    },
    "fr": {
        "title": "FACTURE", "number": "N° de facture :", "date": "Date de facture :", "due": "Échéance :",
        "po": "N° de commande :", "bill_to": "Facturé à :", "description": "Désignation", "qty": "Qté",
        "price": "Prix unitaire", "amount": "Montant", "subtotal": "Total HT", "tax": "TVA",
        "total": "Montant TTC", "vat_id": "N° TVA :", "iban": "IBAN :", "terms": "Conditions de paiement :",
        "continued": "suite page suivante",
    },
    "nl": {
        "title": "FACTUUR", "number": "Factuurnummer:", "date": "Factuurdatum:", "due": "Vervaldatum:",
        "po": "Ordernummer:", "bill_to": "Factuuradres:", "description": "Omschrijving", "qty": "Aantal",
        "price": "Prijs", "amount": "Bedrag", "subtotal": "Subtotaal", "tax": "BTW", "total": "Totaal",
        "vat_id": "BTW-nummer:", "iban": "IBAN:", "terms": "Betalingsvoorwaarden:",
        "continued": "vervolg op volgende pagina",
    },
    "es": {
        "title": "FACTURA", "number": "N.º de factura:", "date": "Fecha de factura:", "due": "Vencimiento:",
        "po": "N.º de pedido:", "bill_to": "Facturar a:", "description": "Descripción", "qty": "Cant.",
        "price": "Precio unitario", "amount": "Importe", "subtotal": "Base imponible", "tax": "IVA",
        "total": "Importe total", "vat_id": "NIF:", "iban": "IBAN:", "terms": "Condiciones de pago:",
        "continued": "continúa en la página siguiente",
    },
    "it": {
        "title": "FATTURA", "number": "Numero fattura:", "date": "Data fattura:", "due": "Scadenza:",
        "po": "Numero ordine:", "bill_to": "Spett.le", "description": "Descrizione", "qty": "Q.tà",
        "price": "Prezzo unitario", "amount": "Importo", "subtotal": "Imponibile", "tax": "IVA",
        "total": "Totale documento", "vat_id": "Partita IVA:", "iban": "IBAN:", "terms": "Condizioni di pagamento:",
        "continued": "continua alla pagina successiva",
    },
}  # fmt: skip

DATE_FORMATS = {
    "en": "%d %B %Y", "de": "%d.%m.%Y", "fr": "%d/%m/%Y", "nl": "%d-%m-%Y", "es": "%d/%m/%Y", "it": "%d/%m/%Y",
}  # fmt: skip


@dataclass
class InvoiceSpec:
    """What an invoice says; totals are computed from the lines (Decimal, rounded to cents)."""

    vendor: str = "Acme Supplies GmbH"
    vendor_address: str = "Hauptstrasse 1, 10115 Berlin, DE"
    vendor_vat: str = "DE123456789"
    vendor_email: str = "billing@acme.example"
    vendor_phone: str = "+49 30 1234567"
    iban: str = "DE89370400440532013000"
    customer: str = "Globex Corporation"
    customer_address: str = "1 Main Street, 12345 Springfield, US"
    number: str = "INV-2024-0042"
    date: dt.date = dt.date(2024, 3, 5)
    due_date: dt.date | None = dt.date(2024, 4, 4)
    purchase_order: str | None = "PO-7781"
    currency: str = "EUR"
    # (description, quantity, unit price)
    lines: list[tuple[str, Decimal, Decimal]] = field(
        default_factory=lambda: [
            ("Widget A", Decimal("2"), Decimal("100.00")),
            ("Gadget B", Decimal("1"), Decimal("50.00")),
            ("Consulting hour", Decimal("3"), Decimal("80.00")),
        ]
    )
    tax_rate: Decimal = Decimal("19")
    payment_terms: str = "Net 30 days"
    language: str = "en"

    def line_amount(self, quantity: Decimal, price: Decimal) -> Decimal:
        """One line's amount, rounded to cents."""
        return (quantity * price).quantize(CENT, ROUND_HALF_UP)

    @property
    def subtotal(self) -> Decimal:
        """Sum of the line amounts."""
        return sum((self.line_amount(q, p) for _, q, p in self.lines), Decimal("0.00"))

    @property
    def tax(self) -> Decimal:
        """Tax on the subtotal at `tax_rate`."""
        return (self.subtotal * self.tax_rate / 100).quantize(CENT, ROUND_HALF_UP)

    @property
    def total(self) -> Decimal:
        """Subtotal plus tax."""
        return self.subtotal + self.tax

    def labels(self) -> dict[str, str]:
        """The printed labels in this spec's language."""
        return LABELS[self.language]

    def money(self, value: Decimal) -> str:
        """An amount as printed: 1,234.56 EUR in English, 1.234,56 EUR otherwise."""
        text = f"{value:,.2f}"
        if self.language != "en":
            text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return f"{text} {self.currency}"

    def printed_date(self, value: dt.date) -> str:
        """A date as printed in this spec's language."""
        return value.strftime(DATE_FORMATS[self.language]).lstrip("0")


def invoice_spec(**fields: object) -> InvoiceSpec:
    """An InvoiceSpec with some fields changed.

    Another vendor gets its own tax id, e-mail and phone unless they are given: vendors that shared
    them would be one vendor to the history, which recognises a vendor by its identifiers.
    """
    vendor = fields.get("vendor")
    if isinstance(vendor, str) and vendor != InvoiceSpec.vendor:
        digits = f"{zlib.crc32(vendor.encode()):010d}"[-9:]
        domain = "".join(ch for ch in vendor.lower() if ch.isalnum()) or "vendor"
        fields.setdefault("vendor_vat", f"DE{digits}")
        fields.setdefault("vendor_email", f"billing@{domain}.example")
        fields.setdefault("vendor_phone", f"+49 30 {digits[:7]}")
    return replace(InvoiceSpec(), **fields)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------
# PDF


A4 = (595.0, 842.0)
COLUMNS = (50.0, 300.0, 370.0, 470.0)  # description, qty, unit price, amount


def _header(page: object, spec: InvoiceSpec) -> float:
    lab = spec.labels()
    put = page.insert_text  # type: ignore[attr-defined]
    put((50, 60), spec.vendor, fontsize=16)
    put((50, 78), spec.vendor_address, fontsize=9)
    contact = [f"{lab['vat_id']} {spec.vendor_vat}" if spec.vendor_vat else None, spec.vendor_email, spec.vendor_phone]
    put((50, 90), "   ".join(part for part in contact if part), fontsize=9)  # what the vendor has, no "None"
    put((50, 130), lab["title"], fontsize=22)
    y = 160.0
    facts = [(lab["number"], spec.number), (lab["date"], spec.printed_date(spec.date))]
    if spec.due_date:
        facts.append((lab["due"], spec.printed_date(spec.due_date)))
    if spec.purchase_order:
        facts.append((lab["po"], spec.purchase_order))
    for label, value in facts:
        put((50, y), label, fontsize=10)
        put((170, y), value, fontsize=10)
        y += 15
    put((350, 160), lab["bill_to"], fontsize=10)
    put((350, 175), spec.customer, fontsize=10)
    put((350, 190), spec.customer_address, fontsize=9)
    return y + 25


def _table(page: object, spec: InvoiceSpec, y: float) -> float:
    lab = spec.labels()
    put = page.insert_text  # type: ignore[attr-defined]
    for x, text in zip(COLUMNS, (lab["description"], lab["qty"], lab["price"], lab["amount"]), strict=True):
        put((x, y), text, fontsize=10)
    y += 18
    for description, quantity, price in spec.lines:
        cells = (
            description,
            f"{quantity.normalize():f}",
            spec.money(price),
            spec.money(spec.line_amount(quantity, price)),
        )
        for x, text in zip(COLUMNS, cells, strict=True):
            put((x, y), text, fontsize=10)
        y += 15
    return y + 15


def _totals(page: object, spec: InvoiceSpec, y: float) -> float:
    lab = spec.labels()
    put = page.insert_text  # type: ignore[attr-defined]
    rows = [
        (lab["subtotal"], spec.money(spec.subtotal)),
        (f"{lab['tax']} {spec.tax_rate.normalize():f}%", spec.money(spec.tax)),
        (lab["total"], spec.money(spec.total)),
    ]
    for label, value in rows:
        put((COLUMNS[2], y), label, fontsize=11 if label == lab["total"] else 10)
        put((COLUMNS[3], y), value, fontsize=11 if label == lab["total"] else 10)
        y += 16
    put((50, y + 20), f"{lab['terms']} {spec.payment_terms}", fontsize=9)
    if spec.iban:
        put((50, y + 34), f"{lab['iban']} {spec.iban}", fontsize=9)
    return y + 50


def make_invoice_pdf(
    spec: InvoiceSpec | None = None,
    *,
    pages: int = 1,
    totals_on_page: int | None = None,
    image_pages: set[int] | frozenset[int] = frozenset(),
    embed_xml: bytes | None = None,
    xml_name: str = "factur-x.xml",
    image_dpi: int = 150,
) -> bytes:
    """An A4 invoice PDF: header and line items on page 1, totals on `totals_on_page` (default: last page).

    Pages in between carry a short notice. Pages in `image_pages` are replaced by a raster image of
    themselves (no text layer), as a scan would be. `embed_xml` is attached as `xml_name` (Factur-X).
    """
    import pymupdf

    spec = spec or InvoiceSpec()
    totals_on_page = totals_on_page or pages
    doc = pymupdf.open()
    for number in range(1, pages + 1):
        page = doc.new_page(width=A4[0], height=A4[1])
        y = 60.0
        if number == 1:
            y = _table(page, spec, _header(page, spec))
        else:
            page.insert_text((50, y), f"{spec.vendor}  -  {spec.labels()['number']} {spec.number}", fontsize=10)
            y += 30
        if number == totals_on_page:
            _totals(page, spec, y)
        elif number < pages:
            page.insert_text((50, A4[1] - 60), spec.labels()["continued"], fontsize=9)
        page.insert_text((A4[0] - 90, A4[1] - 30), f"{number} / {pages}", fontsize=8)
    for number in sorted(image_pages):
        _rasterize_page(doc, number, image_dpi)
    if embed_xml is not None:
        doc.embfile_add(xml_name, embed_xml, filename=xml_name)
    data = doc.tobytes(garbage=3, deflate=True)
    doc.close()
    return data


def _rasterize_page(doc: object, number: int, dpi: int) -> None:
    """Replace page `number` by an image of itself (no text layer)."""
    import pymupdf

    page = doc[number - 1]  # type: ignore[index]
    pix = page.get_pixmap(dpi=dpi, alpha=False)
    rect = page.rect
    doc.delete_page(number - 1)  # type: ignore[attr-defined]
    new = doc.new_page(pno=number - 1, width=rect.width, height=rect.height)  # type: ignore[attr-defined]
    new.insert_image(pymupdf.Rect(0, 0, rect.width, rect.height), pixmap=pix)


def blank_pdf(pages: int) -> bytes:
    """Pages with nothing on them: no text layer, so every page goes to OCR (the slow path)."""
    import pymupdf

    doc = pymupdf.open()
    for _ in range(pages):
        doc.new_page()
    data = doc.tobytes()
    doc.close()
    return data


def render_png(pdf: bytes, page: int = 1, dpi: int = 200) -> bytes:
    """One PDF page rendered to PNG bytes."""
    return render_image(pdf, page=page, dpi=dpi, fmt="PNG")


def render_image(pdf: bytes, page: int = 1, dpi: int = 200, fmt: str = "PNG", **save: object) -> bytes:
    """One PDF page rendered with Pillow to `fmt` (PNG, JPEG, WEBP, TIFF)."""

    image = render_pil(pdf, page, dpi)
    out = io.BytesIO()
    (image.convert("RGB") if fmt.upper() == "JPEG" else image).save(out, format=fmt, **save)
    return out.getvalue()


def render_pil(pdf: bytes, page: int = 1, dpi: int = 200) -> object:
    """One PDF page as a PIL RGB image."""
    import pymupdf
    from PIL import Image

    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        pix = doc[page - 1].get_pixmap(dpi=dpi, alpha=False)
        return Image.frombytes("RGB", (pix.width, pix.height), pix.samples)


def make_tiff(pdf: bytes, dpi: int = 100) -> bytes:
    """Every page of a PDF as one multi-frame TIFF."""
    import pymupdf

    frames = [render_pil(pdf, n + 1, dpi) for n in range(pymupdf.open(stream=pdf, filetype="pdf").page_count)]
    out = io.BytesIO()
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:])  # type: ignore[attr-defined]
    return out.getvalue()


def add_dark_margins(png: bytes, border: int = 60, shade: int = 20) -> bytes:
    """A scan-like copy of an image framed by a dark border of `border` pixels."""
    from PIL import Image, ImageOps

    image = Image.open(io.BytesIO(png)).convert("RGB")
    framed = ImageOps.expand(image, border=border, fill=(shade, shade, shade))
    out = io.BytesIO()
    framed.save(out, format="PNG")
    return out.getvalue()
