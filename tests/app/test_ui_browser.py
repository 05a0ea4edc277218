"""The page in a real headless Chromium: upload, check, correct, save, search with a typo, open; screenshots."""

from __future__ import annotations

import datetime as dt
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.app.conftest import make_settings
from tests.app.live_server import LiveServer
from tests.builders import invoice_spec, make_invoice_pdf

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "ui"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, installed by the project's system-deps script when missing."""
    if not CHROMIUM.exists():
        subprocess.run([str(ROOT / "scripts" / "install-system-deps.sh")], check=True, timeout=900)
    assert CHROMIUM.exists(), "Chromium is missing and scripts/install-system-deps.sh could not install it"
    return CHROMIUM


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


@pytest.fixture
def page(chromium: Path, server: LiveServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1600, "height": 1000}, device_scale_factor=1)
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        try:
            yield tab
        finally:
            _shot(tab, "last")  # the page as the test left it, also when it failed
            context.close()
            browser.close()


def _shot(page: Any, name: str, full: bool = True) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    return path


def _dismiss_toasts(page: Any) -> None:
    """Close notifications so they do not cover the screenshots."""
    for button in page.locator(".toast-close:visible").all():
        button.click()
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
    page.wait_for_selector("#page-image img")
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
    page.locator("#page-image").screenshot(path=str(ARTIFACTS / "03-page-2.png"))
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
    page.wait_for_selector("#page-image img")
    page.wait_for_timeout(500)
    assert _value(page, "total") == "600.00"
    assert page.locator("#page-image img").first.is_visible()
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


def _filters(q_vendor: str) -> Any:
    from retrieval.models import SearchFilters

    return SearchFilters(vendor=q_vendor, min_total=Decimal("599"))
