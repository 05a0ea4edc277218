"""GET /vendors?q= (tolerant lookup) and GET /vendors/{id} (profile with its invoices)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import Field

from app.api.deps import ReaderDep, ServiceDep
from app.api.errors import error_responses
from app.api.params import MAX_OFFSET
from retrieval.models import InvoicePage, SearchFilters, VendorProfile

router = APIRouter(tags=["vendors"])
IdPath = Annotated[int, Path(ge=1, le=2**62, description="Vendor id.")]


class VendorDetail(VendorProfile):
    """A vendor profile with a page of its invoices, newest first."""

    invoices: InvoicePage = Field(description="The vendor's invoices.")


@router.get(
    "/vendors",
    response_model=list[VendorProfile],
    summary="Look up vendors by name",
    responses=error_responses(400, 401),
)
def lookup_vendors(
    service: ServiceDep,
    _caller: ReaderDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="Any spelling: typos, abbreviations.")],
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[VendorProfile]:
    """Canonical vendors whose name or alias matches `q`, best first, with their history figures."""
    return service.lookup_vendors(q, limit=limit)


@router.get(
    "/vendors/{vendor_id}",
    response_model=VendorDetail,
    summary="A vendor's profile and invoices",
    responses=error_responses(400, 401, 404),
)
def get_vendor(
    vendor_id: IdPath,
    service: ServiceDep,
    _caller: ReaderDep,
    limit: Annotated[int, Query(ge=1, le=500, description="Invoices per page.")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> VendorDetail:
    """Profile (aliases, spend, typical amounts, terms) and a page of the vendor's invoices."""
    profile = service.get_vendor(vendor_id)
    page = service.list_invoices(SearchFilters(), limit=limit, offset=offset, vendor_id=vendor_id)
    return VendorDetail(**profile.model_dump(), invoices=page)
