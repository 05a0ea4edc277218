"""The invoice history: list, read, correct, approve, delete, and the original file."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.deps import ReaderDep, ServiceDep, WriterDep
from app.api.errors import error_responses
from app.api.params import MAX_OFFSET, FilterParams
from extraction.schema import Invoice, Party
from retrieval.models import InvoicePage, InvoiceRecord
from retrieval.reread import RereadReport

router = APIRouter(prefix="/invoices", tags=["invoices"])
IdPath = Annotated[int, Path(ge=1, le=2**62, description="Invoice id.")]
DOCUMENT_TYPES = ("application/pdf", "image/png", "image/jpeg", "image/tiff", "image/webp", "application/xml")


class InvoiceListQuery(FilterParams):
    """Filters and paging for the invoice list."""

    vendor_id: int | None = Field(None, ge=1, le=2**62, description="Only this canonical vendor.")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


CORRECTABLE = (
    *Invoice.model_fields,
    *(f"{party}.{key}" for party in ("vendor", "customer") for key in Party.model_fields),
)
CorrectableField = Literal[CORRECTABLE]  # type: ignore[valid-type]


class CorrectionRequest(BaseModel):
    """Field corrections keyed by dotted field name."""

    changes: dict[CorrectableField, Any] = Field(
        min_length=1,
        description='e.g. {"total": 119.0, "vendor.name": "ACME GmbH", "invoice_date": "2024-03-01"}; '
        "`line_items` replaces the whole list.",
        examples=[{"total": 119.0, "vendor.name": "ACME GmbH"}],
    )


@router.get("", response_model=InvoicePage, summary="List invoices", responses=error_responses(400, 401))
def list_invoices(query: Annotated[InvoiceListQuery, Query()], service: ServiceDep, _caller: ReaderDep) -> InvoicePage:
    """A page of invoices, newest first, filtered like /search."""
    return service.list_invoices(query.filters(), limit=query.limit, offset=query.offset, vendor_id=query.vendor_id)


@router.api_route("/reread", methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def reread_wrong_method() -> None:
    """Only POST re-reads: other methods answer 405 here instead of reading "reread" as an invoice id."""
    raise StarletteHTTPException(405, "method not allowed")


@router.post(
    "/reread",
    response_model=RereadReport,
    summary="Re-read stored invoices with what the history knows",
    responses=error_responses(400, 401, 403),
)
def reread_invoices(
    service: ServiceDep,
    caller: WriterDep,
    vendor: Annotated[str | None, Query(max_length=200, description="Only this vendor (any spelling) or id.")] = None,
    needs_review: Annotated[bool | None, Query(description="Only invoices in (true) or out of (false) review.")] = None,
    invoice_id: Annotated[
        list[Annotated[int, Field(ge=1, le=2**62)]] | None,
        Query(max_length=500, description="Only these invoices (repeat the parameter for several)."),
    ] = None,
    engine: Annotated[
        str | None, Query(max_length=40, description="Read with this engine (GET /health lists them); default: auto.")
    ] = None,
) -> RereadReport:
    """Extract the stored documents again with their vendors' learned hints; every human correction is kept."""
    return service.reread(
        vendor=vendor, needs_review=needs_review, who=caller.name, invoice_ids=invoice_id, engine=engine
    )


@router.get(
    "/{invoice_id}", response_model=InvoiceRecord, summary="One invoice", responses=error_responses(400, 401, 404)
)
def get_invoice(invoice_id: IdPath, service: ServiceDep, _caller: ReaderDep) -> InvoiceRecord:
    """The stored invoice with its full extraction and audit log."""
    return service.get_invoice(invoice_id)


@router.patch(
    "/{invoice_id}",
    response_model=InvoiceRecord,
    summary="Correct fields",
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
def correct_invoice(
    invoice_id: IdPath, body: CorrectionRequest, service: ServiceDep, caller: WriterDep
) -> InvoiceRecord:
    """Store corrections (old values go to the audit log), re-validate and re-index; status becomes corrected."""
    return service.correct_invoice(invoice_id, body.changes, who=caller.name)


@router.post(
    "/{invoice_id}/approve",
    response_model=InvoiceRecord,
    summary="Approve an invoice",
    responses=error_responses(400, 401, 403, 404, 409),
)
def approve_invoice(invoice_id: IdPath, service: ServiceDep, caller: WriterDep) -> InvoiceRecord:
    """Mark the invoice approved (an audit entry records who)."""
    return service.approve_invoice(invoice_id, who=caller.name)


@router.delete(
    "/{invoice_id}",
    status_code=204,
    response_class=Response,
    summary="Delete an invoice",
    responses=error_responses(400, 401, 403, 404),
)
def delete_invoice(invoice_id: IdPath, service: ServiceDep, _caller: WriterDep) -> Response:
    """Remove the invoice and its index entry (the audit log is kept)."""
    service.delete_invoice(invoice_id)
    return Response(status_code=204)


@router.get(
    "/{invoice_id}/document",
    response_class=FileResponse,
    summary="The original file",
    responses={
        200: {
            "description": "The file as uploaded.",
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in DOCUMENT_TYPES},
        },
        **error_responses(400, 401, 404),
    },
)
async def invoice_document(invoice_id: IdPath, service: ServiceDep, _caller: ReaderDep) -> FileResponse:
    """The uploaded file, byte for byte, with its media type and name."""
    path, media_type, filename = await run_in_threadpool(service.document_file, invoice_id)
    return FileResponse(path, media_type=media_type, filename=filename)
