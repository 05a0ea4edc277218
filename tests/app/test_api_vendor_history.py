"""Vendor records over the API: correction flows, list, rename, merge, audit log, re-read, hints in the export."""

from __future__ import annotations

import json

from tests.builders import make_invoice_pdf, spec

IBAN = "DE02120300000000202051"


def _extract(client, number: str, vendor: str, **fields: object) -> dict:
    data = make_invoice_pdf(spec(number, vendor, **fields))
    response = client.post("/extract", files={"file": (f"{number}.pdf", data, "application/pdf")})
    assert response.status_code == 200, response.text
    return response.json()


def test_vendor_correction_rename_merge_and_reread(client_for) -> None:
    api = client_for()
    first = _extract(api, "VH-1001", "Kestrel Optics GmbH", iban=IBAN, vendor_vat="DE811569869")
    other = _extract(api, "VH-2001", "Heron Paper Ltd", currency="GBP")
    # A correction moves the invoice to the corrected vendor's record, and the audit log says so.
    patched = api.patch(f"/invoices/{first['invoice_id']}", json={"changes": {"vendor.name": "Kestrel Optik AG"}})
    assert patched.status_code == 200, patched.text
    vendor_id = patched.json()["vendor_id"]
    profile = api.get(f"/vendors/{vendor_id}").json()
    assert profile["name"] == "Kestrel Optik AG"
    assert profile["identifiers"]["iban"] == [IBAN]
    assert api.get("/vendors", params={"q": "Kestrel Optik"}).json()[0]["id"] == vendor_id
    approve = api.post(f"/invoices/{first['invoice_id']}/approve")
    assert approve.status_code == 200
    # The next invoice of that vendor is recognised by its IBAN and read with its hints.
    second = _extract(api, "VH-1002", "Kestrel Optics GmbH", iban=IBAN, vendor_vat="DE811569869")
    assert second["invoice"]["vendor"]["name"] == "Kestrel Optik AG"
    assert "vendor_hints" in second["fields"]
    assert second["fields"]["vendor_hints"]["value"]["vendor_id"] == vendor_id
    assert any("reviewed invoice" in r for r in second["validation"]["reasons"])
    # List, rename, merge, and the audit log of it.
    listed = api.get("/vendors/list").json()
    assert {v["name"] for v in listed["items"]} >= {"Kestrel Optik AG", "Heron Paper Ltd"}
    other_vendor = api.get(f"/invoices/{other['invoice_id']}").json()["vendor_id"]
    renamed = api.post(f"/vendors/{other_vendor}/rename", json={"name": "Heron Paper Mills Ltd"})
    assert renamed.status_code == 200 and "Heron Paper Ltd" in renamed.json()["aliases"]
    clash = api.post(f"/vendors/{other_vendor}/rename", json={"name": "Kestrel Optik AG"})
    assert clash.status_code == 409
    assert api.post(f"/vendors/{other_vendor}/merge", json={"into": other_vendor}).status_code == 400
    assert api.post("/vendors/999999/merge", json={"into": vendor_id}).status_code == 404
    merged = api.post(f"/vendors/{other_vendor}/merge", json={"into": vendor_id})
    assert merged.status_code == 409 and "tax id" in merged.text  # two tax ids: two vendors, never merged
    events = api.get("/vendors/events", params={"vendor_id": other_vendor}).json()
    assert [e["action"] for e in events] == ["rename"] and events[0]["detail"]["new"] == "Heron Paper Mills Ltd"
    # Re-reading keeps the human correction; the export carries the learned hints.
    reread = api.post("/invoices/reread", params={"vendor": "Kestrel Optik AG"})
    assert reread.status_code == 200, reread.text
    assert first["invoice_id"] in reread.json()["reread"] and not reread.json()["failed"]
    after = api.get(f"/invoices/{first['invoice_id']}").json()
    assert after["result"]["invoice"]["vendor"]["name"] == "Kestrel Optik AG" and after["status"] == "approved"
    # Chosen invoices, with a chosen engine; an engine the registry does not know is refused.
    chosen = api.post("/invoices/reread", params={"invoice_id": [first["invoice_id"]], "engine": "textlayer"})
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["reread"] == [first["invoice_id"]] and chosen.json()["engine"] == "textlayer"
    unknown = api.post("/invoices/reread", params={"invoice_id": [first["invoice_id"]], "engine": "nonsense"})
    assert unknown.status_code == 400 and "known engines" in unknown.text
    hints = api.get(f"/vendors/{vendor_id}/hints").json()
    assert hints["documents"] >= 1 and hints["name"] == "Kestrel Optik AG"
    lines = [json.loads(x) for x in api.get("/feedback/export").text.splitlines() if x.strip()]
    mine = next(x for x in lines if x["invoice_id"] == first["invoice_id"])
    assert mine["hints"]["vendor_id"] == vendor_id


def test_bad_vendor_requests_are_refused(client_for) -> None:
    api = client_for()
    assert api.post("/vendors/1/rename", json={"name": ""}).status_code in (400, 422)
    assert api.post("/vendors/1/rename", json={"name": "Someone"}).status_code == 404
    assert api.post("/vendors/1/merge", json={"into": "x"}).status_code in (400, 422)
    assert api.get("/vendors/1/hints").status_code == 404
