"""The vLLM engine against real local HTTP servers speaking the OpenAI chat completions protocol."""

import base64
import io
import shutil
import socket
import time

import pymupdf
import pytest
from PIL import Image

from extraction.documents import load_document
from extraction.engines import vllm as vllm_mod
from extraction.engines.base import EngineOptions
from extraction.engines.registry import engine_class
from extraction.options import ExtractOptions
from extraction.pipeline import read_pages
from tests.builders import make_settings
from tests.extraction.engine_contract import FailedPagesContract
from tests.extraction.vllm_server import ChatServer
from utils.errors import EngineFailed


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


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def vllm_settings(urls, **overrides):
    values = {"vllm_urls": urls, "vllm_timeout": 2.0, "vllm_concurrency": 4, "deepseek_max_new_tokens": 2048}
    values.update(overrides)
    return make_settings(**values)


def make_document(settings, pages=1):
    pdf = pymupdf.open()
    for i in range(pages):
        page = pdf.new_page(width=200, height=280)
        page.insert_text((20, 40), f"INVOICE {i}", fontsize=14)
    return load_document(pdf.tobytes(), "doc.pdf", settings)


def read(settings, pages=1, dpi=36):
    engine = vllm_mod.VllmEngine(settings)
    doc = make_document(settings, pages)
    try:
        return engine.recognize(doc, doc.pages, EngineOptions(dpi=50 if dpi < 50 else dpi))
    finally:
        engine.client.close()


def test_registry_and_settings_parsing():
    assert engine_class("vllm") is vllm_mod.VllmEngine
    settings = make_settings(vllm_urls="http://a:8000/v1/, http://b:8001")
    assert vllm_mod.VllmClient(settings.vllm).urls == ["http://a:8000", "http://b:8001"]


def test_exact_request_and_parsed_answer(servers):
    server = servers()
    settings = vllm_settings(server.url + "/v1", vllm_model="deepseek-ai/DeepSeek-OCR-2")
    [page] = read(settings)
    [request] = server.requests
    assert request["path"] == "/v1/chat/completions"
    body = request["body"]
    data_url = body["messages"][0]["content"][0]["image_url"]["url"]
    assert data_url.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1])))
    assert image.format == "PNG" and image.size == (139, 195)  # 200x280 pt at 50 dpi
    assert body == {
        "model": "deepseek-ai/DeepSeek-OCR-2",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": data_url}},
                    {"type": "text", "text": "<|grounding|>Convert the document to markdown."},
                ],
            }
        ],
        "max_tokens": 2048,
        "temperature": 0.0,
        "skip_special_tokens": False,
        "vllm_xargs": {"ngram_size": 30, "window_size": 90, "whitelist_token_ids": [128821, 128822]},
    }
    assert page.failure is None and page.engine == "vllm" and (page.width, page.height) == (200, 280)
    assert [(b.kind, b.text) for b in page.blocks] == [
        ("heading", "INVOICE 2024-17"),
        ("text", "Total due: 118.00 EUR"),
    ]
    assert page.blocks[0].bbox == (round(100 / 999, 4), round(40 / 999, 4), round(600 / 999, 4), round(80 / 999, 4))


def test_server_errors_are_retried_then_fail_over(servers):
    broken, good = servers(mode="error"), servers()
    [page] = read(vllm_settings(f"{broken.url},{good.url}"))
    assert len(broken.requests) == 1 and len(good.requests) == 1
    assert page.failure is None
    assert page.notes == [f"vllm: read by {good.url} after 2 attempts"]


def test_timeout_moves_to_the_next_server(servers):
    slow, good = servers(delay=3.0), servers()
    started = time.monotonic()
    [page] = read(vllm_settings(f"{slow.url},{good.url}", vllm_timeout=0.5))
    assert time.monotonic() - started < 2.5
    assert page.failure is None and len(good.requests) == 1 and len(slow.requests) == 1


def test_one_server_down_the_other_reads_every_page(servers):
    good = servers()
    down = closed_port_url()
    pages = read(vllm_settings(f"{down},{good.url}"), pages=3)
    assert [p.failure for p in pages] == [None, None, None]
    assert len(good.requests) == 3


