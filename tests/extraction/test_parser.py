"""The markdown -> Invoice parser on invoices and receipts written for these tests."""

import datetime as dt
from decimal import Decimal

import pytest

from extraction.markdown import PageMarkdown, page_from_text
from extraction.parser import parse_invoice
from extraction.parser.candidates.names import clean_name, party_name, spell_legal_form
from extraction.schema import FieldInfo, Invoice, Party
from tests.builders import make_settings


def _parse(text: str):
    return parse_invoice([page_from_text(text, 1)])


EN_INVOICE = """# Northwind Traders Ltd
12 Harbour Road, Bristol BS1 4DJ
VAT Reg No: GB123456789
Email: billing@northwind.example

Bill To:
Contoso Pharmacy
5 Market Street, Leeds LS1 6AB

Invoice No: INV-2024-0042
Invoice Date: 5 March 2024
Due Date: 4 April 2024
PO Number: PO-7781
Payment terms: 30 days net

| Description | Qty | Unit Price | Amount |
|---|---|---|---|
| Widget large | 2 | £10.00 | £20.00 |
| Service hours | 3 | £25.00 | £75.00 |

Subtotal £95.00
VAT 20% £19.00
Total £114.00
IBAN GB82 WEST 1234 5698 7654 32
"""


def test_english_invoice_all_fields() -> None:
    parsed = _parse(EN_INVOICE)
    inv = parsed.invoice
    assert inv.vendor.name == "Northwind Traders Ltd"
    assert inv.vendor.tax_id == "GB123456789"
    assert inv.vendor.email == "billing@northwind.example"
    assert inv.vendor.iban == "GB82WEST12345698765432"
    assert inv.customer.name == "Contoso Pharmacy"
    assert inv.invoice_number == "INV-2024-0042"
    assert inv.invoice_date == dt.date(2024, 3, 5)
    assert inv.due_date == dt.date(2024, 4, 4)
    assert inv.purchase_order == "PO-7781"
    assert inv.payment_terms == "30 days net"
    assert inv.currency == "GBP"
    assert (inv.subtotal, inv.tax_total, inv.total) == (Decimal("95.00"), Decimal("19.00"), Decimal("114.00"))
    assert [(t.rate, t.base, t.amount) for t in inv.tax_lines] == [(Decimal(20), Decimal("95.00"), Decimal("19.00"))]
    assert [(i.description, i.quantity, i.unit_price, i.amount) for i in inv.line_items] == [
        ("Widget large", Decimal(2), Decimal("10.00"), Decimal("20.00")),
        ("Service hours", Decimal(3), Decimal("25.00"), Decimal("75.00")),
    ]


def test_every_field_has_provenance_and_confidence() -> None:
    parsed = _parse(EN_INVOICE)
    total = parsed.fields["total"]
    assert total.source == "Total £114.00"
    assert total.page == 1
    assert 0.8 <= total.confidence <= 1.0
    for key in ("vendor.name", "invoice_number", "invoice_date", "due_date", "currency", "subtotal", "tax_total"):
        info = parsed.fields[key]
        assert info.source and 0 < info.confidence <= 1, key
    assert parsed.reasons == []


def test_german_invoice_with_comma_decimals() -> None:
    text = """# Muster Technik GmbH
Hauptstraße 5, 10115 Berlin
USt-IdNr.: DE123456789

Rechnungsempfänger
Beispiel AG
Ringweg 3, 80331 München

Rechnungsnummer: RE-2024-117
Rechnungsdatum: 03.04.2024
Fällig am: 03.05.2024

Summe netto: 1.000,00 €
zzgl. MwSt 19%: 190,00 €
Gesamtbetrag: 1.190,00 €
"""
    inv = _parse(text).invoice
    assert inv.vendor.name == "Muster Technik GmbH"
    assert inv.customer.name == "Beispiel AG"
    assert inv.invoice_number == "RE-2024-117"
    assert inv.invoice_date == dt.date(2024, 4, 3)  # day-first: a German document
    assert inv.due_date == dt.date(2024, 5, 3)
    assert inv.currency == "EUR"
    assert (inv.subtotal, inv.tax_total, inv.total) == (Decimal("1000.00"), Decimal("190.00"), Decimal("1190.00"))


