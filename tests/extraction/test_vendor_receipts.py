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


def test_a_large_lowercase_logo_is_the_store_name() -> None:
    name = _photo(
        ("brisk", 0.15),
        ("STORE # 311 (555) 010-4477", 0.04),
        ("* GST # R448812930", 0.04),
        ("PAPER TOWELS  2.99", 0.04),
        ("TOTAL  2.99", 0.04),
    )
    assert name == "brisk"


def test_a_slogan_below_the_brand_is_not_joined() -> None:
    text = """Harbour Foods
fresh every day
14 Quay Street
MILK  0.89
TOTAL  0.89
"""
    assert _vendor(text) == "Harbour Foods"


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


def test_a_name_printed_over_two_lines_is_read_whole() -> None:
    name = _photo(
        ("LIAN CHI PU TIAN VEGETARIAN", 0.03),
        ("RESTAURANT SDN BHD", 0.03),
        ("(1095514-X)", 0.02),
        ("NO 8, JALAN SS 2/64, 47300 PETALING JAYA", 0.02),
        ("(GST ID No : 001147416576)", 0.02),
        ("TAX INVOICE", 0.025),
        ("FRIED RICE  1  9.00", 0.02),
        ("TOTAL  9.00", 0.025),
        ("CASH  10.00", 0.02),
        ("CHANGE  1.00", 0.02),
    )
    assert name == "LIAN CHI PU TIAN VEGETARIAN RESTAURANT SDN BHD"


def test_the_address_under_a_name_is_not_joined_to_it() -> None:
    name = _photo(
        ("SUNRISE BAKERY SDN BHD", 0.035),
        ("NO 8, JALAN SS 2/64", 0.02),
        ("47300 PETALING JAYA", 0.02),
        ("TEL: 03-7865 1234", 0.02),
        ("BREAD  1  4.50", 0.02),
        ("TOTAL  4.50", 0.025),
    )
    assert name == "SUNRISE BAKERY SDN BHD"


KEDAI_MAJU = """KEDAI MAJU JAYA SDN BHD (1095514-X)
NO 8, JALAN SS 2/64, 47300 PETALING JAYA
Co. Reg No: 273500-U
{number}06/01/2018 13:05
MEE GORENG  1  9.00
TOTAL  9.00
CASH  10.00
CHANGE  1.00
"""


def test_a_receipt_number_is_never_the_sellers_registration_number() -> None:
    bare = parse_invoice([page_from_text(KEDAI_MAJU.format(number=""), 1)]).invoice
    assert bare.vendor.name == "KEDAI MAJU JAYA SDN BHD"
    assert bare.invoice_number is None  # the slip prints no number of its own
    numbered = parse_invoice([page_from_text(KEDAI_MAJU.format(number="Receipt No: R-20391\n"), 1)]).invoice
    assert numbered.invoice_number == "R-20391"
