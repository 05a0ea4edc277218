"""`deepseek`: DeepSeek-OCR-2 in-process through transformers' native classes, bf16 on CUDA.

The model comes from a local directory (`INVOICE_OCR_DEEPSEEK_MODEL`, never a hub download) in the native
layout (`invoice-ocr models convert` turns the official download into it). `available()` checks the
folder's files (config, every weight shard intact, tokenizer, processor) and the free GPU memory, so a
broken folder is reported instead of tried. The model loads once, lazily, under a lock, straight onto
the GPU, and is shared by every engine instance using the same directory and device; a load that fails
is remembered and not tried again for a back-off that doubles each time (or until the folder changes).
Pages are read in batches with greedy decoding, a token limit, a time limit and repetition guards; a page
whose output loops, is cut off, times out or runs out of memory gets `failure` set, and so does every
page of a request whose model failed to load, so the pipeline reads them again with a CPU engine.
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from extraction.engines.base import Availability, EngineOptions, OcrEngine
from extraction.markdown import PageMarkdown
from extraction.model_files.folder import (
    DEEPSEEK_OCR,
    DEEPSEEK_OCR2,
    DEEPSEEK_OCR2_NATIVE,
    ModelFolder,
    folder_signature,
    inspect_folder,
)
from extraction.ocr_support.grounding import GROUNDING_PROMPT, is_table_markup, page_from_output
from extraction.ocr_support.load_failures import LoadFailure, LoadFailures
from utils.engine_options import DeepSeekOptions
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


# Beyond the weights (bf16 on the GPU): activations and KV cache of a batch of pages, and CUDA's own context.
WORKING_MEMORY_BYTES = 2 * 1024**3
_folders: dict[Path, tuple[tuple[tuple[str, int, int], ...], ModelFolder]] = {}


def model_folder(path: Path) -> ModelFolder:
    """The inspected folder, cached until its files change."""
    key = Path(path).resolve()
    signature = folder_signature(key)
    cached = _folders.get(key)
    if cached is None or cached[0] != signature:
        cached = (signature, inspect_folder(key))
        _folders[key] = cached
    return cached[1]


def model_dir_problem(path: Path | None) -> str | None:
    """Why `path` is not a usable native DeepSeek-OCR-2 model directory, or None."""
    if path is None:
        return "INVOICE_OCR_DEEPSEEK_MODEL is not set (a local DeepSeek-OCR-2 model directory)"
    if not Path(path).is_dir():
        return f"model directory {path} does not exist"
    folder = model_folder(Path(path))
    if not folder.config:
        return f"model directory {path} has no readable config.json"
    if folder.kind == DEEPSEEK_OCR2:
        return (
            f"{path} holds the official DeepSeek-OCR-2 download (remote-code layout); convert it once with "
            f"`invoice-ocr models convert {path} {path}-native` and point INVOICE_OCR_DEEPSEEK_MODEL at the result"
        )
    if folder.kind == DEEPSEEK_OCR:
        return (
            f"{path} holds DeepSeek-OCR v1, which has no native transformers classes: use `vllm` or `deepseek-legacy`"
        )
    if folder.kind != DEEPSEEK_OCR2_NATIVE:
        model_type = folder.config.get("model_type")
        return f"{path} holds {folder.label} (model_type {model_type!r}), not a DeepSeek-OCR-2 checkpoint"
    if folder.problems:
        return f"model directory {path} is incomplete: {'; '.join(folder.problems)}"
    return None


class DeepSeekRunner:
    """A loaded DeepSeek-OCR-2 model and processor on one device; `generate` reads a batch of images."""

    def __init__(self, options: DeepSeekOptions, device: str) -> None:
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.model_dir = Path(options.model or "")
        self.device = device
        self.dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        self.ngram_size = options.ngram_size
        self.ngram_window = options.ngram_window
        self.timeout = options.timeout
        self.lock = threading.Lock()
        started = time.perf_counter()
        self.processor = AutoProcessor.from_pretrained(self.model_dir, local_files_only=True)
        self.tokenizer = self.processor.tokenizer
        # Decoder-only batching pads on the left so every row's last token is real.
        self.tokenizer.padding_side = "left"
        self.attn_implementation, self.model = self._load_model(AutoModelForImageTextToText)
        self.model.eval()
        self.load_seconds = time.perf_counter() - started
        self.whitelist = self._table_token_ids(options.whitelist_token_ids)
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
        kwargs: dict[str, Any] = {"local_files_only": True, "dtype": self.dtype}
        if self.device != "cpu":
            # Weights go from the files straight into GPU memory, never through a full copy in RAM.
            kwargs["device_map"] = self.device
        # SAM's relative-position bias rules out flash attention for vision; the language model can use it.
        if self.device.startswith("cuda") and importlib.util.find_spec("flash_attn") is not None:
            try:
                attn = {"": "sdpa", "text_config": "flash_attention_2"}
                return "sdpa+flash_attention_2", auto_class.from_pretrained(
                    self.model_dir, attn_implementation=attn, **kwargs
                )
            except (ImportError, ValueError) as exc:
                log.warning("deepseek: flash attention unavailable (%s); using SDPA", exc)
        return "sdpa", auto_class.from_pretrained(self.model_dir, attn_implementation="sdpa", **kwargs)

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
        from transformers import LogitsProcessorList, MaxTimeCriteria, StoppingCriteriaList

        from extraction.ocr_support.repetition import LoopStop, NoRepeatNGram

        inputs = self.prepare(images)
        prompt_len = inputs["input_ids"].shape[1]
        loop_stop = LoopStop(prompt_len, whitelist=[*self.whitelist, *self.strip_ids], exempt=self._markup_only)
        processors = LogitsProcessorList()
        if self.ngram_size >= 2:
            processors.append(NoRepeatNGram(prompt_len, self.ngram_size, self.ngram_window, self.whitelist))
        with self.lock, torch.inference_mode():
            started = time.monotonic()
            stopping = StoppingCriteriaList([loop_stop, MaxTimeCriteria(self.timeout, time.time())])
            sequences = self.model.generate(
                **inputs,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                max_new_tokens=max_new_tokens,
                logits_processor=processors,
                stopping_criteria=stopping,
                eos_token_id=self.eos_id,
                pad_token_id=self.pad_id,
                use_cache=True,
            )
            timed_out = time.monotonic() - started >= self.timeout
        outputs = []
        for row, ids in enumerate(sequences[:, prompt_len:].tolist()):
            reason = loop_stop.reasons.get(row)
            if reason is None and timed_out and self.eos_id not in ids and len(ids) < max_new_tokens:
                reason = f"timed out: generation stopped after {self.timeout:g}s (INVOICE_OCR_DEEPSEEK_TIMEOUT)"
            outputs.append(self.decode(ids, max_new_tokens, reason))
        return outputs

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


def _runner_key(settings: Settings, device: str) -> tuple[str, str]:
    return str(Path(settings.deepseek.model or "").resolve()), device


def _failure_key(settings: Settings, device: str) -> str:
    return "deepseek:" + "@".join(_runner_key(settings, device))


def load_signature(settings: Settings, device: str) -> list[Any]:
    """What a load depends on: the folder's files, the device and the package versions (JSON-shaped)."""
    import torch
    import transformers

    model_dir, _ = _runner_key(settings, device)
    files = [list(entry) for entry in folder_signature(model_dir)]
    return [model_dir, device, torch.__version__, transformers.__version__, files]


