"""`invoice-ocr` library commands: ingest, search, vendors, reindex, export."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from utils.errors import InvoiceOcrError
from utils.files import replaced_atomically
from utils.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from retrieval.service import InvoiceService


class OutputFormat(StrEnum):
    """How records are printed."""

    json = "json"
    table = "table"


class SearchMode(StrEnum):
    """Search modes."""

    hybrid = "hybrid"
    semantic = "semantic"
    keyword = "keyword"


class ExportFormat(StrEnum):
    """Export file formats."""

    csv = "csv"
    jsonl = "jsonl"


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def _service() -> Iterator[InvoiceService]:
    from retrieval.service import InvoiceService

    try:
        service = InvoiceService(get_settings())
    except InvoiceOcrError as exc:
        raise _fail(exc.message, 1) from exc
    try:
        yield service
    finally:
        service.close()


# -- ingest ---------------------------------------------------------------------------------------------
def ingest(
    directory: Annotated[Path, typer.Argument(help="Folder to ingest, recursively.", exists=True)],
    workers: Annotated[int, typer.Option(min=1, help="Extraction processes.")] = max(1, min(4, os.cpu_count() or 1)),
) -> None:
    """Extract and store every document under DIR; files already stored are skipped."""
    from retrieval.ingest import ingest as ingest_folder

    bar = _ProgressBar()
    try:
        with _service() as service:
            report = ingest_folder(service, directory, workers, progress=bar)
    finally:
        bar.close()
    _print_summary(report.counts, report.reasons, report.files, report.interrupted)
    if report.interrupted:
        raise typer.Exit(130)
    if report.counts["failed"]:
        raise typer.Exit(1)


class _ProgressBar:
    """An ingest's progress as a tqdm bar on stderr (retrieval.ingest.IngestProgress)."""

    def __init__(self) -> None:
        self._bar: Any = None

    def planned(self, total: int) -> None:
        """Draw the bar for `total` files (none when there is nothing to read)."""
        from tqdm import tqdm

        self._bar = tqdm(total=total, file=sys.stderr, unit="doc", desc="ingest", disable=not total)

    def read(self, path: Path) -> None:
        """One more file done."""
        self._bar.update(1)

    def storing(self, invoices: int) -> None:
        """Storing embeds each batch: say so, else the bar sits at its count with no sign of work."""
        self._bar.set_postfix_str(f"storing {invoices} invoices…", refresh=True)

    def stored(self) -> None:
        """The batch is stored."""
        self._bar.set_postfix_str("", refresh=True)

    def close(self) -> None:
        """Close the bar if it was drawn."""
        if self._bar is not None:
            self._bar.close()


def _print_summary(counts: Counter[str], reasons: list[tuple[str, str, str]], total: int, interrupted: bool) -> None:
    head = (
        f"{total} files: {counts['stored']} stored ({counts['invoices']} invoices, "
        f"{counts['review']} need{'s' if counts['review'] == 1 else ''} review), "
        f"{counts['skipped']} skipped (already stored), "
        f"{counts['refused']} refused, {counts['failed']} failed"
    )
    typer.echo(("interrupted: " if interrupted else "") + head)
    by_code = Counter(code for _, code, _ in reasons)
    for code, n in by_code.most_common():
        typer.echo(f"  {code}: {n}")
    for path, code, message in reasons:
        typer.echo(f"  {path}: {code}: {message}")


M = TypeVar("M", bound=BaseModel)


