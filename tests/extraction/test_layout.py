"""Positioned words -> lines, cells, tables and headings (shared by the text-layer and OCR engines)."""

from __future__ import annotations

from extraction.ocr_support.layout import Line, Word, group_lines, lines_to_blocks, normalize, split_cells


def _words(row: list[tuple[float, str]], y: float, height: float = 10.0, char: float = 5.0) -> list[Word]:
    return [Word(x, y, x + char * len(text), y + height, text) for x, text in row]


def test_words_on_one_visual_line_group_left_to_right() -> None:
    words = _words([(300, "Amount"), (10, "Description"), (200, "Qty")], y=100)
    words += _words([(10, "Widget"), (200, "2"), (300, "200.00")], y=116)
    lines = group_lines(list(reversed(words)))
    assert [[w.text for w in line.words] for line in lines] == [
        ["Description", "Qty", "Amount"],
        ["Widget", "2", "200.00"],
    ]


def test_slightly_uneven_baselines_stay_on_one_line() -> None:
    words = [Word(10, 100, 60, 110, "Total"), Word(300, 102, 350, 112, "583.10")]
    assert len(group_lines(words)) == 1


def test_stacked_words_do_not_merge() -> None:
    # Two words at the same x, overlapping vertically by a little: separate lines.
    words = [Word(10, 100, 60, 110, "upper"), Word(10, 106, 60, 116, "lower")]
    assert [len(line.words) for line in group_lines(words)] == [1, 1]


def test_split_cells_at_large_gaps_only() -> None:
    line = Line(_words([(10, "Invoice"), (50, "No:"), (200, "INV-7")], y=0))
    assert split_cells(line).cell_texts() == ["Invoice No:", "INV-7"]
    assert line.text() == "Invoice No:  INV-7"


def test_blocks_tables_text_and_headings() -> None:
    rows = [
        _words([(10, "INVOICE")], y=10, height=30),
        _words([(10, "Acme"), (40, "GmbH")], y=60),
        _words([(10, "Description"), (200, "Qty"), (300, "Amount")], y=100),
        _words([(10, "Widget"), (200, "2"), (300, "200.00")], y=114),
        _words([(10, "Gadget"), (200, "1"), (300, "50.00")], y=128),
        _words([(200, "Total"), (300, "250.00")], y=170),
    ]
    lines = [split_cells(line) for line in group_lines([w for row in rows for w in row])]
    blocks = lines_to_blocks(lines, page=3, width=400, height=200)
    assert [b.kind for b in blocks] == ["heading", "text", "table", "text"]
    assert blocks[0].text == "INVOICE" and blocks[0].level == 1
    table = blocks[2]
    assert table.rows == [["Description", "Qty", "Amount"], ["Widget", "2", "200.00"], ["Gadget", "1", "50.00"]]
    assert len(table.row_bboxes) == 3 and all(b.page == 3 for b in blocks)
    # The totals row sits after a vertical gap: its own block, cells kept apart in the text.
    assert blocks[3].text == "Total  250.00"
    assert table.bbox == (10 / 400, 100 / 200, 330 / 400, 138 / 200)


def test_normalize_clamps() -> None:
    assert normalize((-5, 10, 420, 250), 400, 200) == (0.0, 0.05, 1.0, 1.0)
    assert normalize((1, 1, 2, 2), 0, 0) == (0.0, 0.0, 0.0, 0.0)