def test_french_invoice() -> None:
    text = """# Au Bon Pain SARL
Facture N° FA-2023-0009
Date de facture : 5 novembre 2023
Date d'échéance : 5 décembre 2023
Total HT 500,00 €
TVA 20 % 100,00 €
Montant TTC 600,00 €
"""
    inv = _parse(text).invoice
    assert inv.vendor.name == "Au Bon Pain SARL"
    assert inv.invoice_number == "FA-2023-0009"
    assert inv.invoice_date == dt.date(2023, 11, 5)
    assert inv.due_date == dt.date(2023, 12, 5)
    assert (inv.subtotal, inv.tax_total, inv.total) == (Decimal("500.00"), Decimal("100.00"), Decimal("600.00"))


def test_dutch_invoice() -> None:
    text = """FACTUUR  Fietsenwinkel De Ketting B.V.
Factuurnummer: 993548900
Factuurdatum: 19 april 2014
Exclusief BTW  € 100,00
BTW 21%  € 21,00
Totaal  € 121,00
"""
    inv = _parse(text).invoice
    assert inv.vendor.name == "Fietsenwinkel De Ketting B.V."
    assert inv.invoice_number == "993548900"
    assert inv.invoice_date == dt.date(2014, 4, 19)
    assert (inv.subtotal, inv.tax_total, inv.total) == (Decimal("100.00"), Decimal("21.00"), Decimal("121.00"))
    assert inv.currency == "EUR"


def test_spanish_invoice() -> None:
    text = """# Distribuciones Norte S.L.
Número de factura: F-2024-33
Fecha de factura: 12 de enero de 2024
Base imponible: 200,00 €
IVA 21%: 42,00 €
Importe total: 242,00 €
"""
    inv = _parse(text).invoice
    assert inv.vendor.name == "Distribuciones Norte S.L."
    assert inv.invoice_number == "F-2024-33"
    assert inv.invoice_date == dt.date(2024, 1, 12)
    assert (inv.subtotal, inv.tax_total, inv.total) == (Decimal("200.00"), Decimal("42.00"), Decimal("242.00"))


def test_html_line_item_table_as_deepseek_emits_it() -> None:
    text = """# Acme Supplies Inc.
Invoice # 5531
Invoice Date: 2024-02-10
<table><tr><td>Item</td><td>Qty</td><td>Price</td><td>Total</td></tr>
<tr><td>Paper A4</td><td>10</td><td>$4.50</td><td>$45.00</td></tr>
<tr><td>Toner</td><td>1</td><td>$80.00</td><td>$80.00</td></tr>
<tr><td colspan="3">Total</td><td>$125.00</td></tr></table>
"""
    parsed = _parse(text)
    inv = parsed.invoice
    assert [(i.description, i.quantity, i.amount) for i in inv.line_items] == [
        ("Paper A4", Decimal(10), Decimal("45.00")),
        ("Toner", Decimal(1), Decimal("80.00")),
    ]
    assert inv.total == Decimal("125.00")
    assert inv.invoice_number == "5531"
    # A bare $ is read as USD with a reason; the same invoice that also prints the code needs none and is
    # never less sure (how sure a bare $ is, the scorer learned: both are calibrated probabilities).
    assert inv.currency == "USD"
    assert any("bare '$'" in r for r in parsed.reasons)
    printed = _parse(text + "Currency: USD\n")
    assert printed.invoice.currency == "USD" and not any("bare '$'" in r for r in printed.reasons)
    assert parsed.fields["currency"].confidence <= printed.fields["currency"].confidence