# -- search, vendors --------------------------------------------------------------------------------------
def _checked(model: type[M], **values: Any) -> M:
    """Build a query/filter model from CLI options (None = not given); bad values exit with one line."""
    try:
        return model(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from exc


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [min(40, max([len(c)] + [len(row[i]) for row in cells])) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    for row in cells:
        lines.append("  ".join(v[:w].ljust(w) for v, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


def search(
    query: Annotated[str, typer.Argument(help="Words, a vendor, an invoice number or an amount.")] = "",
    mode: Annotated[SearchMode, typer.Option(help="hybrid, semantic or keyword.")] = SearchMode.hybrid,
    vendor: Annotated[str | None, typer.Option(help="Vendor name (any spelling) or id.")] = None,
    date_from: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    min_total: Annotated[str | None, typer.Option(help="Smallest total.")] = None,
    max_total: Annotated[str | None, typer.Option(help="Largest total.")] = None,
    currency: Annotated[str | None, typer.Option(help="ISO 4217 code.")] = None,
    needs_review: Annotated[bool | None, typer.Option("--needs-review/--reviewed", help="Review state.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """Search the invoice history."""
    from retrieval.models import SearchQuery

    sq = _checked(
        SearchQuery,
        q=query,
        mode=mode.value,
        limit=limit,
        vendor=vendor,
        date_from=date_from,
        date_to=date_to,
        min_total=min_total,
        max_total=max_total,
        currency=currency,
        needs_review=needs_review,
    )
    with _service() as service:
        try:
            found = service.search_page(sq)
        except InvoiceOcrError as exc:
            raise _fail(exc.message) from exc
    rows = [h.model_dump(mode="json") for h in found.hits]
    if output is OutputFormat.json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        if found.message:
            typer.echo(found.message, err=True)
    elif found.message:
        typer.echo(found.message)
    else:
        typer.echo(f"{found.total} invoice{'s' if found.total != 1 else ''} match; showing {len(rows)}.")
        typer.echo(
            _table(
                rows,
                ["invoice_id", "score", "vendor", "invoice_number", "invoice_date", "total", "currency", "snippet"],
            )
        )


_VENDOR_ACTIONS = ("list", "rename", "merge", "lookup")


def vendors(
    words: Annotated[
        list[str],
        typer.Argument(
            help="NAME to look up (typos, no legal suffix), or: list | rename ID NEW_NAME | merge ID INTO_ID |"
            " lookup NAME (a vendor literally named like an action)."
        ),
    ],
    limit: Annotated[int, typer.Option(min=1, max=500)] = 5,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
    who: Annotated[str, typer.Option(help="Name recorded in the audit log for rename and merge.")] = "cli",
) -> None:
    """Find vendors by name and show their profiles, best match first; or list, rename and merge vendors."""
    action = words[0] if words and words[0] in _VENDOR_ACTIONS else None
    args = words[1:] if action else words
    if action == "list":
        _vendor_list(limit if limit != 5 else 500, output)
        return
    if action in ("rename", "merge"):
        _vendor_change(action, args, who, output)
        return
    name = " ".join(args).strip()
    if not name:
        raise _fail("give a vendor name to look up")
    with _service() as service:
        profiles = service.lookup_vendors(name, limit)
    rows = [p.model_dump(mode="json") for p in profiles]
    if output is OutputFormat.json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
    else:
        for row in rows:
            row["aliases"] = ", ".join(row["aliases"])
            row["spend"] = ", ".join(f"{v} {k}" for k, v in row["spend"].items())
        typer.echo(
            _table(rows, ["id", "name", "score", "invoice_count", "spend", "first_date", "last_date", "aliases"])
        )


def _vendor_list(limit: int, output: OutputFormat) -> None:
    with _service() as service:
        page = service.list_vendors(limit=limit)
    rows = [item.model_dump(mode="json") for item in page.items]
    if output is OutputFormat.json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        row["aliases"] = ", ".join(row["aliases"])
    typer.echo(_table(rows, ["id", "name", "invoice_count", "conflicts", "aliases"]))


def _vendor_change(action: str, args: list[str], who: str, output: OutputFormat) -> None:
    usage = "vendors rename ID NEW_NAME" if action == "rename" else "vendors merge ID INTO_ID"
    if len(args) < 2 or not args[0].isdigit() or (action == "merge" and (len(args) != 2 or not args[1].isdigit())):
        raise _fail(f"usage: invoice-ocr {usage}")
    with _service() as service:
        try:
            if action == "rename":
                profile = service.rename_vendor(int(args[0]), " ".join(args[1:]), who)
            else:
                profile = service.merge_vendors(int(args[0]), int(args[1]), who)
        except InvoiceOcrError as exc:
            raise _fail(exc.message, 1) from exc
    if output is OutputFormat.json:
        typer.echo(json.dumps(profile.model_dump(mode="json"), ensure_ascii=False))
    else:
        done = "renamed" if action == "rename" else f"merged vendor {args[0]} into"
        typer.echo(f"{done} vendor {profile.id}: {profile.name} ({profile.invoice_count} invoices)")


def reread(
    vendor: Annotated[str | None, typer.Option(help="Only this vendor (any spelling) or id.")] = None,
    needs_review: Annotated[
        bool | None, typer.Option("--needs-review/--reviewed", help="Only invoices in (or out of) review.")
    ] = None,
    who: Annotated[str, typer.Option(help="Name recorded with the re-read.")] = "cli",
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """Re-extract stored documents with what the history now knows; every human correction is kept."""
    with _service() as service:
        try:
            report = service.reread(vendor=vendor, needs_review=needs_review, who=who)
        except InvoiceOcrError as exc:
            raise _fail(exc.message) from exc
    if output is OutputFormat.json:
        typer.echo(report.model_dump_json())
    else:
        typer.echo(
            f"re-read {len(report.reread)} invoices: {len(report.changed)} changed,"
            f" {len(report.hinted)} read with vendor hints, {len(report.failed)} failed"
        )
        for invoice_id, message in report.failed.items():
            typer.echo(f"  invoice {invoice_id}: {message}")
    if report.failed:
        raise typer.Exit(1)


def reindex() -> None:
    """Re-embed every stored invoice and rebuild the vector index and keyword postings."""
    with _service() as service:
        n = service.reindex()
    typer.echo(f"reindexed {n} invoices")


def export(
    output_format: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.csv,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default stdout).")] = None,
    vendor: Annotated[str | None, typer.Option(help="Vendor name (any spelling) or id.")] = None,
    date_from: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    min_total: Annotated[str | None, typer.Option(help="Smallest total.")] = None,
    max_total: Annotated[str | None, typer.Option(help="Largest total.")] = None,
    currency: Annotated[str | None, typer.Option(help="ISO 4217 code.")] = None,
    needs_review: Annotated[bool | None, typer.Option("--needs-review/--reviewed", help="Review state.")] = None,
) -> None:
    """Export the invoice history as CSV or JSON lines."""
    from retrieval.models import SearchFilters

    filters = _checked(
        SearchFilters,
        vendor=vendor,
        date_from=date_from,
        date_to=date_to,
        min_total=min_total,
        max_total=max_total,
        currency=currency,
        needs_review=needs_review,
    )
    with _service() as service:
        chunks = service.export(filters, output_format.value)
        if output is None:
            for chunk in chunks:
                sys.stdout.write(chunk)
            sys.stdout.flush()
            return
        with replaced_atomically(output) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
            for chunk in chunks:
                fh.write(chunk)
    typer.echo(f"wrote {output}", err=True)


def register(cli: typer.Typer) -> None:
    """Add the library commands."""
    cli.command("ingest")(ingest)
    cli.command("search")(search)
    cli.command("vendors")(vendors)
    cli.command("reindex")(reindex)
    cli.command("reread")(reread)
    cli.command("export")(export)
