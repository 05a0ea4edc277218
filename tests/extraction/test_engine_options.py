"""Each engine's options nest under its name in Settings; the flat names documented first still set them."""

from pathlib import Path

import pytest

from extraction.engines.registry import engine_class, engine_names
from tests.builders import make_settings
from utils.engine_options import FLAT_NAMES, EngineOptions, section_name
from utils.settings import Settings


def test_every_builtin_engine_has_its_section():
    settings = make_settings()
    for name in engine_names():
        cls = engine_class(name)
        section = getattr(settings, section_name(name))
        assert isinstance(section, cls.options_model), name
        for field, info in cls.options_model.model_fields.items():
            assert info.description, f"{name}.{field} has no description"


def test_flat_keywords_nest_under_their_engines():
    settings = make_settings(
        deepseek_model="/models/ds2",
        deepseek_allow_cpu=True,
        deepseek_max_new_tokens=99,
        deepseek_whitelist_token_ids="5, 6",
        vllm_urls="http://a:1, http://b:2",
        vllm_model="zai-org/GLM-OCR",
        deepseek_legacy_url="http://v1:9000",
        ocr_threads=3,
    )
    assert settings.deepseek.model == Path("/models/ds2") and settings.deepseek.allow_cpu
    assert settings.vllm.urls == ["http://a:1", "http://b:2"] and settings.vllm.model == "zai-org/GLM-OCR"
    assert settings.deepseek_legacy.url == "http://v1:9000"
    assert settings.rapidocr.threads == 3
    # The shared generation settings reach every DeepSeek engine.
    for section in (settings.deepseek, settings.vllm, settings.deepseek_legacy):
        assert section.max_new_tokens == 99 and section.whitelist_token_ids == [5, 6]


def test_flat_and_nested_environment_names(monkeypatch):
    monkeypatch.setenv("INVOICE_OCR_VLLM_URLS", "http://a:1,http://b:2")
    monkeypatch.setenv("INVOICE_OCR_VLLM_MODEL", "flat-model")
    monkeypatch.setenv("INVOICE_OCR_VLLM__MODEL", "nested-model")
    monkeypatch.setenv("INVOICE_OCR_DEEPSEEK_MODEL", "/flat")
    monkeypatch.setenv("INVOICE_OCR_DEEPSEEK__BATCH_SIZE", "3")
    monkeypatch.setenv("INVOICE_OCR_DEEPSEEK_LEGACY__TIMEOUT", "7")
    monkeypatch.setenv("INVOICE_OCR_DEEPSEEK_NGRAM_SIZE", "0")
    monkeypatch.setenv("INVOICE_OCR_OCR_THREADS", "4")
    monkeypatch.setenv("INVOICE_OCR_TESSERACT__LANG", "eng+deu")
    settings = make_settings()
    assert settings.vllm.urls == ["http://a:1", "http://b:2"]
    assert settings.vllm.model == "nested-model"  # the nested spelling wins within one source
    assert settings.deepseek.model == Path("/flat") and settings.deepseek.batch_size == 3
    assert settings.deepseek_legacy.timeout == 7.0
    assert settings.deepseek.ngram_size == settings.vllm.ngram_size == 0
    assert settings.rapidocr.threads == 4 and settings.tesseract.lang == "eng+deu"


def test_arguments_win_over_the_environment_in_either_spelling(monkeypatch):
    monkeypatch.setenv("INVOICE_OCR_VLLM__MODEL", "from-env")
    monkeypatch.setenv("INVOICE_OCR_VLLM_TIMEOUT", "9")
    settings = make_settings(vllm_model="from-argument", vllm={"retries": 0})
    assert settings.vllm.model == "from-argument"
    assert settings.vllm.timeout == 9.0 and settings.vllm.retries == 0


def test_environment_wins_over_dotenv_file(monkeypatch, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "INVOICE_OCR_VLLM_URLS=http://file:1\nINVOICE_OCR_DEEPSEEK_MODEL=/from-file\nINVOICE_OCR_VLLM__RETRIES=5\n"
    )
    monkeypatch.setenv("INVOICE_OCR_DEEPSEEK__MODEL", "/from-env")
    settings = Settings(_env_file=env_file, api_keys=[])  # type: ignore[call-arg]
    assert settings.vllm.urls == ["http://file:1"] and settings.vllm.retries == 5
    assert settings.deepseek.model == Path("/from-env")


def test_dpi_default_and_per_engine(monkeypatch):
    monkeypatch.setenv("INVOICE_OCR_DPI", "300")
    monkeypatch.setenv("INVOICE_OCR_RAPIDOCR__DPI", "150")
    settings = make_settings()
    assert settings.dpi == 300 and settings.tesseract.dpi == 300 and settings.rapidocr.dpi == 150


def test_bad_values_are_refused_in_either_spelling():
    with pytest.raises(ValueError, match="profile"):
        make_settings(vllm_profile="nope")
    with pytest.raises(ValueError, match="threads"):
        make_settings(rapidocr={"threads": 0})


def test_flat_names_point_at_real_fields():
    settings = make_settings()
    for name, targets in FLAT_NAMES.items():
        assert name not in Settings.model_fields, name
        for section, field in targets:
            assert field in type(getattr(settings, section)).model_fields, (name, section, field)


def test_call_options_override_only_what_the_call_sets():
    engine = engine_class("tesseract")(make_settings(tesseract={"lang": "deu"}, dpi=250))
    assert engine.call_options(dpi=None) is engine.options
    opts = engine.call_options(dpi=100)
    assert opts.dpi == 100 and opts.lang == "deu" and engine.options.dpi == 250
    assert engine.own_options(EngineOptions(dpi=120)).lang == "deu"
