"""One options model per OCR engine, holding all of that engine's settings, each field described.

`Settings` carries one of these per engine under the engine's name (`settings.deepseek`, `settings.vllm`,
`settings.deepseek_legacy`, ...), read from `INVOICE_OCR_<ENGINE>__<FIELD>` (`INVOICE_OCR_VLLM__URLS`);
the flat names the product documented first (`INVOICE_OCR_VLLM_URLS`, `INVOICE_OCR_DEEPSEEK_MODEL`, ...)
are read into the same fields (see `FLAT_NAMES`). A call's options are the engine's configured options
with the call's overrides (dpi) applied: `OcrEngine.call_options`. The models are plain data (pydantic
only) so the settings module can hold them; the engines in `extraction.engines` name theirs as
`options_model`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field
from pydantic_settings import NoDecode


def split_csv(value: object) -> object:
    """A comma-separated string as a list of its non-empty parts."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


# Lists a setting may give comma-separated ("http://a:8000, http://b:8001"); not decoded as JSON.
CsvStrings = Annotated[list[str], NoDecode, BeforeValidator(split_csv)]
CsvInts = Annotated[list[int], NoDecode, BeforeValidator(split_csv)]


class EngineOptions(BaseModel):
    """Options every engine has; each engine's own model adds its fields."""

    dpi: int = Field(
        200, ge=50, le=600, description="Rasterization DPI for pages that need pixels (default: INVOICE_OCR_DPI)."
    )


class AutoOptions(EngineOptions):
    """`auto`: its dpi is handed on to the engines it picks for each page."""


class EInvoiceOptions(EngineOptions):
    """`einvoice`: reads embedded XML; nothing to set."""


class TextLayerOptions(EngineOptions):
    """`textlayer`: reads the PDF text layer; nothing to set beyond the shared options."""


class RapidOcrOptions(EngineOptions):
    """`rapidocr`: RapidOCR (PP-OCR on ONNX Runtime) on the CPU."""

    threads: int = Field(
        2,
        ge=1,
        description="ONNX Runtime threads per page (flat name: INVOICE_OCR_OCR_THREADS); a second gains 1.6-2x.",
    )
    max_side: int = Field(2000, ge=640, le=8000, description="Downscale images whose longer side exceeds this.")
    detection_side: int = Field(
        1600,
        ge=320,
        le=8000,
        description="Longest side text detection looks at (recognition keeps full resolution); 1600 px keeps an "
        "A4 page's text lines 15+ px tall at 200 dpi.",
    )


class TesseractOptions(EngineOptions):
    """`tesseract`: Tesseract 5 on the CPU."""

    lang: str = Field("eng", description="Tesseract language(s), e.g. 'eng+deu'; only installed ones work.")
    psm: int = Field(3, ge=0, le=13, description="Page segmentation mode (3 = automatic).")
    timeout: float = Field(120.0, description="Seconds before one page's OCR is abandoned.")


# <td> and </td> in the DeepSeek-OCR tokenizer, as in DeepSeek's vLLM recipe: empty cells may repeat.
TABLE_CELL_TOKEN_IDS = [128821, 128822]


class GenerationOptions(EngineOptions):
    """Decoding limits shared by the engines that run DeepSeek-OCR (one flat name sets all of them)."""

    max_new_tokens: int = Field(
        4096, description="Token limit per page (flat name for every DeepSeek engine: DEEPSEEK_MAX_NEW_TOKENS)."
    )
    ngram_size: int = Field(30, ge=0, description="No-repeat n-gram size for DeepSeek decoding (0: off).")
    ngram_window: int = Field(90, ge=1, description="Tokens the no-repeat n-gram check looks back over.")
    whitelist_token_ids: CsvInts = Field(
        default_factory=lambda: list(TABLE_CELL_TOKEN_IDS),
        description="Token ids exempt from the repetition checks (comma-separated).",
    )


