"""The `deepseek-legacy` engine against the side service's real HTTP layer with a fake model reader."""

import base64
import importlib.util
import json
import sys
import threading
import time
from pathlib import Path

import httpx
import pymupdf
import pytest

from extraction.documents import load_document
from extraction.engines.base import EngineOptions
from extraction.engines.deepseek_legacy import DeepSeekLegacyEngine
from extraction.engines.registry import engine_class
from extraction.ocr_support.grounding import GROUNDING_PROMPT
from tests.builders import make_settings
from tests.extraction.engine_contract import FailedPagesContract

SERVER_PATH = Path(__file__).resolve().parents[2] / "deploy" / "deepseek_v1" / "server.py"
spec = importlib.util.spec_from_file_location("deepseek_v1_server", SERVER_PATH)
server_mod = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = server_mod  # its dataclasses look their module up there
spec.loader.exec_module(server_mod)

GROUNDED = "<|ref|>title<|/ref|><|det|>[[50, 30, 500, 70]]<|/det|>\n# Invoice 88\n\nTotal 12.50"


class FakeV1Reader:
    """Stands in for DeepSeek-OCR v1 (a 6.6 GB CUDA-only checkpoint that cannot run here).

    `seconds` is how long a page would generate; like the real reader it stops at the page's deadline.
    """

    name = "fake-deepseek-ocr"
    device = "cpu"

    def __init__(self, answers=None, delay=0.0, seconds=0.0):
        self.answers = list(answers or [])
        self.delay = delay
        self.seconds = seconds
        self.calls = []
        self.held = []  # (start, end) monotonic times of each read, i.e. of each hold of the GPU

    def read(self, image, prompt, base_size, image_size, crop_mode, limits):
        start = time.monotonic()
        self.calls.append(
            {"image": image, "prompt": prompt, "sizes": (base_size, image_size, crop_mode), "limits": limits}
        )
        time.sleep(self.delay)
        try:
            if self.seconds and start + self.seconds > limits.deadline:
                time.sleep(limits.seconds_left())
                return server_mod.Reading(
                    "Total 1", "deadline", "generation stopped at the page's deadline (12 tokens)"
                )
            time.sleep(self.seconds)
            answer = self.answers.pop(0) if self.answers else GROUNDED
            if isinstance(answer, Exception):
                raise answer
            return answer if isinstance(answer, server_mod.Reading) else server_mod.Reading(answer)
        finally:
            self.held.append((start, time.monotonic()))


@pytest.fixture
def service():
    started = []

    def start(reader, limits=None):
        httpd = server_mod.make_server(reader, "127.0.0.1", 0, limits=limits)
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
    reason = DeepSeekLegacyEngine(make_settings()).available().reason
    assert "INVOICE_OCR_DEEPSEEK_LEGACY_URL is not set" in reason and "setup.sh" in reason
    down = DeepSeekLegacyEngine(make_settings(deepseek_legacy_url="http://127.0.0.1:9")).available()
    assert not down and "does not answer" in down.reason
    assert DeepSeekLegacyEngine(make_settings(deepseek_legacy_url=service(FakeV1Reader()) + "/")).available()


def test_pages_go_to_the_service_and_come_back_parsed(service):
    reader = FakeV1Reader()
    settings = make_settings(deepseek_legacy_url=service(reader))
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
    settings = make_settings(deepseek_legacy_url=service(reader))
    doc = document(settings, pages=3)
    pages = DeepSeekLegacyEngine(settings).recognize(doc, doc.pages, EngineOptions(dpi=50))
    assert pages[0].failure == "DeepSeek-OCR v1 service error: HTTP 500: RuntimeError: CUDA out of memory"
    assert pages[0].notes == [f"deepseek-legacy: {pages[0].failure}"]
    assert pages[1].failure is None
    assert pages[2].failure.startswith("runaway repetition")


def test_timeout_and_unreachable_service(service):
    settings = make_settings(deepseek_legacy_url=service(FakeV1Reader(delay=1.5)), deepseek_legacy_timeout=0.3)
    doc = document(settings, pages=1)
    [page] = DeepSeekLegacyEngine(settings).recognize(doc, doc.pages, EngineOptions(dpi=50))
    assert page.failure == "DeepSeek-OCR v1 service timed out after 0.3s"
    gone = make_settings(deepseek_legacy_url="http://127.0.0.1:9")
    [page] = DeepSeekLegacyEngine(gone).recognize(doc, doc.pages, EngineOptions(dpi=50))
    assert page.failure.startswith("DeepSeek-OCR v1 service unreachable")


