"""The Review queue tab: invoices that need review, oldest first; open one, or approve and export several."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import gradio as gr
import pandas as pd

from app.ui import bulk
from app.ui.bulk_actions import BulkActions, wire_bulk
from app.ui.forms import money
from app.ui.handlers import Updates, guarded
from app.ui.navigation import row_opener

if TYPE_CHECKING:
    from gradio.blocks import Block

    from app.ui.context import PageServices
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


@dataclass
class QueueTab:
    """The tab's components; `refresh()` reads the queue again (on opening the tab, say)."""

    ctx: PageServices
    status: gr.HTML
    table: gr.Dataframe
    ids: gr.State  # the invoice id of each table row

    @property
    def outputs(self) -> list[Block]:
        """What a refresh updates."""
        return [self.status, self.table, self.ids]

    def refresh(self) -> Updates:
        """The queue read from the history (so it survives a reload)."""
        status, frame, ids = queue_view(self.ctx)
        return {self.status: status, self.table: frame, self.ids: ids}


def queue_view(ctx: PageServices) -> tuple[str, pd.DataFrame, list[int]]:
    """The queue's status line, table and ids, read from the history."""
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


def build_queue_tab(ctx: PageServices, extract: ExtractTab, tabs: gr.Tabs, extract_tab_id: str) -> QueueTab:
    """Lay out the tab and wire its events."""
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
    actions = BulkActions("queue")
    tab = QueueTab(ctx, status, table, ids)
    refresh.click(guarded(tab.refresh), None, tab.outputs, api_name="review_queue")
    wire_bulk(ctx, actions, table, ids, tab.refresh, tab.outputs)

    on_open = row_opener(extract, tabs, extract_tab_id, tick_column=True)
    table.select(on_open, [extract.state, ids], [tabs, *extract.outputs], api_visibility="undocumented")
    return tab
