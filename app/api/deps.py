"""FastAPI dependencies as Annotated aliases, and the per-app bundle of heavy objects built once.

The dependencies are `async def` on purpose: they only look things up, and a plain `def` dependency
costs every request a hop to the thread pool and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.api.auth import Authenticator, Principal, require_write
from app.api.extractor import Extractor
from app.api.metrics import Metrics
from app.api.workers import ExtractionPool
from extraction.reading import DocumentReader
from utils.errors import Busy
from utils.settings import Settings

if TYPE_CHECKING:
    from retrieval.service import InvoiceService


@dataclass
class Services:
    """Everything routes (and the UI at /ui) use: settings, metrics, auth, the pool, reader, extractor, store.

    `service` (the InvoiceService) is opened in the app's lifespan; the rest exists from create_app on.
    """

    settings: Settings
    metrics: Metrics
    auth: Authenticator
    pool: ExtractionPool
    reader: DocumentReader = field(init=False)
    extractor: Extractor = field(init=False)
    service: InvoiceService | None = field(default=None, init=False)  # None until the lifespan opens it

    def __post_init__(self) -> None:
        self.reader = DocumentReader(self.settings)  # reader processes in the background, one per worker
        self.extractor = Extractor(self.settings, self.pool, self.metrics, self.require_service, self.reader)

    def require_service(self) -> InvoiceService:
        """The InvoiceService; Busy while the app is still starting."""
        if self.service is None:
            raise Busy("the service is starting; retry shortly", retry_after=2)
        return self.service


async def get_services(request: Request) -> Services:
    """The app's Services bundle."""
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_settings_dep(services: ServicesDep) -> Settings:
    """The app's settings."""
    return services.settings


async def get_service(services: ServicesDep) -> InvoiceService:
    """The app's InvoiceService."""
    return services.require_service()


async def get_extractor(services: ServicesDep) -> Extractor:
    """The app's Extractor."""
    return services.extractor


_bearer = HTTPBearer(auto_error=False, description="An API key as a bearer token.")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")


async def get_principal(
    services: ServicesDep,
    request: Request,
    _bearer_doc: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    _key_doc: Annotated[str | None, Security(_api_key)],
) -> Principal:
    """The caller; Unauthorized when auth is on and a key is missing, or any key sent is not valid."""
    return services.auth.principal_for(request.headers)


async def get_writer(principal: Annotated[Principal, Depends(get_principal)], request: Request) -> Principal:
    """The caller, who must hold a key that may change things (Forbidden for read-only keys)."""
    return require_write(principal, f"{request.method} {request.url.path}")


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
if TYPE_CHECKING:
    ServiceDep = Annotated[InvoiceService, Depends(get_service)]
else:  # FastAPI reads the alias at import, and retrieval (DuckDB, FAISS) is imported only when the service opens
    ServiceDep = Annotated[Any, Depends(get_service)]
ExtractorDep = Annotated[Extractor, Depends(get_extractor)]
ReaderDep = Annotated[Principal, Depends(get_principal)]
WriterDep = Annotated[Principal, Depends(get_writer)]
