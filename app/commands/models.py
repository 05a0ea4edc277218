"""`invoice-ocr models convert|check`: prepare and check local OCR model folders for the GPU engines."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

models_cli = typer.Typer(
    help="Local OCR model folders: convert the official DeepSeek-OCR-2 download, check what can use a folder.",
    no_args_is_help=True,
)


class CheckFormat(StrEnum):
    """How `models check` prints."""

    text = "text"
    json = "json"


@models_cli.command("convert")
def convert(
    source: Annotated[Path, typer.Argument(help="The official DeepSeek-OCR-2 download (remote-code layout).")],
    target: Annotated[Path, typer.Argument(help="Where the native transformers layout is written.")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty target folder.")] = False,
    max_shard_gb: Annotated[float, typer.Option(min=0.001, help="Largest weight file written, in GB.")] = 2.0,
) -> None:
    """Convert DeepSeek-OCR-2 for the in-process `deepseek` engine (offline; the target appears whole or not at all)."""
    from extraction.model_files.convert import convert_checkpoint
    from utils.errors import InvoiceOcrError

    try:
        report = convert_checkpoint(
            source,
            target,
            max_shard_bytes=int(max_shard_gb * 1e9),
            overwrite=overwrite,
            progress=lambda message: typer.echo(message, err=True),
        )
    except InvoiceOcrError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"INVOICE_OCR_DEEPSEEK_MODEL={report.target}")


@models_cli.command("check")
def check(
    folder: Annotated[Path, typer.Argument(help="A local model folder.")],
    output: Annotated[CheckFormat, typer.Option("--format", help="text or json.")] = CheckFormat.text,
) -> None:
    """Say which engine can use a model folder and why not; exit 1 when none can."""
    from extraction.model_files.check import check_folder

    inspected, verdicts = check_folder(folder)
    weights = inspected.weights
    if output is CheckFormat.json:
        payload = {
            "path": str(inspected.path),
            "kind": inspected.kind,
            "label": inspected.label,
            "problems": inspected.problems,
            "weights": None
            if weights is None
            else {
                "files": len(weights.files),
                "tensors": weights.tensors,
                "bytes": weights.nbytes,
                "dtypes": sorted(weights.dtypes),
            },
            "engines": {v.engine: {"usable": v.usable, "detail": v.detail} for v in verdicts},
        }
        typer.echo(json.dumps(payload, indent=2))
    else:
        typer.echo(f"{inspected.path}: {inspected.label}")
        if weights is not None:
            typer.echo(
                f"  weights: {len(weights.files)} file(s), {weights.tensors} tensors, "
                f"{weights.nbytes / 1e9:.2f} GB ({', '.join(sorted(weights.dtypes))})"
            )
        for problem in inspected.problems:
            typer.echo(f"  problem: {problem}")
        for verdict in verdicts:
            typer.echo(f"  {verdict.engine:<16} {'yes' if verdict.usable else 'no ':<4} {verdict.detail}")
    if not any(v.usable for v in verdicts):
        raise typer.Exit(1)


def register(cli: typer.Typer) -> None:
    """Add the models command group."""
    cli.add_typer(models_cli, name="models")
