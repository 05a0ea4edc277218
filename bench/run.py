"""`make bench`: run every benchmark that can run on this machine and print their tables."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

# Each module exposes main(argv) and prints a table; results are kept in docs/benchmarks.md.
BENCHMARKS = [
    ("extraction", "bench.extraction"),
    ("hints", "bench.hints"),
    ("retrieval", "bench.retrieval"),
    ("api", "bench.api_load"),
    ("abuse", "bench.abuse"),
    ("gpu", "bench.gpu_deepseek"),
]


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks one after another, each in its own process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=[name for name, _ in BENCHMARKS], help="Benchmarks to run.")
    parser.add_argument("--quick", action="store_true", help="Smaller sizes, for a smoke run.")
    args = parser.parse_args(argv)
    failed = []
    for name, module in BENCHMARKS:
        if args.only and name not in args.only:
            continue
        try:
            importlib.util.find_spec(module)
        except ModuleNotFoundError:
            continue
        print(f"\n=== {name} ({module}) ===", flush=True)
        cmd = [sys.executable, "-m", module] + (["--quick"] if args.quick else [])
        if subprocess.run(cmd, check=False).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
