"""The one settings object (env prefix INVOICE_OCR_, `.env` supported)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from utils.engine_options import (
    FLAT_NAMES,
    AutoOptions,
    CsvStrings,
    DeepSeekLegacyOptions,
    DeepSeekOptions,
    EInvoiceOptions,
    RapidOcrOptions,
    TesseractOptions,
    TextLayerOptions,
    VllmOptions,
)

ENGINE_SECTIONS = ("auto", "einvoice", "textlayer", "rapidocr", "tesseract", "deepseek", "vllm", "deepseek_legacy")


def nest_flat_names(data: dict[str, Any], flat: dict[str, Any]) -> dict[str, Any]:
    """`data` with each flat name's value set in its engines' sections, where the nested spelling left it unset."""
    for name, value in flat.items():
        for section, field in FLAT_NAMES[name]:
            current = data.get(section)
            if isinstance(current, BaseModel):
                current = current.model_dump(exclude_unset=True)
            elif current is None:
                current = {}
            if isinstance(current, dict):
                data[section] = {field: value, **current}
    return data


class FlatNames(PydanticBaseSettingsSource):
    """A settings source that also reads the flat names (INVOICE_OCR_VLLM_URLS) into the engines' sections.

    Within one source the nested spelling (INVOICE_OCR_VLLM__URLS) wins over the flat one; across
    sources the usual order holds (arguments, then the environment, then `.env`).
    """

    def __init__(self, source: PydanticBaseSettingsSource) -> None:
        super().__init__(source.settings_cls)
        self.source = source

    def _set_current_state(self, state: dict[str, Any]) -> None:
        super()._set_current_state(state)
        self.source._set_current_state(state)

    def _set_settings_sources_data(self, states: dict[str, dict[str, Any]]) -> None:
        super()._set_settings_sources_data(states)
        self.source._set_settings_sources_data(states)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Not used: values come from the wrapped source."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        """The wrapped source's values, the flat names nested under their engines."""
        data = dict(self.source())
        flat = {name: data.pop(name) for name in FLAT_NAMES if name in data}
        if isinstance(self.source, EnvSettingsSource):
            prefix = str(self.config.get("env_prefix", "")).lower()
            for name in FLAT_NAMES:
                value = self.source.env_vars.get(prefix + name)
                if value is not None and name not in flat:
                    flat[name] = value
        return nest_flat_names(data, flat)

    def __repr__(self) -> str:
        return f"FlatNames({self.source!r})"


