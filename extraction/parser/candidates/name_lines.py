"""A chosen party name printed over several lines: the windows of neighbouring lines it could span.

The name scorer ranks single lines (and a line joined with the next); a seller's name is often printed
over two or three lines ("LIAN CHI PU TIAN VEGETARIAN" / "RESTAURANT SDN BHD", "AIK HUAT HARDWARE" /
"ENTERPRISE (SETIA" / "ALAM) SDN BHD"). Given the line the scorer chose, every window of up to
MAX_LINES lines around it is a candidate, described by how its added lines are printed next to the
chosen one (size, alignment, gap, capitals) and what they hold (a legal form, an address, digits). The
`vendor_lines` scorer picks the window; the chosen line alone is one of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from extraction.parser.candidates import Candidate, Layout
from extraction.parser.candidates.names import clean_name, name_text_features
from extraction.parser.nearby import labels_in
from extraction.parser.vocab import COMPANY_SUFFIX

if TYPE_CHECKING:
    from extraction.parser.context import Line

MAX_LINES = 4
REACH = 2  # lines added above or below the chosen one, at most
_ADDRESSISH = ("street", "postcode", "email_or_web", "registration", "has_label")


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def _parens_open(text: str) -> int:
    return text.count("(") - text.count(")")


def _joinable(line: Line) -> bool:
    text = line.text.strip()
    return _letters(text) >= 2 and len(text) <= 60


def windows(layout: Layout, anchor: Line) -> list[tuple[int, int]]:
    """(first, last) positions on the anchor's page of every window of lines around it, itself first."""
    lines = layout.page_lines[anchor.page]
    at = layout.position[anchor.index]
    out = [(at, at)]
    for up in range(REACH + 1):
        for down in range(REACH + 1):
            lo, hi = at - up, at + down
            fits = (up or down) and up + down < MAX_LINES and lo >= 0 and hi < len(lines)
            if fits and all(_joinable(lines[i]) for i in range(lo, hi + 1)):
                out.append((lo, hi))
    return out


def _height_ratio(layout: Layout, anchor: Line, other: Line) -> float:
    """`other`'s print size against the anchor's (1 where either has no box of its own)."""
    ha, hb = layout.height.get(anchor.index), layout.height.get(other.index)
    return hb / ha if ha and hb else 1.0


def _box_features(layout: Layout, anchor: Line, other: Line, prefix: str) -> dict[str, float]:
    """How `other` is printed beside the anchor: size, horizontal alignment, vertical gap."""
    out = {f"{prefix}_height_ratio": _height_ratio(layout, anchor, other)}
    a, b = anchor.bbox, other.bbox
    if a is not None and b is not None and a[3] > a[1]:
        height = a[3] - a[1]
        out[f"{prefix}_center_shift"] = abs((a[0] + a[2]) / 2 - (b[0] + b[2]) / 2) / height
        out[f"{prefix}_left_shift"] = abs(a[0] - b[0]) / height
        out[f"{prefix}_width_ratio"] = (b[2] - b[0]) / max(a[2] - a[0], 1e-6)
        out[f"{prefix}_gap"] = max(b[1] - a[3], a[1] - b[3]) / height
    return out


def _line_features(layout: Layout, anchor: Line, line: Line, prefix: str) -> dict[str, float]:
    """One added line: its print beside the anchor and what its text holds."""
    text = line.text.strip()
    f = _box_features(layout, anchor, line, prefix)
    shape = name_text_features(text)
    for key in ("upper_ratio", "digits", "legal_suffix", "business_word", "words", "lower_start", *_ADDRESSISH):
        f[f"{prefix}_{key}"] = shape[key]
    f[f"{prefix}_letters"] = float(min(_letters(text), 40))
    f[f"{prefix}_cells"] = float(len(line.cells))
    f[f"{prefix}_parens"] = float(_parens_open(text))
    f[f"{prefix}_labels"] = float(len(labels_in(text)))
    return f


def spans_whole_lines(cand: Candidate) -> bool:
    """Whether a name candidate is its whole line (or two joined lines): the only kind windows extend."""
    f = cand.features
    whole_cell = f.get("variant_cell", 0) and cand.line is not None and len(cand.line.cells) == 1
    return bool(whole_cell or f.get("variant_line", 0) or f.get("variant_joined", 0))


def window_candidates(layout: Layout, chosen: Candidate) -> list[Candidate]:
    """The windows of lines around a chosen name's line, as name candidates with their features."""
    anchor = chosen.line
    if anchor is None or anchor.page not in layout.page_lines:
        return []
    lines = layout.page_lines[anchor.page]
    at = layout.position[anchor.index]
    # What every window shares: where the chosen line stands and what it holds.
    base = layout.line_features(anchor)
    base.update({f"anchor_{k}": v for k, v in name_text_features(anchor.text.strip()).items()})
    base["anchor_parens"] = float(_parens_open(anchor.text))
    base["anchor_is_chosen_text"] = float(clean_name(anchor.text) == chosen.value)
    out: list[Candidate] = []
    for lo, hi in windows(layout, anchor):
        span = lines[lo : hi + 1]
        text = " ".join(ln.text.strip() for ln in span)
        value = chosen.value if lo == hi == at else clean_name(text)
        if not value:
            continue
        f = dict(base)
        f["above"] = float(at - lo)
        f["below"] = float(hi - at)
        f["lines"] = float(hi - lo + 1)
        f["window_parens"] = float(abs(_parens_open(text)))
        f["window_suffix_last"] = float(bool(COMPANY_SUFFIX.search(span[-1].text)))
        f["window_letters"] = float(min(_letters(text), 90))
        if lo < at:
            f.update(_line_features(layout, anchor, lines[lo], "top"))
        if hi > at:
            f.update(_line_features(layout, anchor, lines[hi], "bottom"))
        # What stands just outside the window: a name block ends where the address starts.
        if lo > 0:
            f.update(_outside(layout, anchor, lines[lo - 1], "before"))
        if hi + 1 < len(lines):
            f.update(_outside(layout, anchor, lines[hi + 1], "after"))
        out.append(Candidate("name", value, text, span[0], 0, len(span[0].text), f, lines=tuple(span)))
    return out


def _outside(layout: Layout, anchor: Line, line: Line, prefix: str) -> dict[str, float]:
    text = line.text.strip()
    shape = name_text_features(text)
    f = {f"{prefix}_{key}": shape[key] for key in ("upper_ratio", "digits", "legal_suffix", *_ADDRESSISH)}
    f[f"{prefix}_height_ratio"] = _height_ratio(layout, anchor, line)
    f[f"{prefix}_letters"] = float(min(_letters(text), 40))
    return f
