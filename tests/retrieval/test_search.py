from __future__ import annotations

import asyncio
import datetime as dt
import time
from decimal import Decimal

import pytest

from retrieval.models import SearchQuery
from retrieval.search import only_figures, query_amounts, query_codes, rrf
from retrieval.service import InvoiceService
from tests.builders import make_result


@pytest.fixture
def library(service: InvoiceService) -> dict[str, int]:
    specs = {
        "aws": make_result(
            vendor="Amazon Web Services, Inc.", number="42183017", date="2014-08-03", total="4.11", currency="USD",
            items=("Amazon Elastic Compute Cloud", "Amazon Glacier storage"),
        ),
        "cool": make_result(
            vendor="Coolblue B.V.", number="993548900", date="2023-05-01", total="717.97",
            items=("Laptop 14 inch", "Wireless mouse"),
        ),
        "bake": make_result(
            vendor="Gardenia Bakeries (KL) Sdn Bhd", number="GB-2018-77", date="2018-01-05", total="60.44",
            currency="MYR", items=("Sandwich bread", "Butter rolls"), needs_review=True,
        ),
        "acme": make_result(
            vendor="Acme Industrial Supplies GmbH", number="INV/2023/03/0008", date="2023-03-20", total="279.84",
            items=("Steel bolts M8", "Hex nuts"),
        ),
    }  # fmt: skip
    return {key: service.store_result(*spec, enrich=False).invoice_id for key, spec in specs.items()}


def _ids(service: InvoiceService, **kw) -> list[int]:
    return [h.invoice_id for h in service.search(SearchQuery(**kw))]


def test_query_parsing() -> None:
    assert query_amounts("total 60.44") == [Decimal("60.44")]
    assert query_amounts("1,234.56 and 7.5") == [Decimal("1234.56")]
    assert query_codes("invoice INV/2023/03/0008 total 60.44") == ["INV2023030008"]
    fused = rrf({"a": [1, 2, 3], "b": [3, 1]})
    assert [i for i, _, _ in fused] == [1, 3, 2] and fused[0][2] == ["a", "b"]
    assert only_figures("total 60.44") and only_figures("Invoice No. 4711") and only_figures("#INV-2023/8")
    assert not only_figures("cloud storage 2014") and not only_figures("total") and not only_figures("acme 60.44")
    # Equal scores: the earlier (stronger) list's item first, whatever the ids.
    assert [i for i, _, _ in rrf({"vendor": [9], "semantic": [4]})] == [9, 4]


@pytest.mark.parametrize("mode", ["hybrid", "keyword"])
def test_number_and_amount_queries(service: InvoiceService, library: dict[str, int], mode: str) -> None:
    assert _ids(service, q="INV/2023/03/0008", mode=mode)[0] == library["acme"]
    assert _ids(service, q="993548900", mode=mode)[0] == library["cool"]
    assert _ids(service, q="total 60.44", mode=mode)[0] == library["bake"]


def test_modes_find_by_meaning_and_words(service: InvoiceService, library: dict[str, int]) -> None:
    assert _ids(service, q="cloud computing", mode="semantic")[0] == library["aws"]
    assert _ids(service, q="bread", mode="keyword") == [library["bake"]]
    assert _ids(service, q="cloud computing servers", mode="hybrid")[0] == library["aws"]
    assert _ids(service, q="coolblu", mode="hybrid")[0] == library["cool"]  # a vendor typo
    hits = service.search(SearchQuery(q="Glacier", mode="hybrid"))
    top = hits[0]
    assert top.invoice_id == library["aws"] and "keyword" in top.matched
    assert "glacier" in top.snippet.lower()
    assert top.vendor == "Amazon Web Services, Inc." and top.total == Decimal("4.11") and top.currency == "USD"
    assert top.invoice_date == dt.date(2014, 8, 3)
    assert _ids(service, q="zzzzqqq", mode="keyword") == []


def test_a_short_vendor_name_with_one_slip_finds_its_invoices(service: InvoiceService) -> None:
    ids = {
        name: service.store_result(*make_result(vendor=name, number=f"N-{i}", total="10.00"), enrich=False).invoice_id
        for i, name in enumerate(["EXXON", "Citadel", "Metro", "Retro Records"])
    }
    for typed, name in [("EXON", "EXXON"), ("Ciatdel", "Citadel"), ("meero", "Metro")]:
        top = service.search(SearchQuery(q=typed, mode="hybrid"))[0]
        assert top.invoice_id == ids[name] and "vendor" in top.matched, typed
    # A word the invoices contain is a search for that word, not a slip for a similar vendor.
    hits = service.search(SearchQuery(q="retro", mode="hybrid"))
    assert hits[0].invoice_id == ids["Retro Records"]
    assert all(ids["Metro"] != h.invoice_id or "vendor" not in h.matched for h in hits)


def test_a_query_of_figures_alone_is_not_matched_by_meaning(service: InvoiceService, library: dict[str, int]) -> None:
    hits = service.search(SearchQuery(q="total 60.44", mode="hybrid"))
    assert hits[0].invoice_id == library["bake"] and "amount" in hits[0].matched
    assert all("semantic" not in h.matched for h in hits)  # the others only share the word "total"
    assert "semantic" in service.search(SearchQuery(q="cloud storage 2014", mode="hybrid"))[0].matched
    assert _ids(service, q="total 60.44", mode="semantic")  # asked for by meaning: still answered by meaning


