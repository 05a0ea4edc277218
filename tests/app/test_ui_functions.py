"""The page's functions: pure helpers directly, and the page's events through gradio_client on a live server."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from app.ui.charts import bar_svg, timeline_svg
from app.ui.forms import FORM_FIELDS, changes_from_form, field_warnings, form_values, lines_frame, result_csv
from app.ui.handlers import guarded
from app.ui.search_tab import build_query
from app.ui.viewer import viewer_html
from extraction.schema import Check, DocumentInfo, ExtractionResult, FieldInfo, Invoice, LineItem, Validation
from tests.app.live_server import LiveServer
from tests.builders import invoice_spec, make_invoice_pdf, make_settings, non_invoice_png
from utils.errors import InvalidRequest, NotFound


def _invoice() -> Invoice:
    return Invoice.model_validate(
        {
            "vendor": {"name": "Acme Supplies GmbH"},
            "invoice_number": "INV-1",
            "invoice_date": "2024-03-05",
            "currency": "EUR",
            "subtotal": "490",
            "tax_total": "93.1",
            "total": "583.10",
            "line_items": [{"description": "Widget", "quantity": "2", "unit_price": "100", "amount": "200"}],
        }
    )


def _result(**updates: Any) -> ExtractionResult:
    result = ExtractionResult(
        document=DocumentInfo(sha256="0" * 64, filename="a.pdf", media_type="application/pdf", page_count=1),
        invoice=_invoice(),
    )
    return result.model_copy(update=updates)


# --- pure helpers ---------------------------------------------------------------------------------------------


def test_form_shows_money_with_cents_and_reports_only_real_edits() -> None:
    invoice = _invoice()
    values = form_values(invoice)
    by_name = dict(zip([f.name for f in FORM_FIELDS], values, strict=True))
    assert by_name["subtotal"] == "490.00" and by_name["tax_total"] == "93.10"
    assert changes_from_form(invoice, values, lines_frame(invoice)) == {}
    by_name["total"] = "600.00"
    by_name["vendor.name"] = "ACME Supplies"
    by_name["due_date"] = "2024-04-04"
    changes = changes_from_form(invoice, list(by_name.values()), lines_frame(invoice))
    assert changes == {"total": "600.00", "vendor.name": "ACME Supplies", "due_date": "2024-04-04"}


def test_line_item_edit_sends_the_full_list() -> None:
    invoice = _invoice()
    frame = lines_frame(invoice)
    frame.iloc[0, 3] = "210.00"
    frame.loc[len(frame)] = ["Delivery", "1", "15.00", "15.00", ""]
    changes = changes_from_form(invoice, form_values(invoice), frame)
    assert changes["line_items"] == [
        {"description": "Widget", "quantity": "2", "unit_price": "100.00", "amount": "210.00", "tax_rate": None},
        {"description": "Delivery", "quantity": "1", "unit_price": "15.00", "amount": "15.00", "tax_rate": None},
    ]


def test_failed_checks_and_low_confidence_land_next_to_their_fields() -> None:
    result = _result(
        validation=Validation(
            checks=[
                Check(name="subtotal_plus_tax", passed=False, detail="490.00 + 93.10 = 583.10, total 600.00"),
                Check(name="due_after_issue", passed=True, detail="due 2024-04-04, issued 2024-03-05"),
                Check(name="payment_reference_format", passed=False, detail="reference has no check digit"),
            ],
            needs_review=True,
            reasons=[
                "check subtotal_plus_tax failed: 490.00 + 93.10 = 583.10, total 600.00",
                "invoice_number has low confidence (0.30 < 0.60)",
                "vendor.iban not found",
                "the document looks like a credit note",
            ],
        ),
        fields={"invoice_number": FieldInfo(value="INV-1", confidence=0.3, page=1, bbox=[0.1, 0.1, 0.3, 0.12])},
    )
    per_field, general = field_warnings(result, low_confidence=0.6)
    totals = "subtotal plus tax: 490.00 + 93.10 = 583.10, total 600.00"
    assert per_field["total"] == per_field["subtotal"] == per_field["tax_total"] == [totals]
    assert per_field["invoice_number"] == ["low confidence (30%): please check"]
    assert per_field["vendor.iban"] == ["vendor.iban not found"]
    assert "due_date" not in per_field and "invoice_date" not in per_field
    assert general == [
        "payment reference format: reference has no check digit",
        "the document looks like a credit note",
    ]


def test_a_warning_sits_under_the_field_it_is_about_not_under_those_it_mentions() -> None:
    reasons = [
        "invoice date could be read either way (03/04/2024): day-first assumed because the currency (EUR)"
        " suggests a day-first country",
        "due date is ambiguous (05/06/2024): day-first assumed because nothing on the document decides the order",
        "vendor tax id DE123 is also claimed by vendor Globex; the total was not compared",
        "total not labelled; the largest amount after the line items was taken",
    ]
    result = _result(validation=Validation(checks=[], needs_review=True, reasons=reasons))
    per_field, general = field_warnings(result, low_confidence=0.6)
    assert per_field == {
        "invoice_date": [reasons[0]],
        "due_date": [reasons[1]],
        "vendor.tax_id": [reasons[2]],
        "total": [reasons[3]],
    }
    assert general == []


def test_key_fields_unsure_only_together_warn_above_the_form_not_under_one_field() -> None:
    reason = "vendor, date and total have low confidence together (0.85 < 0.90)"
    fields = {k: FieldInfo(value="x", confidence=0.95) for k in ("vendor.name", "invoice_date", "total")}
    result = _result(validation=Validation(checks=[], needs_review=True, reasons=[reason]), fields=fields)
    per_field, general = field_warnings(result, low_confidence=0.9)
    assert per_field == {} and general == [reason]


def test_one_name_read_as_both_parties_is_shown_under_both() -> None:
    check = Check(name="vendor_not_customer", passed=False, detail="vendor 'Jansen B.V.', customer 'Jansen B.V.'")
    result = _result(validation=Validation(checks=[check], needs_review=True, reasons=[]))
    per_field, general = field_warnings(result, low_confidence=0.6)
    message = "vendor not customer: vendor 'Jansen B.V.', customer 'Jansen B.V.'"
    assert per_field == {"vendor.name": [message], "customer.name": [message]} and general == []


def test_field_boxes_are_drawn_on_their_page_only() -> None:
    page = Image.new("RGB", (1000, 1400), "white")
    fields = {
        "total": FieldInfo(value="583.10", confidence=0.95, page=1, bbox=[0.5, 0.5, 0.7, 0.52]),
        "invoice_number": FieldInfo(value="INV-1", confidence=0.95, page=2, bbox=[0.1, 0.1, 0.3, 0.12]),
    }
    viewer = viewer_html(page, fields, 1, [], highlight="total")
    assert "data-field='total'" in viewer and "data-elem='field-total'" in viewer
    assert "data-field='invoice_number'" not in viewer  # the page-2 field is not drawn on page 1
    assert "pv-box good sel" in viewer  # the selected field's box is highlighted


def test_every_page_handler_declares_types_gradio_can_read(tmp_path: Path) -> None:
    """Gradio finds gr.Request / gr.SelectData / gr.Progress by resolving a handler's annotations at run time.

    A name imported only for type checking makes that fail silently: the request is then never passed in.
    """
    import inspect
    import typing

    from app.api.main import create_app

    app = create_app(make_settings(tmp_path / "data"))
    blocks = next(r.app for r in app.routes if getattr(r, "path", None) == "/ui").get_blocks()
    handlers = [f.fn for f in blocks.fns.values() if inspect.isfunction(f.fn) or inspect.ismethod(f.fn)]
    assert len(handlers) > 40
    for fn in handlers:
        typing.get_type_hints(fn)  # raises NameError on an annotation Gradio cannot resolve


def test_bad_filter_names_the_filter() -> None:
    with pytest.raises(InvalidRequest, match="From date"):
        build_query("acme", "hybrid", "", "5th of May", "", "", "", "", "any")
    query = build_query(" acme ", "keyword", "Acme", "2024-01-01", "", "100", "1,000.50", "eur", "needs review")
    assert (query.q, query.mode, query.currency, query.needs_review) == ("acme", "keyword", "EUR", True)
    assert query.max_total == Decimal("1000.50") and query.date_from == dt.date(2024, 1, 1)


def test_csv_download_has_one_row_per_line_item() -> None:
    result = _result()
    result.invoice.line_items.append(LineItem(description="Gadget", amount=Decimal("50")))
    rows = result_csv(result).strip().splitlines()
    assert len(rows) == 3 and rows[0].startswith("invoice_id,vendor,invoice_number")
    assert "Widget" in rows[1] and "Gadget" in rows[2] and "583.10" in rows[1]


def test_charts_mark_the_current_invoice() -> None:
    svg = timeline_svg(
        [(dt.date(2024, 1, 1), 100.0, "a"), (dt.date(2024, 2, 1), 120.0, "b")], (dt.date(2024, 3, 1), 600.0, "x")
    )
    assert svg.count("<circle") == 3 and "this invoice" in svg
    assert "No dated totals" in timeline_svg([], None)
    bars = bar_svg(["2024-01", "2024-02"], {"EUR": [10.0, 20.0], "USD": [5.0, 0.0]}, "Spend")
    assert bars.count("<rect") >= 4 + 2  # four bars and a legend swatch per currency


def test_handler_errors_become_plain_messages() -> None:
    @guarded
    def missing() -> None:
        raise NotFound("invoice 99 not found")

    @guarded
    def broken() -> None:
        raise RuntimeError("internal detail /secret/path")

    with pytest.raises(gr.Error) as known:
        missing()
    assert known.value.message == "invoice 99 not found" and known.value.title == "Not found"
    with pytest.raises(gr.Error) as unknown:
        broken()
    assert "secret" not in unknown.value.message and "RuntimeError" in unknown.value.message


# --- the page's events on a live server -------------------------------------------------------------------------


def _named(client: Client, endpoint: str, values: tuple | list) -> dict[str, Any]:
    """An endpoint's outputs keyed by component label (updates unwrapped to their value)."""
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"][endpoint]
    labels = [r["label"] for r in api["returns"]]
    values = values if isinstance(values, (list, tuple)) else [values]
    out = {}
    for label, value in zip(labels, values, strict=True):
        out[label] = value
        out[label + ":value"] = value.get("value") if isinstance(value, dict) and "__type__" in value else value
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    live = LiveServer(make_settings(tmp_path_factory.mktemp("ui") / "data")).start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def connect(server: Any) -> Any:
    """Open page sessions on the live server; all closed before it stops (their heartbeats hold it open)."""
    opened: list[Client] = []

    def open_client(url: str | None = None, **kwargs: Any) -> Client:
        client = Client((url or server.url) + "/ui/", verbose=False, **kwargs)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()


