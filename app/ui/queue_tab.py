"""The Review queue tab: invoices that need review, oldest first; open one, or approve and export several."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from app.ui import bulk
from app.ui.context import guarded, who
from app.ui.forms import money
from utils.errors import Forbidden

if TYPE_CHECKING:
    from app.ui.context import UiContext
    from app.ui.extract_tab import ExtractTab
    from retrieval.models import InvoiceSummary

QUEUE_TAB_ID = "queue"
QUEUE_HEADERS = [bulk.SELECT, "Stored", "Vendor", "Number", "Date", "Total", "File"]


def queue_frame(items: list[InvoiceSummary]) -> pd.DataFrame:
    """Queue rows, a tick box in front of each."""
    rows = [
        [
            False,
            i.created_at.strftime("%Y-%m-%d %H:%M") if i.created_at else "—",
            i.vendor or "—",
            i.invoice_number or "—",
            i.invoice_date.isoformat() if i.invoice_date else "—",
            money(i.total, i.currency),
            i.filename or "—",
        ]
        for i in items
    ]
    return pd.DataFrame(rows, columns=QUEUE_HEADERS)


def queue_view(ctx: UiContext) -> tuple[str, pd.DataFrame, list[int]]:
    """The queue's status line, table and ids, read from the history (so it survives a reload)."""
    page = ctx.service().review_queue()
    if not page.total:
        status = "<div class='alert ok' id='queue-empty'><b>The review queue is empty.</b> Nothing needs review.</div>"
    else:
        more = f" (the oldest {len(page.items)} shown)" if page.total > len(page.items) else ""
        status = (
            f"<div class='muted' id='queue-count'><b>{page.total}</b> invoice{'s' if page.total != 1 else ''} "
            f"need{'s' if page.total == 1 else ''} review, oldest first{more}. Click a row to open it; "
            "“Approve and next” in the workspace then opens the next one.</div>"
        )
    return status, queue_frame(page.items), [i.id for i in page.items]


def build_queue_tab(ctx: UiContext, extract: ExtractTab, tabs: gr.Tabs, extract_tab_id: str) -> Any:
    """Lay out the tab and wire its events; returns the handler that refreshes it and its outputs."""
    ids = gr.State([])
    with gr.Row(equal_height=True):
        status = gr.HTML("<div class='muted'>Loading the queue…</div>", elem_id="queue-status")
        refresh = gr.Button("Refresh", size="sm", scale=0, min_width=100, elem_id="queue-refresh")
    table = gr.Dataframe(
        queue_frame([]),
        headers=QUEUE_HEADERS,
        datatype=["bool", "str", "str", "str", "str", "str", "str"],
        interactive=True,
        static_columns=list(range(1, len(QUEUE_HEADERS))),
        wrap=True,
        max_height=560,
        column_widths=["7%", "14%", "24%", "15%", "11%", "13%", "16%"],
        label="Needs review (tick rows for the actions below; click a row to open it)",
        elem_id="queue-table",
    )
    bulk_row = build_bulk_actions("queue")
    outputs = [status, table, ids]

    @guarded
    def on_refresh() -> list[Any]:
        return list(queue_view(ctx))

    refresh.click(on_refresh, None, outputs, api_name="review_queue")
    wire_bulk(ctx, bulk_row, table, ids, on_refresh, outputs)

    on_open = extract.row_opener(extract_tab_id, tick_column=True)
    table.select(on_open, [extract.state, ids], [tabs, *extract.open_outputs], api_visibility="undocumented")
    return on_refresh, outputs


