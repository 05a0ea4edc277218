"""The `vllm` engine's per-model profiles, its one-time server check, n-gram off, and refusals under `auto`.

Every server here is a local HTTP server speaking vLLM's protocol (tests/extraction/vllm_server.py); the
answers replayed for each profile are in the format that model's documentation gives.
"""

import shutil
from pathlib import Path

import jinja2
import pymupdf
import pytest

from extraction.documents import load_document
from extraction.engines import vllm as vllm_mod
from extraction.engines.base import EngineOptions
from extraction.engines.registry import get_engine
from extraction.ocr_support.grounding import GROUNDING_PROMPT
from extraction.ocr_support.vllm_probe import judge_prompt
from extraction.ocr_support.vllm_profiles import PROFILES, RAW_PROMPT_TEMPLATE, profile_for_model
from extraction.options import ExtractOptions
from extraction.pipeline import read_pages
from tests.builders import make_settings
from tests.extraction.vllm_server import BOS, ChatServer

REPO = Path(__file__).resolve().parents[2]
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs Debian tesseract-ocr")


@pytest.fixture
def servers():
    started = []

    def start(**kwargs):
        server = ChatServer(**kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(vllm_mod.VllmClient, "backoff_s", 0.01)


def vllm_settings(url, **overrides):
    values = {"vllm_urls": url, "vllm_timeout": 5.0, "vllm_concurrency": 2, "deepseek_max_new_tokens": 1024}
    values.update(overrides)
    return make_settings(**values)


def read_one(settings):
    """Read a one-page PDF with the vllm engine; (page, engine report)."""
    pdf = pymupdf.open()
    pdf.new_page(width=200, height=280).insert_text((20, 40), "INVOICE 7", fontsize=14)
    doc = load_document(pdf.tobytes(), "doc.pdf", settings)
    engine = vllm_mod.VllmEngine(settings)
    try:
        [page] = engine.recognize(doc, doc.pages, EngineOptions(dpi=50))
        return page, engine.report()
    finally:
        engine.client.close()


def test_ngram_off_sends_no_logits_processor_arguments(servers):
    server = servers()
    page, _ = read_one(vllm_settings(server.url, deepseek_ngram_size=0))
    [request] = server.requests
    assert "vllm_xargs" not in request["body"] and page.failure is None
    page, _ = read_one(vllm_settings(server.url, deepseek_ngram_size=20, deepseek_ngram_window=60))
    assert server.requests[-1]["body"]["vllm_xargs"] == {
        "ngram_size": 20,
        "window_size": 60,
        "whitelist_token_ids": [128821, 128822],
    }


def test_an_unwrapped_server_passes_the_check(servers):
    server = servers(template="raw")
    page, report = read_one(vllm_settings(server.url))
    check = report["servers"][server.url]
    assert check["prompt"] == "unwrapped" and check["model_served"] is True
    assert check["rendered_prompt"] == BOS + GROUNDING_PROMPT
    assert page.failure is None and not any("chat template" in n for n in page.notes)
    assert "chat_template" not in server.requests[0]["body"]
    # The probe sent the very message a page is sent with: the image, then the grounding instruction.
    [tokenize] = [p for p in server.probes if p["path"] == "/tokenize"]
    content = tokenize["body"]["messages"][0]["content"]
    assert [part["type"] for part in content] == ["image_url", "text"] and content[1]["text"] == PROFILES[
        "deepseek-ocr"
    ].instruction


def test_a_mis_templated_server_is_detected_and_reported(servers):
    server = servers(template="wrapped", request_templates=False)
    page, report = read_one(vllm_settings(server.url))
    check = report["servers"][server.url]
    assert check["prompt"] == "wrapped"
    assert check["rendered_prompt"].startswith(BOS + "<|User|>: <image>\n<|grounding|>Convert")
    assert "--chat-template deploy/vllm/deepseek_ocr.jinja" in check["detail"]
    assert page.failure is None  # still read, but the result says it was read under a wrong prompt
    assert any(n.startswith(f"vllm: {server.url}: the server's chat template wraps the prompt") for n in page.notes)
    assert "chat_template" not in server.requests[0]["body"]
    assert [p["path"] for p in server.probes] == ["/tokenize", "/detokenize", "/tokenize"]


def test_a_wrapping_server_that_takes_request_templates_gets_the_raw_prompt_one(servers):
    server = servers(template="wrapped", request_templates=True, token_strs=True)
    page, report = read_one(vllm_settings(server.url))
    assert report["servers"][server.url]["prompt"] == "fixed per request"
    assert server.requests[0]["body"]["chat_template"] == RAW_PROMPT_TEMPLATE
    assert not any("chat template" in n for n in page.notes)
    assert [p["path"] for p in server.probes] == ["/tokenize", "/tokenize"]  # token strings: no detokenize


def test_a_server_without_tokenizer_endpoints_is_unverified_but_used(servers):
    server = servers(template=None)
    page, report = read_one(vllm_settings(server.url))
    check = report["servers"][server.url]
    assert check["prompt"] == "unverified" and "HTTP 404" in check["detail"]
    assert page.failure is None and len(server.requests) == 1


def test_a_server_that_does_not_serve_the_model_is_not_used(servers):
    wrong, right = servers(models=["some/other-model"]), servers()
    settings = vllm_settings(f"{wrong.url},{right.url}")
    page, report = read_one(settings)
    assert wrong.requests == [] and len(right.requests) == 1 and page.failure is None
    assert report["servers"][wrong.url]["model_served"] is False
    engine = vllm_mod.VllmEngine(vllm_settings(wrong.url))
    availability = engine.available()
    assert not availability and "serves some/other-model, not 'deepseek-ai/DeepSeek-OCR'" in availability.reason
    engine.client.close()


def test_the_raw_prompt_template_renders_deepseeks_prompt():
    shipped = (REPO / "deploy" / "vllm" / "deepseek_ocr.jinja").read_text(encoding="utf-8")
    assert shipped == RAW_PROMPT_TEMPLATE
    messages = [{"role": "user", "content": "<image>\n" + PROFILES["deepseek-ocr-2"].instruction}]
    rendered = jinja2.Environment().from_string(shipped).render(messages=messages, bos_token=BOS)
    assert rendered == BOS + GROUNDING_PROMPT
    assert judge_prompt(rendered, GROUNDING_PROMPT)[0] == "unwrapped"
    assert judge_prompt("<|User|>: " + GROUNDING_PROMPT + "\n\n<|Assistant|>: ", GROUNDING_PROMPT)[0] == "wrapped"
    assert judge_prompt(BOS + "<image>\nFree OCR.", GROUNDING_PROMPT)[0] == "altered"


def test_profiles_follow_the_model_name_unless_named():
    assert profile_for_model("deepseek-ai/DeepSeek-OCR").name == "deepseek-ocr"
    assert profile_for_model("deepseek-ai/DeepSeek-OCR-2").name == "deepseek-ocr-2"
    assert profile_for_model("zai-org/GLM-OCR").name == "glm-ocr"
    assert profile_for_model("PaddlePaddle/PaddleOCR-VL-1.5").name == "paddleocr-vl-1.5"
    assert profile_for_model("my-ocr").name == "deepseek-ocr"  # DeepSeek stays the default
    settings = vllm_settings("http://x", vllm_model="my-ocr", vllm_profile="glm-ocr")
    assert vllm_mod.VllmClient(settings.vllm).profile.name == "glm-ocr"


# Replays: answers in the format each model's documentation shows for a whole page.
GLM_OCR_PAGE = (
    "# INVOICE\n\nInvoice No: INV-2291\n\nDate: 2025-03-14\n\n"
    '<table border="1"><tr><td>Description</td><td>Qty</td><td>Amount</td></tr>'
    "<tr><td>Consulting</td><td>2</td><td>300.00</td></tr></table>\n\nTotal: 300.00 EUR"
)
PADDLE_OCR_PAGE = "INVOICE\nInvoice No: INV-2291\nDate: 2025-03-14\nConsulting 2 300.00\nTotal: 300.00 EUR"


def test_glm_ocr_replay(servers):
    server = servers(answer=GLM_OCR_PAGE, template="raw")
    page, report = read_one(vllm_settings(server.url, vllm_model="zai-org/GLM-OCR", deepseek_ngram_size=30))
    body = server.requests[0]["body"]
    content = body["messages"][0]["content"]
    assert content[1]["text"].startswith("Recognize the text in the image and output in Markdown format.")
    assert "vllm_xargs" not in body and "skip_special_tokens" not in body and body["repetition_penalty"] == 1.1
    assert server.probes == []  # GLM-OCR keeps its own chat template: nothing to check
    assert report["profile"] == "glm-ocr" and report["boxes"] is False
    assert report["servers"][server.url]["prompt"] == "not checked"
    assert page.failure is None
    assert [(b.kind, b.text) for b in page.blocks if b.kind != "table"][:2] == [
        ("heading", "INVOICE"),
        ("text", "Invoice No: INV-2291"),
    ]
    [table] = [b for b in page.blocks if b.kind == "table"]
    assert table.rows == [["Description", "Qty", "Amount"], ["Consulting", "2", "300.00"]]
    assert all(b.bbox is None for b in page.blocks)
    assert "Total: 300.00 EUR" in page.to_markdown()


def test_paddleocr_vl_replay(servers):
    server = servers(answer=PADDLE_OCR_PAGE)
    page, report = read_one(vllm_settings(server.url, vllm_model="PaddlePaddle/PaddleOCR-VL-1.5"))
    body = server.requests[0]["body"]
    assert body["messages"][0]["content"][1] == {"type": "text", "text": "OCR:"}
    assert body["temperature"] == 0.0 and "vllm_xargs" not in body
    assert report["profile"] == "paddleocr-vl-1.5" and page.failure is None
    assert [b.text for b in page.blocks] == PADDLE_OCR_PAGE.splitlines()
    assert all(b.bbox is None for b in page.blocks)


def test_deepseek_ocr_2_replay_keeps_boxes(servers):
    answer = (
        "<|ref|>title<|/ref|><|det|>[[80, 30, 500, 70]]<|/det|>\n# INVOICE\n\n"
        "<|ref|>table<|/ref|><|det|>[[80, 300, 900, 420]]<|/det|>\n"
        "<table><tr><td>Consulting</td><td>300.00</td></tr></table>"
    )
    server = servers(answer=answer)
    page, report = read_one(vllm_settings(server.url, vllm_model="deepseek-ai/DeepSeek-OCR-2"))
    assert report["profile"] == "deepseek-ocr-2" and server.requests[0]["body"]["skip_special_tokens"] is False
    assert [b.kind for b in page.blocks] == ["heading", "table"]
    assert page.blocks[1].rows == [["Consulting", "300.00"]] and page.blocks[1].bbox[1] == round(300 / 999, 4)


def scan(settings):
    pdf = pymupdf.open()
    pdf.new_page(width=300, height=200).insert_text((20, 60), "INVOICE 5521", fontsize=20)
    return load_document(pdf[0].get_pixmap(dpi=150).tobytes("png"), "scan.png", settings)


@needs_tesseract
def test_a_refused_page_is_read_by_the_cpu_engine_with_the_reason(servers):
    server = servers(mode="bad_request")
    settings = vllm_settings(server.url, raster_engine="tesseract")
    doc = scan(settings)
    try:
        [page] = read_pages(doc, ExtractOptions(engine="auto", dpi=150), settings, {})
    finally:
        get_engine("vllm", settings).client.close()
    assert len(server.requests) == 1  # a refusal is not sent again to a server
    assert page.engine == "tesseract" and page.failure is None and "INVOICE" in page.to_markdown()
    assert any("refused the request: HTTP 400" in n and n.endswith("re-read with tesseract") for n in page.notes)


@needs_tesseract
def test_auto_says_why_a_configured_vllm_was_not_used(servers):
    server = servers(models=["other/model"])
    settings = vllm_settings(server.url, raster_engine="tesseract")
    doc = scan(settings)
    try:
        [page] = read_pages(doc, ExtractOptions(engine="auto", dpi=150), settings, {})
    finally:
        get_engine("vllm", settings).client.close()
    assert page.engine == "tesseract" and server.requests == []
    assert page.notes[0].startswith("vllm not used: no vLLM server can read pages:")
    assert "serves other/model" in page.notes[0]
