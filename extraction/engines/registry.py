"""Engine registry: names -> classes, instances built once per settings object."""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

from pydantic import AfterValidator

from utils.errors import EngineUnavailable, UnknownEngine

if TYPE_CHECKING:
    from extraction.engines.base import OcrEngine
    from utils.settings import Settings

# Built-in engines, registered in this one place; modules are imported only when used.
BUILTIN_ENGINES: dict[str, str] = {
    "auto": "extraction.engines.auto:AutoEngine",
    "einvoice": "extraction.engines.einvoice:EInvoiceEngine",
    "textlayer": "extraction.engines.textlayer:TextLayerEngine",
    "rapidocr": "extraction.engines.rapid:RapidOcrEngine",
    "tesseract": "extraction.engines.tesseract:TesseractEngine",
    "deepseek": "extraction.engines.deepseek:DeepSeekEngine",
    "deepseek-legacy": "extraction.engines.deepseek_legacy:DeepSeekLegacyEngine",
    "vllm": "extraction.engines.vllm:VllmEngine",
}

# Raster engines in order of preference: `auto` tries the GPU ones first; failed pages are re-read on the CPU ones.
GPU_ENGINES: tuple[str, ...] = ("deepseek", "vllm")
CPU_RASTER_ENGINES: tuple[str, ...] = ("rapidocr", "tesseract")

_extra: dict[str, type[OcrEngine]] = {}
_instances: dict[tuple[int, str], OcrEngine] = {}
_lock = threading.Lock()


def register(cls: type[OcrEngine]) -> type[OcrEngine]:
    """Register an engine class under its `name` (usable as a decorator by plugins)."""
    _extra[cls.name] = cls
    return cls


def engine_names() -> list[str]:
    """Every known engine name, built-ins first."""
    return list(BUILTIN_ENGINES) + [n for n in _extra if n not in BUILTIN_ENGINES]


def check_engine_name(name: str) -> str:
    """`name` when an engine is registered under it; UnknownEngine listing the known names otherwise.

    The one check of engine names: per-call options (`EngineName`), the API, the CLI and re-reads use it.
    """
    if name not in BUILTIN_ENGINES and name not in _extra:
        raise UnknownEngine(f"unknown engine {name!r}; known engines: {', '.join(engine_names())}")
    return name


# An engine name checked against the registry where a pydantic model holds it (UnknownEngine when unknown).
EngineName = Annotated[str, AfterValidator(check_engine_name)]


def engine_class(name: str) -> type[OcrEngine]:
    """The class registered under `name`; UnknownEngine lists the known names."""
    check_engine_name(name)
    if name in _extra:
        return _extra[name]
    target = BUILTIN_ENGINES[name]
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def get_engine(name: str, settings: Settings) -> OcrEngine:
    """The shared instance of engine `name` for these settings (built on first use)."""
    key = (id(settings), name)
    with _lock:
        engine = _instances.get(key)
        if engine is None:
            engine = engine_class(name)(settings)
            _instances[key] = engine
    return engine


def require_engine(name: str, settings: Settings) -> OcrEngine:
    """Like get_engine, but raises EngineUnavailable with the reason when it cannot run here."""
    engine = get_engine(name, settings)
    availability = engine.available()
    if not availability:
        raise EngineUnavailable(f"engine {name!r} is unavailable: {availability.reason}")
    return engine


def is_available(name: str, settings: Settings) -> bool:
    """Whether engine `name` can run here (an engine whose module is missing or broken cannot)."""
    try:
        return bool(get_engine(name, settings).available())
    except Exception:
        return False


def cpu_raster_engine(settings: Settings, exclude: str | None = None) -> str | None:
    """The best available CPU raster engine other than `exclude`: settings.raster_engine first, then the others."""
    order = [settings.raster_engine, *(n for n in CPU_RASTER_ENGINES if n != settings.raster_engine)]
    for name in order:
        if name != exclude and is_available(name, settings):
            return name
    return None


class EngineStatus(TypedDict):
    """Whether an engine can run here, why not, and its details (OcrEngine.report)."""

    available: bool
    reason: str
    details: dict[str, Any]


def engine_status(settings: Settings) -> dict[str, EngineStatus]:
    """For /health and the UI: each engine, whether it is available, why not, and its details."""
    status: dict[str, EngineStatus] = {}
    for name in engine_names():
        try:
            engine = get_engine(name, settings)
            availability = engine.available()
            status[name] = {"available": availability.ok, "reason": availability.reason, "details": engine.report()}
        except Exception as exc:  # an engine module that fails to import is reported, not fatal
            status[name] = {"available": False, "reason": f"{type(exc).__name__}: {exc}", "details": {}}
    return status
