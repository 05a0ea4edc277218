"""Which engine can use a local model folder, and why not (what `invoice-ocr models check` prints)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from extraction.model_files.folder import (
    DEEPSEEK_OCR,
    DEEPSEEK_OCR2,
    DEEPSEEK_OCR2_NATIVE,
    GLM_OCR,
    PADDLEOCR_VL,
    ModelFolder,
    inspect_folder,
)
from extraction.ocr_support.vllm_profiles import PROFILES

# The vLLM profile for each folder kind vLLM serves.
VLLM_PROFILE_FOR_KIND = {
    DEEPSEEK_OCR: "deepseek-ocr",
    DEEPSEEK_OCR2: "deepseek-ocr-2",
    GLM_OCR: "glm-ocr",
    PADDLEOCR_VL: "paddleocr-vl-1.5",
}


@dataclass(frozen=True)
class Verdict:
    """Whether one engine can use the folder: how if so, why not if not."""

    engine: str
    usable: bool
    detail: str


def _deepseek(folder: ModelFolder) -> Verdict:
    from extraction.engines.deepseek import model_dir_problem

    problem = model_dir_problem(folder.path)
    if problem:
        return Verdict("deepseek", False, problem)
    return Verdict(
        "deepseek", True, f"INVOICE_OCR_DEEPSEEK_MODEL={folder.path} (runs on CUDA; bf16 needs ~{_gib(folder)} GiB)"
    )


def _vllm(folder: ModelFolder) -> Verdict:
    name = VLLM_PROFILE_FOR_KIND.get(folder.kind)
    if folder.kind == DEEPSEEK_OCR2_NATIVE:
        return Verdict("vllm", False, "vLLM reads the official DeepSeek-OCR-2 layout: serve the original download")
    if name is None:
        return Verdict("vllm", False, f"no vLLM profile for {folder.label}")
    if folder.problems:
        return Verdict("vllm", False, f"the folder is incomplete: {'; '.join(folder.problems)}")
    profile = PROFILES[name]
    command = f"vllm serve {folder.path} --served-model-name NAME {' '.join(profile.serve_flags)}"
    return Verdict(
        "vllm",
        True,
        f"profile {name}; vLLM {profile.vllm_version}: {command}; then INVOICE_OCR_VLLM_URLS=... and "
        "INVOICE_OCR_VLLM_MODEL=NAME",
    )


def _legacy(folder: ModelFolder) -> Verdict:
    if folder.kind != DEEPSEEK_OCR:
        return Verdict("deepseek-legacy", False, "the v1 side service runs DeepSeek-OCR (v1) only")
    if folder.problems:
        return Verdict("deepseek-legacy", False, f"the folder is incomplete: {'; '.join(folder.problems)}")
    return Verdict(
        "deepseek-legacy",
        True,
        f"deploy/deepseek_v1/server.py --model-dir {folder.path}; then INVOICE_OCR_DEEPSEEK_LEGACY_URL=...",
    )


def _gib(folder: ModelFolder) -> str:
    weights = folder.weights
    if weights is None:
        return "?"
    nbytes = weights.nbytes // (2 if weights.dtypes == {"F32"} else 1)
    return f"{nbytes / 1024**3:.1f}"


def check_folder(path: Path | str) -> tuple[ModelFolder, list[Verdict]]:
    """The inspected folder and, for each GPU engine, whether it can use it."""
    folder = inspect_folder(path)
    return folder, [_deepseek(folder), _vllm(folder), _legacy(folder)]
