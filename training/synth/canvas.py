"""A display list of pages (text, rules, boxes, images) written to a PDF with a real text layer in one go.

Drawing into a list first lets a layout measure before it commits (a till slip's length is known only at
its end) and lets every value the labels point at keep its box.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pymupdf

BLACK = (0.0, 0.0, 0.0)
WHITE = (1.0, 1.0, 1.0)

# Families: (regular, bold, italic). 'noto' is MuPDF's built-in Noto Serif (it has the rupee sign).
FAMILIES: dict[str, tuple[str, str, str]] = {
    "helv": ("helv", "hebo", "heit"),
    "tiro": ("tiro", "tibo", "tiit"),
    "cour": ("cour", "cobo", "coit"),
    "noto": ("noto", "noto", "noto"),
}
FALLBACK = "noto"

_FONTS: dict[str, pymupdf.Font] = {}
_ADVANCES: dict[str, dict[str, float]] = {}


def font(name: str) -> pymupdf.Font:
    """A cached built-in font."""
    if name not in _FONTS:
        _FONTS[name] = pymupdf.Font(script=0) if name == "noto" else pymupdf.Font(name)
        _ADVANCES[name] = {}
    return _FONTS[name]


def _advance(name: str, ch: str) -> float:
    table = _ADVANCES.get(name)
    if table is None:
        font(name)
        table = _ADVANCES[name]
    adv = table.get(ch)
    if adv is None:
        f = _FONTS[name]
        adv = f.glyph_advance(ord(ch)) if f.has_glyph(ord(ch)) else -1.0
        table[ch] = adv
    return adv


def covers(name: str, text: str) -> bool:
    """Whether the font has a glyph for every character."""
    return all(_advance(name, ch) >= 0 or ch in " \u00a0" for ch in text)


def text_width(name: str, text: str, size: float) -> float:
    """Advance width of a string in points."""
    return sum(max(_advance(name, ch), 0.25) for ch in text) * size


@dataclass
class Span:
    """Where a labelled value (or its label) was drawn: page (1-based), box in points, the exact text."""

    field: str
    page: int
    bbox: tuple[float, float, float, float]
    text: str


@dataclass
class Page:
    """One page's drawing operations."""

    width: float
    height: float
    shapes: list[tuple] = field(default_factory=list)
    images: list[tuple] = field(default_factory=list)
    texts: list[tuple] = field(default_factory=list)
    stamps: list[tuple] = field(default_factory=list)