def _failures(settings: Settings) -> LoadFailures:
    return LoadFailures(settings.data_dir)


def load_failure(settings: Settings, device: str) -> LoadFailure | None:
    """The failed load of this model on this device while its back-off lasts."""
    return _failures(settings).active(_failure_key(settings, device), load_signature(settings, device))


def get_runner(settings: Settings, device: str) -> DeepSeekRunner:
    """The shared runner for this model directory and device, loaded on first use.

    A failed load raises EngineUnavailable and is remembered: until its back-off ends (or the folder or
    the packages change) no load is tried and the same error is raised at once.
    """
    key = _runner_key(settings, device)
    with _runners_lock:
        runner = _runners.get(key)
        if runner is not None:
            return runner
        failures = _failures(settings)
        name, signature = _failure_key(settings, device), load_signature(settings, device)
        failure = failures.active(name, signature)
        if failure is not None:
            raise _unavailable(failure)
        try:
            runner = DeepSeekRunner(settings.deepseek, device)
        except Exception as exc:  # out of memory, broken files, missing classes: all remembered alike
            _free_cuda_cache()
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
            failure = failures.record(name, error, signature, settings.deepseek.retry_after)
            log.error("deepseek: loading %s on %s failed: %s; next try in %.0fs", *key, error, failure.waiting())
            raise _unavailable(failure) from exc
        failures.clear(name)
        _runners[key] = runner
    return runner


def _unavailable(failure: LoadFailure) -> EngineUnavailable:
    reason = failure.reason()
    return EngineUnavailable(f"engine 'deepseek' is unavailable: {reason}", reason=reason)


def loaded_runner(settings: Settings, device: str) -> DeepSeekRunner | None:
    """The runner if this model is already loaded on this device."""
    return _runners.get(_runner_key(settings, device))


def unload_runners() -> None:
    """Drop every loaded model (tests, or freeing GPU memory)."""
    with _runners_lock:
        _runners.clear()
    _free_cuda_cache()