def test_filters(service: InvoiceService, library: dict[str, int]) -> None:
    assert _ids(service, q="", currency="MYR") == [library["bake"]]
    assert _ids(service, q="", needs_review=True) == [library["bake"]]
    assert set(_ids(service, q="", min_total="100", max_total="300")) == {library["acme"]}
    assert set(_ids(service, q="", date_from="2023-01-01", date_to="2023-12-31")) == {library["acme"], library["cool"]}
    assert _ids(service, q="", vendor="coolblue") == [library["cool"]]
    assert _ids(service, q="", vendor="Gardenia Bakeries") == [library["bake"]]
    # A filter applies to every mode.
    for mode in ("hybrid", "semantic", "keyword"):
        assert set(_ids(service, q="invoice", mode=mode, currency="EUR")) <= {library["acme"], library["cool"]}
    assert _ids(service, q="steel hardware", mode="semantic", vendor="acme") == [library["acme"]]
    # Within the filters, a neighbour that shares nothing with the query is still not a match.
    assert _ids(service, q="laptop", mode="semantic", vendor="acme") == []


def test_paging_and_listing(service: InvoiceService, library: dict[str, int]) -> None:
    everything = _ids(service, q="", limit=10)
    assert len(everything) == 4
    assert _ids(service, q="", limit=2, offset=2) == everything[2:]
    page = service.list_invoices(SearchQuery(), limit=2)
    assert page.total == 4 and len(page.items) == 2 and page.items[0].id == library["cool"]


def test_search_sees_deletes_and_corrections(service: InvoiceService, library: dict[str, int]) -> None:
    service.delete_invoice(library["aws"])
    assert library["aws"] not in _ids(service, q="Glacier", mode="hybrid")
    service.correct_invoice(library["cool"], {"line_items": [{"description": "Espresso machine"}]}, "eve")
    assert _ids(service, q="espresso", mode="keyword") == [library["cool"]]


def test_hits_show_the_stored_values_after_a_correction(service: InvoiceService, library: dict[str, int]) -> None:
    def hit():
        return next(h for h in service.search(SearchQuery(q="Coolblue laptop")) if h.invoice_id == library["cool"])

    before = hit()  # the hit's display row is now cached
    service.correct_invoice(library["cool"], {"total": "999.99", "invoice_number": "CB-CORRECTED"}, "eve")
    after = hit()
    assert (after.total, after.invoice_number) == (Decimal("999.99"), "CB-CORRECTED")
    assert (before.total, before.invoice_number) != (after.total, after.invoice_number)


class _SlowEmbedder:
    """The real embedder, made slow, to see what waits while a query is embedded."""

    def __init__(self, embedder, seconds: float) -> None:
        self.embedder = embedder
        self.seconds = seconds

    def encode(self, texts: list[str]):
        time.sleep(self.seconds)
        return self.embedder.encode(texts)


def test_async_search_gives_the_same_hits(service: InvoiceService, library: dict[str, int]) -> None:
    queries = [
        SearchQuery(q=q, mode=mode, **filters)
        for q in ("cloud computing servers", "coolblu", "total 60.44", "bread", "INV/2023/03/0008", "")
        for mode in ("hybrid", "semantic", "keyword")
        for filters in ({}, {"currency": "USD"}, {"min_total": 100})
    ]
    for query in queries:
        assert asyncio.run(service.search_async(query)) == service.search(query), query


def test_async_search_leaves_the_event_loop_free_while_the_query_is_embedded(
    service: InvoiceService, library: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    batcher = service.searcher._batcher
    monkeypatch.setattr(batcher, "embedder", _SlowEmbedder(batcher.embedder, 0.4))

    async def run() -> tuple[list[int], int]:
        ticks = 0
        search = asyncio.ensure_future(service.search_async(SearchQuery(q="elastic cloud storage", mode="semantic")))
        while not search.done():
            await asyncio.sleep(0.01)
            ticks += 1
        return [h.invoice_id for h in search.result()], ticks

    ids, ticks = asyncio.run(run())
    assert ids[0] == library["aws"]
    assert ticks >= 15  # the loop kept running other work during the 0.4 s embedding


@pytest.mark.parametrize("mode", ["hybrid", "semantic"])
def test_a_query_that_matches_nothing_finds_nothing_and_says_so(
    service: InvoiceService, library: dict[str, int], mode: str
) -> None:
    for q in ("xqzvbl", "Initech Softwre", "blorptastic frobnicator"):
        page = service.search_page(SearchQuery(q=q, mode=mode))
        assert page.hits == [] and page.total == 0, (q, [h.vendor for h in page.hits])
        assert page.message == f"No invoices match “{q}”."
    # What is there is still found by meaning.
    assert service.search_page(SearchQuery(q="cloud computing", mode=mode)).hits[0].invoice_id == library["aws"]


def test_the_total_counts_every_match_not_just_the_page(service: InvoiceService, library: dict[str, int]) -> None:
    page = service.search_page(SearchQuery(q="", currency="EUR", limit=1))
    assert page.total == 2 and len(page.hits) == 1 and page.message is None
    assert service.search_page(SearchQuery(q="bread", mode="keyword")).total == 1


def test_a_word_inside_a_joined_name_is_found_by_keyword(service: InvoiceService) -> None:
    hosted = service.store_result(
        *make_result(vendor="QualityHosting AG", number="QH-77", items=("Managed server",)), enrich=False
    ).invoice_id
    assert [h.invoice_id for h in service.search(SearchQuery(q="hosting", mode="keyword"))] == [hosted]


def test_snippets_carry_no_page_markers(service: InvoiceService, library: dict[str, int]) -> None:
    for hit in service.search(SearchQuery(q="bread", mode="hybrid")):
        assert "<!--" not in hit.snippet and "page 1 -->" not in hit.snippet
