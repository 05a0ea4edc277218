"""`deepseek`: DeepSeek-OCR-2 in-process through transformers' native classes, bf16 on CUDA.

The model comes from a local directory (`INVOICE_OCR_DEEPSEEK_MODEL`, never a hub download), is loaded
once, lazily, under a lock, and shared by every engine instance using the same directory and device.
Pages are read in batches with greedy decoding, a token limit and repetition guards; a page whose
output loops or is cut off gets `failure` set so the pipeline reads it again with a CPU engine.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extraction.engines.base import Availability, EngineOptions, OcrEngine
from extraction.engines.grounding import GROUNDING_PROMPT, is_table_markup, page_from_output
from extraction.markdown import PageMarkdown
from utils.errors import EngineUnavailable

if TYPE_CHECKING:
    from PIL import Image

    from extraction.documents import Document, Page
    from utils.settings import Settings

log = logging.getLogger(__name__)

INSTALL_HINT = "install torch and transformers>=5.24 (pip install -e '.[gpu]' on a CUDA machine)"
TABLE_CELL_TOKENS = ("<td>", "</td>")


@dataclass
class PageOutput:
    """What the model wrote for one page and how generation ended."""

    text: str
    new_tokens: int
    hit_limit: bool
    failure: str | None = None


def model_dir_problem(path: Path | None) -> str | None:
    """Why `path` is not a usable DeepSeek-OCR-2 model directory, or None."""
    if path is None:
        return "INVOICE_OCR_DEEPSEEK_MODEL is not set (a local DeepSeek-OCR-2 model directory)"
    config = Path(path) / "config.json"
    if not config.is_file():
        return f"model directory {path} has no config.json"
    try:
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError) as exc:
        return f"model directory {path}: unreadable config.json ({exc})"
    if model_type != "deepseek_ocr2":
        return (
            f"model directory {path} holds model_type {model_type!r}, not a native DeepSeek-OCR-2 checkpoint "
            "(convert it with transformers' convert_deepseek_ocr2_weights_to_hf.py; v1 uses `deepseek-legacy`)"
        )
    return None


class DeepSeekRunner:
    """A loaded DeepSeek-OCR-2 model and processor on one device; `generate` reads a batch of images."""

    def __init__(self, settings: Settings, device: str) -> None:
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.model_dir = Path(settings.deepseek_model or "")
        self.device = device
        self.dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        self.ngram_size = settings.deepseek_ngram_size
        self.ngram_window = settings.deepseek_ngram_window
        self.lock = threading.Lock()
        started = time.perf_counter()
        self.processor = AutoProcessor.from_pretrained(self.model_dir, local_files_only=True)
        self.tokenizer = self.processor.tokenizer
        # Decoder-only batching pads on the left so every row's last token is real.
        self.tokenizer.padding_side = "left"
        self.attn_implementation, self.model = self._load_model(AutoModelForImageTextToText)
        self.model.eval()
        self.load_seconds = time.perf_counter() - started
        self.whitelist = self._table_token_ids(settings.deepseek_whitelist_token_ids)
        self.eos_id = self.tokenizer.eos_token_id
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.eos_id
        self.strip_ids = {i for i in (self.eos_id, self.pad_id, self.tokenizer.bos_token_id) if i is not None}
        log.info(
            "deepseek: loaded %s on %s (%s) in %.1fs",
            self.model_dir,
            device,
            self.attn_implementation,
            self.load_seconds,
        )

    def _load_model(self, auto_class: Any) -> tuple[str, Any]:
        kwargs = {"local_files_only": True, "dtype": self.dtype}
        # SAM's relative-position bias rules out flash attention for vision; the language model can use it.
        if self.device.startswith("cuda") and importlib.util.find_spec("flash_attn") is not None:
            try:
                attn = {"": "sdpa", "text_config": "flash_attention_2"}
                return "sdpa+flash_attention_2", auto_class.from_pretrained(
                    self.model_dir, attn_implementation=attn, **kwargs
                ).to(self.device)
            except (ImportError, ValueError, RuntimeError) as exc:
                log.warning("deepseek: flash attention unavailable (%s); using SDPA", exc)
        model = auto_class.from_pretrained(self.model_dir, attn_implementation="sdpa", **kwargs)
        return "sdpa", model.to(self.device)

    def _table_token_ids(self, fallback: list[int]) -> list[int]:
        """The ids of `<td>` `</td>` in this tokenizer (exempt from repetition checks), else the setting."""
        ids = self.tokenizer.convert_tokens_to_ids(list(TABLE_CELL_TOKENS))
        unk = self.tokenizer.unk_token_id
        if all(isinstance(i, int) and i != unk for i in ids):
            return list(ids)
        return list(fallback)

    def prepare(self, images: list[Image.Image]) -> Any:
        """Processor inputs for a batch of page images with the grounding prompt, on the model's device."""
        inputs = self.processor(
            images=[im.convert("RGB") for im in images],
            text=[GROUNDING_PROMPT] * len(images),
            return_tensors="pt",
            padding=True,
        )
        return inputs.to(self.device, dtype=self.dtype)

    def generate(self, images: list[Image.Image], max_new_tokens: int) -> list[PageOutput]:
        """Greedy decoding for a batch of page images; one PageOutput per image, in order."""
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList

        from extraction.engines.repetition import LoopStop, NoRepeatNGram

        inputs = self.prepare(images)
        prompt_len = inputs["input_ids"].shape[1]
        loop_stop = LoopStop(prompt_len, whitelist=[*self.whitelist, *self.strip_ids], exempt=self._markup_only)
        processors = LogitsProcessorList()
        if self.ngram_size >= 2:
            processors.append(NoRepeatNGram(prompt_len, self.ngram_size, self.ngram_window, self.whitelist))
        with self.lock, torch.inference_mode():
            sequences = self.model.generate(
                **inputs,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                max_new_tokens=max_new_tokens,
                logits_processor=processors,
                stopping_criteria=StoppingCriteriaList([loop_stop]),
                eos_token_id=self.eos_id,
                pad_token_id=self.pad_id,
                use_cache=True,
            )
        return [
            self.decode(ids, max_new_tokens, loop_stop.reasons.get(row))
            for row, ids in enumerate(sequences[:, prompt_len:].tolist())
        ]

    def _markup_only(self, ids: list[int]) -> bool:
        """Whether these tokens decode to table tags and whitespace only (rows of empty cells may repeat)."""
        return is_table_markup(self.tokenizer.decode(ids, skip_special_tokens=False))

    def decode(self, ids: list[int], max_new_tokens: int, loop_reason: str | None = None) -> PageOutput:
        """Generated ids -> text, keeping grounding tokens and dropping end, padding and start tokens."""
        ended = self.eos_id in ids
        kept = [t for t in (ids[: ids.index(self.eos_id)] if ended else ids) if t not in self.strip_ids]
        text = self.tokenizer.decode(kept, skip_special_tokens=False, clean_up_tokenization_spaces=False)
        hit_limit = not ended and loop_reason is None and len(ids) >= max_new_tokens
        return PageOutput(text, len(kept), hit_limit, loop_reason)


