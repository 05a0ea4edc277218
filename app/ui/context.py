"""What the page's handlers need, found at call time: settings, the invoice service, extraction."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import gradio as gr

from utils.errors import InvoiceOcrError

if TYPE_CHECKING:
    from app.ui.login import UiLogin
    from extraction.options import ExtractOptions
    from extraction.schema import ExtractionResult
    from retrieval.service import InvoiceService
    from utils.settings import Settings

log = logging.getLogger("invoice_ocr.ui")

# Names under which the app may hold each service (app.state attributes or keys of a services mapping).
_SERVICE_NAMES = ("service", "invoice_service")
_SETTINGS_NAMES = ("settings",)

F = TypeVar("F", bound=Callable[..., Any])


class ServiceNotReady(InvoiceOcrError):
    """The app has not finished starting: the invoice history is not open yet."""

    code = "not_ready"
    status = 503


class UiContext:
    """Finds the app's services lazily: Gradio is mounted before the FastAPI lifespan opens them."""

    def __init__(self, fastapi_app: Any = None, services: Any = None) -> None:
        self.fastapi_app = fastapi_app
        self.services = services
        self.login: UiLogin | None = None  # the page's sign-in, set when the page is mounted

    def read_only(self, request: gr.Request | None) -> bool:
        """Whether the person behind this request may only look (read-only or revoked key, or no login)."""
        name = getattr(request, "username", None) if request is not None else None
        return self.login is not None and self.login.read_only(name)

    def find(self, names: tuple[str, ...]) -> Any:
        """The first of these services the app holds, or None."""
        sources: list[Any] = []
        if self.services is not None:
            sources.append(self.services)
        if self.fastapi_app is not None:
            state = getattr(self.fastapi_app, "state", None)
            sources.append(state)
            nested = getattr(state, "services", None)
            if nested is not None:
                sources.append(nested)
        for source in sources:
            for name in names:
                value = source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)
                if value is not None:
                    return value
        return None

    def service(self) -> InvoiceService:
        """The process's InvoiceService."""
        if self.services is not None and hasattr(self.services, "store_result"):
            return self.services
        found = self.find(_SERVICE_NAMES)
        if found is None:
            raise ServiceNotReady("the invoice history is still opening; try again in a moment")
        return found

    def settings(self) -> Settings:
        """The process's settings (the service's own when it carries them)."""
        found = self.find(_SETTINGS_NAMES)
        if found is None:
            found = getattr(self.service_or_none(), "settings", None)
        if found is None:
            from utils.settings import get_settings

            found = get_settings()
        return found

    def service_or_none(self) -> InvoiceService | None:
        """The service, or None while the app is starting."""
        try:
            return self.service()
        except ServiceNotReady:
            return None

    def extract_and_store(
        self,
        data: bytes,
        filename: str,
        options: ExtractOptions,
        on_page: Callable[[int, int], None] | None = None,
    ) -> list[ExtractionResult]:
        """Read one file (reporting each page), split it into invoices and store each one.

        Goes through the app's extractor, so the page shares the API's worker slots, queue limit,
        reader processes, metrics and write gate.
        """
        extractor = self.find(("extractor",))
        if extractor is None:
            raise ServiceNotReady("extraction is not running in this app; try again in a moment")
        return extractor.extract_sync(data, filename, options, on_page)

    def reread(
        self, invoice_id: int, options: ExtractOptions, who: str, on_page: Callable[[int, int], None] | None = None
    ) -> Any:
        """Read a stored invoice's file again with these options and replace its stored reading."""
        extractor = self.find(("extractor",))
        if extractor is None:
            raise ServiceNotReady("extraction is not running in this app; try again in a moment")
        return extractor.reread_sync(invoice_id, options, who, on_page)


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