def test_service_validates_requests(service):
    reader = FakeV1Reader()
    url = service(reader)
    health = httpx.get(url + "/health").json()
    assert {k: health[k] for k in ("status", "model", "device")} == {
        "status": "ok",
        "model": "fake-deepseek-ocr",
        "device": "cpu",
    }
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


def test_pages_carry_the_shared_generation_settings(service):
    reader = FakeV1Reader()
    limits = server_mod.ServiceLimits(max_new_tokens=3000, max_seconds=300.0)
    settings = make_settings(
        deepseek_legacy_url=service(reader, limits),
        deepseek_max_new_tokens=5000,
        deepseek_ngram_size=0,
        deepseek_ngram_window=70,
        deepseek_legacy_timeout=120.0,
    )
    doc = document(settings, pages=1)
    received = time.monotonic()
    DeepSeekLegacyEngine(settings).recognize(doc, doc.pages, EngineOptions(dpi=50))
    answered = time.monotonic()
    page = reader.calls[0]["limits"]
    assert page.max_new_tokens == 3000  # the client's 5000, capped by the service
    assert (page.ngram_size, page.ngram_window, page.whitelist_token_ids) == (0, 70, [128821, 128822])
    # The page must end a little before the client's 120 s timeout: 5% kept back to answer.
    assert received + 114 <= page.deadline <= answered + 114


def test_the_service_defaults_to_the_shared_environment(service, monkeypatch):
    monkeypatch.setenv("INVOICE_OCR_DEEPSEEK_MAX_NEW_TOKENS", "1500")
    monkeypatch.setenv("INVOICE_OCR_DEEPSEEK_NGRAM_SIZE", "0")
    monkeypatch.setenv("INVOICE_OCR_DEEPSEEK_LEGACY_TIMEOUT", "60")
    reader = FakeV1Reader()
    url = service(reader)
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 10).decode()
    started = time.monotonic()
    answer = httpx.post(url + "/v1/ocr", json={"image": png}).json()
    page = reader.calls[0]["limits"]
    assert (page.max_new_tokens, page.ngram_size) == (1500, 0) and page.deadline < started + 60
    assert answer["finish_reason"] == "stop" and answer["text"] == GROUNDED
    assert httpx.get(url + "/health").json()["limits"]["max_new_tokens"] == 1500


def test_a_long_page_stops_at_its_deadline_before_the_client_gives_up(service):
    reader = FakeV1Reader(seconds=30.0)  # a page that would loop for 30 s
    settings = make_settings(deepseek_legacy_url=service(reader), deepseek_legacy_timeout=3.0)
    doc = document(settings, pages=1)
    started = time.monotonic()
    [page] = DeepSeekLegacyEngine(settings).recognize(doc, doc.pages, EngineOptions(dpi=50))
    assert time.monotonic() - started < 3.0
    assert page.failure.startswith("timed out: the DeepSeek-OCR v1 service stopped at the page's deadline")


def test_no_page_holds_the_gpu_past_its_deadline(service):
    reader = FakeV1Reader(seconds=30.0)
    url = service(reader)
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 10).decode()
    answers = {}

    def send(name, timeout):
        sent = time.monotonic()
        response = httpx.post(url + "/v1/ocr", json={"image": png, "timeout_s": timeout}, timeout=10)
        answers[name] = (response, time.monotonic() - sent)

    first = threading.Thread(target=send, args=("first", 1.5))  # generates until 0.75 s (half its timeout)
    first.start()
    time.sleep(0.2)
    second = threading.Thread(target=send, args=("second", 0.6))  # must be done by 0.2 + 0.3 s
    second.start()
    first.join()
    second.join()
    response, seconds = answers["first"]
    assert response.status_code == 200 and response.json()["finish_reason"] == "deadline" and seconds < 1.5
    response, seconds = answers["second"]
    # It waited for the GPU only until its own deadline, and was told so at once.
    assert response.status_code == 503 and "past this page's deadline" in response.json()["error"]
    assert 0.25 < seconds < 0.55 and len(reader.calls) == 1
    [(start, end)] = reader.held
    assert end - start < 0.75 + 0.2  # half of a 1.5 s timeout, then the GPU is free


