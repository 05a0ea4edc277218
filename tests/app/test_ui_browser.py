"""The page in a real headless Chromium: upload, check, correct, save, search with a typo, open; screenshots."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager, suppress
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.app.browser import CHROMIUM_ARGS, ROOT
from tests.app.live_server import LiveServer
from tests.builders import invoice_spec, make_invoice_pdf, make_settings

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts" / "ui"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app with a short Acme Supplies history (so the vendor panel has context) and one other vendor."""
    from extraction.pipeline import extract

    live = LiveServer(make_settings(tmp_path_factory.mktemp("browser") / "data")).start()
    history = [
        invoice_spec(
            number=f"INV-2023-{k:04d}",
            date=dt.date(2023, 2 * k, 12),
            due_date=None,
            lines=[("Widget A", Decimal(k), Decimal("40.00")), ("Service fee", Decimal("1"), Decimal("60.00"))],
        )
        for k in range(1, 5)
    ]
    history.append(
        invoice_spec(
            vendor="Northwind Traders Ltd",
            vendor_vat="GB999999973",
            iban="GB29NWBK60161331926819",
            vendor_email="accounts@northwind.example",
            number="NW-881",
        )
    )
    for number, spec in enumerate(history):
        data = make_invoice_pdf(spec)
        live.service.store_result(
            extract(data, f"history-{number}.pdf", settings=live.app.state.services.settings), data
        )
    try:
        yield live
    finally:
        live.stop()


@contextmanager
def _browser_tab(chromium: Path, width: int, height: int, last: str) -> Iterator[Any]:
    """A Chromium tab of this size; `last` names the screenshot of the page as the test left it (also on failure)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        try:
            yield tab
        finally:
            _shot(tab, last)
            context.close()
            browser.close()


@pytest.fixture
def page(chromium: Path, server: LiveServer) -> Iterator[Any]:
    with _browser_tab(chromium, 1600, 1000, "last") as tab:
        yield tab


def _shot(page: Any, name: str, full: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    return path


def _dismiss_toasts(page: Any) -> None:
    """Close notifications so they do not cover the screenshots."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    for button in page.locator(".toast-close:visible").all():
        # A notification may close itself meanwhile (fading out, inert, gone): nothing left to close.
        with suppress(PlaywrightTimeoutError):
            button.click(timeout=3000)
    page.wait_for_timeout(300)


def _value(page: Any, field: str) -> str:
    return page.locator(f"#field-{field} input, #field-{field} textarea").first.input_value()


