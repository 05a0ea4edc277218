"""The repository is the one home of SQL: no other retrieval module writes a statement or runs one."""

import re
from pathlib import Path

import retrieval

ROOT = Path(retrieval.__file__).parent
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|CHECKPOINT)\b")
RUNS = re.compile(
    r"\.(execute|executemany|fetchall|fetchone|fetchnumpy|fetchmany)\("  # a cursor running a statement
    r"|\bstore\.(fetch|scalar)\("  # the store's query helpers
)


def _outside_repository() -> list[Path]:
    return [p for p in sorted(ROOT.rglob("*.py")) if "repository" not in p.relative_to(ROOT).parts]


def test_no_sql_outside_the_repository() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in _outside_repository()
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if SQL.search(line) or RUNS.search(line)
    ]
    assert not found, "SQL belongs in retrieval/repository:\n" + "\n".join(found)


def test_the_guard_sees_sql() -> None:
    assert SQL.search('cur.execute("SELECT id FROM invoices")') and RUNS.search('cur.execute("x")')
    assert RUNS.search('store.fetch("x")') and not RUNS.search("store.fetch_all_from_cache()")
