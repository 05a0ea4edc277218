"""The Extract tab: drop files, watch them being read, review and correct each one."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from app.ui import enrichment as enr
from app.ui import review as rv
from app.ui.context import guarded, who
from app.ui.forms import FORM_FIELDS, changes_from_form
from app.ui.pages import page_numbers
from app.ui.uploads import UploadedFiles
from extraction.engines.registry import engine_names
from utils.errors import Forbidden, InvoiceOcrError

if TYPE_CHECKING:
    import pandas as pd

    from app.ui.context import UiContext
    from retrieval.models import InvoiceRecord

TAB_ID = "extract"


@dataclass
class ExtractTab:
    """The tab's state and components; other tabs open invoices through `open_outputs` / `open_invoice`."""

    state: gr.State
    doc_list: gr.Radio
    view: rv.ReviewView
    ctx: UiContext
    engine: gr.Dropdown
    queue_outputs: list[Any] | None = None
    queue_refresh: Any = None

    @property
    def open_outputs(self) -> list[Any]:
        """What opening an invoice updates (the caller adds the Tabs component in front)."""
        return [self.state, self.doc_list, *self.view.outputs]

    def open_invoice(self, state: dict[str, Any], invoice_id: int) -> list[Any]:
        """Load a stored invoice into the workspace and select it."""
        record = self.ctx.service().get_invoice(invoice_id)
        rv.add_doc(state, record)
        return [state, rv.doc_choices(state), *rv.render(self.ctx, state, record)]

    def row_opener(self, extract_tab_id: str, tick_column: bool = False) -> Any:
        """A select handler for a results table: open the clicked row's invoice in this tab.

        With `tick_column`, a click in the first column ticks the row for bulk actions and opens nothing.
        """

        @guarded
        def on_open(state_value: dict[str, Any], id_list: list[int], evt: gr.SelectData) -> list[Any]:
            row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            column = evt.index[1] if isinstance(evt.index, (list, tuple)) and len(evt.index) > 1 else None
            if row is None or row >= len(id_list) or (tick_column and column == 0):
                return [gr.update(), state_value, *[gr.update() for _ in self.open_outputs[1:]]]
            return [gr.Tabs(selected=extract_tab_id), *self.open_invoice(state_value, id_list[row])]

        return on_open


def engine_choices(ctx: UiContext) -> gr.Dropdown:
    """The engine picker, from the registry: available engines first, the others say why not."""
    from extraction.engines.registry import engine_status

    settings = ctx.settings()
    status = engine_status(settings)
    ready = [(f"{name}", name) for name, s in status.items() if s["available"]]
    missing = [(f"{name} — unavailable: {s['reason']}"[:90], name) for name, s in status.items() if not s["available"]]
    default = settings.engine if settings.engine in status else "auto"
    return gr.Dropdown(choices=ready + missing, value=default)


def _record(ctx: UiContext, state: dict[str, Any]) -> InvoiceRecord | None:
    doc = rv.current_doc(state)
    if doc is None or doc.get("invoice_id") is None:
        return None
    return ctx.service().get_invoice(doc["invoice_id"])


def extract_files(
    ctx: UiContext,
    files: list[Any] | None,
    engine: str | None,
    state: dict[str, Any],
    progress: gr.Progress,
) -> tuple[dict[str, Any], InvoiceRecord | None, list[str]]:
    """Read, store and list each dropped file; returns the new state, the first new record and the errors."""
    from extraction.options import ExtractOptions

    paths = [Path(f if isinstance(f, str) else getattr(f, "name", f)) for f in (files or [])]
    if not paths:
        raise gr.Error("Drop one or more invoice files (PDF, PNG, JPEG, TIFF, WebP or e-invoice XML) first.")
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
            rv.add_failure(state, name, message)
            continue
        except OSError as exc:
            errors.append(f"{name}: the upload could not be read ({exc.strerror or exc})")
            rv.add_failure(state, name, "the upload could not be read")
            continue
        for record in records:
            part = record.result.page_range
            label = f"{name} (pages {part[0]}–{part[1]})" if part and len(records) > 1 else name
            rv.add_doc(state, record, label)
            first = first or record
    progress(1.0, desc="Done")
    if first is not None:
        rv.select(state, f"i{first.id}", first)
    elif state["docs"]:
        rv.select(state, state["docs"][-1]["key"])
    return state, first, errors


