"""Company logos as raster images: an emblem and/or a wordmark whose letters are pixels, not text."""

from __future__ import annotations

import random

import pymupdf

from training.synth.canvas import WHITE, font, text_width


def make_logo(rng: random.Random, name: str | None, color: tuple[float, float, float], height: float,
              max_width: float) -> tuple[pymupdf.Pixmap, float, float]:  # fmt: skip
    """A logo about `height` points tall: (pixmap, width, height) in points. name=None draws an emblem only."""
    emblem = name is None or rng.random() < 0.55
    words = None
    if name:
        words = name.upper() if rng.random() < 0.5 else name
    fontname = rng.choice(("hebo", "tibo", "hebi", "cobo", "tibi"))
    text_size = height * (0.42 if emblem else 0.62)
    lines = [words] if words else []
    if words and text_width(fontname, words, text_size) > max_width - (height if emblem else 0):
        half = words.split()
        cut = max(1, len(half) // 2)
        lines = [" ".join(half[:cut]), " ".join(half[cut:])] if len(half) > 1 else [words]
        text_size *= 0.8
    text_w = max((text_width(fontname, s, text_size) for s in lines), default=0.0)
    room = max_width - (height * 1.15 if emblem else 0) - 4
    if text_w > room:  # shrink the wordmark rather than cut it
        text_size *= room / text_w
        text_w = room
    width = (height * 1.15 if emblem else 0) + text_w + 4
    doc = pymupdf.open()
    page = doc.new_page(width=width, height=height)
    shape = page.new_shape()
    writer = pymupdf.TextWriter(page.rect, color=color)
    if emblem:
        kind = rng.choice(("disc", "square", "ring", "diamond", "bars"))
        r = height * 0.45
        cx, cy = height / 2, height / 2
        if kind == "disc":
            shape.draw_circle((cx, cy), r)
            shape.finish(fill=color, color=color)
        elif kind == "ring":
            shape.draw_circle((cx, cy), r * 0.85)
            shape.finish(color=color, width=height * 0.12)
        elif kind == "square":
            shape.draw_rect(pymupdf.Rect(cx - r, cy - r, cx + r, cy + r))
            shape.finish(fill=color, color=color)
        elif kind == "diamond":
            shape.draw_polyline([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy), (cx, cy - r)])
            shape.finish(fill=color, color=color, closePath=True)
        else:
            for i in range(3):
                x = cx - r + i * r * 0.75
                shape.draw_rect(pymupdf.Rect(x, cy + r - (i + 1) * r * 0.6, x + r * 0.5, cy + r))
                shape.finish(fill=color, color=color)
        if name and kind in ("disc", "square", "diamond"):
            initials = "".join(w[0] for w in name.split()[:2] if w[:1].isalpha()).upper() or name[:1].upper()
            size = height * 0.38
            white = pymupdf.TextWriter(page.rect, color=WHITE)
            white.append((cx - text_width(fontname, initials, size) / 2, cy + size * 0.35), initials,
                         font=font(fontname), fontsize=size)  # fmt: skip
            shape.commit()
            shape = page.new_shape()
            white.write_text(page)
    x0 = height * 1.15 if emblem else 0
    top = height / 2 - (len(lines) - 1) * text_size * 0.55 + text_size * 0.35
    for i, s in enumerate(lines):
        writer.append((x0, top + i * text_size * 1.1), s, font=font(fontname), fontsize=text_size)
    if not emblem and words and rng.random() < 0.5:
        shape.draw_rect(pymupdf.Rect(0, height - height * 0.1, text_w, height - height * 0.03))
        shape.finish(fill=color, color=color)
    shape.commit()
    writer.write_text(page)
    pix = page.get_pixmap(dpi=rng.choice((150, 200, 220)), alpha=False)
    doc.close()
    return pix, width, height
