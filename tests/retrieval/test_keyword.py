from __future__ import annotations

import math
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import retrieval.keyword as keyword_module
from retrieval.keyword import BM25_B, BM25_K1, KeywordIndex, Vocabulary, porter_stem
from retrieval.repository.database import Store
from retrieval.textindex import flatten, snippet, tokenize
from utils.text import UNDECOMPOSED, fold


def _fold_whole_text(text: str) -> str:
    """The definition fold() must keep: NFKD of the whole text, combining marks dropped, lower case."""
    decomposed = unicodedata.normalize("NFKD", text.translate(str.maketrans(UNDECOMPOSED)))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


@given(st.text(max_size=60))
def test_fold_matches_whole_text_normalization(text: str) -> None:
    assert fold(text) == _fold_whole_text(text)


def test_fold_examples() -> None:
    assert fold("Müller Straße ŁÓDŹ Æon ﬁne ΟΔΟΣ") == "muller strasse lodz aeon fine οδος"


TEXTS = {
    1: "freight insurance consulting",
    2: "consulting consulting hosting laptop",
    3: "laptops monitors cables and a very long tail of other words to make this document longer than most",
    4: "hotel travel freight",
    5: "Müller GmbH Rechnung R-100123 consulting",
}


def _store(tmp_path: Path, texts: dict[int, str]) -> Store:
    store = Store(tmp_path / "h.duckdb", tmp_path / "files")
    with store.transaction() as cur:
        for invoice_id, text in texts.items():
            store.index_text(cur, invoice_id, text)
    return store


def _reference(store: Store, texts: dict[int, str], query: str) -> list[tuple[int, float]]:
    """BM25 written out from the texts themselves: the store's stemmer, plain Python sums."""
    stem = dict(store.fetch("SELECT t, stem(t, 'porter') FROM unnest(?::VARCHAR[]) u(t)", [
        sorted({t for text in [*texts.values(), query] for t in tokenize(text)})
    ]))  # fmt: skip
    docs = {i: Counter(stem[t] for t in tokenize(text)) for i, text in texts.items()}
    lengths = {i: sum(Counter(tokenize(text)).values()) for i, text in texts.items()}
    avgdl = max(sum(lengths.values()) / len(lengths), 1.0)
    terms = {stem[t] for t in tokenize(query)}
    scores: dict[int, float] = {}
    for term in terms:
        df = sum(1 for counts in docs.values() if term in counts)
        if not df:
            continue
        idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
        for i, counts in docs.items():
            tf = counts.get(term, 0)
            if tf:
                norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[i] / avgdl)
                scores[i] = scores.get(i, 0.0) + idf * tf * (BM25_K1 + 1) / (tf + norm)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


@pytest.mark.parametrize("query", ["consulting", "freight consulting", "laptop", "muller r-100123", "nothing here"])
def test_rank_is_bm25(tmp_path: Path, query: str) -> None:
    store = _store(tmp_path, TEXTS)
    got = KeywordIndex(store).rank(sorted(set(tokenize(query))), 10)
    want = _reference(store, TEXTS, query)
    assert [i for i, _ in got] == [i for i, _ in want]
    assert np.allclose([s for _, s in got], [s for _, s in want])
    store.close()


def test_rank_follows_writes_filters_and_limits(tmp_path: Path) -> None:
    store = _store(tmp_path, TEXTS)
    index = KeywordIndex(store)
    assert [i for i, _ in index.rank(["consulting"], 10)] == [2, 1, 5]
    assert index.rank(["catering"], 10) == []
    with store.transaction() as cur:  # a new document, one rewritten, one removed
        store.index_text(cur, 6, "catering consulting")
        store.index_text(cur, 2, "hosting only")
        store.unindex_text(cur, 1)
    texts = {**{k: v for k, v in TEXTS.items() if k != 1}, 2: "hosting only", 6: "catering consulting"}
    got, want = index.rank(["consulting"], 10), _reference(store, texts, "consulting")
    assert [i for i, _ in got] == [i for i, _ in want] == [6, 5]
    assert np.allclose([s for _, s in got], [s for _, s in want])
    assert [i for i, _ in index.rank(["catering"], 10)] == [6]
    assert [i for i, _ in index.rank(["consulting"], 10, allowed=np.array([5, 4]))] == [5]
    assert len(index.rank(["consulting", "freight", "hosting"], 2)) == 2
    assert index.rank([], 10) == [] and index.rank(["consulting"], 0) == []
    store.close()


