"""Retrieval evaluation on the dev set: search recall@1/@5 and MRR per mode, vendor lookup first-hit rate.

Used by `make eval` through `evaluate(pairs)` with the (label, ExtractionResult) pairs bench/eval.py produced;
standalone: `python -m bench.eval_retrieval [--data DIR] [--datasets a,b] [--limit N] [--labels-only]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from extraction.schema import DocumentInfo, ExtractionResult, Invoice, LineItem, Party
from retrieval.models import SearchQuery
from retrieval.service import InvoiceService
from retrieval.vendors import LEGAL_SUFFIXES, compact_name
from utils.hashing import sha256_hex
from utils.settings import Settings

MODES = ("hybrid", "semantic", "keyword")


def typo(name: str) -> str:
    """The name with one typing error in its longest word (deletion, swap or substitution, deterministic)."""
    words = name.split()
    if not words:
        return name
    i = max(range(len(words)), key=lambda k: len(words[k]))
    word = words[i]
    if len(word) < 4:
        return name
    pos = len(word) // 2
    kind = sum(map(ord, name)) % 3
    if kind == 0:
        word = word[:pos] + word[pos + 1 :]
    elif kind == 1:
        word = word[: pos - 1] + word[pos] + word[pos - 1] + word[pos + 1 :]
    else:
        repl = "e" if word[pos].lower() != "e" else "a"
        word = word[:pos] + (repl.upper() if word[pos].isupper() else repl) + word[pos + 1 :]
    words[i] = word
    return " ".join(words)


def drop_suffix(name: str) -> str | None:
    """The name without its trailing legal form ('Coolblue B.V.' -> 'Coolblue'), or None when it has none."""
    tokens = name.split()
    for cut in range(1, min(4, len(tokens))):
        head, tail = tokens[:-cut], tokens[-cut:]
        tail_key = tuple(t for t in re.split(r"[^a-z0-9]+", " ".join(tail).lower()) if t)
        if tail_key in LEGAL_SUFFIXES and head:
            return " ".join(head).rstrip(" ,")
    return None


def _money(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def result_from_label(label: dict[str, Any]) -> ExtractionResult:
    """An ExtractionResult holding exactly what a label says (for a store of ground truth)."""
    date = None
    try:
        date = dt.date.fromisoformat(label["date"]) if label.get("date") else None
    except ValueError:
        date = None
    currency = label.get("currency") if re.fullmatch(r"[A-Z]{3}", label.get("currency") or "") else None
    items = [
        LineItem(description=li if isinstance(li, str) else (li.get("name") or li.get("description")))
        for li in label.get("line_items") or []
    ]
    invoice = Invoice(
        vendor=Party(name=label.get("vendor")),
        invoice_number=label.get("invoice_number"),
        invoice_date=date,
        total=_money(label.get("total")),
        currency=currency,
        line_items=[li for li in items if li.description],
    )
    text = "\n".join(
        str(v)
        for v in [label.get("vendor"), label.get("invoice_number"), label.get("date"), label.get("total")]
        + [li.description for li in invoice.line_items]
        if v
    )
    sha = sha256_hex(label["path"].encode())
    return ExtractionResult(
        document=DocumentInfo(
            sha256=sha, filename=Path(label["path"]).name, media_type="application/pdf", page_count=1
        ),
        invoice=invoice,
        markdown=text,
    )


def _key(name: str | None) -> str:
    return compact_name(name or "")


def build_queries(labels: list[tuple[dict[str, Any], int]]) -> list[tuple[str, str, set[int]]]:
    """(kind, query, relevant invoice ids) from labels: vendor variants, 'total X', invoice numbers."""
    by_vendor: dict[str, set[int]] = {}
    by_total: dict[Decimal, set[int]] = {}
    by_number: dict[str, set[int]] = {}
    names: dict[str, str] = {}
    for label, invoice_id in labels:
        if label.get("vendor") and _key(label["vendor"]):
            by_vendor.setdefault(_key(label["vendor"]), set()).add(invoice_id)
            names.setdefault(_key(label["vendor"]), " ".join(label["vendor"].split()))
        if _money(label.get("total")) is not None:
            by_total.setdefault(_money(label["total"]), set()).add(invoice_id)
        if label.get("invoice_number"):
            by_number.setdefault(label["invoice_number"].strip(), set()).add(invoice_id)
    queries: list[tuple[str, str, set[int]]] = []
    for key, name in names.items():
        relevant = by_vendor[key]
        queries.append(("vendor, lower case", name.lower(), relevant))
        queries.append(("vendor, one typo", typo(name), relevant))
        short = drop_suffix(name)
        if short:
            queries.append(("vendor, no legal suffix", short, relevant))
    for total, ids in by_total.items():
        queries.append(("total", f"total {total}", ids))
    for number, ids in by_number.items():
        queries.append(("invoice number", number, ids))
    return queries


def _score(ranked: list[int], relevant: set[int]) -> tuple[float, float, float]:
    for rank, invoice_id in enumerate(ranked, start=1):
        if invoice_id in relevant:
            return float(rank == 1), float(rank <= 5), 1.0 / rank
    return 0.0, 0.0, 0.0


def evaluate(pairs: list[tuple[dict[str, Any], ExtractionResult]], settings: Settings | None = None) -> str:
    """Store the results in a temporary history, run label-built queries, return a markdown report."""
    with tempfile.TemporaryDirectory() as tmp:
        service = InvoiceService(settings or Settings(data_dir=Path(tmp) / "data"))
        try:
            stored = service.store_many([(result, b"") for _, result in pairs], enrich=False)
            labels = [(label, r.invoice_id) for (label, _), r in zip(pairs, stored, strict=True)]
            return _report(service, labels, len(pairs))
        finally:
            service.close()


def _report(service: InvoiceService, labels: list[tuple[dict[str, Any], int]], n_docs: int) -> str:
    queries = build_queries(labels)
    kinds = sorted({k for k, _, _ in queries})
    lines = [
        f"{n_docs} documents stored, {len(queries)} queries built from the labels; a hit is any invoice the "
        "labels give for that vendor, total or number.",
        "",
        "| mode | query kind | queries | recall@1 | recall@5 | MRR |",
        "|---|---|---|---|---|---|",
    ]
    for mode in MODES:
        totals = [0.0, 0.0, 0.0]
        for kind in [*kinds, "all"]:
            chosen = [q for q in queries if kind in ("all", q[0])]
            sums = [0.0, 0.0, 0.0]
            for _, text, relevant in chosen:
                ranked = [h.invoice_id for h in service.search(SearchQuery(q=text, mode=mode, limit=5))]
                sums = [a + b for a, b in zip(sums, _score(ranked, relevant), strict=True)]
            n = max(1, len(chosen))
            if kind == "all":
                totals = sums
            name = f"**{mode}**" if kind == "all" else mode
            lines.append(
                f"| {name} | {kind} | {len(chosen)} | {sums[0] / n:.3f} | {sums[1] / n:.3f} | {sums[2] / n:.3f} |"
            )
        del totals
    # Vendor lookup: one typo, or the legal suffix dropped; the first vendor must be the one its invoices have.
    vendor_of = {invoice_id: vid for invoice_id, vid in service.store.fetch("SELECT id, vendor_id FROM invoices")}
    checks = {"one typo": [0, 0], "no legal suffix": [0, 0]}
    misses = []
    seen: set[str] = set()
    for label, invoice_id in labels:
        name = " ".join((label.get("vendor") or "").split())
        if not _key(name) or _key(name) in seen or vendor_of.get(invoice_id) is None:
            continue
        seen.add(_key(name))
        variants = {"one typo": typo(name), "no legal suffix": drop_suffix(name)}
        for kind, query in variants.items():
            if not query:
                continue
            found = service.lookup_vendors(query, 3)
            ok = bool(found) and found[0].id == vendor_of[invoice_id]
            checks[kind][0] += ok
            checks[kind][1] += 1
            if not ok:
                stored = service.get_vendor(vendor_of[invoice_id]).name
                misses.append(
                    f"{query!r} -> {found[0].name if found else None!r} (wanted {name!r}, stored as {stored!r})"
                )
    hit = sum(c[0] for c in checks.values())
    total = sum(c[1] for c in checks.values())
    lines += ["", "| vendor lookup | queries | first hit |", "|---|---|---|"]
    for kind, (good, n) in checks.items():
        lines.append(f"| {kind} | {n} | {good / max(1, n):.3f} |")
    lines.append(f"| **all** (target >= 0.95) | {total} | {hit / max(1, total):.3f} |")
    if misses:
        lines += [
            "",
            "Lookup misses (query -> first vendor found; the label's name; the vendor its invoice was stored "
            "under, as extraction read it): " + "; ".join(misses[:15]),
        ]
    return "\n".join(lines) + "\n"


def _labels(data: Path, datasets: set[str] | None, limit: int | None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (data / "labels.jsonl").read_text().splitlines() if line.strip()]
    rows = [r for r in rows if not datasets or r["dataset"] in datasets]
    return rows[:limit] if limit else rows


def main(argv: list[str] | None = None) -> int:
    """Standalone: extract the dev set with the real pipeline (or take the labels), store, score, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/dev"))
    parser.add_argument("--datasets", default=None, help="Comma-separated dataset names (default all).")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--labels-only", action="store_true", help="Store the labels themselves, no extraction.")
    args = parser.parse_args(argv)
    labels = _labels(args.data, set(args.datasets.split(",")) if args.datasets else None, args.limit)
    pairs = []
    if args.labels_only:
        pairs = [(label, result_from_label(label)) for label in labels]
    else:
        from extraction.pipeline import extract
        from utils.errors import InvoiceOcrError

        for label in labels:
            path = args.data / label["path"]
            try:
                pairs.append((label, extract(path.read_bytes(), path.name)))
            except (InvoiceOcrError, OSError) as exc:
                print(f"skipped {label['path']}: {exc}", file=sys.stderr)
    print(evaluate(pairs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
