"""The review workspace: one invoice's page picture, editable fields and line items, checks and raw output."""

from __future__ import annotations

import html
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from app.ui import enrichment as enr
from app.ui.forms import (
    FORM_FIELDS,
    LINE_HEADERS,
    field_warnings,
    form_values,
    lines_frame,
    money,
    result_csv,
    result_json,
)
from app.ui.pages import page_numbers, page_viewer
from app.ui.vendor_panel import VendorPanel, build_vendor_panel, vendor_view
from app.ui.viewer import viewer_html

if TYPE_CHECKING:
    from app.ui.context import UiContext
    from retrieval.models import InvoiceRecord

AUDIT_HEADERS = ["When", "Who", "Field", "Old", "New"]
EMPTY_PAGE = "Drop invoices above.\nEach page appears here with a box on every value that was read."
STATIC = Path(__file__).parent / "static"
VIEWER_JS = (STATIC / "viewer.js").read_text(encoding="utf-8")
KEYS_HINT = (
    "<div class='keys-hint muted'>Keys: Alt+↓/↑ next/previous field · Alt+→/← next/previous page · "
    "Ctrl+Enter approve and next · Ctrl+S save · click a word on the page to fill the selected field</div>"
)
_downloads_dir: Path | None = None


def new_state() -> dict[str, Any]:
    """A fresh session: no documents yet."""
    return {"docs": [], "current": None, "page": 1, "highlight": None, "links": {"recent": [], "similar": []}}


def current_doc(state: dict[str, Any]) -> dict[str, Any] | None:
    """The selected document entry."""
    for doc in state.get("docs", []):
        if doc["key"] == state.get("current"):
            return doc
    return None


def doc_label(record: InvoiceRecord | None, filename: str, error: str | None = None) -> str:
    """How a document reads in the session's list."""
    if error or record is None:
        return f"✗ {filename} — failed"
    vendor = record.vendor or record.result.invoice.vendor.name or "unknown vendor"
    total = money(record.total, record.currency) if record.total is not None else "no total"
    mark = {"approved": "✓", "corrected": "✎"}.get(record.status, "⚠" if record.needs_review else "•")
    return f"{mark} {filename} — {vendor} · {total}"


def add_doc(state: dict[str, Any], record: InvoiceRecord, filename: str | None = None) -> str:
    """Put a stored invoice in the session's list (once) and select it; returns its key."""
    key = f"i{record.id}"
    name = filename or record.filename or record.result.document.filename
    for doc in state["docs"]:
        if doc["key"] == key:
            doc["label"] = doc_label(record, doc["filename"])
            break
    else:
        state["docs"].append(
            {"key": key, "invoice_id": record.id, "filename": name, "error": None, "label": doc_label(record, name)}
        )
    select(state, key, record)
    return key


def add_failure(state: dict[str, Any], filename: str, message: str) -> str:
    """Put a file that could not be read in the list, with its message."""
    key = f"e{len(state['docs'])}"
    state["docs"].append(
        {"key": key, "invoice_id": None, "filename": filename, "error": message, "label": doc_label(None, filename)}
    )
    return key


def select(state: dict[str, Any], key: str | None, record: InvoiceRecord | None = None) -> None:
    """Select a document and go to its first page."""
    state["current"] = key
    state["highlight"] = None
    state["page"] = page_numbers(record)[0] if record is not None else 1


def doc_choices(state: dict[str, Any]) -> gr.Radio:
    """The session's document list, with the current one selected."""
    choices = [(d["label"], d["key"]) for d in state["docs"]]
    return gr.Radio(choices=choices, value=state.get("current"), visible=bool(choices))


def _downloads() -> Path:
    global _downloads_dir
    if _downloads_dir is None:
        _downloads_dir = Path(tempfile.mkdtemp(prefix="invoice-ocr-ui-"))
    return _downloads_dir


def _pill(text: str, kind: str) -> str:
    return f"<span class='status-pill {kind}'>{html.escape(text)}</span>"