def test_ties_break_by_id_at_the_cut(tmp_path: Path) -> None:
    texts = {i: "same words here" for i in range(1, 40)} | {40: "other"}
    store = _store(tmp_path, texts)
    got = KeywordIndex(store).rank(["same", "words"], 5)
    assert [i for i, _ in got] == [1, 2, 3, 4, 5]
    assert len({s for _, s in got}) == 1
    store.close()


class _CountingCursor:
    """A store cursor, counting the queries sent on it."""

    def __init__(self, cursor, queries: list[str]) -> None:
        self.cursor = cursor
        self.queries = queries

    def execute(self, sql: str, params=None):
        self.queries.append(sql)
        return self.cursor.execute(sql, params or [])

    def __getattr__(self, name: str):
        return getattr(self.cursor, name)


class _CountingStore:
    """The real store, counting the queries a search sends it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.queries: list[str] = []

    def __getattr__(self, name: str):
        attr = getattr(self.store, name)
        if name == "cursor":
            return lambda: _CountingCursor(attr(), self.queries)
        if name in ("fetch", "scalar"):

            def counted(sql: str, params=None):
                self.queries.append(sql)
                return attr(sql, params)

            return counted
        return attr


def test_words_never_indexed_cost_no_database_query(tmp_path: Path) -> None:
    store = _store(tmp_path, TEXTS)
    counting = _CountingStore(store)
    index = KeywordIndex(counting)  # type: ignore[arg-type]
    assert [i for i, _ in index.rank(["consulting"], 10)] == [2, 1, 5]
    counting.queries.clear()
    for n in range(50):  # made-up words: each one new, none indexed
        assert index.rank([f"zq{n}x"], 10) == []
    assert counting.queries == []
    assert [i for i, _ in index.rank(["consulting", "zqnew"], 10)] == [2, 1, 5]
    store.close()


def test_vocabulary_follows_writes_and_has_no_false_negatives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyword_module, "RECENT_TERMS_MAX", 8)  # merge into the sorted array often
    store = _store(tmp_path, {})
    vocabulary = Vocabulary(store)
    written: list[str] = []
    for batch in range(6):
        words = [f"w{batch}x{k}" for k in range(7)]
        with store.transaction() as cur:
            store.index_text(cur, batch + 1, " ".join(words))
        written += [porter_stem(w) for w in words]
        assert all(term in vocabulary for term in written)
        assert f"w{batch + 1}x0" not in vocabulary  # not written yet
    assert len(vocabulary) == len(set(written))
    assert "consulting" not in vocabulary
    store.close()


def test_snippet_windows_the_first_query_term_and_marks_cuts() -> None:
    text = "Intro line\n\n" + "filler words " * 30 + "Espresso  Machine\tdelivered " + "tail " * 40
    shown = snippet(flatten(text), ["machin", "espresso"], width=60)
    assert "Espresso Machine" in shown and shown.startswith("…") and shown.endswith("…")
    assert "\n" not in shown and "\t" not in shown
    assert snippet(flatten("Short text"), ["absent"]) == "Short text"


_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789./-_", min_size=1, max_size=16)
_VOCABULARY = [  # Porter's own examples, and words and codes as invoices have them
    "invoices", "invoicing", "consulting", "consultancy", "generously", "hopefulness", "relational",
    "conditional", "rational", "electricity", "electrical", "adjustable", "adjustment", "dependent",
    "irritant", "replacement", "sensibility", "caresses", "ponies", "ties", "caress", "cats", "feed",
    "agreed", "disabled", "matting", "mating", "meeting", "milling", "messing", "meetings", "happy", "sky",
    "inv/2023/03/0008", "gb-2018-77", "delivered", "deliveries", "shipping", "shipped", "shipper", "taxes",
    "taxed", "1234.50", "vat_id",
]  # fmt: skip


@given(st.lists(_WORDS, min_size=1, max_size=40))
def test_porter_stem_is_the_stemmer_the_postings_were_written_with(words: list[str]) -> None:
    tokens = sorted({t for w in [*words, *_VOCABULARY] for t in tokenize(w)})
    theirs = dict(_STEM_DB.execute("SELECT t, stem(t, 'porter') FROM unnest(?::VARCHAR[]) u(t)", [tokens]).fetchall())
    assert {t: porter_stem(t) for t in tokens} == theirs


def _fts_connection():
    import duckdb

    from retrieval.repository.database import fts_extension_path

    con = duckdb.connect()
    path = fts_extension_path()
    con.execute(f"LOAD '{path.as_posix()}'" if path is not None else "LOAD fts")
    return con


_STEM_DB = _fts_connection()
