"""The one way tests build Settings: explicit values only, never a developer's `.env` or environment."""

from __future__ import annotations

import os
from pathlib import Path

from utils.settings import Settings

ENV_PREFIX = "INVOICE_OCR_"


def make_settings(data_dir: Path | None = None, **overrides: object) -> Settings:
    """Settings from the defaults and these overrides only (no `.env`, no INVOICE_OCR_* variables)."""
    values: dict[str, object] = {"api_keys": [], "engine": "auto"}
    if data_dir is not None:
        values["data_dir"] = data_dir
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def clean_environ(**settings: str) -> dict[str, str]:
    """This process's environment without INVOICE_OCR_* variables, plus these settings (for subprocesses)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(ENV_PREFIX)}
    env.update({ENV_PREFIX + name.upper(): value for name, value in settings.items()})
    return env
