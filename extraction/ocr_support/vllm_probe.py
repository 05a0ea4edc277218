"""A one-time check of each vLLM server: does it serve the model, and does the prompt reach it unwrapped?

DeepSeek-OCR checkpoints declare the DeepSeek-VL2 model type, and vLLM builds that choose a chat template
by model type wrap every prompt in `<|User|>: ... <|Assistant|>: `, which DeepSeek-OCR was not trained
with and reads far worse under. So for a profile whose prompt must arrive as is, the client asks each
server once (its `GET /v1/models`, then `POST /tokenize` with the exact chat message it sends for a page,
detokenized when the server gives ids only) how the prompt is rendered. A wrapping server is then asked
again with the raw-prompt template in the request; a server that accepts it gets that template with every
page. The outcome is kept per server and reported in `/health`.
"""

from __future__ import annotations

import base64
import io
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from extraction.ocr_support.vllm_profiles import RAW_PROMPT_TEMPLATE, VllmProfile

if TYPE_CHECKING:
    import httpx

Verdict = Literal["unwrapped", "fixed per request", "wrapped", "altered", "unverified", "not checked"]
ROLE_MARKERS = ("<|User|>", "<|Assistant|>", "User:", "Assistant:", "<|im_start|>", "[INST]")
IMAGE_RUN = re.compile(r"(?:<image>\s*)+")
START_TOKENS = re.compile(r"^(?:<｜begin▁of▁sentence｜>|<s>|<\|begin_of_text\|>)")
PROBE_TIMEOUT_S = 10.0


@dataclass
class ServerCheck:
    """What one server said when it was checked."""

    url: str
    models: list[str] | None = None
    model_served: bool | None = None
    prompt: Verdict = "not checked"
    rendered: str | None = None
    detail: str = ""
    chat_template: str | None = None  # sent with every request when the server's own template wraps
    checked_at: float = 0.0

    @property
    def usable(self) -> bool:
        """False when the server is known not to serve the configured model."""
        return self.model_served is not False

    def as_dict(self) -> dict[str, Any]:
        """For /health."""
        return {
            "models": self.models,
            "model_served": self.model_served,
            "prompt": self.prompt,
            "rendered_prompt": self.rendered,
            "detail": self.detail,
        }


def probe_image_url() -> str:
    """A tiny white PNG as a data URL (the probe only renders the prompt; nothing is generated)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "white").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def readable_prompt(text: str) -> str:
    """The rendered prompt with each run of image placeholders shown once."""
    return IMAGE_RUN.sub(lambda m: "<image>" + ("\n" if m.group(0).endswith("\n") else ""), text)


def judge_prompt(rendered: str, expected: str) -> tuple[Verdict, str]:
    """Whether `rendered` is `expected` as the model must see it, wrapped in chat roles, or something else."""
    shown = readable_prompt(rendered)
    if any(marker in shown for marker in ROLE_MARKERS):
        return "wrapped", "the server's chat template wraps the prompt in chat roles"
    body = START_TOKENS.sub("", shown).strip()
    if body == expected.strip():
        return "unwrapped", "the prompt reaches the model as the model expects"
    return "altered", f"the server renders the prompt differently from {expected!r}"


def _rendered_prompt(
    http: httpx.Client, url: str, model: str, messages: list[dict[str, Any]], template: str | None
) -> tuple[str | None, str]:
    """(prompt text the server would feed the model, problem) from POST /tokenize (+ /detokenize)."""
    import httpx

    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "add_generation_prompt": True,
        "return_token_strs": True,
    }
    if template is not None:
        body["chat_template"] = template
    try:
        response = http.post(url + "/tokenize", json=body, timeout=PROBE_TIMEOUT_S)
        if response.status_code != 200:
            return None, f"POST /tokenize answered HTTP {response.status_code}: {response.text[:200]}"
        answer = response.json()
        if isinstance(answer.get("token_strs"), list):
            return "".join(answer["token_strs"]), ""
        tokens = answer["tokens"]
        response = http.post(url + "/detokenize", json={"model": model, "tokens": tokens}, timeout=PROBE_TIMEOUT_S)
        if response.status_code != 200:
            return None, f"POST /detokenize answered HTTP {response.status_code}"
        return str(response.json()["prompt"]), ""
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"malformed /tokenize answer ({type(exc).__name__})"


def served_models(http: httpx.Client, url: str) -> list[str] | None:
    """The model ids in the server's GET /v1/models, or None when it cannot say."""
    import httpx

    try:
        response = http.get(url + "/v1/models", timeout=PROBE_TIMEOUT_S)
        if response.status_code != 200:
            return None
        return [str(entry["id"]) for entry in response.json()["data"]]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None


def check_server(
    http: httpx.Client, url: str, model: str, profile: VllmProfile, messages: list[dict[str, Any]]
) -> ServerCheck:
    """Check one server: the model list, then (for raw-prompt profiles) how the page prompt is rendered."""
    check = ServerCheck(url, checked_at=time.time())
    check.models = served_models(http, url)
    if check.models is not None:
        check.model_served = model in check.models
        if not check.model_served:
            check.detail = f"the server serves {', '.join(check.models) or 'nothing'}, not {model!r}"
            return check
    if profile.expected_prompt is None:
        check.prompt = "not checked"
        check.detail = check.detail or f"{profile.title} uses the model's own chat template"
        return check
    rendered, problem = _rendered_prompt(http, url, model, messages, None)
    if rendered is None:
        check.prompt, check.detail = "unverified", f"cannot see how the prompt is rendered: {problem}"
        return check
    check.rendered = readable_prompt(rendered)[:300]
    check.prompt, check.detail = judge_prompt(rendered, profile.expected_prompt)
    if check.prompt != "wrapped":
        return check
    fixed, _ = _rendered_prompt(http, url, model, messages, RAW_PROMPT_TEMPLATE)
    if fixed is not None and judge_prompt(fixed, profile.expected_prompt)[0] == "unwrapped":
        check.prompt, check.chat_template = "fixed per request", RAW_PROMPT_TEMPLATE
        check.detail = (
            "the server's chat template wraps the prompt in chat roles; this client sends the raw-prompt "
            "template with each request (start vLLM with --chat-template deploy/vllm/deepseek_ocr.jinja)"
        )
    else:
        check.detail = (
            "the server's chat template wraps the prompt in chat roles, so DeepSeek-OCR reads worse; restart "
            "vLLM with --chat-template deploy/vllm/deepseek_ocr.jinja"
        )
    return check
