"""The one markdown dialect every engine yields: blocks that keep their page and box.

Headings are `# text`, paragraphs are lines separated by blank lines, tables are pipe rows with a
separator after the first row. Each block keeps the page number and a box in 0..1 page units so a
parsed field can point back to where it was read.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from extraction.schema import FieldInfo, Invoice

BBox = tuple[float, float, float, float]
BlockKind = Literal["heading", "text", "table"]


@dataclass
class Block:
    """A heading, a text line/paragraph or a table on one page."""

    kind: BlockKind
    text: str = ""
    page: int = 1
    bbox: BBox | None = None
    rows: list[list[str]] | None = None
    row_bboxes: list[BBox | None] | None = None
    level: int = 1
    confidence: float | None = None
    # Per row (one row for a text line), the box of each cell, where the engine knows them.
    cell_bboxes: list[list[BBox]] | None = None

    def to_markdown(self) -> str:
        """This block in the dialect."""
        if self.kind == "heading":
            return "#" * max(1, min(self.level, 6)) + " " + _one_line(self.text)
        if self.kind == "table":
            return table_to_markdown(self.rows or [])
        return self.text


@dataclass
class TextLine:
    """One line the parser reads: a text line or a table row (with its cells)."""

    text: str
    page: int
    bbox: BBox | None = None
    cells: list[str] | None = None
    block: int = 0
    confidence: float | None = None
    cell_boxes: list[BBox] | None = None


@dataclass
class PageMarkdown:
    """One page as an engine read it."""

    number: int
    engine: str
    width: float
    height: float
    blocks: list[Block] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Set by an engine when its output for this page is unusable (runaway repetition, truncation,
    # a server error); the pipeline then reads the page again with the best CPU engine.
    failure: str | None = None
    # Exact structured data (e-invoice XML) when the engine has it; the parser is skipped then.
    invoice: Invoice | None = None
    invoice_fields: dict[str, FieldInfo] | None = None

    def to_markdown(self) -> str:
        """The page as markdown text."""
        return "\n\n".join(b.to_markdown() for b in self.blocks if b.to_markdown().strip())

    def lines(self) -> list[TextLine]:
        """Every text line and table row in reading order, with provenance."""
        out: list[TextLine] = []
        for index, block in enumerate(self.blocks):
            if block.kind == "table":
                boxes = block.row_bboxes or []
                cell_boxes = block.cell_bboxes or []
                for r, row in enumerate(block.rows or []):
                    box = boxes[r] if r < len(boxes) else block.bbox
                    text = " ".join(c for c in row if c)
                    cells = cell_boxes[r] if r < len(cell_boxes) and len(cell_boxes[r]) == len(row) else None
                    out.append(TextLine(text, self.number, box, list(row), index, block.confidence, cells))
            else:
                parts = [p.strip() for p in block.text.splitlines() if p.strip()]
                cells = block.cell_bboxes[0] if block.cell_bboxes and len(parts) == 1 else None
                for part in parts:
                    out.append(TextLine(part, self.number, block.bbox, None, index, block.confidence, cells))
        return out


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def table_to_markdown(rows: list[list[str]]) -> str:
    """Pipe rows with a separator after the first row; short rows are padded."""
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    lines = []
    for i, row in enumerate(rows):
        padded = [_cell(c) for c in row] + [""] * (width - len(row))
        lines.append("| " + " | ".join(padded) + " |")
        if i == 0:
            lines.append("|" + "---|" * width)
    return "\n".join(lines)


def render(pages: list[PageMarkdown]) -> str:
    """All pages as one markdown text, pages separated by a page marker comment."""
    parts = []
    for page in pages:
        parts.append(f"<!-- page {page.number} -->\n\n{page.to_markdown()}")
    return "\n\n".join(parts)


class _TableHTML(HTMLParser):
    """Collects <tr>/<td>/<th> cells, honouring colspan by repeating empty cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._span = 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._end_row()
            self._row = []
        elif tag in ("td", "th"):
            self._flush_cell()
            if self._row is None:
                self._row = []
            self._cell = []
            span = dict(attrs).get("colspan") or "1"
            self._span = int(span) if span.isdigit() and 0 < int(span) < 50 else 1
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._flush_cell()
        elif tag in ("tr", "table"):
            self._end_row()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def _flush_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            self._row.append(_one_line("".join(self._cell)))
            self._row.extend([""] * (self._span - 1))
        self._cell = None

    def _end_row(self) -> None:
        self._flush_cell()
        if self._row:
            self.rows.append(self._row)
        self._row = None

    def close(self) -> None:
        super().close()
        self._end_row()


