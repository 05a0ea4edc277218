"""The in-process DeepSeek-OCR-2 engine driven end to end on a tiny random model built offline."""

import json
import shutil
import threading

import pymupdf
import pytest
import torch
from PIL import Image

from extraction.documents import load_document
from extraction.engines import deepseek as ds
from extraction.engines.base import EngineOptions
from extraction.engines.registry import engine_class
from extraction.ocr_support.repetition import LoopStop, NoRepeatNGram
from tests.builders import make_settings
from tests.extraction.engine_contract import FailedPagesContract
from tests.extraction.tiny_deepseek import build_tiny_model
from utils.errors import EngineUnavailable


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    path = build_tiny_model(tmp_path_factory.mktemp("tiny-deepseek-ocr2"))
    yield path
    ds.unload_runners()


def deepseek_settings(model_dir, **overrides):
    values = {
        "deepseek_model": model_dir,
        "deepseek_allow_cpu": True,
        "deepseek_max_new_tokens": 24,
        "deepseek_batch_size": 2,
    }
    values.update(overrides)
    return make_settings(**values)


def make_pdf(pages):
    pdf = pymupdf.open()
    for i in range(pages):
        page = pdf.new_page(width=300, height=420)
        page.insert_text((30, 60), f"INVOICE 100{i}", fontsize=18)
        page.insert_text((30, 120), f"Total {i + 1}0.00 EUR", fontsize=12)
    return pdf.tobytes()


@pytest.fixture
def document(model_dir):
    return load_document(make_pdf(3), "three.pdf", deepseek_settings(model_dir))


def test_registry_maps_the_name_to_this_engine():
    assert engine_class("deepseek") is ds.DeepSeekEngine


def test_available_explains_why_not(tmp_path, model_dir, monkeypatch):
    def reason(path, **overrides):
        availability = ds.DeepSeekEngine(make_settings(deepseek_model=path, **overrides)).available()
        assert not availability
        return availability.reason

    assert "INVOICE_OCR_DEEPSEEK_MODEL is not set" in ds.DeepSeekEngine(make_settings()).available().reason
    assert "does not exist" in reason(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    assert "has no readable config.json" in reason(tmp_path / "empty")
    only_config = tmp_path / "only-config"
    only_config.mkdir()
    shutil.copy(model_dir / "config.json", only_config)
    assert "is incomplete: no weight files" in reason(only_config) and "no tokenizer" in reason(only_config)
    v1 = tmp_path / "v1"
    v1.mkdir()
    (v1 / "config.json").write_text(
        json.dumps({"model_type": "deepseek_vl_v2", "architectures": ["DeepseekOCRForCausalLM"]})
    )
    assert "DeepSeek-OCR v1" in reason(v1) and "deepseek-legacy" in reason(v1)
    official = tmp_path / "official"
    official.mkdir()
    (official / "config.json").write_text(
        json.dumps({"model_type": "deepseek_vl_v2", "architectures": ["DeepseekOCR2ForCausalLM"]})
    )
    assert f"invoice-ocr models convert {official} {official}-native" in reason(official)
    truncated = tmp_path / "truncated"
    shutil.copytree(model_dir, truncated)
    weights = truncated / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1000])
    assert "weight file model.safetensors is broken: truncated" in reason(truncated, deepseek_allow_cpu=True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    no_gpu = reason(model_dir)
    assert "no CUDA device" in no_gpu and "DEEPSEEK_ALLOW_CPU" in no_gpu
    with pytest.raises(EngineUnavailable, match="no CUDA device"):
        ds.DeepSeekEngine(make_settings(deepseek_model=model_dir)).recognize(None, [], EngineOptions())
    assert ds.DeepSeekEngine(deepseek_settings(model_dir)).available()


def test_gpu_checks_loader_and_free_memory(model_dir, monkeypatch):
    # No CUDA here: the device queries are replaced, the checks around them are the real ones.
    real = ds.importlib.util.find_spec
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(ds.importlib.util, "find_spec", lambda name: None if name == "accelerate" else real(name))
    engine = ds.DeepSeekEngine(make_settings(deepseek_model=model_dir))
    assert "'accelerate' is missing" in engine.available().reason
    monkeypatch.setattr(
        ds.importlib.util, "find_spec", lambda name: real("json") if name == "accelerate" else real(name)
    )
    gib = 1024**3
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda: (gib, 80 * gib))
    short = engine.available()
    assert not short and "not enough free GPU memory: 1.0 GiB free of 80.0 GiB" in short.reason
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda: (40 * gib, 80 * gib))
    assert engine.available()


