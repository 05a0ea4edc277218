"""Page pictures: the page image with a labelled box on each extracted field."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

from app.ui.forms import FORM_FIELDS

if TYPE_CHECKING:
    from extraction.schema import FieldInfo

_LABELS = {f.name: f.label for f in FORM_FIELDS}
# Colours by confidence: sure, worth a look, doubtful.
GOOD = (22, 128, 84)
FAIR = (202, 125, 0)
POOR = (200, 38, 38)
LINE = (37, 99, 235)


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


def _colour(confidence: float, low: float) -> tuple[int, int, int]:
    if confidence >= max(low, 0.85):
        return GOOD
    if confidence >= low:
        return FAIR
    return POOR


def draw_fields(
    image: Image.Image,
    fields: dict[str, FieldInfo],
    page: int,
    low_confidence: float = 0.6,
    highlight: str | None = None,
) -> Image.Image:
    """A copy of `image` with each field found on `page` boxed and labelled; line items drawn lighter."""
    out = image.convert("RGB").copy()
    overlay = Image.new("RGBA", out.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    width, height = out.size
    # Sized for the page shown about 600 px wide: labels stay legible after the browser scales it down.
    scale = max(1.0, width / 1000)
    font = _font(max(12, int(width * 0.021)))
    small = _font(max(10, int(width * 0.016)))
    placed: list[tuple[float, float, float, float]] = []
    # Header fields last so their labels sit on top of line-item boxes.
    ordered = sorted(fields.items(), key=lambda kv: (not kv[0].startswith("line_items"), kv[0] == highlight))
    for name, info in ordered:
        if info.bbox is None or info.page != page or info.value is None or len(info.bbox) != 4:
            continue
        x0, y0, x1, y1 = (max(0.0, min(1.0, float(v))) for v in info.bbox)
        box = (x0 * width - 2 * scale, y0 * height - 2 * scale, x1 * width + 2 * scale, y1 * height + 2 * scale)
        is_line = name.startswith("line_items")
        colour = LINE if is_line else _colour(info.confidence, low_confidence)
        thick = int((4 if name == highlight else 1 if is_line else 2) * scale)
        draw.rectangle(box, outline=(*colour, 255), width=max(1, thick), fill=(*colour, 22 if is_line else 38))
        if is_line:
            continue
        text = field_label(name)
        use = font
        tw, th = _text_size(draw, text, use)
        pad = 3 * scale
        lx, ly = box[0], box[1] - th - 2 * pad
        if ly < 0 or _overlaps((lx, ly, lx + tw + 2 * pad, ly + th + 2 * pad), placed):
            ly = box[3]  # below the box when there is no room above
        if _overlaps((lx, ly, lx + tw + 2 * pad, ly + th + 2 * pad), placed):
            use = small
            tw, th = _text_size(draw, text, use)
            lx = box[2] + pad
            ly = box[1]
        lx = min(lx, width - tw - 2 * pad)
        tag = (lx, ly, lx + tw + 2 * pad, ly + th + 2 * pad)
        placed.append(tag)
        draw.rectangle(tag, fill=(*colour, 225))
        draw.text((lx + pad, ly + pad), text, fill=(255, 255, 255, 255), font=use)
    return Image.alpha_composite(out.convert("RGBA"), overlay).convert("RGB")


def _text_size(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont) -> tuple:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    return right - left, bottom - top + 2


def _overlaps(box: tuple[float, float, float, float], others: list[tuple[float, float, float, float]]) -> bool:
    return any(not (box[2] <= o[0] or o[2] <= box[0] or box[3] <= o[1] or o[3] <= box[1]) for o in others)


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