RECEIPT = """SUPERMART SDN BHD
(123456-X)
NO. 5, JALAN BESAR, 81100 JOHOR BAHRU
TEL: 07-1234567
TAX INVOICE
DATE: 25/12/2018 8:13 PM
ITEM QTY AMOUNT
MILK 1L  2  9.00
BREAD  1  3.50
TOTAL QTY: 3
SUBTOTAL  12.50
GST 6%  0.75
ROUNDING  -0.05
TOTAL  13.20
CASH  20.00
CHANGE  6.80
THANK YOU
"""


def test_receipt_total_is_not_cash_change_or_subtotal() -> None:
    parsed = _parse(RECEIPT)
    inv = parsed.invoice
    assert inv.vendor.name == "SUPERMART SDN BHD"
    assert inv.total == Decimal("13.20")
    assert inv.subtotal == Decimal("12.50")
    assert inv.tax_total == Decimal("0.75")
    assert inv.invoice_date == dt.date(2018, 12, 25)
    # No symbol or code on the receipt: the currency comes from the country its address shows, and says so.
    assert inv.currency == "MYR"
    assert any("inferred from the country" in r for r in parsed.reasons)


def test_a_pen_on_a_receipt_is_not_another_currency() -> None:
    parsed = _parse("KEDAI BUKU MAJU SDN BHD\nGEL PEN 0.5MM  2.50\nA4 PAPER  9.90\nTotal RM 12.40\n")
    assert parsed.invoice.currency == "MYR"
    assert "currencies_seen" not in parsed.fields
    mixed = _parse("KEDAI BUKU MAJU SDN BHD\nGEL PEN 0.5MM  2.50\nTotal RM 12.40\nPaid USD 3.00\n")
    assert mixed.fields["currencies_seen"].value == ["MYR", "USD"]


def test_receipt_store_name_skips_generic_first_lines() -> None:
    text = """TAX INVOICE
Welcome to
Corner Bakery Cafe
123 Main St, Springfield
05/03/2024 10:12
Total $7.25
VISA $7.25
"""
    inv = _parse(text).invoice
    assert inv.vendor.name == "Corner Bakery Cafe"
    assert inv.total == Decimal("7.25")
    # Month-first: the receipt is in USD and nothing else decides.
    assert inv.invoice_date == dt.date(2024, 5, 3)


def test_total_chosen_by_arithmetic_among_several_totals() -> None:
    text = """Shop One
Total Sales (Excluding GST)  8.49
GST  0.51
Total Sales (Inclusive of GST)  9.00
Total  9.00
Cash  10.00
Change  1.00
"""
    inv = _parse(text).invoice
    assert inv.total == Decimal("9.00")
    assert inv.subtotal == Decimal("8.49")
    assert inv.tax_total == Decimal("0.51")


def test_credit_note_negative_amounts() -> None:
    text = """# Lieferant GmbH
Gutschrift Nr. GS-77
Datum: 16.09.2013
Nettobetrag: -7,67 €
MwSt 19%: -1,12 €
Endbetrag: -8,79 €
"""
    inv = _parse(text).invoice
    assert inv.invoice_number == "GS-77"
    assert (inv.subtotal, inv.tax_total, inv.total) == (Decimal("-7.67"), Decimal("-1.12"), Decimal("-8.79"))


def test_ambiguous_date_gets_a_reason_and_low_confidence() -> None:
    parsed = _parse("Consulting Partners\nInvoice No: 12\nInvoice Date: 03/04/2024\nTotal 100.00\n")
    assert parsed.invoice.invoice_date == dt.date(2024, 4, 3)
    assert parsed.fields["invoice_date"].confidence <= 0.5
    assert any(r.startswith("invoice date is ambiguous (03/04/2024): day-first assumed") for r in parsed.reasons)


def test_order_decided_by_another_date_on_the_document() -> None:
    text = "Consulting Partners\nInvoice Date: 03/04/2024\nDue Date: 04/28/2024\nTotal 100.00 USD\n"
    parsed = _parse(text)
    assert parsed.invoice.invoice_date == dt.date(2024, 3, 4)
    assert not any("ambiguous" in r for r in parsed.reasons)


