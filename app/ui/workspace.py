"""The review workspace's layout: page viewer | form | vendor context, then line items and raw output."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr
import pandas as pd

from app.ui.forms import FORM_FIELDS, LINE_HEADERS, field_elem_id
from app.ui.vendor_panel import VendorPanel, build_vendor_panel
from app.ui.viewer import viewer_html

if TYPE_CHECKING:
    from gradio.blocks import Block

    from app.ui.forms import FormField

AUDIT_HEADERS = ["When", "Who", "Field", "Old", "New"]
EMPTY_PAGE = "Drop invoices above.\nEach page appears here with a box on every value that was read."
VIEWER_JS = (Path(__file__).parent / "static" / "viewer.js").read_text(encoding="utf-8")
KEYS_HINT = (
    "<div class='keys-hint muted'>Keys: Alt+↓/↑ next/previous field · Alt+→/← next/previous page · "
    "Ctrl+Enter approve and next · Ctrl+S save · click a word on the page to fill the selected field</div>"
)


@dataclass
class Workspace:
    """The workspace's components; `invoice_view.show_invoice` fills them for the open invoice."""

    alerts: gr.HTML
    summary: gr.HTML
    image: gr.HTML
    page_label: gr.HTML
    prev_page: gr.Button
    next_page: gr.Button
    fields: dict[str, gr.Textbox]  # by dotted field name, in FORM_FIELDS order
    general: gr.HTML
    save: gr.Button
    approve: gr.Button
    approve_next: gr.Button
    download_json: gr.DownloadButton
    download_csv: gr.DownloadButton
    lines: gr.Dataframe
    checks: gr.HTML
    markdown: gr.Code
    raw_json: gr.Code
    audit: gr.Dataframe
    vendor: VendorPanel

    @property
    def page_outputs(self) -> list[Block]:
        """Components that change when the page changes."""
        return [self.image, self.page_label, self.prev_page, self.next_page]

    @property
    def field_boxes(self) -> list[gr.Textbox]:
        """The form's text boxes, in FORM_FIELDS order (the order edit events send their values in)."""
        return [self.fields[f.name] for f in FORM_FIELDS]

    @property
    def outputs(self) -> list[Block]:
        """Every component showing an invoice fills."""
        return [
            self.alerts,
            self.summary,
            *self.page_outputs,
            *self.field_boxes,
            self.general,
            self.save,
            self.approve,
            self.approve_next,
            self.download_json,
            self.download_csv,
            self.lines,
            self.checks,
            self.markdown,
            self.raw_json,
            self.audit,
            *self.vendor.outputs,
        ]


def build_workspace() -> Workspace:
    """Lay out the workspace: page picture | fields | vendor context, then line items and raw output."""
    alerts = gr.HTML("", label="Alerts", elem_classes=["alerts"], elem_id="review-alerts")
    with gr.Row(equal_height=False, elem_id="review-row"):
        with gr.Column(scale=7, min_width=520, elem_id="page-column"):
            with gr.Row(elem_classes=["page-nav"]):
                prev_page = gr.Button("◀ Previous page", size="sm", interactive=False, elem_id="prev-page")
                page_label = gr.HTML(
                    "<div class='page-label muted'>No document</div>", label="Page", elem_id="page-label"
                )
                next_page = gr.Button("Next page ▶", size="sm", interactive=False, elem_id="next-page")
            image = gr.HTML(
                viewer_html(None, {}, 1, [], message=EMPTY_PAGE),
                label="Page image",
                js_on_load=VIEWER_JS,
                apply_default_css=False,
                elem_id="page-viewer",
            )
        with gr.Column(scale=5, min_width=380, elem_id="form-column"):
            summary = gr.HTML(
                "<div class='empty-state'>No document selected.</div>", label="Document", elem_id="doc-summary"
            )
            with gr.Row():
                save = gr.Button("Save corrections", variant="secondary", interactive=False, elem_id="save-btn")
                approve = gr.Button("Approve", variant="secondary", interactive=False, elem_id="approve-btn")
                approve_next = gr.Button(
                    "Approve and next", variant="primary", interactive=False, elem_id="approve-next-btn"
                )
            general = gr.HTML("", label="Warnings", elem_id="general-warnings")
            fields: dict[str, gr.Textbox] = {}
            _field_rows([f for f in FORM_FIELDS if f.group == "main"], fields)
            with gr.Accordion("More fields", open=False):
                _field_rows([f for f in FORM_FIELDS if f.group == "more"], fields)
            gr.HTML(KEYS_HINT)
            with gr.Row():
                download_json = gr.DownloadButton("Download JSON", size="sm", visible=False, elem_id="dl-json")
                download_csv = gr.DownloadButton("Download CSV", size="sm", visible=False, elem_id="dl-csv")
            with gr.Accordion("Vendor context", open=True, elem_id="vendor-context"):
                vendor = build_vendor_panel()
    lines = gr.Dataframe(
        pd.DataFrame(columns=LINE_HEADERS),
        headers=LINE_HEADERS,
        label="Line items (editable: Save corrections stores them)",
        interactive=True,
        datatype=["str", "str", "str", "str", "str"],
        column_widths=["46%", "12%", "14%", "16%", "12%"],
        max_height=360,
        wrap=True,
        elem_id="line-items",
    )
    with gr.Accordion("Validation checks", open=False):
        checks = gr.HTML("", label="Validation checks", elem_id="checks")
    with gr.Accordion("Raw markdown", open=False):
        markdown = gr.Code(
            language="markdown", lines=12, max_lines=40, interactive=False, label="Raw markdown", show_label=False
        )
    with gr.Accordion("Raw JSON", open=False):
        raw_json = gr.Code(
            language="json", lines=12, max_lines=40, interactive=False, label="Raw JSON", show_label=False
        )
    with gr.Accordion("Corrections (audit log)", open=False):
        audit = gr.Dataframe(
            pd.DataFrame(columns=AUDIT_HEADERS), interactive=False, wrap=True, label="Audit log", show_label=False
        )
    return Workspace(
        alerts=alerts,
        summary=summary,
        image=image,
        page_label=page_label,
        prev_page=prev_page,
        next_page=next_page,
        fields=fields,
        general=general,
        save=save,
        approve=approve,
        approve_next=approve_next,
        download_json=download_json,
        download_csv=download_csv,
        lines=lines,
        checks=checks,
        markdown=markdown,
        raw_json=raw_json,
        audit=audit,
        vendor=vendor,
    )


def _field_rows(specs: list[FormField], into: dict[str, gr.Textbox]) -> None:
    """Two text boxes a row."""
    for start in range(0, len(specs), 2):
        with gr.Row(equal_height=True):
            for spec in specs[start : start + 2]:
                into[spec.name] = _field_box(spec)


def _field_box(spec: FormField) -> gr.Textbox:
    # Before a document is open nothing was looked for, so nothing says "not found".
    return gr.Textbox(
        label=spec.label,
        placeholder="",
        max_lines=3 if spec.name.endswith("address") else 1,
        interactive=True,
        elem_id=field_elem_id(spec.name),
    )
