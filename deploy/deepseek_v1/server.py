"""DeepSeek-OCR (v1) as a small HTTP service, run in its own environment.

DeepSeek-OCR v1's published remote code needs transformers <= 4.47, which the main application does not
use, so it runs here, in a separate virtual environment (`setup.sh`), and the main application's
`deepseek-legacy` engine calls it over HTTP. Only the standard library is imported at module load; torch
and transformers are imported when the model is loaded.

Generation follows the product's shared settings, not the remote code's own (8,192 tokens, a global
n-gram ban): the token limit and the windowed no-repeat n-gram rule come with each request from the
client, or else from the same INVOICE_OCR_DEEPSEEK_* variables, capped by this service's own limits, and
the product's loop guard stops a page that repeats itself. Each page has a deadline a little before the
client's timeout: generation stops there, and a page still waiting for the GPU when its deadline passes
is answered 503 at once, so no page holds the single GPU lock past the time its caller still waits.

Protocol (JSON over HTTP):
  GET  /health  -> 200 {"status": "ok", "model": NAME, "device": DEVICE, "limits": {...}}
  POST /v1/ocr  {"image": BASE64 PNG or JPEG, "prompt": STR?, "base_size": INT?, "image_size": INT?,
                 "crop_mode": BOOL?, "max_new_tokens": INT?, "ngram_size": INT? (0: off),
                 "ngram_window": INT?, "whitelist_token_ids": [INT]?, "timeout_s": FLOAT?}
                -> 200 {"text": RAW MODEL OUTPUT (grounding tags kept), "seconds": FLOAT,
                        "finish_reason": "stop" | "length" | "loop" | "deadline", "detail": STR}
                -> 400 / 413 {"error": ...} for a bad request, 503 {"error": ...} when the GPU stayed busy
                   past the page's deadline, 500 {"error": ...} when the model fails

Run: deploy/deepseek_v1/.venv/bin/python deploy/deepseek_v1/server.py --model-dir /models/DeepSeek-OCR
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import importlib.util
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

DEFAULT_PROMPT = "<image>\n<|grounding|>Convert the document to markdown."
DEFAULT_PORT = 8010
MAX_BYTES = 40 * 1024 * 1024
# "Gundam" mode of DeepSeek-OCR: a 1024 px global view plus 640 px tiles.
DEFAULTS = {"base_size": 1024, "image_size": 640, "crop_mode": True}
# The product's repetition guards, loaded by path: this environment has none of the product's packages.
REPETITION_PATH = Path(__file__).resolve().parents[2] / "extraction" / "ocr_support" / "repetition.py"
# Time kept back from the caller's timeout to send the answer (the larger of the two).
MARGIN_S, MARGIN_SHARE = 2.0, 0.05

log = logging.getLogger("deepseek_v1")


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass
class ServiceLimits:
    """This service's defaults and caps, from the product's shared INVOICE_OCR_* settings unless overridden."""

    max_new_tokens: int = field(default_factory=lambda: _env_int("INVOICE_OCR_DEEPSEEK_MAX_NEW_TOKENS", 4096))
    ngram_size: int = field(default_factory=lambda: _env_int("INVOICE_OCR_DEEPSEEK_NGRAM_SIZE", 30))
    ngram_window: int = field(default_factory=lambda: _env_int("INVOICE_OCR_DEEPSEEK_NGRAM_WINDOW", 90))
    whitelist_token_ids: list[int] = field(
        default_factory=lambda: [
            int(t)
            for t in os.environ.get("INVOICE_OCR_DEEPSEEK_WHITELIST_TOKEN_IDS", "128821,128822").split(",")
            if t.strip()
        ]
    )
    max_seconds: float = field(default_factory=lambda: _env_float("INVOICE_OCR_DEEPSEEK_LEGACY_TIMEOUT", 300.0))


@dataclass
class PageLimits:
    """How one page may be generated: token limit, n-gram rule, and the monotonic time it must end by."""

    max_new_tokens: int
    ngram_size: int
    ngram_window: int
    whitelist_token_ids: list[int]
    deadline: float

    def seconds_left(self) -> float:
        """Seconds until the deadline (0 when passed)."""
        return max(0.0, self.deadline - time.monotonic())


@dataclass
class Reading:
    """What the model wrote for one page and why generation ended."""

    text: str
    finish_reason: str = "stop"
    detail: str = ""


class Reader(Protocol):
    """Reads one page image within its limits; the real one wraps DeepSeek-OCR v1's `infer`."""

    name: str
    device: str

    def read(
        self, image: bytes, prompt: str, base_size: int, image_size: int, crop_mode: bool, limits: PageLimits
    ) -> Reading:
        """The model's raw output for one image, generated within `limits`."""


class Busy(Exception):
    """The GPU did not come free before the page's deadline."""


class GpuGate:
    """One page at a time on the GPU; a page never waits for it past its own deadline."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def hold(self, limits: PageLimits) -> Iterator[None]:
        """Hold the GPU for one page; Busy when it is not free before the page's deadline."""
        if not self._lock.acquire(timeout=limits.seconds_left()):
            raise Busy("the GPU stayed busy with other pages past this page's deadline")
        try:
            yield
        finally:
            self._lock.release()


