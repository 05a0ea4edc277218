from extraction.ocr_support.grounding import (
    blocks_from_grounded,
    detect_failure,
    detect_repetition,
    page_from_output,
    parse_boxes,
    split_grounded,
)

RECEIPT = """<|ref|>title<|/ref|><|det|>[[312, 40, 688, 78]]<|/det|>
# KEDAI RUNCIT SRI MAJU SDN BHD

<|ref|>text<|/ref|><|det|>[[250, 85, 750, 140]]<|/det|>
No. 12, Jalan Bunga Raya, 43000 Kajang
GST ID: 001234567890

<|ref|>image<|/ref|><|det|>[[420, 150, 580, 230]]<|/det|>


<|ref|>text<|/ref|><|det|>[[80, 250, 920, 400]]<|/det|>
MILO 1KG 1 x 18.90 18.90
GARDENIA BREAD 2 x 3.50 7.00

<|ref|>text<|/ref|><|det|>[[80, 420, 920, 450]]<|/det|>
TOTAL RM 25.90<｜end▁of▁sentence｜>"""

TABLE_HTML = (
    "<table><tr><td>Pos.</td><td>Beschreibung</td><td>Menge</td><td>Einzelpreis</td><td>Betrag</td></tr>"
    "<tr><td>1</td><td>Widget A</td><td>2</td><td>10,00</td><td>20,00</td></tr>"
    "<tr><td>2</td><td>Widget B &amp; Co</td><td>1</td><td>5,50</td><td>5,50</td></tr>"
    '<tr><td colspan="4">Summe netto</td><td>25,50</td></tr></table>'
)

INVOICE = f"""<|ref|>header<|/ref|><|det|>[[60, 20, 400, 45]]<|/det|>
Acme Widgets GmbH · Hauptstr. 5 · 10115 Berlin

<|ref|>title<|/ref|><|det|>[[60, 80, 300, 110]]<|/det|>
# Rechnung

<|ref|>sub_title<|/ref|><|det|>[[60, 120, 400, 140]]<|/det|>
## Rechnungsnummer: RE-2024-0042

<|ref|>text<|/ref|><|det|>[[60, 150, 500, 200]]<|/det|>
Rechnungsdatum: 14.03.2024
USt-IdNr.: DE123456789

<|ref|>table<|/ref|><|det|>[[60, 250, 940, 420], [60, 430, 940, 470]]<|/det|>
{TABLE_HTML}

<|ref|>text<|/ref|><|det|>[[600, 500, 940, 560]]<|/det|>
MwSt. 19 %: 4,85
**Gesamtbetrag: 30,35 EUR**

<|ref|>footer<|/ref|><|det|>[[60, 950, 940, 980]]<|/det|>
IBAN DE89 3704 0044 0532 0130 00"""

LOOPING = (
    """<|ref|>title<|/ref|><|det|>[[100, 50, 900, 90]]<|/det|>
# TAX INVOICE

<|ref|>text<|/ref|><|det|>[[100, 100, 900, 900]]<|/det|>
Item Qty Price
"""
    + "Coffee 1 4.50\n" * 120
    + "Coffee 1 4."
)

TRUNCATED = """<|ref|>title<|/ref|><|det|>[[100, 50, 900, 90]]<|/det|>
# INVOICE 7781

<|ref|>table<|/ref|><|det|>[[80, 200, 920, 800]]<|/det|>
<table><tr><td>Description</td><td>Amount</td></tr><tr><td>Consulting, March</td><td>1,200.00</td></tr><tr><td>Trav"""


def test_boxes_are_page_fractions_and_ordered():
    assert parse_boxes("[[0, 0, 999, 999]]") == [(0.0, 0.0, 1.0, 1.0)]
    assert parse_boxes("[[500, 200, 100, 100], [1200, 10, 20, 30]]") == [
        (round(100 / 999, 4), round(100 / 999, 4), round(500 / 999, 4), round(200 / 999, 4)),
        (round(20 / 999, 4), round(10 / 999, 4), 1.0, round(30 / 999, 4)),
    ]


