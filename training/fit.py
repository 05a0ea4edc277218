"""Fitting one field scorer: gradient-boosted trees on candidate features, grouped cross-validation,
calibration of the best value's probability on out-of-fold scores, and export to the runtime's JSON form."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from extraction.parser.scoring import LEAD_CAP, value_key
from training.examples import ABSENT, SPACE

if TYPE_CHECKING:
    from training.examples import DocExamples

SEED = 20261206
PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 10,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "use_missing": False,
    "deterministic": True,
    "force_col_wise": True,
    "num_threads": 1,
    "verbose": -1,
}
ROUNDS = 250
FOLDS = 5


def feature_names(docs: list[DocExamples]) -> list[str]:
    """Every feature any candidate of these documents has (nonzero somewhere), sorted."""
    width = max((d.x.shape[1] for d in docs), default=0)
    used = np.zeros(width, dtype=bool)
    for doc in docs:
        if doc.x.size:
            used[: doc.x.shape[1]] |= (doc.x != 0).any(axis=0)
    return sorted(SPACE.names[j] for j in np.flatnonzero(used))


def matrix(docs: list[DocExamples], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Features (absent ones 0) in the order of `names`, and targets, of every candidate of these documents."""
    cols = np.array([SPACE.index[n] for n in names], dtype=np.int64)
    rows = sum(len(d.targets) for d in docs)
    x = np.zeros((rows, len(names)), dtype=np.float64)
    y = np.zeros(rows, dtype=np.float64)
    r = 0
    for doc in docs:
        n = len(doc.targets)
        if n:
            known = cols < doc.x.shape[1]
            x[r : r + n, known] = doc.x[:, cols[known]]
            y[r : r + n] = doc.targets
        r += n
    return x, y


def train_booster(docs: list[DocExamples], names: list[str], seed: int = SEED) -> Any:
    """A LightGBM booster fitted on these documents' candidates."""
    import lightgbm as lgb

    x, y = matrix(docs, names)
    params = dict(PARAMS, seed=seed, bagging_seed=seed, feature_fraction_seed=seed, data_random_seed=seed)
    data = lgb.Dataset(x, y, feature_name=[_safe(n) for n in names], free_raw_data=False)
    return lgb.train(params, data, num_boost_round=ROUNDS)


def _safe(name: str) -> str:
    return name.replace("-", "_")


@dataclass
class DocOutcome:
    """The best value of one document by a scorer, and whether it is right."""

    dataset: str
    doc_id: str
    answerable: bool
    right: bool
    best: float
    lead: float
    value: Any


def outcomes(docs: list[DocExamples], scores: list[np.ndarray]) -> list[DocOutcome]:
    """Per document: best value (one per distinct value), its score and lead, and whether it is right."""
    out: list[DocOutcome] = []
    for doc, raw in zip(docs, scores, strict=True):
        if not doc.targets:
            out.append(DocOutcome(doc.dataset, doc.doc_id, False, False, -LEAD_CAP, 0.0, None))
            continue
        per_value: dict[Any, tuple[float, int]] = {}
        for i, (value, score) in enumerate(zip(doc.values, raw, strict=True)):
            key = value_key(value)
            if key not in per_value or score > per_value[key][0]:
                per_value[key] = (float(score), i)
        ordered = sorted(per_value.values(), key=lambda si: -si[0])
        best, i = ordered[0]
        lead = best - ordered[1][0] if len(ordered) > 1 else LEAD_CAP
        out.append(DocOutcome(doc.dataset, doc.doc_id, doc.answerable, bool(doc.targets[i]), best, lead, doc.values[i]))
    return out


def fold_of(docs: list[DocExamples], folds: int = FOLDS) -> list[int]:
    """A fold per document, whole groups (one vendor's documents) in one fold, spread by a fixed hash."""
    import zlib

    groups = sorted({d.group for d in docs}, key=lambda g: zlib.crc32(g.encode()))
    fold = {g: i % folds for i, g in enumerate(groups)}
    return [fold[d.group] for d in docs]


def out_of_fold(docs: list[DocExamples], names: list[str], folds: int = FOLDS) -> list[np.ndarray]:
    """Each document's candidate scores from a model that never saw its group."""
    assignment = fold_of(docs, folds)
    scores: list[np.ndarray] = [np.zeros(0)] * len(docs)
    for k in range(folds):
        train = [d for d, f in zip(docs, assignment, strict=True) if f != k]
        test = [i for i, f in enumerate(assignment) if f == k]
        if not test or not train or not any(any(d.targets) for d in train):
            continue
        booster = train_booster(train, names)
        for i in test:
            x, _ = matrix([docs[i]], names)
            scores[i] = booster.predict(x, raw_score=True) if len(x) else np.zeros(0)
    return scores


def fit_calibration(results: list[DocOutcome]) -> tuple[float, float, float]:
    """Logistic regression of 'the best value is right' on its score and lead (out-of-fold)."""
    from sklearn.linear_model import LogisticRegression

    rows = [r for r in results if r.value is not None]
    if len({r.right for r in rows}) < 2:
        return (0.0, 0.0, 4.0 if rows and rows[0].right else -4.0)
    x = np.array([[r.best, min(r.lead, LEAD_CAP)] for r in rows])
    y = np.array([int(r.right) for r in rows])
    model = LogisticRegression(C=1.0, random_state=SEED).fit(x, y)
    return (float(model.coef_[0][0]), float(model.coef_[0][1]), float(model.intercept_[0]))


def export_trees(booster: Any) -> dict[str, Any]:
    """The booster's trees as flat arrays for `extraction.parser.scoring.Trees`."""
    dump = booster.dump_model()
    feature: list[int] = []
    threshold: list[float] = []
    left: list[int] = []
    right: list[int] = []
    value: list[float] = []
    roots: list[int] = []
    depth = 0

    def add(node: dict[str, Any], level: int) -> int:
        nonlocal depth
        index = len(feature)
        feature.append(0)
        threshold.append(math.inf)
        left.append(index)
        right.append(index)
        value.append(0.0)
        if "leaf_value" in node:
            value[index] = float(node["leaf_value"])
            depth = max(depth, level)
            return index
        if node.get("decision_type", "<=") != "<=":
            raise ValueError(f"unsupported split {node.get('decision_type')}")
        feature[index] = int(node["split_feature"])
        threshold[index] = float(node["threshold"])
        left[index] = add(node["left_child"], level + 1)
        right[index] = add(node["right_child"], level + 1)
        return index

    for tree in dump["tree_info"]:
        roots.append(add(tree["tree_structure"], 0))
    # JSON has no infinity: a leaf's threshold is never compared against, any number serves.
    threshold = [t if math.isfinite(t) else 1e308 for t in threshold]
    return {
        "feature": feature,
        "threshold": threshold,
        "left": left,
        "right": right,
        "value": value,
        "roots": roots,
        "depth": depth,
    }


def accuracy_by_dataset(results: list[DocOutcome]) -> dict[str, dict[str, float]]:
    """Per dataset: documents, top-1 accuracy, and the share where a right candidate existed."""
    groups: dict[str, list[DocOutcome]] = defaultdict(list)
    for r in results:
        groups[r.dataset].append(r)
    out = {}
    for name, rows in sorted(groups.items()):
        if name.endswith(ABSENT):
            continue  # no value to get right: scored by how often the field stays unreported
        out[name] = {
            "docs": len(rows),
            "accuracy": round(sum(r.right for r in rows) / len(rows), 4),
            "answerable": round(sum(r.answerable for r in rows) / len(rows), 4),
        }
    return out
