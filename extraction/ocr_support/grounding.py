"""DeepSeek-OCR grounding output -> blocks of the markdown dialect, and failure detection.

With the grounding prompt the model writes each layout block as
`<|ref|>LABEL<|/ref|><|det|>[[x1, y1, x2, y2], ...]<|/det|>` followed by the block's content, with
coordinates on a 0..999 grid of the page. Titles become headings, tables (HTML) become rows, images are
dropped. Output without grounding tags is read as plain markdown. Generation can loop (repeat a phrase
until the token limit) or stop mid-table: `detect_failure` names such output so the page is read again
by another engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extraction.markdown import BBox, Block, PageMarkdown, blocks_from_text

GROUNDING_PROMPT = "<image>\n<|grounding|>Convert the document to markdown."
# The same instruction without the image placeholder, for chat APIs that place the image themselves.
GROUNDING_INSTRUCTION = "<|grounding|>Convert the document to markdown."

GRID = 999.0
HEADING_LABELS = {"title": 1, "sub_title": 2, "subtitle": 2}
DROPPED_LABELS = {"image", "figure", "picture", "seal", "stamp", "logo"}

_REF = re.compile(r"<\|ref\|>(.*?)<\|/ref\|>\s*<\|det\|>(.*?)(?:<\|/det\|>|\Z)", re.DOTALL)
_BOX = re.compile(
    r"\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\]"
)
# Special tokens that may survive decoding with skip_special_tokens=False.
_SPECIAL = re.compile(
    r"<\|grounding\|>|<\|/?ref\|>|<\|/?det\|>|<｜(?:begin|end)▁of▁sentence｜>|<｜▁pad▁｜>|</?s>|<\|endoftext\|>"
)
# Markup that may legitimately repeat (empty table cells), as the n-gram whitelist allows <td> </td>.
_TABLE_MARKUP = re.compile(r"</?(?:td|th|tr|table|tbody|thead)\b[^>]*>|\s")


@dataclass
class GroundedBlock:
    """One `<|ref|>` block: its label, its boxes in 0..1 page units and its raw content."""

    label: str
    boxes: list[BBox] = field(default_factory=list)
    content: str = ""

    @property
    def bbox(self) -> BBox | None:
        """The union of this block's boxes (None when it has none)."""
        if not self.boxes:
            return None
        return (
            min(b[0] for b in self.boxes),
            min(b[1] for b in self.boxes),
            max(b[2] for b in self.boxes),
            max(b[3] for b in self.boxes),
        )


def is_table_markup(text: str) -> bool:
    """Whether the text is only table tags and whitespace (empty cells, which may legitimately repeat)."""
    return not _TABLE_MARKUP.sub("", text)


def parse_boxes(det: str) -> list[BBox]:
    """Boxes from a `<|det|>` payload such as `[[10, 20, 300, 40], [10, 50, 300, 70]]`, as page fractions."""
    boxes: list[BBox] = []
    for match in _BOX.finditer(det):
        x1, y1, x2, y2 = (min(max(float(v) / GRID, 0.0), 1.0) for v in match.groups())
        x0, x1 = sorted((x1, x2))
        y0, y1 = sorted((y1, y2))
        boxes.append((round(x0, 4), round(y0, 4), round(x1, 4), round(y1, 4)))
    return boxes


def split_grounded(text: str) -> list[GroundedBlock]:
    """The `<|ref|>` blocks of a grounded output, in order; text before the first tag is a `text` block."""
    matches = list(_REF.finditer(text))
    if not matches:
        return [GroundedBlock("text", [], text)] if text.strip() else []
    blocks: list[GroundedBlock] = []
    head = text[: matches[0].start()]
    if _SPECIAL.sub("", head).strip():
        blocks.append(GroundedBlock("text", [], head))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        label = match.group(1).strip().lower().replace(" ", "_")
        blocks.append(GroundedBlock(label, parse_boxes(match.group(2)), text[match.end() : end]))
    return blocks


def clean_content(text: str) -> str:
    """Content without leftover special tokens and surrounding blank lines."""
    return _SPECIAL.sub("", text).strip()


def blocks_from_grounded(text: str, page: int = 1) -> list[Block]:
    """Blocks of the markdown dialect from DeepSeek output (grounded or plain markdown)."""
    out: list[Block] = []
    for grounded in split_grounded(text):
        if grounded.label in DROPPED_LABELS:
            continue
        content = clean_content(grounded.content)
        if not content:
            continue
        for block in blocks_from_text(content, page, grounded.bbox):
            level = HEADING_LABELS.get(grounded.label)
            if level is not None and block.kind == "text":
                block = Block("heading", block.text, page, block.bbox, level=level)
            out.append(block)
    return out


def _periodic_suffix(text: str, max_period: int, min_span: int, min_repeats: int) -> tuple[int, int] | None:
    """(period, span) of the shortest unit that fills the end of `text` often enough, or None."""
    n = len(text)
    for period in range(1, min(max_period, n // min_repeats) + 1):
        need = max(min_span, period * min_repeats)
        if need > n:
            continue
        j = n - 1
        while j >= period and text[j] == text[j - period]:
            j -= 1
        span = n - 1 - j + period
        if span >= need:
            return period, span
    return None


def _readable_unit(unit: str) -> str:
    """The repeated unit rotated to start at a line start when it spans lines (as a reader sees it)."""
    cut = unit.rfind("\n")
    return unit[cut + 1 :] + unit[: cut + 1] if 0 <= cut < len(unit) - 1 else unit


def detect_repetition(text: str, *, max_period: int = 400, min_span: int = 200, min_repeats: int = 3) -> str | None:
    """A reason when the output ends in a unit repeated over and over (empty table cells excepted)."""
    body = text.rstrip()
    found = _periodic_suffix(body, max_period, min_span, min_repeats)
    if found is None:
        return None
    period, span = found
    if is_table_markup(body[-span:]):
        return None
    unit = _readable_unit(body[-period:]).strip()
    shown = unit if len(unit) <= 40 else unit[:37] + "..."
    return f"runaway repetition: {shown!r} repeated {span // period} times at the end"


def detect_truncation(text: str, *, hit_token_limit: bool = False) -> str | None:
    """A reason when the output stops mid-structure (an open table or box list) or at the token limit."""
    lowered = text.lower()
    if lowered.count("<table") > lowered.count("</table>"):
        return "truncated output: a table was left open"
    if text.count("<|det|>") > text.count("<|/det|>") or text.count("<|ref|>") > text.count("<|/ref|>"):
        return "truncated output: a grounding tag was left open"
    if hit_token_limit:
        return "truncated output: generation hit the token limit"
    return None


def detect_failure(text: str, *, hit_token_limit: bool = False) -> str | None:
    """Why this output is unusable (runaway repetition, truncation, nothing read), or None."""
    repetition = detect_repetition(text)
    if repetition:
        return repetition
    truncation = detect_truncation(text, hit_token_limit=hit_token_limit)
    if truncation:
        return truncation
    if not clean_content(_REF.sub("", text)):
        return "empty output: nothing was read on the page"
    return None


def page_from_output(
    text: str,
    number: int,
    engine: str,
    width: float,
    height: float,
    *,
    hit_token_limit: bool = False,
    failure: str | None = None,
) -> PageMarkdown:
    """A PageMarkdown from one page's raw DeepSeek output, with `failure` set when it is unusable."""
    reason = failure or detect_failure(text, hit_token_limit=hit_token_limit)
    page = PageMarkdown(number, engine, width, height, blocks_from_grounded(text, number), failure=reason)
    if reason:
        page.notes.append(f"{engine}: {reason}")
    return page
