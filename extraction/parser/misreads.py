"""A word of a closed vocabulary (month names, legal forms) that OCR misread by one letter."""

from __future__ import annotations

from collections.abc import Iterable


def one_letter_off(a: str, b: str) -> bool:
    """Whether `a` becomes `b` by changing, adding or dropping one letter."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def only_match(word: str, vocabulary: Iterable[str]) -> str | None:
    """The one vocabulary word `word` is one letter off from; None when none or several are."""
    found = {v for v in vocabulary if one_letter_off(word, v)}
    return found.pop() if len(found) == 1 else None