def test_missing_fields_are_null_with_reasons() -> None:
    parsed = _parse("Hello world\nnothing here\n")
    inv = parsed.invoice
    assert inv.total is None and inv.invoice_date is None and inv.currency is None
    assert "total not found" in parsed.reasons
    assert "invoice date not found" in parsed.reasons


def test_table_rows_from_an_engine_with_boxes() -> None:
    from extraction.markdown import Block

    page = PageMarkdown(
        1,
        "textlayer",
        595,
        842,
        [
            Block("heading", "Blue Harbor Ltd", 1, (0.1, 0.05, 0.5, 0.08)),
            Block(
                "table",
                page=1,
                bbox=(0.1, 0.7, 0.9, 0.8),
                rows=[["Net total", "€ 50,00"], ["VAT", "€ 10,50"], ["Total due", "€ 60,50"]],
                row_bboxes=[(0.1, 0.7, 0.9, 0.72), (0.1, 0.73, 0.9, 0.75), (0.1, 0.76, 0.9, 0.78)],
                confidence=0.9,
            ),
        ],
    )
    parsed = parse_invoice([page])
    assert parsed.invoice.total == Decimal("60.50")
    assert parsed.fields["total"].bbox == [0.1, 0.76, 0.9, 0.78]
    assert parsed.fields["vendor.name"].bbox == [0.1, 0.05, 0.5, 0.08]


def test_einvoice_data_is_used_as_is() -> None:
    exact = Invoice(vendor=Party(name="Exact GmbH"), invoice_number="X-1", total=Decimal("10.00"), currency="EUR")
    page = PageMarkdown(
        1, "einvoice", 0, 0, [], invoice=exact, invoice_fields={"total": FieldInfo(value=10, confidence=1)}
    )
    parsed = parse_invoice([page])
    assert parsed.invoice is exact
    assert parsed.fields["total"].confidence == 1
    assert parsed.fields["vendor.name"].value == "Exact GmbH"
    assert parsed.reasons == []


def test_store_name_above_its_registration_number() -> None:
    text = """A02045
KEDAI MAJU JAYA
(0005583085-K)
LOT 276 JALAN BANTING
TAX INVOICE
OTHER TRADING SDN BHD
DATE: 25/12/2018
TOTAL  9.00
"""
    assert _parse(text).invoice.vendor.name == "KEDAI MAJU JAYA"


def test_us_receipt_reads_month_first_from_a_twelve_hour_clock() -> None:
    parsed = _parse("Corner Deli\n04/07/2018 6:15:42 PM\nTotal 12.00\n")
    assert parsed.invoice.invoice_date == dt.date(2018, 4, 7)
    assert any("month-first assumed" in r for r in parsed.reasons)


def test_document_type_receipt_or_invoice() -> None:
    assert _parse(RECEIPT).fields["document_type"].value == "receipt"
    assert _parse(EN_INVOICE).fields["document_type"].value == "invoice"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # A photographed slip with no payment line and one receipt word: nothing marks an invoice.
        ("Corner Deli\n12 Main St\n04/07/2018\nBagel 3.50\nCoffee 2.50\nTotal 6.00\nThank you\n", "receipt"),
        # A till slip titled as a GST tax invoice, paid in cash.
        ("KEDAI MAJU JAYA\nTAX INVOICE\nDATE: 25/12/2018\nTOTAL 9.00\nCASH 10.00\nCHANGE 1.00\n", "receipt"),
        # An invoice paid by card is still an invoice: customer, terms and bank details outweigh the payment.
        (
            "Northwind Traders Ltd\nInvoice\nBill To: Contoso Pharmacy\nPayment terms: 30 days net\n"
            "Invoice Date: 5 March 2024\nTotal 114.00\nPaid by card 114.00\nIBAN GB82 WEST 1234 5698 7654 32\n",
            "invoice",
        ),
    ],
)
def test_document_type_weighs_the_marks_of_each_kind(text: str, kind: str) -> None:
    assert _parse(text).fields["document_type"].value == kind


