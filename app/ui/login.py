"""The page's sign-in: any name with an API key as the password, following key changes while the server runs.

Gradio decides at mount time whether its app asks for a login (`App.auth`) and keeps a signed-in
session until the server stops. Here the page follows the keys instead: it asks for a login as soon
as the first key exists (created with `invoice-ocr keys create` while the server runs), and a session
whose key is revoked is signed out on its next request.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

from utils.errors import InvoiceOcrError

if TYPE_CHECKING:
    from app.api.auth import Authenticator, Principal


class UiLogin:
    """Who is signed in to the page under which name, and with what key."""

    def __init__(self, authenticator: Authenticator | None) -> None:
        self.authenticator = authenticator
        self._keys: dict[str, str] = {}  # login name -> the key it signed in with
        self._lock = threading.Lock()

    @property
    def required(self) -> bool:
        """Whether the page asks for a login now (some API key exists)."""
        return self.authenticator is not None and self.authenticator.enabled

    def _principal_for_key(self, key: str) -> Principal | None:
        try:
            return self.authenticator.authenticate(key) if self.authenticator is not None else None
        except InvoiceOcrError:
            return None

    def check(self, username: str, password: str) -> bool:
        """Gradio's login check: the password must be a valid key, and a name in use stays with its key."""
        if self._principal_for_key(password) is None:
            return False
        with self._lock:
            bound = self._keys.get(username)
            # Another valid key already signed in under this name: letting this one take the name over
            # would hand that session this key's rights (a read-only session turned full).
            if bound is not None and bound != password and self._principal_for_key(bound) is not None:
                return False
            self._keys[username] = password
        return True

    def principal(self, username: str | None) -> Principal | None:
        """Who this login acts as now; None when it never signed in or its key was revoked."""
        key = self._keys.get(username) if username else None
        return None if key is None else self._principal_for_key(key)

    def read_only(self, username: str | None) -> bool:
        """Whether this login may only look: a read-only key, or a key no longer valid, while logins are on."""
        if not self.required:
            return False
        principal = self.principal(username)
        return principal is None or principal.read_only


# Gradio routes that act on sessions and queued events yet check no login of their own: while logins are on,
# they answer only a signed-in session.
SESSION_ROUTES = ("/gradio_api/reset", "/gradio_api/cancel")
SESSION_ROUTE_PREFIXES = ("/gradio_api/stream/", "/gradio_api/heartbeat/")


def _session_route(sub_path: str) -> bool:
    return sub_path.rstrip("/") in SESSION_ROUTES or sub_path.startswith(SESSION_ROUTE_PREFIXES)


class FollowKeys:
    """ASGI middleware: before each request to the page, match Gradio's login switch and sessions to the keys."""

    def __init__(self, app: Any, login: UiLogin, ui_app: Any, path: str) -> None:
        self.app = app
        self.login = login
        self.ui_app = ui_app
        self.prefix = path.rstrip("/")

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        """Sync the page's login with the keys for requests under the page's path, then pass on."""
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == self.prefix or path.startswith(self.prefix + "/")):
            signed_in = self.sync(scope)
            if self.login.required and not signed_in and _session_route(path[len(self.prefix) :]):
                refused = JSONResponse(
                    {"error": "unauthorized", "message": "sign in to the page first"},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="invoice-ocr"'},
                )
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def sync(self, scope: dict) -> bool:
        """Turn Gradio's login on or off to match the keys; sign out a session whose key was revoked.

        Returns whether the request comes from a session signed in with a valid key.
        """
        required = self.login.required
        self.ui_app.auth = self.login.check if required else None
        if not required:
            return False
        token = self._session_token(scope)
        name = self.ui_app.tokens.get(token) if token else None
        if name is not None and self.login.principal(name) is None:
            self.ui_app.tokens.pop(token, None)
            return False
        return name is not None

    def _session_token(self, scope: dict) -> str | None:
        # Gradio keeps sessions in App.tokens under the value of an access-token cookie.
        cookies: dict[str, str] = {}
        for key, value in scope.get("headers", []):
            if key == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    name, _, val = part.strip().partition("=")
                    cookies[name] = val
        cookie_id = self.ui_app.cookie_id
        return cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