class DeepSeekOptions(GenerationOptions):
    """`deepseek`: DeepSeek-OCR-2 in this process through transformers, bf16 on CUDA."""

    model: Path | None = Field(None, description="Local DeepSeek-OCR-2 model directory (native transformers layout).")
    allow_cpu: bool = Field(False, description="Let the in-process DeepSeek engine run on the CPU (very slow).")
    batch_size: int = Field(8, description="Pages per batch.")
    timeout: float = Field(
        300.0, gt=0, description="Seconds one batch may generate before it stops (its pages then fail)."
    )
    retry_after: float = Field(
        60.0, gt=0, description="Seconds before a model that failed to load is tried again (doubles up to 1 h)."
    )


VllmProfileName = Literal["auto", "deepseek-ocr", "deepseek-ocr-2", "glm-ocr", "paddleocr-vl-1.5"]


class VllmOptions(GenerationOptions):
    """`vllm`: OCR models behind one or more vLLM OpenAI-compatible servers."""

    urls: CsvStrings = Field(default_factory=list, description="vLLM server URLs (comma-separated).")
    model: str = Field("deepseek-ai/DeepSeek-OCR", description="Model name served by vLLM.")
    profile: VllmProfileName = Field(
        "auto", description="How to prompt the served model and read its answer; auto: from the model name."
    )
    timeout: float = Field(120.0, description="Per-request timeout in seconds.")
    concurrency: int = Field(8, description="Most requests in flight to the servers.")
    retries: int = Field(2, ge=0, description="Retries per page on another server after an error.")


class DeepSeekLegacyOptions(GenerationOptions):
    """`deepseek-legacy`: DeepSeek-OCR v1 through its side service in its own environment."""

    url: str | None = Field(None, description="URL of the DeepSeek-OCR v1 side service.")
    timeout: float = Field(300.0, description="Per-page timeout in seconds (the service stops before it).")


# The flat names documented before the options nested under each engine: INVOICE_OCR_<NAME> (or the
# keyword <name> given to Settings) sets these fields; one name may set a field of several engines.
FLAT_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "ocr_threads": (("rapidocr", "threads"),),
    "deepseek_model": (("deepseek", "model"),),
    "deepseek_allow_cpu": (("deepseek", "allow_cpu"),),
    "deepseek_batch_size": (("deepseek", "batch_size"),),
    "deepseek_timeout": (("deepseek", "timeout"),),
    "deepseek_retry_after": (("deepseek", "retry_after"),),
    "deepseek_max_new_tokens": (
        ("deepseek", "max_new_tokens"),
        ("vllm", "max_new_tokens"),
        ("deepseek_legacy", "max_new_tokens"),
    ),
    "deepseek_ngram_size": (("deepseek", "ngram_size"), ("vllm", "ngram_size"), ("deepseek_legacy", "ngram_size")),
    "deepseek_ngram_window": (
        ("deepseek", "ngram_window"),
        ("vllm", "ngram_window"),
        ("deepseek_legacy", "ngram_window"),
    ),
    "deepseek_whitelist_token_ids": (
        ("deepseek", "whitelist_token_ids"),
        ("vllm", "whitelist_token_ids"),
        ("deepseek_legacy", "whitelist_token_ids"),
    ),
    "vllm_urls": (("vllm", "urls"),),
    "vllm_model": (("vllm", "model"),),
    "vllm_profile": (("vllm", "profile"),),
    "vllm_timeout": (("vllm", "timeout"),),
    "vllm_concurrency": (("vllm", "concurrency"),),
    "vllm_retries": (("vllm", "retries"),),
    "deepseek_legacy_url": (("deepseek_legacy", "url"),),
    "deepseek_legacy_timeout": (("deepseek_legacy", "timeout"),),
}


def section_name(engine: str) -> str:
    """The settings field an engine's options live under (`deepseek-legacy` -> `deepseek_legacy`)."""
    return engine.replace("-", "_")
