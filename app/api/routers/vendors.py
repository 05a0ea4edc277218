"""GET /vendors?q= (tolerant lookup), GET /vendors/{id} (profile with its invoices), the vendor list,
rename, merge, the vendor audit log and learned hints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from app.api.deps import ReaderDep, ServiceDep, WriterDep
from app.api.errors import error_responses
from app.api.params import MAX_OFFSET
from retrieval.models import InvoicePage, SearchFilters, VendorEvent, VendorPage, VendorProfile

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


class RenameRequest(BaseModel):
    """A vendor's new canonical name."""

    name: str = Field(min_length=1, max_length=1000, examples=["ACME Industrial Supplies GmbH"])


class MergeRequest(BaseModel):
    """The vendor the merged one becomes part of."""

    into: int = Field(ge=1, le=2**62, description="Id of the vendor that keeps its id and takes the other's invoices.")


@router.get(
    "/vendors/list",
    response_model=VendorPage,
    summary="Every vendor, by name",
    responses=error_responses(400, 401),
)
def list_vendors(
    service: ServiceDep,
    _caller: ReaderDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> VendorPage:
    """A page of canonical vendors with their name aliases, invoice counts and identifier conflicts."""
    return service.list_vendors(limit=limit, offset=offset)


@router.get(
    "/vendors/events",
    response_model=list[VendorEvent],
    summary="The vendor audit log",
    responses=error_responses(400, 401),
)
def vendor_events(
    service: ServiceDep,
    _caller: ReaderDep,
    vendor_id: Annotated[int | None, Query(ge=1, le=2**62, description="Only this vendor's entries.")] = None,
) -> list[VendorEvent]:
    """Renames, merges and invoices moved by vendor corrections, oldest first, with who did them."""
    return service.vendor_events(vendor_id)


@router.post(
    "/vendors/{vendor_id}/rename",
    response_model=VendorProfile,
    summary="Rename a vendor",
    responses=error_responses(400, 401, 403, 404, 409),
)
def rename_vendor(vendor_id: IdPath, body: RenameRequest, service: ServiceDep, caller: WriterDep) -> VendorProfile:
    """Give the vendor a new canonical name; the old one stays an alias (409 when another vendor has the name)."""
    return service.rename_vendor(vendor_id, body.name, who=caller.name)


@router.post(
    "/vendors/{vendor_id}/merge",
    response_model=VendorProfile,
    summary="Merge a vendor into another",
    responses=error_responses(400, 401, 403, 404, 409),
)
def merge_vendor(vendor_id: IdPath, body: MergeRequest, service: ServiceDep, caller: WriterDep) -> VendorProfile:
    """Move this vendor's invoices, names and identifiers to `into` and remove it (409 on different tax ids)."""
    return service.merge_vendors(vendor_id, body.into, who=caller.name)


@router.get(
    "/vendors/{vendor_id}/hints",
    response_model=dict[str, Any] | None,
    summary="What the vendor's reviewed invoices taught",
    responses=error_responses(400, 401, 404),
)
def vendor_hints(vendor_id: IdPath, service: ServiceDep, _caller: ReaderDep) -> dict[str, Any] | None:
    """The reading hints learned from the vendor's approved and corrected invoices (null before any)."""
    service.get_vendor(vendor_id)
    return service.vendor_hints(vendor_id)


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
