"""The learned parser's sections of `make eval`: old rules beside it, train beside dev, a dataset left out,
calibration of its confidence and what the review flag catches."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.eval import Job, Outcome

ROOT = Path(__file__).resolve().parent.parent
# The last commit with the rule-based parser: its eval runs on the same OCR cache for comparison.
RULES_REF = "576d6d3"
KEY_FIELDS = ("vendor", "vendor*", "invoice_number", "date", "date-u", "total", "subtotal", "tax", "currency")
CALIBRATED = {
    "vendor": "vendor",
    "date": "date",
    "total": "total",
    "invoice_number": "invoice_number",
    "currency": "currency",
}
BINS = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 0.97), (0.97, 1.01))


def parse_table(text: str) -> dict[str, dict[str, str]]:
    """A printed markdown table back into {group: {column: cell}}."""
    rows = [ln for ln in text.splitlines() if ln.startswith("| ")]
    if not rows:
        return {}
    head = [c.strip() for c in rows[0].strip("|").split("|")]
    out = {}
    for row in rows[1:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if len(cells) == len(head) and not set(cells[0]) <= {"-"}:
            out[re.sub(r" \(\d+ errors\)$", "", cells[0])] = dict(zip(head, cells, strict=True))
    return out


def rules_table(data: Path, cache: Path, ref: str = RULES_REF) -> dict[str, dict[str, str]]:
    """The rule-based parser's eval table at `ref`, run in a temporary worktree over the same OCR cache."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "rules"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(tree), ref], check=True)
        try:
            env = dict(os.environ, PYTHONPATH=str(tree))
            old_cache = _cache_as_of_ref(cache, Path(tmp) / "cache")
            run = subprocess.run(
                [sys.executable, "-m", "bench.eval", "--data", str(data.resolve()), "--cache", str(old_cache),
                 "--no-write"],
                cwd=tree, env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)
    # The field table comes first; that old code's retrieval part after it may fail on data it never met.
    table = parse_table(run.stdout)
    if not table:
        raise RuntimeError(f"the rules' eval printed no table: {run.stderr[-500:]}")
    return table


# Page fields the OCR cache gained after the rules' commit; that code's readers refuse them.
LATER_BLOCK_FIELDS = ("cell_bboxes",)


def _cache_as_of_ref(cache: Path, out: Path) -> Path:
    """A copy of the OCR cache without the block fields added later, so older code reads the same pages."""
    out.mkdir(parents=True, exist_ok=True)
    for path in cache.glob("*.json"):
        data = json.loads(path.read_text())
        for page in data.get("pages", []):
            for block in page.get("blocks") or []:
                for name in LATER_BLOCK_FIELDS:
                    block.pop(name, None)
        (out / path.name).write_text(json.dumps(data))
    return out


def side_by_side(old: dict[str, dict[str, str]], new: dict[str, dict[str, str]]) -> str:
    """Old rules / learned scorers per group and key field."""
    fields = [f for f in KEY_FIELDS if any(f in row for row in new.values())]
    lines = ["| group | " + " | ".join(fields) + " |", "|" + "---|" * (len(fields) + 1)]
    for group, row in new.items():
        cells = []
        for f in fields:
            before = old.get(group, {}).get(f, "-").split(" ")[0]
            after = row.get(f, "-")
            cells.append(f"{before} → {after}" if after != "-" else "-")
        lines.append(f"| {group} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def judged(job: Job, scores: dict[str, bool]) -> dict[str, bool]:
    """The fields that can be judged right or wrong, keyed as in CALIBRATED.

    A WildReceipt vendor is right when it matches any one store-name box (its label joins them); a date
    whose day and month could swap is left out, as its label reads every such date one fixed way.
    """
    out = {name: scores[name] for name in CALIBRATED if name in scores and name != "date"}
    if job.dataset == "wildreceipt" and "vendor*" in scores:
        out["vendor"] = scores["vendor*"]
    if "date-u" in scores:
        out["date"] = scores["date-u"]
    return out


def calibration(jobs: list[Job], outcomes: list[Outcome]) -> str:
    """Per confidence bin, how many fields were right; and what needs_review catches and passes."""
    from bench.eval import compare

    per_bin: dict[tuple[float, float], list[bool]] = {b: [] for b in BINS}
    wrong_flagged = wrong = right_passed = right = swappable = 0
    for job, outcome in zip(jobs, outcomes, strict=True):
        if outcome.error or job.group != job.dataset or job.dataset == "zugferd":
            continue  # e-invoices are read exactly from their XML; their confidence is 1 by construction
        scores = compare(job, outcome)
        swappable += "date" in scores and "date-u" not in scores
        fields = judged(job, scores)
        for name, ok in fields.items():
            key = CALIBRATED[name]
            if key not in outcome.confidence:
                continue
            p = outcome.confidence[key]
            for lo, hi in BINS:
                if lo <= p < hi:
                    per_bin[(lo, hi)].append(ok)
        key_scores = [fields[f] for f in ("vendor", "date", "total") if f in fields]
        if not key_scores:
            continue
        if all(key_scores):
            right += 1
            right_passed += not outcome.needs_review
        else:
            wrong += 1
            wrong_flagged += outcome.needs_review
    lines = ["| confidence | fields | right |", "|---|---|---|"]
    for (lo, hi), hits in per_bin.items():
        if hits:
            share = f"{100 * sum(hits) / len(hits):.0f}%"
            lines.append(f"| {lo:.2f}–{min(hi, 1.0):.2f} | {len(hits)} | {share} |")
    catch = f"{100 * wrong_flagged / wrong:.0f}%" if wrong else "-"
    passes = f"{100 * right_passed / right:.0f}%" if right else "-"
    lines += [
        "",
        f"needs_review flags {catch} of the {wrong} documents with a wrong vendor, date or total (target >= 90%), "
        f"and passes {passes} of the {right} fully right ones (target >= 60%). Fields are judged as the accuracy "
        "targets judge them: WildReceipt vendors are right when they match any store-name box, and the "
        f"{swappable} dates whose day and month could swap are left out (their labels read every such date one "
        "fixed way). E-invoices read from their XML are left out (exact by construction).",
    ]
    return "\n".join(lines)


def cross_validated(models: Path) -> dict[str, dict[str, Any]]:
    """The scorers' out-of-fold accuracy per field and dataset, from the training report."""
    report = json.loads((models / "report.json").read_text())
    return {name: scores["cross_validated"] for name, scores in report["fields"].items()}


def train_vs_dev(train_rows: dict[str, dict[str, str]], dev_rows: dict[str, dict[str, str]], models: Path) -> str:
    """Per group and key field: the pipeline on train (fitted on), the scorer cross-validated by vendor, and dev."""
    cv = cross_validated(models)
    field_of = {"vendor": "vendor", "date": "invoice_date", "total": "total", "invoice_number": "invoice_number"}
    lines = ["| group | field | train (fitted on) | train, cross-validated by vendor | dev |", "|---|---|---|---|---|"]
    for group in dev_rows:
        dataset = "zugferd" if group == "zugferd-textlayer" else group
        for name, model_field in field_of.items():
            dev = dev_rows[group].get(name, "-")
            if dev == "-" or group in ("zugferd", "invoice2data", "invoice2data-png"):
                continue
            train = train_rows.get(group, {}).get(name, "-")
            fold = cv.get(model_field, {}).get(dataset)
            fold_cell = f"{100 * fold['accuracy']:.0f}% ({fold['docs']})" if fold else "-"
            lines.append(f"| {group} | {name} | {train} | {fold_cell} | {dev} |")
    return "\n".join(lines)
