"""Stop waiting for work (and so cancel it) when the client that asked for it closes its connection."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, TypeVar

from utils.errors import Abandoned

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from starlette.requests import Request

T = TypeVar("T")


async def _disconnected(request: Request) -> None:
    # Once the body has been read, the server's next message for this request is the disconnect.
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def unless_client_leaves(request: Request, work: Awaitable[T]) -> T:
    """Await `work`; if the client disconnects first, cancel it (a queued extraction gives back its slot)."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise Abandoned("the client closed the connection; the extraction was cancelled and nothing was stored")
    finally:
        watcher.cancel()
        if not task.done():  # this request itself was cancelled
            task.cancel()