def test_upload_review_correct_search_open(page: Any, server: LiveServer, tmp_path: Path) -> None:
    pdf = tmp_path / "acme-2024-03.pdf"
    pdf.write_bytes(make_invoice_pdf(invoice_spec(), pages=2))

    page.goto(server.url + "/ui/")
    page.wait_for_selector("#upload")
    _shot(page, "01-start", full=False)

    page.locator("#upload input[type=file]").set_input_files(str(pdf))
    page.wait_for_function(
        "() => { const e = document.querySelector('#field-total input'); return e && e.value !== ''; }"
    )
    page.wait_for_selector("#page-viewer img.pv-img")
    page.wait_for_timeout(800)  # let the vendor chart and tables settle before the picture
    assert _value(page, "vendor-name") == "Acme Supplies GmbH"
    assert _value(page, "total") == "583.10"
    assert "Page 1 of 2" in page.locator("#page-label").inner_text()
    assert "Acme Supplies GmbH" in page.locator("#vendor-card").inner_text()
    assert "this invoice" in page.locator("#vendor-chart").inner_text()
    recent = page.locator("#vendor-recent").inner_text()
    assert all(f"INV-2023-000{k}" in recent for k in range(1, 5))
    _shot(page, "02-extracted", full=False)
    _shot(page, "02-extracted-full")

    page.locator("#next-page").click()
    page.wait_for_function("() => document.querySelector('#page-label').innerText.includes('Page 2 of 2')")
    page.wait_for_timeout(500)
    page.locator("#page-viewer").screenshot(path=str(ARTIFACTS / "03-page-2.png"))
    page.locator("#prev-page").click()
    page.wait_for_function("() => document.querySelector('#page-label').innerText.includes('Page 1 of 2')")

    page.locator("#field-total input").fill("600.00")
    page.locator("#save-btn").click()
    page.get_by_text("Saved 1 correction").first.wait_for()
    page.wait_for_function("() => document.querySelector('#doc-summary').innerText.includes('corrected')")
    invoice_id = server.service.list_invoices(_filters(q_vendor="Acme"), limit=1).items[0].id
    record = server.service.get_invoice(invoice_id)
    assert record.total == Decimal("600.00") and record.status == "corrected"
    assert [c.field for c in record.corrections] == ["total"]
    page.evaluate("() => window.scrollTo(0, 0)")
    page.wait_for_timeout(800)
    _shot(page, "04-saved", full=False)
    _dismiss_toasts(page)

    page.get_by_role("tab", name="Search").click()
    page.locator("#search-query input, #search-query textarea").first.fill("Acme Suplies")
    page.locator("#search-btn").click()
    page.wait_for_function("() => document.querySelector('#search-status').innerText.includes('found')")
    row = page.locator("#search-results .virtual-row", has=page.get_by_text("INV-2024-0042", exact=True)).first
    row.wait_for()
    assert "600.00 EUR" in row.inner_text() and "Acme Supplies GmbH" in row.inner_text()
    page.wait_for_timeout(800)  # the results fade in once the event has finished
    _shot(page, "05-search", full=False)

    row.get_by_text("INV-2024-0042", exact=True).click()
    page.wait_for_function(
        "() => { const e = document.querySelector('#field-invoice-number input');"
        " return e && e.value === 'INV-2024-0042' && e.checkVisibility(); }"
    )
    page.wait_for_selector("#page-viewer img.pv-img")
    page.wait_for_timeout(500)
    assert _value(page, "total") == "600.00"
    assert page.locator("#page-viewer img.pv-img").first.is_visible()
    _shot(page, "06-opened-from-search", full=False)

    page.get_by_role("tab", name="Vendors").click()
    page.locator("#vendor-q input, #vendor-q textarea").first.fill("acme suplies")
    page.locator("#vendor-btn").click()
    page.wait_for_function("() => document.querySelector('#vendor-profile').innerText.includes('Acme Supplies GmbH')")
    assert "INV-2024-0042" in page.locator("#vendor-invoices").inner_text()
    page.wait_for_timeout(300)
    _shot(page, "07-vendors", full=False)

    page.get_by_role("tab", name="Dashboard").click()
    page.wait_for_function("() => document.querySelector('#dashboard-tiles').textContent.includes('Documents read')")
    page.wait_for_timeout(300)
    _shot(page, "08-dashboard", full=False)


# Samples, while a file is read, how many progress bars are drawn at once and whether the drop zone shows.
WATCH_PROGRESS = """() => {
  window.__progress = { bars: 0, uploadHidden: false };
  window.__watch = setInterval(() => {
    const bars = Array.from(document.querySelectorAll('.eta-bar, .progress-level, .meta-text, .meta-text-center'))
      .filter((e) => e.offsetParent !== null).length;
    window.__progress.bars = Math.max(window.__progress.bars, bars);
    const zone = document.querySelector('#upload');
    if (!zone || zone.offsetParent === null || zone.getBoundingClientRect().height < 40) {
      window.__progress.uploadHidden = true;
    }
  }, 25);
}"""


def _image_loaded(page: Any) -> bool:
    return page.evaluate(
        "() => { const i = document.querySelector('#page-viewer img.pv-img');"
        " return Boolean(i && i.complete && i.naturalWidth > 0 && i.offsetParent !== null); }"
    )


def _box(page: Any, selector: str) -> dict[str, float]:
    return page.locator(selector).first.bounding_box()


