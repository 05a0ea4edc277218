"""Debian's Chromium for the page tests: where it is and how it is started."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def ensure_chromium() -> Path:
    """Debian's Chromium, installed by the project's system-deps script when missing."""
    if not CHROMIUM.exists():
        subprocess.run([str(ROOT / "scripts" / "install-system-deps.sh")], check=True, timeout=900)
    assert CHROMIUM.exists(), "Chromium is missing and scripts/install-system-deps.sh could not install it"
    return CHROMIUM
