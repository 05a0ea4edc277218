"""Date parsing: numeric orders, written months in several languages, ISO, two-digit years."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extraction.parser.dates import decide_order, expand_year, find_dates, format_date, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 March 2024", "2024-03-05"),
        ("Mar 5, 2024", "2024-03-05"),
        ("March 5th, 2024", "2024-03-05"),
        ("05-MAR-24", "2024-03-05"),
        ("19 APR 2018", "2018-04-19"),
        ("21NOV´15", "2015-11-21"),
        ("5. März 2024", "2024-03-05"),
        ("le 5 mars 2024", "2024-03-05"),
        ("1er août 2023", "2023-08-01"),
        ("19 april 2014", "2014-04-19"),
        ("29 maart 2014", "2014-03-29"),
        ("5 de marzo de 2024", "2024-03-05"),
        ("1 stycznia 2021", "2021-01-01"),
        ("2024-03-05", "2024-03-05"),
        ("2017/07/12", "2017-07-12"),
        ("25/12/2018", "2018-12-25"),
        ("04/28/2017", "2017-04-28"),
        ("19.09.2014", "2014-09-19"),
        ("11-13-17", "2017-11-13"),
    ],
)
def test_parse_date_forms(text: str, expected: str) -> None:
    match = parse_date(text)
    assert match is not None
    assert match.value.isoformat() == expected
    assert not match.ambiguous


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Ju119'14 12:36PM", "2014-07-19"), ("0ct 5, 2014", "2014-10-05"), ("12 N0V 2019", "2019-11-12")],
)
def test_month_names_as_ocr_misreads_them(text: str, expected: str) -> None:
    assert parse_date(text).value.isoformat() == expected


def test_ocr_month_variants_do_not_invent_dates() -> None:
    assert find_dates("lot 1 12 2014 Ju1 item 0CT") == []


def test_swappable_numeric_date_is_flagged_without_an_order() -> None:
    match = parse_date("03/04/2024")
    assert match is not None and match.ambiguous
    assert match.value == dt.date(2024, 4, 3)  # day-first reading, flagged
    month_first = parse_date("03/04/2024", order="mdy")
    assert month_first is not None and month_first.value == dt.date(2024, 3, 4) and not month_first.ambiguous


def test_order_from_other_dates_then_language_then_currency_then_country() -> None:
    assert decide_order("Date 03/04/2024 Due 25/04/2024")[0] == "dmy"
    assert decide_order("Date 03/04/2024 Due 04/25/2024")[0] == "mdy"
    assert decide_order("03/04/2024", language="de")[0] == "dmy"
    assert decide_order("03/04/2024", language="en-us")[0] == "mdy"
    assert decide_order("03/04/2024", currency="USD")[0] == "mdy"
    assert decide_order("03/04/2024", currency="EUR")[0] == "dmy"
    assert decide_order("03/04/2024", country="MY") == ("dmy", "the document shows a day-first country (MY)")
    assert decide_order("03/04/2024", country="US")[0] == "mdy"
    assert decide_order("03/04/2024", currency="USD", country="MY")[0] == "mdy"
    assert decide_order("03/04/2024")[0] is None
    # Canada writes dates both ways: neither the country nor its dollar decides.
    assert decide_order("03/04/2024", country="CA")[0] is None
    assert decide_order("03/04/2024", currency="CAD")[0] is None


def test_a_receipt_from_a_day_first_country_reads_its_swappable_date_day_first() -> None:
    from extraction.markdown import page_from_text
    from extraction.parser import parse_invoice
    from extraction.parser.country import country_votes, shown_country

    text = "KEDAI MAJU JAYA SDN BHD\nTel: +60 3-5511 2233\nDate: 06/01/2018 12:17\nTOTAL 9.00\nCASH 10.00\n"
    assert shown_country(country_votes(text, text.lower())) == "MY"
    parsed = parse_invoice([page_from_text(text, 1)])
    assert parsed.invoice.invoice_date == dt.date(2018, 1, 6)
    assert any("day-first country (MY)" in r for r in parsed.reasons)
    assert parsed.fields["invoice_date"].confidence > 0.5  # decided by the country, no longer a coin toss


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("AEON CO. (M) BHD (126926-H)\n", "MY"),  # Berhad, a public company's form
        ("NO 290, JALAN AIR PANAS, SETAPAK,\n53200, KUALA LUMPUR\n", "MY"),
        ("45600 BATANG BERJUNTAI, SELANGOR DARUL EHSAN\n", "MY"),
        ("MG Road, Bengaluru, Karnataka 560001\n", "IN"),
        ("1 George St, Sydney NSW 2000\n", "AU"),
        ("220 Queen St W, Toronto, ON M5V 2A1\n", "CA"),
        ("GST/HST No. 123456789 RT0001\n", "CA"),
        ("BAWANG BESAR INDIA  0.98\n", None),  # an item's origin, on a line with its price
        ("Canada - First-Class  1  $4.25\n", None),
        ("INDIA PALACE\nfor Canada's Best Pet\n", None),  # a country in a shop's name or a slogan
        ("10 Anson Road\nSingapore 079903\n", "SG"),  # an address ends with its country, or its postcode
        ("STARBUCKS COFFEE ESPAÑA,SL\n", "ES"),  # a national company: its country, then its legal form
        ("Total BHD 12.500\n", None),  # the dinar, not a Malaysian company
        ("1 Pike St, Seattle, WA 98101\n", None),  # a US state has a five-digit code
    ],
)
def test_the_region_an_address_names_or_a_berhad_shows_the_country(text: str, country: str | None) -> None:
    from extraction.parser.country import country_votes, shown_country
    from extraction.parser.labels import fold

    assert shown_country(country_votes(text, fold(text))) == country


def test_a_receipt_with_only_its_state_in_the_address_reads_its_date_day_first() -> None:
    from extraction.markdown import page_from_text
    from extraction.parser import parse_invoice

    text = "SYARIKAT PERNIAGAAN GIN KEE\nNO 290, JALAN AIR PANAS\n53200, KUALA LUMPUR\nDate: 04/01/2018\nTOTAL 9.00\n"
    parsed = parse_invoice([page_from_text(text, 1)])
    assert parsed.invoice.invoice_date == dt.date(2018, 1, 4)
    assert any("day-first country (MY)" in r for r in parsed.reasons)


def test_a_bare_dollar_yields_to_the_country_the_address_shows_for_the_date_order() -> None:
    from extraction.markdown import page_from_text
    from extraction.parser import parse_invoice

    body = "Date: 03/04/2026\nSubtotal  $420.00\nTax  $42.00\nTotal  $462.00\n"
    sydney = parse_invoice(
        [page_from_text("Harbour Plumbing Pty Ltd\nABN 51 824 753 556\n14 Wharf St, Pyrmont NSW 2009\n" + body, 1)]
    )
    assert sydney.invoice.invoice_date == dt.date(2026, 4, 3)
    assert any("day-first country (AU)" in r for r in sydney.reasons)
    assert any("only a bare '$' printed" in r for r in sydney.reasons if "inferred" in r)
    seattle = parse_invoice([page_from_text("Harbour Plumbing Inc.\n1 Pike St, Seattle, WA 98101\n" + body, 1)])
    assert seattle.invoice.invoice_date == dt.date(2026, 3, 4)
    # A Canadian address: CAD, and its swappable date stays undecided.
    toronto = parse_invoice([page_from_text("Maple Print Co.\nToronto, ON M5V 2A1\nGST/HST No. 123456789\n" + body, 1)])
    assert toronto.invoice.currency == "CAD"
    assert any("either way" in r and "(CA)" in r for r in toronto.reasons)


def test_no_country_when_the_evidence_ties() -> None:
    from extraction.parser.country import country_votes, shown_country

    text = "Muster GmbH, Berlin, Germany\nAgence SARL, Paris, France\n"
    assert shown_country(country_votes(text, text.lower())) is None


def test_two_digit_years_pivot_around_today() -> None:
    today = dt.date(2026, 1, 1)
    assert expand_year(24, today) == 2024
    assert expand_year(36, today) == 2036
    assert expand_year(37, today) == 1937
    assert expand_year(99, today) == 1999


def test_no_dates_in_phone_numbers_times_or_amounts() -> None:
    assert find_dates("Tel 03-1234 5678  12:30  1.50 kg  Total 12.04") == []


def test_several_dates_in_one_line_keep_their_positions() -> None:
    found = find_dates("Invoice date: 2024-03-05  Due date: 5 April 2024")
    assert [d.value.isoformat() for d in found] == ["2024-03-05", "2024-04-05"]
    assert found[0].start < found[1].start


_DATES = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2035, 12, 31))


@given(_DATES, st.sampled_from(["iso", "dmy-dot", "written-dmy", "written-mdy", "oracle", "de"]))
def test_unambiguous_styles_round_trip(value: dt.date, style: str) -> None:
    match = parse_date(format_date(value, style))
    assert match is not None and match.value == value


@given(_DATES)
def test_numeric_styles_round_trip_with_the_document_order(value: dt.date) -> None:
    dmy = parse_date(format_date(value, "dmy-slash"), order="dmy")
    mdy = parse_date(format_date(value, "mdy-slash"), order="mdy")
    assert dmy is not None and dmy.value == value
    assert mdy is not None and mdy.value == value


def test_a_time_glued_to_an_iso_date_and_a_lost_separator_still_read() -> None:
    assert [d.value for d in find_dates("Date:2019-04-0209:15:33")] == [dt.date(2019, 4, 2)]
    glued = find_dates("0804/2019", "dmy")
    assert [(d.value, d.kind) for d in glued] == [(dt.date(2019, 4, 8), "glued")]
    assert [d.value for d in find_dates("08/042019 10:22", "dmy")] == [dt.date(2019, 4, 8)]
    # Not a date: no valid day/month split.
    assert find_dates("Inv 1234/2019") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Tuesday, Harch 27th 2018 7:51 pm", dt.date(2018, 3, 27)),
        ("27 Harch 2018", dt.date(2018, 3, 27)),
        ("3 Decembre 2019", dt.date(2019, 12, 3)),
        ("Septmber 9, 2020", dt.date(2020, 9, 9)),
    ],
)
def test_a_month_name_misread_by_one_letter_is_still_read(text: str, value: dt.date) -> None:
    assert [d.value for d in find_dates(text)] == [value]


@pytest.mark.parametrize("text", ["Store 12 2019", "Marks 12 2019", "Table 4 2019", "Juice 2 2019"])
def test_words_more_than_one_letter_from_a_month_name_are_not_dates(text: str) -> None:
    assert find_dates(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Total € 12,00  5 MARCH 2024", ["2024-03-05"]),  # a month in capitals beside a non-ASCII sign
        ("Datum: 5. März 2024", ["2024-03-05"]),
        ("le 5 DÉC. 2024", ["2024-12-05"]),
        ("Harch 27th 2018", ["2018-03-27"]),  # a misread month: needs a four-digit year
        ("12.50 EUR", []),
        ("Invoice", []),  # no figure: no pattern runs
    ],
)
def test_quick_tests_before_the_patterns_keep_every_date(text: str, expected: list[str]) -> None:
    assert [d.value.isoformat() for d in find_dates(text)] == expected
