"""The page's services, named and typed: built once when the page is mounted, passed to every tab."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.ui.login import UiLogin
from utils.errors import Forbidden, ServiceNotReady

if TYPE_CHECKING:
    import gradio as gr

    from app.api.deps import Services
    from app.api.extractor import Extractor
    from app.api.workers import ExtractionPool
    from extraction.options import ExtractOptions
    from extraction.schema import ExtractionResult
    from retrieval.models import InvoiceRecord
    from retrieval.service import InvoiceService
    from utils.settings import Settings

OnPage = Callable[[int, int], None]


@dataclass(frozen=True)
class PageServices:
    """What the page's handlers use: settings, the invoice history, the app's extractor and pool, the sign-in.

    The page is mounted before the app's lifespan opens the invoice history, so the service is reached
    through `open_service` at call time.
    """

    settings: Settings
    extractor: Extractor
    pool: ExtractionPool
    login: UiLogin
    open_service: Callable[[], InvoiceService | None]

    @classmethod
    def for_app(cls, services: Services) -> PageServices:
        """The page's services from the app's bundle (the same settings, extractor, pool and keys as the API)."""
        return cls(
            settings=services.settings,
            extractor=services.extractor,
            pool=services.pool,
            login=UiLogin(services.auth),
            open_service=lambda: services.service,
        )

    def service(self) -> InvoiceService:
        """The process's InvoiceService; ServiceNotReady while the app is starting."""
        service = self.open_service()
        if service is None:
            raise ServiceNotReady("the invoice history is still opening; try again in a moment")
        return service

    def service_or_none(self) -> InvoiceService | None:
        """The InvoiceService, or None while the app is starting."""
        return self.open_service()

    def read_only(self, request: gr.Request | None) -> bool:
        """Whether the person behind this request may only look (a read-only or revoked key)."""
        name = getattr(request, "username", None) if request is not None else None
        return self.login.read_only(name)

    def require_write(self, request: gr.Request | None, action: str) -> None:
        """Refuse a read-only login, naming what it may not do (`action`, e.g. 'approve invoices')."""
        if self.read_only(request):
            raise Forbidden(f"this login is read-only: it may search and look, not {action}")

    def extract_and_store(
        self, data: bytes, filename: str, options: ExtractOptions, on_page: OnPage | None = None
    ) -> list[ExtractionResult]:
        """Read one file (reporting each page), split it into invoices and store each one.

        Goes through the app's extractor, so the page shares the API's worker slots, queue limit,
        reader processes, metrics and write gate.
        """
        return self.extractor.extract_sync(data, filename, options, on_page)

    def reread(
        self, invoice_id: int, options: ExtractOptions, who: str, on_page: OnPage | None = None
    ) -> InvoiceRecord:
        """Read a stored invoice's file again with these options and replace its stored reading."""
        return self.extractor.reread_sync(invoice_id, options, who, on_page)
