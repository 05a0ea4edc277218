"""The `deepseek-legacy` engine against the side service's real HTTP layer with a fake model reader."""

import base64
import importlib.util
import json
import threading
import time
from pathlib import Path

import httpx
import pymupdf
import pytest

from extraction.documents import load_document
from extraction.engines.base import EngineOptions
from extraction.engines.deepseek_legacy import DeepSeekLegacyEngine
from extraction.engines.grounding import GROUNDING_PROMPT
from extraction.engines.registry import engine_class
from utils.settings import Settings

SERVER_PATH = Path(__file__).resolve().parents[2] / "deploy" / "deepseek_v1" / "server.py"
spec = importlib.util.spec_from_file_location("deepseek_v1_server", SERVER_PATH)
server_mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(server_mod)

GROUNDED = "<|ref|>title<|/ref|><|det|>[[50, 30, 500, 70]]<|/det|>\n# Invoice 88\n\nTotal 12.50"


class FakeV1Reader:
    """Stands in for DeepSeek-OCR v1 (a 6.6 GB CUDA-only checkpoint that cannot run here)."""

    name = "fake-deepseek-ocr"
    device = "cpu"

    def __init__(self, answers=None, delay=0.0):
        self.answers = list(answers or [])
        self.delay = delay
        self.calls = []

    def read(self, image, prompt, base_size, image_size, crop_mode):
        self.calls.append({"image": image, "prompt": prompt, "sizes": (base_size, image_size, crop_mode)})
        time.sleep(self.delay)
        answer = self.answers.pop(0) if self.answers else GROUNDED
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def service():
    started = []

    def start(reader):
        httpd = server_mod.make_server(reader, "127.0.0.1", 0)
        threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
        started.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd in started:
        httpd.shutdown()
        httpd.server_close()


def document(settings, pages=2):
    pdf = pymupdf.open()
    for i in range(pages):
        pdf.new_page(width=200, height=280).insert_text((20, 40), f"Invoice {i}", fontsize=14)
    return load_document(pdf.tobytes(), "legacy.pdf", settings)


def test_registry_maps_the_name():
    assert engine_class("deepseek-legacy") is DeepSeekLegacyEngine


def test_available_explains_why_not(service):
    reason = DeepSeekLegacyEngine(Settings(_env_file=None)).available().reason
    assert "INVOICE_OCR_DEEPSEEK_LEGACY_URL is not set" in reason and "setup.sh" in reason
    down = DeepSeekLegacyEngine(Settings(deepseek_legacy_url="http://127.0.0.1:9")).available()
    assert not down and "does not answer" in down.reason
    assert DeepSeekLegacyEngine(Settings(deepseek_legacy_url=service(FakeV1Reader()) + "/")).available()


def test_pages_go_to_the_service_and_come_back_parsed(service):
    reader = FakeV1Reader()
    settings = Settings(deepseek_legacy_url=service(reader))
    doc = document(settings)
    pages = DeepSeekLegacyEngine(settings).recognize(doc, doc.pages, EngineOptions(dpi=50))
    assert [p.number for p in pages] == [1, 2] and all(p.failure is None for p in pages)
    assert pages[0].blocks[0].kind == "heading" and pages[0].blocks[0].text == "Invoice 88"
    assert pages[0].blocks[0].bbox == (round(50 / 999, 4), round(30 / 999, 4), round(500 / 999, 4), round(70 / 999, 4))
    assert len(reader.calls) == 2
    assert reader.calls[0]["prompt"] == GROUNDING_PROMPT
    assert reader.calls[0]["image"].startswith(b"\x89PNG")
    assert reader.calls[0]["sizes"] == (1024, 640, True)


def test_a_failing_or_looping_page_is_marked_and_the_others_read(service):
    loop = "<|ref|>text<|/ref|><|det|>[[1, 1, 900, 900]]<|/det|>\n" + "Qty 1 Qty 1 " * 60
    reader = FakeV1Reader([RuntimeError("CUDA out of memory"), GROUNDED, loop])
    settings = Settings(deepseek_legacy_url=service(reader))
    doc = document(settings, pages=3)
    pages = DeepSeekLegacyEngine(settings).recognize(doc, doc.pages, EngineOptions(dpi=50))
    assert pages[0].failure == "DeepSeek-OCR v1 service error: HTTP 500: RuntimeError: CUDA out of memory"
    assert pages[0].notes == [f"deepseek-legacy: {pages[0].failure}"]
    assert pages[1].failure is None
    assert pages[2].failure.startswith("runaway repetition")


def test_timeout_and_unreachable_service(service):
    settings = Settings(deepseek_legacy_url=service(FakeV1Reader(delay=1.5)), deepseek_legacy_timeout=0.3)
    doc = document(settings, pages=1)
    [page] = DeepSeekLegacyEngine(settings).recognize(doc, doc.pages, EngineOptions(dpi=50))
    assert page.failure == "DeepSeek-OCR v1 service timed out after 0.3s"
    gone = Settings(deepseek_legacy_url="http://127.0.0.1:9")
    [page] = DeepSeekLegacyEngine(gone).recognize(doc, doc.pages, EngineOptions(dpi=50))
    assert page.failure.startswith("DeepSeek-OCR v1 service unreachable")


def test_service_validates_requests(service):
    reader = FakeV1Reader()
    url = service(reader)
    health = httpx.get(url + "/health").json()
    assert health == {"status": "ok", "model": "fake-deepseek-ocr", "device": "cpu"}
    assert httpx.post(url + "/v1/ocr", content=b"not json").status_code == 400
    gif = base64.b64encode(b"GIF89a....").decode()
    bad = httpx.post(url + "/v1/ocr", json={"image": gif})
    assert bad.status_code == 400 and "PNG or JPEG" in bad.json()["error"]
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 10).decode()
    no_placeholder = httpx.post(url + "/v1/ocr", json={"image": png, "prompt": "Free OCR."})
    assert no_placeholder.status_code == 400
    ok = httpx.post(url + "/v1/ocr", json={"image": png, "base_size": 640, "crop_mode": False})
    assert ok.status_code == 200 and ok.json()["text"] == GROUNDED
    assert reader.calls[-1]["sizes"] == (640, 640, False)
    assert reader.calls[-1]["prompt"] == server_mod.DEFAULT_PROMPT
    assert json.loads(httpx.get(url + "/nope").text)["error"] == "no route /nope"