@pytest.fixture(scope="module")
def pdf_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("docs") / "acme-march.pdf"
    path.write_bytes(make_invoice_pdf(invoice_spec(), pages=2))
    return path


@pytest.fixture(scope="module")
def uploaded(connect: Any, pdf_path: Path) -> tuple[Client, dict[str, Any]]:
    client = connect()
    out = _named(client, "/extract", client.predict([handle_file(str(pdf_path))], "auto", api_name="/extract"))
    return client, out


def test_upload_shows_fields_page_image_and_vendor(uploaded: tuple[Client, dict[str, Any]]) -> None:
    _client, out = uploaded
    assert out["Vendor:value"] == "Acme Supplies GmbH"
    assert out["Total:value"] == "583.10"
    assert out["Invoice number:value"] == "INV-2024-0042"
    assert out["Currency:value"] == "EUR"
    assert "Page <b>1</b> of 2" in out["Page:value"]
    viewer = out["Page image:value"]
    assert "data-field='invoice_number'" in viewer and "class='pv-word'" in viewer
    encoded = viewer.split("src='data:image/jpeg;base64,", 1)[1].split("'", 1)[0]
    image = Image.open(io.BytesIO(base64.b64decode(encoded)))
    assert image.height > image.width > 500
    assert "acme-march.pdf" in out["Document:value"]
    assert "Acme Supplies GmbH" in out["Vendor profile:value"]
    lines = out["Line items (editable: Save corrections stores them):value"]
    assert [row[0] for row in lines["data"]] == ["Widget A", "Gadget B", "Consulting hour"]
    assert json.loads(out["Raw JSON:value"])["invoice"]["total"] == 583.1
    assert "Widget A" in out["Raw markdown:value"]
    choices = out["Documents in this session"]["choices"]
    assert len(choices) == 1 and "acme-march.pdf" in choices[0][0]
    downloaded = json.loads(Path(out["Download JSON:value"]).read_text("utf-8"))
    assert downloaded["invoice"]["invoice_number"] == "INV-2024-0042"