def test_all_servers_down_is_a_clear_failure(servers):
    broken = servers(mode="error", health=503)
    down = closed_port_url()
    settings = vllm_settings(f"{down},{broken.url}", vllm_retries=2)
    client = vllm_mod.VllmClient(settings.vllm)
    with pytest.raises(EngineFailed, match="failed on 3 attempts") as info:
        client.complete("data:image/png;base64,AAAA")
    assert "every vLLM server is down" in info.value.message and down in info.value.message
    client.close()
    [page] = read(settings)
    assert page.failure and page.failure.startswith("vLLM: the page failed on 3 attempts")
    assert page.blocks == [] and page.notes == [f"vllm: {page.failure}"]
    engine = vllm_mod.VllmEngine(settings)
    availability = engine.available()
    assert (
        not availability
        and "no vLLM server can read pages" in availability.reason
        and "HTTP 503" in availability.reason
    )


def test_a_refused_request_is_not_retried(servers):
    refusing, good = servers(mode="bad_request"), servers()
    client = vllm_mod.VllmClient(vllm_settings(f"{refusing.url},{good.url}").vllm)
    with pytest.raises(EngineFailed, match="refused the request: HTTP 400"):
        client.complete("data:image/png;base64,AAAA")
    assert len(refusing.requests) == 1 and good.requests == []
    client.close()


def test_round_robin_over_servers(servers):
    a, b = servers(delay=0.3), servers(delay=0.3)
    pages = read(vllm_settings(f"{a.url},{b.url}", vllm_concurrency=2), pages=6)
    assert [p.number for p in pages] == [1, 2, 3, 4, 5, 6]
    assert len(a.requests) == 3 and len(b.requests) == 3


def test_parallel_pages_share_the_bound(servers):
    one = servers(delay=0.3)
    started = time.monotonic()
    pages = read(vllm_settings(one.url, vllm_concurrency=3), pages=6)
    elapsed = time.monotonic() - started
    assert len(pages) == 6 and one.max_in_flight == 3
    assert elapsed < 6 * 0.3  # pages ran in parallel


def test_length_finish_reason_marks_truncation(servers):
    server = servers(answer="<|ref|>text<|/ref|><|det|>[[1, 1, 500, 50]]<|/det|>\nTotal 1", finish_reason="length")
    [page] = read(vllm_settings(server.url))
    assert page.failure == "truncated output: generation hit the token limit"


def test_available_reasons(servers):
    assert "INVOICE_OCR_VLLM_URLS is not set" in vllm_mod.VllmEngine(make_settings()).available().reason
    good = servers()
    engine = vllm_mod.VllmEngine(vllm_settings(f"{closed_port_url()},{good.url}"))
    assert engine.available()
    assert good.health_checks == 2  # GET /health, then the one-time GET /v1/models
    engine.available()  # cached
    assert good.health_checks == 2
    engine.client.close()


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs Debian tesseract-ocr")
def test_auto_uses_vllm_and_rereads_a_looping_page_on_the_cpu(servers):
    from extraction.engines.registry import get_engine

    looping = "<|ref|>text<|/ref|><|det|>[[10, 10, 990, 990]]<|/det|>\n" + "Coffee 1 4.50\n" * 80
    server = servers(answer=looping, finish_reason="length")
    settings = vllm_settings(server.url, raster_engine="tesseract")
    pdf = pymupdf.open()
    pdf.new_page(width=300, height=200).insert_text((20, 60), "INVOICE 5521", fontsize=20)
    png = pdf[0].get_pixmap(dpi=150).tobytes("png")
    doc = load_document(png, "scan.png", settings)
    try:
        [page] = read_pages(doc, ExtractOptions(engine="auto", dpi=150), settings, {})
    finally:
        get_engine("vllm", settings).client.close()
    assert len(server.requests) == 1
    assert page.engine == "tesseract" and page.failure is None
    assert any(n.startswith("vllm output unusable (runaway repetition") for n in page.notes)
    assert "INVOICE" in page.to_markdown()


class TestVllmContract(FailedPagesContract):
    """The engine contract against the fake vLLM server: grounded answers, and a server that refuses."""

    name = "vllm"

    @pytest.fixture
    def engine(self, servers):
        engine = vllm_mod.VllmEngine(vllm_settings(servers().url))
        yield engine
        engine.client.close()

    @pytest.fixture
    def failing_case(self, servers, document):
        engine = vllm_mod.VllmEngine(vllm_settings(servers(mode="bad_request").url))
        yield engine, document
        engine.client.close()
