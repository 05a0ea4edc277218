"""GET /search: hybrid, semantic or keyword search with structured filters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import TypeAdapter

from app.api.deps import ReaderDep, ServiceDep
from app.api.errors import error_responses
from app.api.params import SearchParams
from retrieval.models import SearchHit, SearchPage

router = APIRouter(tags=["search"])
_HITS = TypeAdapter(list[SearchHit])


@router.get(
    "/search",
    response_model=list[SearchHit] | SearchPage,
    summary="Search the invoice history",
    responses=error_responses(400, 401),
)
async def search(query: Annotated[SearchParams, Query()], service: ServiceDep, _caller: ReaderDep) -> Response:
    """Invoices matching `q` by words (BM25) and meaning (vectors), fused, then filtered; best first.

    The body is the list of hits; `X-Total-Count` says how many invoices match in all, and when none do,
    `X-Search-Message` says so in words. With `with_total=true` the body is `{"total", "hits", "message"}`.
    """
    # The hot path: run on the event loop (a thread-pool hop per search cost more than the search) while the
    # query's embedding is awaited; serialized once here instead of validated again against the response model.
    page = await service.search_page_async(query.query())
    headers = {"X-Total-Count": str(page.total)}
    if page.message:
        plain = page.message.replace("“", '"').replace("”", '"').encode("ascii", "replace").decode("ascii")
        # A header carries printable ASCII only: the query's control characters are shown as "?".
        headers["X-Search-Message"] = "".join(ch if " " <= ch < "\x7f" else "?" for ch in plain)
    body = page.model_dump_json() if query.with_total else _HITS.dump_json(page.hits)
    return Response(body, media_type="application/json", headers=headers)
