"""`invoice-ocr extract`: print one ExtractionResult per file."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from extraction.options import ExtractOptions
from utils.errors import InvoiceOcrError
from utils.settings import get_settings


class OutputFormat(StrEnum):
    """How extraction results are printed."""

    json = "json"
    markdown = "markdown"


def extract_files(
    files: Annotated[list[Path], typer.Argument(help="Invoice files (PDF, PNG, JPEG, TIFF, WebP, XML).")],
    engine: Annotated[str | None, typer.Option(help="Engine name (default: the configured one, 'auto').")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="json: one JSON line per file.")] = OutputFormat.json,
    pages: Annotated[str | None, typer.Option(help="Pages to read, e.g. '1-3,7'.")] = None,
    dpi: Annotated[int | None, typer.Option(help="Rasterization DPI for OCR pages.")] = None,
) -> None:
    """Extract invoices from files; a bad file is reported on stderr and the rest go on."""
    settings = get_settings()
    try:
        options = ExtractOptions(engine=engine, pages=pages, dpi=dpi)
    except InvoiceOcrError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    from extraction.pipeline import extract

    failed = 0
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            typer.echo(f"{path}: cannot read: {exc.strerror or exc}", err=True)
            failed += 1
            continue
        try:
            result = extract(data, path.name, options, settings)
        except InvoiceOcrError as exc:
            typer.echo(f"{path}: {exc.message}", err=True)
            failed += 1
            continue
        if output is OutputFormat.json:
            sys.stdout.write(result.model_dump_json() + "\n")
        else:
            sys.stdout.write(result.markdown + "\n")
        sys.stdout.flush()
    if failed:
        raise typer.Exit(1)


def register(cli: typer.Typer) -> None:
    """Add the extract command."""
    cli.command("extract")(extract_files)
