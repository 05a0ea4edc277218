"""bench/abuse.py on a tiny budget: a real server, two hostile request classes, the table and the verdict."""

from __future__ import annotations

from bench.abuse import CASES, Row, run, table, verdict


def test_two_hostile_requests_are_refused_without_a_server_error() -> None:
    result = run(["long_url", "huge_bodies"], warm_ocr=False, seed=False)
    rows = result["rows"]
    chosen = ("case_long_url", "case_huge_bodies")
    assert [r.name for r in rows] == [name for name, fn in CASES if fn.__name__ in chosen]
    long_url, bodies = rows
    assert long_url.statuses == {"400 invalid_request": 1}
    # The unauthenticated 300 MiB PATCH is refused before its body is read; with a key it is over the JSON limit.
    assert bodies.statuses == {"401 unauthorized": 1, "413 document_too_large": 2}
    for row in rows:
        assert row.unplanned_5xx == 0 and row.planned_5xx == 0
        assert row.failures == [] and row.health_failures == 0
        assert row.max_health_s > 0 and row.seconds > 0
    assert result["server_survived"] is True
    lines = table(result).splitlines()
    assert len(lines) == 2 + len(rows) and lines[2].startswith("| URL of 300 kB | 400 invalid_request |")
    assert "unplanned 5xx" in verdict(result)


def _row(**changes: object) -> Row:
    values: dict[str, object] = dict(
        name="x", statuses={"200": 1}, max_health_s=0.1, growth_mb=1.0, tree_growth_mb=1.0, tree_kept_mb=0.0,
        unplanned_5xx=0, planned_5xx=0, health_failures=0, seconds=1.0, notes=[], failures=[],
    )  # fmt: skip
    values.update(changes)
    return Row(**values)  # type: ignore[arg-type]


def test_each_target_fails_a_row_and_planned_503s_do_not() -> None:
    assert _row().passed and _row(planned_5xx=3).passed
    for broken in (
        _row(max_health_s=2.5),
        _row(tree_growth_mb=301.0),
        _row(unplanned_5xx=1),
        _row(health_failures=1),
        _row(failures=["lost: payment_terms"]),
    ):
        assert not broken.passed
    result = {"rows": [_row(), _row(unplanned_5xx=2)], "server_survived": True, "passed": False}
    assert verdict(result).startswith("FAIL:") and "2 unplanned 5xx" in verdict(result)
