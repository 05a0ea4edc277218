"""Bad and unusual inputs for the API tests, built here (the invoices themselves come from tests.builders)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from tests.builders.invoices import InvoiceSpec, invoice_spec, make_invoice_pdf


def zip_holding(pdf: bytes) -> bytes:
    """A ZIP archive with one PDF stored uncompressed, its header inside the first kilobyte."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("invoice.pdf", pdf)
    return buffer.getvalue()


def encrypted_pdf() -> bytes:
    """A valid invoice PDF locked with a user password."""
    import pymupdf

    doc = pymupdf.open(stream=make_invoice_pdf(), filetype="pdf")
    data = doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")
    doc.close()
    return data


def truncated_pdf() -> bytes:
    """The first 40% of an invoice PDF."""
    data = make_invoice_pdf()
    return data[: int(len(data) * 0.4)]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (a decompression bomb's first bytes)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _chunk(b"IEND", b"")
    )


def many_pages_pdf(pages: int = 2000) -> bytes:
    """A PDF with many blank pages."""
    import pymupdf

    doc = pymupdf.open()
    for _ in range(pages):
        doc.new_page(width=200, height=200)
    data = doc.tobytes(garbage=1, deflate=True)
    doc.close()
    return data


def non_invoice_png() -> bytes:
    """A picture with shapes and no text at all."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 360), (90, 140, 200))
    draw = ImageDraw.Draw(image)
    draw.ellipse((60, 60, 220, 220), fill=(250, 220, 60))
    draw.rectangle((260, 180, 440, 330), fill=(40, 120, 40))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def two_invoices_pdf(first: InvoiceSpec, second: InvoiceSpec) -> bytes:
    """One PDF holding two invoices of two pages each."""
    import pymupdf

    out = pymupdf.open()
    for spec in (first, second):
        part = pymupdf.open(stream=make_invoice_pdf(spec, pages=2), filetype="pdf")
        out.insert_pdf(part)
        part.close()
    data = out.tobytes(garbage=3, deflate=True)
    out.close()
    return data


def spec(number: str, vendor: str = "Acme Supplies GmbH", **fields: object) -> InvoiceSpec:
    """An invoice spec with this number and vendor."""
    return invoice_spec(number=number, vendor=vendor, **fields)
