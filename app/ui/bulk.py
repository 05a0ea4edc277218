"""Bulk actions on a list of invoices (search results, the review queue): pick rows, approve, export or re-read."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.ui.forms import CSV_COLUMNS, result_csv
from extraction.engines.registry import engine_names

if TYPE_CHECKING:
    import pandas as pd

    from app.ui.context import PageServices
    from retrieval.reread import RereadReport

SELECT = "Select"
DEFAULT_ENGINE = "default"
_exports: Path | None = None


def reread_engine_choices() -> list[tuple[str, str]]:
    """The re-read engine picker's choices: the configured default first, then the registry's engines."""
    return [("default engine", DEFAULT_ENGINE), *[(name, name) for name in engine_names()]]


def reread_all(ctx: PageServices, ids: list[int], engine: str | None, who: str, on_each: Any = None) -> RereadReport:
    """Read these stored invoices again (with `engine`, else the default) and the history's hints.

    Every human correction is kept. `on_each(done, total)` is told before each invoice; the reports are merged.
    """
    from retrieval.reread import RereadReport

    name = None if engine in (None, "", DEFAULT_ENGINE) else engine
    service = ctx.service()
    report = RereadReport(engine=name)
    for done, invoice_id in enumerate(ids):
        if on_each is not None:
            on_each(done, len(ids))
        one = service.reread(invoice_ids=[invoice_id], engine=name, who=who)
        report.reread += one.reread
        report.changed += one.changed
        report.hinted += one.hinted
        report.failed.update(one.failed)
    return report


def reread_note(report: RereadReport) -> str:
    """What a re-read did, in words: how many were read again, how many changed, which failed and why."""
    import html

    engine = f" with {report.engine}" if report.engine else ""
    done = len(report.reread)
    changed = len(report.changed)
    parts = [
        f"Read {done} invoice{'s' if done != 1 else ''} again{engine}: "
        f"<b id='reread-changed'>{changed} changed</b>, {done - changed} unchanged"
    ]
    if report.hinted:
        hinted = len(report.hinted)
        parts.append(f"{hinted} with what the history knows of {'its' if hinted == 1 else 'their'} vendor")
    text = "; ".join(parts) + ". Every human correction was kept."
    kind = "ok"
    if report.failed:
        kind = "warn"
        items = "".join(
            f"<li>#{invoice_id}: {html.escape(message)}</li>" for invoice_id, message in sorted(report.failed.items())
        )
        failed = len(report.failed)
        text += f"<br><b>{failed} could not be read again</b> (left as they were):<ul>{items}</ul>"
    return f"<div class='alert {kind}' id='reread-note'>{text}</div>"


def picked_ids(frame: pd.DataFrame | None, ids: list[int]) -> list[int]:
    """The invoice ids of the rows whose Select box is ticked."""
    if frame is None or SELECT not in getattr(frame, "columns", []):
        return []
    ticks = [v is True or str(v).strip().lower() in ("true", "1", "yes") for v in frame[SELECT].tolist()]
    return [invoice_id for invoice_id, ticked in zip(ids, ticks, strict=False) if ticked]


def approve_all(ctx: PageServices, ids: list[int], who: str) -> int:
    """Approve each invoice; returns how many were approved (already approved ones count too)."""
    service = ctx.service()
    for invoice_id in ids:
        service.approve_invoice(invoice_id, who)
    return len(ids)


def export_csv(ctx: PageServices, ids: list[int]) -> str:
    """One CSV of these invoices (a row per line item, as the single-invoice download); its path."""
    global _exports
    if _exports is None:
        _exports = Path(tempfile.mkdtemp(prefix="invoice-ocr-export-"))
    service = ctx.service()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for invoice_id in ids:
        record = service.get_invoice(invoice_id)
        rows = list(csv.reader(io.StringIO(result_csv(record.result))))[1:]
        for row in rows:
            writer.writerow([str(invoice_id), *row[1:]] if row else row)
    path = _exports / f"invoices-{len(ids)}-{'-'.join(map(str, ids[:5]))}.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return str(path)


def select_all(frame: pd.DataFrame | None, ids: list[int]) -> Any:
    """Every row ticked (or none, when all already are)."""
    import pandas as pd

    if frame is None or not len(ids):
        return frame if frame is not None else pd.DataFrame()
    frame = frame.copy()
    everything = len(picked_ids(frame, ids)) == len(ids)
    frame[SELECT] = [not everything] * len(frame)
    return frame
