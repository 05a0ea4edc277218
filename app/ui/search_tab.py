"""The Search tab: one query box, mode and filters; a results table; a row opens the invoice."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd
from pydantic import ValidationError

from app.ui import bulk
from app.ui.bulk_actions import BulkActions, wire_bulk
from app.ui.forms import money
from app.ui.handlers import Updates, guarded
from app.ui.navigation import row_opener
from utils.errors import InvalidRequest

if TYPE_CHECKING:
    from app.ui.context import PageServices
    from app.ui.extract_tab import ExtractTab
    from retrieval.models import SearchHit, SearchQuery

RESULT_HEADERS = [bulk.SELECT, "Vendor", "Number", "Date", "Total", "Matched", "Snippet"]
REVIEW_CHOICES = ["any", "needs review", "checked"]
_FILTER_LABELS = {
    "q": "query",
    "vendor": "Vendor",
    "date_from": "From date",
    "date_to": "To date",
    "min_total": "Min total",
    "max_total": "Max total",
    "currency": "Currency",
}


def build_query(
    q: str,
    mode: str,
    vendor: str,
    date_from: str,
    date_to: str,
    min_total: str,
    max_total: str,
    currency: str,
    review: str,
    *,
    limit: int = 50,
) -> SearchQuery:
    """A SearchQuery from the form; a bad filter raises InvalidRequest naming it."""
    from retrieval.models import SearchQuery

    values: dict[str, Any] = {
        "q": (q or "").strip(),
        "mode": mode or "hybrid",
        "vendor": (vendor or "").strip() or None,
        "date_from": (date_from or "").strip() or None,
        "date_to": (date_to or "").strip() or None,
        "min_total": (min_total or "").replace(",", "").strip() or None,
        "max_total": (max_total or "").replace(",", "").strip() or None,
        "currency": (currency or "").strip().upper() or None,
        "needs_review": {"needs review": True, "checked": False}.get(review or "any"),
        "limit": limit,
    }
    try:
        return SearchQuery(**values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error.get("loc") else "filter"
            hint = " (use YYYY-MM-DD)" if name.startswith("date") else " (a number)" if "total" in name else ""
            problems.append(f"{_FILTER_LABELS.get(name, name)}: {error['msg'].lower()}{hint}")
        raise InvalidRequest("Please check the filters: " + "; ".join(problems)) from None


def results_frame(hits: list[SearchHit]) -> pd.DataFrame:
    """Search hits as table rows."""
    rows = [
        [
            False,
            hit.vendor or "—",
            hit.invoice_number or "—",
            hit.invoice_date.isoformat() if hit.invoice_date else "—",
            money(hit.total, hit.currency),
            ", ".join(hit.matched),
            (hit.snippet or "").replace("\n", " ")[:220],
        ]
        for hit in hits
    ]
    return pd.DataFrame(rows, columns=RESULT_HEADERS)


def fresh_rows(ctx: PageServices, frame: pd.DataFrame | None, ids: list[int]) -> pd.DataFrame | None:
    """The results table with each ticked row's vendor, number, date and total read again from the history."""
    if frame is None or not len(frame):
        return frame
    picked = set(bulk.picked_ids(frame, ids))
    frame = frame.copy()
    service = ctx.service()
    for row, invoice_id in enumerate(ids[: len(frame)]):
        if invoice_id not in picked:
            continue
        record = service.get_invoice(invoice_id)
        frame.iloc[row, 1:5] = [
            record.vendor or "—",
            record.invoice_number or "—",
            record.invoice_date.isoformat() if record.invoice_date else "—",
            money(record.total, record.currency),
        ]
    return frame


def build_search_tab(ctx: PageServices, extract: ExtractTab, tabs: gr.Tabs, extract_tab_id: str) -> None:
    """Lay out the tab and wire its events."""
    ids = gr.State([])
    with gr.Row(equal_height=True):
        q = gr.Textbox(
            label="Search invoices",
            placeholder="Words, a vendor (typos are fine), an invoice number or an amount…",
            scale=6,
            elem_id="search-query",
        )
        mode = gr.Radio(["hybrid", "keyword", "semantic"], value="hybrid", label="Mode", scale=2, elem_id="search-mode")
        go = gr.Button("Search", variant="primary", scale=1, elem_id="search-btn")
    with gr.Accordion("Filters", open=True), gr.Row():
        vendor = gr.Textbox(label="Vendor", placeholder="any spelling", elem_id="filter-vendor")
        date_from = gr.Textbox(label="From date", placeholder="YYYY-MM-DD", elem_id="filter-from")
        date_to = gr.Textbox(label="To date", placeholder="YYYY-MM-DD", elem_id="filter-to")
        min_total = gr.Textbox(label="Min total", placeholder="0.00", elem_id="filter-min")
        max_total = gr.Textbox(label="Max total", placeholder="0.00", elem_id="filter-max")
        currency = gr.Textbox(label="Currency", placeholder="EUR", max_length=3, elem_id="filter-currency")
        review = gr.Dropdown(REVIEW_CHOICES, value="any", label="Review state", elem_id="filter-review")
    status = gr.HTML(
        "<div class='muted'>Type a query or set a filter, then Search.</div>", label="Status", elem_id="search-status"
    )
    results = gr.Dataframe(
        pd.DataFrame(columns=RESULT_HEADERS),
        headers=RESULT_HEADERS,
        datatype=["bool", "str", "str", "str", "str", "str", "str"],
        label="Results (click a row to open the invoice)",
        interactive=True,
        static_columns=list(range(1, len(RESULT_HEADERS))),
        wrap=True,
        max_height=640,
        column_widths=["6%", "17%", "12%", "10%", "11%", "11%", "33%"],
        elem_id="search-results",
    )
    actions = BulkActions("search")
    inputs = [q, mode, vendor, date_from, date_to, min_total, max_total, currency, review]

    @guarded
    def on_search(*values: str) -> Updates:
        query = build_query(*values)
        if not query.q and not any(
            getattr(query, k) is not None
            for k in ("vendor", "date_from", "date_to", "min_total", "max_total", "currency", "needs_review")
        ):
            raise InvalidRequest("Type something to search for, or set at least one filter.")
        found = ctx.service().search_page(query)
        hits = found.hits
        shown = f" · showing the first {len(hits)}" if found.total > len(hits) else ""
        text = (
            f"<div class='muted'>{found.total} invoice{'s' if found.total != 1 else ''} found"
            f"{' for “' + html.escape(query.q) + '”' if query.q else ''} · {query.mode}{shown}</div>"
            if hits
            else f"<div class='alert info' id='no-match'><b>{html.escape(found.message or 'No invoices match.')}</b>"
            " Try fewer words, another mode or wider filters.</div>"
        )
        return {status: text, results: results_frame(hits), ids: [h.invoice_id for h in hits]}

    go.click(on_search, inputs, [status, results, ids], api_name="search")
    q.submit(on_search, inputs, [status, results, ids], api_visibility="undocumented")
    # After a bulk approve the results stay as they are (they show no review state).
    wire_bulk(
        ctx,
        actions,
        results,
        ids,
        lambda: {},
        [status, results, ids],
        after_reread=lambda frame, id_list: {results: fresh_rows(ctx, frame, id_list), ids: id_list},
    )

    on_open = row_opener(extract, tabs, extract_tab_id, tick_column=True)
    results.select(on_open, [extract.state, ids], [tabs, *extract.outputs], api_visibility="undocumented")
