"""The one settings object (env prefix INVOICE_OCR_, `.env` supported)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Service-wide configuration; per-call options live in `extraction.options.ExtractOptions`."""

    model_config = SettingsConfigDict(env_prefix="INVOICE_OCR_", env_file=".env", extra="ignore")

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
    ocr_threads: int = Field(2, ge=1, description="Threads per CPU OCR engine.")
    low_confidence: float = Field(
        0.91,
        description="Key fields under this confidence set needs_review (make train reports the threshold that "
        "flags 90% of wrong documents: extraction/parser/models/report.json, review.threshold).",
    )

    # DeepSeek / vLLM.
    deepseek_model: Path | None = Field(None, description="Local DeepSeek-OCR-2 model directory.")
    deepseek_allow_cpu: bool = Field(False, description="Let the in-process DeepSeek engine run on CPU.")
    deepseek_max_new_tokens: int = Field(4096, description="Token limit per page for DeepSeek engines.")
    deepseek_batch_size: int = Field(8, description="Pages per batch for the in-process DeepSeek engine.")
    deepseek_timeout: float = Field(
        300.0, gt=0, description="Seconds one batch may generate in-process before it stops (its pages then fail)."
    )
    deepseek_retry_after: float = Field(
        60.0, gt=0, description="Seconds before a model that failed to load is tried again (doubles up to 1 h)."
    )
    deepseek_legacy_url: str | None = Field(None, description="URL of the DeepSeek-OCR v1 side service.")
    vllm_urls: Annotated[list[str], NoDecode] = Field(default_factory=list, description="vLLM server URLs.")
    vllm_model: str = Field("deepseek-ai/DeepSeek-OCR", description="Model name served by vLLM.")
    vllm_profile: Literal["auto", "deepseek-ocr", "deepseek-ocr-2", "glm-ocr", "paddleocr-vl-1.5"] = Field(
        "auto", description="How to prompt the served model and read its answer; auto: from INVOICE_OCR_VLLM_MODEL."
    )
    vllm_timeout: float = Field(120.0, description="Per-request timeout in seconds for vLLM.")
    vllm_concurrency: int = Field(8, description="Most requests in flight to vLLM servers.")
    vllm_retries: int = Field(2, ge=0, description="Retries per page on another vLLM server after an error.")
    deepseek_legacy_timeout: float = Field(300.0, description="Per-page timeout in seconds for the v1 service.")
    deepseek_ngram_size: int = Field(30, ge=0, description="No-repeat n-gram size for DeepSeek decoding (0: off).")
    deepseek_ngram_window: int = Field(90, ge=1, description="Tokens the no-repeat n-gram check looks back over.")
    # <td> and </td> in the DeepSeek-OCR tokenizer, as in DeepSeek's vLLM recipe: empty cells may repeat.
    deepseek_whitelist_token_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [128821, 128822], description="Token ids exempt from the repetition checks."
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
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, description="Accepted API keys.")
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

    @field_validator("vllm_urls", "api_keys", "deepseek_whitelist_token_ids", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

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
