"""`deepseek-legacy`: DeepSeek-OCR (v1) through its side service in its own environment.

v1's published remote code needs transformers <= 4.47, so it never loads in this process: it runs as
`deploy/deepseek_v1/server.py` in the environment `deploy/deepseek_v1/setup.sh` builds, and this engine
sends it each page over HTTP (`INVOICE_OCR_DEEPSEEK_LEGACY_URL`). The protocol is described in that
server's docstring. Each page carries the shared generation settings (token limit, n-gram rule) and this
client's timeout, so the service stops generating before the client would give up. A page the service
cannot read (an error, a loop, the token limit, its deadline, a GPU too busy) comes back with `failure` set.
"""

from __future__ import annotations

import base64
import io
import logging
import threading
from typing import TYPE_CHECKING, cast

from extraction.engines.base import Availability, EngineOptions, OcrEngine
from extraction.markdown import PageMarkdown
from extraction.ocr_support.grounding import GROUNDING_PROMPT, page_from_output
from utils.engine_options import DeepSeekLegacyOptions
from utils.errors import EngineUnavailable

if TYPE_CHECKING:
    import httpx
    from PIL import Image

    from extraction.documents import Document, Page
    from utils.settings import Settings

log = logging.getLogger(__name__)

SETUP_HINT = "run deploy/deepseek_v1/setup.sh, then deploy/deepseek_v1/server.py (see deploy/README.md)"


def encode_png(image: Image.Image) -> str:
    """The image as base64 PNG text."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class DeepSeekLegacyEngine(OcrEngine):
    """DeepSeek-OCR v1 via its HTTP side service (the 6.6 GB checkpoint of the original setup)."""

    name = "deepseek-legacy"
    description = "DeepSeek-OCR v1 through its side service (own environment, transformers 4.46)"
    options_model = DeepSeekLegacyOptions
    options: DeepSeekLegacyOptions
    health_timeout_s = 3.0

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._http: httpx.Client | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The service's base URL (no trailing slash)."""
        return (self.options.url or "").strip().rstrip("/")

    @property
    def http(self) -> httpx.Client:
        """The shared HTTP client (built on first use)."""
        import httpx

        with self._lock:
            if self._http is None:
                self._http = httpx.Client(timeout=self.options.timeout)
            return self._http

    def available(self) -> Availability:
        """Available when the side service answers its health check."""
        import httpx

        if not self.url:
            return Availability(False, f"INVOICE_OCR_DEEPSEEK_LEGACY_URL is not set; {SETUP_HINT}")
        try:
            response = self.http.get(self.url + "/health", timeout=self.health_timeout_s)
        except httpx.HTTPError as exc:
            return Availability(
                False, f"the DeepSeek-OCR v1 service at {self.url} does not answer ({exc}); {SETUP_HINT}"
            )
        if response.status_code != 200:
            return Availability(
                False, f"the DeepSeek-OCR v1 service at {self.url} is not ready: HTTP {response.status_code}"
            )
        return Availability(True)

    def recognize(self, document: Document, pages: list[Page], options: EngineOptions) -> list[PageMarkdown]:
        """Send each page in turn (the service has one GPU); a failed page is marked, never fatal."""
        if not self.url:
            raise EngineUnavailable(
                "engine 'deepseek-legacy' is unavailable: INVOICE_OCR_DEEPSEEK_LEGACY_URL is not set"
            )
        opts = cast("DeepSeekLegacyOptions", self.own_options(options))
        return [self._read(page, opts) for page in pages]

    def _read(self, page: Page, options: DeepSeekLegacyOptions) -> PageMarkdown:
        import httpx

        body = {
            "image": encode_png(page.render(options.dpi)),
            "prompt": GROUNDING_PROMPT,
            "max_new_tokens": options.max_new_tokens,
            "ngram_size": options.ngram_size,
            "ngram_window": options.ngram_window,
            "whitelist_token_ids": list(options.whitelist_token_ids),
            "timeout_s": options.timeout,
        }
        try:
            response = self.http.post(self.url + "/v1/ocr", json=body)
            if response.status_code != 200:
                try:
                    detail = response.json().get("error", "")
                except ValueError:
                    detail = response.text[:300]
                return self._failed(page, f"DeepSeek-OCR v1 service error: HTTP {response.status_code}: {detail}")
            answer = response.json()
            text, finish = answer["text"], answer.get("finish_reason", "stop")
        except httpx.TimeoutException:
            return self._failed(page, f"DeepSeek-OCR v1 service timed out after {options.timeout:g}s")
        except httpx.HTTPError as exc:
            return self._failed(page, f"DeepSeek-OCR v1 service unreachable: {type(exc).__name__}: {exc}")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return self._failed(page, f"DeepSeek-OCR v1 service sent a malformed answer ({type(exc).__name__})")
        if finish == "deadline":
            return self._failed(
                page,
                f"timed out: the DeepSeek-OCR v1 service stopped at the page's deadline ({answer.get('detail', '')})",
            )
        failure = (answer.get("detail") or "runaway repetition") if finish == "loop" else None
        return page_from_output(
            text, page.number, self.name, page.width, page.height, hit_token_limit=finish == "length", failure=failure
        )

    def _failed(self, page: Page, reason: str) -> PageMarkdown:
        log.warning("deepseek-legacy: page %d failed: %s", page.number, reason)
        result = PageMarkdown(page.number, self.name, page.width, page.height, failure=reason)
        result.notes.append(f"{self.name}: {reason}")
        return result
