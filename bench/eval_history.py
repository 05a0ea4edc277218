"""Learning from corrections: a replay of each vendor's documents through a fresh history, with and without hints.

Per dataset, every vendor with two or more labelled documents has its documents ingested in date order;
after each one, its labels are applied as a reviewer's corrections and the invoice is approved. Each
later ("repeat") document is read twice from the same pages: with what the history knows (vendor
recognition, learned hints) and without it. Printed: accuracy on repeat documents both ways, how many
corrections each vendor took until it was read right, and vendors the history wrongly joined.

    python -m bench.eval_history --data ../shared/data/dev --data ../shared/data/train [--vendors 5]

Pages come from the OCR cache (`training.corpus.labelled_docs(..., cached_only=True)`); documents not in
the cache are skipped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from collections import defaultdict
from contextlib import suppress
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from training.corpus import DEFAULT_CACHE, LabelledDoc, labelled_docs
from training.targets import squeeze

FIELDS = ("vendor", "date", "total", "invoice_number")


def _label_value(label: dict[str, Any], name: str) -> Any:
    return label.get({"vendor": "vendor", "date": "date"}.get(name, name))


def scores(label: dict[str, Any], invoice: Any) -> dict[str, bool]:
    """Per key field the label has: whether the invoice read it right."""
    out: dict[str, bool] = {}
    if label.get("vendor"):
        out["vendor"] = bool(invoice.vendor.name) and squeeze(label["vendor"]) == squeeze(invoice.vendor.name)
    if label.get("date"):
        out["date"] = invoice.invoice_date is not None and invoice.invoice_date.isoformat() == label["date"]
    if label.get("total") is not None:
        out["total"] = invoice.total is not None and abs(float(invoice.total) - float(label["total"])) < 0.005
    if label.get("invoice_number"):
        want = "".join(str(label["invoice_number"]).split())
        out["invoice_number"] = want == "".join(str(invoice.invoice_number or "").split())
    return out


def corrections(label: dict[str, Any], invoice: Any) -> dict[str, Any]:
    """The changes a reviewer makes so the stored invoice says what the label says."""
    changes: dict[str, Any] = {}
    ok = scores(label, invoice)
    if ok.get("vendor") is False:
        changes["vendor.name"] = label["vendor"]
    if ok.get("date") is False:
        changes["invoice_date"] = label["date"]
    if ok.get("total") is False:
        with suppress(InvalidOperation):
            changes["total"] = str(Decimal(str(label["total"])))
    if ok.get("invoice_number") is False:
        changes["invoice_number"] = str(label["invoice_number"])
    if label.get("currency") and not str(label["currency"]).endswith("?") and invoice.currency != label["currency"]:
        changes["currency"] = label["currency"]
    return changes


def _result(doc: LabelledDoc, hints: Any, settings: Any) -> Any:
    from extraction.markdown import render
    from extraction.pipeline import bounded, hinted, parse_with_hints
    from extraction.schema import DocumentInfo, ExtractionResult
    from extraction.validate import validate
    from utils.hashing import sha256_hex

    parsed, used = parse_with_hints(doc.pages, hints)
    parsed, _ = bounded(hinted(parsed, used))
    validation = validate(parsed.invoice, parsed.fields, parsed.reasons, settings.low_confidence)
    return ExtractionResult(
        document=DocumentInfo(
            sha256=sha256_hex(f"{doc.dataset}/{doc.doc_id}".encode()),
            filename=Path(doc.doc_id).name,
            media_type="text/markdown",
            page_count=len(doc.pages),
        ),
        invoice=parsed.invoice,
        fields=parsed.fields,
        validation=validation,
        markdown=render(doc.pages),
    )


def _date_key(doc: LabelledDoc) -> tuple[str, str]:
    return (doc.label.get("date") or "9999-12-31", doc.doc_id)


def replay(docs: list[LabelledDoc], work: Path, max_vendors: int | None = None) -> dict[str, Any]:
    """Replay one dataset's repeat vendors through a fresh history; the counts for the report."""
    from retrieval.hints import snapshot
    from retrieval.service import InvoiceService
    from utils.settings import Settings

    by_vendor: dict[str, list[LabelledDoc]] = defaultdict(list)
    for doc in docs:
        if doc.label.get("vendor"):
            by_vendor[squeeze(doc.label["vendor"])].append(doc)
    vendors = sorted((v for v, ds in by_vendor.items() if len(ds) >= 2), key=lambda v: (-len(by_vendor[v]), v))
    vendors = vendors[:max_vendors] if max_vendors else vendors
    right = {way: {f: [0, 0] for f in FIELDS} for way in ("without", "with")}
    took: list[int] = []
    settings = Settings(_env_file=None, data_dir=work)  # type: ignore[call-arg]
    service = InvoiceService(settings)
    label_vendor: dict[int, str] = {}
    merged: list[str] = []
    misses: list[str] = []
    try:
        for vendor in vendors:
            fixes, read_right = 0, None
            for n, doc in enumerate(sorted(by_vendor[vendor], key=_date_key)):
                # The snapshot the server reads with (identifiers and exact names: what the product does).
                with_history = _result(doc, snapshot(service.hints), settings)
                service.recognise(with_history)  # a known vendor's canonical name, as storing would give it
                if n > 0:
                    without = _result(doc, None, settings)
                    ways = {"without": without, "with": with_history}
                    scored = {way: scores(doc.label, result.invoice) for way, result in ways.items()}
                    for way, got in scored.items():
                        for name, ok in got.items():
                            right[way][name][0] += ok
                            right[way][name][1] += 1
                    if not scored["with"].get("vendor", True):
                        read = with_history.invoice.vendor.name
                        misses.append(f"{doc.doc_id}: {doc.label['vendor']!r} read as {read!r}")
                stored = service.store_result(with_history, b"", enrich=False)
                record = service.get_invoice(stored.invoice_id)
                if record.vendor_id is not None:  # whom the history took it for, before any correction
                    label_vendor.setdefault(record.vendor_id, vendor)
                    if label_vendor[record.vendor_id] not in (vendor, "!merged"):
                        merged.append(f"{label_vendor[record.vendor_id]} + {vendor}")
                        label_vendor[record.vendor_id] = "!merged"
                if read_right is None and n > 0 and scores(doc.label, record.result.invoice).get("vendor"):
                    read_right = fixes
                changes = corrections(doc.label, record.result.invoice)
                if changes:
                    try:
                        record = service.correct_invoice(stored.invoice_id, changes, "replay")
                        fixes += 1
                    except Exception:  # an unusable label value is skipped, the replay goes on
                        pass
                service.approve_invoice(stored.invoice_id, "replay")
            took.append(read_right if read_right is not None else -1)
    finally:
        service.close()
    return {
        "vendors": len(vendors),
        "repeat_docs": sum(len(by_vendor[v]) - 1 for v in vendors),
        "right": right,
        "took": took,
        "false_merges": len(merged),
        "merged": merged,
        "misses": misses,
    }


