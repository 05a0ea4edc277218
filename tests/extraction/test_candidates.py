"""Candidate generators and their named features, on documents written for these tests."""

import datetime as dt
import re
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from extraction.markdown import page_from_text
from extraction.parser.candidates import Layout, generate
from extraction.parser.candidates.amounts import _tax_of_another, _taxes_of_others
from extraction.parser.candidates.name_lines import spans_whole_lines, window_candidates
from extraction.parser.context import build_doc


def _cands(text: str) -> dict:
    return generate(build_doc([page_from_text(text, 1)]))


def _one(cands: list, value) -> object:
    found = [c for c in cands if c.value == value]
    assert found, f"{value!r} not among {[c.value for c in cands]}"
    return found[0]


RECEIPT = """# CORNER GROCER
12 Main Street
Milk 2L  3.20
Bread  5.24
Subtotal  8.44
Tax 7.25%  0.61
Total  9.05
Cash  10.00
Change  0.95
"""


def test_amounts_carry_their_labels_and_arithmetic() -> None:
    amounts = _cands(RECEIPT)["amount"]
    total = _one(amounts, Decimal("9.05"))
    assert total.features["before_total"] >= 2
    assert total.features["sum_of_two_labelled"] == 1  # 8.44 + 0.61
    assert total.features["paid_less_change"] == 1  # 10.00 - 0.95
    assert total.features["items_above_sum"] == 0
    subtotal = _one(amounts, Decimal("8.44"))
    assert subtotal.features["before_subtotal"] == 3
    assert subtotal.features["items_above_sum"] == 1  # 3.20 + 5.24
    tax = _one(amounts, Decimal("0.61"))
    assert tax.features["before_tax"] >= 2
    assert tax.features["rate_on_line"] == 1
    assert tax.features["tax_of_another"] == 1  # 7.25% of 8.44
    # The rate itself is not an amount.
    assert not any(c.value == Decimal("7.25") for c in amounts)


def test_a_rounding_line_marks_the_amount_after_it() -> None:
    text = "Total  10.36\nRounding  -0.01\nTotal Due  10.35\nCash  20.00\n"
    due = _one(_cands(text)["amount"], Decimal("10.35"))
    assert due.features["after_rounding"] == 1
    assert due.features["before_amount_due"] >= 2


def test_dates_glued_to_a_time_and_labelled_dates() -> None:
    cands = _cands("Date:2019-04-0209:15:33\nDue Date: 30/04/2019\n")["date"]
    issued = _one(cands, dt.date(2019, 4, 2))
    assert issued.features["time_glued"] == 1
    assert issued.features["before_invoice_date"] >= 2
    due = _one(cands, dt.date(2019, 4, 30))
    assert due.features["before_due_date"] == 3
    assert due.features["chrono_rank"] == 1 and issued.features["chrono_rank"] == 0


def test_invoice_numbers_under_any_label() -> None:
    cands = _cands("Invoice No: INV-2024-0042\nBooking ID  BK77812\nTel +44 20 7946 0000\n")["number"]
    number = _one(cands, "INV-2024-0042")
    assert number.features["before_invoice_number"] == 3
    assert number.features["tok_dash"] == 1 and number.features["tok_letters_first"] == 1
    booking = _one(cands, "BK77812")
    assert booking.features["tok_letters"] == 2 and booking.features["tok_digits"] == 5
    assert booking.label_text == "booking id"
    # Amounts and dates are not number candidates.
    assert not any(c.value in ("9.05", "2019-04-02") for c in _cands(RECEIPT + "2019-04-02\n")["number"])
    assert _one(_cands("No.12345\n")["number"], "12345").features["tok_prefix_no"] == 1


def test_a_customer_account_number_is_labelled_as_one() -> None:
    cands = _cands("Factuurnummer: 993548900\nKlantnummer: 6669263\nCustomer No. C-4410\n")["number"]
    assert _one(cands, "993548900").features["before_invoice_number"] == 3
    for value in ("6669263", "C-4410"):
        features = _one(cands, value).features
        assert features["before_account_number"] == 3 and "before_invoice_number" not in features


INVOICE = """KOPIE
Bill To:
Contoso Pharmacy
5 Market Street
Northwind Traders GmbH
Hauptstraße 5, 10115 Berlin
billing@northwind.example
Payment Details
"""


