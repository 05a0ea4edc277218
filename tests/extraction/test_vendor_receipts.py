"""Store names on receipts: the name-like line at the top wins over totals, slogans, items and small print."""

from extraction.markdown import Block, PageMarkdown, page_from_text
from extraction.parser import parse_invoice


def _vendor(text: str) -> str | None:
    """The vendor read from a receipt given as plain text (no boxes)."""
    return parse_invoice([page_from_text(text, 1)]).invoice.vendor.name


def _photo(*lines: tuple[str, float]) -> str | None:
    """The vendor read from OCR lines with boxes: (text, box height), stacked down a photographed page."""
    blocks = []
    top = 0.05
    for text, height in lines:
        blocks.append(Block("text", text, 1, (0.3, top, 0.7, top + height), confidence=0.98))
        top += height + 0.005
    return parse_invoice([PageMarkdown(1, "rapidocr", 600, 800, blocks)]).invoice.vendor.name


def test_total_and_tax_lines_never_become_the_vendor() -> None:
    text = """* GST # R448812930
* Order Changed *
*  After Total  *
LARGE MEAL  7.69
GST  2.24
TOTAL  9.93
"""
    assert _vendor(text) is None


def test_a_large_lowercase_logo_is_the_store_name() -> None:
    name = _photo(
        ("brisk", 0.15),
        ("STORE # 311 (555) 010-4477", 0.04),
        ("* GST # R448812930", 0.04),
        ("PAPER TOWELS  2.99", 0.04),
        ("TOTAL  2.99", 0.04),
    )
    assert name == "brisk"


def test_a_small_slogan_above_the_brand_loses_to_the_brand() -> None:
    name = _photo(
        ("Fresher Every Day", 0.015),
        ("Groveland", 0.09),
        ("Lower Prices", 0.02),
        ("Hull Rd.", 0.02),
        ("11/22/11", 0.02),
        ("BANANAS  1.29", 0.02),
    )
    assert name == "Groveland"


def test_a_slogan_below_the_brand_is_not_joined() -> None:
    text = """Harbour Foods
fresh every day
14 Quay Street
MILK  0.89
TOTAL  0.89
"""
    assert _vendor(text) == "Harbour Foods"


def test_a_business_word_line_below_the_brand_continues_the_name() -> None:
    text = """CASTELLO
Restaurant
1010, Grabengasse 4
Tisch #10
Penne  9,90
Saldo  9,90
"""
    assert _vendor(text) == "CASTELLO Restaurant"


def test_a_business_word_further_down_does_not_beat_the_name_above() -> None:
    text = """Lotus Garden
LOTUS GARDEN
Cafe Court Lower Ground - Harbour Mall
Tel 04-5550123
1 MASALA DOSA  28.00
TOTAL  28.00
"""
    assert _vendor(text) == "Lotus Garden"


def test_the_brand_printed_large_beats_the_legal_entity_in_small_print() -> None:
    name = _photo(
        ("Northgate", 0.06),
        ("Northgate Stores Ltd BD3 7DL", 0.025),
        ("VAT No. 123456789", 0.025),
        ("WHOLEMEAL LOAF  0.50", 0.025),
    )
    assert name == "Northgate"


def test_a_brand_of_the_same_size_leaves_the_legal_entity_the_vendor() -> None:
    name = _photo(
        ("CITY DAIRY", 0.03),
        ("R&C PROVISIONS SDN BHD", 0.03),
        ("LOT 7, JALAN MAWAR", 0.03),
        ("Tax Invoice", 0.03),
        ("MILK  4.50", 0.03),
    )
    assert name == "R&C PROVISIONS SDN BHD"


def test_item_lines_are_not_a_store_name() -> None:
    text = """OPEN 8:00AM TO 9:00PM DAILY
TULIPS 5 STEMS  5.99
PORK DUMPLINGS
AVOCADOS  1.98
TOTAL  12.96
"""
    assert _vendor(text) is None


def test_a_customer_receipt_title_is_not_a_customer_block() -> None:
    text = """Customer Receipt
Order: 17
Little Bombay
83 Pine Street
Vegetable Pakora  3.99
Total  3.99
"""
    assert _vendor(text) == "Little Bombay"


def test_a_date_on_the_name_line_is_left_out() -> None:
    text = """Cake Studio Uptown Mar 3, 2021
120 Elm Street
FOR HERE
Cafe Latte  4.75
Total  4.75
"""
    assert _vendor(text) == "Cake Studio Uptown"


def test_unit_numbers_welcome_and_register_numbers() -> None:
    assert _vendor("#B01 KAZE RESTAURANT\n(555) 010-2211\nTotal  9.00\n") == "KAZE RESTAURANT"
    assert _vendor("Welcome to Pollo Rico\n(555) 010-9876\nTotal  9.00\n") == "Pollo Rico"
    assert _vendor("VOR\nBURGER BARN REG 3\n42 HARBOR ROAD\nTotal  9.00\n") == "BURGER BARN REG 3"


def test_a_short_capitals_word_completes_the_name() -> None:
    name = _photo(
        ("BLUE", 0.05),
        ("OX", 0.05),
        ("DRUGSTORE", 0.03),
        ("(555) 010-3344", 0.03),
        ("SOAP  2.99", 0.03),
        ("TOTAL  2.99", 0.03),
    )
    assert name == "BLUE OX"
    assert _vendor("BLUE   OX\n(555) 010-3344\nSOAP  2.99\nTOTAL  2.99\n") == "BLUE OX"
    assert _vendor("BLUE\nTEL\n(555) 010-3344\nSOAP  2.99\nTOTAL  2.99\n") == "BLUE"


def test_a_possessive_name_beats_a_lone_word_above_it() -> None:
    name = _photo(
        ("MOON", 0.07),
        ("JO'S GIFTS", 0.045),
        ("BAYSIDE PLAZA", 0.045),
        ("GIFT WRAP  3.99", 0.04),
        ("TOTAL  3.99", 0.04),
    )
    assert name == "JO'S GIFTS"