def test_saved_correction_is_stored_audited_and_searchable(
    server: Any, uploaded: tuple[Client, dict[str, Any]]
) -> None:
    client, out = uploaded
    fields = [out[f.label + ":value"] for f in FORM_FIELDS]
    fields[[f.name for f in FORM_FIELDS].index("total")] = "600.00"
    lines = out["Line items (editable: Save corrections stores them):value"]
    saved = _named(client, "/save", client.predict(*fields, lines, api_name="/save"))
    assert saved["Total:value"] == "600.00"
    service = server.service
    page = service.list_invoices(service_filters(), limit=10)
    record = service.get_invoice(page.items[0].id)
    assert record.total == Decimal("600.00") and record.status == "corrected"
    assert [(c.field, c.who) for c in record.corrections] == [("total", "ui")]
    assert "total" in saved["Audit log:value"]["data"][0]

    approved = _named(
        client,
        "/approve",
        client.predict(*[saved[f.label + ":value"] for f in FORM_FIELDS], lines, api_name="/approve"),
    )
    assert "approved" in approved["Document:value"]
    assert service.get_invoice(record.id).status == "approved"

    found = _named(
        client, "/search", client.predict("Acme Suplies", "hybrid", "", "", "", "", "", "", "any", api_name="/search")
    )
    rows = found["Results (click a row to open the invoice):value"]["data"]
    assert rows and rows[0][0] is False and rows[0][2] == "INV-2024-0042" and rows[0][4] == "600.00 EUR"

    vendor = _named(client, "/vendor_lookup", client.predict("acme suplies gmbh", api_name="/vendor_lookup"))
    assert "Acme Supplies GmbH" in vendor["Profile:value"] and "Spend per month" in vendor["Spend per month:value"]
    assert vendor["Invoices (click a row to open):value"]["data"][0][1] == "INV-2024-0042"

    figures = client.predict(api_name="/dashboard")
    assert "Documents read" in figures[0] and "Review backlog" in figures[0]


