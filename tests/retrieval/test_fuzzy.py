"""Words with a typing slip: the slip index on a real store, and keyword search through it."""

from __future__ import annotations

import pytest

from retrieval import fuzzy
from retrieval.fuzzy import forms
from retrieval.models import SearchQuery
from retrieval.service import InvoiceService
from tests.builders import make_result


def _store(service: InvoiceService, vendor: str, number: str, *items: str) -> int:
    result = make_result(vendor=vendor, number=number, items=items, salt=number)
    return service.store_result(*result, enrich=False).invoice_id


def _near(service: InvoiceService, word: str) -> list[str]:
    """The words a slip lookup found, each checked against the dictionary row its id names."""
    found = service.searcher.keywords.slips.near(word)
    for termid, text in found:
        assert service.store.scalar("SELECT term FROM fts_dict WHERE termid = ?", [termid]) == text
    return [text for _, text in found]


def _read_as(service: InvoiceService, word: str) -> list[str]:
    """The word keyword search used in place of one no invoice contains (none when nothing was used)."""
    service.search(SearchQuery(q=word, mode="keyword"))
    return service.searcher.keywords.read_as([word])


def test_forms_are_the_word_and_each_letter_left_out() -> None:
    assert forms("abca") == {"abca", "bca", "aca", "aba", "abc"}


def test_nearest_words_are_one_slip_away(service: InvoiceService) -> None:
    _store(service, "Polar Storage", "A-1", "Glacier archive")
    for typed in ("glaicer", "glacer", "glaccier", "glacoer"):  # swap, drop, add, replace
        assert _near(service, typed) == ["glacier"], typed
    assert _near(service, "glxxier") == []  # two slips
    assert _near(service, "arc") == []  # too short to tell a slip from another word
    assert _near(service, "a-2") == [] and _near(service, "glacier2") == []  # codes and numbers never
    assert _near(service, "glacier") == ["glacier"]  # no slip beats one


def test_the_word_more_invoices_contain_wins_and_deleted_words_are_gone(service: InvoiceService) -> None:
    first = _store(service, "North Supply", "B-1", "copper cable")
    for n in range(2):
        _store(service, "South Supply", f"B-{n + 2}", "copier paper")
    assert _near(service, "copeer") == ["copier", "copper"]  # one slip from each
    assert _read_as(service, "copeer") == ["copier"]  # in two invoices, "copper" in one
    assert _read_as(service, "coppr") == ["copper"]
    service.delete_invoice(first)
    assert _near(service, "coppr") == ["copper"]  # the dictionary keeps the word
    assert _read_as(service, "coppr") == []  # but no invoice holds it any more


@pytest.mark.parametrize("pending_words", [fuzzy.PENDING_WORDS, 0])
def test_words_stored_later_are_found(service: InvoiceService, monkeypatch, pending_words: int) -> None:
    monkeypatch.setattr(fuzzy, "PENDING_WORDS", pending_words)  # 0: every new word merged into the sorted arrays
    _store(service, "Alpha Traders", "C-1", "spanner set")
    assert _near(service, "spaner") == ["spanner"]  # the first load
    _store(service, "Beta Traders", "C-2", "wrench kit", "ratchet handle")
    assert _near(service, "wrnch") == ["wrench"]
    assert _near(service, "ratchett") == ["ratchet"]
    assert _near(service, "spaner") == ["spanner"]


def test_keyword_search_reads_through_a_slip_but_not_into_another_number(service: InvoiceService) -> None:
    filler = [f"Consulting hour {n}" for n in range(30)]  # the matched word far from the text's start
    cold = _store(service, "Polar Storage", "INV-5531", *filler, "Glacier archive")
    _store(service, "Harbour Cafe", "INV-5532", "Espresso beans")

    def top(q: str, mode: str = "keyword") -> list[int]:
        return [h.invoice_id for h in service.search(SearchQuery(q=q, mode=mode))]

    assert top("glaicer")[:1] == [cold]
    hit = service.search(SearchQuery(q="glaicer", mode="hybrid"))[0]
    assert hit.invoice_id == cold and "Glacier" in hit.snippet and "keyword" in hit.matched
    assert top("glaicer archive")[:1] == [cold]
    assert top("zzzzqqq") == []
    assert top("5533") == []  # a mistyped number finds no other invoice


def test_a_large_backlog_is_read_in_the_background(service: InvoiceService, monkeypatch) -> None:
    monkeypatch.setattr(fuzzy, "INLINE_MAX", 0)  # any new word is a backlog
    _store(service, "Gamma Traders", "D-1", "chisel")
    slips = service.searcher.keywords.slips
    slips.near("chisl")  # starts the reading, answers from what is read so far
    slips.refresh()  # waits for it
    assert slips.current and _near(service, "chisl") == ["chisel"]
    assert _read_as(service, "chisl") == ["chisel"]
