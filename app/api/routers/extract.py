"""POST /extract (invoices from files) and POST /ocr (markdown text, compatible with the original service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from app.api.deps import ExtractorDep, SettingsDep, WriterDep
from app.api.disconnect import unless_client_leaves
from app.api.errors import error_responses
from app.api.extractor import OcrResponse, make_options
from extraction.schema import ExtractionResult
from utils.errors import DocumentTooLarge, InvalidRequest

router = APIRouter(tags=["extraction"])

MAX_FILES = 20
_CHUNK = 1 << 20

EngineQuery = Annotated[
    str | None, Query(description="Engine name (default: the configured one, 'auto'); see GET /health.")
]
PagesQuery = Annotated[str | None, Query(description="Pages to read, e.g. '1-3,7' (1-based).", max_length=200)]
DpiQuery = Annotated[int | None, Query(ge=50, le=600, description="Rasterization DPI for pages that need OCR.")]
_EXTRACT_ERRORS = error_responses(400, 401, 403, 413, 415, 422, 502, 503, 504)


async def read_upload(upload: UploadFile, max_bytes: int) -> tuple[bytes, str]:
    """The upload's bytes (DocumentTooLarge past `max_bytes`) and a safe file name."""
    name = (upload.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:200] or "upload"
    chunks, size = [], 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise DocumentTooLarge(f"{name}: over the limit of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks), name


async def _check_documents(files: list[tuple[bytes, str]], settings: SettingsDep) -> None:
    # Several files: refuse a bad one (type, size, pages, encryption) before any of them is stored.
    from extraction.documents import load_document

    def check() -> None:
        for data, name in files:
            load_document(data, name, settings).close()

    await run_in_threadpool(check)


@router.post(
    "/extract",
    response_model=ExtractionResult | list[ExtractionResult],
    summary="Extract invoices from uploaded files",
    responses=_EXTRACT_ERRORS,
)
async def extract(
    request: Request,
    extractor: ExtractorDep,
    settings: SettingsDep,
    _caller: WriterDep,
    file: Annotated[UploadFile | None, File(description="One document (PDF, PNG, JPEG, TIFF, WebP, XML).")] = None,
    files: Annotated[list[UploadFile] | None, File(description=f"Several documents (at most {MAX_FILES}).")] = None,
    engine: EngineQuery = None,
    pages: PagesQuery = None,
    dpi: DpiQuery = None,
    store: Annotated[bool, Query(description="Store in the invoice history.")] = True,
    enrich: Annotated[bool, Query(description="Add vendor history, similar invoices, duplicates, anomalies.")] = True,
) -> ExtractionResult | list[ExtractionResult]:
    """One ExtractionResult for `file`, a list for `files`.

    A multi-page PDF is one invoice unless its pages show several (then one result per invoice, each with
    `page_range`, and the answer is a list). The same file uploaded twice is stored once. With several
    files, all are checked before any is read; a file that fails later answers its error while the
    others stay stored.
    """
    uploads = ([file] if file is not None else []) + list(files or [])
    if not uploads:
        raise InvalidRequest("send a document in the multipart field 'file' (or several in 'files')")
    if len(uploads) > MAX_FILES:
        raise InvalidRequest(f"at most {MAX_FILES} files per request")
    options = make_options(engine, pages, dpi, settings.max_pages)
    payload = [await read_upload(u, settings.max_bytes) for u in uploads]
    if len(payload) == 1:
        results = await unless_client_leaves(
            request, extractor.extract(payload[0][0], payload[0][1], options, store=store, enrich=enrich)
        )
        if file is not None and len(results) == 1:
            return results[0]
        return results
    await _check_documents(payload, settings)
    per_file = await unless_client_leaves(request, extractor.extract_many(payload, options, store=store, enrich=enrich))
    return [r for results in per_file for r in results]


@router.post("/ocr", response_model=OcrResponse, summary="Document to markdown text", responses=_EXTRACT_ERRORS)
async def ocr(
    request: Request,
    extractor: ExtractorDep,
    settings: SettingsDep,
    _caller: WriterDep,
    file: Annotated[UploadFile, File(description="One document (PDF, PNG, JPEG, TIFF, WebP, XML).")],
    engine: EngineQuery = None,
    pages: PagesQuery = None,
    dpi: DpiQuery = None,
) -> OcrResponse:
    """The pages as markdown (`text`) with the page count and engine; nothing is stored."""
    options = make_options(engine, pages, dpi, settings.max_pages)
    data, name = await read_upload(file, settings.max_bytes)
    return await unless_client_leaves(request, extractor.ocr(data, name, options))