def load_repetition_guards() -> Any:
    """The product's repetition module (NoRepeatNGram, LoopStop), loaded from its file."""
    spec = importlib.util.spec_from_file_location("invoice_ocr_repetition", REPETITION_PATH)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {REPETITION_PATH}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bounded_generate(generate: Callable[..., Any], limits: Callable[[], PageLimits], guards: Any) -> Callable[..., Any]:
    """`generate` held to the current page's limits, whatever the remote code asks for.

    The token limit replaces the remote code's 8,192, its global n-gram ban gives way to the windowed
    rule, and generation stops at a loop or at the deadline. Why it ended is left in `.last`.
    """
    import torch
    from transformers import LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

    class DeadlineStop(StoppingCriteria):
        def __init__(self, deadline: float) -> None:
            self.deadline = deadline

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            stop = time.monotonic() >= self.deadline
            return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)

    def wrapped(input_ids: Any, *args: Any, **kwargs: Any) -> Any:
        page = limits()
        prompt_len = input_ids.shape[-1]
        kwargs.pop("no_repeat_ngram_size", None)
        kwargs["max_new_tokens"] = page.max_new_tokens
        processors = LogitsProcessorList(kwargs.pop("logits_processor", None) or [])
        if page.ngram_size >= 2:
            processors.append(
                guards.NoRepeatNGram(prompt_len, page.ngram_size, page.ngram_window, page.whitelist_token_ids)
            )
        loop = guards.LoopStop(prompt_len, whitelist=page.whitelist_token_ids)
        stopping = StoppingCriteriaList(kwargs.pop("stopping_criteria", None) or [])
        stopping.extend([loop, DeadlineStop(page.deadline)])
        output = generate(input_ids, *args, logits_processor=processors, stopping_criteria=stopping, **kwargs)
        generated = output[0, prompt_len:].tolist()
        eos = kwargs.get("eos_token_id")
        if set(eos if isinstance(eos, list) else [eos]) & set(generated):
            wrapped.last = Reading("", "stop")
        elif 0 in loop.reasons:
            wrapped.last = Reading("", "loop", loop.reasons[0])
        elif time.monotonic() >= page.deadline:
            wrapped.last = Reading(
                "", "deadline", f"generation stopped at the page's deadline ({len(generated)} tokens)"
            )
        else:
            wrapped.last = Reading("", "length", f"generation hit the token limit ({page.max_new_tokens})")
        return output

    wrapped.last = Reading("")
    return wrapped


class BadRequest(ValueError):
    """A request this service cannot serve (shown to the caller as 400 or 413)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def image_suffix(data: bytes) -> str:
    """The file suffix for PNG or JPEG bytes; BadRequest for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if data.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    raise BadRequest("image must be a PNG or JPEG, base64-encoded")


class DeepSeekV1Reader:
    """DeepSeek-OCR v1 through its remote code (CUDA only: the published code calls .cuda())."""

    def __init__(self, model_dir: str) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        if not torch.cuda.is_available():
            raise SystemExit("DeepSeek-OCR v1's remote code needs a CUDA GPU")
        attn = "flash_attention_2" if importlib.util.find_spec("flash_attn") else "eager"
        self.name = Path(model_dir).name
        self.device = torch.cuda.get_device_name(0)
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=True, local_files_only=True)
        model = AutoModel.from_pretrained(
            model_dir,
            trust_remote_code=True,
            use_safetensors=True,
            local_files_only=True,
            _attn_implementation=attn,
        )
        self.model = model.eval().cuda().to(torch.bfloat16)
        self._limits: PageLimits | None = None
        # `infer` calls self.generate: this instance's generate keeps to the page's limits.
        self.model.generate = bounded_generate(self.model.generate, lambda: self._limits, load_repetition_guards())

    def read(
        self, image: bytes, prompt: str, base_size: int, image_size: int, crop_mode: bool, limits: PageLimits
    ) -> Reading:
        """Run `infer` on the image written to a temporary file (the remote code reads a path)."""
        with tempfile.TemporaryDirectory(prefix="dsocr-") as tmp:
            path = Path(tmp) / ("page" + image_suffix(image))
            path.write_bytes(image)
            self._limits = limits
            text = self.model.infer(
                self.tokenizer,
                prompt=prompt,
                image_file=str(path),
                output_path=tmp,
                base_size=base_size,
                image_size=image_size,
                crop_mode=crop_mode,
                save_results=False,
                eval_mode=True,
            )
        last = self.model.generate.last
        return Reading(text or "", last.finish_reason, last.detail)