def test_name_candidates_know_stamps_headings_customer_blocks_and_domains() -> None:
    cands = _cands(INVOICE)
    names, sellers = cands["name"], cands["seller"]
    assert _one(names, "KOPIE").features["copy_stamp"] == 1
    assert _one(names, "Payment Details").features["section_heading"] == 1
    # A copy mark, a section heading or a party label alone names no seller, on its own or joined to the line
    # under it; the customer's scorer still sees them (it learned that a label alone names no customer).
    assert not [c.value for c in sellers if c.value.startswith(("KOPIE", "Bill To", "Payment Details"))]
    assert "Northwind Traders GmbH" in [c.value for c in sellers]
    # A copy's mark that names the recipient ("Original for Recipient") is no name and opens no customer block.
    gst = _cands("Original for Recipient\nSharma Electronics Pvt Ltd\n")
    assert [c.value for c in gst["seller"]] == ["Sharma Electronics Pvt Ltd"]
    assert _one(gst["name"], "Sharma Electronics Pvt Ltd").features["customer_label_above"] > 1
    customer = next(c for c in names if c.value == "Contoso Pharmacy" and c.line.text == "Contoso Pharmacy")
    assert customer.features["customer_label_above"] == 1
    vendor = _one(names, "Northwind Traders GmbH")
    assert vendor.features["legal_suffix"] == 1
    assert vendor.features["domain_exact"] == 1
    assert vendor.features["domain_match"] == 1.0
    assert _one(names, "Hauptstraße 5, 10115 Berlin").features["postcode"] == 1


def test_currency_from_a_column_header_a_symbol_or_only_the_country() -> None:
    header = _one(_cands("Item  Qty  RM\nNasi Lemak  1  5.50\n")["currency"], "MYR")
    assert header.features["named_votes"] == 0  # "RM" alone in a header is not beside an amount
    assert header.features["implied_votes"] == 0
    assert _one(_cands("Total  € 12,50\n")["currency"], "EUR").features["beside_amounts"] == 1
    # A Malaysian legal form implies the ringgit; it is not the Bahraini dinar.
    cands = _cands("KEDAI MAJU SDN BHD\nTotal  12.50\n")["currency"]
    assert [c.value for c in cands] == ["MYR"]
    assert cands[0].features["implied_votes"] >= 1 and cands[0].features["named_votes"] == 0
    iban = _cands("IBAN DE89 3704 0044 0532 0130 00\nTotal 12,50\n")["currency"]
    assert _one(iban, "EUR").features["implied_votes"] >= 2
    assert _cands("Total 12.50\n")["currency"] == []


def test_a_country_implies_no_currency_when_one_is_printed_beside_the_amounts() -> None:
    origin = "BAWANG BESAR INDIA  0.98\n"  # an item's origin names a country
    assert [c.value for c in _cands(origin + "Total  RM28.05\nCash  RM30.00\n")["currency"]] == ["MYR"]
    # Nothing printed: an item's origin is still not the document's country, an address line is.
    assert _cands(origin + "Total  28.05\n")["currency"] == []
    assert [c.value for c in _cands("New Delhi, India\n" + origin + "Total  28.05\n")["currency"]] == ["INR"]
    # A legal form before a registration number prints no dinar: the country still implies the ringgit.
    assert "MYR" in [c.value for c in _cands("VERBENA SDN BHD 105095\nTotal  12.50\n")["currency"]]


def test_hints_add_agreement_features() -> None:
    from extraction.hints import VendorHints

    hints = VendorHints(
        name="Northwind Traders GmbH", currency="EUR", number_pattern="AAA-9999", number_labels=("ref",)
    )
    doc = build_doc([page_from_text("Northwind Traders GmbH\nRef: ABC-1234\nTotal 12,50 EUR\n", 1)])
    cands = generate(doc, hints)
    assert _one(cands["name"], "Northwind Traders GmbH").features["hint_name"] == 1.0
    number = _one(cands["number"], "ABC-1234")
    assert number.features["hint_number_shape"] == 1 and number.features["hint_number_label"] == 1
    assert _one(cands["currency"], "EUR").features["hint_currency"] == 1
    assert "hints" not in generate(doc)["name"][0].features