def service_filters() -> Any:
    from retrieval.models import SearchFilters

    return SearchFilters()


def test_unreadable_file_is_listed_with_a_clear_message(connect: Any, server: Any, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not an invoice", "utf-8")
    client = connect()
    out = _named(client, "/extract", client.predict([handle_file(str(notes))], "auto", api_name="/extract"))
    assert "notes.txt" in out["Documents in this session"]["choices"][0][0]
    assert "unsupported file type" in out["Alerts:value"]
    assert "Traceback" not in out["Alerts:value"]
    assert server.service.dashboard()["failures"] >= 1


def test_picture_without_an_invoice_says_so_in_the_page_words(connect: Any, tmp_path: Path) -> None:
    picture = tmp_path / "holiday.png"
    picture.write_bytes(non_invoice_png())
    client = connect()
    out = _named(client, "/extract", client.predict([handle_file(str(picture))], "auto", api_name="/extract"))
    assert "holiday.png" in out["Documents in this session"]["choices"][0][0]
    assert "no invoice found" in out["Alerts:value"] and "POST /ocr" not in out["Alerts:value"]


def test_several_files_at_once_are_listed_and_the_first_invoice_opens(
    connect: Any, server: Any, tmp_path: Path
) -> None:
    files = []
    for number, vendor in (("NW-1", "Northwind Traders Ltd"), ("GL-7", "Globex Services Inc.")):
        path = tmp_path / f"{number}.pdf"
        spec = invoice_spec(
            vendor=vendor, number=number, vendor_vat=f"GB{len(vendor)}99", iban=f"GB29NWBK6016133192{len(vendor):04d}"
        )
        path.write_bytes(make_invoice_pdf(spec))
        files.append(handle_file(str(path)))
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n")
    files.append(handle_file(str(broken)))
    client = connect()
    out = _named(client, "/extract", client.predict(files, "auto", api_name="/extract"))
    labels = [label for label, _key in out["Documents in this session"]["choices"]]
    assert len(labels) == 3
    assert "NW-1.pdf" in labels[0] and "GL-7.pdf" in labels[1] and "broken.pdf" in labels[2] and "failed" in labels[2]
    assert out["Invoice number:value"] == "NW-1" and out["Vendor:value"] == "Northwind Traders Ltd"


def test_unavailable_engine_is_a_message_not_a_crash(connect: Any, pdf_path: Path) -> None:
    client = connect()
    out = _named(client, "/extract", client.predict([handle_file(str(pdf_path))], "deepseek", api_name="/extract"))
    assert "unavailable" in out["Alerts:value"]


def test_page_asks_for_an_api_key_when_keys_are_set(tmp_path: Path, pdf_path: Path) -> None:
    live = LiveServer(make_settings(tmp_path / "data", api_keys=["s3cret-key"])).start()
    client = None
    try:
        with pytest.raises(Exception):  # noqa: B017 - the client refuses to connect without a login
            Client(live.url + "/ui/", verbose=False)
        with pytest.raises(Exception):  # noqa: B017
            Client(live.url + "/ui/", auth=("alice", "wrong"), verbose=False)
        client = Client(live.url + "/ui/", auth=("alice", "s3cret-key"), verbose=False)
        out = _named(client, "/extract", client.predict([handle_file(str(pdf_path))], "auto", api_name="/extract"))
        assert out["Total:value"] == "583.10"
        stored = live.service.list_invoices(service_filters()).items
        assert [i.invoice_number for i in stored] == ["INV-2024-0042"]

        from app.api.auth import KeyStore

        reader_key, _info = KeyStore.for_settings(live.app.state.services.settings).create("auditor", read_only=True)
        reader = Client(live.url + "/ui/", auth=("bob", reader_key), verbose=False)
        try:
            fields = [out[f.label + ":value"] for f in FORM_FIELDS]
            lines = out["Line items (editable: Save corrections stores them):value"]
            with pytest.raises(AppError, match="read-only"):
                reader.predict([handle_file(str(pdf_path))], "auto", api_name="/extract")
            with pytest.raises(AppError, match="read-only"):
                reader.predict(*fields, lines, api_name="/save")
            # Every other action that changes the history refuses the read-only login too, and changes nothing.
            vendor = live.service.lookup_vendors("Acme Supplies GmbH")[0].id
            reader.predict("Acme Supplies", api_name="/vendor_lookup")  # the vendor it would change is open
            queue = _named(reader, "/review_queue", reader.predict(api_name="/review_queue"))
            table = _ticked(queue["Needs review (tick rows for the actions below; click a row to open it):value"], [0])
            before = live.service.get_invoice(stored[0].id)
            for api_name, args in (
                ("/vendor_rename", ("Renamed By Reader",)),
                ("/vendor_merge", (None,)),
                ("/vendor_reread", ()),
                ("/queue_reread", (table, "textlayer")),
                ("/search_reread", (table, "default")),
            ):
                with pytest.raises(AppError, match="read-only"):
                    reader.predict(*args, api_name=api_name)
            after = live.service.get_invoice(stored[0].id)
            assert live.service.get_vendor(vendor).name == "Acme Supplies GmbH"
            assert (after.status, after.corrections) == (before.status, before.corrections)
        finally:
            reader.close()
    finally:
        if client is not None:
            client.close()
        live.stop()


def test_money_without_a_currency_says_so() -> None:
    from app.ui.forms import money

    assert money(Decimal("12.5"), "?") == "12.50 (no currency)"
    assert money(Decimal("12.5"), None) == "12.50" and money(Decimal("12.5"), "EUR") == "12.50 EUR"


def _store_misread(server: Any, number: str, vendor: str, misread_total: str | None = None) -> int:
    """A generated invoice stored as needing review; `misread_total` stands in for a reading gone wrong."""
    from extraction.pipeline import extract

    domain = vendor.split()[0].lower()
    spec = invoice_spec(number=number, vendor=vendor, vendor_vat=None, iban=None, vendor_email=f"ap@{domain}.example")
    data = make_invoice_pdf(spec)
    result = extract(data, f"{number}.pdf", settings=server.app.state.services.settings)
    assert result.invoice.total == Decimal("583.10")
    if misread_total is not None:
        result.invoice.total = Decimal(misread_total)
    result.validation.needs_review = True
    result.validation.reasons.append("total was not confirmed by the line items")
    return int(server.service.store_result(result, data).invoice_id)


def _ticked(table: dict[str, Any], rows: list[int]) -> dict[str, Any]:
    data = [[index in rows, *row[1:]] for index, row in enumerate(table["data"])]
    return {"headers": table["headers"], "data": data}


def test_queue_rereads_the_selected_invoices_with_another_engine_keeping_corrections(connect: Any, server: Any) -> None:
    service = server.service
    misread = _store_misread(server, "PR-2024-1001", "Pelican Stationers Ltd", misread_total="853.10")
    corrected = _store_misread(server, "PR-2024-1002", "Pelican Stationers Ltd")
    untouched = _store_misread(server, "PR-2024-1003", "Pelican Stationers Ltd", misread_total="538.10")
    service.correct_invoice(corrected, {"total": "999.00"}, "ui:clerk")
    client = connect()
    queue = _named(client, "/review_queue", client.predict(api_name="/review_queue"))
    table = queue["Needs review (tick rows for the actions below; click a row to open it):value"]
    order = [item.id for item in service.review_queue().items]
    picked = [order.index(misread), order.index(corrected)]

    nothing = client.predict(_ticked(table, []), "textlayer", api_name="/queue_reread")
    assert "Tick one or more rows first" in nothing[0]
    out = client.predict(_ticked(table, picked), "textlayer", api_name="/queue_reread")
    note = out[0]
    assert "Read 2 invoices again with textlayer" in note and "1 changed" in note and "1 unchanged" in note
    assert "correction was kept" in note
    assert service.get_invoice(misread).total == Decimal("583.10")  # read right this time
    kept = service.get_invoice(corrected)
    assert kept.total == Decimal("999.00") and kept.status == "corrected"
    assert kept.result.fields["total"].source == "corrected by ui:clerk"
    assert {p.engine for p in kept.result.pages} == {"textlayer"}
    assert service.get_invoice(untouched).total == Decimal("538.10")  # not selected: left alone

    with pytest.raises(AppError, match="nonsense"):  # only the registry's names are offered
        client.predict(_ticked(table, picked), "nonsense", api_name="/queue_reread")


def test_search_results_reread_with_the_default_engine_and_show_the_new_values(connect: Any, server: Any) -> None:
    misread = _store_misread(server, "OF-2024-5501", "Osprey Freight Oy", misread_total="853.10")
    client = connect()
    found = _named(
        client, "/search", client.predict("", "hybrid", "Osprey Freight", "", "", "", "", "", "any", api_name="/search")
    )
    table = found["Results (click a row to open the invoice):value"]
    assert [row[4] for row in table["data"]] == ["853.10 EUR"]
    out = client.predict(_ticked(table, [0]), "default", api_name="/search_reread")
    assert "Read 1 invoice again:" in out[0] and "1 changed" in out[0]
    rows = out[2]["value"]["data"] if "value" in out[2] else out[2]["data"]
    assert rows[0][4] == "583.10 EUR" and rows[0][0] is True
    assert server.service.get_invoice(misread).total == Decimal("583.10")


def test_vendors_tab_renames_merges_and_rereads_a_vendor(connect: Any, server: Any) -> None:
    service = server.service
    misread = _store_misread(server, "KP-2024-0001", "Kingfisher Print Ltd", misread_total="853.10")
    other = _store_misread(server, "KF-2024-0002", "Bluewing Printworks")
    client = connect()
    found = _named(client, "/vendor_lookup", client.predict("kingfisher print", api_name="/vendor_lookup"))
    assert "Kingfisher Print Ltd" in found["Profile:value"] and found["Name:value"] == "Kingfisher Print Ltd"
    vendor_id = service.get_invoice(misread).vendor_id

    renamed = client.predict("Kingfisher Print & Design Ltd", api_name="/vendor_rename")
    assert "Renamed “Kingfisher Print Ltd” to <b>Kingfisher Print &amp; Design Ltd</b>" in renamed[0]
    profile = service.get_vendor(vendor_id)
    assert profile.name == "Kingfisher Print & Design Ltd" and "Kingfisher Print Ltd" in profile.aliases

    reread = client.predict(api_name="/vendor_reread")
    assert "Read 1 invoice again" in reread[0] and "1 changed" in reread[0]
    assert service.get_invoice(misread).total == Decimal("583.10")

    client.predict("Bluewing Printworks", api_name="/vendor_lookup")
    source = service.get_invoice(other).vendor_id
    with pytest.raises(AppError, match="Choose the vendor"):
        client.predict(None, api_name="/vendor_merge")
    merged = client.predict(vendor_id, api_name="/vendor_merge")
    assert "Merged “Bluewing Printworks” (1 invoice) into <b>Kingfisher Print &amp; Design Ltd</b>" in merged[0]
    assert service.get_invoice(other).vendor_id == vendor_id
    with pytest.raises(NotFound):
        service.get_vendor(source)
    assert [e.action for e in service.vendor_events(vendor_id)][-2:] == ["rename", "merge"]

    listed = client.predict(api_name="/vendor_list")
    labels = [label for label, _id in listed[0]["choices"]]
    assert "Kingfisher Print & Design Ltd (2 invoices)" in labels