def test_item_counts_and_tax_registration_numbers_are_not_amounts() -> None:
    text = """Harbour Books
VAT Reg No: 191 2478 96
Novel  12.00
TOTAL NUMBER OF ITEMS SOLD = 2
Subtotal  10.00
VAT  2.00
"""
    inv = _parse(text).invoice
    assert inv.tax_total == Decimal("2.00")
    assert inv.total == Decimal("12.00")


def test_amount_tendered_is_a_payment_not_the_total() -> None:
    text = """Noodle Bar
Ramen  19.50
AMOUNT TENDERED  20.00
CHANGE  0.50
"""
    assert _parse(text).invoice.total == Decimal("19.50")
    settled = "Noodle Bar\nRamen  12.20\nTea  3.90\nAMOUNT PAID  16.10\nCASH  20.00\nCHANGE  3.90\n"
    assert _parse(settled).invoice.total == Decimal("16.10")


def test_italian_receipt_totale_and_subtotale() -> None:
    text = """Bar Centrale
Via Roma 12, Milano
Cappuccino  1,50
Cornetto  1,20
SUBTOTALE  2,70
Sconto  0,20
TOTALE EURO  2,50
CONTANTI  5,00
"""
    inv = _parse(text).invoice
    assert inv.subtotal == Decimal("2.70")
    assert inv.total == Decimal("2.50")


def test_tax_is_the_amount_that_is_the_rate_of_another_on_its_line() -> None:
    base_tax_gross = """Trattoria Roma
Pizza  17.78
IVA 8% = 17.78  1,42  19.20
TOTALE  19.20
"""
    assert _parse(base_tax_gross).invoice.tax_total == Decimal("1.42")
    tax_before_label = """Bakker Jansen
Brood  28.95
1.64 Food BTW 6%  28.95
Totaal  28.95
"""
    assert _parse(tax_before_label).invoice.tax_total == Decimal("1.64")


def test_gst_included_in_the_total_is_not_the_total() -> None:
    text = """Kings Confectionery S/B
| French Loaf 8 | 2.40 | 19.20 |
| Rounding Adj | 0.00 |
| Due | 19.20 |
| Pay | 20.00 |
| Change | 0.80 |
(Total Included GST @ 6% : 1.09)
"""
    assert _parse(text).invoice.total == Decimal("19.20")


def test_due_and_pay_words_inside_a_sentence_are_not_amount_labels() -> None:
    text = """Harbour Consulting Ltd
Invoice No: HC-12
Consulting  450.00
Due within 14 days
Pay within 30 days
"""
    inv = _parse(text).invoice
    assert inv.total == Decimal("450.00") and inv.amount_due is None


def test_unlabelled_amount_above_the_tax_that_makes_the_total_is_the_subtotal() -> None:
    text = """Taco Stand
Steak burrito  6.95
Extra salsa  1.49
FOOD  8.44
TAX  0.61
TOTAL  9.05
CASH  20.00
"""
    parsed = _parse(text)
    assert (parsed.invoice.subtotal, parsed.invoice.tax_total, parsed.invoice.total) == (
        Decimal("8.44"), Decimal("0.61"), Decimal("9.05"),
    )  # fmt: skip
    assert parsed.fields["subtotal"].source == "FOOD  8.44"
    # Without an amount that adds up, no subtotal is confident: 8.40 + 0.61 is not 9.05.
    off = _parse(text.replace("FOOD  8.44", "FOOD  8.40"))
    assert off.invoice.subtotal is None or off.fields["subtotal"].confidence < make_settings().low_confidence


def test_an_amount_before_a_label_in_its_cell_belongs_to_the_label_before() -> None:
    # OCR merged the tax's value into the next label's cell.
    inv = _parse("Corner Shop\nMilk  2.00\n| TAX | .26 BALANCE | 2.26 |\n").invoice
    assert (inv.tax_total, inv.amount_due, inv.total) == (Decimal("0.26"), Decimal("2.26"), Decimal("2.26"))