class BulkActions:
    """The buttons and the download of one list's bulk actions."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        with gr.Row(elem_classes=["bulk-actions"]):
            self.select_all = gr.Button("Select all / none", size="sm", elem_id=f"{prefix}-select-all")
            self.approve = gr.Button("Approve selected", size="sm", variant="primary", elem_id=f"{prefix}-approve")
            self.export = gr.Button("Export selected (CSV)", size="sm", elem_id=f"{prefix}-export")
            self.download = gr.DownloadButton(
                "Download the export", size="sm", visible=False, elem_id=f"{prefix}-download"
            )
        with gr.Row(elem_classes=["bulk-actions", "reread-row"], equal_height=True):
            with gr.Column(scale=3, min_width=300):
                gr.HTML(
                    "<div class='muted reread-hint'>Re-read the ticked invoices with the chosen engine and what "
                    "the history knows of their vendors; every human correction is kept.</div>"
                )
            self.engine = gr.Dropdown(
                choices=bulk.reread_engine_choices(),
                value=bulk.DEFAULT_ENGINE,
                label="Re-read with",
                show_label=False,
                container=False,
                scale=1,
                min_width=180,
                elem_id=f"{prefix}-reread-engine",
            )
            self.reread = gr.Button("Re-read selected", size="sm", scale=1, elem_id=f"{prefix}-reread")
        self.note = gr.HTML("", elem_id=f"{prefix}-bulk-note")


def build_bulk_actions(prefix: str) -> BulkActions:
    """Lay out a list's bulk action buttons."""
    return BulkActions(prefix)


def wire_bulk(
    ctx: UiContext,
    actions: BulkActions,
    table: gr.Dataframe,
    ids: gr.State,
    refresh: Any,
    outputs: list[Any],
    after_reread: Any = None,
) -> None:
    """Wire select-all, approve, export and re-read of the ticked rows of `table`.

    `refresh()` gives `outputs` after an approve; `after_reread(frame, ids)` gives them after a re-read
    (default: `refresh()`).
    """

    @guarded
    def on_select_all(frame, id_list):
        return bulk.select_all(frame, id_list)

    actions.select_all.click(on_select_all, [table, ids], [table], api_visibility="undocumented")

    @guarded
    def on_approve(request: gr.Request, frame, id_list):
        if ctx.read_only(request):
            raise Forbidden("this login is read-only: it may search and look, not approve invoices")
        picked = bulk.picked_ids(frame, id_list)
        if not picked:
            return ["<div class='alert info'>Tick one or more rows first.</div>", *[gr.update() for _ in outputs]]
        count = bulk.approve_all(ctx, picked, who(request))
        note = f"<div class='alert ok'>Approved {count} invoice{'s' if count != 1 else ''}.</div>"
        return [note, *refresh()]

    actions.approve.click(on_approve, [table, ids], [actions.note, *outputs], api_visibility="undocumented")

    @guarded
    def on_export(frame, id_list):
        picked = bulk.picked_ids(frame, id_list)
        if not picked:
            return ["<div class='alert info'>Tick one or more rows first.</div>", gr.DownloadButton(visible=False)]
        path = bulk.export_csv(ctx, picked)
        note = f"<div class='muted'>{len(picked)} invoice{'s' if len(picked) != 1 else ''} exported.</div>"
        return [note, gr.DownloadButton(value=path, visible=True)]

    actions.export.click(on_export, [table, ids], [actions.note, actions.download], api_visibility="undocumented")

    @guarded
    def on_reread(request: gr.Request, frame, id_list, engine, progress=gr.Progress()):
        if ctx.read_only(request):
            raise Forbidden("this login is read-only: it may search and look, not re-read invoices")
        picked = bulk.picked_ids(frame, id_list)
        if not picked:
            return ["<div class='alert info'>Tick one or more rows first.</div>", *[gr.update() for _ in outputs]]

        def on_each(done: int, total: int) -> None:
            progress((done, total), desc=f"Reading invoice {done + 1} of {total} again", unit="invoices")

        report = bulk.reread_all(ctx, picked, engine, who(request), on_each)
        after = after_reread(frame, id_list) if after_reread is not None else refresh()
        return [bulk.reread_note(report), *after]

    actions.reread.click(
        on_reread,
        [table, ids, actions.engine],
        [actions.note, *outputs],
        show_progress="full",
        show_progress_on=[actions.note],
        concurrency_limit=1,
        api_name=f"{actions.prefix}_reread",
    )


def queue_note(total: int) -> str:
    """How the review backlog reads where it links to the queue."""
    return html.escape(f"Open the review queue ({total})")
