"""GET /health (open) and GET /metrics."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from app.api.deps import ReaderDep, Services, ServicesDep
from app.api.errors import error_responses
from app.api.metrics import CONTENT_TYPE
from utils.errors import InvoiceOcrError

router = APIRouter(tags=["system"])
_ENGINE_TTL = 30.0


class EngineState(BaseModel):
    """Whether an engine can run here, and why not."""

    available: bool
    reason: str = ""
    details: dict[str, Any] = Field(
        default_factory=dict, description="Engine specifics: loaded model, failed loads, vLLM servers and checks."
    )


class QueueState(BaseModel):
    """The extraction pool right now."""

    workers: int
    running: int
    waiting: int
    capacity: int


class Health(BaseModel):
    """Service readiness: engines, store, index and queue."""

    status: str = Field(description="'ok', or 'degraded' when the store or the key file cannot be read.")
    auth: bool = Field(description="Whether API keys are required.")
    problems: list[str] = Field(default_factory=list, description="What keeps the service from working fully.")
    engines: dict[str, EngineState]
    store: dict[str, Any] = Field(default_factory=dict)
    index: dict[str, Any] = Field(default_factory=dict)
    queue: QueueState


_engine_cache: dict[int, tuple[float, dict[str, EngineState]]] = {}


def _engines(services: Services) -> dict[str, EngineState]:
    from extraction.engines.registry import engine_status

    key = id(services)
    cached = _engine_cache.get(key)
    if cached and time.monotonic() - cached[0] < _ENGINE_TTL:
        return cached[1]
    states = {
        name: EngineState(available=bool(s["available"]), reason=str(s["reason"] or ""), details=dict(s["details"]))
        for name, s in engine_status(services.settings).items()
    }
    _engine_cache[key] = (time.monotonic(), states)
    return states


def _key_holder(services: Services, request: Request) -> bool:
    """Whether the caller sent a valid API key (with keys off, nobody has one)."""
    if not services.auth.enabled:
        return False
    try:
        services.auth.principal_for(request.headers)
    except InvoiceOcrError:
        return False
    return True


@router.get("/health", response_model=Health, summary="Readiness: engines, store, index, queue (no auth)")
def health(services: ServicesDep, request: Request) -> Health:
    """Engines available (and why not), store and index state, queue; open without an API key.

    Where the database lives on disk is shown to callers with a valid API key only.
    """
    status, store, index, problems = "ok", {}, {}, []
    holder = _key_holder(services, request)
    try:
        state = services.require_service().health()
        store, index = dict(state.get("store", {})), dict(state.get("index", {}))
    except Exception as exc:  # health reports trouble instead of failing
        status, store = "degraded", {"error": f"{type(exc).__name__}: {exc}" if holder else type(exc).__name__}
        problems.append("the invoice history cannot be read")
    if "path" in store and not holder:
        store["path"] = services.settings.db_path.name
    key_problem = services.auth.problem()
    if key_problem:
        status = "degraded"
        problems.append(key_problem)
    return Health(
        status=status,
        auth=services.auth.enabled,
        problems=problems,
        engines=_engines(services),
        store=store,
        index=index,
        queue=QueueState(**services.pool.state()),
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}},
            "description": "Prometheus text exposition.",
        },
        **error_responses(401),
    },
)
def metrics(services: ServicesDep, _caller: ReaderDep) -> Response:
    """Request latency per route, documents and pages per engine, OCR latency, errors, queue, GPU."""
    return Response(services.metrics.render(), media_type=CONTENT_TYPE)
