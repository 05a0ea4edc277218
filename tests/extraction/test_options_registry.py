import tracemalloc

import pytest

from extraction.engines.registry import BUILTIN_ENGINES, check_engine_name, engine_class, engine_names
from extraction.options import ExtractOptions, check_page_limit, parse_page_ranges
from tests.builders import make_settings
from utils.errors import InvalidRequest, UnknownEngine


def test_page_ranges():
    assert parse_page_ranges("1-3,7", 10) == [1, 2, 3, 7]
    assert parse_page_ranges("2, 2-3", 3) == [2, 3]
    assert parse_page_ranges("5-9", 6) == [5, 6]


@pytest.mark.parametrize("spec", ["a", "3-1", "0", "1-", "-2"])
def test_bad_page_ranges_are_refused(spec):
    with pytest.raises(InvalidRequest):
        parse_page_ranges(spec, 10)


def test_selection_past_the_end_is_refused():
    with pytest.raises(InvalidRequest, match="selects no page"):
        parse_page_ranges("9", 2)


def test_options_validate_pages():
    with pytest.raises(InvalidRequest):
        ExtractOptions(pages="x")
    assert ExtractOptions(pages="2-3").pages == "2-3"


def test_checking_a_page_range_never_expands_it():
    # '1-80000' used to be expanded against 10**9 with a list membership test (quadratic) on the event loop.
    tracemalloc.start()
    try:
        ExtractOptions(pages="1-4000,2-3999")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32_000
    assert ExtractOptions(pages="1-99999999999").pages == "1-99999999999"


def test_a_range_ending_past_the_document_selects_its_pages():
    assert parse_page_ranges("2-99999999999", 3) == [2, 3]
    assert parse_page_ranges("3,1-99999999999", 4) == [3, 1, 2, 4]


def test_a_range_starting_past_the_page_limit_is_refused():
    check_page_limit("1-99999999999", 300)
    with pytest.raises(InvalidRequest, match="300"):
        check_page_limit("2,301-400", 300)


def test_unknown_engine_lists_known_ones():
    with pytest.raises(UnknownEngine) as info:
        engine_class("nope")
    for name in BUILTIN_ENGINES:
        assert name in info.value.message
    assert engine_names()[:2] == ["auto", "einvoice"]


def test_settings_read_env_lists(monkeypatch, tmp_path):
    monkeypatch.setenv("INVOICE_OCR_VLLM_URLS", "http://a:1, http://b:2")
    monkeypatch.setenv("INVOICE_OCR_DATA_DIR", str(tmp_path))
    settings = make_settings()
    assert settings.vllm.urls == ["http://a:1", "http://b:2"]
    assert settings.db_path == tmp_path / "invoices.duckdb"


def test_engine_names_are_checked_by_the_registry_wherever_they_come_in():
    with pytest.raises(UnknownEngine, match="known engines: auto"):
        ExtractOptions(engine="nope")
    with pytest.raises(UnknownEngine):
        check_engine_name("Auto")
    assert ExtractOptions(engine="deepseek-legacy").engine == check_engine_name("deepseek-legacy")
