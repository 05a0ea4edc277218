"""The CPU engines on documents the tests generate: text layer, RapidOCR, Tesseract, e-invoice XML, auto."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import ClassVar

import pymupdf
import pytest
from PIL import Image

from extraction.documents import load_document
from extraction.engines import registry
from extraction.engines.base import Availability, EngineOptions, OcrEngine
from extraction.engines.einvoice import parse_einvoice
from extraction.engines.registry import _extra, get_engine, register
from extraction.engines.tesseract import INSTALL_HINT, crop_dark_margins
from extraction.engines.textlayer import text_is_real
from extraction.markdown import PageMarkdown, TextLine
from extraction.options import ExtractOptions
from extraction.pipeline import fallback_failed_pages, read_pages
from tests.builders import (
    InvoiceSpec,
    add_dark_margins,
    make_cii_xml,
    make_invoice_pdf,
    make_settings,
    make_ubl_xml,
    render_png,
)
from tests.extraction.engine_contract import EngineContract, FailedPagesContract
from utils.errors import EngineFailed, UnreadableDocument
from utils.settings import Settings

SPEC = InvoiceSpec()


@pytest.fixture(scope="module")
def settings() -> Settings:
    return make_settings(raster_engine="rapidocr", ocr_threads=2)


@pytest.fixture(scope="module")
def invoice_pdf() -> bytes:
    return make_invoice_pdf(SPEC)


@pytest.fixture(scope="module")
def invoice_png(invoice_pdf: bytes) -> bytes:
    return render_png(invoice_pdf, dpi=200)


def _lines(pages: list[PageMarkdown]) -> list[TextLine]:
    return [line for page in pages for line in page.lines()]


def _find(pages: list[PageMarkdown], needle: str) -> TextLine:
    for line in _lines(pages):
        if needle in line.text.replace(" ", ""):
            return line
    raise AssertionError(f"{needle!r} not found in:\n" + "\n".join(line.text for line in _lines(pages)))


def _center(box: tuple[float, float, float, float]) -> tuple[float, float]:
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def _assert_boxes_inside(pages: list[PageMarkdown]) -> None:
    for page in pages:
        for block in page.blocks:
            for box in [block.bbox, *(block.row_bboxes or [])]:
                if box is None:
                    continue
                x0, y0, x1, y1 = box
                assert 0.0 <= x0 <= x1 <= 1.0 and 0.0 <= y0 <= y1 <= 1.0, (page.engine, box)


# --- text layer -----------------------------------------------------------------------------------


def test_textlayer_lines_table_and_boxes(settings: Settings, invoice_pdf: bytes) -> None:
    doc = load_document(invoice_pdf, "invoice.pdf", settings)
    engine = get_engine("textlayer", settings)
    assert engine.accepts(doc, doc.pages[0])
    pages = engine.recognize(doc, doc.pages, EngineOptions())
    assert len(pages) == 1 and pages[0].engine == "textlayer" and pages[0].number == 1
    blocks = pages[0].blocks
    assert any(b.kind == "heading" and b.text == "INVOICE" for b in blocks)
    tables = [b for b in blocks if b.kind == "table"]
    items = next(t for t in tables if ["Description", "Qty", "Unit Price", "Amount"] in (t.rows or []))
    assert ["Widget A", "2", "100.00 EUR", "200.00 EUR"] in items.rows
    assert ["Consulting hour", "3", "80.00 EUR", "240.00 EUR"] in items.rows
    assert len(items.row_bboxes or []) == len(items.rows or [])
    # Rows go down the page in order.
    tops = [box[1] for box in items.row_bboxes or []]
    assert tops == sorted(tops)
    number = _find(pages, SPEC.number)
    assert number.bbox is not None
    # Its row starts with the label at x = 50 pt, baseline y = 160 pt, on a 595 x 842 pt page.
    assert number.cells == ["Invoice No:", SPEC.number, "Bill To:"]
    assert number.bbox[0] == pytest.approx(50 / 595, abs=0.01)
    assert _center(number.bbox)[1] == pytest.approx(156 / 842, abs=0.015)
    total = _find(pages, "583.10")
    assert "Total" in total.text
    _assert_boxes_inside(pages)
    markdown = pages[0].to_markdown()
    assert "| Widget A | 2 | 100.00 EUR | 200.00 EUR |" in markdown


def test_textlayer_rejects_image_only_page(settings: Settings) -> None:
    doc = load_document(make_invoice_pdf(SPEC, pages=2, image_pages={2}, image_dpi=60), "mixed.pdf", settings)
    engine = get_engine("textlayer", settings)
    assert engine.accepts(doc, doc.pages[0])
    assert not engine.accepts(doc, doc.pages[1])
    page2 = engine.recognize(doc, [doc.pages[1]], EngineOptions())[0]
    assert page2.blocks == [] and page2.number == 2


def test_textlayer_declines_a_scan_with_a_short_text_stamp(settings: Settings) -> None:
    pdf = make_invoice_pdf(SPEC, pages=2, image_pages={1, 2}, image_dpi=50)
    with pymupdf.open(stream=pdf, filetype="pdf") as stamped:
        stamped[0].insert_text((20, 20), "Scanned by the office scanner on 2024-03-05, page 1", fontsize=8)
        pdf = stamped.tobytes()
    doc = load_document(pdf, "scan.pdf", settings)
    assert doc.pages[0].text_char_count() > 20
    assert not get_engine("textlayer", settings).accepts(doc, doc.pages[0])
    assert get_engine("auto", settings).choose(doc, doc.pages[0]) == settings.raster_engine


def test_textlayer_declines_images(settings: Settings, invoice_png: bytes) -> None:
    doc = load_document(invoice_png, "scan.png", settings)
    assert not get_engine("textlayer", settings).accepts(doc, doc.pages[0])


@pytest.mark.parametrize(
    ("text", "real"),
    [
        ("Invoice 42 total 100.00 EUR due 2024-03-05", True),
        ("short text", False),
        ("\ufffd" * 30 + "abc", False),
        ("\ue000\ue001\ue002" * 10, False),
        ("... --- ;;; ,,, ... --- ;;; ,,, !!!", False),
    ],
)
def test_text_is_real(text: str, real: bool) -> None:
    assert text_is_real(text) is real


def test_textlayer_languages_and_labels(settings: Settings) -> None:
    spec = InvoiceSpec(language="de", number="RE-2024-17", vendor="Muster GmbH")
    doc = load_document(make_invoice_pdf(spec), "rechnung.pdf", settings)
    pages = get_engine("textlayer", settings).recognize(doc, doc.pages, EngineOptions())
    assert "Rechnungsnummer:" in _find(pages, "RE-2024-17").text
    assert "Gesamtbetrag" in _find(pages, "583,10EUR").text


# --- raster engines -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rapidocr", "tesseract"])
def test_raster_engine_reads_rendered_invoice(settings: Settings, invoice_pdf: bytes, invoice_png: bytes, name: str):
    engine = get_engine(name, settings)
    assert engine.available(), engine.available().reason
    doc = load_document(invoice_png, "invoice.png", settings)
    pages = engine.recognize(doc, doc.pages, EngineOptions(dpi=200))
    assert len(pages) == 1 and pages[0].engine == name
    assert (pages[0].width, pages[0].height) == (doc.pages[0].width, doc.pages[0].height)
    _assert_boxes_inside(pages)

    pdf_doc = load_document(invoice_pdf, "invoice.pdf", settings)
    reference = get_engine("textlayer", settings).recognize(pdf_doc, pdf_doc.pages, EngineOptions())
    for needle in (SPEC.number, "583.10", "Widget", "Globex"):
        got, want = _find(pages, needle), _find(reference, needle)
        assert got.bbox is not None and want.bbox is not None
        # The OCR line sits where the text layer says the words are.
        assert _center(got.bbox)[1] == pytest.approx(_center(want.bbox)[1], abs=0.02), needle
        assert got.confidence is not None and 0.3 < got.confidence <= 1.0
    # Columns stay apart: the item row keeps its cells.
    row = _find(pages, "WidgetA")
    assert row.cells is not None and len(row.cells) >= 3


def test_rapidocr_downscales_large_images(settings: Settings, invoice_pdf: bytes) -> None:
    from extraction.engines.rapid import RapidOcrOptions

    doc = load_document(render_png(invoice_pdf, dpi=150), "invoice.png", settings)
    engine = get_engine("rapidocr", settings)
    pages = engine.recognize(doc, doc.pages, RapidOcrOptions(max_side=1000))
    assert any("downscaled" in note for note in pages[0].notes)
    line = _find(pages, SPEC.number)
    assert _center(line.bbox)[1] == pytest.approx(156 / 842, abs=0.02)


def test_crop_dark_margins() -> None:
    image = Image.new("RGB", (400, 300), "white")
    framed = Image.new("RGB", (480, 380), (10, 10, 10))
    framed.paste(image, (40, 40))
    cropped, (dx, dy) = crop_dark_margins(framed)
    assert 40 <= dx <= 44 and 40 <= dy <= 44
    assert 390 <= cropped.width <= 400 and 290 <= cropped.height <= 300
    # A narrow receipt on a dark table: the side borders do not make its rows look dark.
    receipt = Image.new("RGB", (300, 400), (15, 15, 15))
    receipt.paste(Image.new("RGB", (100, 300), "white"), (100, 50))
    cropped, (dx, dy) = crop_dark_margins(receipt)
    assert 100 <= dx <= 104 and 50 <= dy <= 54 and 94 <= cropped.width <= 100 and 294 <= cropped.height <= 300
    # A clean page is left alone.
    same, offset = crop_dark_margins(image)
    assert same.size == image.size and offset == (0, 0)


def test_tesseract_reads_scan_with_dark_margins(settings: Settings, invoice_pdf: bytes) -> None:
    scan = add_dark_margins(render_png(invoice_pdf, dpi=150), border=80)
    doc = load_document(scan, "scan.png", settings)
    pages = get_engine("tesseract", settings).recognize(doc, doc.pages, EngineOptions())
    assert any("dark margins" in note for note in pages[0].notes)
    line = _find(pages, SPEC.number)
    # Boxes are in the coordinates of the whole (uncropped) image.
    # The number's row starts with its label, printed at x = 50 pt.
    x_expected = (80 + 50 * 150 / 72) / doc.pages[0].width
    assert line.bbox[0] == pytest.approx(x_expected, abs=0.03)


def test_tesseract_unavailable_says_how_to_install(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import extraction.engines.tesseract as tesseract_module

    monkeypatch.setattr(tesseract_module.shutil, "which", lambda name: None)
    availability = get_engine("tesseract", settings).available()
    assert not availability and availability.reason == INSTALL_HINT


# --- e-invoice ------------------------------------------------------------------------------------


def _check_exact(invoice, spec: InvoiceSpec) -> None:
    assert invoice.invoice_number == spec.number
    assert invoice.invoice_date == spec.date
    assert invoice.currency == spec.currency
    assert invoice.vendor.name == spec.vendor
    assert invoice.vendor.tax_id == spec.vendor_vat
    assert invoice.vendor.iban == spec.iban
    assert invoice.customer.name == spec.customer
    assert invoice.subtotal == Decimal("490.00")
    assert invoice.tax_total == Decimal("93.10")
    assert invoice.total == Decimal("583.10")
    assert isinstance(invoice.total, Decimal)
    assert [(i.description, i.quantity, i.unit_price, i.amount) for i in invoice.line_items] == [
        ("Widget A", Decimal("2"), Decimal("100.00"), Decimal("200.00")),
        ("Gadget B", Decimal("1"), Decimal("50.00"), Decimal("50.00")),
        ("Consulting hour", Decimal("3"), Decimal("80.00"), Decimal("240.00")),
    ]
    assert [(t.rate, t.base, t.amount) for t in invoice.tax_lines] == [
        (Decimal("19"), Decimal("490.00"), Decimal("93.10"))
    ]


def test_einvoice_facturx_embedded_in_pdf(settings: Settings) -> None:
    spec = InvoiceSpec(currency="EUR", due_date=dt.date(2024, 4, 4))
    doc = load_document(make_invoice_pdf(spec, pages=2, embed_xml=make_cii_xml(spec)), "fx.pdf", settings)
    engine = get_engine("einvoice", settings)
    assert engine.accepts(doc, doc.pages[0])
    page = engine.recognize(doc, [doc.pages[0]], EngineOptions())[0]
    assert page.engine == "einvoice" and page.number == 1 and page.failure is None
    invoice = page.invoice
    assert invoice is not None
    _check_exact(invoice, spec)
    assert invoice.due_date == dt.date(2024, 4, 4)
    assert invoice.purchase_order == spec.purchase_order
    assert invoice.amount_due == Decimal("583.10")
    assert invoice.vendor.email == spec.vendor_email and invoice.vendor.phone == spec.vendor_phone
    assert invoice.vendor.address == "Hauptstrasse 1, 10115 Berlin, DE"
    assert invoice.payment_terms == spec.payment_terms
    fields = page.invoice_fields or {}
    total = fields["total"]
    assert total.confidence == 1.0 and total.page == 1 and total.bbox is None
    assert "GrandTotalAmount" in total.source and "factur-x.xml" in total.source
    assert fields["invoice_date"].value == "2024-03-05"
    markdown = page.to_markdown()
    assert markdown.startswith(f"# Invoice {spec.number}")
    assert "| Widget A | 2 | 100.00 | 19 | 200.00 |" in markdown
    assert "| Total | 583.10 EUR |" in markdown


def test_einvoice_zugferd_v1_xml_file(settings: Settings) -> None:
    spec = InvoiceSpec(currency="EUR", vendor="Lieferant AG")
    doc = load_document(make_cii_xml(spec, version=1), "zugferd.xml", settings)
    page = get_engine("einvoice", settings).recognize(doc, doc.pages, EngineOptions())[0]
    _check_exact(page.invoice, spec)


def test_einvoice_ubl_invoice_and_credit_note(settings: Settings) -> None:
    spec = InvoiceSpec(currency="USD")
    invoice, _, syntax = parse_einvoice(make_ubl_xml(spec))
    _check_exact(invoice, spec)
    assert syntax == "UBL Invoice" and invoice.due_date == spec.due_date
    assert invoice.vendor.email == spec.vendor_email
    credit, _, syntax = parse_einvoice(make_ubl_xml(spec, credit_note=True))
    assert syntax == "UBL CreditNote" and credit.total == Decimal("583.10") and len(credit.line_items) == 3


def test_einvoice_refuses_entities() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100">'
        b"&b;</rsm:CrossIndustryInvoice>"
    )
    with pytest.raises(UnreadableDocument):
        parse_einvoice(bomb)


def test_einvoice_accepts_only_documents_with_xml(settings: Settings, invoice_pdf: bytes) -> None:
    doc = load_document(invoice_pdf, "plain.pdf", settings)
    assert not get_engine("einvoice", settings).accepts(doc, doc.pages[0])


# --- auto and the fallback ------------------------------------------------------------------------


def test_auto_chooses_per_page(settings: Settings) -> None:
    doc = load_document(make_invoice_pdf(SPEC, pages=3, image_pages={2}, image_dpi=100), "mixed.pdf", settings)
    pages = get_engine("auto", settings).recognize(doc, doc.pages, EngineOptions(dpi=150))
    assert [p.number for p in pages] == [1, 2, 3]
    assert [p.engine for p in pages] == ["textlayer", settings.raster_engine, "textlayer"]
    # The image-only page 2 was really read.
    assert _find([pages[1]], SPEC.vendor.replace(" ", "")).page == 2
    assert "583.10" in pages[2].to_markdown()


def test_auto_with_facturx_reads_xml_then_text(settings: Settings) -> None:
    xml = make_cii_xml(SPEC)
    pdf = make_invoice_pdf(SPEC, pages=3, image_pages={2}, image_dpi=50, embed_xml=xml)
    doc = load_document(pdf, "fx.pdf", settings)
    pages = get_engine("auto", settings).recognize(doc, doc.pages, EngineOptions())
    # Page 2 has no text layer; the XML has the data, so it is not OCRed.
    assert [p.engine for p in pages] == ["einvoice", "einvoice", "textlayer"]
    assert pages[0].invoice is not None and pages[0].invoice.total == Decimal("583.10")
    assert pages[1].invoice is None and pages[1].blocks == [] and "not read" in pages[1].notes[0]
    assert pages[2].invoice is None and "583.10" in pages[2].to_markdown()


def test_auto_with_broken_xml_reads_the_page(settings: Settings) -> None:
    doc = load_document(make_invoice_pdf(SPEC, embed_xml=b"<rsm:CrossIndustryInvoice"), "bad.pdf", settings)
    assert doc.xml is not None
    pages = get_engine("auto", settings).recognize(doc, doc.pages, EngineOptions())
    assert pages[0].engine == "textlayer"
    assert any("e-invoice XML could not be read" in note for note in pages[0].notes)


def test_auto_on_a_broken_xml_file_says_why(settings: Settings) -> None:
    broken = b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"><a>'
    doc = load_document(broken, "broken.xml", settings)
    with pytest.raises(UnreadableDocument, match="e-invoice XML cannot be read"):
        get_engine("auto", settings).recognize(doc, doc.pages, EngineOptions())


class FakeLoopingEngine(OcrEngine):
    """A named fake for a GPU engine whose generation loops: every page comes back with `failure` set."""

    name: ClassVar[str] = "fake-looping"
    calls: ClassVar[int] = 0

    def available(self) -> Availability:
        return Availability(True)

    def recognize(self, document, pages, options):
        type(self).calls += 1
        return [
            PageMarkdown(p.number, self.name, p.width, p.height, notes=["generated"], failure="output looped")
            for p in pages
        ]


@pytest.fixture
def looping_engine():
    register(FakeLoopingEngine)
    yield FakeLoopingEngine
    _extra.pop(FakeLoopingEngine.name, None)


def test_fallback_failed_pages(settings: Settings, invoice_pdf: bytes, looping_engine) -> None:
    doc = load_document(make_invoice_pdf(SPEC, pages=2), "a.pdf", settings)
    failed = get_engine("fake-looping", settings).recognize(doc, doc.pages, EngineOptions(dpi=100))
    ok = get_engine("textlayer", settings).recognize(doc, [doc.pages[1]], EngineOptions())[0]
    fixed = fallback_failed_pages(doc, [failed[0], ok], EngineOptions(dpi=100), settings)
    assert [p.number for p in fixed] == [1, 2]
    assert fixed[0].engine == settings.raster_engine and fixed[0].failure is None
    assert "generated" in fixed[0].notes
    assert any("fake-looping output unusable (output looped); re-read with rapidocr" in n for n in fixed[0].notes)
    assert SPEC.number in fixed[0].to_markdown()
    assert fixed[1] is ok


def test_auto_rereads_pages_a_gpu_engine_failed(settings, looping_engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "GPU_ENGINES", ("fake-looping",))
    doc = load_document(make_invoice_pdf(SPEC, pages=2, image_pages={2}, image_dpi=100), "a.pdf", settings)
    marked = get_engine("auto", settings).recognize(doc, doc.pages, EngineOptions(dpi=100))
    assert looping_engine.calls >= 1
    # `auto` only reports the failed page; the pipeline's fallback policy re-reads it.
    assert [p.engine for p in marked] == ["textlayer", "fake-looping"] and marked[1].failure
    pages = read_pages(doc, ExtractOptions(engine="auto", dpi=100), settings, {})
    assert [p.engine for p in pages] == ["textlayer", "rapidocr"]
    assert pages[1].failure is None and any("re-read with rapidocr" in n for n in pages[1].notes)


# --- the engine contract, for every CPU engine -----------------------------------------------------


class TestTextLayerContract(EngineContract):
    name = "textlayer"

    @pytest.fixture
    def engine(self, settings: Settings) -> OcrEngine:
        return get_engine("textlayer", settings)


class TestEInvoiceContract(EngineContract):
    name = "einvoice"

    @pytest.fixture
    def engine(self, settings: Settings) -> OcrEngine:
        return get_engine("einvoice", settings)


class TestRapidOcrContract(EngineContract):
    name = "rapidocr"

    @pytest.fixture
    def engine(self, settings: Settings) -> OcrEngine:
        return get_engine("rapidocr", settings)


class TestTesseractContract(EngineContract):
    name = "tesseract"

    @pytest.fixture
    def engine(self, settings: Settings) -> OcrEngine:
        return get_engine("tesseract", settings)


class FakeFailingGpuEngine(OcrEngine):
    """A named fake for a GPU engine that fails outright (a server down, a model that will not load)."""

    name: ClassVar[str] = "fake-failing-gpu"

    def available(self) -> Availability:
        return Availability(True)

    def recognize(self, document, pages, options):
        raise EngineFailed("every server is down")


class TestAutoContract(FailedPagesContract):
    name = "auto"

    @pytest.fixture
    def engine(self, settings: Settings) -> OcrEngine:
        return get_engine("auto", settings)

    @pytest.fixture
    def failing_case(self, settings: Settings, monkeypatch: pytest.MonkeyPatch):
        register(FakeFailingGpuEngine)
        monkeypatch.setattr(registry, "GPU_ENGINES", (FakeFailingGpuEngine.name,))
        scan = make_invoice_pdf(SPEC, pages=2, image_pages={1, 2}, image_dpi=72)
        yield get_engine("auto", settings), load_document(scan, "scan.pdf", settings)
        _extra.pop(FakeFailingGpuEngine.name, None)


def test_textlayer_rotated_page_boxes_match_the_rendering(settings: Settings, invoice_pdf: bytes) -> None:
    with pymupdf.open(stream=invoice_pdf, filetype="pdf") as pdf:
        pdf[0].set_rotation(90)
        rotated = pdf.tobytes()
    doc = load_document(rotated, "rotated.pdf", settings)
    pages = get_engine("textlayer", settings).recognize(doc, doc.pages, EngineOptions())
    assert (pages[0].width, pages[0].height) == (842, 595)
    line = _find(pages, SPEC.vendor.replace(" ", ""))
    assert line.text == SPEC.vendor  # grouped in reading direction, not letter by letter
    x0, y0, x1, y1 = line.bbox
    assert x0 > 0.85 and y1 < 0.5  # top-left of the upright page is top-right once turned 90 degrees
    image = doc.pages[0].render(72).convert("L")
    crop = image.crop(
        (int(x0 * image.width), int(y0 * image.height), int(x1 * image.width) + 1, int(y1 * image.height) + 1)
    )
    assert crop.getextrema()[0] < 100  # the box covers printed text
