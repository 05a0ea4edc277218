"""Text folding: lower case without accents, one character at a time through a lazily built table."""

from __future__ import annotations

import unicodedata

# Letters NFKD leaves whole although readers take them for a base letter.
UNDECOMPOSED = {
    "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
}  # fmt: skip


class FoldTable(dict[int, str]):
    """str.translate table built lazily: each character once to its compatibility form without accents.

    `replace` maps characters to stand-ins before that (letters NFKD keeps whole, hyphens as spaces, ...).
    """

    def __init__(self, replace: dict[str, str]) -> None:
        super().__init__()
        self.replace = replace

    def __missing__(self, code: int) -> str:
        char = chr(code)
        decomposed = unicodedata.normalize("NFKD", self.replace.get(char, char))
        folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        if len(self) < 65536:  # bounded even for text that runs through all of Unicode
            self[code] = folded
        return folded


_FOLD = FoldTable(UNDECOMPOSED)


def fold(text: str) -> str:
    """Lower case without accents (what search and vendor names compare)."""
    if text.isascii():
        return text.lower()
    # Per character is the same as on the whole text: only combining marks reorder, and they are dropped.
    return text.translate(_FOLD).lower()
