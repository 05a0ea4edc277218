"""The OcrEngine interface every engine implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from utils.engine_options import EngineOptions, section_name

if TYPE_CHECKING:
    from extraction.documents import Document, Page
    from extraction.markdown import PageMarkdown
    from utils.settings import Settings

__all__ = ["Availability", "EngineOptions", "OcrEngine"]


@dataclass(frozen=True)
class Availability:
    """Whether an engine can run here, and why not."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


class OcrEngine(ABC):
    """Turns pages into markdown with boxes; heavy imports happen inside, on first use.

    `options` are the engine's configured options: its section of the settings (`settings.<name>`, read
    from INVOICE_OCR_<NAME>__<FIELD>), or for an engine without one its options model's defaults at the
    configured dpi. A call's options are these with the call's overrides (`call_options`).
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    options_model: ClassVar[type[EngineOptions]] = EngineOptions
    # Whether the engine reads pixels (so pages are rasterized for it).
    needs_raster: ClassVar[bool] = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.options = self.configured_options(settings)

    @classmethod
    def configured_options(cls, settings: Settings) -> EngineOptions:
        """This engine's options as the settings give them."""
        section = getattr(settings, section_name(cls.name), None)
        if isinstance(section, cls.options_model):
            return section
        return cls.options_model(dpi=settings.dpi)

    def call_options(self, **overrides: Any) -> EngineOptions:
        """The configured options with one call's overrides (those given as None keep the configured value)."""
        update = {key: value for key, value in overrides.items() if value is not None}
        if not update:
            return self.options
        return self.options_model.model_validate({**self.options.model_dump(), **update})

    def own_options(self, options: EngineOptions) -> EngineOptions:
        """`options` as this engine's own model: other engines' options keep only the shared fields (dpi)."""
        if isinstance(options, self.options_model):
            return options
        shared = {key: value for key, value in options.model_dump().items() if key in EngineOptions.model_fields}
        return self.call_options(**shared)

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
        """Read a batch of pages of one document, one PageMarkdown per page, in order.

        A page the engine could not read comes back with `failure` set (the pipeline re-reads it with
        another engine); only an engine that cannot run at all raises (EngineUnavailable).
        """
