"""The official DeepSeek-OCR-2 download converted by `invoice-ocr models convert`, checked, loaded and read;
broken model folders and failed loads falling back to the CPU engine with the reason in the result.

A tiny random DeepSeek-OCR-2 of the real architecture stands in for the 6.8 GB checkpoint: a fixture
saves it exactly as the official download is laid out (remote-code config, DeepSeek's tensor names, one
tensor per expert, two shards with an index, tokenizer, remote-code files).
"""

import json
import shutil
import time

import pymupdf
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from typer.testing import CliRunner

from app.cli import cli
from bench.gpu_deepseek import ENCODER_CONFIG, SAM_CONFIG, TEXT_CONFIG
from extraction.documents import load_document
from extraction.engines import deepseek as ds
from extraction.engines.base import EngineOptions
from extraction.engines.registry import engine_status
from extraction.model_files import convert as conv
from extraction.options import ExtractOptions
from extraction.pipeline import read_pages
from tests.builders import make_settings
from tests.extraction.tiny_deepseek import save_official_layout, tiny_model_and_processor

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs Debian tesseract-ocr")


@pytest.fixture(scope="module")
def tiny():
    """The tiny model in memory (the reference) and its processor."""
    return tiny_model_and_processor()


@pytest.fixture(scope="module")
def official(tiny, tmp_path_factory):
    """The tiny model saved in the layout of the official deepseek-ai/DeepSeek-OCR-2 download."""
    return save_official_layout(*tiny, tmp_path_factory.mktemp("official") / "DeepSeek-OCR-2")


@pytest.fixture(scope="module")
def converted(official):
    target = official.parent / "DeepSeek-OCR-2-native"
    result = CliRunner().invoke(cli, ["models", "convert", str(official), str(target), "--max-shard-gb", "0.001"])
    assert result.exit_code == 0, result.output
    yield target
    ds.unload_runners()


def settings_for(model_dir, tmp_path, **overrides):
    values = {
        "deepseek_model": model_dir,
        "deepseek_allow_cpu": True,
        "deepseek_max_new_tokens": 8,
        "data_dir": tmp_path / "data",
        "raster_engine": "tesseract",
    }
    values.update(overrides)
    return make_settings(**values)


def scan(settings):
    pdf = pymupdf.open()
    pdf.new_page(width=300, height=200).insert_text((20, 60), "INVOICE 5521", fontsize=20)
    return load_document(pdf[0].get_pixmap(dpi=150).tobytes("png"), "scan.png", settings)


