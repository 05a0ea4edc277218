"""load_document: types sniffed from bytes, every page and frame, limits, and clear errors for bad input."""

from __future__ import annotations

import io
import struct
import zlib

import pymupdf
import pytest
from PIL import Image

from extraction.documents import MEDIA_PDF, MEDIA_XML, load_document
from tests.builders import (
    InvoiceSpec,
    make_cii_xml,
    make_invoice_pdf,
    make_settings,
    make_tiff,
    make_ubl_xml,
    render_image,
)
from utils.errors import DocumentTooLarge, EncryptedDocument, UnreadableDocument, UnsupportedDocument
from utils.settings import Settings


@pytest.fixture(scope="module")
def settings() -> Settings:
    return make_settings()


@pytest.fixture(scope="module")
def pdf3() -> bytes:
    return make_invoice_pdf(pages=3, totals_on_page=3)


def test_pdf_every_page(settings: Settings, pdf3: bytes) -> None:
    doc = load_document(pdf3, "invoice.pdf", settings)
    assert doc.media_type == MEDIA_PDF
    assert doc.page_count == 3
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert doc.pages[0].width == pytest.approx(595) and doc.pages[0].height == pytest.approx(842)
    assert doc.xml is None
    assert doc.pages[2].text_char_count() > 20
    image = doc.pages[2].render(72)
    assert image.mode == "RGB" and image.size == (595, 842)


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("TIFF", "image/tiff")],
)
def test_images_sniffed_from_bytes_not_name(settings: Settings, pdf3: bytes, fmt: str, media_type: str) -> None:
    data = render_image(pdf3, page=1, dpi=60, fmt=fmt)
    # A misleading name: the bytes decide.
    doc = load_document(data, "scan.pdf", settings)
    assert doc.media_type == media_type
    assert doc.page_count == 1
    assert doc.pages[0].width == pytest.approx(496, abs=2)
    assert doc.pages[0].render(200).size == (int(doc.pages[0].width), int(doc.pages[0].height))
    assert doc.pages[0].text_char_count() == 0


def test_tiff_every_frame(settings: Settings, pdf3: bytes) -> None:
    doc = load_document(make_tiff(pdf3, dpi=40), "scan.tif", settings)
    assert doc.media_type == "image/tiff"
    assert doc.page_count == 3
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert all(p.render(200).mode == "RGB" for p in doc.pages)


@pytest.mark.parametrize("builder", [make_cii_xml, make_ubl_xml])
def test_xml_einvoice_file(settings: Settings, builder) -> None:
    xml = builder(InvoiceSpec())
    doc = load_document(xml, "invoice.txt", settings)
    assert doc.media_type == MEDIA_XML
    assert doc.xml == xml
    assert doc.page_count == 1


def test_pdf_with_embedded_facturx(settings: Settings) -> None:
    xml = make_cii_xml(InvoiceSpec())
    doc = load_document(make_invoice_pdf(embed_xml=xml), "facturx.pdf", settings)
    assert doc.xml == xml
    assert doc.xml_name == "factur-x.xml"


def test_pdf_with_unrelated_attachment_has_no_xml(settings: Settings) -> None:
    data = make_invoice_pdf(embed_xml=b"<notes><note>hello</note></notes>", xml_name="notes.xml")
    assert load_document(data, "a.pdf", settings).xml is None


def test_empty_file(settings: Settings) -> None:
    with pytest.raises(UnreadableDocument, match="empty"):
        load_document(b"", "empty.pdf", settings)


def test_truncated_pdf(settings: Settings, pdf3: bytes) -> None:
    with pytest.raises(UnreadableDocument, match="not a readable PDF"):
        load_document(pdf3[: len(pdf3) // 2], "truncated.pdf", settings)


def test_encrypted_pdf(settings: Settings, pdf3: bytes) -> None:
    with pymupdf.open(stream=pdf3, filetype="pdf") as doc:
        encrypted = doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", user_pw="secret")
    with pytest.raises(EncryptedDocument, match="password"):
        load_document(encrypted, "locked.pdf", settings)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height, with a tiny (incomplete) IDAT: nothing to decode."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_decompression_bomb_refused_before_decoding(settings: Settings) -> None:
    data = _png_header_only(30000, 30000)
    assert len(data) < 200
    with pytest.raises(DocumentTooLarge, match="30000x30000"):
        load_document(data, "bomb.png", settings)


def test_text_file_named_pdf(settings: Settings) -> None:
    with pytest.raises(UnsupportedDocument):
        load_document(b"Invoice 42\nTotal 100.00 EUR\n" * 10, "invoice.pdf", settings)


def test_xml_that_is_not_an_einvoice(settings: Settings) -> None:
    with pytest.raises(UnsupportedDocument):
        load_document(b"<?xml version='1.0'?><html><body>hi</body></html>", "page.xml", settings)


def test_page_limit(pdf3: bytes) -> None:
    with pytest.raises(DocumentTooLarge, match="3 pages"):
        load_document(pdf3, "a.pdf", make_settings(max_pages=2))
    assert load_document(pdf3, "a.pdf", make_settings(max_pages=3)).page_count == 3


def test_frame_limit(pdf3: bytes) -> None:
    with pytest.raises(DocumentTooLarge, match="frames"):
        load_document(make_tiff(pdf3, dpi=30), "a.tif", make_settings(max_pages=2))


def test_byte_limit(pdf3: bytes) -> None:
    with pytest.raises(DocumentTooLarge, match="bytes"):
        load_document(pdf3, "a.pdf", make_settings(max_bytes=len(pdf3) - 1))
    assert load_document(pdf3, "a.pdf", make_settings(max_bytes=len(pdf3))).page_count == 3


def test_pixel_limit_on_image() -> None:
    image = Image.new("RGB", (300, 200), "white")
    out = io.BytesIO()
    image.save(out, format="PNG")
    with pytest.raises(DocumentTooLarge, match="pixels"):
        load_document(out.getvalue(), "a.png", make_settings(max_pixels=300 * 200 - 1))


def _bilevel_tiff(frames: int, side: int) -> bytes:
    # Group 4 compresses a blank frame to a few bytes: many large frames in a small file.
    frame = Image.new("1", (side, side), 1)
    out = io.BytesIO()
    frame.save(out, format="TIFF", save_all=True, append_images=[frame] * (frames - 1), compression="group4")
    return out.getvalue()


def test_frames_over_the_document_pixel_budget_are_refused_before_decoding() -> None:
    # 300 frames of 59 Mpx in 1.2 MB passed every per-frame limit and were all decoded up front (7.3 GB).
    data = _bilevel_tiff(4, 1000)
    budget = make_settings(max_pixels=1_000_000, max_document_pixels=3_999_999)
    with pytest.raises(DocumentTooLarge, match="4000000 pixels") as info:
        load_document(data, "fax.tif", budget)
    assert "3999999" in info.value.message
    doc = load_document(data, "fax.tif", make_settings(max_pixels=1_000_000, max_document_pixels=4_000_000))
    assert doc.page_count == 4 and doc.pages[3].render(200).size == (1000, 1000)


def test_pdf_render_capped_by_pixel_limit(pdf3: bytes) -> None:
    doc = load_document(pdf3, "a.pdf", make_settings(max_pixels=1_000_000))
    width, height = doc.pages[0].render(600).size
    assert width * height <= 1_000_000 * 1.01
