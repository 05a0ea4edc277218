"""Words one typing slip from another: a symmetric-delete index over the keyword dictionary's words."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from retrieval.repository import search as sql

if TYPE_CHECKING:
    from retrieval.repository.database import Store

MIN_LETTERS = 4  # shorter words are too alike to tell a slip from another word
MAX_LETTERS = 24
PENDING_WORDS = 8_192  # newly seen words kept in dicts until merged into the sorted arrays
INLINE_MAX = 5_000  # new dictionary words read while a search waits (some 40 ms); more are read in the background
_CHUNK = 50_000


def forms(word: str) -> set[str]:
    """The word itself and every form of it with one letter left out."""
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


class _Arrays(NamedTuple):
    """The merged words: form hashes sorted with their term ids, and the words by term id."""

    form_keys: np.ndarray  # int64, sorted
    form_ids: np.ndarray  # int32, the term id of each form
    word_ids: np.ndarray  # int32, sorted (term ids only grow)
    words: np.ndarray  # fixed-width ASCII bytes, the word of each id


_EMPTY = _Arrays(np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, f"S{MAX_LETTERS}"))


def _merged(arrays: _Arrays, rows: list[tuple[str, int]]) -> _Arrays:
    """The arrays with dictionary rows (term, id; ids above all present ones, ascending) added."""
    keys, ids = [], []
    for lo in range(0, len(rows), _CHUNK):  # in chunks: the peak memory stays near the result's
        chunk = rows[lo : lo + _CHUNK]
        sets = [forms(term) for term, _ in chunk]
        counts = np.fromiter((len(s) for s in sets), np.int64, len(sets))
        keys.append(np.fromiter((hash(f) for s in sets for f in s), np.int64, int(counts.sum())))
        ids.append(np.repeat(np.fromiter((t for _, t in chunk), np.int32, len(chunk)), counts))
    new_keys = np.concatenate(keys)
    order = np.argsort(new_keys, kind="stable")
    new_keys, new_ids = new_keys[order], np.concatenate(ids)[order]
    at = np.searchsorted(arrays.form_keys, new_keys)
    return _Arrays(
        np.insert(arrays.form_keys, at, new_keys),
        np.insert(arrays.form_ids, at, new_ids),
        np.concatenate([arrays.word_ids, np.fromiter((t for _, t in rows), np.int32, len(rows))]),
        np.concatenate([arrays.words, np.array([term.encode() for term, _ in rows], f"S{MAX_LETTERS}")]),
    )


class SlipIndex:
    """Indexed words within one slip (a letter added, dropped or replaced, or two neighbours swapped) of a word.

    Each dictionary word of 4 to 24 letters is filed under the hashes of its forms (`forms`); two words one
    slip apart share a form, and candidates are confirmed by their true distance, all in memory (some 130
    bytes per word). Kept in step with the dictionary by term id like the Vocabulary: a few new words are
    read while a search waits, a large backlog (the first load of a big history) in a background thread,
    meanwhile answering from what is read.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._arrays = _EMPTY  # replaced whole, so a reader holds one consistent set
        self._pending_forms: dict[int, list[int]] = {}  # form hash -> term ids, of words not yet merged
        self._pending_words: dict[int, str] = {}  # term id -> word, not yet merged
        self._max_termid = 0
        self._generation = -1
        self._lock = threading.Lock()

    @property
    def current(self) -> bool:
        """Whether every word of the store's current generation is indexed."""
        return self._generation == self.store.generation

    def refresh(self) -> None:
        """Read the dictionary words added since the last refresh (waits for one already running)."""
        with self._lock:
            self._refresh_locked()

    def _catch_up(self) -> None:
        if self.current:
            return
        newest = sql.newest_termid(self.store.cursor()) or 0
        if newest - self._max_termid > INLINE_MAX:
            if not self._lock.locked():
                threading.Thread(target=self.refresh, name="slip-index", daemon=True).start()
        elif self._lock.acquire(blocking=False):  # a refresh already running is not waited for
            try:
                self._refresh_locked()
            finally:
                self._lock.release()

    def _refresh_locked(self) -> None:
        generation = self.store.generation
        if generation == self._generation:
            return
        # Read after taking the generation: the data is at least as new as the label.
        newest = int(sql.newest_termid(self.store.cursor()) or 0)
        rows = sql.words_between(self.store.cursor(), self._max_termid, newest, f"[a-z]{{{MIN_LETTERS},{MAX_LETTERS}}}")
        if rows:
            self._add(rows)
        self._max_termid = max(self._max_termid, newest)
        self._generation = generation

    def _add(self, rows: list[tuple[str, int]]) -> None:
        if len(self._pending_words) + len(rows) <= PENDING_WORDS:
            for term, termid in rows:
                for form in forms(term):
                    self._pending_forms.setdefault(hash(form), []).append(int(termid))
                self._pending_words[int(termid)] = term
            return
        # Many words (the first load of a big history, or the pending ones grown too many): into the arrays.
        pending = sorted((termid, term) for termid, term in self._pending_words.items())
        self._arrays = _merged(self._arrays, [(term, termid) for termid, term in pending] + rows)
        # Readers see the merged arrays before the pending words go: a word is never missing meanwhile.
        self._pending_forms, self._pending_words = {}, {}

    def near(self, word: str) -> list[tuple[int, str]]:
        """(term id, word) of the indexed words closest to a word, at most one slip away, by spelling."""
        if not MIN_LETTERS <= len(word) <= MAX_LETTERS or not (word.isascii() and word.isalpha()):
            return []
        self._catch_up()
        # Pending before arrays: a merge publishes the arrays first, so every word is in one or the other.
        pending_forms, pending_words = self._pending_forms, self._pending_words
        arrays = self._arrays
        hashes = [hash(form) for form in forms(word)]
        found: dict[int, bytes] = {}  # term id -> word, compared as bytes (the words are ASCII)
        for key in hashes:
            for termid in pending_forms.get(key, ()):
                text = pending_words.get(termid)
                if text is not None:  # None: its word is being filed at this moment
                    found[termid] = text.encode()
        starts = np.searchsorted(arrays.form_keys, hashes, "left")
        ends = np.searchsorted(arrays.form_keys, hashes, "right")
        ids = np.unique(np.concatenate([arrays.form_ids[a:b] for a, b in zip(starts, ends, strict=True)]))
        if len(ids):
            at = np.searchsorted(arrays.word_ids, ids)
            found.update(zip(ids.tolist(), arrays.words[at].tolist(), strict=True))
        termids = list(found)
        matches = process.extract(
            word.encode(), [found[t] for t in termids], scorer=OSA.distance, score_cutoff=1, limit=None
        )
        fewest = min((slips for _, slips, _ in matches), default=None)
        return sorted(
            ((termids[k], text.decode()) for text, slips, k in matches if slips == fewest), key=lambda hit: hit[1]
        )