class DeepSeekEngine(OcrEngine):
    """DeepSeek-OCR-2 in this process: best reading quality, needs a GPU."""

    name = "deepseek"
    description = "DeepSeek-OCR-2 in-process (transformers), bf16 on CUDA"
    options_model = DeepSeekOptions
    options: DeepSeekOptions

    def _device(self) -> str | None:
        import torch

        if torch.cuda.is_available():
            return "cuda"
        return "cpu" if self.options.allow_cpu else None

    def configured(self) -> bool:
        """Configured when a model directory is set."""
        return self.options.model is not None

    def available(self) -> Availability:
        """Needs the packages, a complete native model folder, CUDA (or CPU allowed) with room, no failed load."""
        for package in ("torch", "transformers"):
            if importlib.util.find_spec(package) is None:
                return Availability(False, f"package {package!r} is missing: {INSTALL_HINT}")
        if importlib.util.find_spec("transformers.models.deepseek_ocr2") is None:
            return Availability(False, f"this transformers has no DeepSeek-OCR-2: {INSTALL_HINT}")
        problem = model_dir_problem(self.options.model)
        if problem:
            return Availability(False, problem)
        device = self._device()
        if device is None:
            return Availability(
                False, "no CUDA device; set INVOICE_OCR_DEEPSEEK_ALLOW_CPU=true to run it on the CPU (very slow)"
            )
        failure = load_failure(self.settings, device)
        if failure is not None:
            return Availability(False, failure.reason())
        if device != "cpu" and loaded_runner(self.settings, device) is None:
            problem = self._gpu_problem()
            if problem:
                return Availability(False, problem)
        return Availability(True)

    def _gpu_problem(self) -> str | None:
        """Why the model cannot be loaded onto the GPU now (loader package, free memory), or None."""
        import torch

        if importlib.util.find_spec("accelerate") is None:
            return f"package 'accelerate' is missing (it loads the weights straight onto the GPU): {INSTALL_HINT}"
        weights = model_folder(Path(self.options.model or "")).weights
        if weights is None:
            return None
        # bf16 on the GPU: half the bytes of float32 files, as many as bf16 ones.
        need = weights.nbytes // (2 if weights.dtypes == {"F32"} else 1) + WORKING_MEMORY_BYTES
        try:
            free, total = torch.cuda.mem_get_info()
        except RuntimeError as exc:
            return f"the CUDA device cannot be queried: {exc}"
        if free < need:
            gib = 1024**3
            return (
                f"not enough free GPU memory: {free / gib:.1f} GiB free of {total / gib:.1f} GiB, DeepSeek-OCR-2 "
                f"needs about {need / gib:.1f} GiB (weights plus {WORKING_MEMORY_BYTES / gib:.0f} GiB to work in)"
            )
        return None

    def report(self) -> dict[str, Any]:
        """For /health: the model folder, device, whether the model is loaded, and the last failed load."""
        if self.options.model is None:
            return {}
        device = self._device() or "cpu"
        runner = loaded_runner(self.settings, device)
        failure = _failures(self.settings).get(
            _failure_key(self.settings, device), load_signature(self.settings, device)
        )
        details: dict[str, Any] = {
            "model_dir": str(self.options.model),
            "device": device,
            "loaded": runner is not None,
        }
        if runner is not None:
            details["load_seconds"] = round(runner.load_seconds, 1)
            details["attention"] = runner.attn_implementation
        if failure is not None:
            details["load_failure"] = failure.as_dict()
        return details

    def runner(self) -> DeepSeekRunner:
        """The loaded model (loads it on first call); EngineUnavailable when it cannot run or load here."""
        self._require()
        return get_runner(self.settings, self._device() or "cpu")

    def _require(self) -> None:
        availability = self.available()
        if not availability:
            raise EngineUnavailable(f"engine {self.name!r} is unavailable: {availability.reason}")

    def recognize(self, document: Document, pages: list[Page], options: EngineOptions) -> list[PageMarkdown]:
        """Read pages in batches of `batch_size`; a failed page (or a failed load) is marked, never fatal."""
        self._require()
        if not pages:
            return []
        opts = cast("DeepSeekOptions", self.own_options(options))
        try:
            runner = get_runner(self.settings, self._device() or "cpu")
        except EngineUnavailable as exc:
            return [self._failed(page, str(exc.details.get("reason", exc.message))) for page in pages]
        size = max(1, opts.batch_size)
        results: list[PageMarkdown] = []
        for start in range(0, len(pages), size):
            batch = pages[start : start + size]
            images = [page.render(opts.dpi) for page in batch]
            for page, output in zip(batch, self._generate(runner, images, opts.max_new_tokens), strict=True):
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

    def _failed(self, page: Page, reason: str) -> PageMarkdown:
        result = PageMarkdown(page.number, self.name, page.width, page.height, failure=reason)
        result.notes.append(f"{self.name}: {reason}")
        return result

    def _generate(self, runner: DeepSeekRunner, images: list[Image.Image], limit: int) -> list[PageOutput]:
        """One batch; on an error (out of memory) retry page by page, then mark the page as failed."""
        try:
            return runner.generate(images, limit)
        except Exception as exc:  # CUDA OOM and friends: the request must go on
            _free_cuda_cache()
            if len(images) == 1:
                log.warning("deepseek: page failed: %s", exc)
                return [PageOutput("", 0, False, f"engine error: {type(exc).__name__}: {exc}")]
            log.warning("deepseek: batch of %d failed (%s); retrying page by page", len(images), exc)
            return [out for image in images for out in self._generate(runner, [image], limit)]


def _free_cuda_cache() -> None:
    """Give memory left by a failed load or batch back to the GPU."""
    try:
        import torch

        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # pragma: no cover - best effort
        pass
