"""Search, vendors, invoice list, corrections with audit, approval, deletion, exports."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from tests.builders import make_invoice_pdf, spec

VENDORS = [
    ("HIST-1001", "Nordwind Energie GmbH", "EUR", "DE811569869", "DE02120300000000202051"),
    ("HIST-1002", "Nordwind Energie GmbH", "EUR", "DE811569869", "DE02120300000000202051"),
    ("HIST-1003", "Sakura Trading Co Ltd", "USD", "JP1234567890123", "GB33BUKB20201555555555"),
]


@pytest.fixture(scope="module")
def stored(api) -> dict[str, dict]:
    out = {}
    for number, vendor, currency, vat, iban in VENDORS:
        data = make_invoice_pdf(spec(number, vendor, currency=currency, vendor_vat=vat, iban=iban))
        response = api.post("/extract", files={"file": (f"{number}.pdf", data, "application/pdf")})
        assert response.status_code == 200, response.text
        out[number] = response.json()
    return out


def test_search_finds_by_words_and_filters(api, stored):
    hits = api.get("/search", params={"q": "Sakura Trading"}).json()
    assert hits and hits[0]["invoice_number"] == "HIST-1003"
    by_number = api.get("/search", params={"q": "HIST-1002", "mode": "keyword"}).json()
    assert by_number[0]["invoice_id"] == stored["HIST-1002"]["invoice_id"]
    usd = api.get("/search", params={"q": "invoice", "currency": "USD"}).json()
    assert {h["invoice_number"] for h in usd} == {"HIST-1003"}
    paged = api.get("/search", params={"q": "invoice", "limit": 1}).json()
    assert len(paged) == 1


def test_search_counts_matches_and_says_when_none_match(api, stored):
    paged = api.get("/search", params={"q": "", "currency": "EUR", "limit": 1})
    assert len(paged.json()) == 1 and paged.headers["x-total-count"] == "2"
    for mode in ("hybrid", "semantic", "keyword"):
        nothing = api.get("/search", params={"q": "xqzvbl", "mode": mode})
        assert nothing.status_code == 200 and nothing.json() == []
        assert nothing.headers["x-total-count"] == "0"
        assert nothing.headers["x-search-message"] == 'No invoices match "xqzvbl".'
    envelope = api.get("/search", params={"q": "xqzvbl", "with_total": "true"}).json()
    assert envelope == {"total": 0, "hits": [], "message": "No invoices match “xqzvbl”."}
    found = api.get("/search", params={"q": "HIST-1002", "mode": "keyword", "with_total": "true"}).json()
    assert (
        found["total"] == len(found["hits"]) >= 1
        and found["hits"][0]["invoice_number"] == "HIST-1002"
        and found["message"] is None
    )


def test_vendor_lookup_and_profile(api, stored):
    found = api.get("/vendors", params={"q": "nordwind energie"}).json()
    assert found and found[0]["name"].startswith("Nordwind")
    vendor_id = found[0]["id"]
    assert found[0]["invoice_count"] == 2
    detail = api.get(f"/vendors/{vendor_id}").json()
    assert detail["id"] == vendor_id
    assert {i["invoice_number"] for i in detail["invoices"]["items"]} == {"HIST-1001", "HIST-1002"}
    assert detail["invoices"]["total"] == 2


def test_invoice_list_filters_and_pages(api, stored):
    everything = api.get("/invoices", params={"limit": 500}).json()
    assert everything["total"] >= 3
    first = api.get("/invoices", params={"limit": 1, "offset": 0}).json()
    second = api.get("/invoices", params={"limit": 1, "offset": 1}).json()
    assert first["limit"] == 1 and len(first["items"]) == 1
    assert first["items"][0]["id"] != second["items"][0]["id"]
    usd = api.get("/invoices", params={"currency": "USD"}).json()
    assert [i["invoice_number"] for i in usd["items"]] == ["HIST-1003"]


def test_patch_then_get_shows_correction_and_audit_entry(api, stored):
    invoice_id = stored["HIST-1001"]["invoice_id"]
    old_total = Decimal(str(stored["HIST-1001"]["invoice"]["total"]))
    response = api.patch(f"/invoices/{invoice_id}", json={"changes": {"total": 1234.56, "payment_terms": "Net 10"}})
    assert response.status_code == 200, response.text
    record = api.get(f"/invoices/{invoice_id}").json()
    assert Decimal(str(record["total"])) == Decimal("1234.56")
    assert record["result"]["invoice"]["payment_terms"] == "Net 10"
    assert record["status"] == "corrected"
    audit = {c["field"]: c for c in record["corrections"]}
    assert Decimal(str(audit["total"]["old"])) == old_total
    assert Decimal(str(audit["total"]["new"])) == Decimal("1234.56")
    assert audit["total"]["who"] == "anonymous"


def test_bad_correction_is_400_and_changes_nothing(api, stored):
    invoice_id = stored["HIST-1002"]["invoice_id"]
    before = api.get(f"/invoices/{invoice_id}").json()
    response = api.patch(f"/invoices/{invoice_id}", json={"changes": {"invoice_date": "not a date"}})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert api.get(f"/invoices/{invoice_id}").json() == before


def test_approve(api, stored):
    invoice_id = stored["HIST-1002"]["invoice_id"]
    response = api.post(f"/invoices/{invoice_id}/approve")
    assert response.status_code == 200 and response.json()["status"] == "approved"


def test_export_round_trip_csv_and_jsonl(api, stored):
    listed = api.get("/invoices", params={"limit": 500}).json()
    csv_response = api.get("/export", params={"format": "csv"})
    assert csv_response.status_code == 200 and csv_response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_response.text)))
    assert len(rows) == listed["total"]
    by_number = {r["invoice_number"]: r for r in rows}
    assert Decimal(by_number["HIST-1001"]["total"]) == Decimal("1234.56")
    # Amounts keep their cents as written: 583.10, not 583.1.
    assert (by_number["HIST-1002"]["total"], by_number["HIST-1002"]["subtotal"]) == ("583.10", "490.00")
    jsonl = api.get("/export", params={"format": "jsonl", "currency": "USD"})
    lines = [json.loads(line) for line in jsonl.text.splitlines() if line.strip()]
    assert [line["invoice"]["invoice_number"] for line in lines] == ["HIST-1003"]
    feedback = api.get("/feedback/export")
    assert feedback.status_code == 200
    corrected = [json.loads(line) for line in feedback.text.splitlines() if line.strip()]
    assert any("1234.56" in json.dumps(line) for line in corrected)


def test_delete_removes_from_list_search_and_reads(api, stored):
    invoice_id = stored["HIST-1003"]["invoice_id"]
    assert api.delete(f"/invoices/{invoice_id}").status_code == 204
    assert api.get(f"/invoices/{invoice_id}").status_code == 404
    hits = api.get("/search", params={"q": "Sakura Trading"}).json()
    assert invoice_id not in {h["invoice_id"] for h in hits}
    assert api.delete(f"/invoices/{invoice_id}").status_code == 404


def test_root_opens_the_page_and_the_reference_needs_no_network(api):
    root = api.get("/", follow_redirects=False)
    assert root.status_code in (302, 303, 307) and root.headers["location"] == "/ui/"
    docs = api.get("/docs")
    assert docs.status_code == 200 and docs.headers["content-type"].startswith("text/html")
    assert "GET</span> <span class='path'>/search</span>" in docs.text and "X-Total-Count" in docs.text
    assert "http://" not in docs.text and "https://" not in docs.text and "<script" not in docs.text