def _check_write(ctx: UiContext, request: gr.Request | None) -> None:
    if ctx.read_only(request):
        raise Forbidden("this login is read-only: it may search and look, not add or change invoices")


def save_corrections(
    ctx: UiContext, state: dict[str, Any], values: list[str], lines: pd.DataFrame | None, who_: str
) -> tuple[InvoiceRecord, int]:
    """Store the edits made in the form; returns the updated record and how many fields changed."""
    record = _record(ctx, state)
    if record is None:
        raise gr.Error("Open an invoice first.")
    changes = changes_from_form(record.result.invoice, values, lines)
    if not changes:
        return record, 0
    updated = ctx.service().correct_invoice(record.id, changes, who_)
    return updated, len(changes)


def build_extract_tab(ctx: UiContext) -> ExtractTab:
    """Lay out the tab and wire its events."""
    state = gr.State(rv.new_state())
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
    view = rv.build_review()
    tab = ExtractTab(state, doc_list, view, ctx, engine)
    outputs = [state, doc_list, files, *view.outputs]

    @guarded
    def on_extract(request: gr.Request, files_value, engine_value, state_value, progress=gr.Progress()):
        _check_write(ctx, request)
        if not files_value:
            return reread_current(request, engine_value, state_value, progress)
        state_value, first, errors = extract_files(ctx, files_value, engine_value, state_value, progress)
        for message in errors:
            gr.Warning(message, title="Could not read a file", duration=None)
        record = None if first is None and errors else _record(ctx, state_value)
        return [state_value, rv.doc_choices(state_value), None, *rv.render(ctx, state_value, record)]

    def reread_current(request: gr.Request, engine_value, state_value, progress) -> list[Any]:
        """Extract with no new file: read the open invoice again with the chosen engine, else say what to do."""
        from extraction.options import ExtractOptions

        record = _record(ctx, state_value)
        if record is None:
            gr.Warning("Drop one or more invoice files (PDF, PNG, JPEG, TIFF, WebP or e-invoice XML) first.")
            return [gr.update() for _ in outputs]
        progress(0.0, desc=f"Reading invoice #{record.id} again with {engine_value or 'auto'}")

        def on_page(done: int, total: int) -> None:
            progress(done / total if total else 1.0, desc=f"page {min(done + 1, total)} of {total}")

        record = ctx.reread(record.id, ExtractOptions(engine=engine_value or None), who(request), on_page)
        gr.Info(f"Invoice #{record.id} read again with {engine_value or 'auto'}.", duration=4)
        rv.add_doc(state_value, record)
        return [state_value, rv.doc_choices(state_value), None, *rv.render(ctx, state_value, record)]

    # Progress shows on the summary only: drawn on every output it covered the whole workspace.
    files.upload(
        on_extract,
        [files, engine, state],
        outputs,
        show_progress="full",
        show_progress_on=[view.summary],
        concurrency_limit=4,
        api_name="extract",
    )
    run.click(
        on_extract,
        [files, engine, state],
        outputs,
        show_progress="full",
        show_progress_on=[view.summary],
        concurrency_limit=4,
        api_visibility="undocumented",
    )

    @guarded
    def on_select(key, state_value):
        if key is None or key == state_value.get("current"):
            return [state_value, gr.update(), *[gr.update() for _ in view.outputs]]
        record = None
        doc = next((d for d in state_value["docs"] if d["key"] == key), None)
        if doc and doc.get("invoice_id") is not None:
            record = ctx.service().get_invoice(doc["invoice_id"])
        rv.select(state_value, key, record)
        return [state_value, gr.update(), *rv.render(ctx, state_value, record)]

    doc_list.input(on_select, [doc_list, state], [state, doc_list, *view.outputs], api_name="select_document")

    @guarded
    def on_page(step, state_value):
        record = _record(ctx, state_value)
        if record is not None:
            numbers = page_numbers(record)
            current = state_value["page"] if state_value["page"] in numbers else numbers[0]
            position = max(0, min(len(numbers) - 1, numbers.index(current) + step))
            state_value["page"] = numbers[position]
        return [state_value, *rv.page_updates(ctx, state_value, record)]

    page_outputs = [state, *view.page_outputs]
    view.prev_page.click(
        functools.partial(on_page, -1), [state], page_outputs, show_progress="hidden", api_visibility="undocumented"
    )
    view.next_page.click(
        functools.partial(on_page, 1), [state], page_outputs, show_progress="hidden", api_visibility="undocumented"
    )

    def make_focus(name: str):
        @guarded
        def on_focus(state_value):
            record = _record(ctx, state_value)
            if record is None:
                return [state_value, *[gr.update() for _ in view.page_outputs]]
            info = record.result.fields.get(name)
            state_value["highlight"] = name
            if info is None or info.page not in page_numbers(record) or info.page == state_value.get("page"):
                # The browser highlights a box on the page shown itself; nothing to send.
                return [state_value, *[gr.update() for _ in view.page_outputs]]
            state_value["page"] = info.page
            return [state_value, *rv.page_updates(ctx, state_value, record)]

        return on_focus

    for spec, box in zip(FORM_FIELDS, view.fields, strict=True):
        box.focus(
            make_focus(spec.name),
            [state],
            page_outputs,
            show_progress="hidden",
            queue=False,
            api_visibility="undocumented",
        )

    edit_inputs = [state, *view.fields, view.lines]

    @guarded
    def on_save(request: gr.Request, state_value, *values):
        *fields, lines = values
        _check_write(ctx, request)
        record, count = save_corrections(ctx, state_value, list(fields), lines, who(request))
        if count:
            gr.Info(f"Saved {count} correction{'s' if count != 1 else ''}: checked again and re-indexed.", duration=4)
        else:
            gr.Info("Nothing to save: no field was changed.", duration=4)
        rv.add_doc(state_value, record)
        state_value["page"] = state_value.get("page", 1)
        return [state_value, rv.doc_choices(state_value), *rv.render(ctx, state_value, record)]

    view.save.click(on_save, edit_inputs, [state, doc_list, *view.outputs], api_name="save")

    @guarded
    def on_approve(request: gr.Request, state_value, *values):
        *fields, lines = values
        _check_write(ctx, request)
        page = state_value.get("page", 1)
        record, count = save_corrections(ctx, state_value, list(fields), lines, who(request))
        record = ctx.service().approve_invoice(record.id, who(request))
        saved = f" with {count} correction{'s' if count != 1 else ''}" if count else ""
        gr.Info(f"Invoice #{record.id} approved{saved}.", duration=4)
        rv.add_doc(state_value, record)
        state_value["page"] = page
        return [state_value, rv.doc_choices(state_value), *rv.render(ctx, state_value, record)]

    view.approve.click(on_approve, edit_inputs, [state, doc_list, *view.outputs], api_name="approve")

    @guarded
    def on_approve_next(request: gr.Request, state_value, *values):
        *fields, lines = values
        _check_write(ctx, request)
        record, count = save_corrections(ctx, state_value, list(fields), lines, who(request))
        record = ctx.service().approve_invoice(record.id, who(request))
        rv.add_doc(state_value, record)
        following = ctx.service().review_queue(limit=1, exclude=record.id)
        saved = f" with {count} correction{'s' if count != 1 else ''}" if count else ""
        if not following.items:
            gr.Info(f"Invoice #{record.id} approved{saved}. The review queue is empty.", duration=5)
            return [state_value, rv.doc_choices(state_value), *rv.render(ctx, state_value, record)]
        gr.Info(f"Invoice #{record.id} approved{saved}; {following.total} left to review.", duration=4)
        return tab.open_invoice(state_value, following.items[0].id)

    view.approve_next.click(on_approve_next, edit_inputs, [state, doc_list, *view.outputs], api_name="approve_and_next")

    def open_linked(kind: str):
        @guarded
        def on_open(state_value, evt: gr.SelectData):
            ids = state_value.get("links", {}).get(kind, [])
            row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            if row is None or row >= len(ids) or ids[row] is None:
                return [state_value, gr.update(), *[gr.update() for _ in view.outputs]]
            return tab.open_invoice(state_value, ids[row])

        return on_open

    view.vendor.recent.select(open_linked("recent"), [state], tab.open_outputs, api_visibility="undocumented")
    view.vendor.similar.select(open_linked("similar"), [state], tab.open_outputs, api_visibility="undocumented")
    return tab
