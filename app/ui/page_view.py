"""The page viewer's payload for the open invoice: picture, boxes and words, page label, page buttons."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import gradio as gr

from app.ui.forms import FORM_FIELDS
from app.ui.handlers import Updates, guarded
from app.ui.pages import page_numbers, page_viewer
from app.ui.session import ReviewSession
from app.ui.viewer import viewer_html
from app.ui.workspace import EMPTY_PAGE

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.ui.context import PageServices
    from app.ui.extract_tab import ExtractTab
    from app.ui.workspace import Workspace
    from retrieval.models import InvoiceRecord


def page_updates(ctx: PageServices, ws: Workspace, session: ReviewSession, record: InvoiceRecord | None) -> Updates:
    """The viewer for the session's page (clamped to the invoice's pages), its label and the page buttons."""
    if record is None:
        doc = session.current_doc
        message = "This file could not be read." if doc is not None and doc.error else EMPTY_PAGE
        return {
            ws.image: viewer_html(None, {}, 1, [], message=message),
            ws.page_label: "<div class='page-label muted'>No page</div>",
            ws.prev_page: gr.Button(interactive=False),
            ws.next_page: gr.Button(interactive=False),
        }
    numbers = page_numbers(record)
    if session.page not in numbers:
        session.page = numbers[0]
    position = numbers.index(session.page)
    return {
        ws.image: page_viewer(ctx.service(), ctx.settings, record, session.page, session.selected_field),
        ws.page_label: f"<div class='page-label'>Page <b>{position + 1}</b> of {len(numbers)}</div>",
        ws.prev_page: gr.Button(interactive=position > 0),
        ws.next_page: gr.Button(interactive=position < len(numbers) - 1),
    }


def turn_page(session: ReviewSession, record: InvoiceRecord, step: int) -> None:
    """Move the session `step` pages on within the invoice's pages (stopping at either end)."""
    numbers = page_numbers(record)
    current = session.page if session.page in numbers else numbers[0]
    position = max(0, min(len(numbers) - 1, numbers.index(current) + step))
    session.page = numbers[position]


def select_field(session: ReviewSession, record: InvoiceRecord, name: str) -> bool:
    """Select a field; True when its value sits on another page of the invoice, which the session then shows."""
    session.selected_field = name
    info = record.result.fields.get(name)
    if info is None or info.page not in page_numbers(record) or info.page == session.page:
        return False
    session.page = info.page
    return True


def wire_page_events(tab: ExtractTab) -> None:
    """Previous / next page, and a field's focus showing the page its value was read on."""
    ctx, ws = tab.ctx, tab.ws
    outputs = [tab.state, *ws.page_outputs]

    @guarded
    def on_page(step: int, session: ReviewSession) -> Updates:
        record = tab.record(session)
        if record is not None:
            turn_page(session, record, step)
        return {tab.state: session, **page_updates(ctx, ws, session, record)}

    for button, step in ((ws.prev_page, -1), (ws.next_page, 1)):
        button.click(
            functools.partial(on_page, step),
            [tab.state],
            outputs,
            show_progress="hidden",
            api_visibility="undocumented",
        )

    def focus_handler(name: str) -> Callable[[ReviewSession], Any]:
        @guarded
        def on_focus(session: ReviewSession) -> Updates:
            record = tab.record(session)
            if record is None or not select_field(session, record, name):
                # The browser highlights a box on the page shown itself; nothing to send.
                return {tab.state: session}
            return {tab.state: session, **page_updates(ctx, ws, session, record)}

        return on_focus

    for spec in FORM_FIELDS:
        ws.fields[spec.name].focus(
            focus_handler(spec.name),
            [tab.state],
            outputs,
            show_progress="hidden",
            queue=False,
            api_visibility="undocumented",
        )
