"""Moving between invoices: the session's document list, Approve and next through the review queue,
the vendor panel's rows, and rows of other tabs' tables opening in the Extract tab."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr

from app.ui.edits import edit_inputs, save_and_approve
from app.ui.handlers import Updates, clicked_row, guarded
from app.ui.session import ReviewSession

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.ui.extract_tab import ExtractTab


def wire_navigation(tab: ExtractTab) -> None:
    """The document list, Approve and next, and the vendor panel's recent and similar invoices."""
    ctx = tab.ctx

    @guarded
    def on_select(key: str | None, session: ReviewSession) -> Any:
        if key is None or key == session.current:
            return {tab.state: session}
        doc = session.doc(key)
        record = None
        if doc is not None and doc.invoice_id is not None:
            record = ctx.service().get_invoice(doc.invoice_id)
        session.select(key, record)
        updates = tab.show(session, record)
        del updates[tab.doc_list]  # the person just picked it there
        return updates

    tab.doc_list.input(on_select, [tab.doc_list, tab.state], tab.outputs, api_name="select_document")

    @guarded
    def on_approve_next(request: gr.Request, session: ReviewSession, *values: Any) -> Updates:
        record, saved = save_and_approve(tab, request, session, values)
        session.add_invoice(record)
        following = ctx.service().review_queue(limit=1, exclude=record.id)
        if not following.items:
            gr.Info(f"Invoice #{record.id} approved{saved}. The review queue is empty.", duration=5)
            return tab.show(session, record)
        gr.Info(f"Invoice #{record.id} approved{saved}; {following.total} left to review.", duration=4)
        return tab.open_invoice(session, following.items[0].id)

    tab.ws.approve_next.click(on_approve_next, edit_inputs(tab), tab.outputs, api_name="approve_and_next")

    def open_linked(kind: str) -> Callable[..., Any]:
        @guarded
        def on_open(session: ReviewSession, evt: gr.SelectData) -> Any:
            ids = session.linked(kind)
            row = clicked_row(evt)
            if row is None or row >= len(ids) or (invoice_id := ids[row]) is None:
                return {tab.state: session}
            return tab.open_invoice(session, invoice_id)

        return on_open

    panel = tab.ws.vendor
    panel.recent.select(open_linked("recent"), [tab.state], tab.outputs, api_visibility="undocumented")
    panel.similar.select(open_linked("similar"), [tab.state], tab.outputs, api_visibility="undocumented")


def row_opener(tab: ExtractTab, tabs: gr.Tabs, extract_tab_id: str, tick_column: bool = False) -> Callable[..., Any]:
    """A select handler for a results table whose rows are invoices: open the clicked one in the Extract tab.

    Its inputs are the tab's state and the table's invoice ids; its outputs `[tabs, *tab.outputs]`. With
    `tick_column`, a click in the first column ticks the row for bulk actions and opens nothing.
    """

    @guarded
    def on_open(session: ReviewSession, id_list: list[int], evt: gr.SelectData) -> Any:
        row = clicked_row(evt)
        column = evt.index[1] if isinstance(evt.index, (list, tuple)) and len(evt.index) > 1 else None
        if row is None or row >= len(id_list) or (tick_column and column == 0):
            return {tab.state: session}
        return {tabs: gr.Tabs(selected=extract_tab_id), **tab.open_invoice(session, id_list[row])}

    return on_open
