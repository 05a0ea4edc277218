"""`invoice-ocr serve` and `invoice-ocr keys create|list|revoke`."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from app.api.auth import is_loopback
from utils.settings import get_settings

GRACEFUL_SHUTDOWN_S = 30

keys_cli = typer.Typer(help="API keys for the HTTP API (stored hashed under the data dir).", no_args_is_help=True)


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: settings, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Bind port (default: settings, 8000).")] = None,
    allow_insecure: Annotated[
        bool, typer.Option("--allow-insecure", help="Allow a non-loopback bind without API keys.")
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the HTTP API (and the page at /ui); GET /health answers once everything is loaded."""
    import uvicorn

    from app.api.auth import KeyStore
    from app.api.http_protocol import http_protocol
    from app.api.main import create_app
    from utils.errors import KeyFileDamaged

    settings = get_settings()
    host = host or settings.host
    port = settings.port if port is None else port
    # The app decides from the bind itself whether keys are required.
    settings = settings.model_copy(
        update={"host": host, "port": port, "allow_insecure_bind": allow_insecure or settings.allow_insecure_bind}
    )
    try:
        has_keys = bool(settings.api_keys) or bool(KeyStore.for_settings(settings).active())
    except KeyFileDamaged as exc:  # keys stay required; requests answer 503 until the file is fixed
        typer.echo(f"warning: {exc.message} ({KeyStore.for_settings(settings).path})", err=True)
        has_keys = True
    if not is_loopback(host) and not has_keys and not settings.allow_insecure_bind:
        typer.echo(
            f"error: refusing to bind {host} without API keys: anyone on the network could read and change the "
            "invoice history. Create a key with `invoice-ocr keys create`, set INVOICE_OCR_API_KEYS, "
            "or pass --allow-insecure.",
            err=True,
        )
        raise typer.Exit(2)
    logging.basicConfig(level=getattr(logging, log_level.upper(), logging.INFO))
    app = create_app(settings)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"invoice-ocr: page at http://{shown}:{port}/ui  API docs at http://{shown}:{port}/docs", err=True)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        http=http_protocol(),
    )
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it; exiting 0 afterwards tells a
    # supervisor (systemd, docker) the stop was clean.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.Server(config).run()


@contextmanager
def _key_file_errors() -> Iterator[None]:
    """A damaged key file ends the command with its message and where the file is."""
    from app.api.auth import KeyStore
    from utils.errors import KeyFileDamaged

    try:
        yield
    except KeyFileDamaged as exc:
        typer.echo(f"error: {exc.message} ({KeyStore.for_settings(get_settings()).path})", err=True)
        raise typer.Exit(1) from exc


@keys_cli.command("create")
def create_key(
    name: Annotated[str | None, typer.Option(help="A name to recognise the key by.")] = None,
    read_only: Annotated[bool, typer.Option("--read-only", help="May read and search, nothing else.")] = False,
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from app.api.auth import KeyStore

    with _key_file_errors():
        key, info = KeyStore.for_settings(get_settings()).create(name=name, read_only=read_only)
    typer.echo(key)
    typer.echo(f"id {info.id}  name {info.name}  {'read-only' if info.read_only else 'full access'}", err=True)


@keys_cli.command("list")
def list_keys() -> None:
    """The stored keys (id, name, access, created, revoked)."""
    from app.api.auth import KeyStore

    with _key_file_errors():
        keys = KeyStore.for_settings(get_settings()).all_keys()
    for info in keys:
        access = "read-only" if info.read_only else "full"
        state = f"revoked {info.revoked_at}" if info.revoked_at else "active"
        typer.echo(f"{info.id}\t{info.name}\t{access}\t{info.created_at}\t{state}")


@keys_cli.command("revoke")
def revoke_key(key_id: Annotated[str, typer.Argument(help="The key's id or name.")]) -> None:
    """Revoke a key by id or name."""
    from app.api.auth import KeyStore
    from utils.errors import InvoiceOcrError

    try:
        revoked = KeyStore.for_settings(get_settings()).revoke(key_id)
    except InvoiceOcrError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    for info in revoked:
        typer.echo(f"revoked {info.id} {info.name}")


def register(cli: typer.Typer) -> None:
    """Add the serve and keys commands."""
    cli.command("serve")(serve)
    cli.add_typer(keys_cli, name="keys")
