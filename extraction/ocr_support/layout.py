"""Turn positioned words into lines, cells and blocks; shared by the text-layer and OCR engines."""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median

from extraction.markdown import BBox, Block


@dataclass
class Word:
    """A word (or an OCR text box) with its box in page units (points or pixels)."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    confidence: float | None = None


@dataclass
class Line:
    """Words on one visual line, left to right, split into cells at large gaps."""

    words: list[Word] = field(default_factory=list)
    cells: list[list[Word]] = field(default_factory=list)

    @property
    def box(self) -> tuple[float, float, float, float]:
        """The union of the words' boxes."""
        return (
            min(w.x0 for w in self.words),
            min(w.y0 for w in self.words),
            max(w.x1 for w in self.words),
            max(w.y1 for w in self.words),
        )

    @property
    def height(self) -> float:
        """Median word height: a proxy for the font size."""
        return median(w.y1 - w.y0 for w in self.words)

    def cell_texts(self) -> list[str]:
        """The text of each cell."""
        return [" ".join(w.text for w in cell) for cell in self.cells]

    def text(self, gap: str = "  ") -> str:
        """The line's text, cells joined by `gap` so columns stay apart."""
        return gap.join(self.cell_texts())

    def cell_boxes(self) -> list[tuple[float, float, float, float]]:
        """The union box of each cell's words."""
        return [
            (min(w.x0 for w in c), min(w.y0 for w in c), max(w.x1 for w in c), max(w.y1 for w in c)) for c in self.cells
        ]

    def confidence(self) -> float | None:
        """Mean word confidence, when the words have one."""
        scores = [w.confidence for w in self.words if w.confidence is not None]
        return sum(scores) / len(scores) if scores else None


def group_lines(words: list[Word], overlap: float = 0.5) -> list[Line]:
    """Group words into visual lines by vertical overlap, top to bottom, each line left to right."""
    lines: list[Line] = []
    spans: list[list[float]] = []  # per line: sum of y0, sum of y1, count (a running mean span)
    # Greedy: each word joins the recent line whose span overlaps it most (relative to the smaller height).
    for word in sorted(words, key=lambda w: ((w.y0 + w.y1) / 2, w.x0)):
        height = max(word.y1 - word.y0, 1e-6)
        best, best_score = -1, overlap
        for index in range(max(0, len(lines) - 8), len(lines)):
            s0, s1, n = spans[index]
            ly0, ly1 = s0 / n, s1 / n
            inter = min(ly1, word.y1) - max(ly0, word.y0)
            score = inter / min(height, max(ly1 - ly0, 1e-6))
            if score > best_score and not _collides(lines[index], word):
                best, best_score = index, score
        if best < 0:
            lines.append(Line([word]))
            spans.append([word.y0, word.y1, 1])
        else:
            lines[best].words.append(word)
            span = spans[best]
            span[0] += word.y0
            span[1] += word.y1
            span[2] += 1
    order = sorted(range(len(lines)), key=lambda i: (spans[i][0] + spans[i][1]) / spans[i][2])
    out = [lines[i] for i in order]
    for line in out:
        line.words.sort(key=lambda w: w.x0)
    return out


def _collides(line: Line, word: Word) -> bool:
    """A word overlapping another word of the line horizontally belongs to another line."""
    for other in line.words:
        inter = min(other.x1, word.x1) - max(other.x0, word.x0)
        if inter > 0.5 * min(other.x1 - other.x0, word.x1 - word.x0):
            return True
    return False


def split_cells(line: Line, gap_factor: float = 0.9) -> Line:
    """Split a line into cells wherever the gap between words exceeds `gap_factor` times the line height."""
    threshold = gap_factor * line.height
    cells: list[list[Word]] = [[line.words[0]]]
    for prev, word in zip(line.words, line.words[1:], strict=False):
        if word.x0 - prev.x1 > threshold:
            cells.append([word])
        else:
            cells[-1].append(word)
    line.cells = cells
    return line


def normalize(box: tuple[float, float, float, float], width: float, height: float) -> BBox:
    """A box in 0..1 page units, clamped."""
    if width <= 0 or height <= 0:
        return (0.0, 0.0, 0.0, 0.0)
    x0, y0, x1, y1 = box

    def clamp(v: float) -> float:
        return min(1.0, max(0.0, v))

    return (clamp(x0 / width), clamp(y0 / height), clamp(x1 / width), clamp(y1 / height))


def union(boxes: list[BBox]) -> BBox:
    """The smallest box around `boxes`."""
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def lines_to_blocks(
    lines: list[Line], page: int, width: float, height: float, headings: bool = True, min_table_cells: int = 3
) -> list[Block]:
    """Blocks from lines: runs of multi-cell rows with one of `min_table_cells`+ cells become tables."""
    if not lines:
        return []
    body = median(line.height for line in lines)
    blocks: list[Block] = []
    run: list[Line] = []

    def flush() -> None:
        if not run:
            return
        if any(len(line.cells) >= min_table_cells for line in run):
            boxes = [normalize(line.box, width, height) for line in run]
            scores = [c for c in (line.confidence() for line in run) if c is not None]
            blocks.append(
                Block(
                    "table",
                    page=page,
                    bbox=union(boxes),
                    rows=[line.cell_texts() for line in run],
                    row_bboxes=list(boxes),
                    confidence=min(scores) if scores else None,
                    cell_bboxes=[[normalize(b, width, height) for b in line.cell_boxes()] for line in run],
                )
            )
        else:
            for line in run:
                blocks.append(_text_block(line, page, width, height, body, headings))
        run.clear()

    previous: Line | None = None
    for line in lines:
        # A vertical gap of more than a line height ends a table: the next rows belong to another block.
        if run and previous is not None and line.box[1] - previous.box[3] > body:
            flush()
        previous = line
        if len(line.cells) >= 2:
            run.append(line)
            continue
        flush()
        blocks.append(_text_block(line, page, width, height, body, headings))
    flush()
    return blocks


def _text_block(line: Line, page: int, width: float, height: float, body: float, headings: bool) -> Block:
    box = normalize(line.box, width, height)
    text = line.text()
    cells = [[normalize(b, width, height) for b in line.cell_boxes()]] if line.cells else None
    if headings and line.height >= 1.4 * body and len(line.cells) == 1 and len(text) <= 80:
        level = 1 if line.height >= 1.8 * body else 2
        return Block("heading", text, page, box, level=level, confidence=line.confidence(), cell_bboxes=cells)
    return Block("text", text, page, box, confidence=line.confidence(), cell_bboxes=cells)
