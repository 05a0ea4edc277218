"""The `invoice-ocr` command line."""

from __future__ import annotations

import typer

from app.commands import extract as extract_commands
from app.commands import library as library_commands
from app.commands import models as model_commands
from app.commands import serve as serve_commands

cli = typer.Typer(
    name="invoice-ocr",
    help="Local invoice OCR: extract, ingest, search and serve. Documents never leave this machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@cli.callback()
def _root() -> None:
    """Local invoice OCR: extract, ingest, search and serve."""


extract_commands.register(cli)
library_commands.register(cli)
serve_commands.register(cli)
model_commands.register(cli)


def main() -> None:
    """Entry point of the console script."""
    cli()


if __name__ == "__main__":
    main()
