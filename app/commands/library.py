"""`invoice-ocr` library commands."""

from __future__ import annotations

import typer


def register(cli: typer.Typer) -> None:
    """Add the library commands."""
