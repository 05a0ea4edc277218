"""What agreeing parts are worth to a total: measured out of fold, 0 where the documents cannot tell."""

from __future__ import annotations

import random
from decimal import Decimal

from extraction.parser.scoring import agreed_probability
from training.agreement import agreements, fit_gain, summary
from training.fit import DocOutcome


def _scored(dataset: str, doc: str, value: str | None, p: float, right: bool = True) -> tuple[DocOutcome, float]:
    return DocOutcome(dataset, doc, True, right, 0.0, 0.0, Decimal(value) if value else None), p


def test_parts_agree_where_both_are_reported_and_add_up() -> None:
    totals = [_scored("synth", d, "119.00", 0.8) for d in ("a", "b", "c", "d")] + [_scored("synth", "e", "5.00", 0.9)]
    subtotals = [
        _scored("synth", "a", "100.00", 0.9),
        _scored("synth", "b", "100.00", 0.9),
        _scored("synth", "c", "100.00", 0.1),  # too doubtful to be reported
        _scored("synth:absent", "d", "100.00", 0.9),  # a document without a labelled subtotal is still scored
    ]
    taxes = [
        _scored("synth", "a", "19.00", 0.9),
        _scored("synth", "b", "18.00", 0.9),
        _scored("synth", "c", "19.00", 0.9),
        _scored("synth", "d", "19.01", 0.9),  # within rounding
    ]
    rows = agreements(totals, subtotals, taxes, floor=0.15)
    assert [(r.outcome.doc_id, r.agrees) for r in rows] == [("a", True), ("b", False), ("c", False), ("d", True)]


def test_the_gain_is_what_agreement_adds_to_the_totals_own_probability() -> None:
    rng = random.Random(5)
    totals, subtotals, taxes = [], [], []
    for i in range(400):
        p = rng.uniform(0.5, 0.99)
        agrees = i % 2 == 0
        right = True if agrees else rng.random() < p  # agreeing totals are right more often than their p says
        totals.append(_scored("synth", str(i), "119.00", p, right))
        subtotals.append(_scored("synth", str(i), "100.00", 0.9))
        taxes.append(_scored("synth", str(i), "19.00" if agrees else "7.00", 0.9))
    rows = agreements(totals, subtotals, taxes, floor=0.15)
    gain = fit_gain(rows)
    assert gain > 1.0
    assert agreed_probability(0.8, gain) > 0.9
    report = summary(rows, gain)
    assert report["agreeing"] == {"docs": 200, "right": 1.0} and report["others"]["docs"] == 200


def test_no_gain_without_both_kinds_of_documents() -> None:
    totals = [_scored("synth", str(i), "119.00", 0.8) for i in range(10)]
    parts = [_scored("synth", str(i), "100.00", 0.9) for i in range(10)]
    taxes = [_scored("synth", str(i), "19.00", 0.9) for i in range(10)]
    assert fit_gain(agreements(totals, parts, taxes, floor=0.15)) == 0.0  # every total agrees: nothing to compare
    assert fit_gain([]) == 0.0
