"""GET /search: hybrid, semantic or keyword search with structured filters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import TypeAdapter

from app.api.deps import ReaderDep, ServiceDep
from app.api.errors import error_responses
from app.api.params import SearchParams
from retrieval.models import SearchHit

router = APIRouter(tags=["search"])
_HITS = TypeAdapter(list[SearchHit])


@router.get(
    "/search", response_model=list[SearchHit], summary="Search the invoice history", responses=error_responses(400, 401)
)
def search(query: Annotated[SearchParams, Query()], service: ServiceDep, _caller: ReaderDep) -> Response:
    """Invoices matching `q` by words (BM25) and meaning (vectors), fused, then filtered; best first."""
    # The hot path: serialized once here instead of validated again against the response model.
    return Response(_HITS.dump_json(service.search(query.query())), media_type="application/json")
