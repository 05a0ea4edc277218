"""What every OCR engine promises, written once; each engine's test module has a class that inherits it.

    class TestRapidOcrContract(EngineContract):
        @pytest.fixture
        def engine(self, settings):
            return get_engine("rapidocr", settings)

A class names its engine (`name`), provides `engine` (an instance that can run here: on its fake where
the real model or server cannot), and may replace `document` (two pages this engine reads; a born-digital
invoice with embedded Factur-X by default) and `unconfigured_engine` (the engine under the default
settings). Engines that report pages they could not read (the GPU engines and `auto`) inherit
`FailedPagesContract` instead and provide `failing_case` (an engine and a document whose pages fail);
the CPU engines read a page or raise, so they make no such promise.
`dpi` keeps rendering cheap; `reads_text` is False for an engine whose fake writes no usable text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from extraction.documents import Document, load_document
from extraction.engines.base import Availability, OcrEngine
from extraction.engines.registry import engine_class, engine_names
from extraction.markdown import PageMarkdown
from tests.builders import InvoiceSpec, make_cii_xml, make_invoice_pdf, make_settings
from utils.engine_options import EngineOptions, section_name

SPEC = InvoiceSpec()


def two_page_invoice() -> bytes:
    """Two born-digital pages with a Factur-X attachment: every built-in engine can read something of it."""
    return make_invoice_pdf(SPEC, pages=2, embed_xml=make_cii_xml(SPEC))


def check_page(page: PageMarkdown, number: int, document: Document) -> None:
    """One result honours the page contract: its number, its engine, the page's size, boxes in 0..1 units."""
    assert isinstance(page, PageMarkdown)
    assert page.number == number
    assert page.engine in engine_names() and page.engine != "auto"
    source = document.pages[number - 1]
    assert (page.width, page.height) == (source.width, source.height)
    for block in page.blocks:
        assert block.page == number
        for box in [block.bbox, *(block.row_bboxes or [])]:
            if box is not None:
                x0, y0, x1, y1 = box
                assert 0.0 <= x0 <= x1 <= 1.0 and 0.0 <= y0 <= y1 <= 1.0, (page.engine, box)


class EngineContract:
    """The promises of the OcrEngine interface; subclasses provide the `engine` fixture."""

    name: ClassVar[str]  # the registry name of the engine under test
    dpi: ClassVar[int] = 72
    reads_text: ClassVar[bool] = True

    @pytest.fixture
    def engine(self) -> OcrEngine:
        raise NotImplementedError("a contract test class provides the `engine` fixture")

    @pytest.fixture
    def document(self, engine: OcrEngine) -> Iterator[Document]:
        document = load_document(two_page_invoice(), "contract.pdf", engine.settings)
        yield document
        document.close()

    @pytest.fixture
    def unconfigured_engine(self, engine: OcrEngine, tmp_path: Path) -> OcrEngine:
        return type(engine)(make_settings(tmp_path / "data"))

    def options(self, engine: OcrEngine) -> EngineOptions:
        return engine.call_options(dpi=self.dpi)

    def test_registered_under_its_name(self, engine: OcrEngine) -> None:
        assert engine.name == self.name and engine.name in engine_names()
        assert engine_class(engine.name) is type(engine)
        assert isinstance(engine.needs_raster, bool)

    def test_options_are_its_own_described_model(self, engine: OcrEngine) -> None:
        model = engine.options_model
        assert issubclass(model, EngineOptions) and isinstance(engine.options, model)
        assert engine.options is getattr(engine.settings, section_name(engine.name))
        for field, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{field} has no description"
        assert model.model_validate(engine.options.model_dump()) == engine.options
        assert model.model_validate_json(engine.options.model_dump_json()) == engine.options

    def test_call_options_override_what_the_call_sets(self, engine: OcrEngine) -> None:
        options = engine.call_options(dpi=self.dpi + 1)
        assert isinstance(options, engine.options_model) and options.dpi == self.dpi + 1
        assert engine.call_options(dpi=None) is engine.options
        assert engine.own_options(EngineOptions(dpi=self.dpi)).dpi == self.dpi

    def test_available_here_and_says_why_not_elsewhere(self, engine: OcrEngine, unconfigured_engine: OcrEngine):
        availability = engine.available()
        assert isinstance(availability, Availability) and availability, availability.reason
        unconfigured = unconfigured_engine.available()
        assert isinstance(unconfigured, Availability)
        assert unconfigured.ok or unconfigured.reason.strip()
        assert isinstance(engine.report(), dict)

    def test_one_result_per_requested_page_in_page_units(self, engine: OcrEngine, document: Document) -> None:
        pages = engine.recognize(document, document.pages[:2], self.options(engine))
        assert [p.number for p in pages] == [1, 2]
        for page in pages:
            check_page(page, page.number, document)
        if self.reads_text:
            assert any(page.to_markdown().strip() for page in pages if not page.failure)

    def test_reads_only_the_selected_pages(self, engine: OcrEngine, document: Document) -> None:
        [page] = engine.recognize(document, [document.pages[1]], self.options(engine))
        check_page(page, 2, document)
        assert engine.recognize(document, [], self.options(engine)) == []


class FailedPagesContract(EngineContract):
    """The promise of engines that can fail a page: it comes back marked, with a note, and is not raised."""

    @pytest.fixture
    def failing_case(self) -> tuple[OcrEngine, Document]:
        raise NotImplementedError("a failed-pages contract class provides the `failing_case` fixture")

    def test_failed_pages_are_reported_not_raised(self, failing_case: tuple[OcrEngine, Document]) -> None:
        engine, document = failing_case
        pages = engine.recognize(document, document.pages[:2], self.options(engine))
        assert [p.number for p in pages] == [1, 2]
        for page in pages:
            check_page(page, page.number, document)
            assert page.failure and page.notes, "a failed page says why"