def test_registration_numbers_under_a_title_and_tax_included_in_the_total() -> None:
    text = """Burger Bar
Tax Invoice
ABN: 83 600 128 738
Burger  10.50
Chips  3.50
Coke  3.90
Subtotal $17.90
Total for 3 items $17.90
GST INCLUDED IN TOTAL $1.62
"""
    inv = _parse(text).invoice
    # "ABN" is a registration number, never an amount; "included in total" names where the tax is.
    assert (inv.total, inv.tax_total) == (Decimal("17.90"), Decimal("1.62"))


def test_the_total_after_a_rounding_adjustment_and_a_tax_invoice_number() -> None:
    text = """KEDAI RUNCIT MAJU SDN BHD
TAX INVOICE NO : 138652
Sugar 1KG  2.90
Rice 5KG  25.13
Total Sales (Incl. GST @6%)  RM28.03
Rounding Adjustment  RM0.02
Net Total  RM28.05
Received Cash  RM28.05
"""
    inv = _parse(text).invoice
    assert inv.total == Decimal("28.05")  # the amount after the rounding is the one paid
    assert inv.tax_total != Decimal("138652")  # "Tax Invoice No: 138652" is the document's number


def test_a_date_under_a_line_with_its_own_value_is_not_labelled_by_it() -> None:
    receipt = "Ramen Bar\nRamen  15.90\nPAY THIS AMOUNT: $15.90\nORDER NUMBER: 26367\n2013/05/21\n"
    assert _parse(receipt).invoice.invoice_date == dt.date(2013, 5, 21)
    # A label alone on the line above still labels the date below it.
    labelled = "Acme GmbH\nInvoice 7\nDue date:\n2024-04-30\nDate: 2024-03-31\nTotal 10.00 EUR\n"
    assert _parse(labelled).invoice.due_date == dt.date(2024, 4, 30)


def test_ocr_digits_inside_capital_words_of_a_name_are_read_as_letters() -> None:
    assert clean_name("RESTAURANT 5DN BHD") == "RESTAURANT SDN BHD"
    assert clean_name("URBAN 1DEA SDN BHD (417940-M),") == "URBAN IDEA SDN BHD"
    assert clean_name("99 SPEED MART 5/B (519537-X)") == "99 SPEED MART S/B"
    # Codes, postcodes and numbers keep their digits.
    for kept in ("Leeds LS1 6AB", "7-ELEVEN", "B2B TRADING", "A02045 STORE"):
        assert clean_name(kept) == kept


@pytest.mark.parametrize(
    ("read", "name"),
    [
        ("Amazon Web Services Invoice", "Amazon Web Services"),
        ("ACME GMBH RECHNUNG", "ACME GMBH"),
        ("BOW WOW CAFE SON BHD TAX INVOICE", "BOW WOW CAFE SDN BHD"),
        ("KING'S CONFECTIONERY S/B 273500-U (KJ1)", "KING'S CONFECTIONERY S/B"),
        ("MOONLIGHT CAKE HOUSE SDN BHD 862725-U", "MOONLIGHT CAKE HOUSE SDN BHD"),
        ("Morrisons Supermarkets plc BD3 7DL", "Morrisons Supermarkets plc"),
        ("SUPER.SEVEN CASH & CARRY SBN 3HD", "SUPER.SEVEN CASH & CARRY SDN BHD"),
        ("CAFE 1990", "CAFE 1990"),  # figures without a legal form before them may be the name's
        ("Receipt Bank Ltd", "Receipt Bank Ltd"),  # a title word inside the name stays
        ("Invoice", "Invoice"),  # nothing would be left
        ("000002 BAIFU (M) Sdn Bhd", "BAIFU (M) Sdn Bhd"),
        ("(P) Segi Cash & Carry Sdn. Bhd.", "Segi Cash & Carry Sdn. Bhd."),
        ("1800 Flowers", "1800 Flowers"),  # one word after the figures: they may be the name's
    ],
)
def test_a_party_name_reads_without_a_code_before_or_a_title_registration_or_postcode_after(
    read: str, name: str
) -> None:
    assert party_name(read) == name


