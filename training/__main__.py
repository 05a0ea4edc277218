"""`make train`: rebuild every field scorer from ../shared/data/train (plus synthetic documents), reproducibly.

    python -m training [--data ../shared/data/train] [--out extraction/parser/models] [--synth N]

Writes one JSON model per field and `report.json` beside them: the data hash, the settings, and per
field the in-sample and out-of-fold (grouped by vendor) accuracy per dataset.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from extraction.parser.candidates import FIELD_KINDS
from extraction.parser.scoring import MODELS, agreed_probability, calibrated
from training import agreement, fit
from training.corpus import DEFAULT_CACHE, LabelledDoc, labelled_docs, read_labels
from training.examples import ABSENT, DocExamples, field_examples, group_of
from training.hinting import Habits, habits_of, sibling_hints

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "train"
MIN_PROBABILITY = 0.15
# The field scorers, and the window scorer that completes a vendor name printed over several lines.
FIELDS = (*FIELD_KINDS, "vendor_lines")


def data_hash(data: Path) -> str:
    """sha256 over the label file and every labelled file's bytes, in label order."""
    digest = hashlib.sha256((data / "labels.jsonl").read_bytes())
    for row in read_labels(data):
        digest.update((data / row["path"]).read_bytes())
    return digest.hexdigest()


def collect(
    data: Path, cache: Path | None, synth: int, exclude: set[str], cached_only: bool = False
) -> dict[str, list[DocExamples]]:
    """Every field's examples from the labelled set and the synthetic documents.

    A labelled document whose vendor has other documents is seen a second time with the hints its
    siblings would have taught (dataset `<name>+hints`), so the scorers learn what the history is worth.
    """
    per_field: dict[str, list[DocExamples]] = {name: [] for name in FIELDS}
    docs: dict[str, LabelledDoc] = {}
    habits: dict[str, tuple[str, Habits]] = {}
    for doc in labelled_docs(data, cache, cached_only=cached_only):
        if doc.dataset in exclude:
            continue
        found = field_examples(doc)
        for name, ex in found:
            per_field[name].append(ex)
        habit = habits_of(doc, {name: ex.right_label_text for name, ex in found if name in FIELD_KINDS})
        if habit is not None:
            docs[doc.doc_id] = doc
            habits[doc.doc_id] = (group_of(doc), habit)
    for doc_id, hints in sibling_hints(habits).items():
        doc = docs[doc_id]
        hinted = LabelledDoc(f"{doc.dataset}+hints", doc.doc_id, doc.pages, doc.label)
        for name, ex in field_examples(hinted, hints, group=group_of(doc)):
            per_field[name].append(ex)
    if synth:
        from training.synthetic import synthetic_docs

        for doc in synthetic_docs(synth, cache):
            for name, ex in field_examples(doc):
                per_field[name].append(ex)
    return per_field


def train_field(
    name: str, docs: list[DocExamples]
) -> tuple[dict[str, Any], dict[str, Any], list[tuple[fit.DocOutcome, float]]]:
    """One field's model (JSON form), its scores, and each document's out-of-fold outcome and probability."""
    names = fit.feature_names(docs)
    oof = fit.outcomes(docs, fit.out_of_fold(docs, names))
    calibration = fit.fit_calibration(oof)
    booster = fit.train_booster(docs, names)
    in_sample = fit.outcomes(docs, [booster.predict(fit.matrix([d], names)[0], raw_score=True) for d in docs])
    model = {
        "field": name,
        "features": names,
        "trees": fit.export_trees(booster),
        "calibration": list(calibration),
        "min_probability": MIN_PROBABILITY,
    }
    scores = {
        "documents": len(docs),
        "features": len(names),
        "train": fit.accuracy_by_dataset(in_sample),
        "cross_validated": fit.accuracy_by_dataset(oof),
        "calibration": calibration_table(oof, calibration),
    }
    if name == "vendor_lines":
        # What keeping the chosen line alone (the first window) would score: the window scorer's baseline.
        alone = [
            fit.DocOutcome(d.dataset, d.doc_id, d.answerable, bool(d.targets[0]), 0.0, 0.0, d.values[0]) for d in docs
        ]
        scores["chosen_line_alone"] = fit.accuracy_by_dataset(alone)
    with_probability = [(r, calibrated(calibration, r.best, r.lead)) for r in oof]
    absent: dict[str, list[bool]] = {}
    for r, p in with_probability:
        if r.dataset.endswith(ABSENT):
            absent.setdefault(r.dataset.removesuffix(ABSENT), []).append(r.value is None or p < MIN_PROBABILITY)
    if absent:
        # Documents without the field (out-of-fold): how often it rightly stays unreported.
        scores["unreported_when_absent"] = {
            name: {"docs": len(quiet), "share": round(sum(quiet) / len(quiet), 4)}
            for name, quiet in sorted(absent.items())
        }
    return model, scores, with_probability


REVIEW_FIELDS = ("vendor", "invoice_date", "total")
REVIEW_CATCH = 0.90


