"""BM25 over the store's keyword postings, scored in numpy from per-term caches that follow every write."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import snowballstemmer

from retrieval.fuzzy import SlipIndex
from retrieval.repository import search as sql

if TYPE_CHECKING:
    from retrieval.repository.database import Store

FUZZY_WEIGHT = 0.8  # a word matched despite a typing slip counts this much of an exact match
BM25_K1 = 1.2
BM25_B = 0.75
MAX_CACHED_POSTINGS = 4_000_000  # about 64 MB of (id, weight) pairs; the cache is dropped past it
MAX_CACHED_STEMS = 200_000
RECENT_TERMS_MAX = 65_536  # newly seen terms kept in a set until they are merged into the sorted array

_EMPTY = (np.zeros(0, np.int64), np.zeros(0, np.float64))
_PORTER = threading.local()


@lru_cache(maxsize=MAX_CACHED_STEMS)
def porter_stem(token: str) -> str:
    """The Porter stem of a token: the same Snowball algorithm as DuckDB's `stem(t, 'porter')`, in process."""
    stemmer = getattr(_PORTER, "stemmer", None)
    if stemmer is None:  # Snowball stemmers keep state while they work: one per thread
        stemmer = _PORTER.stemmer = snowballstemmer.stemmer("porter")
    return stemmer.stemWord(token)


@dataclass
class _Snapshot:
    """What the index knows at one store generation: document lengths and the terms looked up so far."""

    generation: int
    n_docs: int
    avgdl: float
    doc_len: np.ndarray  # indexed by invoice id; 0 where the id has no document
    terms: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    cached: int = 0
    read_as: dict[str, str] = field(default_factory=dict)  # a word no invoice contains -> the word used instead


