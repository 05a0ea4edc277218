"""Corrections on the Extract tab: the form's edits stored (checked again, audited, re-indexed), and Approve."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from app.ui.forms import changes_from_form
from app.ui.handlers import Updates, guarded, who
from app.ui.session import ReviewSession

if TYPE_CHECKING:
    from app.ui.extract_tab import ExtractTab
    from retrieval.models import InvoiceRecord

WRITE = "add or change invoices"


def save_corrections(
    tab: ExtractTab, session: ReviewSession, values: list[str], lines: pd.DataFrame | None, who_: str
) -> tuple[InvoiceRecord, int]:
    """Store the edits made in the form; returns the updated record and how many fields changed."""
    record = tab.record(session)
    if record is None:
        raise gr.Error("Open an invoice first.")
    changes = changes_from_form(record.result.invoice, values, lines)
    if not changes:
        return record, 0
    updated = tab.ctx.service().correct_invoice(record.id, changes, who_)
    return updated, len(changes)


def save_and_approve(
    tab: ExtractTab, request: gr.Request, session: ReviewSession, values: tuple[Any, ...]
) -> tuple[InvoiceRecord, str]:
    """Store the form's edits, then approve the invoice; returns it and how many edits it took, in words."""
    ctx = tab.ctx
    *fields, lines = values
    ctx.require_write(request, WRITE)
    record, count = save_corrections(tab, session, list(fields), lines, who(request))
    record = ctx.service().approve_invoice(record.id, who(request))
    return record, f" with {count} correction{'s' if count != 1 else ''}" if count else ""


def edit_inputs(tab: ExtractTab) -> list[Any]:
    """What an edit event reads: the session, then every field's text in FORM_FIELDS order, then the line items."""
    return [tab.state, *tab.ws.field_boxes, tab.ws.lines]


def wire_edits(tab: ExtractTab) -> None:
    """Save corrections and Approve; both keep the page shown."""
    ctx = tab.ctx

    @guarded
    def on_save(request: gr.Request, session: ReviewSession, *values: Any) -> Updates:
        *fields, lines = values
        ctx.require_write(request, WRITE)
        record, count = save_corrections(tab, session, list(fields), lines, who(request))
        if count:
            gr.Info(f"Saved {count} correction{'s' if count != 1 else ''}: checked again and re-indexed.", duration=4)
        else:
            gr.Info("Nothing to save: no field was changed.", duration=4)
        session.add_invoice(record)  # back to the invoice's first page, as it always did
        return tab.show(session, record)

    tab.ws.save.click(on_save, edit_inputs(tab), tab.outputs, api_name="save")

    @guarded
    def on_approve(request: gr.Request, session: ReviewSession, *values: Any) -> Updates:
        page = session.page
        record, saved = save_and_approve(tab, request, session, values)
        gr.Info(f"Invoice #{record.id} approved{saved}.", duration=4)
        session.add_invoice(record)
        session.page = page
        return tab.show(session, record)

    tab.ws.approve.click(on_approve, edit_inputs(tab), tab.outputs, api_name="approve")