def review_threshold(oof: dict[str, list[tuple[fit.DocOutcome, float]]]) -> dict[str, Any]:
    """The lowest threshold on key fields' joint confidence that flags >= 90% of real wrong documents.

    Out-of-fold, on the labelled (not synthetic) documents: a document's joint confidence is the product
    of its vendor's, date's and total's (0 for a missing one), the chance that all three are right; it is
    flagged below the threshold, and it is wrong when any of the three is.
    """
    docs: dict[str, list[tuple[bool, float]]] = {}
    for name in REVIEW_FIELDS:
        for outcome, p in oof.get(name, []):
            if outcome.dataset.startswith("synth") or outcome.dataset.endswith("+hints"):
                continue
            docs.setdefault(outcome.doc_id, []).append((outcome.right, p if outcome.value is not None else 0.0))
    wrong = [math.prod(p for _, p in v) for v in docs.values() if not all(r for r, _ in v)]
    right = [math.prod(p for _, p in v) for v in docs.values() if all(r for r, _ in v)]
    best = {"threshold": 0.5, "catch": 0.0, "passes_right": 0.0}
    for step in range(5, 100):
        t = step / 100
        catch = sum(p < t for p in wrong) / len(wrong) if wrong else 1.0
        passes = sum(p >= t for p in right) / len(right) if right else 1.0
        best = {"threshold": t, "catch": round(catch, 4), "passes_right": round(passes, 4)}
        if catch >= REVIEW_CATCH:
            break
    return {**best, "documents": len(docs), "wrong": len(wrong)}


def agreed_totals(
    total_model: dict[str, Any], oof: dict[str, list[tuple[fit.DocOutcome, float]]]
) -> tuple[list[tuple[fit.DocOutcome, float]], dict[str, Any]]:
    """Fit what agreeing parts add to a total (written into its model) and the totals' out-of-fold
    probabilities with it, as the runtime computes them; and the report of it."""
    rows = agreement.agreements(oof["total"], oof["subtotal"], oof["tax"], MIN_PROBABILITY)
    gain = agreement.fit_gain(rows)
    total_model["agreement_gain"] = gain
    agreeing = {id(r.outcome) for r in rows if r.agrees}
    totals = [(o, agreed_probability(p, gain) if id(o) in agreeing else p) for o, p in oof["total"]]
    return totals, agreement.summary(rows, gain)


def calibration_table(results: list[fit.DocOutcome], calibration: tuple[float, float, float]) -> list[dict[str, Any]]:
    """Per probability bin (out-of-fold): documents and the share whose best value is right."""
    bins = [(0.0, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 0.97), (0.97, 1.01)]
    out = []
    for lo, hi in bins:
        rows = [r for r in results if r.value is not None and lo <= calibrated(calibration, r.best, r.lead) < hi]
        if rows:
            out.append(
                {
                    "bin": f"{lo:.2f}-{min(hi, 1.0):.2f}",
                    "docs": len(rows),
                    "right": round(sum(r.right for r in rows) / len(rows), 4),
                }
            )
    return out


def main(argv: list[str] | None = None) -> int:
    """Fit and write every field model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=MODELS)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="OCR cache folder (shared with make eval)")
    parser.add_argument("--synth", type=int, default=0, help="synthetic documents added to the training set")
    parser.add_argument("--exclude", action="append", default=[], help="leave a dataset out (repeatable)")
    parser.add_argument("--cached-only", action="store_true", help="skip documents the OCR cache lacks")
    parser.add_argument("--fields", default=",".join(FIELDS), help="comma-separated fields to fit")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    per_field = collect(args.data, args.cache, args.synth, set(args.exclude), args.cached_only)
    print(f"candidates built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "data": str(args.data.name),
        "data_sha256": data_hash(args.data),
        "settings": {
            "params": fit.PARAMS,
            "rounds": fit.ROUNDS,
            "folds": fit.FOLDS,
            "seed": fit.SEED,
            "synthetic_documents": args.synth,
            "excluded": sorted(args.exclude),
            "min_probability": MIN_PROBABILITY,
        },
        "fields": {},
    }
    oof: dict[str, list[tuple[fit.DocOutcome, float]]] = {}
    models: dict[str, dict[str, Any]] = {}
    for name in args.fields.split(","):
        docs = per_field[name]
        if not docs:
            continue
        t0 = time.perf_counter()
        models[name], scores, oof[name] = train_field(name, docs)
        report["fields"][name] = scores
        print(f"{name}: {json.dumps(scores['cross_validated'])} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    if {"total", "subtotal", "tax"} <= oof.keys():
        oof["total"], report["fields"]["total"]["agreement"] = agreed_totals(models["total"], oof)
        print(f"total agreement: {report['fields']['total']['agreement']}", file=sys.stderr)
    for name, model in models.items():
        (args.out / f"{name}.json").write_text(json.dumps(model, separators=(",", ":")))
    report["review"] = review_threshold(oof)
    print(f"review: {report['review']}", file=sys.stderr)
    (args.out / "report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