def test_check_explains_the_official_download(official):
    result = CliRunner().invoke(cli, ["models", "check", str(official), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["kind"] == "deepseek-ocr-2" and report["problems"] == []
    assert report["weights"]["files"] == 2 and report["weights"]["tensors"] == 103
    assert not report["engines"]["deepseek"]["usable"]
    assert "invoice-ocr models convert" in report["engines"]["deepseek"]["detail"]
    assert report["engines"]["vllm"]["usable"] and "profile deepseek-ocr-2" in report["engines"]["vllm"]["detail"]
    assert "--chat-template deploy/vllm/deepseek_ocr.jinja" in report["engines"]["vllm"]["detail"]
    assert not report["engines"]["deepseek-legacy"]["usable"]


def test_conversion_writes_the_native_layout(official, converted, tiny):
    model, _ = tiny
    files = sorted(p.name for p in converted.iterdir())
    assert "model.safetensors.index.json" in files and "config.json" in files and "processor_config.json" in files
    assert not any(p.name.endswith(".partial") for p in converted.parent.iterdir())
    config = json.loads((converted / "config.json").read_text())
    assert config["model_type"] == "deepseek_ocr2"
    assert config["text_config"]["mlp_layer_types"] == ["dense", "sparse"]
    assert config["vision_config"]["sam_config"]["image_size"] == 96
    assert config["vision_config"]["sam_config"]["window_size"] == 4
    assert config["vision_config"]["encoder_config"]["num_attention_heads"] == 1
    index = json.loads((converted / "model.safetensors.index.json").read_text())["weight_map"]
    assert len(set(index.values())) > 1  # sharded, as asked
    # Native names, with each layer's experts fused, written by the conversion (not renamed at load time).
    assert "model.language_model.layers.1.mlp.experts.gate_up_proj" in index
    assert "model.vision_tower.sam_encoder.layers.0.layer_norm1.weight" in index
    assert not any("sam_model" in k or ".experts.0." in k for k in index)
    fused = index["model.language_model.layers.1.mlp.experts.gate_up_proj"]
    with safe_open(str(converted / fused), "pt") as handle:
        gate_up = handle.get_tensor("model.language_model.layers.1.mlp.experts.gate_up_proj")
    reference = model.state_dict()["model.language_model.layers.1.mlp.experts.gate_up_proj"]
    assert torch.equal(gate_up, reference)


def test_the_converted_model_is_the_original(converted, tiny):
    from PIL import Image
    from transformers import AutoProcessor, DeepseekOcr2ForConditionalGeneration

    model, _ = tiny
    loaded, info = DeepseekOcr2ForConditionalGeneration.from_pretrained(converted, output_loading_info=True)
    assert info["missing_keys"] == set() and info["unexpected_keys"] == set() and info["mismatched_keys"] == set()
    reference = model.state_dict()
    assert all(torch.equal(reference[k], v) for k, v in loaded.state_dict().items())
    processor = AutoProcessor.from_pretrained(converted, local_files_only=True)
    inputs = processor(images=[Image.new("RGB", (120, 90), "white")], text=["<image>\nFree OCR."], return_tensors="pt")
    with torch.inference_mode():
        assert torch.allclose(model(**inputs).logits, loaded.eval()(**inputs).logits, atol=1e-5)


def test_check_and_the_engine_use_the_converted_folder(converted, tmp_path):
    result = CliRunner().invoke(cli, ["models", "check", str(converted)])
    assert result.exit_code == 0, result.output
    assert "deepseek         yes" in result.output and "vllm             no" in result.output
    settings = settings_for(converted, tmp_path, deepseek_max_new_tokens=4)
    engine = ds.DeepSeekEngine(settings)
    assert engine.available()
    pdf = pymupdf.open()
    pdf.new_page(width=200, height=280).insert_text((20, 40), "INVOICE 1", fontsize=14)
    doc = load_document(pdf.tobytes(), "one.pdf", settings)
    [page] = engine.recognize(doc, doc.pages, EngineOptions(dpi=50))
    # Random weights never finish a page: it is marked so the pipeline reads it again on the CPU.
    assert page.engine == "deepseek" and page.failure == "truncated output: generation hit the token limit"
    assert engine.report()["loaded"] is True and engine.report()["device"] == "cpu"


def test_conversion_refuses_what_it_cannot_convert(official, converted, tmp_path):
    runner = CliRunner()
    again = runner.invoke(cli, ["models", "convert", str(converted), str(tmp_path / "x")])
    assert again.exit_code == 1 and "already in the native layout" in again.output
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    refused = runner.invoke(cli, ["models", "convert", str(official), str(occupied)])
    assert refused.exit_code == 1 and "--overwrite" in refused.output and (occupied / "keep.txt").exists()
    broken = tmp_path / "broken"
    shutil.copytree(official, broken)
    (broken / "model-00002-of-000002.safetensors").unlink()
    missing = runner.invoke(cli, ["models", "convert", str(broken), str(tmp_path / "y")])
    assert missing.exit_code == 1 and "missing weight files: model-00002-of-000002.safetensors" in missing.output
    v1 = tmp_path / "v1"
    v1.mkdir()
    (v1 / "config.json").write_text(
        json.dumps({"model_type": "deepseek_vl_v2", "architectures": ["DeepseekOCRForCausalLM"]})
    )
    assert (
        "DeepSeek-OCR v1 has no native"
        in runner.invoke(cli, ["models", "convert", str(v1), str(tmp_path / "z")]).output
    )
    checked = runner.invoke(cli, ["models", "check", str(tmp_path / "occupied")])
    assert checked.exit_code == 1 and "no config.json" in checked.output


def test_a_failed_conversion_leaves_no_target(official, tmp_path, monkeypatch):
    def disk_full(self, name, tensor):
        raise OSError("No space left on device")

    monkeypatch.setattr(conv.ShardWriter, "add", disk_full)
    target = tmp_path / "native"
    with pytest.raises(OSError, match="No space left"):
        conv.convert_checkpoint(official, target)
    assert list(tmp_path.iterdir()) == []


def test_config_derivation_at_the_published_size():
    """The official DeepSeek-OCR-2 config plus its tensor shapes give the published native config."""
    shapes = {
        "model.sam_model.patch_embed.proj.weight": (768, 3, 16, 16),
        "model.sam_model.pos_embed": (1, 64, 64, 768),
        "model.sam_model.neck.0.weight": (256, 768, 1, 1),
        "model.sam_model.net_2.weight": (512, 256, 3, 3),
        "model.sam_model.net_3.weight": (896, 512, 3, 3),
        "model.qwen2_model.query_768.weight": (144, 896),
        "model.qwen2_model.model.model.layers.0.self_attn.k_proj.weight": (128, 896),
        "model.qwen2_model.model.model.layers.0.mlp.gate_proj.weight": (4864, 896),
        **{f"model.qwen2_model.model.model.layers.{i}.input_layernorm.weight": (896,) for i in range(24)},
    }
    for i in range(12):
        size = 127 if i in (2, 5, 8, 11) else 27
        shapes[f"model.sam_model.blocks.{i}.attn.rel_pos_h"] = (size, 64)
        shapes[f"model.sam_model.blocks.{i}.attn.qkv.bias"] = (2304,)
        shapes[f"model.sam_model.blocks.{i}.mlp.lin1.weight"] = (3072, 768)
    tensors = {k: conv.TensorInfo(None, "BF16", v) for k, v in shapes.items()}
    language = {k: v for k, v in TEXT_CONFIG.items() if k != "mlp_layer_types"}
    official = {
        "model_type": "deepseek_vl_v2",
        "architectures": ["DeepseekOCR2ForCausalLM"],
        "language_config": {**language, "first_k_dense_replace": 1, "moe_layer_freq": 1, "use_mla": False,
                            "kv_lora_rank": None, "q_lora_rank": None, "qk_nope_head_dim": 0, "lm_head": True},
        "vision_config": {"model_name": "deepencoderv2", "width": {
            "sam_vit_b": {"width": 768, "layers": 12, "heads": 12, "global_attn_indexes": [2, 5, 8, 11],
                          "downsample_channels": [512, 1024]},
            "qwen2-0-5b": {"dim": 896}}},
    }  # fmt: skip
    warnings = []
    text = conv.text_config(official, warnings)
    assert text == {**TEXT_CONFIG} and warnings == []
    sam = conv.sam_config(official, tensors)
    assert {k: sam[k] for k in SAM_CONFIG} == SAM_CONFIG
    assert (sam["image_size"], sam["patch_size"], sam["window_size"], sam["output_channels"]) == (1024, 16, 14, 256)
    encoder = conv.encoder_config(tensors)
    assert {k: encoder[k] for k in ENCODER_CONFIG} == ENCODER_CONFIG


def only_config_folder(native, tmp_path):
    folder = tmp_path / "only-config"
    folder.mkdir()
    shutil.copy(native / "config.json", folder)
    return folder


@needs_tesseract
def test_a_folder_with_only_a_config_is_skipped_and_the_result_says_why(converted, tmp_path):
    settings = settings_for(only_config_folder(converted, tmp_path), tmp_path)
    doc = scan(settings)
    [page] = read_pages(doc, ExtractOptions(engine="auto", dpi=150), settings, {})
    assert page.engine == "tesseract" and page.failure is None and "INVOICE" in page.to_markdown()
    assert page.notes[0].startswith("deepseek not used: model directory ")
    assert "is incomplete: no weight files" in page.notes[0]


def broken_weights(native, tmp_path):
    """A folder that passes the file checks but cannot load: one tensor has the wrong shape."""
    folder = tmp_path / "wrong-shape"
    shutil.copytree(native, folder)
    index = json.loads((folder / "model.safetensors.index.json").read_text())["weight_map"]
    shard = folder / index["lm_head.weight"]
    with safe_open(str(shard), "pt") as handle:
        names = handle.keys()
        tensors = {k: handle.get_tensor(k) for k in names}
    tensors["lm_head.weight"] = torch.zeros(3, 3)
    save_file(tensors, str(shard), metadata={"format": "pt"})
    return folder


@needs_tesseract
def test_a_failed_load_falls_back_is_remembered_and_reported(converted, tmp_path, monkeypatch):
    folder = broken_weights(converted, tmp_path)
    settings = settings_for(folder, tmp_path, deepseek_retry_after=60)
    loads = []
    real_init = ds.DeepSeekRunner.__init__

    def counting_init(self, *args, **kwargs):
        loads.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(ds.DeepSeekRunner, "__init__", counting_init)
    assert ds.DeepSeekEngine(settings).available()  # the files look right: only loading can tell
    doc = scan(settings)
    [page] = read_pages(doc, ExtractOptions(engine="auto", dpi=150), settings, {})
    assert loads == [1]
    assert page.engine == "tesseract" and page.failure is None and "INVOICE" in page.to_markdown()
    assert page.notes[0].startswith("deepseek: loading the model failed (")
    assert page.notes[-1].startswith("deepseek output unusable (loading the model failed")
    assert page.notes[-1].endswith("re-read with tesseract")
    # The next request does not try the 6.8 GB load again; it says why DeepSeek was skipped.
    [page] = read_pages(doc, ExtractOptions(engine="auto", dpi=150), settings, {})
    assert loads == [1] and page.engine == "tesseract"
    assert page.notes[0].startswith("deepseek not used: loading the model failed (") and "next try in" in page.notes[0]
    # /health (engine_status) reports it, from the record every process shares.
    status = engine_status(settings)["deepseek"]
    assert status["available"] is False and "loading the model failed" in status["reason"]
    failure = status["details"]["load_failure"]
    assert (
        failure["attempts"] == 1 and 0 < failure["retry_in_s"] <= 60 and failure["error"].startswith("RuntimeError: ")
    )
    assert (tmp_path / "data" / "engines" / "load-failures.json").is_file()
    # After the back-off it is tried again, and the back-off doubles.
    record = json.loads((tmp_path / "data" / "engines" / "load-failures.json").read_text())
    for value in record.values():
        value["retry_at"] = time.time() - 1
    (tmp_path / "data" / "engines" / "load-failures.json").write_text(json.dumps(record))
    read_pages(doc, ExtractOptions(engine="auto", dpi=150), settings, {})
    assert loads == [1, 1]
    assert engine_status(settings)["deepseek"]["details"]["load_failure"]["attempts"] == 2
    assert 60 < engine_status(settings)["deepseek"]["details"]["load_failure"]["retry_in_s"] <= 120
    # A repaired folder is tried at once.
    shutil.rmtree(folder)
    shutil.copytree(converted, folder)
    assert ds.DeepSeekEngine(settings).available()
    ds.DeepSeekEngine(settings).runner()
    assert loads == [1, 1, 1] and "load_failure" not in ds.DeepSeekEngine(settings).report()


def test_an_explicitly_chosen_deepseek_that_fails_to_load_does_not_fail_the_request(converted, tmp_path):
    from extraction.options import ExtractOptions
    from extraction.pipeline import read_pages

    settings = settings_for(broken_weights(converted, tmp_path), tmp_path, raster_engine="rapidocr")
    doc = scan(settings)
    [page] = read_pages(doc, ExtractOptions(engine="deepseek", dpi=150), settings, {})
    assert page.engine in ("rapidocr", "tesseract") and page.failure is None
    assert any(n.startswith("deepseek output unusable (loading the model failed") for n in page.notes)


def test_weights_go_straight_to_the_gpu(converted, tmp_path, monkeypatch):
    """On CUDA the weights load with device_map (no CPU copy first); CUDA is not here, so from_pretrained is spied."""
    from transformers import AutoModelForImageTextToText

    seen = {}

    def spy(path, **kwargs):
        seen.update(kwargs)
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(AutoModelForImageTextToText, "from_pretrained", spy)
    settings = settings_for(converted, tmp_path)
    with pytest.raises(ds.EngineUnavailable, match="CUDA out of memory"):
        ds.get_runner(settings, "cuda")
    assert seen["device_map"] == "cuda" and seen["dtype"] == torch.bfloat16
    assert ds.load_failure(settings, "cuda").attempts == 1