def test_review_workspace_image_progress_reread_keys_and_click_to_fill(
    chromium: Path, server: LiveServer, tmp_path: Path
) -> None:
    """The numbered defects of the review workspace at 1440x900 and 1280x720, then keys and click-to-fill."""
    pdf = tmp_path / "globex-2024-05.pdf"
    spec = invoice_spec(vendor="Globex Parts AG", vendor_vat="CHE123456789", iban=None, number="GX-5512")
    pdf.write_bytes(make_invoice_pdf(spec, pages=2))
    with _browser_tab(chromium, 1440, 900, "last-review") as page:
        page.goto(server.url + "/ui/")
        page.wait_for_selector("#upload")
        # Before any document is open nothing was looked for: no field says "not found".
        assert page.locator("#field-total input").get_attribute("placeholder") in ("", None)
        _shot(page, "1440-01-empty", full=False)

        page.evaluate(WATCH_PROGRESS)
        page.locator("#upload input[type=file]").set_input_files(str(pdf))
        page.wait_for_function(
            "() => { const e = document.querySelector('#field-invoice-number input');"
            " return e && e.value === 'GX-5512'; }"
        )
        page.wait_for_selector("#page-viewer img.pv-img")
        page.wait_for_timeout(600)
        progress = page.evaluate("() => { clearInterval(window.__watch); return window.__progress; }")
        assert progress["bars"] <= 2, f"{progress['bars']} progress bars were drawn at once"
        assert not progress["uploadHidden"], "the drop zone vanished while the file was read"

        # A large page picture with thin boxes on the values themselves.
        image = _box(page, "#page-viewer img.pv-img")
        assert image["width"] >= 700, f"the page picture is {image['width']:.0f} px wide"
        number = _box(page, "#page-viewer .pv-box[data-field='invoice_number']")
        assert number["width"] < 0.2 * image["width"], "the invoice number's box covers more than its value"
        date = _box(page, "#page-viewer .pv-box[data-field='invoice_date']")
        assert date["width"] < 0.25 * image["width"], "the invoice date's box covers more than its value"
        _dismiss_toasts(page)
        _shot(page, "1440-02-extracted", full=False)

        # Clicking into a field keeps the picture and highlights the field's box, on its page.
        page.locator("#field-invoice-date input").click()
        page.wait_for_timeout(800)
        assert _image_loaded(page), "the page picture disappeared when a field was selected"
        assert page.locator("#page-viewer .pv-box.sel[data-field='invoice_date']").count() == 1
        page.locator("#field-total input").click()
        page.wait_for_function("() => document.querySelector('#page-label').innerText.includes('Page 2 of 2')")
        page.wait_for_selector("#page-viewer .pv-box.sel[data-field='total']")
        assert _image_loaded(page)
        _shot(page, "1440-03-field-selected", full=False)

        # Click a word on the picture to fill the selected field.
        page.locator("#field-amount-due input").click()
        page.locator("#page-viewer .pv-word[data-text='583.10']").first.click()
        assert _value(page, "amount-due") == "583.10"

        # Keys: next field, next page, previous page.
        page.locator("#field-vendor-name input").focus()
        page.keyboard.press("Alt+ArrowDown")
        assert page.evaluate("() => document.activeElement.closest('#field-invoice-number') !== null")
        page.keyboard.press("Alt+ArrowLeft")
        page.wait_for_function("() => document.querySelector('#page-label').innerText.includes('Page 1 of 2')")
        page.keyboard.press("Alt+ArrowRight")
        page.wait_for_function("() => document.querySelector('#page-label').innerText.includes('Page 2 of 2')")

        # Extract with no new file reads the open invoice again with the chosen engine, without errors.
        page.locator("#extract-btn").click()
        page.get_by_text("read again with").first.wait_for()
        page.wait_for_timeout(800)
        errors = page.locator(".block .error:visible, .wrap.error:visible").count()
        assert errors == 0, f"{errors} components show an error after Extract without a new file"
        assert _image_loaded(page)
        invoice_id = int(server.service.search(_query("GX-5512"))[0].invoice_id)
        assert "engine" in [c.field for c in server.service.get_invoice(invoice_id).corrections]

        # 1280x720: the document starts near the top.
        page.set_viewport_size({"width": 1280, "height": 720})
        page.evaluate("() => window.scrollTo(0, 0)")
        page.wait_for_timeout(500)
        _dismiss_toasts(page)
        top = _box(page, "#page-viewer img.pv-img")["y"]
        assert top < 400, f"the document starts {top:.0f} px down the page at 1280x720"
        _shot(page, "1280-02-extracted", full=False)


def _query(q: str) -> Any:
    from retrieval.models import SearchQuery

    return SearchQuery(q=q, mode="keyword")


def _filters(q_vendor: str) -> Any:
    from retrieval.models import SearchFilters

    return SearchFilters(vendor=q_vendor, min_total=Decimal("599"))


def _store_needing_review(server: LiveServer, number: str, vendor: str) -> int:
    """An invoice stored as needing review (a reason is added to its checked reading)."""
    from extraction.pipeline import extract

    data = make_invoice_pdf(invoice_spec(number=number, vendor=vendor, vendor_vat=None, iban=None))
    result = extract(data, f"{number}.pdf", settings=server.app.state.services.settings)
    result.validation.needs_review = True
    result.validation.reasons.append("total was not confirmed by the line items")
    return int(server.service.store_result(result, data).invoice_id)


