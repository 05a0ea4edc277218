"""`vllm`: OCR models (DeepSeek-OCR / -OCR-2 by default) behind one or more vLLM OpenAI-compatible servers.

Pages go to the servers in `INVOICE_OCR_VLLM_URLS` round-robin, in parallel threads bounded by
`vllm_concurrency`. A server that errors or times out is set aside for a short cool-down and the page
is retried (with backoff) on the next one; a server set aside comes back after a passing health check.
What is asked and how the answer is read comes from the model's profile (`vllm_profiles`): for DeepSeek
it is the request of DeepSeek's vLLM recipe, a chat message whose content is the page image (a data URL)
followed by the grounding instruction, greedy decoding, special tokens kept, and, when
`INVOICE_OCR_DEEPSEEK_NGRAM_SIZE` is above 0, the n-gram processor's arguments in `vllm_xargs` (with 0 no
such arguments are sent: vLLM refuses sizes <= 0). Each server is checked once (`vllm_probe`): that it
serves the model, and for DeepSeek that the prompt reaches the model without chat roles around it. A
page that fails everywhere, or that a server refuses, comes back with `failure` set, so `auto` and the
pipeline read it again with a CPU engine.
"""

from __future__ import annotations

import base64
import io
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from extraction.engines.base import Availability, EngineOptions, OcrEngine
from extraction.markdown import PageMarkdown
from extraction.ocr_support.grounding import page_from_output
from extraction.ocr_support.vllm_probe import ServerCheck, check_server, probe_image_url
from extraction.ocr_support.vllm_profiles import VllmProfile, resolve_profile
from utils.engine_options import VllmOptions
from utils.errors import EngineFailed, EngineUnavailable

if TYPE_CHECKING:
    from PIL import Image

    from extraction.documents import Document, Page
    from utils.settings import Settings

log = logging.getLogger(__name__)


def normalize_url(url: str) -> str:
    """A server base URL without a trailing slash or `/v1`."""
    url = url.strip().rstrip("/")
    return url[:-3].rstrip("/") if url.endswith("/v1") else url


def image_data_url(image: Image.Image, fmt: str = "PNG") -> str:
    """The image as a base64 data URL (PNG by default: lossless text edges)."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format=fmt)
    mime = "image/png" if fmt.upper() == "PNG" else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


def chat_request(
    options: VllmOptions, data_url: str, profile: VllmProfile, chat_template: str | None = None
) -> dict[str, Any]:
    """The chat completions body for one page image, as the model's profile asks."""
    body: dict[str, Any] = {
        "model": options.model,
        "messages": page_messages(data_url, profile),
        "max_tokens": options.max_new_tokens,
        "temperature": 0.0,
        **profile.sampling,
    }
    if profile.keep_special_tokens:
        body["skip_special_tokens"] = False
    if profile.ngram_xargs and options.ngram_size > 0:
        body["vllm_xargs"] = {
            "ngram_size": options.ngram_size,
            "window_size": options.ngram_window,
            "whitelist_token_ids": list(options.whitelist_token_ids),
        }
    if chat_template is not None:
        body["chat_template"] = chat_template
    return body


def page_messages(data_url: str, profile: VllmProfile) -> list[dict[str, Any]]:
    """One user message: the page image, then the profile's instruction."""
    return [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": data_url}},
                {"type": "text", "text": profile.instruction},
            ],
        }
    ]


@dataclass
class Completion:
    """One page's answer: the text, why generation ended, and which server wrote it."""

    text: str
    finish_reason: str | None
    server: str
    attempts: int
    check: ServerCheck | None = None


