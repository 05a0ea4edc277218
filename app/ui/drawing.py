"""Page pictures: the page image with a labelled box on each extracted field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw, ImageFont, ImageStat

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
    font = _font(max(12, int(width * 0.02)))
    small = _font(max(10, int(width * 0.016)))
    placed: list[tuple[float, float, float, float]] = []
    labels: list[tuple[str, tuple[float, float, float, float], tuple[int, int, int]]] = []
    boxes: list[tuple[tuple[float, float, float, float], tuple[int, int, int], int, int]] = []
    # Header fields last so their boxes sit on top of line-item boxes.
    ordered = sorted(fields.items(), key=lambda kv: (not kv[0].startswith("line_items"), kv[0] == highlight))
    # Fills, then outlines, then labels: drawing on one layer replaces pixels, so anything drawn
    # later would wipe out an earlier outline or label where they overlap.
    for name, info in ordered:
        if info.bbox is None or info.page != page or info.value is None or len(info.bbox) != 4:
            continue
        x0, y0, x1, y1 = (max(0.0, min(1.0, float(v))) for v in info.bbox)
        box = (x0 * width - 2 * scale, y0 * height - 2 * scale, x1 * width + 2 * scale, y1 * height + 2 * scale)
        is_line = name.startswith("line_items")
        colour = LINE if is_line else _colour(info.confidence, low_confidence)
        thick = int((4 if name == highlight else 1 if is_line else 2) * scale)
        boxes.append((box, colour, max(1, thick), 22 if is_line else 38))
        if not is_line:
            labels.append((field_label(name), box, colour))
    for box, colour, _thick, alpha in boxes:
        draw.rectangle(box, fill=(*colour, alpha))
    for box, colour, thick, _alpha in boxes:
        draw.rectangle(box, outline=(*colour, 255), width=thick)
    ink = out.convert("L")
    for text, box, colour in _merge_labels(labels):
        tag, use = _place_label(draw, ink, text, box, placed, font, small, 3 * scale)
        placed.append(tag)
        draw.rectangle(tag, fill=(*colour, 215))
        draw.text((tag[0] + 3 * scale, tag[1] + 3 * scale), text, fill=(255, 255, 255, 255), font=use)
    return Image.alpha_composite(out.convert("RGBA"), overlay).convert("RGB")


def _place_label(
    draw: ImageDraw.ImageDraw,
    ink: Image.Image,
    text: str,
    box: tuple[float, float, float, float],
    placed: list[tuple[float, float, float, float]],
    font: Any,
    small: Any,
    pad: float,
) -> tuple[tuple[float, float, float, float], Any]:
    """Where a label covers the least printed text: above, below, beside or at the end of its box."""
    width, height = ink.size
    best: tuple[float, tuple[float, float, float, float], Any] | None = None
    for rank, use in enumerate((font, small)):
        tw, th = _text_size(draw, text, use)
        w, h = tw + 2 * pad, th + 2 * pad
        spots = [
            (box[0], box[1] - h),  # above, at the start
            (box[2] - w, box[1] - h),  # above, at the end
            (box[2] + pad, box[1]),  # right of the box
            (box[0], box[3]),  # below, at the start
            (box[2] - w, box[3]),  # below, at the end
            (box[2] - w, box[1]),  # inside, at the end
        ]
        for order, (x, y) in enumerate(spots):
            tag = (x, y, x + w, y + h)
            if x < 0 or y < 0 or tag[2] > width or tag[3] > height:
                continue
            covered = ImageStat.Stat(ink.crop(tuple(int(v) for v in tag))).mean[0]
            score = (255 - covered) + 400 * _overlaps(tag, placed) + 8 * order + 30 * rank
            if best is None or score < best[0]:
                best = (score, tag, use)
    if best is None:  # a box as wide as the page: put the tag at its top left, inside
        tw, th = _text_size(draw, text, small)
        x, y = max(0.0, box[0]), max(0.0, box[1])
        return (x, y, x + tw + 2 * pad, y + th + 2 * pad), small
    return best[1], best[2]


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _merge_labels(labels: list[tuple[str, tuple, tuple]]) -> list[tuple[str, tuple, tuple]]:
    """One label per box: fields read from the same line share a tag ('Invoice date · Customer')."""
    merged: list[list[Any]] = []
    for text, box, colour in labels:
        for entry in merged:
            if _iou(entry[1], box) > 0.6:
                entry[0] = f"{entry[0]} · {text}"
                if colour == POOR or (colour == FAIR and entry[2] == GOOD):
                    entry[2] = colour  # the tag shows the least sure of the fields
                break
        else:
            merged.append([text, box, colour])
    return [(t, b, c) for t, b, c in merged]


def _text_size(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont) -> tuple:
    # Measured from the drawing origin: glyphs start below it, so the height runs to the bottom edge.
    _left, _top, right, bottom = draw.textbbox((0, 0), text, font=font)
    return right, bottom + 2


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
