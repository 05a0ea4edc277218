"""What the history costs extraction: parsing with a vendor's hints vs. without, and vendor lookup latency.

A fresh history learns `--vendors` vendors from two reviewed invoices each (generated born-digital PDFs,
read and stored as the product stores them, then approved). Each vendor's third invoice, and as many
invoices of vendors the history has never seen, are then parsed from pages read once:
- without hints (what extraction costs with no history);
- with the snapshot the server passes to every reading (plain data, rebuilt only for vendors whose
  reviews changed), and what building it costs;
- with the live history lookup (`InvoiceService.hints`, which also matches names fuzzily; the replay uses it).
Printed per document as medians; the issue's target is at most 5 ms more with hints.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.report import percentile, replace_section, stamp
from extraction.documents import load_document
from extraction.markdown import PageMarkdown
from extraction.options import ExtractOptions
from extraction.pipeline import extract, parse_with_hints, read_pages
from retrieval.hints import snapshot
from retrieval.service import InvoiceService
from tests.builders import invoice_spec, make_invoice_pdf, make_settings
from utils.settings import Settings

LANGUAGES = ("en", "de", "fr", "nl", "es")


def _pdf(vendor: int, number: int) -> bytes:
    spec = invoice_spec(
        vendor=f"Vendor {vendor:03d} Trading GmbH",
        number=f"V{vendor:03d}-{number:04d}",
        iban=f"DE{vendor:02d}37040044053201{vendor:04d}"[:22],
        language=LANGUAGES[vendor % len(LANGUAGES)],
    )
    return make_invoice_pdf(spec)


def _pages(data: bytes, settings: Settings) -> list[PageMarkdown]:
    document = load_document(data, "bench.pdf", settings)
    try:
        return read_pages(document, ExtractOptions(engine="textlayer"), settings, {})
    finally:
        document.close()


def _learn(service: InvoiceService, vendors: int, settings: Settings) -> None:
    """Store and approve two invoices of each vendor, so the history holds their identifiers and habits."""
    for vendor in range(vendors):
        for number in (1, 2):
            data = _pdf(vendor, number)
            stored = service.store_result(extract(data, f"v{vendor}-{number}.pdf", settings=settings), data)
            service.approve_invoice(stored.invoice_id, "bench")


def _per_doc_ms(pages: list[list[PageMarkdown]], variants: list[object], rounds: int) -> list[list[float]]:
    """Per variant (a hints value or lookup, or None), the median milliseconds of parse_with_hints per document.

    The variants take turns on each document in each round, so caches and machine noise fall on all alike.
    """
    times = [[[] for _ in pages] for _ in variants]  # type: list[list[list[float]]]
    for _ in range(rounds):
        for i, doc in enumerate(pages):
            for v, hints in enumerate(variants):
                start = time.perf_counter()
                parse_with_hints(doc, hints)  # type: ignore[arg-type]
                times[v][i].append((time.perf_counter() - start) * 1000)
    return [[statistics.median(t) for t in per_doc] for per_doc in times]


def _timed_ms(call: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _extra(without: list[float], with_hints: list[float]) -> float:
    """Median per-document difference, paired by document."""
    return statistics.median(b - a for a, b in zip(without, with_hints, strict=True))


def measure(vendors: int, rounds: int) -> dict[str, float]:
    """Build the history, then time parsing with and without hints and the vendor lookup."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp) / "data", engine="textlayer")
        service = InvoiceService(settings)
        try:
            _learn(service, vendors, settings)
            known = [_pages(_pdf(v, 3), settings) for v in range(vendors)]
            unknown = [_pages(_pdf(1000 + v, 1), settings) for v in range(vendors)]
            start = time.perf_counter()
            snap = snapshot(service.hints)  # the first build after a write; later calls reuse it
            snap_cold = (time.perf_counter() - start) * 1000
            parse_with_hints(known[0], service.hints)  # warm caches and models
            plain, live, snapped = _per_doc_ms(known, [None, service.hints, snap], rounds)
            unknown_plain, unknown_live, unknown_snapped = _per_doc_ms(unknown, [None, service.hints, snap], rounds)
            recognised = sum(parse_with_hints(doc, snap)[1] is not None for doc in known)
            names = [f"Vendor {v:03d} Trading GmbH" for v in range(vendors)]
            lookups = [ms for name in names for ms in _timed_ms(lambda n=name: service.lookup_vendors(n), 3)]
        finally:
            service.close()
    med = statistics.median
    return {
        "vendors": vendors,
        "recognised": recognised,
        "plain_ms": med(plain),
        "live_extra_ms": _extra(plain, live),
        "snapshot_extra_ms": _extra(plain, snapped),
        "unknown_extra_ms": _extra(unknown_plain, unknown_live),
        "unknown_snapshot_extra_ms": _extra(unknown_plain, unknown_snapped),
        "snapshot_build_ms": snap_cold,
        "lookup_ms": med(lookups),
        "lookup_p90_ms": percentile(lookups, 90),
    }


def main(argv: list[str] | None = None) -> None:
    """Measure, print a table, keep it in docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--vendors", type=int, default=None, help="Vendors in the history (default 60, quick 15).")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs/benchmarks.md alone.")
    args = parser.parse_args(argv)
    vendors = args.vendors or (15 if args.quick else 60)
    r = measure(vendors, rounds=3 if args.quick else 7)
    rows = [
        "| measurement | result |",
        "|---|---|",
        f"| parse without hints, per document (median) | {r['plain_ms']:.1f} ms |",
        f"| extra with hints, known vendor (the server's snapshot) | **{r['snapshot_extra_ms']:+.1f} ms** |",
        f"| extra for a vendor the history has never seen (the server's snapshot) | "
        f"**{r['unknown_snapshot_extra_ms']:+.1f} ms** |",
        f"| extra with the live history lookup, known / unknown vendor | {r['live_extra_ms']:+.1f} / "
        f"{r['unknown_extra_ms']:+.1f} ms |",
        f"| building the snapshot after a write ({r['vendors']} vendors; reused until the next write) | "
        f"{r['snapshot_build_ms']:.1f} ms |",
        f"| vendor lookup by name (`GET /vendors?name=`), median / p90 | {r['lookup_ms']:.1f} / "
        f"{r['lookup_p90_ms']:.1f} ms |",
    ]
    body = (
        f"{stamp()} {r['vendors']} vendors learned from two approved invoices each; their third invoices "
        f"(recognised by the history: {r['recognised']} of {r['vendors']}) and {r['vendors']} invoices of unknown "
        "vendors, parsed from pages read once. Target: at most 5 ms more per document with hints.\n\n" + "\n".join(rows)
    )
    print(body)
    if not args.no_write:
        replace_section("Learning from corrections: cost of hints", body)


if __name__ == "__main__":
    main()