def _pct(pair: list[int]) -> str:
    return f"{100 * pair[0] / pair[1]:.0f}% ({pair[1]})" if pair[1] else "-"


def table(rows: dict[str, dict[str, Any]]) -> str:
    """The report as a markdown table: one row per dataset and way."""
    head = ["dataset", "vendors", "repeat docs", "history", *FIELDS, "corrections until vendor right", "false merges"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for dataset, row in rows.items():
        took = [t for t in row["took"] if t >= 0]
        never = sum(1 for t in row["took"] if t < 0)
        until = f"{sum(took) / len(took):.1f} avg" if took else "-"
        until += f", {never} never" if never else ""
        for way in ("without", "with"):
            cells = [dataset, str(row["vendors"]), str(row["repeat_docs"]), way]
            cells += [_pct(row["right"][way][f]) for f in FIELDS]
            cells += [until if way == "with" else "", str(row["false_merges"]) if way == "with" else ""]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the replay over the given data folders and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", required=True, help="A data folder (repeatable).")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="OCR cache folder.")
    parser.add_argument("--datasets", help="Comma-separated datasets to replay (default all).")
    parser.add_argument("--vendors", type=int, default=None, help="At most this many vendors per dataset.")
    parser.add_argument("--misses", action="store_true", help="Also list repeat documents whose vendor was misread.")
    args = parser.parse_args(argv)
    wanted = set(args.datasets.split(",")) if args.datasets else None
    rows: dict[str, dict[str, Any]] = {}
    for data in args.data:
        docs: dict[str, list[LabelledDoc]] = defaultdict(list)
        for doc in labelled_docs(data, args.cache, wanted, cached_only=True):
            docs[doc.dataset].append(doc)
        for dataset, group in sorted(docs.items()):
            with tempfile.TemporaryDirectory() as tmp:
                rows[f"{data.name}/{dataset}"] = replay(group, Path(tmp), args.vendors)
    print(f"## Learning from corrections ({dt.date.today().isoformat()})\n")
    print(report(rows))
    if args.misses:
        for dataset, row in rows.items():
            print(f"\n### Vendor misread with history: {dataset}\n")
            print("\n".join(f"- {miss}" for miss in row["misses"]) or "- none")
    return 0


def report(rows: dict[str, dict[str, Any]]) -> str:
    """The replay's table and the vendors the history joined."""
    merged = [f"- {dataset}: one history vendor holds documents of {pair}" for dataset, row in rows.items()
              for pair in row["merged"]]  # fmt: skip
    return table(rows) + ("\n\n" + "\n".join(merged) if merged else "")


if __name__ == "__main__":
    raise SystemExit(main())
