"""Extraction throughput: born-digital pages/s end to end, and scanned A4 latency per raster engine."""

from __future__ import annotations

import argparse
import statistics
import time

from bench.report import replace_section, stamp
from extraction.options import ExtractOptions
from extraction.pipeline import extract
from tests.builders import invoice_spec, make_invoice_pdf, render_png
from utils.settings import Settings


def born_digital(count: int, settings: Settings) -> dict[str, float]:
    """Pages per second through extract() for generated one-page and three-page PDFs."""
    languages = ["en", "de", "fr", "nl", "es"]
    docs = [
        make_invoice_pdf(
            invoice_spec(number=f"B-{i}", language=languages[i % 5]),
            pages=1 + 2 * (i % 2),
            totals_on_page=1 + 2 * (i % 2),
        )
        for i in range(count)
    ]
    extract(docs[0], "warm.pdf", settings=settings)
    pages = 0
    start = time.perf_counter()
    for i, data in enumerate(docs):
        pages += extract(data, f"b{i}.pdf", settings=settings).document.page_count
    seconds = time.perf_counter() - start
    return {"documents": count, "pages": pages, "seconds": seconds, "pages_per_s": pages / seconds}


def scanned(engine: str, count: int, dpi: int, settings: Settings) -> dict[str, float]:
    """Median and p90 seconds per scanned A4 page (rendered at `dpi`) for one raster engine."""
    images = [render_png(make_invoice_pdf(invoice_spec(number=f"S-{i}")), dpi=dpi) for i in range(count)]
    options = ExtractOptions(engine=engine)
    extract(images[0], "warm.png", options, settings)
    times = []
    for i, data in enumerate(images):
        start = time.perf_counter()
        extract(data, f"s{i}.png", options, settings)
        times.append(time.perf_counter() - start)
    times.sort()
    return {"pages": count, "median_s": statistics.median(times), "p90_s": times[int(0.9 * (len(times) - 1))]}


def main(argv: list[str] | None = None) -> None:
    """Run both measurements, print a table, keep it in docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs/benchmarks.md alone.")
    args = parser.parse_args(argv)
    settings = Settings()
    digital = born_digital(20 if args.quick else 100, settings)
    rows = [
        "| measurement | pages | result |",
        "|---|---|---|",
        f"| born-digital PDFs, `auto` (text layer), end to end | {digital['pages']} | "
        f"**{digital['pages_per_s']:.1f} pages/s** ({digital['seconds']:.2f} s) |",
    ]
    for engine in ("rapidocr", "tesseract"):
        scan = scanned(engine, 3 if args.quick else 8, 200, settings)
        rows.append(
            f"| scanned A4 at 200 dpi, `{engine}`, end to end | {scan['pages']} | "
            f"**median {scan['median_s']:.2f} s**, p90 {scan['p90_s']:.2f} s per page |"
        )
    body = f"{stamp()} One process, `INVOICE_OCR_OCR_THREADS={settings.rapidocr.threads}`.\n\n" + "\n".join(rows)
    print(body)
    if not args.no_write:
        replace_section("Extraction", body)


if __name__ == "__main__":
    main()
