"""Every error answer: the offending input, its status and code, the JSON body, and an unchanged store."""

from __future__ import annotations

import pytest

from tests.builders import (
    encrypted_pdf,
    make_invoice_pdf,
    many_pages_pdf,
    non_invoice_png,
    png_claiming,
    truncated_pdf,
    zip_holding,
)


def _post(api, name: str, data: bytes, content_type: str = "application/octet-stream", query: str = ""):
    return api.post(f"/extract{query}", files={"file": (name, data, content_type)})


def _assert_error(response, status: int, *codes: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["error"] in codes and body["message"]


BAD_UPLOADS = [
    ("empty upload", "scan.png", b"", 422, ("unreadable_document",)),
    ("0-byte pdf", "invoice.pdf", b"", 422, ("unreadable_document",)),
    ("not a pdf at all", "invoice.pdf", b"%PDF-1.7\n%garbage only", 422, ("unreadable_document",)),
    ("truncated pdf", "invoice.pdf", truncated_pdf(), 422, ("unreadable_document", "not_an_invoice")),
    ("encrypted pdf", "invoice.pdf", encrypted_pdf(), 422, ("encrypted_document",)),
    ("png claiming 30000x30000", "bomb.png", png_claiming(30000, 30000), 413, ("document_too_large",)),
    ("text file", "invoice.pdf", b"Invoice 42\nTotal 10.00 EUR\n", 415, ("unsupported_document",)),
    ("2000-page pdf", "book.pdf", many_pages_pdf(2000), 413, ("document_too_large",)),
    ("non-invoice image", "holiday.png", non_invoice_png(), 422, ("not_an_invoice",)),
    ("zip holding a pdf", "invoices.zip", zip_holding(make_invoice_pdf()), 415, ("unsupported_document",)),
]


@pytest.mark.parametrize(("label", "name", "data", "status", "codes"), BAD_UPLOADS, ids=[b[0] for b in BAD_UPLOADS])
def test_bad_upload_answers_its_error_and_stores_nothing(api, label, name, data, status, codes):
    before = api.get("/invoices").json()["total"]
    _assert_error(_post(api, name, data), status, *codes)
    assert api.get("/invoices").json()["total"] == before


def test_picture_without_an_invoice_points_to_the_ocr_endpoint(api):
    body = _post(api, "holiday.png", non_invoice_png()).json()
    assert body["error"] == "not_an_invoice" and "POST /ocr returns the text" in body["message"]


def test_bad_uploads_never_reach_ocr_endpoint_either(api):
    _assert_error(api.post("/ocr", files={"file": ("a.txt", b"hello", "text/plain")}), 415, "unsupported_document")
    _assert_error(
        api.post("/ocr", files={"file": ("a.pdf", encrypted_pdf(), "application/pdf")}), 422, "encrypted_document"
    )
    _assert_error(api.post("/ocr"), 400, "invalid_request")


def test_malformed_requests_are_400(api):
    pdf = make_invoice_pdf()
    _assert_error(api.post("/extract"), 400, "invalid_request")
    _assert_error(api.post("/extract", data={"file": "not a file"}), 400, "invalid_request")
    _assert_error(_post(api, "a.pdf", pdf, query="?pages=3-1"), 400, "invalid_request")
    _assert_error(_post(api, "a.pdf", pdf, query="?pages=abc"), 400, "invalid_request")
    _assert_error(_post(api, "a.pdf", pdf, query="?dpi=5"), 400, "invalid_request")
    _assert_error(_post(api, "a.pdf", pdf, query="?engine=nope"), 400, "unknown_engine")
    _assert_error(api.get("/search", params={"limit": 0}), 400, "invalid_request")
    _assert_error(api.get("/search", params={"date_from": "yesterday"}), 400, "invalid_request")
    _assert_error(api.get("/invoices", params={"min_total": "lots"}), 400, "invalid_request")
    _assert_error(api.get("/invoices/abc"), 400, "invalid_request")
    _assert_error(api.get("/export", params={"format": "xlsx"}), 400, "invalid_request")
    _assert_error(api.get("/vendors"), 400, "invalid_request")
    _assert_error(
        api.patch("/invoices/1", content=b"{not json", headers={"content-type": "application/json"}),
        400,
        "invalid_request",
    )
    _assert_error(api.patch("/invoices/1", json={"changes": {}}), 400, "invalid_request")


def test_unavailable_engine_is_503(api):
    # deepseek needs a local model directory, which these settings do not name.
    _assert_error(_post(api, "a.pdf", make_invoice_pdf(), query="?engine=deepseek"), 503, "engine_unavailable")


def test_not_found_is_404(api):
    _assert_error(api.get("/invoices/999999"), 404, "not_found")
    _assert_error(api.get("/invoices/999999/document"), 404, "not_found")
    _assert_error(api.patch("/invoices/999999", json={"changes": {"total": 1}}), 404, "not_found")
    _assert_error(api.post("/invoices/999999/approve"), 404, "not_found")
    _assert_error(api.delete("/invoices/999999"), 404, "not_found")
    _assert_error(api.get("/vendors/999999"), 404, "not_found")
    _assert_error(api.get("/no/such/route"), 404, "not_found")


def test_bytes_over_the_limit_are_413(client_for):
    small = client_for(max_bytes=2000)
    _assert_error(_post(small, "a.pdf", make_invoice_pdf()), 413, "document_too_large")
    # Past the whole-request limit the body is refused before it is parsed.
    huge = b"%PDF-1.7\n" + b"0" * (2000 * 21 + (1 << 20))
    _assert_error(_post(small, "a.pdf", huge), 413, "document_too_large")
    assert small.get("/invoices").json()["total"] == 0


def test_errors_are_described_in_the_schema(api):
    schema = api.get("/openapi.json").json()
    extract = schema["paths"]["/extract"]["post"]["responses"]
    for status in ("400", "401", "403", "413", "415", "422", "503", "504"):
        assert extract[status]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    assert "Retry-After" in extract["503"]["headers"]
    assert "HTTPValidationError" not in str(schema)


def test_wrong_method_lists_every_allowed_method(api):
    response = api.put("/invoices/1")
    _assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "DELETE, GET, HEAD, PATCH"


def test_docs_and_schema_describe_every_route(api):
    docs = api.get("/docs")
    # Served by the app itself (no CDN): every route with its summary, and the schema's address.
    assert docs.status_code == 200 and "openapi.json" in docs.text and "/search" in docs.text
    schema = api.get("/openapi.json").json()
    expected = {
        ("post", "/extract"), ("post", "/ocr"), ("get", "/search"), ("get", "/vendors"),
        ("get", "/vendors/{vendor_id}"),
        ("get", "/invoices"), ("get", "/invoices/{invoice_id}"), ("patch", "/invoices/{invoice_id}"),
        ("delete", "/invoices/{invoice_id}"), ("post", "/invoices/{invoice_id}/approve"),
        ("get", "/invoices/{invoice_id}/document"), ("get", "/export"), ("get", "/feedback/export"),
        ("get", "/health"), ("get", "/metrics"),
    }  # fmt: skip
    found = {(m, p) for p, ops in schema["paths"].items() for m in ops}
    assert expected <= found
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            assert op.get("summary") and op.get("description"), (method, path)
            assert "200" in op["responses"] or "204" in op["responses"], (method, path)
            for param in op.get("parameters", []):
                assert param["schema"], (method, path, param["name"])


def test_odd_filter_values_are_not_server_errors(api):
    # Unicode digits, huge numbers and control characters in filters answer normally.
    for vendor in ("²", "9" * 30, "\x00\x01", "'; DROP TABLE invoices; --"):
        assert api.get("/invoices", params={"vendor": vendor}).status_code == 200, vendor
        assert api.get("/search", params={"q": vendor, "vendor": vendor}).status_code == 200, vendor
    _assert_error(api.get("/search", params={"offset": 10**20}), 400, "invalid_request")
    _assert_error(api.get("/invoices", params={"date_to": "0"}), 400, "invalid_request")


def test_a_fixed_path_beside_an_id_path_answers_405_for_other_methods(api):
    response = api.patch("/invoices/reread")
    _assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"


def test_a_search_whose_words_hold_control_characters_still_answers(api):
    response = api.get("/search", params={"q": "bolts\x08\x01", "mode": "keyword"})
    assert response.status_code == 200
    assert all(" " <= ch < "\x7f" for ch in response.headers.get("x-search-message", ""))


def test_every_domain_error_has_its_own_code_and_a_documented_status():
    import json

    from app.api.errors import _DESCRIPTIONS, error_response
    from utils import errors

    tree = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.InvoiceOcrError)]
    assert {"IndexCorrupt", "OnnxUnsupported", "KeyFileDamaged", "ConversionError"} <= {c.__name__ for c in tree}
    codes = [c.code for c in tree if "code" in vars(c)]  # a subclass without its own code answers as its parent
    assert len(codes) == len(set(codes)), codes
    for cls in tree:
        assert cls.status in _DESCRIPTIONS or cls is errors.InvoiceOcrError, cls
        response = error_response(cls("what went wrong"))
        assert response.status_code == cls.status
        assert json.loads(response.body) == {"error": cls.code, "message": "what went wrong"}