def test_review_queue_approve_and_next_bulk_approve_and_no_match(
    chromium: Path, server: LiveServer, tmp_path: Path
) -> None:
    """The queue oldest first across a reload, keys and "Approve and next", bulk approve, search's "no match"."""
    for waiting in server.service.review_queue().items:  # earlier tests' invoices: the queue holds only these
        server.service.approve_invoice(waiting.id, "test")
    before = server.service.review_queue().total
    ids = [_store_needing_review(server, f"Q-{k}", f"Queue Vendor {k} Oy") for k in (1, 2, 3)]
    with _browser_tab(chromium, 1440, 900, "last-queue") as page:
        page.goto(server.url + "/ui/")
        page.get_by_role("tab", name="Dashboard").click()
        page.locator("#dash-open-queue").click()
        page.wait_for_function(
            f"() => (document.querySelector('#queue-count') || {{}}).innerText?.includes('{before + 3} invoice')"
        )
        page.reload()  # the queue comes from the history, not from the browser session
        page.get_by_role("tab", name="Review queue").click()
        table = page.locator("#queue-table")
        table.get_by_text("Q-3", exact=True).first.wait_for()
        text = table.inner_text()
        assert text.index("Q-1") < text.index("Q-2") < text.index("Q-3"), "the queue is not oldest first"
        page.wait_for_timeout(500)
        _shot(page, "1440-04-queue", full=False)

        table.locator("[data-testid='cell-0-3']").first.click()
        page.wait_for_function(
            "() => { const e = document.querySelector('#field-invoice-number input');"
            " return e && e.value === 'Q-1' && e.checkVisibility(); }"
        )
        page.locator("#field-total input").click()
        page.keyboard.press("Control+Enter")  # approve and next, from the keyboard
        page.wait_for_function("() => document.querySelector('#field-invoice-number input').value === 'Q-2'")
        assert server.service.get_invoice(ids[0]).status == "approved"
        page.locator("#approve-next-btn").click()
        page.wait_for_function("() => document.querySelector('#field-invoice-number input').value === 'Q-3'")
        assert server.service.get_invoice(ids[1]).status == "approved"

        page.get_by_role("tab", name="Search").click()
        page.locator("#search-query input, #search-query textarea").first.fill("xqzvbl")
        page.locator("#search-btn").click()
        page.get_by_text("No invoices match “xqzvbl”.").wait_for()
        page.locator("#search-query input, #search-query textarea").first.fill("Queue Vendor")
        page.locator("#search-btn").click()
        results = page.locator("#search-results")
        results.get_by_text("Q-3", exact=True).first.wait_for()
        assert results.locator("[data-testid='cell-2-2']").inner_text().strip() == "Q-3"
        cell = results.locator("[data-testid='cell-2-0']")
        tick = cell.locator("input[type=checkbox]")
        (tick.first if tick.count() else cell).click()
        page.wait_for_timeout(400)
        page.locator("#search-approve").click()
        page.locator("#search-bulk-note").get_by_text("Approved 1 invoice").wait_for()
        assert server.service.get_invoice(ids[2]).status == "approved"
        page.locator("#search-export").click()
        page.locator("#search-bulk-note").get_by_text("1 invoice exported").wait_for()
        assert page.locator("#search-download").is_visible()
        _dismiss_toasts(page)
        _shot(page, "1440-05-search-bulk", full=False)

        page.get_by_role("tab", name="Review queue").click()
        page.wait_for_timeout(1000)
        assert "Q-3" not in page.locator("#queue-table").inner_text()
        page.set_viewport_size({"width": 1280, "height": 720})
        page.wait_for_timeout(500)
        _shot(page, "1280-04-queue", full=False)