def test_the_vendor_reads_with_its_legal_form_spelled() -> None:
    parsed = _parse("BOW WOW CAFE SON BHD\nNO 8, JALAN SS 2/64\nTOTAL 9.00\nCASH 10.00\nCHANGE 1.00\n")
    assert parsed.invoice.vendor.name == "BOW WOW CAFE SDN BHD"
    assert parsed.fields["vendor.name"].value == "BOW WOW CAFE SDN BHD"


@pytest.mark.parametrize(
    ("read", "name"),
    [
        ("AMANO MALAYSIA SON BHD", "AMANO MALAYSIA SDN BHD"),
        ("SUBANG HEALTHCARE SIN BHD", "SUBANG HEALTHCARE SDN BHD"),
        ("ONE ONE THREE SEAFOOD RESTAURANT SDN HD", "ONE ONE THREE SEAFOOD RESTAURANT SDN BHD"),
        ("99 SPEED MART S/8", "99 SPEED MART S/B"),
        ("HARBOUR BOOKS LIMITEO", "HARBOUR BOOKS LIMITED"),
        # Right already, mixed case, or near two forms at once: kept as printed.
        ("ACME PTY LTD", "ACME PTY LTD"),
        ("ACME PTV LTD", "ACME PTV LTD"),
        ("Sun Bhd Trading", "Sun Bhd Trading"),
        ("KEDAI SDN. BHD.", "KEDAI SDN. BHD."),
        ("SUN BHD", "SUN BHD"),
    ],
)
def test_a_legal_form_misread_by_one_letter_ends_the_name_as_spelled(read: str, name: str) -> None:
    assert spell_legal_form(read) == name


@pytest.mark.parametrize("label", ["GST ID. NO :", "(GST ID No:", "GST Reg. No.", "VAT Reg. No.", "Tax ID Number:"])
def test_tax_id_after_a_label_with_number_words(label: str) -> None:
    text = f"SUNRISE HARDWARE SDN BHD\nLOT 12, JALAN MAJU\n{label} 000181747712\nTOTAL 12.50\n"
    assert _parse(text).invoice.vendor.tax_id == "000181747712"


def test_the_invoice_number_is_not_the_customer_number_under_it() -> None:
    text = (
        "FACTUUR  Coolmarkt B.V.\nFactuurnummer: 48812007  IBAN NL91ABNA0417164300\n"
        "Klantnummer: 5521930\nFactuurdatum: 3 mei 2024\n\nTotaal  € 121,00\n"
    )
    assert _parse(text).invoice.invoice_number == "48812007"


_CUSTOMER_FIRST = (
    # The customer's block printed above the seller's, under a label alone on its line.
    "Bill To:\nJansen Holding B.V.\nKeizersgracht 120\n1015 CS Amsterdam\nFactuur\nDe Vries Installatietechniek B.V.\n"
    "Industrieweg 8, 3542 AD Utrecht\nFactuurnummer: 2024-117\nFactuurdatum: 05-02-2024\nTotaal  € 302,50\n",
    "Bill To\nJansen Holding B.V.\nKeizersgracht 120\n1015 CS Amsterdam\nFactuur\nDe Vries Installatietechniek B.V.\n"
    "Industrieweg 8\n3542 AD Utrecht\nFactuurnummer: 2024-117\nFactuurdatum: 05-02-2024\nTotaal  € 302,50\n",
    "Factuur\nBill To:\nJansen Holding B.V.\nKeizersgracht 120\n1015 CS Amsterdam\nDe Vries Installatietechniek B.V.\n"
    "Industrieweg 8, 3542 AD Utrecht\nBTW NL123456789B01\nFactuurnummer: 2024-117\nTotaal € 302,50\n",
)


