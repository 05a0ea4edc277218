"""Words one typing slip from another: a symmetric-delete index over the keyword dictionary's words."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz.distance import OSA

if TYPE_CHECKING:
    from retrieval.store import Store

MIN_LETTERS = 4  # shorter words are too alike to tell a slip from another word
MAX_LETTERS = 24
PENDING_WORDS = 8_192  # newly seen words kept in a dict until merged into the sorted arrays
INLINE_MAX = 5_000  # new dictionary words read while a search waits (some 40 ms); more are read in the background
_CHUNK = 50_000


def forms(word: str) -> set[str]:
    """The word itself and every form of it with one letter left out."""
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


def _form_arrays(rows: list[tuple[str, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(form hashes, term ids) of dictionary rows, sorted by hash; built in chunks to bound the peak memory."""
    keys, ids = [], []
    for lo in range(0, len(rows), _CHUNK):
        chunk = rows[lo : lo + _CHUNK]
        sets = [forms(term) for term, _ in chunk]
        counts = np.fromiter((len(s) for s in sets), np.int64, len(sets))
        keys.append(np.fromiter((hash(f) for s in sets for f in s), np.int64, int(counts.sum())))
        ids.append(np.repeat(np.fromiter((t for _, t in chunk), np.int32, len(chunk)), counts))
    key_array = np.concatenate(keys) if keys else np.zeros(0, np.int64)
    order = np.argsort(key_array, kind="stable")
    return key_array[order], (np.concatenate(ids) if ids else np.zeros(0, np.int32))[order]


class SlipIndex:
    """Indexed words within one slip (a letter added, dropped or replaced, or two neighbours swapped) of a word.

    Each dictionary word of 4 to 24 letters is filed under the hashes of its forms (`forms`); two words one
    slip apart share a form, and candidates are confirmed by their true distance. Kept in step with the
    dictionary by term id like the Vocabulary: a few new words are read while a search waits, a large backlog
    (the first load of a big history) in a background thread, meanwhile answering from what is read. About
    12 bytes per form, some 100 bytes per word.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._sorted = (np.zeros(0, np.int64), np.zeros(0, np.int32))  # (form hashes, term ids), swapped whole
        self._pending: dict[int, list[int]] = {}  # form hash -> term ids, for words not yet in the arrays
        self._pending_rows: list[tuple[str, int]] = []
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
        newest = self.store.scalar("SELECT max(termid) FROM fts_dict") or 0
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
        newest = int(self.store.scalar("SELECT max(termid) FROM fts_dict") or 0)
        rows = self.store.fetch(
            "SELECT term, termid FROM fts_dict WHERE termid > ? AND termid <= ? AND regexp_full_match(term, ?)"
            " ORDER BY termid",
            [self._max_termid, newest, f"[a-z]{{{MIN_LETTERS},{MAX_LETTERS}}}"],
        )
        if rows:
            self._add(rows)
        self._max_termid = max(self._max_termid, newest)
        self._generation = generation

    def _add(self, rows: list[tuple[str, int]]) -> None:
        if len(self._pending_rows) + len(rows) <= PENDING_WORDS:
            for term, termid in rows:
                for form in forms(term):
                    self._pending.setdefault(hash(form), []).append(int(termid))
            self._pending_rows.extend(rows)
            return
        # Many words (the first load of a big history, or the pending ones grown too many): into the arrays.
        keys, ids = self._sorted
        new_keys, new_ids = _form_arrays(self._pending_rows + rows)
        at = np.searchsorted(keys, new_keys)
        # Readers see the merged arrays before the pending forms go: a form is never missing meanwhile.
        self._sorted = (np.insert(keys, at, new_keys), np.insert(ids, at, new_ids))
        self._pending, self._pending_rows = {}, []

    def candidates(self, word: str) -> set[int]:
        """Term ids of indexed words sharing a form with the word (true distance not yet checked)."""
        self._catch_up()
        keys, ids = self._sorted
        pending = self._pending
        hashes = [hash(form) for form in forms(word)]
        found = {termid for key in hashes for termid in pending.get(key, ())}
        starts = np.searchsorted(keys, hashes, "left")
        ends = np.searchsorted(keys, hashes, "right")
        for start, end in zip(starts, ends, strict=True):
            found.update(ids[start:end].tolist())
        return found

    def nearest(self, word: str) -> tuple[int, str] | None:
        """(term id, word) of the closest word at most one slip away (more invoices, then spelling, on a tie)."""
        if not MIN_LETTERS <= len(word) <= MAX_LETTERS or not (word.isascii() and word.isalpha()):
            return None
        ids = self.candidates(word)
        if not ids:
            return None
        # Words with no invoice left (all deleted) stay in the dictionary: the join leaves them out.
        rows = self.store.fetch(
            """SELECT d.termid, d.term, count(*) FROM fts_dict d JOIN fts_postings p ON p.termid = d.termid
               WHERE d.termid IN (SELECT unnest(?::INTEGER[])) GROUP BY d.termid, d.term""",
            [sorted(ids)],
        )
        near = [(OSA.distance(word, term, score_cutoff=1), -docs, term, termid) for termid, term, docs in rows]
        best = min(near, default=None)
        return (int(best[3]), best[2]) if best is not None and best[0] <= 1 else None
