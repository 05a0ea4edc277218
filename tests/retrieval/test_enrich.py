from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from extraction.pipeline import extract
from retrieval.enrich import amount_text
from retrieval.service import InvoiceService
from tests.builders import make_result, render_png, simple_invoice_pdf


def _kinds(enrichment: dict, key: str) -> list[str]:
    return [entry["kind"] for entry in enrichment[key]]


def test_exact_duplicate_same_vendor_and_number(service: InvoiceService) -> None:
    first = service.store_result(*make_result(number="INV-77", total="50.00"))
    again = service.store_result(*make_result(vendor="ACME Industrial Supplies", number="inv 77", total="55.00"))
    dups = again.enrichment["duplicates"]
    assert [(d["invoice_id"], d["kind"]) for d in dups] == [(first.invoice_id, "exact")]


def test_likely_duplicate_same_total_within_window(service: InvoiceService) -> None:
    first = service.store_result(*make_result(number=None, date="2024-05-01", total="980.00", markdown="Order A"))
    near = service.store_result(*make_result(number=None, date="2024-05-04", total="980.00", markdown="Order B"))
    assert [(d["invoice_id"], d["kind"]) for d in near.enrichment["duplicates"]] == [(first.invoice_id, "likely")]
    far = service.store_result(*make_result(number=None, date="2024-07-30", total="980.00", markdown="Order C"))
    assert far.enrichment["duplicates"] == []


def test_different_numbers_are_not_duplicates(service: InvoiceService) -> None:
    service.store_result(*make_result(number="RE-501", total="571.04", date="2024-01-10"))
    second = service.store_result(*make_result(number="RE-502", total="571.04", date="2024-01-12"))
    assert second.enrichment["duplicates"] == []
    assert second.enrichment["similar"][0]["invoice_number"] == "RE-501"


@pytest.mark.slow
def test_same_invoice_as_pdf_and_scan_is_flagged(service: InvoiceService) -> None:
    pdf = simple_invoice_pdf(
        "Nordwind Logistik GmbH",
        "NW-2024-0042",
        "2024-03-05",
        [("Freight Hamburg to Munich", "400.00"), ("Insurance", "20.00")],
        "420.00",
    )
    png = render_png(pdf)
    stored = service.store_result(extract(pdf, "nordwind.pdf"), pdf)
    scan = service.store_result(extract(png, "nordwind-scan.png"), png)
    assert scan.invoice_id != stored.invoice_id
    assert stored.invoice_id in [d["invoice_id"] for d in scan.enrichment["duplicates"]]


def test_anomalies(service: InvoiceService) -> None:
    iban = "DE89370400440532013000"
    for i, total in enumerate(["100.00", "110.00", "95.00"]):
        service.store_result(*make_result(number=f"H-{i}", total=total, date=f"2024-0{i + 1}-10", iban=iban))
    normal = service.enrich(make_result(number="H-9", total="105.00", date="2024-05-10", iban=iban)[0])
    assert normal["anomalies"] == []
    assert normal["vendor"]["invoice_count"] == 3 and len(normal["vendor"]["recent"]) == 3
    odd = service.enrich(
        make_result(number="H-10", total="2500.00", date="2024-06-10", iban="GB33BUKB20201555555555")[0]
    )
    assert set(_kinds(odd, "anomalies")) == {"unusual_amount", "new_iban"}
    unusual = next(a["detail"] for a in odd["anomalies"] if a["kind"] == "unusual_amount")
    assert unusual == "total 2500.00 is far outside this vendor's range 95.00 to 110.00"
    dollars = service.enrich(
        make_result(number="H-12", total="100.00", date="2024-06-10", iban=iban, currency="USD")[0]
    )
    assert _kinds(dollars, "anomalies") == ["currency_change"]
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    late = service.enrich(make_result(number="H-11", total="100.00", date=future, iban=iban)[0])
    assert _kinds(late, "anomalies") == ["future_date"]


@pytest.mark.parametrize(
    ("stored", "shown"),
    [("119.0000", "119.00"), ("2.3450", "2.345"), ("1E+3", "1000.00"), ("-5.5000", "-5.50"), ("0.0000", "0.00")],
)
def test_amounts_in_anomalies_drop_padding_zeros(stored: str, shown: str) -> None:
    assert amount_text(Decimal(stored)) == shown


def test_new_vendor_has_no_history_anomalies(service: InvoiceService) -> None:
    stored = service.store_result(*make_result(vendor="Fresh Vendor Oy", total="99999.00"))
    assert stored.enrichment["anomalies"] == []
    assert stored.enrichment["vendor"]["name"] == "Fresh Vendor Oy"
    assert stored.enrichment["vendor"]["invoice_count"] == 0  # the history before this invoice
