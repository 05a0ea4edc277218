"""Write sample synthetic documents to look at: PDFs, PNGs (clean, scanned, photographed) and labels.jsonl.

python -m training.synth --n 20 --seed 1 --out /tmp/synth
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from training.synth import KINDS, LANGUAGES, generate
from training.synth.render import NOISE_KINDS


def main(argv: list[str] | None = None) -> int:
    """Generate --n documents into --out."""
    parser = argparse.ArgumentParser(prog="python -m training.synth", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="how many documents")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="folder to write into (created if missing)")
    parser.add_argument("--dpi", type=int, default=150)
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated: invoice,receipt")
    parser.add_argument("--languages", default=",".join(LANGUAGES), help="comma-separated: en,de,fr,nl,es,it")
    parser.add_argument("--no-png", action="store_true", help="write PDFs and labels only")
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error("--n must be >= 0")
    kinds = tuple(k for k in args.kinds.split(",") if k)
    languages = tuple(lang for lang in args.languages.split(",") if lang)
    for value, allowed, what in ((kinds, KINDS, "kind"), (languages, LANGUAGES, "language")):
        unknown = sorted(set(value) - set(allowed))
        if unknown or not value:
            parser.error(f"unknown {what} {unknown or value}; choose from {', '.join(allowed)}")
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "labels.jsonl").open("w", encoding="utf-8") as labels:
        for i, doc in enumerate(generate(args.n, args.seed, kinds, languages)):
            (args.out / f"{doc.id}.pdf").write_bytes(doc.pdf)
            row = {"id": doc.id, "file": f"{doc.id}.pdf", **doc.label}
            if not args.no_png:
                noise = NOISE_KINDS[i % len(NOISE_KINDS)]
                name = f"{doc.id}-{noise or 'clean'}.png"
                (args.out / name).write_bytes(doc.png(dpi=args.dpi, noise=noise, seed=args.seed * 100003 + i))
                row["image_file"] = name
            row["spans"] = doc.spans
            labels.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {args.n} documents to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