def test_corrected_vendor_reads_right_on_its_next_invoice_then_rename_reread_and_bulk_reread(
    chromium: Path, server: LiveServer, tmp_path: Path
) -> None:
    """Correct a vendor once on the page; its next upload shows the corrected name. Then the Vendors tab's
    management panel and a bulk re-read with another engine from the search results."""

    def sparrow(number: str, day: int) -> Path:
        # Only the name says who sent it (no tax id, IBAN, e-mail or phone): the misreading itself must resolve.
        spec = invoice_spec(
            vendor="SPARROW TOOLS",
            vendor_vat=None,
            iban=None,
            vendor_email=None,
            vendor_phone=None,
            number=number,
            date=dt.date(2024, 5, day),
        )
        path = tmp_path / f"sparrow-{number}.pdf"
        path.write_bytes(make_invoice_pdf(spec))
        return path

    first, second = sparrow("ST-3101", 2), sparrow("ST-3102", 16)
    corrected = "Sparrow Tools Limited"
    with _browser_tab(chromium, 1440, 900, "last-learned-vendor") as page:
        page.goto(server.url + "/ui/")
        page.wait_for_selector("#upload")
        page.locator("#upload input[type=file]").set_input_files(str(first))
        page.wait_for_function(
            "() => { const e = document.querySelector('#field-vendor-name input');"
            " return e && e.value === 'SPARROW TOOLS'; }"
        )
        page.locator("#field-vendor-name input").fill(corrected)
        page.locator("#save-btn").click()
        page.get_by_text("Saved 1 correction").first.wait_for()
        page.wait_for_function("() => document.querySelector('#doc-summary').innerText.includes('corrected')")
        _dismiss_toasts(page)

        # The next invoice of that vendor, printed the same way, reads with the corrected name.
        page.locator("#upload input[type=file]").set_input_files(str(second))
        page.wait_for_function(
            "() => { const b = document.querySelector('#doc-summary .doc-summary b');"
            " return b && b.innerText === 'sparrow-ST-3102.pdf'; }"
        )
        assert "sparrow-ST-3102.pdf — Sparrow Tools Limited" in page.locator("#doc-list").inner_text()
        assert _value(page, "vendor-name") == corrected
        stored = [i for i in server.service.list_invoices(_filters_for(corrected)).items]
        assert len(stored) == 2 and len({i.vendor_id for i in stored}) == 1
        page.wait_for_timeout(600)
        _dismiss_toasts(page)
        _shot(page, "1440-06-learned-vendor", full=False)

        # Vendors tab: the vendor's management panel; re-read its invoices with what the history knows.
        page.get_by_role("tab", name="Vendors").click()
        page.locator("#vendor-q input, #vendor-q textarea").first.fill("sparrow tools")
        page.locator("#vendor-btn").click()
        page.wait_for_function("() => document.querySelector('#vendor-profile').innerText.includes('Limited')")
        assert page.locator("#vendor-new-name input, #vendor-new-name textarea").first.input_value() == corrected
        page.locator("#vendor-reread").click()
        page.locator("#vendor-manage-note").get_by_text("Read 2 invoices again").wait_for()
        page.wait_for_timeout(500)
        page.locator("#vendor-manage-note").scroll_into_view_if_needed()
        _dismiss_toasts(page)
        _shot(page, "1440-07-vendor-manage", full=False)

        # Search results: tick a row, pick another engine, re-read; the note says how many changed.
        page.get_by_role("tab", name="Search").click()
        page.locator("#search-query input, #search-query textarea").first.fill("")
        page.locator("#filter-vendor input, #filter-vendor textarea").first.fill(corrected)
        page.locator("#search-btn").click()
        results = page.locator("#search-results")
        page.wait_for_function("() => document.querySelector('#search-status').innerText.includes('2 invoices')")
        cell = results.locator("[data-testid='cell-0-0']")
        tick = cell.locator("input[type=checkbox]")
        (tick.first if tick.count() else cell).click()
        page.wait_for_timeout(400)
        page.locator("#search-reread-engine input").click()
        page.get_by_role("option", name="textlayer", exact=True).click()
        page.locator("#search-reread").click()
        note = page.locator("#search-bulk-note")
        note.get_by_text("Read 1 invoice again with textlayer").wait_for()
        assert "changed" in note.inner_text() and "correction was kept" in note.inner_text()
        assert page.locator(".block .error:visible, .wrap.error:visible").count() == 0
        page.wait_for_timeout(500)
        note.scroll_into_view_if_needed()
        _dismiss_toasts(page)
        _shot(page, "1440-08-search-reread", full=False)
        assert server.service.get_invoice(stored[-1].id).vendor_id == stored[0].vendor_id


def _filters_for(vendor: str) -> Any:
    from retrieval.models import SearchFilters

    return SearchFilters(vendor=vendor)
