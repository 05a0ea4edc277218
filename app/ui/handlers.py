"""What every page handler shares: the `{component: value}` update type, the failure guard, who acts."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr
from gradio.blocks import Block

from utils.errors import InvoiceOcrError

log = logging.getLogger("invoice_ocr.ui")

Updates = dict[Block, Any]  # what a handler returns: new values (or gr.update(...)) keyed by output component

F = TypeVar("F", bound=Callable[..., Any])


def friendly(exc: BaseException) -> str:
    """The message a person sees for an error: ours as written, anything else without internals."""
    if isinstance(exc, InvoiceOcrError):
        return exc.message
    return f"Something went wrong ({type(exc).__name__}). The details are in the server log."


def guarded(fn: F) -> F:
    """Wrap a handler so every failure reaches the page as a clear message, never a stack trace."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except InvoiceOcrError as exc:
            raise gr.Error(exc.message, title=_title(exc), print_exception=False) from None
        except Exception as exc:
            log.exception("page handler %s failed", fn.__name__)
            raise gr.Error(friendly(exc), title="Unexpected error", print_exception=False) from None

    return wrapper  # type: ignore[return-value]


def _title(exc: InvoiceOcrError) -> str:
    return {
        "not_found": "Not found",
        "invalid_request": "Please check the value",
        "unsupported_document": "Unsupported file",
        "document_too_large": "File too large",
        "engine_unavailable": "Engine unavailable",
        "busy": "Busy",
        "not_ready": "Starting",
    }.get(exc.code, "Error")


def who(request: gr.Request | None) -> str:
    """The person acting, for the audit log: the login name, else 'ui'."""
    name = getattr(request, "username", None) if request is not None else None
    return f"ui:{name}" if name else "ui"


def clicked_row(evt: gr.SelectData) -> int | None:
    """The row of a table cell that was clicked."""
    return evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