class Vocabulary:
    """Which terms the postings may hold: string hashes of every dictionary term, kept in step by term id.

    A term whose hash is absent is certainly not indexed, so a query word nobody wrote costs no database
    round trip; a present hash (a rare collision included) only means the postings are looked up.
    Terms are never removed from the dictionary and new ones get higher ids, so each store generation
    reads just the terms added since the last one. About 8 bytes per term.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._hashes = np.zeros(0, np.int64)  # sorted
        self._recent: set[int] = set()
        self._max_termid = 0
        self._generation = -1
        self._lock = threading.Lock()

    def _sync(self) -> None:
        generation = self.store.generation
        if generation == self._generation:
            return
        with self._lock:
            if generation == self._generation:
                return
            # Read after taking the generation: the data is at least as new as the label.
            rows = sql.terms_after(self.store.cursor(), self._max_termid)
            if len(rows["termid"]):
                self._recent.update(hash(term) for term in rows["term"])
                self._max_termid = int(np.max(rows["termid"]))
                if len(self._recent) > RECENT_TERMS_MAX:
                    merged = np.fromiter(self._recent, np.int64, len(self._recent))
                    self._hashes = np.union1d(self._hashes, merged)
                    self._recent = set()
            self._generation = generation

    def __contains__(self, term: str) -> bool:
        self._sync()
        key = hash(term)
        if key in self._recent:
            return True
        at = int(np.searchsorted(self._hashes, key))
        return at < len(self._hashes) and int(self._hashes[at]) == key

    def __len__(self) -> int:
        self._sync()
        return len(self._hashes) + len(self._recent)


class KeywordIndex:
    """BM25 ranking of invoices for a query's terms; DuckDB holds the postings, this holds derived caches."""

    def __init__(self, store: Store, k1: float = BM25_K1, b: float = BM25_B) -> None:
        self.store = store
        self.k1 = k1
        self.b = b
        self.vocabulary = Vocabulary(store)
        self.slips = SlipIndex(store)
        self._termids: dict[str, int] = {}  # term ids never change once assigned
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()

    # -- caches ---------------------------------------------------------------------------------
    def _current(self) -> _Snapshot:
        """The snapshot for the store's current generation, reloaded after a write."""
        snap = self._snapshot
        generation = self.store.generation
        if snap is not None and snap.generation == generation:
            return snap
        with self._lock:
            snap = self._snapshot
            if snap is not None and snap.generation == generation:
                return snap
            # Read after taking the generation: the data is at least as new as the label.
            docs = sql.document_lengths(self.store.cursor())
            ids = np.asarray(docs["invoice_id"], dtype=np.int64)
            lens = np.asarray(docs["len"], dtype=np.float64)
            doc_len = np.zeros(int(ids.max()) + 1 if len(ids) else 1, np.float64)
            doc_len[ids] = lens
            avgdl = float(max(lens.mean(), 1.0)) if len(lens) else 1.0
            snap = _Snapshot(generation, len(ids), avgdl, doc_len)
            self._snapshot = snap
            return snap

    def stems(self, tokens: list[str]) -> list[str]:
        """The index terms of query tokens (Porter stems when the store stems), distinct, in order."""
        # Stemmed here rather than by a DuckDB round trip per new word; the postings were written with
        # DuckDB's stemmer, which runs the same Snowball algorithm (tests compare the two).
        stem = porter_stem if self.store.stemming else str
        return list(dict.fromkeys(stem(t) for t in tokens))

    def knows_all(self, tokens: list[str]) -> bool:
        """Whether every query token is an indexed term (a word nobody wrote hints at a typing slip)."""
        return all(term in self.vocabulary for term in self.stems(tokens))

    def _termid(self, term: str) -> int | None:
        """The dictionary id of a term, or None; words never indexed cost no database round trip."""
        termid = self._termids.get(term)
        if termid is None and term in self.vocabulary:
            termid = sql.termid(self.store.cursor(), term)
            if termid is not None:
                if len(self._termids) >= MAX_CACHED_STEMS:
                    self._termids.clear()
                termid = self._termids[term] = int(termid)
        return termid

    def _postings(self, snap: _Snapshot, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(invoice ids, BM25 weights) of one term at this snapshot; a word nobody wrote, by its nearest word."""
        hit = snap.terms.get(term)
        if hit is not None:
            return hit
        termid = self._termid(term)
        if termid is not None:
            out = self._weights(snap, termid)
        else:
            # Of the words one slip away, the one most invoices contain (a word whose invoices are gone has none).
            out, used = _EMPTY, None
            for near_id, near_word in self.slips.near(term):
                found = self._weights(snap, near_id, FUZZY_WEIGHT)
                if len(found[0]) > len(out[0]):
                    out, used = found, near_word
            if used is not None:
                if len(snap.read_as) >= MAX_CACHED_STEMS:
                    snap.read_as.clear()
                snap.read_as[term] = used
            if not self.slips.current:
                return out  # the slip index is still reading words: ask again next time
        if snap.cached + len(out[0]) > MAX_CACHED_POSTINGS:
            snap.terms.clear()
            snap.cached = 0
        snap.terms[term] = out
        snap.cached += len(out[0])
        return out

    def _weights(self, snap: _Snapshot, termid: int, weight: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(invoice ids, BM25 weights times `weight`) of one dictionary term at this snapshot."""
        rows = sql.postings(self.store.cursor(), termid)
        ids = np.asarray(rows["invoice_id"], dtype=np.int64)
        tf = np.asarray(rows["tf"], dtype=np.float64)
        known = ids < len(snap.doc_len)  # a document written after the snapshot: mean length
        dl = np.where(known, snap.doc_len[np.minimum(ids, len(snap.doc_len) - 1)], snap.avgdl)
        df = len(ids)
        idf = np.log(1.0 + (snap.n_docs - df + 0.5) / (df + 0.5))
        norm = self.k1 * (1.0 - self.b + self.b * dl / snap.avgdl)
        return ids, weight * idf * tf * (self.k1 + 1.0) / (tf + norm)

    def read_as(self, tokens: list[str]) -> list[str]:
        """The indexed words that the last ranking of these tokens used for words no invoice contains."""
        snap = self._snapshot
        return [] if snap is None else [snap.read_as[t] for t in self.stems(tokens) if t in snap.read_as]

    # -- ranking --------------------------------------------------------------------------------
    def rank(self, tokens: list[str], n: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The n best (invoice_id, BM25 score) for query tokens, best first (ties by id), within allowed ids."""
        if not tokens or n <= 0:
            return []
        snap = self._current()
        lists = [self._postings(snap, term) for term in self.stems(tokens)]
        lists = [pair for pair in lists if len(pair[0])]
        if not lists:
            return []
        ids = np.concatenate([p[0] for p in lists])
        weights = np.concatenate([p[1] for p in lists])
        if len(lists) == 1:
            cand, scores = ids, weights
        elif len(ids) * 16 > len(snap.doc_len):  # many postings: add them up in a dense array
            dense = np.bincount(ids, weights=weights, minlength=len(snap.doc_len))
            cand = np.flatnonzero(dense)
            scores = dense[cand]
        else:
            cand, inverse = np.unique(ids, return_inverse=True)
            scores = np.bincount(inverse, weights=weights, minlength=len(cand))
        if allowed is not None:
            keep = np.isin(cand, allowed)
            cand, scores = cand[keep], scores[keep]
        if len(cand) > n:
            # Everything tied with the n-th score stays in, so ties break by id as in a full sort.
            cut = np.partition(scores, len(scores) - n)[len(scores) - n]
            keep = scores >= cut
            cand, scores = cand[keep], scores[keep]
        order = np.lexsort((cand, -scores))[:n]
        return [(int(cand[j]), float(scores[j])) for j in order]
