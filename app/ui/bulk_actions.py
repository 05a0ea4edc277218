"""A list's bulk actions (search results, the review queue): tick rows, then approve, export or re-read them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr
import pandas as pd

from app.ui import bulk
from app.ui.handlers import Updates, guarded, who

if TYPE_CHECKING:
    from collections.abc import Callable

    from gradio.blocks import Block

    from app.ui.context import PageServices


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


def wire_bulk(
    ctx: PageServices,
    actions: BulkActions,
    table: gr.Dataframe,
    ids: gr.State,
    refresh: Callable[[], Updates],
    outputs: list[Block],
    after_reread: Callable[[pd.DataFrame | None, list[int]], Updates] | None = None,
) -> None:
    """Wire select-all, approve, export and re-read of the ticked rows of `table`.

    `refresh()` updates `outputs` after an approve; `after_reread(frame, ids)` after a re-read (default: `refresh()`).
    """
    tick_first = "<div class='alert info'>Tick one or more rows first.</div>"

    @guarded
    def on_select_all(frame: pd.DataFrame | None, id_list: list[int]) -> Updates:
        return {table: bulk.select_all(frame, id_list)}

    actions.select_all.click(on_select_all, [table, ids], [table], api_visibility="undocumented")

    @guarded
    def on_approve(request: gr.Request, frame: pd.DataFrame | None, id_list: list[int]) -> Updates:
        ctx.require_write(request, "approve invoices")
        picked = bulk.picked_ids(frame, id_list)
        if not picked:
            return {actions.note: tick_first}
        count = bulk.approve_all(ctx, picked, who(request))
        return {actions.note: f"<div class='alert ok'>Approved {count} invoice{'s' if count != 1 else ''}.</div>"} | (
            refresh()
        )

    actions.approve.click(on_approve, [table, ids], [actions.note, *outputs], api_visibility="undocumented")

    @guarded
    def on_export(frame: pd.DataFrame | None, id_list: list[int]) -> Updates:
        picked = bulk.picked_ids(frame, id_list)
        if not picked:
            return {actions.note: tick_first, actions.download: gr.DownloadButton(visible=False)}
        path = bulk.export_csv(ctx, picked)
        note = f"<div class='muted'>{len(picked)} invoice{'s' if len(picked) != 1 else ''} exported.</div>"
        return {actions.note: note, actions.download: gr.DownloadButton(value=path, visible=True)}

    actions.export.click(on_export, [table, ids], [actions.note, actions.download], api_visibility="undocumented")

    @guarded
    def on_reread(
        request: gr.Request, frame: pd.DataFrame | None, id_list: list[int], engine: str | None, progress=gr.Progress()
    ) -> Updates:
        ctx.require_write(request, "re-read invoices")
        picked = bulk.picked_ids(frame, id_list)
        if not picked:
            return {actions.note: tick_first}

        def on_each(done: int, total: int) -> None:
            progress((done, total), desc=f"Reading invoice {done + 1} of {total} again", unit="invoices")

        report = bulk.reread_all(ctx, picked, engine, who(request), on_each)
        after = after_reread(frame, id_list) if after_reread is not None else refresh()
        return {actions.note: bulk.reread_note(report)} | after

    actions.reread.click(
        on_reread,
        [table, ids, actions.engine],
        [actions.note, *outputs],
        show_progress="full",
        show_progress_on=[actions.note],
        concurrency_limit=1,
        api_name=f"{actions.prefix}_reread",
    )
