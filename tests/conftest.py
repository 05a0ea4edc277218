"""Root fixtures: every test starts from the defaults, never from a developer's `.env` or INVOICE_OCR_* variables."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.builders.settings import ENV_PREFIX, make_settings
from utils.settings import Settings


def pytest_configure(config: pytest.Config) -> None:
    """Drop the caller's INVOICE_OCR_* variables before any test module builds settings or a subprocess."""
    for name in [name for name in os.environ if name.startswith(ENV_PREFIX)]:
        del os.environ[name]


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    """Build Settings for this test: its own data dir under tmp_path unless one is given."""

    def build(**overrides: object) -> Settings:
        data_dir = overrides.pop("data_dir", tmp_path / "data")
        return make_settings(data_dir, **overrides)  # type: ignore[arg-type]

    return build
