"""How much surer a total is when the subtotal's and the tax's own best values add up to it (out of fold).

Three scorers that each chose their value without the others and still agree on subtotal + tax = total are
evidence the total's own calibration cannot see. Its worth is measured on the out-of-fold outcomes: the
coefficient of agreement in a logistic regression of "the total is right" on the total's log-odds and
whether its parts agree. The runtime adds it to the log-odds of a total whose parts agree
(`scoring.FieldModel.agreed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from extraction.parser.consistency import parts_add_up
from extraction.parser.scoring import log_odds
from training.examples import ABSENT

if TYPE_CHECKING:
    from training.fit import DocOutcome

Scored = list[tuple["DocOutcome", float]]


@dataclass(frozen=True)
class TotalAgreement:
    """One document's total (its out-of-fold outcome and probability) and whether its parts add up to it."""

    outcome: DocOutcome
    probability: float
    agrees: bool


def _key(outcome: DocOutcome) -> tuple[str, str]:
    return outcome.dataset.removesuffix(ABSENT), outcome.doc_id


def agreements(total: Scored, subtotal: Scored, tax: Scored, floor: float) -> list[TotalAgreement]:
    """The totals of the documents whose subtotal and tax were scored too, and whether their parts agree.

    A part agrees only where it would be reported (its probability at least `floor`).
    """
    subtotals, taxes = ({_key(o): _reported(o, q, floor) for o, q in scored} for scored in (subtotal, tax))
    out = []
    for outcome, p in total:
        key = _key(outcome)
        if outcome.value is None or key not in subtotals or key not in taxes:
            continue
        sub, vat = subtotals[key], taxes[key]
        agrees = sub is not None and vat is not None and parts_add_up(sub, vat, outcome.value)
        out.append(TotalAgreement(outcome, p, agrees))
    return out


def _reported(outcome: DocOutcome, probability: float, floor: float) -> Decimal | None:
    """A part's best value where it would be reported, else None."""
    return outcome.value if outcome.value is not None and probability >= floor else None


def fit_gain(rows: list[TotalAgreement]) -> float:
    """The log-odds that agreeing parts add to a total's probability (0 where the rows cannot tell)."""
    from sklearn.linear_model import LogisticRegression

    from training.fit import SEED

    y = np.array([int(r.outcome.right) for r in rows])
    agree = np.array([float(r.agrees) for r in rows])
    if len(set(y)) < 2 or len(set(agree)) < 2:
        return 0.0
    x = np.column_stack([[log_odds(r.probability) for r in rows], agree])
    model = LogisticRegression(C=1.0, random_state=SEED).fit(x, y)
    return max(0.0, float(model.coef_[0][1]))


def summary(rows: list[TotalAgreement], gain: float) -> dict[str, Any]:
    """The gain and, per group, the documents and the share of them whose total is right."""
    agreeing = [r.outcome.right for r in rows if r.agrees]
    others = [r.outcome.right for r in rows if not r.agrees]
    return {
        "gain": gain,
        "documents": len(rows),
        "agreeing": {"docs": len(agreeing), "right": round(sum(agreeing) / len(agreeing), 4) if agreeing else None},
        "others": {"docs": len(others), "right": round(sum(others) / len(others), 4) if others else None},
    }
