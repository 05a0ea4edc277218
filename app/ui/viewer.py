"""The page viewer's HTML: the page image with a thin box on each value, and its words for click-to-fill.

The picture travels inside the HTML (a data URI), so it never depends on a file route or a path prefix;
boxes and words are positioned in percent of the page, so zooming the picture keeps them on their text.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import html
import io
import re
from typing import TYPE_CHECKING, Any

from app.ui.drawing import field_label
from app.ui.forms import field_elem_id

if TYPE_CHECKING:
    from PIL import Image

    from extraction.schema import FieldInfo

Word = tuple[float, float, float, float, str]  # x0, y0, x1, y1 in 0..1 page units, the word

GOOD_FROM = 0.85
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_PUNCT = re.compile(r"^[^\w]+|[^\w]+$")


def image_data_uri(image: Image.Image) -> str:
    """The picture as an inline JPEG."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=88, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _value_tokens(value: Any) -> set[str]:
    """The ways a value can be printed, as lower-case tokens (a date also as its day, month name and year)."""
    if value is None:
        return set()
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        with contextlib.suppress(ValueError):
            value = dt.date.fromisoformat(value)
    if isinstance(value, dt.date):
        return {
            value.isoformat(),
            str(value.year),
            str(value.day),
            f"{value.day:02d}",
            f"{value.month:02d}",
            _MONTHS[value.month - 1],
            value.strftime("%B").lower(),
            value.strftime("%d.%m.%Y"),
            value.strftime("%d/%m/%Y"),
        }
    text = str(value).lower()
    tokens = {text, *text.split(), *(_PUNCT.sub("", t) for t in text.split())}
    try:
        number = float(text.replace(",", ""))
        grouped = f"{number:,.2f}"
        tokens |= {grouped, f"{number:.2f}", grouped.replace(",", " ").replace(".", ",").replace(" ", ".")}
    except ValueError:
        pass
    return {t for t in tokens if t}


def tight_box(info: FieldInfo, words: list[Word]) -> list[float] | None:
    """The field's box shrunk to the words inside it that print its value (the box as read when none do)."""
    if info.bbox is None or len(info.bbox) != 4:
        return None
    x0, y0, x1, y1 = (max(0.0, min(1.0, float(v))) for v in info.bbox)
    tokens = _value_tokens(info.value)
    inside = [
        w
        for w in words
        if x0 - 0.005 <= (w[0] + w[2]) / 2 <= x1 + 0.005 and y0 - 0.005 <= (w[1] + w[3]) / 2 <= y1 + 0.005
    ]
    hits = [w for w in inside if _PUNCT.sub("", w[4].lower()) in tokens or w[4].lower() in tokens]
    if not hits:
        return [x0, y0, x1, y1]
    return [min(w[0] for w in hits), min(w[1] for w in hits), max(w[2] for w in hits), max(w[3] for w in hits)]


def _pct(v: float) -> str:
    return f"{v * 100:.3f}%"


def _style(box: list[float]) -> str:
    x0, y0, x1, y1 = box
    return f"left:{_pct(x0)};top:{_pct(y0)};width:{_pct(max(0.004, x1 - x0))};height:{_pct(max(0.006, y1 - y0))}"


# A tag's size as a share of the page: 10 px text on a sheet 600 px wide, the narrowest the page shows it
# unzoomed (a wider sheet makes the tags relatively smaller, so the placement stays free of overlaps).
SHEET_PX = 600.0
TAG_CHAR_W = 6.0 / SHEET_PX
TAG_PAD_W = 8.0 / SHEET_PX
TAG_H_PX = 13.0 / SHEET_PX


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def tag_sides(boxes: dict[str, list[float]], aspect: float) -> dict[str, str]:
    """Where each box's label goes (r, l, a, b: right, left, above, below): the first side that stays on
    the page and covers no other value or label, so stacked amounts (subtotal, tax, total) stay readable."""
    tag_h = TAG_H_PX * aspect  # page fractions: x over the width, y over the height
    placed: list[tuple[float, float, float, float]] = [(x0, y0, x1, y1) for x0, y0, x1, y1 in boxes.values()]
    sides: dict[str, str] = {}
    for name, (x0, y0, x1, y1) in sorted(boxes.items(), key=lambda item: (item[1][1], item[1][0])):
        w = TAG_PAD_W + TAG_CHAR_W * len(field_label(name))
        spots = {
            "r": (x1 + 0.004, y0, x1 + 0.004 + w, y0 + tag_h),
            "l": (x0 - 0.004 - w, y0, x0 - 0.004, y0 + tag_h),
            "a": (x1 - w, y0 - tag_h - 0.002, x1, y0 - 0.002),
            "b": (x1 - w, y1 + 0.002, x1, y1 + 0.002 + tag_h),
        }
        own = (x0, y0, x1, y1)
        fits = [
            side
            for side, spot in spots.items()
            if spot[0] >= 0
            and spot[2] <= 1
            and spot[1] >= 0
            and spot[3] <= 1
            and not any(_overlaps(spot, other) for other in placed if other != own)
        ]
        side = fits[0] if fits else ("r" if x1 < 0.8 else "a")
        sides[name] = side
        placed.append(spots[side])
    return sides


def viewer_html(
    image: Image.Image | None,
    fields: dict[str, FieldInfo],
    page: int,
    words: list[Word],
    highlight: str | None = None,
    low_confidence: float = 0.6,
    note: str = "",
    message: str = "",
) -> str:
    """The viewer: picture, one thin labelled box per value on `page`, clickable words, a note above."""
    parts = [f"<div class='pv' data-page='{page}'>"]
    tools = (
        "<div class='pv-tools'><button type='button' class='pv-zoom' data-zoom='-1' title='Zoom out (-)'>−</button>"
        "<button type='button' class='pv-zoom' data-zoom='0' title='Fit width (0)'>Fit</button>"
        "<button type='button' class='pv-zoom' data-zoom='1' title='Zoom in (+)'>+</button>"
        f"<span class='pv-note'>{html.escape(note)}</span></div>"
    )
    parts.append(tools)
    if image is None:
        parts.append(f"<div class='pv-empty'>{html.escape(message)}</div></div>")
        return "".join(parts)
    parts.append("<div class='pv-scroll'><div class='pv-sheet'>")
    parts.append(f"<img class='pv-img' alt='Page {page}' src='{image_data_uri(image)}'>")
    boxes = {
        name: box
        for name, info in sorted(fields.items())
        if not name.startswith("line_items") and info.page == page and info.value is not None
        if (box := tight_box(info, words)) is not None
    }
    sides = tag_sides(boxes, image.width / image.height)
    for name, box in boxes.items():
        info = fields[name]
        level = "good" if info.confidence >= max(low_confidence, GOOD_FROM) else "fair"
        level = "poor" if info.confidence < low_confidence else level
        selected = " sel" if name == highlight else ""
        side = f" tag-{sides[name]}"
        label = html.escape(field_label(name))
        elem = field_elem_id(name)
        parts.append(
            f"<div class='pv-box {level}{selected}{side}' data-field='{html.escape(name)}' data-elem='{elem}'"
            f" style='{_style(box)}'"
            f" title='{label}: {html.escape(str(info.value))} ({info.confidence:.0%})'>"
            f"<span class='pv-tag'>{label}</span></div>"
        )
    for x0, y0, x1, y1, text in words:
        style = _style([x0, y0, x1, y1])
        parts.append(f"<span class='pv-word' data-text='{html.escape(text)}' style='{style}'></span>")
    parts.append("</div></div></div>")
    return "".join(parts)
