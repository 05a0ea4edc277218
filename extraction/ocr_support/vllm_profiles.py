"""How to prompt each OCR model that the `vllm` engine can talk to, and what comes back.

Each profile is taken from the model's own documentation (named in `source`):

- `deepseek-ocr`, `deepseek-ocr-2`: DeepSeek's vLLM recipe. The image, then
  `<|grounding|>Convert the document to markdown.`; the model must see exactly
  `<image>\\n<|grounding|>Convert the document to markdown.` (no chat roles around it), greedy decoding,
  special tokens kept, the n-gram logits processor's arguments in `vllm_xargs`. Output: grounded blocks
  `<|ref|>label<|/ref|><|det|>[[x1, y1, x2, y2]]<|/det|>` with 0..999 boxes, tables as HTML.
- `glm-ocr`: zai-org/GLM-OCR's SDK (`glmocr/config.yaml`): a whole page without its layout detector gets
  the SDK's default prompt and comes back as Markdown, tables as HTML `<table>`; no boxes (the SDK's
  boxes come from its separate PP-DocLayout step). The model's own chat template is used.
- `paddleocr-vl-1.5`: the PaddleOCR-VL-1.5 vLLM recipe's task prompt `OCR:`; plain text lines, no boxes
  (the pipeline's boxes come from PP-DocLayout; the model's `Spotting:` task returns locations in a
  format its documentation does not spell out, so it is not used). The model's own chat template is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from extraction.ocr_support.grounding import GROUNDING_INSTRUCTION, GROUNDING_PROMPT

# A chat template that hands DeepSeek-OCR the prompt as its own code does: start token, then the user's
# content (vLLM puts the `<image>` placeholder before the text), no roles. Same text as
# deploy/vllm/deepseek_ocr.jinja, which `vllm serve --chat-template` reads.
RAW_PROMPT_TEMPLATE = (
    "{{- bos_token -}}\n"
    "{%- for message in messages -%}\n"
    "{%- if message['role'] == 'user' -%}{{- message['content'] -}}{%- endif -%}\n"
    "{%- endfor -%}\n"
)
GLM_OCR_PAGE_PROMPT = (
    "Recognize the text in the image and output in Markdown format. Preserve the original layout "
    "(headings/paragraphs/tables/formulas). Do not fabricate content that does not exist in the image.\n"
)


@dataclass(frozen=True)
class VllmProfile:
    """One served model: its request, its answer's format, and how to serve it."""

    name: str
    title: str
    instruction: str
    output: Literal["grounded", "markdown", "text"]
    boxes: bool
    # DeepSeek's n-gram logits processor (vLLM's NGramPerReqLogitsProcessor) reads these from vllm_xargs.
    ngram_xargs: bool
    # The prompt must reach the model exactly as `expected_prompt` (no chat roles): checked on each server.
    expected_prompt: str | None
    keep_special_tokens: bool
    sampling: dict[str, Any] = field(default_factory=dict)
    vllm_version: str = ""
    serve_flags: tuple[str, ...] = ()
    source: str = ""

    @property
    def raw_prompt(self) -> bool:
        """Whether this model must get its prompt without chat-template wrapping."""
        return self.expected_prompt is not None


DEEPSEEK_SERVE_FLAGS = (
    "--chat-template deploy/vllm/deepseek_ocr.jinja",
    "--logits_processors vllm.model_executor.models.deepseek_ocr:NGramPerReqLogitsProcessor",
    "--no-enable-prefix-caching",
    "--mm-processor-cache-gb 0",
)
DEEPSEEK_OCR = VllmProfile(
    name="deepseek-ocr",
    title="DeepSeek-OCR",
    instruction=GROUNDING_INSTRUCTION,
    output="grounded",
    boxes=True,
    ngram_xargs=True,
    expected_prompt=GROUNDING_PROMPT,
    keep_special_tokens=True,
    vllm_version="v0.11.1 or later",
    serve_flags=DEEPSEEK_SERVE_FLAGS,
    source="vLLM recipe DeepSeek/DeepSeek-OCR.md; huggingface.co/deepseek-ai/DeepSeek-OCR",
)
PROFILES: dict[str, VllmProfile] = {
    profile.name: profile
    for profile in (
        DEEPSEEK_OCR,
        # The same prompt, output and serving flags; a newer vLLM.
        replace(
            DEEPSEEK_OCR,
            name="deepseek-ocr-2",
            title="DeepSeek-OCR-2",
            vllm_version="v0.16.0 or later (DeepSeek-OCR-2 support, vllm-project/vllm#33165)",
            source="vLLM recipe DeepSeek/DeepSeek-OCR-2.md; huggingface.co/deepseek-ai/DeepSeek-OCR-2",
        ),
        VllmProfile(
            name="glm-ocr",
            title="GLM-OCR",
            instruction=GLM_OCR_PAGE_PROMPT,
            output="markdown",
            boxes=False,
            ngram_xargs=False,
            expected_prompt=None,
            keep_special_tokens=False,
            sampling={"repetition_penalty": 1.1},
            vllm_version="a release with GLM-OCR (the model card asks for a nightly and transformers >= 5)",
            serve_flags=("--no-enable-prefix-caching", "--mm-processor-cache-gb 0"),
            source="github.com/zai-org/GLM-OCR (README; glmocr/config.yaml default_prompt); vLLM recipe GLM-OCR",
        ),
        VllmProfile(
            name="paddleocr-vl-1.5",
            title="PaddleOCR-VL-1.5",
            instruction="OCR:",
            output="text",
            boxes=False,
            ngram_xargs=False,
            expected_prompt=None,
            keep_special_tokens=False,
            vllm_version="v0.11.1 or later",
            serve_flags=(
                "--trust-remote-code",
                "--max-num-batched-tokens 16384",
                "--no-enable-prefix-caching",
                "--mm-processor-cache-gb 0",
            ),
            source="vLLM recipe PaddlePaddle/PaddleOCR-VL-1.5; huggingface.co/PaddlePaddle/PaddleOCR-VL-1.5",
        ),
    )
}


def profile_for_model(model: str) -> VllmProfile:
    """The profile a served model name implies (DeepSeek-OCR when the name says nothing else)."""
    name = model.lower().replace("_", "-")
    if "glm-ocr" in name:
        return PROFILES["glm-ocr"]
    if "paddleocr-vl" in name:
        return PROFILES["paddleocr-vl-1.5"]
    if "deepseek-ocr-2" in name or "deepseek-ocr2" in name:
        return PROFILES["deepseek-ocr-2"]
    return PROFILES["deepseek-ocr"]


def resolve_profile(profile: str, model: str) -> VllmProfile:
    """The named profile, or (for `auto`) the one the model name implies."""
    return profile_for_model(model) if profile == "auto" else PROFILES[profile]
