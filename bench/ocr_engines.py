"""Compare the CPU raster engines on the dev set: character error, token recall, seconds per page.

    .venv/bin/python -m bench.ocr_engines --data ../shared/data/dev [--engines rapidocr,tesseract]
        [--threads 2,1] [--limit N] [--timing-limit N] [--json out.json] [--write-doc docs/accuracy.md]

Accuracy is measured against reference transcripts, in ways that do not punish a different reading order:
- SROIE (scans, `sroie/train/box/<id>.txt`): CER between the reference lines and the OCR lines, both in
  reading order and case-folded, and the share of reference tokens found anywhere in the OCR output
  (multiset recall, which ignores order and line splits).
- WildReceipt (phone photos, `labels.jsonl` raw annotations, spaces removed by the dataset): CER between
  the space-free texts in reading order (boxes sorted top to bottom), and the share of reference boxes
  found as substrings of the space-free OCR text.
- A4 invoice page at 200 dpi (born-digital invoice rendered by the test builders): seconds only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from PIL import Image
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from extraction.engines.registry import engine_class
from utils.settings import Settings

DOC_SECTION = "## Raster engine choice"


def sroie_samples(data: Path, limit: int | None) -> list[tuple[Path, list[str]]]:
    """(image, reference lines) for the SROIE receipts."""
    out = []
    for image in sorted((data / "sroie/train/img").glob("*.jpg"))[:limit]:
        box = data / "sroie/train/box" / f"{image.stem}.txt"
        if not box.exists():
            continue
        lines = []
        for raw in box.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = raw.split(",", 8)
            if len(parts) == 9 and parts[8].strip():
                lines.append(parts[8].strip())
        out.append((image, lines))
    return out


def wildreceipt_samples(data: Path, limit: int | None) -> list[tuple[Path, list[str]]]:
    """(image, reference box texts in reading order) for the WildReceipt photos."""
    out = []
    for raw in (data / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(raw)
        if row.get("dataset") != "wildreceipt":
            continue
        boxes = []
        for ann in row.get("raw", {}).get("annotations", []):
            text = (ann.get("text") or "").strip()
            if text and text != "###":
                xs, ys = ann["box"][0::2], ann["box"][1::2]
                boxes.append(((min(ys) + max(ys)) / 2, min(xs), text))
        boxes.sort()
        out.append((data / row["path"], [t for _, _, t in boxes]))
    return out[:limit]


def a4_page() -> Image.Image:
    """A born-digital A4 invoice rendered at 200 dpi, as a flatbed scan would give."""
    from tests.builders import make_invoice_pdf, render_pil

    return render_pil(make_invoice_pdf(), dpi=200)  # type: ignore[return-value]


def ocr_lines(engine, image: Image.Image, repeats: int = 1) -> tuple[list[str], float]:
    """The engine's text lines for one image and the fastest of `repeats` runs (seconds)."""
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        page = engine.read_image(image)
        times.append(time.perf_counter() - start)
    return [line.text for line in page.lines()], min(times)


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: edit distance over reference length."""
    return Levenshtein.distance(reference, hypothesis) / max(1, len(reference))


def aligned_cer(reference: list[str], hypothesis: str) -> float:
    """Order-free CER: each reference line against its best-matching stretch of the OCR text."""
    errors = total = 0
    for line in reference:
        if not line:
            continue
        total += len(line)
        if len(line) >= len(hypothesis):
            distance = Levenshtein.distance(line, hypothesis)
        else:
            match = fuzz.partial_ratio_alignment(line, hypothesis)
            distance = Levenshtein.distance(line, hypothesis[match.dest_start : match.dest_end])
        errors += min(distance, len(line))
    return errors / max(1, total)


def sroie_scores(reference: list[str], hypothesis: list[str]) -> dict[str, float]:
    """Aligned CER, CER in reading order (both case-folded) and token recall (order-free)."""
    ref_lines = [line.casefold() for line in reference]
    hyp_text = "\n".join(hypothesis).casefold()
    ref, hyp = " ".join(ref_lines).split(), hyp_text.split()
    found = sum((Counter(ref) & Counter(hyp)).values())
    return {
        "aligned_cer": aligned_cer(ref_lines, hyp_text),
        "cer": cer("\n".join(ref_lines), hyp_text),
        "recall": found / max(1, len(ref)),
    }


def wildreceipt_scores(reference: list[str], hypothesis: list[str]) -> dict[str, float]:
    """The same on space-free text (the transcripts have no spaces); recall = reference boxes found."""
    boxes = [b.casefold().replace(" ", "") for b in reference]
    hyp_lines = [h.casefold().replace(" ", "") for h in hypothesis]
    hyp_text = "\n".join(hyp_lines)
    return {
        "aligned_cer": aligned_cer(boxes, hyp_text),
        "cer": cer("".join(boxes), "".join(hyp_lines)),
        "recall": sum(1 for b in boxes if b in hyp_text) / max(1, len(boxes)),
    }


def run_engine(name: str, threads: int, sets: dict[str, list], repeats: int = 1) -> dict[str, dict]:
    """Scores and timings of one engine at one thread count over every sample set."""
    settings = Settings(_env_file=None, ocr_threads=threads)
    engine = engine_class(name)(settings)
    availability = engine.available()
    if not availability:
        raise SystemExit(f"{name}: {availability.reason}")
    engine.read_image(Image.new("RGB", (200, 100), "white"))  # load models outside the timings
    results: dict[str, dict] = {}
    for set_name, samples in sets.items():
        scores: list[dict[str, float]] = []
        seconds = []
        outputs = []
        scorer = sroie_scores if set_name == "sroie" else wildreceipt_scores
        for image, reference in samples:
            picture = image if isinstance(image, Image.Image) else Image.open(image).convert("RGB")
            lines, elapsed = ocr_lines(engine, picture, repeats)
            seconds.append(elapsed)
            if reference is not None:
                scores.append(scorer(reference, lines))
                outputs.append({"image": str(image), "lines": lines, "seconds": elapsed})
        results[set_name] = {
            "pages": len(seconds),
            **{k: statistics.mean(s[k] for s in scores) for k in ("aligned_cer", "cer", "recall") if scores},
            "median_s": statistics.median(seconds) if seconds else None,
            "mean_s": statistics.mean(seconds) if seconds else None,
        }
        print(f"{name} threads={threads} {set_name}: {results[set_name]}", file=sys.stderr, flush=True)
        results[set_name]["outputs"] = outputs
    return results


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _sec(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def markdown_table(report: dict) -> str:
    """The comparison as the docs section: accuracy on every page, then speed per thread count."""
    counts, speed_counts = report["counts"], report["speed_counts"]
    lines = [
        DOC_SECTION,
        "",
        f"Measured {report['date']} on {report['machine']} with `python -m bench.ocr_engines`"
        f" (RapidOCR: longer side capped at {report['max_side']} px, detection at 1600 px).",
        "",
        f"Accuracy on every page (SROIE {counts['sroie']} scans, WildReceipt {counts['wildreceipt']} phone photos),"
        f" default `ocr_threads={report['default_threads']}`:",
        "",
        "| engine | SROIE CER aligned | SROIE CER in order | SROIE token recall"
        " | WildReceipt CER aligned | WildReceipt CER in order | WildReceipt box recall |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in report["accuracy"]:
        sroie, wild = row["results"].get("sroie", {}), row["results"].get("wildreceipt", {})
        lines.append(
            f"| {row['engine']} | {_pct(sroie.get('aligned_cer'))} | {_pct(sroie.get('cer'))}"
            f" | {_pct(sroie.get('recall'))} | {_pct(wild.get('aligned_cer'))} | {_pct(wild.get('cer'))}"
            f" | {_pct(wild.get('recall'))} |"
        )
    lines += [
        "",
        f"Seconds per page (median; each page the fastest of {report['repeats']} runs; first"
        f" {speed_counts['sroie']} SROIE scans, first {speed_counts['wildreceipt']} WildReceipt photos, and an A4"
        f" invoice rendered at 200 dpi, {speed_counts['a4']} times). Load average when the speed runs began:"
        f" {report['load']:.1f}.",
        "",
        "| engine | threads | SROIE | WildReceipt | A4 200 dpi |",
        "|---|---|---|---|---|",
    ]
    for row in report["speed"]:
        r = row["results"]
        lines.append(
            f"| {row['engine']} | {row['threads']} | {_sec(r.get('sroie', {}).get('median_s'))}"
            f" | {_sec(r.get('wildreceipt', {}).get('median_s'))} | {_sec(r.get('a4', {}).get('median_s'))} |"
        )
    lines += [
        "",
        'CER = edit distance / reference length (lower is better). "Aligned" matches each reference line to its'
        " best-matching stretch of the OCR text, so reading order does not count (extra text is not penalized);"
        ' "in order" compares the whole texts in reading order, which also counts lines read in another order'
        " (photos, side-by-side columns). Recall = reference tokens (SROIE) or boxes (WildReceipt) found anywhere."
        " Text is case-folded; WildReceipt is compared without spaces (its transcripts have none).",
        "",
        "Threads: RapidOCR uses `ocr_threads` ONNX Runtime threads (default 2). Tesseract always runs with one"
        " OpenMP thread: a second one gained nothing here and, in an earlier run on a heavily loaded machine, made"
        " it many times slower (its rows above were measured with `OMP_THREAD_LIMIT` set to the thread count).",
        "",
        f'**Choice:** `raster_engine = "{report["choice"]}"`. {report["reason"]}',
        "",
    ]
    return "\n".join(lines)


def write_doc(path: Path, section: str) -> None:
    """Put the section at the end of the file, replacing an older one; other text (the eval block) stays as is."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Accuracy\n"
    start = text.find(DOC_SECTION)
    if start >= 0:
        # The old section ends at the next heading or eval marker, whichever comes first.
        ends = [i for i in (text.find("\n## ", start + 1), text.find("<!-- eval:start -->", start)) if i >= 0]
        end = min(ends) if ends else len(text)
        text = text[:start].rstrip("\n") + "\n\n" + text[end:].strip("\n")
    path.write_text(text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n", encoding="utf-8")


def choose(accuracy: list[dict], speed: list[dict], default_threads: int) -> tuple[str, str]:
    """The default raster engine: the one with fewer character errors (aligned CER over both sets)."""
    by_engine = {row["engine"]: row["results"] for row in accuracy}
    if set(by_engine) < {"rapidocr", "tesseract"}:
        return "rapidocr", "Only one engine was measured; keeping the current default."

    def errors(results: dict) -> float:
        keys = ("sroie", "wildreceipt")
        values = [results[k]["aligned_cer"] for k in keys if results.get(k, {}).get("aligned_cer") is not None]
        return statistics.mean(values) if values else 1.0

    a4 = next(
        (r["results"].get("a4", {}).get("median_s") for r in speed if r["engine"] == "rapidocr"
         and r["threads"] == default_threads),
        None,
    )  # fmt: skip
    if errors(by_engine["rapidocr"]) <= errors(by_engine["tesseract"]):
        speed_note = f" It reads an A4 page at 200 dpi in {a4:.2f} s here (target 1.5 s)." if a4 else ""
        return "rapidocr", f"RapidOCR makes far fewer character errors on scans and on photos.{speed_note}"
    return "tesseract", "Tesseract made fewer character errors in this run."


def main(argv: list[str] | None = None) -> None:
    """Run the comparison and print (and optionally write) the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/dev"))
    parser.add_argument("--engines", default="rapidocr,tesseract")
    parser.add_argument("--threads", default="2,1", help="thread counts; the first is the default setting")
    parser.add_argument("--limit", type=int, default=None, help="samples per dataset for accuracy")
    parser.add_argument("--timing-limit", type=int, default=10, help="pages per dataset in the speed runs")
    parser.add_argument("--a4-pages", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3, help="speed runs per page; the fastest counts")
    parser.add_argument("--reuse-accuracy", type=Path, default=None, help="take accuracy from an earlier --json")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--write-doc", type=Path, default=None)
    args = parser.parse_args(argv)

    thread_counts = [int(t) for t in args.threads.split(",")]
    engines = args.engines.split(",")
    a4 = a4_page()
    full = {
        "sroie": sroie_samples(args.data, args.limit),
        "wildreceipt": wildreceipt_samples(args.data, args.limit),
    }
    subsets = {k: v[: args.timing_limit] for k, v in full.items()}
    subsets["a4"] = [(a4, None)] * args.a4_pages
    if args.reuse_accuracy:
        accuracy = json.loads(args.reuse_accuracy.read_text(encoding="utf-8"))["accuracy"]
    else:
        accuracy = [
            {"engine": name, "threads": thread_counts[0], "results": run_engine(name, thread_counts[0], full)}
            for name in engines
        ]
    load = os.getloadavg()[0]
    speed = [
        {"engine": name, "threads": threads, "results": run_engine(name, threads, subsets, args.repeats)}
        for name in engines
        for threads in thread_counts
    ]
    from extraction.engines.rapid import RapidOcrOptions

    choice, reason = choose(accuracy, speed, thread_counts[0])
    report = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()} Linux, {os.cpu_count()} cores (shared), Python {platform.python_version()}",
        "load": load,
        "repeats": args.repeats,
        "default_threads": thread_counts[0],
        "max_side": RapidOcrOptions.model_fields["max_side"].default,
        "counts": {k: len(v) for k, v in full.items()},
        "speed_counts": {k: len(v) for k, v in subsets.items()},
        "accuracy": accuracy,
        "speed": speed,
        "choice": choice,
        "reason": reason,
    }
    section = markdown_table(report)
    print(section)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    if args.write_doc:
        write_doc(args.write_doc, section)


if __name__ == "__main__":
    main()