def test_missing_package_is_reported(model_dir, monkeypatch):
    real = ds.importlib.util.find_spec
    monkeypatch.setattr(ds.importlib.util, "find_spec", lambda name: None if name == "torch" else real(name))
    reason = ds.DeepSeekEngine(deepseek_settings(model_dir)).available().reason
    assert "'torch' is missing" in reason and "pip install" in reason


def test_reads_every_page_in_batches(model_dir, document, monkeypatch):
    engine = ds.DeepSeekEngine(deepseek_settings(model_dir))
    runner = engine.runner()
    assert runner.device == "cpu" and runner.dtype == torch.float32 and runner.attn_implementation == "sdpa"
    assert runner.tokenizer.padding_side == "left"
    batches = []
    real_generate = runner.generate

    def spy(images, max_new_tokens):
        batches.append(len(images))
        return real_generate(images, max_new_tokens)

    monkeypatch.setattr(runner, "generate", spy)
    pages = engine.recognize(document, document.pages, EngineOptions(dpi=50))
    assert batches == [2, 1]
    assert [p.number for p in pages] == [1, 2, 3]
    assert all(p.engine == "deepseek" for p in pages)
    assert [(p.width, p.height) for p in pages] == [(300, 420)] * 3
    # Random weights never write an end token: every page loops or runs into the limit, and says so.
    assert all(p.failure and p.notes == [f"deepseek: {p.failure}"] for p in pages)