class VllmClient:
    """Round-robin client over several vLLM servers with health checks, retries and bounded concurrency."""

    cooldown_s = 10.0
    backoff_s = 0.5
    health_timeout_s = 3.0

    def __init__(self, options: VllmOptions) -> None:
        import httpx

        self.options = options
        self.profile = resolve_profile(options.profile, options.model)
        self.urls = [normalize_url(u) for u in options.urls if u.strip()]
        self.retries = options.retries
        self.semaphore = threading.BoundedSemaphore(max(1, options.concurrency))
        limits = httpx.Limits(max_connections=max(1, options.concurrency) * max(1, len(self.urls)))
        self.http = httpx.Client(timeout=options.timeout, limits=limits)
        self._lock = threading.Lock()
        self._next = 0
        self._down_until: dict[str, float] = {}
        self.checks: dict[str, ServerCheck] = {}
        self._check_lock = threading.Lock()  # pages arriving together wait for one check, not one each

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def health(self, url: str) -> str | None:
        """None when the server answers `GET /health` (or `/v1/models`), else why not."""
        import httpx

        problem = ""
        for path in ("/health", "/v1/models"):
            try:
                response = self.http.get(url + path, timeout=self.health_timeout_s)
            except httpx.HTTPError as exc:
                return f"{type(exc).__name__}: {exc}"
            if response.status_code == 200:
                return None
            problem = f"HTTP {response.status_code} on {path}"
        return problem

    def check(self, url: str) -> ServerCheck:
        """The server's one-time check (model served, prompt rendering), made on first call."""
        with self._check_lock:
            check = self.checks.get(url)
            if check is None:
                messages = page_messages(probe_image_url(), self.profile)
                check = check_server(self.http, url, self.options.model, self.profile, messages)
                if check.prompt in ("wrapped", "altered") or not check.usable:
                    log.warning("vllm: %s: %s", url, check.detail)
                self.checks[url] = check
        return check

    def _mark_down(self, url: str) -> None:
        with self._lock:
            self._down_until[url] = time.monotonic() + self.cooldown_s
            # A server that comes back may have been restarted with other flags: check it again then.
            self.checks.pop(url, None)

    def _mark_up(self, url: str) -> None:
        with self._lock:
            self._down_until.pop(url, None)

    def _pick(self) -> str:
        """The next server in turn that is not cooling down; if all are, the first that passes a health check."""
        with self._lock:
            now = time.monotonic()
            order = [self.urls[(self._next + i) % len(self.urls)] for i in range(len(self.urls))]
            self._next = (self._next + 1) % len(self.urls)
            for url in order:
                if self._down_until.get(url, 0.0) <= now:
                    return url
        problems = []
        for url in order:
            problem = self.health(url)
            if problem is None:
                self._mark_up(url)
                return url
            problems.append(f"{url} ({problem})")
        raise EngineFailed("every vLLM server is down: " + "; ".join(problems))

    def complete(self, data_url: str, options: VllmOptions | None = None) -> Completion:
        """Send one page, retrying on another server after errors; EngineFailed when every attempt fails.

        `options`: a call's options (its token limit and n-gram rule); the client's own by default.
        """
        import httpx

        if not self.urls:
            raise EngineUnavailable("no vLLM server configured (INVOICE_OCR_VLLM_URLS)")
        errors: list[str] = []
        attempts = self.retries + 1
        with self.semaphore:
            for attempt in range(attempts):
                if attempt:
                    time.sleep(min(self.backoff_s * 2 ** (attempt - 1), 8.0))
                try:
                    url = self._pick()
                except EngineFailed as exc:
                    errors.append(exc.message)
                    continue
                check = self.check(url)
                if not check.usable:
                    errors.append(f"{url}: {check.detail}")
                    continue
                body = chat_request(options or self.options, data_url, self.profile, check.chat_template)
                try:
                    response = self.http.post(url + "/v1/chat/completions", json=body)
                except httpx.TimeoutException:
                    errors.append(f"{url}: timed out after {self.options.timeout:g}s")
                    self._mark_down(url)
                    continue
                except httpx.HTTPError as exc:
                    errors.append(f"{url}: {type(exc).__name__}: {exc}")
                    self._mark_down(url)
                    continue
                if response.status_code >= 500 or response.status_code == 429:
                    errors.append(f"{url}: HTTP {response.status_code}")
                    self._mark_down(url)
                    continue
                if response.status_code != 200:
                    # A request the server refuses is refused by every server: do not retry it.
                    raise EngineFailed(
                        f"vLLM server {url} refused the request: HTTP {response.status_code} {response.text[:300]}"
                    )
                try:
                    choice = response.json()["choices"][0]
                    text = choice["message"]["content"] or ""
                except (ValueError, KeyError, IndexError, TypeError) as exc:
                    errors.append(f"{url}: malformed answer ({type(exc).__name__})")
                    continue
                return Completion(text, choice.get("finish_reason"), url, attempt + 1, check)
        raise EngineFailed(f"vLLM: the page failed on {attempts} attempts: " + "; ".join(errors))