def html_table_rows(html: str) -> list[list[str]]:
    """Rows of cells from an HTML table (tolerates missing closing tags)."""
    parser = _TableHTML()
    parser.feed(html)
    parser.close()
    return [r for r in parser.rows if any(c.strip() for c in r)]


_TABLE_HTML = re.compile(r"<table\b.*?(?:</table>|\Z)", re.IGNORECASE | re.DOTALL)
_PIPE_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def _pipe_cells(line: str) -> list[str]:
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    cells = re.split(r"(?<!\\)\|", body)
    return [c.strip().replace("\\|", "|") for c in cells]


def blocks_from_text(text: str, page: int = 1, bbox: BBox | None = None) -> list[Block]:
    """Blocks from markdown text (pipe tables, HTML tables, headings, lines); all share `bbox`."""
    blocks: list[Block] = []
    pos = 0
    for match in _TABLE_HTML.finditer(text):
        blocks.extend(_blocks_from_plain(text[pos : match.start()], page, bbox))
        rows = html_table_rows(match.group(0))
        if rows:
            blocks.append(Block("table", page=page, bbox=bbox, rows=rows))
        pos = match.end()
    blocks.extend(_blocks_from_plain(text[pos:], page, bbox))
    return blocks


def _blocks_from_plain(text: str, page: int, bbox: BBox | None) -> list[Block]:
    blocks: list[Block] = []
    table: list[list[str]] = []

    def flush_table() -> None:
        if table:
            blocks.append(Block("table", page=page, bbox=bbox, rows=list(table)))
            table.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("<!--") and line.endswith("-->"):
            continue
        if line.startswith("|") and line.count("|") >= 2:
            if not _PIPE_SEPARATOR.match(line):
                table.append(_pipe_cells(line))
            continue
        flush_table()
        if not line:
            continue
        heading = _HEADING.match(line)
        if heading:
            blocks.append(Block("heading", heading.group(2).strip(), page, bbox, level=len(heading.group(1))))
        else:
            blocks.append(Block("text", re.sub(r"<[^>]{1,40}>", " ", line).strip(), page, bbox))
    flush_table()
    return [b for b in blocks if b.kind == "table" or b.text]


def page_from_text(
    text: str, number: int = 1, engine: str = "markdown", width: float = 0, height: float = 0
) -> PageMarkdown:
    """A PageMarkdown from plain markdown text (no boxes)."""
    return PageMarkdown(number, engine, width, height, blocks_from_text(text, number))


def pages_to_json(pages: list[PageMarkdown]) -> list[dict[str, Any]]:
    """Pages as plain JSON data (an OCR cache keeps what an engine read)."""
    out = []
    for page in pages:
        out.append(
            {
                "number": page.number,
                "engine": page.engine,
                "width": page.width,
                "height": page.height,
                "blocks": [asdict(b) for b in page.blocks],
                "notes": list(page.notes),
                "failure": page.failure,
                "invoice": page.invoice.model_dump(mode="json") if page.invoice is not None else None,
                "invoice_fields": {k: v.model_dump(mode="json") for k, v in page.invoice_fields.items()}
                if page.invoice_fields is not None
                else None,
            }
        )
    return out


def _box(value: Any) -> BBox | None:
    return tuple(value) if value else None


def pages_from_json(items: list[dict[str, Any]]) -> list[PageMarkdown]:
    """Pages back from `pages_to_json` data."""
    from extraction.schema import FieldInfo, Invoice

    pages = []
    for item in items:
        blocks = []
        for data in item["blocks"]:
            data = dict(data)
            data["bbox"] = _box(data.get("bbox"))
            if data.get("row_bboxes"):
                data["row_bboxes"] = [_box(x) for x in data["row_bboxes"]]
            if data.get("cell_bboxes"):
                data["cell_bboxes"] = [[_box(x) for x in row] for row in data["cell_bboxes"]]
            blocks.append(Block(**data))
        invoice = Invoice.model_validate(item["invoice"]) if item.get("invoice") else None
        fields = (
            {k: FieldInfo.model_validate(v) for k, v in item["invoice_fields"].items()}
            if item.get("invoice_fields") is not None
            else None
        )
        pages.append(
            PageMarkdown(
                item["number"],
                item["engine"],
                item["width"],
                item["height"],
                blocks,
                item.get("notes", []),
                item.get("failure"),
                invoice,
                fields,
            )
        )
    return pages
