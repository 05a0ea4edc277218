"""Synthetic documents for training, read by the product's own engines: the text layer of the PDFs and,
for a share of them, OCR of rendered scans and photos (cached like the labelled sets)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path

from extraction.markdown import page_from_text
from training.corpus import LabelledDoc, cached_pages

SEED = 20261206
# Every n-th document is rendered and read by OCR: a scan, then a phone photo, in turn.
RASTER_EVERY = 3
# Every n-th text-layer document is also given as markdown without boxes, the way DeepSeek-OCR and the
# vLLM engines return a page: the scorers must not need positions to read a field.
TEXT_ONLY_EVERY = 4
DPI = 150


def synthetic_docs(n: int, cache: Path | None, seed: int = SEED) -> Iterator[LabelledDoc]:
    """`n` synthetic documents as the engines read them, with their exact labels."""
    from training.synth import generate

    for i, doc in enumerate(generate(n, seed=seed)):
        if i % RASTER_EVERY == RASTER_EVERY - 1:
            noise = "scan" if (i // RASTER_EVERY) % 2 == 0 else "photo"
            png = doc.png(dpi=DPI, noise=noise, seed=zlib.crc32(doc.id.encode()))
            pages = cached_pages(png, f"{doc.id}.png", None, cache)
            dataset = f"synth-{noise}"
        else:
            pages = cached_pages(doc.pdf, f"{doc.id}.pdf", "textlayer", cache)
            dataset = "synth"
        label = dict(doc.label, dataset="synth")
        yield LabelledDoc(dataset, doc.id, pages, label)
        if dataset == "synth" and pages and i % TEXT_ONLY_EVERY == 0:
            text = [page_from_text(p.to_markdown(), p.number, "markdown") for p in pages]
            yield LabelledDoc("synth-text", f"{doc.id}-text", text, label)
