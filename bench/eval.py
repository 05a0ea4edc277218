"""Field accuracy on the labelled dev set: `python -m bench.eval --data ../shared/data/dev`.

Every document goes through the real pipeline (load -> engine -> parser -> validation). OCR output is
cached per (file sha256, engine, dpi) under data/eval-cache/ so parser changes re-run in seconds; the
cache keeps the OCR time it took, so pages/s stays the end-to-end figure.

Comparison rules (the dev set's README): vendor with case, whitespace and punctuation ignored
(strict) and fuzzy (best of token-set ratio on words and ratio on the squeezed text >= 90); dates ISO
equality; money absolute difference < 0.005; invoice number equality with whitespace ignored;
currency only where the label is a real one (invoice2data, zugferd).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.targets import name_similarity, squeeze, vendor_names

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "accuracy.md"
START, END = "<!-- eval:start -->", "<!-- eval:end -->"
FIELDS = ("vendor", "vendor~", "vendor*", "invoice_number", "date", "date-u", "total", "subtotal", "tax", "currency")
REAL_CURRENCY = ("invoice2data", "zugferd")
INTRO = "# Accuracy\n\n"
SECTION = """## Field accuracy (`make eval`)

Field-level accuracy of the whole pipeline on the labelled development set (`../shared/data/dev`:
invoice2data, ZUGFeRD, SROIE, WildReceipt), on the CPU. Each cell is the share of documents whose field
matches the label, with the number of labelled documents in brackets; a field is scored only where its
label is not null. Row groups: `zugferd` reads the embedded e-invoice XML (`auto` picks `einvoice`),
`zugferd-textlayer` reads the printed pages alone, `invoice2data-png` sends PNG renderings of the PDFs
through OCR. `vendor` is strict (case, spaces and punctuation ignored), `vendor~` fuzzy (ratio >= 90).
`date-u` scores only dates whose label is not marked ambiguous: where day and month can swap
(`05/12/2016`) the WildReceipt labels read month-first throughout, also on German, Dutch and British
receipts, while the parser decides the order from the document (its other dates, language, currency,
US address/phone/12-hour clock) and flags the date when nothing decides. Known label noise (see the
dev set's README): AzureInterior's vendor label is the customer, Orlen's invoice number is truncated,
Flipkart's vendor label is the marketplace, not the seller printed on the invoice.

"""


@dataclass
class Job:
    """One document to evaluate in one row group."""

    group: str
    dataset: str
    path: str
    label: dict[str, Any]
    engine: str | None
    kind: str = "file"  # file | text


@dataclass
class Outcome:
    """What the pipeline produced for one job, reduced to the compared fields."""

    group: str
    dataset: str
    path: str
    got: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str | None] = field(default_factory=dict)
    pages: int = 0
    seconds: float = 0.0
    cached: bool = False
    needs_review: bool = False
    confidence: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    result_json: str | None = None  # the whole ExtractionResult, for the retrieval evaluation


# ---------------------------------------------------------------------------------------------
# Jobs


def build_jobs(data: Path, engine: str | None, datasets: set[str] | None, limit: int | None) -> list[Job]:
    """The row groups: each dataset, plus zugferd via the text layer and invoice2data via OCR of PNGs."""
    rows = [json.loads(line) for line in (data / "labels.jsonl").read_text().splitlines() if line.strip()]
    groups: dict[str, list[Job]] = {}

    def add(group: str, job: Job) -> None:
        if datasets and group not in datasets and job.dataset not in datasets:
            return
        groups.setdefault(group, []).append(job)

    for row in rows:
        dataset, path = row["dataset"], row["path"]
        kind = "text" if path.endswith(".txt") else "file"
        add(dataset, Job(dataset, dataset, path, row, engine, kind))
        if dataset == "zugferd" and engine in (None, "auto", "einvoice"):
            add("zugferd-textlayer", Job("zugferd-textlayer", dataset, path, row, "textlayer"))
        if dataset == "invoice2data" and row.get("image_file") and engine in (None, "auto", "textlayer"):
            image = str(Path(path).parent / Path(row["image_file"]).name)
            add("invoice2data-png", Job("invoice2data-png", dataset, image, row, None))
    jobs: list[Job] = []
    for group_jobs in groups.values():
        jobs.extend(group_jobs[:limit] if limit else group_jobs)
    return jobs


# ---------------------------------------------------------------------------------------------
# Running one job (in a worker process)

_SETTINGS = None


def _settings() -> Any:
    global _SETTINGS
    if _SETTINGS is None:
        from utils.settings import Settings

        _SETTINGS = Settings()
    return _SETTINGS


def _text_pages(text: str) -> list[Any]:
    from extraction.markdown import page_from_text

    # A plain-text rendering keeps its columns as runs of spaces, which the parser reads as cells.
    return [page_from_text(text, 1, "text")]


def run_job(job: Job, data: str, cache_dir: str | None, dpi: int | None) -> Outcome:
    """Read, parse and validate one document; compare-ready fields out."""
    from extraction.documents import load_document
    from extraction.markdown import pages_from_json, pages_to_json
    from extraction.options import ExtractOptions
    from extraction.pipeline import read_pages, result_from_pages
    from utils.hashing import sha256_hex

    outcome = Outcome(job.group, job.dataset, job.path)
    settings = _settings()
    try:
        raw = (Path(data) / job.path).read_bytes()
        start = time.perf_counter()
        if job.kind == "text":
            from extraction.parser import parse_invoice
            from extraction.validate import validate

            pages = _text_pages(raw.decode("utf-8", errors="replace"))
            parsed = parse_invoice(pages)
            validation = validate(parsed.invoice, parsed.fields, parsed.reasons, settings.low_confidence)
            invoice, fields, review, n_pages = parsed.invoice, parsed.fields, validation.needs_review, 1
            outcome.seconds = time.perf_counter() - start
        else:
            options = ExtractOptions(engine=job.engine, dpi=dpi)
            engine_key = job.engine or settings.engine
            key = f"{sha256_hex(raw)}-{engine_key}-{dpi or settings.dpi}"
            cache_file = Path(cache_dir) / f"{key}.json" if cache_dir else None
            timings: dict[str, float] = {}
            document = load_document(raw, Path(job.path).name, settings)
            try:
                if cache_file is not None and cache_file.exists():
                    cached = json.loads(cache_file.read_text())
                    pages = pages_from_json(cached["pages"])
                    ocr_seconds = float(cached["seconds"])
                    outcome.cached = True
                else:
                    t0 = time.perf_counter()
                    pages = read_pages(document, options, settings, timings)
                    ocr_seconds = time.perf_counter() - t0
                    if cache_file is not None:
                        cache_file.parent.mkdir(parents=True, exist_ok=True)
                        tmp = cache_file.with_suffix(".tmp")
                        tmp.write_text(json.dumps({"pages": pages_to_json(pages), "seconds": ocr_seconds}))
                        tmp.replace(cache_file)
                t1 = time.perf_counter()
                result = result_from_pages(document, pages, settings, timings)
                rest = time.perf_counter() - t1
            finally:
                document.close()
            invoice, fields, review = result.invoice, result.fields, result.validation.needs_review
            outcome.result_json = result.model_dump_json()
            n_pages = len(pages)
            load_seconds = t1 - start - (0 if outcome.cached else ocr_seconds)
            outcome.seconds = load_seconds + ocr_seconds + rest
        outcome.pages = n_pages
        outcome.needs_review = review
        outcome.got = {
            "vendor": invoice.vendor.name,
            "invoice_number": invoice.invoice_number,
            "date": invoice.invoice_date.isoformat() if invoice.invoice_date else None,
            "total": str(invoice.total) if invoice.total is not None else None,
            "subtotal": str(invoice.subtotal) if invoice.subtotal is not None else None,
            "tax": str(invoice.tax_total) if invoice.tax_total is not None else None,
            "currency": invoice.currency,
        }
        keys = {"vendor": "vendor.name", "date": "invoice_date", "tax": "tax_total"}
        outcome.sources = {
            k: (fields[keys.get(k, k)].source if keys.get(k, k) in fields else None) for k in outcome.got
        }
        outcome.confidence = {k: fields[keys.get(k, k)].confidence for k in outcome.got if keys.get(k, k) in fields}
    except Exception as exc:  # one bad document is a failed row, not a failed run
        outcome.error = f"{type(exc).__name__}: {exc}"
    return outcome


# ---------------------------------------------------------------------------------------------
# Comparison


def vendor_match(expected: str, got: str | None, fuzzy: bool) -> bool:
    """Vendor equality, strict (squeezed) or fuzzy (ratio >= 90)."""
    if not got:
        return False
    if squeeze(expected) == squeeze(got):
        return True
    return fuzzy and name_similarity(expected, got) >= 90


def compare(job: Job, outcome: Outcome) -> dict[str, bool]:
    """Per scored field: whether the pipeline got it right."""
    label = job.label
    got = outcome.got
    scores: dict[str, bool] = {}
    if label.get("vendor"):
        scores["vendor"] = vendor_match(label["vendor"], got.get("vendor"), False)
        scores["vendor~"] = vendor_match(label["vendor"], got.get("vendor"), True)
        if job.dataset == "wildreceipt":
            # Its label joins every store-name box; the name printed in any one of them is the vendor too.
            scores["vendor*"] = any(vendor_match(name, got.get("vendor"), False) for name in vendor_names(label))
    if label.get("invoice_number"):
        want = "".join(str(label["invoice_number"]).split())
        scores["invoice_number"] = want == "".join(str(got.get("invoice_number") or "").split())
    if label.get("date"):
        scores["date"] = label["date"] == got.get("date")
        # The labels read day/month-swappable dates one fixed way; date-u scores only the certain ones.
        if not label.get("date_ambiguous"):
            scores["date-u"] = scores["date"]
    for name in ("total", "subtotal", "tax"):
        if label.get(name) is not None:
            value = got.get(name)
            scores[name] = value is not None and abs(float(value) - float(label[name])) < 0.005
    if job.dataset in REAL_CURRENCY and label.get("currency") and not str(label["currency"]).endswith("?"):
        scores["currency"] = label["currency"] == got.get("currency")
    return scores


# ---------------------------------------------------------------------------------------------
# Report


def summarize(jobs: list[Job], outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """One row per group: docs, pages, pages/s, per-field (right, scored)."""
    rows: dict[str, dict[str, Any]] = {}
    for job, outcome in zip(jobs, outcomes, strict=True):
        row = rows.setdefault(
            job.group,
            {
                "group": job.group,
                "docs": 0,
                "pages": 0,
                "seconds": 0.0,
                "errors": 0,
                "review": 0,
                "cached": 0,
                "fields": {f: [0, 0] for f in FIELDS},
            },
        )
        row["docs"] += 1
        row["pages"] += outcome.pages
        row["seconds"] += outcome.seconds
        row["errors"] += outcome.error is not None
        row["review"] += outcome.needs_review
        row["cached"] += outcome.cached
        for name, ok in compare(job, outcome).items():
            row["fields"][name][0] += ok
            row["fields"][name][1] += 1
    return list(rows.values())


def table(rows: list[dict[str, Any]]) -> str:
    """A markdown table of the summary."""
    head = ["group", "docs", "pages/s", *FIELDS, "review"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["group"], str(row["docs"])]
        rate = row["pages"] / row["seconds"] if row["seconds"] else 0.0
        cells.append(f"{rate:.2f}")
        for name in FIELDS:
            right, scored = row["fields"][name]
            cells.append(f"{100 * right / scored:.0f}% ({scored})" if scored else "-")
        cells.append(f"{100 * row['review'] / row['docs']:.0f}%" if row["docs"] else "-")
        if row["errors"]:
            cells[0] += f" ({row['errors']} errors)"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_docs(text: str, path: Path = DOCS) -> None:
    """Replace the section between the eval markers (creating the file or markers when missing)."""
    block = f"{START}\n{text}\n{END}"
    if path.exists():
        content = path.read_text()
        if START in content and END in content:
            before, _, rest = content.partition(START)
            _, _, after = rest.partition(END)
            path.write_text(before + block + after)
            return
        path.write_text(content.rstrip() + "\n\n" + block + "\n")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(INTRO + block + "\n")


def dump(jobs: list[Job], outcomes: list[Outcome]) -> None:
    """Print each mismatch: expected, got, and the line it was read from."""
    for job, outcome in zip(jobs, outcomes, strict=True):
        if outcome.error:
            print(f"[{job.group}] {job.path}: ERROR {outcome.error}")
            continue
        for name, ok in compare(job, outcome).items():
            if ok or name in ("vendor~", "date-u"):
                continue
            key = name
            want = job.label.get(key)
            print(
                f"[{job.group}] {job.path.split('/')[-1][:48]} {name}: want {want!r} got {outcome.got.get(key)!r}"
                f"  <- {outcome.sources.get(key)!r}"
            )


def run_jobs(
    jobs: list[Job], data: Path, cache: str | None, dpi: int | None, workers: int, models: Path | None = None
) -> list[Outcome]:
    """Every job's outcome, in `workers` processes (with the parser models of `models` when given)."""
    from extraction.parser.scoring import MODELS, use_models

    folder = models or MODELS
    if workers > 1:
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        os.environ.setdefault("INVOICE_OCR_OCR_THREADS", "1")
        with ProcessPoolExecutor(workers, initializer=use_models, initargs=(folder,)) as pool:
            futures = [pool.submit(run_job, job, str(data), cache, dpi) for job in jobs]
            return [f.result() for f in futures]
    use_models(folder)
    return [run_job(job, str(data), cache, dpi) for job in jobs]


def learning_sections(args: argparse.Namespace, jobs: list[Job], outcomes: list[Outcome], text: str) -> str:
    """Old rules beside the learned scorers, train beside dev, WildReceipt left out, calibration and review."""
    from bench import eval_learning as learning
    from extraction.parser.scoring import MODELS

    cache = args.cache
    dev = learning.parse_table(text)
    out = ["### Learned scorers against the old rules (same OCR cache)\n"]
    try:
        old = learning.rules_table(args.data, cache, args.rules_ref)
        out.append(f"Rule-based parser at `{args.rules_ref}` → learned scorers, dev set:\n")
        out.append(learning.side_by_side(old, dev))
    except Exception as exc:  # a missing git history is a skipped comparison, not a failed eval
        out.append(f"(not run: {exc})")
    out.append("\n### Train and dev (the generalisation gap)\n")
    if args.train_data.exists():
        train_jobs = build_jobs(args.train_data, args.engine, None, None)
        train_out = run_jobs(train_jobs, args.train_data, str(cache), args.dpi, args.workers)
        train_rows = learning.parse_table(table(summarize(train_jobs, train_out)))
        out.append(
            "The whole pipeline on the training set (which the scorers were fitted on), the scorers' own top-1 "
            "accuracy cross-validated with each vendor's documents held out together (`make train`, five folds), "
            "and the dev set:\n"
        )
        out.append(learning.train_vs_dev(train_rows, dev, MODELS))
        try:
            old_train = learning.rules_table(args.train_data, cache, args.rules_ref)
            out.append(
                f"\nThe rule-based parser at `{args.rules_ref}` was written against the dev set; the training set is "
                "new to it, as unseen documents are. Old rules → learned scorers (whole pipeline), training set:\n"
            )
            out.append(learning.side_by_side(old_train, train_rows))
        except Exception as exc:  # a missing git history is a skipped comparison, not a failed eval
            out.append(f"(old rules on the training set not run: {exc})")
        out.append("\n### WildReceipt left out\n")
        lodo = ROOT / "data" / "models-without-wildreceipt"
        report = json.loads((MODELS / "report.json").read_text())
        synth = str(report["settings"].get("synthetic_documents", 0))
        command = [sys.executable, "-m", "training", "--data", str(args.train_data), "--cache", str(cache)]
        command += ["--out", str(lodo), "--synth", synth, "--exclude", "wildreceipt"]
        subprocess.run(command, check=True, cwd=ROOT)
        wr_jobs = [j for j in jobs if j.group == "wildreceipt"]
        wr_out = run_jobs(wr_jobs, args.data, str(cache), args.dpi, args.workers, lodo)
        out.append(
            "Scorers fitted without any WildReceipt document, scored on dev WildReceipt, beside the full models:\n"
        )
        rows = learning.parse_table(table(summarize(wr_jobs, wr_out)))
        lines = [
            "| models | vendor | vendor* | date | date-u | total | subtotal | tax |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, row in (
            ("all training data", dev.get("wildreceipt", {})),
            ("without WildReceipt", rows.get("wildreceipt", {})),
        ):
            cells = [row.get(f, "-") for f in ("vendor", "vendor*", "date", "date-u", "total", "subtotal", "tax")]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append("\n".join(lines))
    out.append("\n### Learning from corrections (replay)\n")
    out.append(
        "Per dataset, every vendor with two or more documents (at most 25 vendors per dataset) has its documents "
        "ingested in date order into a fresh history; after each, its labels are applied as a reviewer's "
        "corrections. Each later document is read with what the history knows and without it "
        "(`python -m bench.eval_history`):\n"
    )
    command = [sys.executable, "-m", "bench.eval_history", "--cache", str(cache), "--vendors", "25"]
    for folder in (args.data, args.train_data):
        if folder.exists():
            command += ["--data", str(folder)]
    replay = subprocess.run(command, check=True, cwd=ROOT, capture_output=True, text=True).stdout
    out.append(replay.split("\n", 2)[-1].strip())  # without its own heading
    out.append("\n### Confidence and the review flag (dev)\n")
    out.append(learning.calibration(jobs, outcomes))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation and print (and record) the accuracy table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/dev"))
    parser.add_argument("--engine", default=None, help="engine for every document (default: the configured one)")
    parser.add_argument("--dataset", action="append", help="only these datasets or groups (repeatable)")
    parser.add_argument("--limit", type=int, default=None, help="at most N documents per group")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dpi", type=int, default=None)
    parser.add_argument("--cache", type=Path, default=ROOT / "data" / "eval-cache", help="OCR cache folder")
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--dump", action="store_true", help="print every mismatch with its source line")
    parser.add_argument("--no-write", action="store_true", help=f"do not update {DOCS.relative_to(ROOT)}")
    parser.add_argument("--models", type=Path, default=None, help="parser models folder (default: the committed ones)")
    parser.add_argument("--train-data", type=Path, default=Path("../shared/data/train"))
    parser.add_argument("--rules-ref", default="576d6d3", help="git commit of the rule-based parser to compare with")
    parser.add_argument(
        "--learning", action="store_true", help="add the learned parser's sections (on by default when writing)"
    )
    args = parser.parse_args(argv)

    datasets = {d for item in args.dataset or [] for d in item.split(",")} or None
    jobs = build_jobs(args.data, args.engine, datasets, args.limit)
    cache = None if args.no_cache else str(args.cache)
    start = time.perf_counter()
    outcomes = run_jobs(jobs, args.data, cache, args.dpi, args.workers, args.models)
    elapsed = time.perf_counter() - start
    if args.dump:
        dump(jobs, outcomes)
    rows = summarize(jobs, outcomes)
    text = table(rows)
    cached = sum(r["cached"] for r in rows)
    engine = args.engine or "auto (configured default)"
    note = (
        f"\nEngine: {engine}; dpi {args.dpi or 'default'}; {len(jobs)} documents in {elapsed:.0f} s wall time "
        f"with {args.workers} worker(s). pages/s counts load + OCR + parse + validation per document "
        f"(OCR time taken from the cache for {cached} cached documents). `review` is the share flagged needs_review."
    )
    print(text)
    print(note)
    full = not args.no_write and not args.dataset and not args.limit
    learning = learning_sections(args, jobs, outcomes, text) if (full or args.learning) else ""
    print(learning)
    retrieval = retrieval_report(jobs, outcomes)
    print(retrieval)
    if full:
        write_docs(SECTION + text + "\n" + note + "\n\n" + learning + "\n\n" + retrieval)
    return 0


def retrieval_report(jobs: list[Job], outcomes: list[Outcome]) -> str:
    """Store each document's result once (its default-engine group) and score label-built queries."""
    from bench.eval_retrieval import evaluate
    from extraction.schema import ExtractionResult

    pairs = [
        (job.label, ExtractionResult.model_validate_json(outcome.result_json))
        for job, outcome in zip(jobs, outcomes, strict=True)
        if outcome.result_json and job.group == job.dataset
    ]
    if not pairs:
        return ""
    return "### Retrieval on the extracted dev set\n\n" + evaluate(pairs)


if __name__ == "__main__":
    sys.exit(main())