_runners: dict[tuple[str, str], DeepSeekRunner] = {}
_runners_lock = threading.Lock()


def get_runner(settings: Settings, device: str) -> DeepSeekRunner:
    """The shared runner for this model directory and device, loaded on first use."""
    key = (str(Path(settings.deepseek_model or "").resolve()), device)
    with _runners_lock:
        runner = _runners.get(key)
        if runner is None:
            runner = DeepSeekRunner(settings, device)
            _runners[key] = runner
    return runner


def unload_runners() -> None:
    """Drop every loaded model (tests, or freeing GPU memory)."""
    with _runners_lock:
        _runners.clear()


class DeepSeekEngine(OcrEngine):
    """DeepSeek-OCR-2 in this process: best reading quality, needs a GPU."""

    name = "deepseek"
    description = "DeepSeek-OCR-2 in-process (transformers), bf16 on CUDA"

    def _device(self) -> str | None:
        import torch

        if torch.cuda.is_available():
            return "cuda"
        return "cpu" if self.settings.deepseek_allow_cpu else None

    def available(self) -> Availability:
        """Needs torch, transformers with DeepSeek-OCR-2, a local model directory, and CUDA (or CPU allowed)."""
        for package in ("torch", "transformers"):
            if importlib.util.find_spec(package) is None:
                return Availability(False, f"package {package!r} is missing: {INSTALL_HINT}")
        if importlib.util.find_spec("transformers.models.deepseek_ocr2") is None:
            return Availability(False, f"this transformers has no DeepSeek-OCR-2: {INSTALL_HINT}")
        problem = model_dir_problem(self.settings.deepseek_model)
        if problem:
            return Availability(False, problem)
        if self._device() is None:
            return Availability(
                False, "no CUDA device; set INVOICE_OCR_DEEPSEEK_ALLOW_CPU=true to run it on the CPU (very slow)"
            )
        return Availability(True)

    def runner(self) -> DeepSeekRunner:
        """The loaded model (loads it on first call); EngineUnavailable when it cannot run here."""
        self._require()
        return get_runner(self.settings, self._device() or "cpu")

    def _require(self) -> None:
        availability = self.available()
        if not availability:
            raise EngineUnavailable(f"engine {self.name!r} is unavailable: {availability.reason}")

    def recognize(self, document: Document, pages: list[Page], options: EngineOptions) -> list[PageMarkdown]:
        """Read pages in batches of `deepseek_batch_size`; a failed page is marked, never fatal."""
        if not pages:
            self._require()
            return []
        runner = self.runner()
        size = max(1, self.settings.deepseek_batch_size)
        results: list[PageMarkdown] = []
        for start in range(0, len(pages), size):
            batch = pages[start : start + size]
            images = [page.render(options.dpi) for page in batch]
            for page, output in zip(batch, self._generate(runner, images), strict=True):
                results.append(
                    page_from_output(
                        output.text,
                        page.number,
                        self.name,
                        page.width,
                        page.height,
                        hit_token_limit=output.hit_limit,
                        failure=output.failure,
                    )
                )
        return results

    def _generate(self, runner: DeepSeekRunner, images: list[Image.Image]) -> list[PageOutput]:
        """One batch; on an error (out of memory) retry page by page, then mark the page as failed."""
        limit = self.settings.deepseek_max_new_tokens
        try:
            return runner.generate(images, limit)
        except Exception as exc:  # CUDA OOM and friends: the request must go on
            _free_cuda_cache()
            if len(images) == 1:
                log.warning("deepseek: page failed: %s", exc)
                return [PageOutput("", 0, False, f"engine error: {type(exc).__name__}: {exc}")]
            log.warning("deepseek: batch of %d failed (%s); retrying page by page", len(images), exc)
            return [out for image in images for out in self._generate(runner, [image])]


def _free_cuda_cache() -> None:
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # pragma: no cover - best effort
        pass
