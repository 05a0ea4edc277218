"""The workspace filled from one stored invoice: form, warnings, alerts, downloads, checks, raw output, vendor."""

from __future__ import annotations

import html
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from app.ui import enrichment as enr
from app.ui.forms import FORM_FIELDS, LINE_HEADERS, field_warnings, form_values, lines_frame, result_csv, result_json
from app.ui.page_view import page_updates
from app.ui.vendor_panel import vendor_view
from app.ui.workspace import AUDIT_HEADERS

if TYPE_CHECKING:
    from app.ui.context import PageServices
    from app.ui.forms import FormField
    from app.ui.handlers import Updates
    from app.ui.session import ReviewSession
    from app.ui.workspace import Workspace
    from retrieval.models import InvoiceRecord

_downloads_dir: Path | None = None


def show_invoice(ctx: PageServices, ws: Workspace, session: ReviewSession, record: InvoiceRecord | None) -> Updates:
    """Every workspace component for the open invoice (or the empty or failed state); notes the vendor rows."""
    service = ctx.service() if record is not None else ctx.service_or_none()
    vendor = vendor_view(service, record)
    session.recent_ids, session.similar_ids = vendor.recent_ids, vendor.similar_ids
    updates = {
        ws.alerts: _alerts(session, record),
        **page_updates(ctx, ws, session, record),
        **ws.vendor.updates(vendor),
    }
    if record is None:
        return updates | _nothing_open(ws, session)
    result = record.result
    per_field, general = field_warnings(result, ctx.settings.low_confidence)
    boxes = {
        ws.fields[spec.name]: _field_update(spec, value, per_field.get(spec.name, []))
        for spec, value in zip(FORM_FIELDS, form_values(result.invoice), strict=True)
    }
    json_text = result_json(result)
    json_path, csv_path = _write_downloads(record, json_text)
    approved = record.status == "approved"
    return (
        updates
        | boxes
        | {
            ws.summary: _summary(record),
            ws.general: _general(general),
            ws.save: gr.Button(interactive=True),
            ws.approve: gr.Button("Approved ✓" if approved else "Approve", interactive=not approved),
            ws.approve_next: gr.Button(interactive=True),
            ws.download_json: gr.DownloadButton(value=str(json_path), visible=True),
            ws.download_csv: gr.DownloadButton(value=str(csv_path), visible=True),
            ws.lines: lines_frame(result.invoice),
            ws.checks: _checks(record),
            ws.markdown: result.markdown or "",
            ws.raw_json: json_text,
            ws.audit: _audit(record),
        }
    )


def _nothing_open(ws: Workspace, session: ReviewSession) -> Updates:
    doc = session.current_doc
    summary = (
        f"<div class='doc-summary'><b>{html.escape(doc.filename)}</b> {_pill('failed', 'review')}</div>"
        if doc is not None and doc.error
        else "<div class='empty-state'>No document selected.</div>"
    )
    boxes = {box: gr.Textbox(value="", info=None, placeholder="", elem_classes=[]) for box in ws.field_boxes}
    return boxes | {
        ws.summary: summary,
        ws.general: "",
        ws.save: gr.Button(interactive=False),
        ws.approve: gr.Button(interactive=False),
        ws.approve_next: gr.Button(interactive=False),
        ws.download_json: gr.DownloadButton(visible=False),
        ws.download_csv: gr.DownloadButton(visible=False),
        ws.lines: pd.DataFrame(columns=LINE_HEADERS),
        ws.checks: "",
        ws.markdown: "",
        ws.raw_json: "",
        ws.audit: pd.DataFrame(columns=AUDIT_HEADERS),
    }


def _field_update(spec: FormField, value: str, warnings: list[str]) -> gr.Textbox:
    return gr.Textbox(
        value=value,
        placeholder=_not_found(spec),
        info="⚠ " + "; ".join(dict.fromkeys(warnings)) if warnings else None,
        elem_classes=["field-warn"] if warnings else [],
    )


def _not_found(spec: FormField) -> str:
    # Empty means not found: no hint that could pass for a value that was read.
    return {"date": "not found · YYYY-MM-DD", "currency": "not found · ISO code"}.get(spec.kind, "not found")


def _write_downloads(record: InvoiceRecord, json_text: str) -> tuple[Path, Path]:
    global _downloads_dir
    if _downloads_dir is None:
        _downloads_dir = Path(tempfile.mkdtemp(prefix="invoice-ocr-ui-"))
    json_path = _downloads_dir / f"invoice-{record.id}.json"
    csv_path = _downloads_dir / f"invoice-{record.id}.csv"
    json_path.write_text(json_text, encoding="utf-8")
    csv_path.write_text(result_csv(record.result), encoding="utf-8")
    return json_path, csv_path


def _pill(text: str, kind: str) -> str:
    return f"<span class='status-pill {kind}'>{html.escape(text)}</span>"


def _alerts(session: ReviewSession, record: InvoiceRecord | None) -> str:
    doc = session.current_doc
    if doc is not None and doc.error:
        return (
            f"<div class='alert danger'><b>{html.escape(doc.filename)} could not be read.</b> "
            f"{html.escape(doc.error)}</div>"
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
