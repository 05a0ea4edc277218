"""Refuse an unknown caller (401) or a read-only key's change (403) from the headers, before any body is read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.datastructures import Headers

from app.api.auth import require_write
from app.api.errors import error_response
from utils.errors import InvoiceOcrError

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.types import ASGIApp, Receive, Scope, Send

    from app.api.auth import Authenticator

# Open without a key: readiness and the API's own description. The page at /ui has its own sign-in.
OPEN_PATHS = frozenset({"/", "/health", "/openapi.json", "/docs"})  # "/" only redirects to the page
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class AuthGate:
    """Pure ASGI middleware: the caller is checked from the headers alone; the route's dependency checks again."""

    def __init__(
        self,
        app: ASGIApp,
        auth: Authenticator,
        page_prefix: str = "/ui",
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.auth = auth
        self.page_prefix = page_prefix.rstrip("/")
        self.on_error = on_error

    def _guarded(self, path: str) -> bool:
        page = path == self.page_prefix or path.startswith(self.page_prefix + "/")
        return not page and path not in OPEN_PATHS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 401/403 before the app (and so before the body) when the headers do not allow the request."""
        if scope["type"] == "http" and self._guarded(scope.get("path", "")):
            try:
                principal = self.auth.principal_for(Headers(scope=scope))
                method = scope.get("method", "GET")
                if method not in SAFE_METHODS:
                    require_write(principal, f"{method} {scope.get('path', '')}")
            except InvoiceOcrError as exc:
                if self.on_error is not None:
                    self.on_error(exc.code)
                await error_response(exc)(scope, receive, send)
                return
        await self.app(scope, receive, send)
