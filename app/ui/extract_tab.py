"""The Extract tab: drop files, watch them being read, review and correct each one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import gradio as gr

from app.ui import edits, navigation, page_view, reading
from app.ui.invoice_view import show_invoice
from app.ui.session import ReviewSession
from app.ui.uploads import UploadedFiles
from app.ui.workspace import build_workspace
from extraction.engines.registry import engine_names

if TYPE_CHECKING:
    from gradio.blocks import Block

    from app.ui.context import PageServices
    from app.ui.handlers import Updates
    from app.ui.workspace import Workspace
    from retrieval.models import InvoiceRecord

TAB_ID = "extract"


@dataclass
class ExtractTab:
    """The tab's session state and components; other tabs open invoices in it through `open_invoice`."""

    ctx: PageServices
    state: gr.State  # holds a ReviewSession
    doc_list: gr.Radio
    ws: Workspace
    engine: gr.Dropdown

    @property
    def outputs(self) -> list[Block]:
        """What showing an invoice updates: the session, its document list and the workspace."""
        return [self.state, self.doc_list, *self.ws.outputs]

    def record(self, session: ReviewSession) -> InvoiceRecord | None:
        """The open invoice, read from the history (None when nothing is open or the open file failed)."""
        invoice_id = session.invoice_id
        return None if invoice_id is None else self.ctx.service().get_invoice(invoice_id)

    def show(self, session: ReviewSession, record: InvoiceRecord | None) -> Updates:
        """The session, its document list and the workspace filled for `record`."""
        choices = session.choices()
        doc_list = gr.Radio(choices=choices, value=session.current, visible=bool(choices))
        return {self.state: session, self.doc_list: doc_list, **show_invoice(self.ctx, self.ws, session, record)}

    def open_invoice(self, session: ReviewSession, invoice_id: int) -> Updates:
        """Load a stored invoice into the session and show it."""
        record = self.ctx.service().get_invoice(invoice_id)
        session.add_invoice(record)
        return self.show(session, record)


def engine_choices(ctx: PageServices) -> gr.Dropdown:
    """The engine picker, from the registry: available engines first, the others say why not."""
    from extraction.engines.registry import engine_status

    settings = ctx.settings
    status = engine_status(settings)
    ready = [(f"{name}", name) for name, s in status.items() if s["available"]]
    missing = [(f"{name} — unavailable: {s['reason']}"[:90], name) for name, s in status.items() if not s["available"]]
    default = settings.engine if settings.engine in status else "auto"
    return gr.Dropdown(choices=ready + missing, value=default)


def build_extract_tab(ctx: PageServices) -> ExtractTab:
    """Lay out the tab and wire its events."""
    state = gr.State(ReviewSession())
    with gr.Row(equal_height=True):
        files = UploadedFiles(
            label="Invoices (PDF, image or e-invoice XML)",
            file_count="multiple",
            type="filepath",
            height=120,
            scale=4,
            elem_id="upload",
        )
        with gr.Column(scale=2, min_width=220):
            engine = gr.Dropdown(
                choices=[(name, name) for name in engine_names()],
                value="auto",
                label="OCR engine",
                interactive=True,
                elem_id="engine",
            )
            run = gr.Button("Extract", variant="primary", elem_id="extract-btn")
        doc_list = gr.Radio(
            choices=[],
            label="Documents in this session",
            visible=False,
            scale=5,
            elem_classes=["doc-list"],
            elem_id="doc-list",
        )
    tab = ExtractTab(ctx, state, doc_list, build_workspace(), engine)
    reading.wire_reading(tab, files, run)
    navigation.wire_navigation(tab)
    page_view.wire_page_events(tab)
    edits.wire_edits(tab)
    return tab
