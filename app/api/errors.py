"""One place that turns every error into the JSON body {"error": code, "message": text}."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from utils.errors import InvoiceOcrError

if TYPE_CHECKING:
    from fastapi import FastAPI, Request

log = logging.getLogger("invoice_ocr.api")

_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "document_too_large",
    415: "unsupported_document",
    422: "unreadable_document",
    429: "busy",
    503: "busy",
}


class ErrorBody(BaseModel):
    """Every error the API answers with."""

    error: str = Field(description="Stable machine-readable code, e.g. not_found, busy, document_too_large.")
    message: str = Field(description="What went wrong, for people.")


_DESCRIPTIONS = {
    400: "Malformed request (bad parameter, page range, filter or body).",
    401: "No valid API key was sent.",
    403: "The API key does not allow this action (read-only).",
    404: "No such record.",
    409: "Conflicts with the stored state.",
    413: "Too large: bytes, pages or pixels over the configured limits.",
    415: "Unsupported file type (sniffed from the bytes, not the name).",
    422: "Unreadable, encrypted or non-invoice document, or an amount larger than the history stores.",
    502: "An OCR engine failed on a page.",
    503: "Extraction queue full, engine unavailable or the history not open (starting, or damaged); see Retry-After.",
    504: "The extraction took longer than the request timeout.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI `responses=` entries for these error statuses, all with the ErrorBody model."""
    out: dict[int | str, dict[str, object]] = {}
    for status in statuses:
        entry: dict[str, object] = {"model": ErrorBody, "description": _DESCRIPTIONS.get(status, "Error.")}
        if status in (503, 429):
            entry["headers"] = {
                "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
            }
        out[status] = entry
    return out


def _body(code: str, message: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def error_response(exc: InvoiceOcrError) -> JSONResponse:
    """The ErrorBody answer of a domain error, with Retry-After or WWW-Authenticate where it applies."""
    headers = None
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers = {"Retry-After": str(int(retry_after))}
    elif exc.status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="invoice-ocr"'}
    return _body(exc.code, exc.message, exc.status, headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header"))
        parts.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _allowed_methods(request: Request) -> list[str]:
    # Each method of a path is its own route, so the router's 405 names only one; list them all.
    methods: set[str] = set()
    paths = request.app.openapi().get("paths", {})
    # A fixed path ("/invoices/reread") is its own resource, never an id of the templated one beside it.
    exact = {request.url.path: paths[request.url.path]} if request.url.path in paths else None
    for template, operations in (exact or paths).items():
        pattern = "^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, request.url.path):
            methods |= {m.upper() for m in operations if m.lower() in _HTTP_METHODS}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def install_error_handlers(app: FastAPI, on_error: object = None) -> None:
    """Map the domain error tree, validation errors and anything unexpected to ErrorBody responses."""

    def count(code: str) -> None:
        if callable(on_error):
            on_error(code)

    @app.exception_handler(InvoiceOcrError)
    async def _domain(request: Request, exc: InvoiceOcrError) -> JSONResponse:
        count(exc.code)
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        count("invalid_request")
        return _body("invalid_request", _validation_message(exc), 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, InvoiceOcrError):  # e.g. the body limit hit while the form was parsed
            return await _domain(request, exc.__cause__)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        count(code)
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return _body(code, str(exc.detail), exc.status_code, headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        count("internal_error")
        return _body("internal_error", "internal error; the server log has the details", 500)
