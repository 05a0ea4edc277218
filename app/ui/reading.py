"""Reading on the Extract tab: the dropped files, each read, stored and listed; or the open invoice read again."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from app.ui import enrichment as enr
from app.ui.handlers import Updates, guarded, who
from app.ui.session import ReviewSession
from utils.errors import InvoiceOcrError

if TYPE_CHECKING:
    from app.ui.context import PageServices
    from app.ui.extract_tab import ExtractTab
    from app.ui.uploads import UploadedFiles
    from retrieval.models import InvoiceRecord

DROP_FIRST = "Drop one or more invoice files (PDF, PNG, JPEG, TIFF, WebP or e-invoice XML) first."
WRITE = "add or change invoices"


def extract_files(
    ctx: PageServices, files: list[Any], engine: str | None, session: ReviewSession, progress: gr.Progress
) -> tuple[InvoiceRecord | None, list[str]]:
    """Read, store and list each dropped file in the session; returns the first new record and the errors."""
    from extraction.options import ExtractOptions

    paths = [Path(f if isinstance(f, str) else getattr(f, "name", f)) for f in files]
    options = ExtractOptions(engine=engine or None)
    service = ctx.service()
    first: InvoiceRecord | None = None
    errors: list[str] = []
    for index, path in enumerate(paths):
        name = path.name
        progress((index, len(paths)), desc=f"{name}: opening", unit="files")

        def on_page(done: int, total: int, index: int = index, name: str = name) -> None:
            fraction = (index + (done / total if total else 1.0)) / len(paths)
            step = f"page {min(done + 1, total)} of {total}" if done < total else "checking and storing"
            progress(fraction, desc=f"File {index + 1} of {len(paths)} · {name}: {step}")

        try:
            results = ctx.extract_and_store(path.read_bytes(), name, options, on_page)
            for note in {n for r in results for n in enr.notes(r.enrichment)}:
                gr.Info(f"{name}: {note}.", duration=6)
            records = [service.get_invoice(r.invoice_id) for r in results if r.invoice_id is not None]
        except InvoiceOcrError as exc:
            message = exc.message.removeprefix(f"{name}: ")
            errors.append(f"{name}: {message}")
            session.add_failure(name, message)
            continue
        except OSError as exc:
            errors.append(f"{name}: the upload could not be read ({exc.strerror or exc})")
            session.add_failure(name, "the upload could not be read")
            continue
        for record in records:
            part = record.result.page_range
            label = f"{name} (pages {part[0]}–{part[1]})" if part and len(records) > 1 else name
            session.add_invoice(record, label)
            first = first or record
    progress(1.0, desc="Done")
    if first is not None:
        session.select(f"i{first.id}", first)
    elif session.docs:
        session.select(session.docs[-1].key)
    return first, errors


def wire_reading(tab: ExtractTab, files: UploadedFiles, run: gr.Button) -> None:
    """Read on a drop and on Extract (with no new file, Extract reads the open invoice again)."""
    ctx = tab.ctx

    @guarded
    def on_extract(
        request: gr.Request,
        files_value: list[Any] | None,
        engine: str | None,
        session: ReviewSession,
        progress=gr.Progress(),
    ) -> Updates:
        ctx.require_write(request, WRITE)
        if not files_value:
            return reread_open(request, engine, session, progress)
        first, errors = extract_files(ctx, files_value, engine, session, progress)
        for message in errors:
            gr.Warning(message, title="Could not read a file", duration=None)
        record = None if first is None and errors else tab.record(session)
        return {files: None, **tab.show(session, record)}

    def reread_open(request: gr.Request, engine: str | None, session: ReviewSession, progress: gr.Progress) -> Any:
        """Read the open invoice again with the chosen engine, else say what to do."""
        from extraction.options import ExtractOptions

        record = tab.record(session)
        if record is None:
            gr.Warning(DROP_FIRST)
            return gr.skip()
        progress(0.0, desc=f"Reading invoice #{record.id} again with {engine or 'auto'}")

        def on_page(done: int, total: int) -> None:
            progress(done / total if total else 1.0, desc=f"page {min(done + 1, total)} of {total}")

        record = ctx.reread(record.id, ExtractOptions(engine=engine or None), who(request), on_page)
        gr.Info(f"Invoice #{record.id} read again with {engine or 'auto'}.", duration=4)
        session.add_invoice(record)
        return {files: None, **tab.show(session, record)}

    outputs = [tab.state, tab.doc_list, files, *tab.ws.outputs]
    # Progress shows on the summary only: drawn on every output it covered the whole workspace.
    wiring: dict[str, Any] = {
        "fn": on_extract,
        "inputs": [files, tab.engine, tab.state],
        "outputs": outputs,
        "show_progress": "full",
        "show_progress_on": [tab.ws.summary],
        "concurrency_limit": 4,
    }
    files.upload(**wiring, api_name="extract")
    run.click(**wiring, api_visibility="undocumented")
