"""What a local model folder holds: which OCR model, in which layout, and whether its files are complete.

Reads only `config.json`, file names and safetensors headers (a few kilobytes), never the weights, so
engines can call it from `available()` and `invoice-ocr models check` can explain a folder in an instant.
A download that stopped half-way (a missing shard, a file shorter than its header says) is caught here,
before anything tries to load gigabytes from it.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WEIGHT_INDEX = "model.safetensors.index.json"
SINGLE_WEIGHTS = "model.safetensors"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model")
PROCESSOR_FILES = ("processor_config.json", "preprocessor_config.json")
MAX_HEADER_BYTES = 100 * 1024 * 1024

# Kinds of folders the engines know, with a label for people.
DEEPSEEK_OCR2_NATIVE = "deepseek-ocr-2-native"
DEEPSEEK_OCR2 = "deepseek-ocr-2"
DEEPSEEK_OCR = "deepseek-ocr"
GLM_OCR = "glm-ocr"
PADDLEOCR_VL = "paddleocr-vl"
UNKNOWN = "unknown"
KIND_LABELS = {
    DEEPSEEK_OCR2_NATIVE: "DeepSeek-OCR-2, native transformers layout",
    DEEPSEEK_OCR2: "DeepSeek-OCR-2, official remote-code layout (as downloaded from deepseek-ai/DeepSeek-OCR-2)",
    DEEPSEEK_OCR: "DeepSeek-OCR (v1), official remote-code layout",
    GLM_OCR: "GLM-OCR",
    PADDLEOCR_VL: "PaddleOCR-VL",
    UNKNOWN: "not a model this product knows",
}


@dataclass(frozen=True)
class WeightFiles:
    """The safetensors files of a folder and what their headers say."""

    files: tuple[Path, ...]
    tensors: int
    nbytes: int
    dtypes: frozenset[str]


@dataclass
class ModelFolder:
    """One inspected folder: its kind, its config, its weights, and what is wrong with it."""

    path: Path
    kind: str = UNKNOWN
    config: dict[str, Any] = field(default_factory=dict)
    weights: WeightFiles | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The kind, for people."""
        return KIND_LABELS[self.kind]

    @property
    def complete(self) -> bool:
        """Whether config, weights, tokenizer and processor files are all there and intact."""
        return not self.problems


def read_safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of a safetensors file; ValueError when the file is not one or is cut short."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise ValueError("shorter than a safetensors header")
        (length,) = struct.unpack("<Q", head)
        if length > min(size - 8, MAX_HEADER_BYTES):
            raise ValueError("not a safetensors file (header length out of range)")
        try:
            header = json.loads(handle.read(length))
        except ValueError as exc:
            raise ValueError(f"unreadable safetensors header ({exc})") from exc
    if not isinstance(header, dict):
        raise ValueError("unreadable safetensors header")
    end = max((entry["data_offsets"][1] for name, entry in header.items() if name != "__metadata__"), default=0)
    if 8 + length + end > size:
        raise ValueError(f"truncated: {size} bytes, the header needs {8 + length + end} (an unfinished download?)")
    return header


def _weight_files(path: Path, problems: list[str]) -> WeightFiles | None:
    index = path / WEIGHT_INDEX
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
            names = sorted(set(weight_map.values()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            problems.append(f"{WEIGHT_INDEX} is unreadable ({type(exc).__name__})")
            return None
    elif (path / SINGLE_WEIGHTS).is_file():
        names = [SINGLE_WEIGHTS]
    else:
        found = sorted(p.name for p in path.glob("*.safetensors"))
        if not found:
            bins = sorted(p.name for p in path.glob("*.bin"))
            extra = f" (only {', '.join(bins[:3])}: convert to safetensors)" if bins else ""
            problems.append(f"no weight files (*.safetensors){extra}")
            return None
        names = found
    missing = [n for n in names if not (path / n).is_file()]
    if missing:
        problems.append(f"missing weight files: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
        return None
    tensors, nbytes, dtypes = 0, 0, set()
    for name in names:
        try:
            header = read_safetensors_header(path / name)
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            problems.append(f"weight file {name} is broken: {exc}")
            return None
        for key, entry in header.items():
            if key == "__metadata__":
                continue
            tensors += 1
            nbytes += entry["data_offsets"][1] - entry["data_offsets"][0]
            dtypes.add(entry["dtype"])
    return WeightFiles(tuple(path / n for n in names), tensors, nbytes, frozenset(dtypes))


def classify(config: dict[str, Any]) -> str:
    """The folder kind a config.json describes."""
    model_type = str(config.get("model_type", ""))
    architectures = " ".join(str(a) for a in config.get("architectures") or [])
    auto_map = " ".join(str(v) for v in (config.get("auto_map") or {}).values()).lower()
    vision = config.get("vision_config") or {}
    if model_type == "deepseek_ocr2":
        return DEEPSEEK_OCR2_NATIVE
    if "DeepseekOCR2" in architectures or "deepseekocr2" in auto_map or vision.get("model_name") == "deepencoderv2":
        return DEEPSEEK_OCR2
    if "DeepseekOCR" in architectures or "deepseekocr" in auto_map:
        return DEEPSEEK_OCR
    if model_type == "glm_ocr" or "GlmOcr" in architectures:
        return GLM_OCR
    if model_type == "paddleocr_vl" or "PaddleOCRVL" in architectures:
        return PADDLEOCR_VL
    return UNKNOWN


def inspect_folder(path: Path | str) -> ModelFolder:
    """Inspect a model folder (reads config.json and weight headers only)."""
    folder = ModelFolder(Path(path))
    if not folder.path.is_dir():
        folder.problems.append(f"{folder.path} is not a directory")
        return folder
    config_path = folder.path / "config.json"
    if not config_path.is_file():
        folder.problems.append("no config.json")
    else:
        try:
            loaded = json.loads(config_path.read_text(encoding="utf-8"))
            folder.config = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError) as exc:
            folder.problems.append(f"config.json is unreadable ({exc})")
        folder.kind = classify(folder.config)
    folder.weights = _weight_files(folder.path, folder.problems)
    if not any((folder.path / name).is_file() for name in TOKENIZER_FILES):
        folder.problems.append("no tokenizer (tokenizer.json)")
    if folder.kind == DEEPSEEK_OCR2_NATIVE and not any((folder.path / n).is_file() for n in PROCESSOR_FILES):
        folder.problems.append("no processor_config.json")
    return folder


def folder_signature(path: Path | str) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of the folder's files: changes when the folder does."""
    root = Path(path)
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return ()
    out = []
    for entry in entries:
        try:
            stat = entry.stat()
        except OSError:
            continue
        out.append((entry.name, stat.st_size, stat.st_mtime_ns))
    return tuple(out)
