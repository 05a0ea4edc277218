"""Page pictures: a field's label for its box, and a plain placeholder page with a message."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from app.ui.forms import FORM_FIELDS

_LABELS = {f.name: f.label for f in FORM_FIELDS}


def field_label(name: str) -> str:
    """A short human label for a dotted field name."""
    if name in _LABELS:
        return _LABELS[name]
    parts = name.split(".")
    if parts[0] == "line_items" and len(parts) >= 2 and parts[1].isdigit():
        return f"line {int(parts[1]) + 1}" + (f" {parts[2].replace('_', ' ')}" if len(parts) > 2 else "")
    return name.replace("_", " ").replace(".", " ")


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # an older Pillow without sized default fonts
        return ImageFont.load_default()


def _text_size(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont) -> tuple:
    # Measured from the drawing origin: glyphs start below it, so the height runs to the bottom edge.
    _left, _top, right, bottom = draw.textbbox((0, 0), text, font=font)
    return right, bottom + 2


def placeholder(text: str, size: tuple[int, int] = (850, 1100)) -> Image.Image:
    """A plain page-sized picture with a message (lines split on newlines), for when there is no page image."""
    image = Image.new("RGB", size, (246, 247, 249))
    draw = ImageDraw.Draw(image)
    draw.rectangle((24, 24, size[0] - 24, size[1] - 24), outline=(214, 218, 226), width=3)
    font = _font(28)
    lines = text.split("\n")
    heights = [_text_size(draw, line, font)[1] + 12 for line in lines]
    y = (size[1] - sum(heights)) / 2
    for line, height in zip(lines, heights, strict=True):
        tw, _th = _text_size(draw, line, font)
        draw.text(((size[0] - tw) / 2, y), line, fill=(90, 98, 110), font=font)
        y += height
    return image