class Canvas:
    """Pages to draw on; text goes to the text layer, images carry no text."""

    def __init__(self, width: float, height: float):
        self.pages: list[Page] = [Page(width, height)]
        self.spans: list[Span] = []
        self._current = 0

    @property
    def page(self) -> Page:
        """The page being drawn."""
        return self.pages[self._current]

    @property
    def page_number(self) -> int:
        """1-based number of the page being drawn."""
        return self._current + 1

    def new_page(self, width: float | None = None, height: float | None = None) -> None:
        """Start another page of the same (or a given) size."""
        self.pages.append(Page(width or self.page.width, height or self.page.height))
        self._current = len(self.pages) - 1

    @contextmanager
    def on_page(self, number: int) -> Iterator[None]:
        """Draw on an earlier page (1-based) for the duration of the block."""
        keep, self._current = self._current, number - 1
        try:
            yield
        finally:
            self._current = keep

    def text(self, x: float, y: float, s: str, size: float, fontname: str = "helv", color=BLACK,
             align: str = "left", field: str | None = None) -> float:  # fmt: skip
        """Draw one line with its baseline at y; returns its width. `field` records its box."""
        if not s:
            return 0.0
        if not covers(fontname, s):
            fontname = FALLBACK
        w = text_width(fontname, s, size)
        room = self.page.width - 4
        if w > room:  # condense rather than run off the sheet
            size, w = size * room / w, room
        if align == "right":
            x -= w
        elif align == "center":
            x -= w / 2
        x = min(max(x, 2.0), self.page.width - 2 - w)
        self.page.texts.append((x, y, s, size, fontname, tuple(color)))
        if field:
            self.mark(field, x, y, w, size, s)
        return w

    def mark(self, field: str, x: float, y: float, w: float, size: float, s: str) -> None:
        """Record a span for a text already placed at (x, baseline y)."""
        self.spans.append(Span(field, self.page_number, (x, y - 0.8 * size, x + w, y + 0.22 * size), s))

    def width(self, s: str, size: float, fontname: str = "helv") -> float:
        """Width the text would take."""
        return text_width(fontname if covers(fontname, s) else FALLBACK, s, size)

    def wrap(self, s: str, max_width: float, size: float, fontname: str = "helv") -> list[str]:
        """Split text into lines no wider than max_width (words are never broken)."""
        lines: list[str] = []
        current = ""
        for word in s.split():
            trial = f"{current} {word}" if current else word
            if current and self.width(trial, size, fontname) > max_width:
                lines.append(current)
                current = word
            else:
                current = trial
        if current:
            lines.append(current)
        return lines

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill=None, stroke=None, width: float = 0.5) -> None:
        """A box, filled and/or stroked."""
        self.page.shapes.append(("rect", (x0, y0, x1, y1), fill, stroke, width, None))

    def line(self, x0: float, y0: float, x1: float, y1: float, color=BLACK, width: float = 0.5,
             dashes: str | None = None) -> None:  # fmt: skip
        """A rule."""
        self.page.shapes.append(("line", (x0, y0, x1, y1), None, color, width, dashes))

    def image(self, x0: float, y0: float, x1: float, y1: float, pixmap: pymupdf.Pixmap) -> None:
        """A raster image (its pixels carry no text layer)."""
        self.page.images.append(((x0, y0, x1, y1), pixmap))

    def stamp(self, x: float, y: float, s: str, size: float, color, angle: float, fontname: str = "hebo",
              boxed: bool = True) -> None:  # fmt: skip
        """Rotated text with an optional frame, like a rubber stamp."""
        self.page.stamps.append((x, y, s, size, fontname, tuple(color), angle, boxed))

    def to_pdf(self) -> bytes:
        """Write every page; identical display lists give identical bytes."""
        doc = pymupdf.open()
        for spec in self.pages:
            page = doc.new_page(width=spec.width, height=spec.height)
            _draw_shapes(page, spec.shapes)
            for (x0, y0, x1, y1), pix in spec.images:
                page.insert_image(pymupdf.Rect(x0, y0, x1, y1), pixmap=pix)
            writers: dict[tuple, pymupdf.TextWriter] = {}
            for x, y, s, size, fontname, color in spec.texts:
                writer = writers.get(color)
                if writer is None:
                    writer = writers[color] = pymupdf.TextWriter(page.rect, color=color)
                writer.append((x, y), s, font=font(fontname), fontsize=size)
            for writer in writers.values():
                writer.write_text(page)
            for x, y, s, size, fontname, color, angle, boxed in spec.stamps:
                _draw_stamp(page, x, y, s, size, fontname, color, angle, boxed)
        data = doc.tobytes(garbage=1, deflate=True, no_new_id=True)
        doc.close()
        return data


def _draw_shapes(page: pymupdf.Page, shapes: list[tuple]) -> None:
    if not shapes:
        return
    shape = page.new_shape()
    for kind, geom, fill, stroke, width, dashes in shapes:
        if kind == "rect":
            shape.draw_rect(pymupdf.Rect(*geom))
        else:
            shape.draw_line(pymupdf.Point(geom[0], geom[1]), pymupdf.Point(geom[2], geom[3]))
        shape.finish(color=stroke, fill=fill, width=width, dashes=dashes)
    shape.commit()


def _draw_stamp(page, x, y, s, size, fontname, color, angle, boxed) -> None:
    f = font(fontname)
    w = text_width(fontname, s, size)
    pivot = pymupdf.Point(x + w / 2, y - size / 3)
    morph = (pivot, pymupdf.Matrix(angle))
    writer = pymupdf.TextWriter(page.rect, color=color)
    writer.append((x, y), s, font=f, fontsize=size)
    writer.write_text(page, morph=morph)
    if boxed:
        shape = page.new_shape()
        shape.draw_rect(pymupdf.Rect(x - size * 0.4, y - size * 1.05, x + w + size * 0.4, y + size * 0.4))
        shape.finish(color=color, width=max(1.0, size / 12), morph=morph)
        shape.commit()