def test_iban_mail_and_web_addresses_amounts_and_dates_are_no_invoice_numbers() -> None:
    text = (
        "Factuurnummer: 993548900  IBAN NL50INGB0683251309\n"
        "Contact: triddel9@fake.com, www.shop24.example\n"
        "Datum: 05-03-2024  Totaal 12,00\n"
    )
    found = {c.value for c in _cands(text)["number"]}
    assert "993548900" in found
    assert not found & {"NL50INGB0683251309", "triddel9", "shop24", "12,00", "05-03-2024"}
    # An IBAN-like reference whose checksum fails is no account: it stays a candidate.
    assert "NL51INGB0683251309" in {c.value for c in _cands("Ref NL51INGB0683251309\n")["number"]}


def test_the_numbers_after_a_phone_label_are_no_invoice_numbers() -> None:
    text = (
        "KEDAI RUNCIT AH SENG SDN BHD\nTel: 03-7805 7889, 016-3020 669\nTel/Fax : 603-7877 9712  (POS 3)\n"
        "Tel No. 012-3456789 Fax 03-1234 5678\nTelefon 0711 123456-0\nReceipt No: 88123  HP LaserJet 1020\n"
    )
    found = {c.value for c in _cands(text)["number"]}
    assert "88123" in found
    phones = "03-7805 7889, 016-3020 669 603-7877 9712 012-3456789 03-1234 5678 0711 123456-0"
    phone_tokens = re.findall(r"[\d-]+", phones)
    assert not found & set(phone_tokens)
    assert {"3", "1020"} <= found  # no phone after the label: "POS 3", a printer's model


def test_windows_around_a_chosen_name_line() -> None:
    text = "LIAN CHI PU TIAN VEGETARIAN\nRESTAURANT SDN BHD\nNO 12, JALAN SS2/1\nTOTAL 9.00\n"
    doc = build_doc([page_from_text(text, 1)])
    layout = Layout(doc)
    chosen = _one(generate(doc, None, layout)["name"], "RESTAURANT SDN BHD")
    assert spans_whole_lines(chosen)
    windows = {w.value: w for w in window_candidates(layout, chosen)}
    assert next(iter(windows)) == "RESTAURANT SDN BHD"  # the chosen line alone comes first
    joined = windows["LIAN CHI PU TIAN VEGETARIAN RESTAURANT SDN BHD"]
    assert joined.features["above"] == 1 and joined.features["below"] == 0 and joined.features["lines"] == 2
    assert joined.features["top_legal_suffix"] == 0 and joined.features["window_suffix_last"] == 1
    assert [ln.text for ln in joined.lines] == ["LIAN CHI PU TIAN VEGETARIAN", "RESTAURANT SDN BHD"]
    below = windows["RESTAURANT SDN BHD NO 12, JALAN SS2/1"]
    assert below.features["bottom_street"] == 1 and below.features["bottom_digits"] > 0


_CENTS = st.integers(min_value=-500, max_value=2_000_000).map(lambda c: Decimal(c) / 100)
_RATES = st.lists(st.sampled_from([Decimal(r) for r in ("5", "7.7", "8.1", "10", "19", "20", "21", "0.5")]), max_size=3)


@given(st.lists(_CENTS, min_size=1, max_size=12), _RATES, st.integers(min_value=0, max_value=3))
def test_taxes_of_others_looks_only_where_a_net_or_gross_could_be(
    amounts: list[Decimal], rates: list[Decimal], k: int
) -> None:
    values = set(amounts)
    for base in amounts[:k]:  # some exact taxes (net and gross), so that the relation holds somewhere
        values |= {(base * r / 100).quantize(Decimal("0.01")) for r in rates}
        values |= {(base * r / (100 + r)).quantize(Decimal("0.01")) for r in rates}
    rates = sorted(set(rates))
    assert _taxes_of_others(values, rates) == {v: _tax_of_another(v, values, rates) for v in values}


def test_an_unlabelled_area_code_phone_and_a_zip_code_are_no_invoice_numbers() -> None:
    text = (
        "GREEN VALLEY MARKET\n1420 Elm St, Denver, CO 80203\n(303) 555-0148\n"
        "SEATTLE, WA 98101-9998\nInvoice #: 303-555-0148  Store 1204\n"
    )
    found = {c.value for c in _cands(text)["number"]}
    assert not found & {"80203", "303", "555-0148", "98101-9998"}
    assert {"303-555-0148", "1204", "1420"} <= found  # a labelled number keeps its phone-like shape
