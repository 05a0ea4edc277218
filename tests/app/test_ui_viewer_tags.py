"""The page viewer's field labels in a real browser: on a dense page no label covers another value or label."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from app.ui.viewer import viewer_html
from extraction.schema import FieldInfo
from tests.app.browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "app" / "ui" / "static"

# A receipt-like page: the amounts stacked tight in the right column, header values on the left.
FIELDS = {
    "vendor.name": ("Acme Supplies GmbH", (0.08, 0.06, 0.34, 0.08)),
    "invoice_number": ("INV-1", (0.30, 0.14, 0.38, 0.152)),
    "invoice_date": ("2024-03-05", (0.30, 0.156, 0.40, 0.168)),
    "due_date": ("2024-04-04", (0.30, 0.172, 0.40, 0.184)),
    "subtotal": ("590.00", (0.84, 0.800, 0.93, 0.811)),
    "tax": ("112.10", (0.84, 0.816, 0.93, 0.827)),
    "total": ("702.10", (0.84, 0.832, 0.93, 0.843)),
    "currency": ("EUR", (0.94, 0.832, 0.98, 0.843)),
}


def _overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["w"] - 0.5
        and b["x"] < a["x"] + a["w"] - 0.5
        and (a["y"] < b["y"] + b["h"] - 0.5 and b["y"] < a["y"] + a["h"] - 0.5)
    )


@pytest.mark.parametrize("width", [860, 620])
def test_labels_cover_no_other_value_or_label(chromium: Path, tmp_path: Path, width: int) -> None:
    from playwright.sync_api import sync_playwright

    fields = {
        name: FieldInfo(value=value, confidence=0.95, page=1, bbox=list(box)) for name, (value, box) in FIELDS.items()
    }
    words = [(*box, str(value)) for value, box in FIELDS.values()]
    html = viewer_html(Image.new("RGB", (1240, 1754), "white"), fields, 1, words, low_confidence=0.9)
    page_file = tmp_path / "viewer.html"
    page_file.write_text(
        f"<html><head><link rel='stylesheet' href='{STATIC / 'viewer.css'}'></head>"
        f"<body style='margin:0'><div id='page-viewer' style='width:{width}px'>{html}</div></body></html>"
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": width + 40, "height": 1400})
            tab.goto(page_file.as_uri())
            rects = tab.evaluate(
                """() => [...document.querySelectorAll('.pv-box')].map(box => {
                    const r = box.getBoundingClientRect(), t = box.querySelector('.pv-tag').getBoundingClientRect();
                    return {field: box.dataset.field,
                            box: {x: r.x, y: r.y, w: r.width, h: r.height},
                            tag: {x: t.x, y: t.y, w: t.width, h: t.height}};
                })"""
            )
        finally:
            browser.close()
    assert {r["field"] for r in rects} == set(FIELDS)
    sheet_right = width
    for mine in rects:
        assert mine["tag"]["x"] >= 0 and mine["tag"]["x"] + mine["tag"]["w"] <= sheet_right + 1, mine
        for other in rects:
            if other is mine:
                continue
            assert not _overlap(mine["tag"], other["box"]), (mine["field"], "label covers", other["field"])
            assert not _overlap(mine["tag"], other["tag"]), (mine["field"], "label covers label of", other["field"])
