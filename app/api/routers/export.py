"""GET /export (csv | jsonl, streamed) and GET /feedback/export (corrections for fine-tuning)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from app.api.deps import ReaderDep, ServiceDep
from app.api.errors import error_responses
from app.api.params import FilterParams

router = APIRouter(tags=["export"])
_MEDIA = {"csv": "text/csv", "jsonl": "application/x-ndjson"}


class ExportQuery(FilterParams):
    """Export format and the same filters as /search."""

    format: Literal["csv", "jsonl"] = "csv"


async def _stream(chunks: Iterator[str], media_type: str, filename: str) -> StreamingResponse:
    # Pull the first chunk here so that a bad filter answers an error, not a broken stream.
    first = await run_in_threadpool(next, chunks, "")

    def body() -> Iterator[bytes]:
        if first:
            yield first.encode("utf-8")
        for chunk in chunks:
            yield chunk.encode("utf-8")

    return StreamingResponse(
        body(), media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _content(media_type: str) -> dict[str, object]:
    return {media_type: {"schema": {"type": "string"}}}


@router.get(
    "/export",
    response_class=StreamingResponse,
    summary="Export invoices as CSV or JSON lines",
    responses={
        200: {
            "description": "The invoices, streamed.",
            "content": {**_content("text/csv"), **_content("application/x-ndjson")},
        },
        **error_responses(400, 401),
    },
)
async def export(query: Annotated[ExportQuery, Query()], service: ServiceDep, _caller: ReaderDep) -> StreamingResponse:
    """Every invoice matching the filters; csv has one row per invoice, jsonl one stored invoice per line."""
    chunks = await run_in_threadpool(service.export, query.filters(), query.format)
    return await _stream(iter(chunks), _MEDIA[query.format], f"invoices.{query.format}")


@router.get(
    "/feedback/export",
    response_class=StreamingResponse,
    summary="Corrections for fine-tuning (JSON lines)",
    responses={
        200: {
            "description": "Raw model output beside the corrected invoice.",
            "content": _content("application/x-ndjson"),
        },
        **error_responses(401),
    },
)
async def feedback_export(service: ServiceDep, _caller: ReaderDep) -> StreamingResponse:
    """One line per corrected invoice: markdown read, invoice extracted, invoice as corrected."""
    chunks = await run_in_threadpool(service.feedback_export)
    return await _stream(iter(chunks), "application/x-ndjson", "feedback.jsonl")
