"""The FastAPI application: routers, one error handler, metrics, limits, and heavy objects built once."""

from __future__ import annotations

import importlib
import logging
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi

from app.api.auth import Authenticator, KeyStore
from app.api.deps import Services
from app.api.errors import install_error_handlers
from app.api.gate import AuthGate
from app.api.limits import BodyLimitMiddleware, route_limits
from app.api.metrics import Metrics, MetricsMiddleware
from app.api.routers import export, extract, home, invoices, search, system, vendors
from app.api.workers import ExtractionPool
from utils.settings import Settings, get_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from extraction.reading import DocumentReader
    from retrieval.service import InvoiceService

log = logging.getLogger("invoice_ocr.api")
SHUTDOWN_GRACE = 30.0
UI_PATH = "/ui"  # where the page is mounted (app.ui's default)


def _open_service(settings: Settings, reader: DocumentReader) -> InvoiceService:
    from retrieval.service import InvoiceService

    return InvoiceService(settings, reader)


def _mount_ui(app: FastAPI, services: Services) -> None:
    try:
        ui = importlib.import_module("app.ui")
    except ImportError as exc:
        log.warning("the web page at /ui is not available: %s", exc)
        return
    mount = getattr(ui, "mount_ui", None)
    if mount is None:
        log.warning("the web page at /ui is not available: app.ui has no mount_ui")
        return
    mount(app, services, UI_PATH)


def _openapi(app: FastAPI) -> dict[str, Any]:
    # Validation errors answer 400 with ErrorBody (documented per route), so FastAPI's default 422 model goes.
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            ref = str(responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {}))
            if "HTTPValidationError" in ref:
                del responses["422"]
    components = schema.get("components", {}).get("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    app.openapi_schema = schema
    return schema


def create_app(settings: Settings | None = None, *, ui: bool = True) -> FastAPI:
    """A ready-to-serve app; the InvoiceService opens in the lifespan, the pool shuts down gracefully.

    `ui=False` leaves out the page at /ui (API only).
    """
    settings = settings or get_settings()
    metrics = Metrics()
    pool = ExtractionPool(settings.extract_workers, settings.queue_size, settings.request_timeout, metrics)
    services = Services(settings, metrics, Authenticator(settings, KeyStore.for_settings(settings)), pool)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services.service = await run_in_threadpool(_open_service, settings, services.reader)
        try:
            yield
        finally:
            await run_in_threadpool(pool.shutdown, SHUTDOWN_GRACE)
            await run_in_threadpool(services.reader.shutdown)
            service, services.service = services.service, None
            await run_in_threadpool(service.close)

    app = FastAPI(
        title="invoice-ocr",
        version="0.1.0",
        description="Local invoice OCR: extract invoices from files, keep their history, search it by meaning, "
        'words and vendor. Errors are JSON {"error": code, "message": text}.',
        lifespan=lifespan,
        docs_url=None,  # /docs is drawn by the home router: Swagger UI's scripts come from a CDN
        redoc_url=None,
    )
    app.state.services = services
    install_error_handlers(app, on_error=metrics.error)
    for module in (extract, search, vendors, invoices, export, system, home):
        app.include_router(module.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    if ui:
        _mount_ui(app, services)
    # Uploads take the configured size (plus room for the multipart framing); every other body stays small.
    framing = 1 << 20
    uploads = {
        "/extract": settings.max_bytes * extract.MAX_FILES + framing,
        "/ocr": settings.max_bytes + framing,
        f"{UI_PATH}/gradio_api/upload": settings.max_bytes * extract.MAX_FILES + framing,
    }
    app.add_middleware(BodyLimitMiddleware, limit_for=route_limits(settings.max_json_bytes, uploads))
    # Outside the body limit: an unknown caller is turned away before a byte of the body is read.
    app.add_middleware(AuthGate, auth=services.auth, page_prefix=UI_PATH, on_error=metrics.error)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
