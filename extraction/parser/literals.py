"""The pieces of text a regular expression cannot match without: which of many patterns a text could match.

Reading a text's labels meant scanning it with every pattern of every label kind (alternations of many
words, tried at every word start), and most texts hold no label of most kinds. Nearly every pattern
needs one of a few literal strings (its words); a `Sieve` cuts each to its first GRAM characters and
indexes them, so the patterns a text could match come from the set of its own short pieces, a few set
operations instead of a hundred scans. It only ever leaves out patterns that cannot match: a pattern
whose needs are unknown (a character class first, a case-insensitive flag) is always kept.
"""

from __future__ import annotations

import operator
import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

GRAM = 3  # needs are cut to their first GRAM characters; a text's pieces are those of 1 to GRAM characters
_ZERO_WIDTH = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT))


class Sieve:
    """Which of a list of patterns could match a text, from the pieces of text each one needs."""

    def __init__(self, patterns: Sequence[str]) -> None:
        found = [needs(p) for p in patterns]
        self.always = frozenset(i for i, need in enumerate(found) if need is None)
        index: dict[str, set[int]] = {}
        for i, need in enumerate(found):
            for piece in need or ():
                index.setdefault(piece, set()).add(i)
        self._index = {piece: frozenset(ids) for piece, ids in index.items()}
        self._keys = frozenset(index)

    def possible(self, text: str) -> frozenset[int]:
        """The indexes of the patterns that could match `text` (the others cannot)."""
        found = pieces(text) & self._keys
        return self.always.union(*map(self._index.__getitem__, found))


def needs(pattern: str) -> frozenset[str] | None:
    """Pieces of up to GRAM characters one of which every match of `pattern` holds (None: unknown)."""
    try:
        parsed = sre_parse.parse(pattern)
        if parsed.state.flags & re.IGNORECASE:
            return None
        clauses = _clauses(parsed.data)
    except (AttributeError, TypeError, ValueError):  # the private parse tree took another shape: scan always
        return None
    return frozenset(s[:GRAM] for s in _most_telling(clauses)) if clauses else None


def _most_telling(clauses: list[set[str]]) -> set[str]:
    """The set of strings that rules out most texts: its shortest string the longest, then the fewest strings."""
    return max(clauses, key=lambda c: (min(map(len, c)), -len(c)))


def _clauses(items: list[tuple[Any, Any]]) -> list[set[str]]:
    """Sets of literal strings such that every match of a parsed sequence holds one string of each set.

    Every item of a sequence takes part in every match: each literal run (zero-width assertions do not
    break one) and each group, alternation or repetition that needs literal text adds a set.
    """
    out: list[set[str]] = []
    run = ""
    for op, av in items:
        if op is sre.LITERAL:
            run += chr(av)
            continue
        if op in _ZERO_WIDTH:
            continue
        if run:
            out.append({run})
            run = ""
        out.extend(_item_clauses(op, av))
    if run:
        out.append({run})
    return out


def _item_clauses(op: Any, av: Any) -> list[set[str]]:
    """The sets of literal strings (as in `_clauses`) that every match of one consuming item needs."""
    if op is sre.SUBPATTERN:
        _group, add_flags, _del_flags, sub = av
        return [] if add_flags & re.IGNORECASE else _clauses(sub.data)
    if op is sre.BRANCH:
        merged: set[str] = set()
        for alternative in av[1]:
            clauses = _clauses(alternative.data)
            if not clauses:
                return []
            merged |= _most_telling(clauses)
        return [merged]
    if op in _REPEATS:
        low, _high, sub = av
        return _clauses(sub.data) if low >= 1 else []
    if op is sre.IN and all(kind is sre.LITERAL for kind, _ in av):
        return [{chr(code) for _, code in av}]
    return []


def pieces(text: str) -> set[str]:
    """Every piece of one to GRAM characters of `text`."""
    out = set(text)
    grams: Iterable[str] = text
    for n in range(2, GRAM + 1):
        grams = list(map(operator.add, grams, text[n - 1 :]))  # each piece of n - 1 characters and the next one
        out.update(grams)
    return out