def test_model_is_loaded_once_and_shared(model_dir):
    settings = deepseek_settings(model_dir)
    found = []
    threads = [threading.Thread(target=lambda: found.append(ds.DeepSeekEngine(settings).runner())) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 3 and found[0] is found[1] is found[2]


def test_token_limit_is_respected(model_dir):
    runner = ds.DeepSeekEngine(deepseek_settings(model_dir, deepseek_ngram_size=3, deepseek_ngram_window=60)).runner()
    images = [Image.new("RGB", (120, 160), "white"), Image.new("RGB", (200, 90), "gray")]
    outputs = runner.generate(images, max_new_tokens=10)
    assert len(outputs) == 2
    for out in outputs:
        assert out.new_tokens <= 10
        assert out.hit_limit and out.failure is None


def test_loop_guard_stops_a_looping_page(model_dir):
    # Without the n-gram rule the random model falls into a short loop; the guard ends it early.
    settings = deepseek_settings(model_dir, deepseek_ngram_size=0, deepseek_max_new_tokens=400)
    runner = ds.DeepSeekRunner(settings.deepseek, "cpu")
    [out] = runner.generate([Image.new("RGB", (120, 160), "white")], max_new_tokens=400)
    assert out.failure and out.failure.startswith("runaway repetition")
    assert out.new_tokens < 200 and not out.hit_limit
    page = ds.page_from_output(out.text, 1, "deepseek", 1, 1, failure=out.failure)
    assert page.failure == out.failure


def test_ngram_rule_prevents_the_loop(model_dir):
    settings = deepseek_settings(model_dir, deepseek_ngram_size=4, deepseek_ngram_window=400)
    runner = ds.DeepSeekRunner(settings.deepseek, "cpu")
    inputs = runner.prepare([Image.new("RGB", (120, 160), "white")])
    prompt_len = inputs["input_ids"].shape[1]
    processor = NoRepeatNGram(prompt_len, 4, 400, runner.whitelist)
    with torch.inference_mode():
        seq = runner.model.generate(
            **inputs, do_sample=False, max_new_tokens=60, logits_processor=[processor], pad_token_id=runner.pad_id
        )
    generated = seq[0, prompt_len:].tolist()
    grams = [tuple(generated[i : i + 4]) for i in range(len(generated) - 3)]
    repeated = [g for g in set(grams) if grams.count(g) > 1 and not set(g) & set(runner.whitelist)]
    assert len(generated) == 60 and repeated == []


def test_decode_keeps_grounding_tags_and_drops_end_and_padding(model_dir):
    runner = ds.DeepSeekEngine(deepseek_settings(model_dir)).runner()
    tok = runner.tokenizer
    body = "<|ref|>title<|/ref|><|det|>[[1, 2, 30, 40]]<|/det|>\n# Rechnung"
    ids = tok.encode(body, add_special_tokens=False)
    out = runner.decode([*ids, tok.eos_token_id, tok.pad_token_id, tok.pad_token_id], max_new_tokens=100)
    assert out.text == body and out.new_tokens == len(ids) and not out.hit_limit
    cut = runner.decode(ids[:10], max_new_tokens=10)
    assert cut.hit_limit and cut.new_tokens == 10
    assert runner.whitelist == tok.convert_tokens_to_ids(["<td>", "</td>"])


def test_loop_guard_lets_rows_of_empty_cells_repeat(model_dir):
    runner = ds.DeepSeekEngine(deepseek_settings(model_dir)).runner()
    tok = runner.tokenizer
    prompt = [tok.bos_token_id] * 3
    rows = tok.encode("<table>" + "<tr><td></td><td></td></tr>\n" * 30, add_special_tokens=False)
    words = tok.encode("Qty 1 Qty 1 " * 30, add_special_tokens=False)[: len(rows)]
    stop = LoopStop(3, check_every=1, whitelist=runner.whitelist, exempt=runner._markup_only)
    assert stop(torch.tensor([prompt + rows, prompt + words]), None).tolist() == [False, True]
    assert list(stop.reasons) == [1]


def test_a_failing_batch_is_retried_page_by_page(model_dir, document, monkeypatch):
    engine = ds.DeepSeekEngine(deepseek_settings(model_dir, deepseek_max_new_tokens=8))
    runner = engine.runner()
    real_generate = runner.generate
    calls = []

    def out_of_memory_for_batches(images, max_new_tokens):  # simulates a CUDA out-of-memory on big batches
        calls.append(len(images))
        if len(images) > 1 or len(calls) == 3:
            raise RuntimeError("CUDA out of memory")
        return real_generate(images, max_new_tokens)

    monkeypatch.setattr(runner, "generate", out_of_memory_for_batches)
    pages = engine.recognize(document, document.pages, EngineOptions(dpi=50))
    assert calls == [2, 1, 1, 1]
    assert [p.number for p in pages] == [1, 2, 3]
    assert pages[1].failure == "engine error: RuntimeError: CUDA out of memory"
    assert pages[0].failure != pages[1].failure and pages[2].failure != pages[1].failure


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs Debian tesseract-ocr")
def test_auto_prefers_deepseek_and_rereads_its_failed_pages_on_the_cpu(model_dir):
    from extraction.options import ExtractOptions
    from extraction.pipeline import read_pages

    settings = deepseek_settings(model_dir, raster_engine="tesseract", deepseek_max_new_tokens=8)
    pdf = pymupdf.open(stream=make_pdf(1), filetype="pdf")
    png = pdf[0].get_pixmap(dpi=150).tobytes("png")  # a scan: no text layer, so a raster engine reads it
    doc = load_document(png, "scan.png", settings)
    [page] = read_pages(doc, ExtractOptions(engine="auto", dpi=150), settings, {})
    assert page.engine == "tesseract" and page.failure is None
    assert any(n.startswith("deepseek output unusable (") and n.endswith("re-read with tesseract") for n in page.notes)
    assert "INVOICE" in page.to_markdown()


def test_loop_stop_and_ngram_rule_on_known_sequences():
    prompt = [7, 7, 7]
    looping = torch.tensor([prompt + [1, 2, 3] * 30, prompt + list(range(10, 100))])
    stop = LoopStop(3, min_span=30, check_every=1)
    assert stop(looping, None).tolist() == [True, False]
    assert "3-token unit" in stop.reasons[0] and 1 not in stop.reasons
    # The vectorized check agrees with the plain definition on planted loops of many periods.
    gen = torch.Generator().manual_seed(1)
    rows = []
    for period in [1, 2, 5, 9, 17, 31, 40, 0, 0, 0]:
        noise = torch.randint(20, 60, (130,), generator=gen).tolist()
        unit = torch.randint(20, 60, (max(period, 1),), generator=gen).tolist()
        loop = (unit * 200)[: max(64, 3 * period) + 3] if period else []
        rows.append(prompt + (noise + loop)[-130:])

    def plain(ids, min_span=64, reps=3, top=256):
        g = ids[3:]
        for p in range(1, min(top, len(g) // reps) + 1):
            span = max(min_span, p * reps)
            if span <= len(g) and all(g[k] == g[k - p] for k in range(len(g) - span + p, len(g))):
                return True
        return False

    batch = torch.tensor(rows)
    assert LoopStop(3, check_every=1)(batch, None).tolist() == [plain(r) for r in rows]
    assert sum(plain(r) for r in rows) == 7
    cells = torch.tensor([prompt + [5, 6] * 40])
    assert LoopStop(3, min_span=30, check_every=1, whitelist=[5, 6])(cells, None).tolist() == [False]
    # n-gram rule: after "1 2", the token that followed "1 2" before (3) is banned, unless whitelisted.
    ids = torch.tensor([[*prompt, 1, 2, 3, 4, 1, 2]])
    scores = torch.zeros(1, 10)
    banned = NoRepeatNGram(3, 3, 90)(ids, scores.clone())
    assert torch.isinf(banned[0, 3]) and torch.isfinite(banned[0, [0, 1, 2, 4, 5]]).all()
    assert torch.isfinite(NoRepeatNGram(3, 3, 90, whitelist=[3])(ids, scores.clone())).all()
    assert torch.isfinite(NoRepeatNGram(3, 3, 4)(ids, scores.clone())).all()  # outside the window


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_real_size_bf16_smoke():
    from bench.gpu_deepseek import build_model, make_inputs

    model = build_model(device="cuda")
    inputs = make_inputs(model.config, batch=2, device="cuda")
    with torch.inference_mode():
        out = model.generate(**inputs, do_sample=False, max_new_tokens=8, min_new_tokens=8)
    assert out.shape == (2, inputs["input_ids"].shape[1] + 8)
    assert next(model.parameters()).dtype == torch.bfloat16


class TestDeepSeekContract(FailedPagesContract):
    """The engine contract on the tiny random model (its pages loop or hit the token limit, and say so)."""

    name = "deepseek"
    reads_text = False
    dpi = 50

    @pytest.fixture
    def engine(self, model_dir):
        return ds.DeepSeekEngine(deepseek_settings(model_dir, deepseek_max_new_tokens=8))

    @pytest.fixture
    def document(self, engine):
        return load_document(make_pdf(2), "two.pdf", engine.settings)  # small pages: few image tokens on the CPU

    @pytest.fixture
    def failing_case(self, engine, document, monkeypatch):
        def out_of_memory(images, max_new_tokens):
            raise RuntimeError("CUDA out of memory")

        monkeypatch.setattr(engine.runner(), "generate", out_of_memory)
        return engine, document