@pytest.mark.parametrize("text", _CUSTOMER_FIRST)
def test_the_seller_under_a_customer_block_is_the_vendor(text: str) -> None:
    parsed = _parse(text)
    assert parsed.invoice.customer.name == "Jansen Holding B.V."
    # Not the label, the label joined to the customer's name, or the customer's name: the seller's, with
    # the doubt of a name found second.
    assert parsed.invoice.vendor.name == "De Vries Installatietechniek B.V."
    assert parsed.fields["vendor.name"].confidence < make_settings().low_confidence


@pytest.mark.parametrize(
    ("label", "customer"),
    [("Aan:", "Van Dijk Bouw"), ("To:", "Del Monte Foods"), ("An:", "Hofmann KG")],
)
def test_the_addressee_under_a_bare_to_label_is_the_customer(label: str, customer: str) -> None:
    text = (
        "Bakker Transport B.V.\nHavenweg 22\n3089 JA Rotterdam\nKvK 12345678  BTW NL123456789B01\nFACTUUR\n"
        f"{label} {customer}\nFactuurnr. 25-0177\nDatum 12 mei 2025\nTransport Rotterdam - Utrecht    350,00\n"
        "Subtotaal    350,00\nBTW 21%    73,50\nTotaal    € 423,50\n"
    )
    parsed = _parse(text)
    # "Van" and "Del" open names here, not a date's "from": the name under the label is the customer's.
    assert parsed.invoice.customer.name == customer
    assert parsed.invoice.vendor.name == "Bakker Transport B.V."


def test_a_copy_mark_in_another_language_is_never_the_vendor() -> None:
    text = (
        "KOPIE\nRechnung\nBäckerei Schmidt\nLindenweg 3\n70173 Stuttgart\nRechnungsnummer: RE-2024-0815\n"
        "Rechnungsdatum: 12.03.2024\nWartung Heizungsanlage    1    480,00 €\nNettobetrag    480,00 €\n"
        "MwSt. 19 %    91,20 €\nGesamtbetrag    571,20 €\n"
        "Müller Haustechnik GmbH · Industriestraße 14 · 70565 Stuttgart\n"
        "USt-IdNr.: DE123456789 · IBAN: DE89 3704 0044 0532 0130 00\n"
    )
    parsed = _parse(text)
    # The seller is named only in the footer; the stamp on top is no name, alone or joined to the title.
    assert parsed.invoice.vendor.name == "Müller Haustechnik GmbH"
    assert parsed.invoice.total == Decimal("571.20")


def test_a_gst_copy_mark_naming_the_recipient_does_not_make_the_seller_a_customer() -> None:
    text = (
        "TAX INVOICE\nOriginal for Recipient\nSharma Electronics Pvt Ltd\nPlot 14, MIDC Andheri East, Mumbai 400093\n"
        "GSTIN: 27AABCS1234F1Z5\nInvoice No: SE/24-25/0192\nInvoice Date: 12-07-2024\nBilling Details\n"
        "Customer: Rao Traders\nHyderabad 500001\nItem  Qty  Rate  Amount\nLED Monitor  2  9,500.00  19,000.00\n"
        "Taxable Value  19,000.00\nIGST 18%  3,420.00\nGrand Total  ₹ 22,420.00\n"
    )
    invoice = _parse(text).invoice
    assert invoice.vendor.name == "Sharma Electronics Pvt Ltd"
    assert invoice.customer.name != "Sharma Electronics Pvt Ltd"
    assert invoice.total == Decimal("22420.00") and invoice.currency == "INR"


def test_a_phone_number_is_never_the_invoice_number() -> None:
    head = "KEDAI RUNCIT AH SENG SDN BHD\n(123456-X)\nNO 12, JALAN MERDEKA 3\n47100 PUCHONG, SELANGOR\n"
    items = "Date: 02/04/2019 09:15\nMILO 1KG 1 18.90\nROTI 2 4.40\nTotal 23.30\nCash 50.00\nChange 26.70\n"
    assert _parse(head + "TEL: 03-8075 1234\n" + items).invoice.invoice_number is None
    numbered = _parse(head + "Tel/Fax : 603-7877 9712\nReceipt No: CS00522899\n" + items)
    assert numbered.invoice.invoice_number == "CS00522899"
