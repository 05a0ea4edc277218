"""OCR's letter-for-digit confusions inside figures, undone without moving any character.

`2O19-04-02`, `1O.5O` and `3l/12/2O18` read as `2019-04-02`, `10.50` and `31/12/2018`. Only a letter
that sits inside a run of figures is changed (between digits or separators, or a last decimal after a
separator), so words (`OIL`), units (`20l`) and codes keep their letters. The result has the same
length as the input, so every span found in it is a span of the original text.
"""

from __future__ import annotations

import re

_LOOKALIKE = {"O": "0", "o": "0", "D": "0", "l": "1", "I": "1", "|": "1", "S": "5"}
# A run of figures; after letters (a currency such as "RM") only one that starts with a digit.
_RUN = re.compile(r"(?:(?<![A-Za-z])[0-9OoDlI|S]|(?<=[A-Za-z])[0-9])[0-9OoDlI|S.,:/\-]*[0-9OoDlI|S](?![A-Za-z])")
_SEPARATORS = ".,:/-"


def _fix_run(run: str) -> str:
    digits = sum(ch.isdigit() for ch in run)
    letters = sum(ch in _LOOKALIKE for ch in run)
    if digits < 2 or letters == 0 or letters > digits:
        return run
    out = list(run)
    for i, ch in enumerate(run):
        if ch not in _LOOKALIKE:
            continue
        prev = run[i - 1] if i > 0 else ""
        nxt = run[i + 1] if i + 1 < len(run) else ""
        inside = prev != "" and nxt != "" and (prev.isdigit() or prev in _SEPARATORS)
        inside = inside and (nxt.isdigit() or nxt in _SEPARATORS)
        inside = inside or (prev == "" and nxt.isdigit() and ch not in "S|")
        # A last decimal after a separator: "10.5O".
        last_decimal = nxt == "" and prev.isdigit() and i >= 2 and run[i - 2] in ".,"
        if inside or last_decimal:
            out[i] = _LOOKALIKE[ch]
    return "".join(out)


_LOOKALIKE_CHAR = re.compile(f"[{re.escape(''.join(_LOOKALIKE))}]")
_ASCII_DIGIT = re.compile(r"[0-9]")


def normalise_figures(text: str) -> str:
    """`text` with look-alike letters inside figures read as digits; same length as `text`."""
    # A run changes only when it holds two digits and a look-alike: most text holds no digit or no look-alike.
    if _LOOKALIKE_CHAR.search(text) is None or _ASCII_DIGIT.search(text) is None:
        return text
    return _RUN.sub(lambda m: _fix_run(m.group(0)), text)
