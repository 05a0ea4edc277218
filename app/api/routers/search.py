"""GET /search: hybrid, semantic or keyword search with structured filters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import ReaderDep, ServiceDep
from app.api.errors import error_responses
from app.api.params import SearchParams
from retrieval.models import SearchHit

router = APIRouter(tags=["search"])


@router.get(
    "/search", response_model=list[SearchHit], summary="Search the invoice history", responses=error_responses(400, 401)
)
def search(query: Annotated[SearchParams, Query()], service: ServiceDep, _caller: ReaderDep) -> list[SearchHit]:
    """Invoices matching `q` by words (BM25) and meaning (vectors), fused, then filtered; best first."""
    return service.search(query.query())
