"""Refuse request bodies over their route's limit before they are parsed or spooled to disk."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from utils.errors import DocumentTooLarge

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send


def route_limits(default: int, uploads: dict[str, int]) -> Callable[[str], int]:
    """Body limit per path: `uploads` for the upload routes, `default` for every other."""
    return lambda path: uploads.get(path.rstrip("/") or "/", default)


class BodyLimitMiddleware:
    """Pure ASGI middleware: 413 when Content-Length (or the bytes actually sent) exceed the path's limit."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count the received bytes."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await self._refuse(send, limit)
                    return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(f"the request body is over the limit of {limit} bytes")
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps(
            {"error": "document_too_large", "message": f"the request body is over the limit of {limit} bytes"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(DocumentTooLarge):
    """Raised from `receive` once the body passes the limit (the error handler answers 413)."""