class VllmEngine(OcrEngine):
    """OCR models served by vLLM (DeepSeek-OCR(-2), GLM-OCR, PaddleOCR-VL-1.5): scale-out OCR on GPU servers."""

    name = "vllm"
    description = "DeepSeek-OCR(-2), GLM-OCR or PaddleOCR-VL-1.5 behind vLLM OpenAI-compatible servers"
    options_model = VllmOptions
    options: VllmOptions
    health_ttl_s = 10.0

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._client: VllmClient | None = None
        self._client_lock = threading.Lock()
        self._availability: tuple[float, Availability] | None = None

    @property
    def client(self) -> VllmClient:
        """The shared client (built on first use)."""
        with self._client_lock:
            if self._client is None:
                self._client = VllmClient(self.options)
            return self._client

    def configured(self) -> bool:
        """Configured when server URLs are set."""
        return bool(self.options.urls)

    def available(self) -> Availability:
        """Available when a configured server passes its health check and serves the model (cached briefly).

        Every answering server is also checked once (model list, prompt rendering) for /health.
        """
        if not self.options.urls:
            return Availability(False, "INVOICE_OCR_VLLM_URLS is not set (comma-separated vLLM server URLs)")
        cached = self._availability
        if cached and time.monotonic() - cached[0] < self.health_ttl_s:
            return cached[1]
        problems, usable = [], False
        for url in self.client.urls:
            problem = self.client.health(url)
            if problem is None:
                check = self.client.check(url)
                usable = usable or check.usable
                problem = None if check.usable else check.detail
            if problem is not None:
                problems.append(f"{url} ({problem})")
        if usable:
            result = Availability(True)
        else:
            result = Availability(False, "no vLLM server can read pages: " + "; ".join(problems))
        self._availability = (time.monotonic(), result)
        return result

    def report(self) -> dict[str, Any]:
        """For /health: the model, its profile, and what each checked server said."""
        if not self.options.urls:
            return {}
        client = self.client
        return {
            "model": self.options.model,
            "profile": client.profile.name,
            "output": client.profile.output,
            "boxes": client.profile.boxes,
            "servers": {url: check.as_dict() for url, check in client.checks.items()},
        }

    def recognize(self, document: Document, pages: list[Page], options: EngineOptions) -> list[PageMarkdown]:
        """Read pages in parallel (bounded); a page that fails everywhere is marked, never fatal."""
        if not self.options.urls:
            raise EngineUnavailable("engine 'vllm' is unavailable: INVOICE_OCR_VLLM_URLS is not set")
        if not pages:
            return []
        opts = cast("VllmOptions", self.own_options(options))
        client = self.client
        workers = max(1, min(len(pages), opts.concurrency))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vllm") as pool:
            return list(pool.map(lambda page: self._read(client, page, opts), pages))

    def _read(self, client: VllmClient, page: Page, options: VllmOptions) -> PageMarkdown:
        try:
            completion = client.complete(image_data_url(page.render(options.dpi)), options)
        except EngineFailed as exc:
            log.warning("vllm: page %d failed: %s", page.number, exc.message)
            result = PageMarkdown(page.number, self.name, page.width, page.height, failure=exc.message)
            result.notes.append(f"{self.name}: {exc.message}")
            return result
        result = page_from_output(
            completion.text,
            page.number,
            self.name,
            page.width,
            page.height,
            hit_token_limit=completion.finish_reason == "length",
        )
        if completion.attempts > 1:
            result.notes.append(f"{self.name}: read by {completion.server} after {completion.attempts} attempts")
        if completion.check is not None and completion.check.prompt in ("wrapped", "altered"):
            result.notes.append(f"{self.name}: {completion.server}: {completion.check.detail}")
        return result
