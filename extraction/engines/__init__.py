"""OCR engines behind one interface and one registry."""

from extraction.engines.base import Availability, EngineOptions, OcrEngine
from extraction.engines.registry import engine_names, engine_status, get_engine, register, require_engine

__all__ = [
    "Availability",
    "EngineOptions",
    "OcrEngine",
    "engine_names",
    "engine_status",
    "get_engine",
    "register",
    "require_engine",
]
