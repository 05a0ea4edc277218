"""GET /health reports the GPU engines' state: a remembered failed load, and each vLLM server's check."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from extraction.engines import deepseek as ds
from tests.builders import make_settings
from tests.extraction.tiny_deepseek import build_tiny_model
from tests.extraction.vllm_server import ChatServer


def test_health_reports_a_failed_deepseek_load(client_for, tmp_path):
    folder = build_tiny_model(tmp_path / "model")
    weights = load_file(str(folder / "model.safetensors"))
    weights["lm_head.weight"] = torch.zeros(2, 2)  # files look right, loading fails
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    overrides = {"deepseek_model": folder, "deepseek_allow_cpu": True}
    # The failure is recorded by whichever process tried to load (a reader process, in the server).
    with pytest.raises(ds.EngineUnavailable):
        ds.get_runner(make_settings(tmp_path / "data", **overrides), "cpu")
    client = client_for(**overrides)
    engine = client.get("/health").json()["engines"]["deepseek"]
    assert engine["available"] is False and engine["reason"].startswith("loading the model failed (RuntimeError")
    assert engine["details"]["model_dir"] == str(folder) and engine["details"]["loaded"] is False
    failure = engine["details"]["load_failure"]
    assert failure["attempts"] == 1 and 0 < failure["retry_in_s"] <= 60
    assert json.loads((tmp_path / "data" / "engines" / "load-failures.json").read_text())


def test_health_reports_how_each_vllm_server_renders_the_prompt(client_for):
    wrapped, raw = ChatServer(template="wrapped"), ChatServer(template="raw")
    try:
        client = client_for(vllm_urls=f"{wrapped.url},{raw.url}")
        details = client.get("/health").json()["engines"]["vllm"]
        assert details["available"] is True and details["details"]["profile"] == "deepseek-ocr"
        servers = details["details"]["servers"]
        assert servers[wrapped.url]["prompt"] == "wrapped" and "--chat-template" in servers[wrapped.url]["detail"]
        assert servers[raw.url]["prompt"] == "unwrapped" and servers[raw.url]["model_served"] is True
    finally:
        wrapped.close()
        raw.close()