def test_receipt_blocks_headings_boxes_and_image_dropped():
    blocks = blocks_from_grounded(RECEIPT, page=2)
    assert [b.kind for b in blocks] == ["heading", "text", "text", "text", "text", "text"]
    assert blocks[0].text == "KEDAI RUNCIT SRI MAJU SDN BHD" and blocks[0].level == 1
    assert blocks[0].bbox == (round(312 / 999, 4), round(40 / 999, 4), round(688 / 999, 4), round(78 / 999, 4))
    assert all(b.page == 2 for b in blocks)
    texts = [b.text for b in blocks]
    assert "TOTAL RM 25.90" in texts  # end-of-sentence token stripped
    assert not any("image" in t or "<|" in t for t in texts)
    assert len(split_grounded(RECEIPT)) == 5  # the image block is parsed, then dropped
    assert detect_failure(RECEIPT) is None


def test_invoice_table_rows_and_union_box():
    page = page_from_output(INVOICE, 1, "deepseek", 595, 842)
    assert page.failure is None and page.notes == []
    headings = [(b.text, b.level) for b in page.blocks if b.kind == "heading"]
    assert headings == [("Rechnung", 1), ("Rechnungsnummer: RE-2024-0042", 2)]
    tables = [b for b in page.blocks if b.kind == "table"]
    assert len(tables) == 1
    assert tables[0].rows == [
        ["Pos.", "Beschreibung", "Menge", "Einzelpreis", "Betrag"],
        ["1", "Widget A", "2", "10,00", "20,00"],
        ["2", "Widget B & Co", "1", "5,50", "5,50"],
        ["Summe netto", "", "", "", "25,50"],
    ]
    # Two boxes for one table: the block box is their union.
    assert tables[0].bbox == (round(60 / 999, 4), round(250 / 999, 4), round(940 / 999, 4), round(470 / 999, 4))
    lines = [line.text for line in page.lines()]
    assert "1 Widget A 2 10,00 20,00" in lines
    assert "IBAN DE89 3704 0044 0532 0130 00" in lines
    assert "| Pos. | Beschreibung | Menge | Einzelpreis | Betrag |" in page.to_markdown()


def test_plain_markdown_without_grounding_tags():
    text = "# Invoice 12\n\nDate: 2024-01-05\n\n| Item | Amount |\n|---|---|\n| Tea | 3.00 |\n"
    blocks = blocks_from_grounded(text)
    assert [b.kind for b in blocks] == ["heading", "text", "table"]
    assert blocks[2].rows == [["Item", "Amount"], ["Tea", "3.00"]]
    assert all(b.bbox is None for b in blocks)
    assert detect_failure(text) is None


def test_looping_output_is_a_failure():
    reason = detect_failure(LOOPING, hit_token_limit=True)
    assert reason is not None and reason.startswith("runaway repetition")
    assert "Coffee 1 4.50" in reason
    page = page_from_output(LOOPING, 3, "deepseek", 100, 100, hit_token_limit=True)
    assert page.failure == reason
    assert page.notes == [f"deepseek: {reason}"]


def test_truncated_output_is_a_failure():
    assert detect_failure(TRUNCATED) == "truncated output: a table was left open"
    page = page_from_output(TRUNCATED, 1, "vllm", 100, 100)
    assert page.failure == "truncated output: a table was left open"
    table = next(b for b in page.blocks if b.kind == "table")
    assert table.rows[:2] == [["Description", "Amount"], ["Consulting, March", "1,200.00"]]


def test_token_limit_and_open_tags_and_empty_output():
    assert detect_failure("Total 12.00", hit_token_limit=True) == "truncated output: generation hit the token limit"
    assert detect_failure("<|ref|>text<|/ref|><|det|>[[1, 2, 3") == "truncated output: a grounding tag was left open"
    assert detect_failure("<|ref|>image<|/ref|><|det|>[[1, 2, 3, 4]]<|/det|>\n") == (
        "empty output: nothing was read on the page"
    )


def test_repeated_empty_table_cells_are_not_a_loop():
    text = "<table><tr><td>Item</td><td>Amount</td></tr>" + "<tr><td></td><td></td></tr>" * 40 + "</table>"
    assert detect_repetition(text) is None
    assert detect_failure(text) is None


def test_short_legitimate_repeats_are_not_a_loop():
    text = "Subtotal 10.00\n" + "-" * 40 + "\nTotal 10.00\n" + "=" * 40
    assert detect_repetition(text) is None
    assert detect_repetition("ha" * 99) is None  # 198 chars: under the span threshold
    assert detect_repetition("ha" * 100) is not None
