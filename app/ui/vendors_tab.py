"""The Vendors tab: look a vendor up by any spelling; profile, aliases, spend per month, invoices;
rename, merge and re-read a vendor's invoices with what the history knows."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from app.ui import bulk
from app.ui.charts import bar_svg
from app.ui.forms import money
from app.ui.handlers import Updates, guarded, who
from app.ui.navigation import row_opener
from app.ui.vendor_panel import vendor_card, vendor_history
from utils.errors import InvalidRequest

if TYPE_CHECKING:
    from app.ui.context import PageServices
    from app.ui.extract_tab import ExtractTab
    from retrieval.models import InvoiceSummary, VendorPage, VendorProfile

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


def merge_choices(page: VendorPage, current: int | None) -> list[tuple[str, int]]:
    """The vendors another one can be merged into: every listed vendor but `current`, by name."""
    return [
        (f"{v.name} ({v.invoice_count} invoice{'s' if v.invoice_count != 1 else ''})", v.id)
        for v in page.items
        if v.id != current
    ]


def vendor_list_choices(page: VendorPage) -> list[tuple[str, int]]:
    """Every vendor of the list as a choice, with its invoice count and a mark where identifiers conflict."""
    return [
        (
            f"{v.name} ({v.invoice_count} invoice{'s' if v.invoice_count != 1 else ''})"
            + (" ⚠ shares an identifier" if v.conflicts else ""),
            v.id,
        )
        for v in page.items
    ]


def _note(text: str, kind: str = "ok") -> str:
    return f"<div class='alert {kind}' id='vendor-manage-result'>{text}</div>"


def build_vendors_tab(ctx: PageServices, extract: ExtractTab, tabs: gr.Tabs, extract_tab_id: str) -> None:
    """Lay out the tab and wire its events."""
    vendor_ids = gr.State([])
    invoice_ids = gr.State([])
    current = gr.State(None)
    with gr.Row(equal_height=True):
        name = gr.Textbox(
            label="Vendor",
            placeholder="Any spelling: 'acme gmbh', 'ACME', 'Acme Corp Ltd'…",
            scale=6,
            elem_id="vendor-q",
        )
        go = gr.Button("Look up", variant="primary", scale=1, elem_id="vendor-btn")
        everyone = gr.Button("All vendors", scale=1, elem_id="vendor-all-btn")
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
            with gr.Accordion("Manage this vendor", open=True, visible=False, elem_id="vendor-manage") as manage:
                gr.HTML(
                    "<div class='muted'>Renaming keeps the old name as an alias, so invoices that print it still "
                    "find this vendor. Merging moves this vendor's invoices, names and identifiers to the chosen "
                    "vendor and removes this one.</div>"
                )
                with gr.Row(equal_height=True):
                    new_name = gr.Textbox(label="Name", scale=3, elem_id="vendor-new-name")
                    rename = gr.Button("Rename", scale=1, min_width=120, elem_id="vendor-rename")
                with gr.Row(equal_height=True):
                    into = gr.Dropdown(choices=[], label="Merge this vendor into", scale=3, elem_id="vendor-merge-into")
                    merge = gr.Button("Merge", variant="stop", scale=1, min_width=120, elem_id="vendor-merge")
                reread = gr.Button(
                    "Re-read this vendor's invoices with what the history knows",
                    size="sm",
                    elem_id="vendor-reread",
                )
                manage_note = gr.HTML("", elem_id="vendor-manage-note")
    invoices = gr.Dataframe(
        pd.DataFrame(columns=INVOICE_HEADERS),
        label="Invoices (click a row to open)",
        interactive=False,
        wrap=True,
        max_height=520,
        elem_id="vendor-invoices",
    )

    shown = [card, chart, invoices, invoice_ids, current, manage, new_name, into]

    def show(vendor_id: int) -> Updates:
        service = ctx.service()
        profile = service.get_vendor(vendor_id)
        items = vendor_history(service, vendor_id)
        targets = merge_choices(service.list_vendors(limit=500), vendor_id)
        return {
            card: profile_html(profile),
            chart: spend_chart(profile),
            invoices: invoices_frame(items),
            invoice_ids: [i.id for i in items],
            current: vendor_id,
            manage: gr.Accordion(visible=True),
            new_name: gr.Textbox(value=profile.name),
            into: gr.Dropdown(choices=targets, value=None),
        }

    def nothing_shown(message: str) -> Updates:
        return {
            matches: gr.Radio(choices=[], visible=False),
            vendor_ids: [],
            card: message,
            chart: spend_chart(None),
            invoices: invoices_frame([]),
            invoice_ids: [],
            current: None,
            manage: gr.Accordion(visible=False),
            new_name: gr.Textbox(value=""),
            into: gr.Dropdown(choices=[], value=None),
            manage_note: "",
        }

    @guarded
    def on_lookup(text: str | None) -> Updates:
        if text is None or not text.strip():
            raise InvalidRequest("Type a vendor name (any spelling).")
        found = ctx.service().lookup_vendors(text.strip(), limit=8)
        if not found:
            return nothing_shown(f"<div class='alert info'>No vendor looks like “{html.escape(text)}”.</div>")
        choices = [(f"{p.name} ({p.invoice_count} invoices)", p.id) for p in found]
        radio = gr.Radio(choices=choices, value=found[0].id, visible=len(found) > 1, label="Matching vendors")
        return {matches: radio, vendor_ids: [p.id for p in found], **show(found[0].id), manage_note: ""}

    outputs = [matches, vendor_ids, *shown, manage_note]
    go.click(on_lookup, [name], outputs, api_name="vendor_lookup")
    name.submit(on_lookup, [name], outputs, api_visibility="undocumented")

    @guarded
    def on_all() -> Updates:
        page = ctx.service().list_vendors(limit=500)
        if not page.items:
            return nothing_shown("<div class='alert info'>No vendors yet: they come with the first invoices.</div>")
        more = f" (the first {len(page.items)} of {page.total})" if page.total > len(page.items) else ""
        radio = gr.Radio(
            choices=vendor_list_choices(page),
            value=page.items[0].id,
            visible=True,
            label=f"All vendors, by name{more}",
        )
        return {matches: radio, vendor_ids: [v.id for v in page.items], **show(page.items[0].id), manage_note: ""}

    everyone.click(on_all, None, outputs, api_name="vendor_list")

    @guarded
    def on_pick(vendor_id: Any) -> Any:
        if vendor_id is None:
            return gr.skip()
        return show(int(vendor_id))

    matches.input(on_pick, [matches], shown, api_visibility="undocumented")

    write = "change vendors"

    @guarded
    def on_rename(request: gr.Request, vendor_id: Any, text: str | None) -> Updates:
        ctx.require_write(request, write)
        if vendor_id is None:
            raise InvalidRequest("Look a vendor up first.")
        before = ctx.service().get_vendor(int(vendor_id)).name
        profile = ctx.service().rename_vendor(int(vendor_id), (text or "").strip(), who(request))
        if profile.name == before:
            note = _note(f"The vendor is already called “{html.escape(before)}”.", "info")
        else:
            note = _note(
                f"Renamed “{html.escape(before)}” to <b>{html.escape(profile.name)}</b>; the old name stays an alias."
            )
        return {manage_note: note, **show(profile.id)}

    rename.click(
        on_rename, [current, new_name], [manage_note, *shown], api_name="vendor_rename", show_progress="hidden"
    )

    @guarded
    def on_merge(request: gr.Request, vendor_id: Any, target: Any) -> Updates:
        ctx.require_write(request, write)
        if vendor_id is None:
            raise InvalidRequest("Look a vendor up first.")
        if target is None:
            raise InvalidRequest("Choose the vendor to merge this one into.")
        source = ctx.service().get_vendor(int(vendor_id))
        profile = ctx.service().merge_vendors(int(vendor_id), int(target), who(request))
        note = _note(
            f"Merged “{html.escape(source.name)}” ({source.invoice_count} invoice"
            f"{'s' if source.invoice_count != 1 else ''}) into <b>{html.escape(profile.name)}</b>."
        )
        radio = gr.Radio(choices=[(f"{profile.name} ({profile.invoice_count} invoices)", profile.id)], value=profile.id)
        return {manage_note: note, matches: radio, vendor_ids: [profile.id], **show(profile.id)}

    merge.click(
        on_merge,
        [current, into],
        [manage_note, matches, vendor_ids, *shown],
        api_name="vendor_merge",
        show_progress="hidden",
    )

    @guarded
    def on_reread(request: gr.Request, vendor_id: Any, progress=gr.Progress()) -> Updates:
        ctx.require_write(request, write)
        if vendor_id is None:
            raise InvalidRequest("Look a vendor up first.")
        service = ctx.service()
        from retrieval.models import SearchFilters

        page = service.list_invoices(SearchFilters(), limit=100_000, vendor_id=int(vendor_id))
        ids = sorted(i.id for i in page.items)
        if not ids:
            return {manage_note: _note("This vendor has no invoices to read again.", "info"), **show(int(vendor_id))}

        def on_each(done: int, total: int) -> None:
            progress((done, total), desc=f"Reading invoice {done + 1} of {total} again", unit="invoices")

        report = bulk.reread_all(ctx, ids, None, who(request), on_each)
        return {manage_note: bulk.reread_note(report), **show(int(vendor_id))}

    reread.click(
        on_reread,
        [current],
        [manage_note, *shown],
        api_name="vendor_reread",
        show_progress="full",
        show_progress_on=[manage_note],
        concurrency_limit=1,
    )

    on_open = row_opener(extract, tabs, extract_tab_id)
    invoices.select(on_open, [extract.state, invoice_ids], [tabs, *extract.outputs], api_visibility="undocumented")
