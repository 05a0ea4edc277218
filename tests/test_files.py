"""Files written whole or not at all (utils.files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from utils.files import replaced_atomically, write_atomic


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    write_atomic(target, b"old\n")
    with pytest.raises(RuntimeError), replaced_atomically(target) as tmp:
        tmp.write_text("half of the new")
        raise RuntimeError("the writer failed")
    assert target.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]


def test_a_finished_write_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    write_atomic(target, b"old\n")
    with replaced_atomically(target) as tmp:
        tmp.write_text("new\n")
        assert target.read_bytes() == b"old\n"  # readers see the old file until the end
    assert target.read_text() == "new\n" and [p.name for p in tmp_path.iterdir()] == ["export.csv"]
