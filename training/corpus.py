"""Labelled documents as the product's own engines read them, with the OCR output cached on disk.

A document is read once per (file hash, engine, dpi) and kept under the cache folder in the same
format as `make eval`'s cache, so training and evaluation see the same OCR text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from extraction.markdown import PageMarkdown, page_from_text, pages_from_json, pages_to_json
from utils.files import write_atomic

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = ROOT / "data" / "eval-cache"
# Row groups read with a fixed engine: the e-invoices' printed pages (their XML would bypass the parser).
ENGINE_FOR = {"zugferd": "textlayer"}


@dataclass
class LabelledDoc:
    """One document's pages as read, its label row and where it came from."""

    dataset: str
    doc_id: str
    pages: list[PageMarkdown]
    label: dict[str, Any]


def read_labels(data: Path) -> list[dict[str, Any]]:
    """The rows of a data folder's labels.jsonl."""
    return [json.loads(line) for line in (data / "labels.jsonl").read_text().splitlines() if line.strip()]


def cached_pages(
    raw: bytes, filename: str, engine: str | None, cache: Path | None, dpi: int | None = None, read: bool = True
) -> Any:
    """The pages of one file as `engine` reads them, from the cache when it holds them (else None unless `read`)."""
    from extraction.documents import load_document
    from extraction.options import ExtractOptions
    from extraction.pipeline import read_pages
    from utils.hashing import sha256_hex
    from utils.settings import Settings

    settings = Settings()
    key = f"{sha256_hex(raw)}-{engine or settings.engine}-{dpi or settings.dpi}"
    path = cache / f"{key}.json" if cache is not None else None
    if path is not None and path.exists():
        return pages_from_json(json.loads(path.read_text())["pages"])
    if not read:
        return None
    document = load_document(raw, filename, settings)
    try:
        pages = read_pages(document, ExtractOptions(engine=engine, dpi=dpi), settings, {})
    finally:
        document.close()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"pages": pages_to_json(pages), "seconds": 0.0}).encode())
    return pages


def labelled_docs(
    data: Path, cache: Path | None = DEFAULT_CACHE, datasets: set[str] | None = None, cached_only: bool = False
) -> Iterator[LabelledDoc]:
    """Every labelled document of a data folder, read by the engine its group uses (`cached_only`: skip unread)."""
    for row in read_labels(data):
        dataset = row["dataset"]
        if datasets and dataset not in datasets:
            continue
        path = data / row["path"]
        if path.suffix == ".txt":
            # A plain-text rendering keeps its columns as runs of spaces, which the parser reads as cells.
            pages = [page_from_text(path.read_text(errors="replace"), 1, "text")]
        else:
            pages = cached_pages(path.read_bytes(), path.name, ENGINE_FOR.get(dataset), cache, read=not cached_only)
            if pages is None:
                continue
        yield LabelledDoc(dataset, row["path"], pages, row)