class Settings(BaseSettings):
    """Service-wide configuration; per-call options live in `extraction.options.ExtractOptions`."""

    model_config = SettingsConfigDict(
        env_prefix="INVOICE_OCR_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    data_dir: Path = Field(Path("./data"), description="Where invoices.duckdb, index/ and files/ live.")

    # Input limits: refused before any heavy decoding.
    max_bytes: int = Field(50 * 1024 * 1024, description="Largest accepted upload in bytes.")
    max_pages: int = Field(300, description="Most pages (or TIFF frames) accepted in one document.")
    max_pixels: int = Field(60_000_000, description="Most pixels in one image page (decompression bombs).")
    max_json_bytes: int = Field(
        1024 * 1024, description="Largest request body of every route but the uploads (corrections, the page's calls)."
    )
    max_document_pixels: int = Field(
        600_000_000, description="Most pixels in one image file, all its frames together (TIFF frame bombs)."
    )

    # Extraction defaults.
    engine: str = Field("auto", description="Engine used when a call names none.")
    raster_engine: str = Field("rapidocr", description="CPU engine that `auto` uses for pages without text.")
    dpi: int = Field(200, ge=50, le=600, description="Rasterization resolution for pages that need OCR.")
    low_confidence: float = Field(
        0.87,
        description="A key field under this confidence, or vendor, date and total whose confidences multiply "
        "to less, set needs_review (make train reports the threshold that flags 90% of wrong documents: "
        "extraction/parser/models/report.json, review.threshold).",
    )

    # Each engine's own options, nested under its name: INVOICE_OCR_<ENGINE>__<FIELD> (INVOICE_OCR_VLLM__URLS);
    # the flat names documented first (INVOICE_OCR_VLLM_URLS, ...) still set them (utils.engine_options.FLAT_NAMES).
    auto: AutoOptions = Field(default_factory=AutoOptions, description="Options of `auto`.")
    einvoice: EInvoiceOptions = Field(default_factory=EInvoiceOptions, description="Options of `einvoice`.")
    textlayer: TextLayerOptions = Field(default_factory=TextLayerOptions, description="Options of `textlayer`.")
    rapidocr: RapidOcrOptions = Field(default_factory=RapidOcrOptions, description="Options of `rapidocr`.")
    tesseract: TesseractOptions = Field(default_factory=TesseractOptions, description="Options of `tesseract`.")
    deepseek: DeepSeekOptions = Field(default_factory=DeepSeekOptions, description="Options of `deepseek`.")
    vllm: VllmOptions = Field(default_factory=VllmOptions, description="Options of `vllm`.")
    deepseek_legacy: DeepSeekLegacyOptions = Field(
        default_factory=DeepSeekLegacyOptions, description="Options of `deepseek-legacy`."
    )

    # Retrieval.
    semantic_min_score: float = Field(
        0.2,
        ge=-1.0,
        le=1.0,
        description="Cosine similarity under which a search hit found by meaning alone is not shown.",
    )
    embedding_model: str | None = Field(None, description="Local sentence-transformers model dir.")
    embedding_backend: Literal["auto", "onnx", "torch"] = Field(
        "auto", description="auto: a local ONNX export on the CPU (same vectors, faster), torch on CUDA."
    )
    embedding_threads: int = Field(
        2, ge=1, le=64, description="CPU threads per embedding call (query batches, ingest); more gives faster batches."
    )
    hnsw_threshold: int = Field(20_000, description="Index size from which FAISS switches to HNSW.")

    # Service.
    host: str = Field("127.0.0.1", description="Bind address.")
    port: int = Field(8000, description="Bind port.")
    api_keys: CsvStrings = Field(default_factory=list, description="Accepted API keys.")
    allow_insecure_bind: bool = Field(False, description="Allow a non-loopback bind without API keys.")
    extract_workers: int = Field(1, ge=1, description="Concurrent extractions (one GPU is one slot).")
    extract_processes: bool = Field(
        True, description="Read documents in separate lower-priority processes (searches stay fast meanwhile)."
    )
    reader_max_rss_mb: int = Field(
        1024,
        ge=64,
        description="A reader process holding more memory than this (MB) after a document is replaced by a fresh one.",
    )
    queue_size: int = Field(16, ge=1, description="Extractions waiting before 503 Busy.")
    request_timeout: float = Field(600.0, description="Seconds before an extraction request gives up.")
    document_timeout: float = Field(
        120.0,
        gt=0,
        description="Seconds one document may take to be read (OCR and parsing) before its reading is stopped "
        "and the request answers 413 document_too_slow; nothing of it is stored.",
    )

    @model_validator(mode="after")
    def _engine_dpi(self) -> Settings:
        """Each engine's dpi is INVOICE_OCR_DPI unless its own (INVOICE_OCR_<ENGINE>__DPI) is set."""
        for name in ENGINE_SECTIONS:
            section = getattr(self, name)
            if "dpi" not in section.model_fields_set:
                setattr(self, name, section.model_copy(update={"dpi": self.dpi}))
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The usual sources and order (arguments, environment, .env, secrets), each reading the flat names too."""
        return (FlatNames(init_settings), FlatNames(env_settings), FlatNames(dotenv_settings), file_secret_settings)

    @property
    def db_path(self) -> Path:
        """The DuckDB file."""
        return self.data_dir / "invoices.duckdb"

    @property
    def index_dir(self) -> Path:
        """The FAISS index folder."""
        return self.data_dir / "index"

    @property
    def files_dir(self) -> Path:
        """Content-addressed original files."""
        return self.data_dir / "files"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