def page_limits(body: dict[str, Any], service: ServiceLimits, received: float) -> PageLimits:
    """The limits of one page: the caller's values within this service's caps, the deadline before its timeout."""
    try:
        tokens = int(body.get("max_new_tokens") or service.max_new_tokens)
        ngram = int(body.get("ngram_size", service.ngram_size))
        window = int(body.get("ngram_window") or service.ngram_window)
        whitelist = [int(t) for t in body.get("whitelist_token_ids", service.whitelist_token_ids)]
        timeout = float(body.get("timeout_s") or service.max_seconds)
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"bad generation limits: {exc}") from exc
    if tokens < 1 or ngram < 0 or window < 1 or timeout <= 0:
        raise BadRequest("max_new_tokens, ngram_window and timeout_s must be positive, ngram_size >= 0")
    seconds = min(timeout, service.max_seconds)
    seconds -= max(MARGIN_S, seconds * MARGIN_SHARE) if seconds > 2 * MARGIN_S else seconds / 2
    return PageLimits(min(tokens, service.max_new_tokens), ngram, window, whitelist, received + seconds)


def parse_request(raw: bytes, max_bytes: int) -> dict[str, Any]:
    """The validated /v1/ocr request: image bytes and generation options."""
    if len(raw) > max_bytes:
        raise BadRequest(f"request of {len(raw)} bytes is over the limit of {max_bytes}", 413)
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise BadRequest(f"body is not JSON: {exc}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("image"), str):
        raise BadRequest("body must be a JSON object with an 'image' (base64 PNG or JPEG)")
    try:
        image = base64.b64decode(body["image"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("image is not valid base64") from exc
    image_suffix(image)
    prompt = body.get("prompt") or DEFAULT_PROMPT
    if "<image>" not in prompt:
        raise BadRequest("prompt must contain the <image> placeholder")
    options = {key: body.get(key, default) for key, default in DEFAULTS.items()}
    if not all(isinstance(options[k], int) and 256 <= options[k] <= 2048 for k in ("base_size", "image_size")):
        raise BadRequest("base_size and image_size must be integers in 256..2048")
    return {"image": image, "prompt": prompt, **options, "crop_mode": bool(options["crop_mode"]), "body": body}


def make_server(
    reader: Reader,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    max_bytes: int = MAX_BYTES,
    limits: ServiceLimits | None = None,
):
    """A threading HTTP server speaking the protocol above around `reader`."""
    service = limits or ServiceLimits()
    gate = GpuGate()

    class Handler(BaseHTTPRequestHandler):
        server_version = "deepseek-ocr-v1"

        def log_message(self, fmt: str, *args: Any) -> None:
            log.info("%s " + fmt, self.address_string(), *args)

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the caller gave up (its timeout)
                log.warning("client went away before the answer was sent")

        def do_GET(self) -> None:
            if self.path == "/health":
                self._send(
                    200, {"status": "ok", "model": reader.name, "device": reader.device, "limits": asdict(service)}
                )
            else:
                self._send(404, {"error": f"no route {self.path}"})

        def do_POST(self) -> None:
            if self.path != "/v1/ocr":
                self._send(404, {"error": f"no route {self.path}"})
                return
            received = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            if length > max_bytes:
                self._send(413, {"error": f"request of {length} bytes is over the limit of {max_bytes}"})
                return
            try:
                request = parse_request(self.rfile.read(length), max_bytes)
                limits = page_limits(request["body"], service, received)
            except BadRequest as exc:
                self._send(exc.status, {"error": str(exc)})
                return
            try:
                with gate.hold(limits):
                    reading = reader.read(
                        request["image"],
                        request["prompt"],
                        request["base_size"],
                        request["image_size"],
                        request["crop_mode"],
                        limits,
                    )
            except Busy as exc:
                self._send(503, {"error": str(exc)})
                return
            except Exception as exc:  # the caller marks the page failed and reads it elsewhere
                log.exception("page failed")
                self._send(500, {"error": f"{type(exc).__name__}: {exc}"})
                return
            seconds = round(time.monotonic() - received, 3)
            answer = {"text": reading.text, "seconds": seconds, "finish_reason": reading.finish_reason}
            self._send(200, {**answer, "detail": reading.detail})

    httpd = ThreadingHTTPServer((host, port), Handler)
    httpd.daemon_threads = True
    return httpd


def main(argv: list[str] | None = None) -> None:
    """Load the model, then serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", default=os.environ.get("DEEPSEEK_V1_MODEL"), help="local DeepSeek-OCR dir")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--max-bytes", type=int, default=MAX_BYTES)
    defaults = ServiceLimits()
    parser.add_argument(
        "--max-new-tokens",
        type=int,
        default=defaults.max_new_tokens,
        help="Token cap per page (default: INVOICE_OCR_DEEPSEEK_MAX_NEW_TOKENS, else 4096).",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=defaults.max_seconds,
        help="Time cap per page, queueing included (default: INVOICE_OCR_DEEPSEEK_LEGACY_TIMEOUT, else 300).",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if not args.model_dir or not Path(args.model_dir, "config.json").is_file():
        parser.error("--model-dir (or DEEPSEEK_V1_MODEL) must be a local DeepSeek-OCR model directory")
    reader = DeepSeekV1Reader(args.model_dir)
    limits = ServiceLimits(max_new_tokens=args.max_new_tokens, max_seconds=args.max_seconds)
    httpd = make_server(reader, args.host, args.port, args.max_bytes, limits)
    log.info("DeepSeek-OCR v1 serving on http://%s:%d", args.host, args.port)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


if __name__ == "__main__":
    main()
