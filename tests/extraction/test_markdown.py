from extraction.markdown import Block, PageMarkdown, blocks_from_text, html_table_rows, render, table_to_markdown


def test_table_round_trips_through_pipe_rows():
    rows = [["Description", "Qty", "Amount"], ["Widget | large", "2", "10.00"]]
    text = table_to_markdown(rows)
    assert text.splitlines()[1] == "|---|---|---|"
    (block,) = blocks_from_text(text)
    assert block.kind == "table"
    assert block.rows == rows


def test_html_table_becomes_rows_with_colspan_and_unclosed_tags():
    html = "<table><tr><td>Item</td><td colspan=2>Price</td></tr><tr><td>Tea<td>1<td>2.50</table>"
    assert html_table_rows(html) == [["Item", "Price", ""], ["Tea", "1", "2.50"]]


def test_blocks_from_text_mixes_headings_text_and_html_tables():
    text = "# ACME GmbH\nRechnung Nr. 42\n<table><tr><td>A</td><td>1,00</td></tr></table>\nSumme 1,00"
    kinds = [b.kind for b in blocks_from_text(text, page=3)]
    assert kinds == ["heading", "text", "table", "text"]
    assert all(b.page == 3 for b in blocks_from_text(text, page=3))


def test_lines_carry_provenance_for_table_rows():
    page = PageMarkdown(
        2,
        "test",
        100,
        200,
        [
            Block("text", "Invoice 7", 2, (0.1, 0.1, 0.5, 0.15)),
            Block("table", rows=[["a", "1"], ["b", "2"]], page=2, row_bboxes=[(0, 0.2, 1, 0.25), (0, 0.25, 1, 0.3)]),
        ],
    )
    lines = page.lines()
    assert [line.text for line in lines] == ["Invoice 7", "a 1", "b 2"]
    assert lines[2].cells == ["b", "2"] and lines[2].bbox == (0, 0.25, 1, 0.3)
    assert "<!-- page 2 -->" in render([page])
