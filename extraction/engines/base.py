"""The OcrEngine interface every engine implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from extraction.documents import Document, Page
    from extraction.markdown import PageMarkdown
    from utils.settings import Settings


class EngineOptions(BaseModel):
    """Options shared by every engine; engines may subclass with their own described fields."""

    dpi: int = Field(200, ge=50, le=600, description="Rasterization DPI for pages that need pixels.")


@dataclass(frozen=True)
class Availability:
    """Whether an engine can run here, and why not."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


class OcrEngine(ABC):
    """Turns pages into markdown with boxes; heavy imports happen inside, on first use."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    options_model: ClassVar[type[EngineOptions]] = EngineOptions
    # Whether the engine reads pixels (so pages are rasterized for it).
    needs_raster: ClassVar[bool] = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abstractmethod
    def available(self) -> Availability:
        """Whether this engine can run here; the reason when it cannot."""

    def configured(self) -> bool:
        """Whether the settings ask for this engine (a model or a server is set); `auto` explains skipping one."""
        return True

    def report(self) -> dict[str, Any]:
        """Details for /health beyond available/reason (loaded model, servers, checks); empty by default."""
        return {}

    def accepts(self, document: Document, page: Page) -> bool:
        """Whether this engine can read this page (used by `auto`); raster engines read anything."""
        return True

    @abstractmethod
    def recognize(self, document: Document, pages: list[Page], options: EngineOptions) -> list[PageMarkdown]:
        """Read a batch of pages of one document, one PageMarkdown per page, in order."""