@dataclass
class ReviewView:
    """The workspace's components; `render` fills them for the selected invoice."""

    alerts: gr.HTML
    summary: gr.HTML
    image: gr.HTML
    page_label: gr.HTML
    prev_page: gr.Button
    next_page: gr.Button
    fields: list[gr.Textbox]
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
    extra: list[Any] = field(default_factory=list)

    @property
    def page_outputs(self) -> list[Any]:
        """Components that change when the page changes."""
        return [self.image, self.page_label, self.prev_page, self.next_page]

    @property
    def outputs(self) -> list[Any]:
        """Every component `render` fills, in order."""
        return [
            self.alerts,
            self.summary,
            *self.page_outputs,
            *self.fields,
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


def build_review() -> ReviewView:
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
            textboxes: dict[str, gr.Textbox] = {}
            main = [f for f in FORM_FIELDS if f.group == "main"]
            for start in range(0, len(main), 2):
                with gr.Row(equal_height=True):
                    for spec in main[start : start + 2]:
                        textboxes[spec.name] = _field_box(spec)
            with gr.Accordion("More fields", open=False):
                more = [f for f in FORM_FIELDS if f.group == "more"]
                for start in range(0, len(more), 2):
                    with gr.Row(equal_height=True):
                        for spec in more[start : start + 2]:
                            textboxes[spec.name] = _field_box(spec)
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
    return ReviewView(
        alerts,
        summary,
        image,
        page_label,
        prev_page,
        next_page,
        [textboxes[f.name] for f in FORM_FIELDS],
        general,
        save,
        approve,
        approve_next,
        download_json,
        download_csv,
        lines,
        checks,
        markdown,
        raw_json,
        audit,
        vendor,
    )


def _not_found(spec: Any) -> str:
    # Empty means not found: no hint that could pass for a value that was read.
    return {"date": "not found · YYYY-MM-DD", "currency": "not found · ISO code"}.get(spec.kind, "not found")


def _field_box(spec: Any) -> gr.Textbox:
    # Before a document is open nothing was looked for, so nothing says "not found".
    return gr.Textbox(
        label=spec.label,
        placeholder="",
        max_lines=3 if spec.name.endswith("address") else 1,
        interactive=True,
        elem_id="field-" + spec.name.replace(".", "-").replace("_", "-"),
    )


def page_updates(ctx: UiContext, state: dict[str, Any], record: InvoiceRecord | None) -> list[Any]:
    """The page picture, its label and the navigation buttons."""
    if record is None:
        doc = current_doc(state)
        message = "This file could not be read." if doc and doc.get("error") else EMPTY_PAGE
        image = viewer_html(None, {}, 1, [], message=message)
        label = "<div class='page-label muted'>No page</div>"
        return [image, label, gr.Button(interactive=False), gr.Button(interactive=False)]
    numbers = page_numbers(record)
    page = state["page"] if state["page"] in numbers else numbers[0]
    state["page"] = page
    image = page_viewer(ctx.service(), ctx.settings(), record, page, state.get("highlight"))
    position = numbers.index(page)
    label = f"<div class='page-label'>Page <b>{position + 1}</b> of {len(numbers)}</div>"
    return [
        image,
        label,
        gr.Button(interactive=position > 0),
        gr.Button(interactive=position < len(numbers) - 1),
    ]


def _alerts(state: dict[str, Any], record: InvoiceRecord | None) -> str:
    doc = current_doc(state)
    if doc and doc.get("error"):
        return (
            f"<div class='alert danger'><b>{html.escape(doc['filename'])} could not be read.</b> "
            f"{html.escape(doc['error'])}</div>"
        )
    if record is None:
        return ""
    out = []
    enrichment = record.result.enrichment
    for text, ref in enr.duplicates(enrichment):
        suffix = f" Open it from the vendor panel or search for #{ref}." if ref else ""
        out.append(f"<div class='alert danger'><b>Possible duplicate.</b> {html.escape(text)}{suffix}</div>")
    for text in enr.anomalies(enrichment):
        out.append(f"<div class='alert warn'><b>Unusual for this vendor.</b> {html.escape(text)}</div>")
    for text in enr.notes(enrichment):
        out.append(f"<div class='alert info'>{html.escape(text)}</div>")
    return "".join(out)


def _summary(record: InvoiceRecord) -> str:
    result = record.result
    engines = sorted({p.engine for p in result.pages}) or ["—"]
    if record.status == "approved":
        pill = _pill("approved", "approved")
    elif record.status == "corrected":
        pill = _pill("corrected", "corrected")
    else:
        pill = _pill("new", "new")
    review = _pill("needs review", "review") if record.needs_review else _pill("checks passed", "approved")
    seconds = result.timings.get("total")
    took = ""
    if seconds is not None:
        took = f" · read in {seconds * 1000:.0f} ms" if seconds < 1 else f" · read in {seconds:.1f} s"
    return (
        f"<div class='doc-summary'><b>{html.escape(result.document.filename)}</b> {pill} {review}<br>"
        f"<span class='muted'>invoice #{record.id} · {result.document.page_count} page(s) · "
        f"engine {html.escape(', '.join(engines))}{took}</span></div>"
    )


def _general(messages: list[str]) -> str:
    if not messages:
        return ""
    items = "".join(f"<li>{html.escape(m)}</li>" for m in messages)
    return f"<div class='alert warn'><b>Please check</b><ul style='margin:4px 0 0 18px'>{items}</ul></div>"


def _checks(record: InvoiceRecord) -> str:
    checks = record.result.validation.checks
    if not checks:
        return "<div class='muted'>No checks were run.</div>"
    rows = "".join(
        f"<li>{'✓' if c.passed else '✗'} <b>{html.escape(c.name.replace('_', ' '))}</b>"
        f"{' — ' + html.escape(c.detail) if c.detail else ''}</li>"
        for c in checks
    )
    return f"<ul class='checks' style='list-style:none;padding-left:4px'>{rows}</ul>"


def _audit(record: InvoiceRecord) -> pd.DataFrame:
    rows = [[c.at.strftime("%Y-%m-%d %H:%M"), c.who, c.field, _short(c.old), _short(c.new)] for c in record.corrections]
    return pd.DataFrame(rows, columns=AUDIT_HEADERS)


def _short(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def render(ctx: UiContext, state: dict[str, Any], record: InvoiceRecord | None) -> list[Any]:
    """Fill every workspace component for the selected invoice (or the empty / failed state)."""
    pages = page_updates(ctx, state, record)
    if record is None:
        vendor_updates, links = vendor_view(ctx.service_or_none(), None)
        state["links"] = links
        doc = current_doc(state)
        summary = (
            f"<div class='doc-summary'><b>{html.escape(doc['filename'])}</b> {_pill('failed', 'review')}</div>"
            if doc and doc.get("error")
            else "<div class='empty-state'>No document selected.</div>"
        )
        return [
            _alerts(state, None),
            summary,
            *pages,
            *[gr.Textbox(value="", info=None, placeholder="", elem_classes=[]) for _ in FORM_FIELDS],
            "",
            gr.Button(interactive=False),
            gr.Button(interactive=False),
            gr.Button(interactive=False),
            gr.DownloadButton(visible=False),
            gr.DownloadButton(visible=False),
            pd.DataFrame(columns=LINE_HEADERS),
            "",
            "",
            "",
            pd.DataFrame(columns=AUDIT_HEADERS),
            *vendor_updates,
        ]
    result = record.result
    per_field, general = field_warnings(result, ctx.settings().low_confidence)
    boxes = []
    for spec, value in zip(FORM_FIELDS, form_values(result.invoice), strict=True):
        warnings = per_field.get(spec.name, [])
        boxes.append(
            gr.Textbox(
                value=value,
                placeholder=_not_found(spec),
                info="⚠ " + "; ".join(dict.fromkeys(warnings)) if warnings else None,
                elem_classes=["field-warn"] if warnings else [],
            )
        )
    folder = _downloads()
    json_path = folder / f"invoice-{record.id}.json"
    csv_path = folder / f"invoice-{record.id}.csv"
    json_text = result_json(result)
    json_path.write_text(json_text, encoding="utf-8")
    csv_path.write_text(result_csv(result), encoding="utf-8")
    vendor_updates, links = vendor_view(ctx.service(), record)
    state["links"] = links
    approved = record.status == "approved"
    return [
        _alerts(state, record),
        _summary(record),
        *pages,
        *boxes,
        _general(general),
        gr.Button(interactive=True),
        gr.Button("Approved ✓" if approved else "Approve", interactive=not approved),
        gr.Button(interactive=True),
        gr.DownloadButton(value=str(json_path), visible=True),
        gr.DownloadButton(value=str(csv_path), visible=True),
        lines_frame(result.invoice),
        _checks(record),
        result.markdown or "",
        json_text,
        _audit(record),
        *vendor_updates,
    ]