def test_generation_is_held_to_the_page_limits():
    """The real generate wrapper around a tiny random causal LM (transformers' own generate loop)."""
    from transformers import LlamaConfig, LlamaForCausalLM, LogitsProcessor

    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=40, hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2
    )
    model = LlamaForCausalLM(config).eval()
    guards = server_mod.load_repetition_guards()
    current = {}
    generate = server_mod.bounded_generate(model.generate, lambda: current["limits"], guards)
    prompt = torch.tensor([[1, 2, 3, 4]])

    def limits(tokens, ngram=0, seconds=60.0):
        return server_mod.PageLimits(tokens, ngram, 50, [], time.monotonic() + seconds)

    # The remote code asks for 8,192 tokens and a global 35-gram ban; the page's limits win.
    current["limits"] = limits(12)
    out = generate(prompt, max_new_tokens=8192, no_repeat_ngram_size=35, do_sample=False, eos_token_id=39)
    assert out.shape[1] == 4 + 12 and generate.last.finish_reason == "length"
    # Without the n-gram rule the random model loops; the loop guard stops it early.
    current["limits"] = limits(400)
    out = generate(prompt, max_new_tokens=8192, do_sample=False, eos_token_id=39)
    assert generate.last.finish_reason == "loop" and out.shape[1] < 4 + 400
    # The windowed n-gram rule: no 3-gram repeats within the window.
    current["limits"] = limits(40, ngram=3)
    out = generate(prompt, max_new_tokens=8192, do_sample=False, eos_token_id=39)[0, 4:].tolist()
    grams = [tuple(out[i : i + 3]) for i in range(len(out) - 2)]
    assert len(grams) == len(set(grams))

    class Slow(LogitsProcessor):  # a GPU that takes 50 ms per token
        def __call__(self, input_ids, scores):
            time.sleep(0.05)
            return scores

    current["limits"] = limits(10_000, ngram=3, seconds=0.5)
    started = time.monotonic()
    out = generate(prompt, max_new_tokens=8192, do_sample=False, eos_token_id=39, logits_processor=[Slow()])
    assert generate.last.finish_reason == "deadline" and time.monotonic() - started < 1.0


def test_setup_pins_one_version_of_each_package_for_python_3_10_to_3_13():
    from packaging.requirements import Requirement

    lines = (SERVER_PATH.parent / "requirements-deepseek-v1.txt").read_text().splitlines()
    requirements = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    for minor in (10, 11, 12, 13):
        env = {"python_version": f"3.{minor}", "python_full_version": f"3.{minor}.0"}
        pins = {}
        for req in requirements:
            if req.marker is None or req.marker.evaluate(env):
                assert req.name not in pins, (minor, req.name)
                pins[req.name] = str(req.specifier).removeprefix("==")
        assert pins["transformers"] == "4.46.3" and pins["torch"] == "2.6.0"
        # numpy 1.26 and Pillow 10 have no wheels for 3.13: there the first releases that do are pinned.
        expected = ("2.1.3", "11.0.0") if minor == 13 else ("1.26.4", "10.4.0")
        assert (pins["numpy"], pins["pillow"]) == expected


def test_setup_refuses_an_interpreter_torch_has_no_wheels_for(tmp_path):
    import subprocess

    fake = tmp_path / "python3.14"
    fake.write_text("#!/bin/sh\nexit 1\n")  # answers 'no' to the version check, as 3.14 would
    fake.chmod(0o755)
    setup = SERVER_PATH.parent / "setup.sh"
    env = {"PATH": "/usr/bin:/bin", "PYTHON": str(fake), "DEEPSEEK_V1_VENV": str(tmp_path / "venv")}
    result = subprocess.run(["bash", str(setup)], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "needs Python 3.10-3.13" in result.stderr
    assert not (tmp_path / "venv").exists()


class TestDeepSeekLegacyContract(FailedPagesContract):
    """The engine contract against the v1 side service's real HTTP layer with a fake reader."""

    name = "deepseek-legacy"

    @pytest.fixture
    def engine(self, service):
        return DeepSeekLegacyEngine(make_settings(deepseek_legacy_url=service(FakeV1Reader())))

    @pytest.fixture
    def failing_case(self, service, document):
        loop = server_mod.Reading("Total 1 Total 1 Total 1", "loop", "runaway repetition")
        reader = FakeV1Reader(answers=[loop, loop])
        return DeepSeekLegacyEngine(make_settings(deepseek_legacy_url=service(reader))), document
