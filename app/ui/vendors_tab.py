"""The Vendors tab: look a vendor up by any spelling; profile, aliases, spend per month, invoices."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import gradio as gr
import pandas as pd

from app.ui.charts import bar_svg
from app.ui.context import guarded
from app.ui.forms import money
from app.ui.vendor_panel import vendor_card, vendor_history
from utils.errors import InvalidRequest

if TYPE_CHECKING:
    from app.ui.context import UiContext
    from app.ui.extract_tab import ExtractTab
    from retrieval.models import InvoiceSummary, VendorProfile

INVOICE_HEADERS = ["Date", "Number", "Total", "Status", "Review", "File"]


def spend_chart(profile: VendorProfile | None) -> str:
    """Spend per month, one bar series per currency."""
    months = sorted({m.month for m in (profile.spend_per_month if profile else [])})
    series: dict[str, list[float]] = {}
    for item in profile.spend_per_month if profile else []:
        values = series.setdefault(item.currency or "no currency", [0.0] * len(months))
        values[months.index(item.month)] += float(item.total)
    return bar_svg(months, series, "Spend per month", width=620, height=260, empty_text="No spend recorded yet.")


def invoices_frame(items: list[InvoiceSummary]) -> pd.DataFrame:
    """A vendor's invoices as table rows."""
    rows = [
        [
            i.invoice_date.isoformat() if i.invoice_date else "—",
            i.invoice_number or "—",
            money(i.total, i.currency),
            i.status,
            "needs review" if i.needs_review else "ok",
            i.filename or "",
        ]
        for i in items
    ]
    return pd.DataFrame(rows, columns=INVOICE_HEADERS)


def profile_html(profile: VendorProfile) -> str:
    """The vendor card with every alias and the lookup's match."""
    card = vendor_card(profile, None, {})
    aliases = ", ".join(html.escape(a) for a in profile.aliases) or "none"
    match = ""
    if profile.matched and profile.score is not None:
        match = f" · matched “{html.escape(profile.matched)}” ({profile.score:.0%})"
    return f"{card}<div class='muted'>Aliases: {aliases}{match}</div>"


def build_vendors_tab(ctx: UiContext, extract: ExtractTab, tabs: gr.Tabs, extract_tab_id: str) -> None:
    """Lay out the tab and wire its events."""
    vendor_ids = gr.State([])
    invoice_ids = gr.State([])
    with gr.Row(equal_height=True):
        name = gr.Textbox(
            label="Vendor",
            placeholder="Any spelling: 'acme gmbh', 'ACME', 'Acme Corp Ltd'…",
            scale=6,
            elem_id="vendor-q",
        )
        go = gr.Button("Look up", variant="primary", scale=1, elem_id="vendor-btn")
    matches = gr.Radio(choices=[], label="Matching vendors", visible=False, elem_id="vendor-matches")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            card = gr.HTML(
                "<div class='empty-state'>Look a vendor up to see its profile.</div>",
                label="Profile",
                elem_id="vendor-profile",
            )
        with gr.Column(scale=3, min_width=420):
            chart = gr.HTML(spend_chart(None), label="Spend per month", elem_id="vendor-spend")
    invoices = gr.Dataframe(
        pd.DataFrame(columns=INVOICE_HEADERS),
        label="Invoices (click a row to open)",
        interactive=False,
        wrap=True,
        max_height=520,
        elem_id="vendor-invoices",
    )

    def show(vendor_id: int) -> list:
        service = ctx.service()
        profile = service.get_vendor(vendor_id)
        items = vendor_history(service, vendor_id)
        return [profile_html(profile), spend_chart(profile), invoices_frame(items), [i.id for i in items]]

    @guarded
    def on_lookup(text):
        if not (text or "").strip():
            raise InvalidRequest("Type a vendor name (any spelling).")
        found = ctx.service().lookup_vendors(text.strip(), limit=8)
        if not found:
            return [
                gr.Radio(choices=[], visible=False),
                [],
                f"<div class='alert info'>No vendor looks like “{html.escape(text)}”.</div>",
                spend_chart(None),
                invoices_frame([]),
                [],
            ]
        choices = [(f"{p.name} ({p.invoice_count} invoices)", p.id) for p in found]
        radio = gr.Radio(choices=choices, value=found[0].id, visible=len(found) > 1)
        return [radio, [p.id for p in found], *show(found[0].id)]

    outputs = [matches, vendor_ids, card, chart, invoices, invoice_ids]
    go.click(on_lookup, [name], outputs, api_name="vendor_lookup")
    name.submit(on_lookup, [name], outputs, api_visibility="undocumented")

    @guarded
    def on_pick(vendor_id):
        if vendor_id is None:
            return [gr.update() for _ in range(4)]
        return show(int(vendor_id))

    matches.input(on_pick, [matches], [card, chart, invoices, invoice_ids], api_visibility="undocumented")

    on_open = extract.row_opener(extract_tab_id)
    invoices.select(on_open, [extract.state, invoice_ids], [tabs, *extract.open_outputs], api_visibility="undocumented")
