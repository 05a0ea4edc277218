"""POST /extract and POST /ocr: one file, several files, a file holding two invoices, storing once."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx

from tests.builders import make_invoice_pdf, spec, two_invoices_pdf


def _upload(api, data: bytes, name: str = "invoice.pdf", query: str = ""):
    return api.post(f"/extract{query}", files={"file": (name, data, "application/pdf")})


def test_extract_one_file_returns_one_stored_result(api):
    s = spec("API-1001")
    data = make_invoice_pdf(s)
    response = _upload(api, data, "api-1001.pdf")
    assert response.status_code == 200, response.text
    result = response.json()
    assert isinstance(result, dict)
    assert result["document"] == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "filename": "api-1001.pdf",
        "media_type": "application/pdf",
        "page_count": 1,
    }
    assert result["invoice"]["invoice_number"] == "API-1001"
    assert Decimal(str(result["invoice"]["total"])) == s.total
    assert result["pages"][0]["engine"] == "textlayer"
    assert result["invoice_id"] >= 1 and result["enrichment"] is not None
    stored = api.get(f"/invoices/{result['invoice_id']}").json()
    assert stored["invoice_number"] == "API-1001"
    document = api.get(f"/invoices/{result['invoice_id']}/document")
    assert document.status_code == 200 and document.content == data
    assert document.headers["content-type"] == "application/pdf"


def test_extract_without_storing_changes_nothing(api):
    before = api.get("/invoices").json()["total"]
    response = _upload(api, make_invoice_pdf(spec("NS-7001")), query="?store=false&enrich=false")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["invoice_id"] is None and body["enrichment"] is None
    assert body["invoice"]["invoice_number"] == "NS-7001"
    assert api.get("/invoices").json()["total"] == before


def test_extract_several_files_returns_a_list(api):
    files = [
        ("files", ("a.pdf", make_invoice_pdf(spec("API-2001", "Beta Tools Ltd")), "application/pdf")),
        ("files", ("b.pdf", make_invoice_pdf(spec("API-2002", "Gamma Office Supplies")), "application/pdf")),
    ]
    response = api.post("/extract", files=files)
    assert response.status_code == 200, response.text
    results = response.json()
    assert [r["invoice"]["invoice_number"] for r in results] == ["API-2001", "API-2002"]
    assert len({r["invoice_id"] for r in results}) == 2


def test_a_file_holding_two_invoices_gives_two_results_with_page_ranges(api):
    data = two_invoices_pdf(spec("API-3001"), spec("API-3002", "Delta Logistics BV"))
    response = _upload(api, data, "two.pdf")
    assert response.status_code == 200, response.text
    results = response.json()
    assert isinstance(results, list) and len(results) == 2
    assert [r["page_range"] for r in results] == [[1, 2], [3, 4]]
    assert [r["invoice"]["invoice_number"] for r in results] == ["API-3001", "API-3002"]
    assert [p["number"] for p in results[1]["pages"]] == [3, 4]
    assert results[0]["invoice_id"] != results[1]["invoice_id"]


def test_multi_page_invoice_is_one_result(api):
    response = _upload(api, make_invoice_pdf(spec("API-4001"), pages=3), "three.pdf")
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, dict) and body["page_range"] is None
    assert body["document"]["page_count"] == 3 and len(body["pages"]) == 3


def test_pages_query_reads_only_those_pages(api):
    response = _upload(api, make_invoice_pdf(spec("API-4002"), pages=3), query="?pages=1&store=false")
    assert response.status_code == 200, response.text
    assert [p["number"] for p in response.json()["pages"]] == [1]


def test_ocr_is_seed_compatible(api):
    before = api.get("/invoices").json()["total"]
    data = make_invoice_pdf(spec("API-5001"), pages=2)
    response = api.post("/ocr", files={"file": ("x.pdf", data, "application/pdf")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "API-5001" in body["text"] and body["pages"] == 2 and body["engine"] == "textlayer"
    assert len(body["page_markdown"]) == 2
    assert api.get("/invoices").json()["total"] == before


def test_concurrent_uploads_of_the_same_file_store_one_document(live):
    data = make_invoice_pdf(spec("API-6001", "Epsilon Services SARL"))

    def upload(_: int) -> httpx.Response:
        return httpx.post(live.url + "/extract", files={"file": ("same.pdf", data, "application/pdf")}, timeout=120)

    before = httpx.get(live.url + "/invoices").json()["total"]
    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(upload, range(4)))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert len({r.json()["invoice_id"] for r in responses}) == 1
    assert httpx.get(live.url + "/invoices").json()["total"] == before + 1
