"""Hints reach the parser through extract() and are reported in the result."""

from __future__ import annotations

import pytest

import extraction.parser as parser
from extraction.hints import VendorHints
from extraction.pipeline import extract
from tests.builders import simple_invoice_pdf

PDF = simple_invoice_pdf("Northwind Traders GmbH", "NW-1", "03/04/2024", [("Tea", "10.00")], "10.00")
HINTS = VendorHints(name="Northwind Traders GmbH", vendor_id=4, documents=3, matched_by="iban", match_confidence=0.97)


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list:
    calls: list = []
    real = parser.parse_invoice

    def spy(pages, hints=None):
        calls.append(hints)
        return real(pages, hints)

    monkeypatch.setattr(parser, "parse_invoice", spy)
    return calls


def test_given_hints_reach_the_parser_and_are_reported(seen: list) -> None:
    result = extract(PDF, "nw.pdf", hints=HINTS)
    assert seen == [HINTS]
    assert HINTS.describe() in result.validation.reasons
    info = result.fields["vendor_hints"]
    assert info.value == {"vendor": "Northwind Traders GmbH", "vendor_id": 4, "documents": 3, "matched_by": "iban"}
    assert info.confidence == 0.97 and info.source == HINTS.describe()


def test_without_hints_nothing_is_reported(seen: list) -> None:
    result = extract(PDF, "nw.pdf")
    assert seen == [None] and "vendor_hints" not in result.fields
    assert not any("reviewed invoice" in r for r in result.validation.reasons)


def test_a_lookup_recognising_the_vendor_after_parsing_reparses_the_same_pages(seen: list) -> None:
    asked: list = []

    def lookup(pages, invoice):
        asked.append((len(pages), invoice is None))
        return HINTS if invoice is not None and invoice.vendor.name else None

    result = extract(PDF, "nw.pdf", hints=lookup)
    assert asked == [(1, True), (1, False)] and seen == [None, HINTS]
    assert result.fields["vendor_hints"].value["vendor_id"] == 4


def test_a_lookup_recognising_the_vendor_first_parses_once(seen: list) -> None:
    result = extract(PDF, "nw.pdf", hints=lambda pages, invoice: HINTS)
    assert seen == [HINTS] and "vendor_hints" in result.fields
