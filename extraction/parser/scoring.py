"""The learned field scorers: gradient-boosted trees read from JSON model files, evaluated by onnxruntime.

`make train` fits one model per field on the training set and writes it under
`extraction/parser/models/` (see `training/`). A model scores candidates (a raw score per candidate,
higher is better); its calibration turns the best value's score and its lead over the runner-up into
the probability that the value is right, which becomes the field's confidence.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from extraction.parser.tree_session import compile_trees, ensemble_model

if TYPE_CHECKING:
    from collections.abc import Callable

    from extraction.parser.candidates import Candidate

MODELS = Path(__file__).resolve().parent / "models"


@dataclass(frozen=True)
class Trees:
    """A tree ensemble as flat node arrays; a leaf loops onto itself with value `value[node]`."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    roots: np.ndarray

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trees:
        """Trees from their JSON form."""
        return cls(
            np.asarray(data["feature"], dtype=np.int64),
            np.asarray(data["threshold"], dtype=np.float64),
            np.asarray(data["left"], dtype=np.int64),
            np.asarray(data["right"], dtype=np.int64),
            np.asarray(data["value"], dtype=np.float64),
            np.asarray(data["roots"], dtype=np.int64),
        )

    @cached_property
    def _evaluate(self) -> Callable[[np.ndarray], np.ndarray]:
        return compile_trees(
            *ensemble_model(self.feature, self.threshold, self.left, self.right, self.value, self.roots)
        )

    def raw(self, x: np.ndarray) -> np.ndarray:
        """The summed leaf values (log-odds) for each row of `x`."""
        if x.shape[0] == 0:
            return np.zeros(0)
        return self._evaluate(x)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_evaluate", None)  # an onnxruntime session does not pickle; it is rebuilt on first use
        return state


@dataclass(frozen=True)
class FieldModel:
    """One field's scorer: feature names, trees and calibration."""

    field: str
    features: tuple[str, ...]
    trees: Trees
    calibration: tuple[float, float, float]  # a * best + b * lead + c, through a sigmoid
    min_probability: float
    agreement_gain: float = 0.0  # log-odds a total gains when its parts add up to it (training.agreement)

    @classmethod
    def load(cls, path: Path) -> FieldModel:
        """A model from its JSON file."""
        data = json.loads(path.read_text())
        return cls(
            data["field"],
            tuple(data["features"]),
            Trees.from_dict(data["trees"]),
            tuple(data["calibration"]),
            float(data.get("min_probability", 0.0)),
            float(data.get("agreement_gain", 0.0)),
        )

    @cached_property
    def _columns(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.features)}

    @cached_property
    def _destinations(self) -> dict[tuple[str, ...], np.ndarray]:
        return {}

    def _destination(self, names: tuple[str, ...]) -> np.ndarray:
        """The column of each of these feature names; names this model does not read go to a spare last column."""
        found = self._destinations.get(names)
        if found is None:
            spare = len(self.features)
            found = np.asarray([self._columns.get(n, spare) for n in names], dtype=np.int64)
            if len(self._destinations) >= 512:  # optional features (hints) make few name orders; never let them pile up
                self._destinations.clear()
            self._destinations[names] = found
        return found

    def matrix(self, cands: list[Candidate]) -> np.ndarray:
        """The candidates' features in this model's column order (absent features are 0)."""
        width = len(self.features) + 1
        x = np.zeros((len(cands), width), dtype=np.float64)
        if cands:
            # Candidates of one generator share their feature names in a few orders: their columns are looked up once.
            columns = [self._destination(tuple(c.features)) for c in cands]
            rows = np.repeat(np.arange(len(cands), dtype=np.int64) * width, [len(c) for c in columns])
            values = chain.from_iterable(c.features.values() for c in cands)
            x.ravel()[np.concatenate(columns) + rows] = np.fromiter(values, dtype=np.float64, count=rows.shape[0])
        return x[:, :-1]

    def scores(self, cands: list[Candidate]) -> np.ndarray:
        """A raw score per candidate."""
        return self.trees.raw(self.matrix(cands))

    def probability(self, best: float, lead: float) -> float:
        """The calibrated probability that the best-scored value is right."""
        return calibrated(self.calibration, best, lead)

    def agreed(self, probability: float) -> float:
        """The probability of a value that other fields' own best values confirm (subtotal + tax = total)."""
        return agreed_probability(probability, self.agreement_gain)


def calibrated(calibration: tuple[float, float, float], best: float, lead: float) -> float:
    """sigmoid(a * best + b * lead + c): the probability that a best score leading by `lead` is right."""
    a, b, c = calibration
    return sigmoid(a * best + b * min(lead, LEAD_CAP) + c)


def agreed_probability(probability: float, gain: float) -> float:
    """A probability with `gain` added to its log-odds."""
    return sigmoid(log_odds(probability) + gain)


def log_odds(probability: float) -> float:
    """log(p / (1 - p)), with p kept off 0 and 1."""
    p = min(max(probability, 1e-6), 1.0 - 1e-6)
    return math.log(p / (1.0 - p))


def sigmoid(z: float) -> float:
    """1 / (1 + e^-z), with z kept within +-30."""
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


LEAD_CAP = 10.0


@dataclass
class Ranked:
    """The best value of a field among its candidates, with the runner-up's and its probability."""

    candidate: Candidate
    score: float
    lead: float
    probability: float
    others: list[tuple[Candidate, float]]  # the best candidate of each other value, best first
    model: FieldModel | None = None  # the scorer that ranked them (None in rankings built by hand)

    def without(self, keep: Callable[[Candidate], bool]) -> Ranked | None:
        """The ranking of the other values that `keep` accepts, calibrated as if the rest were no candidates."""
        rest = [(c, s) for c, s in self.others if keep(c)]
        return _ranking(self.model, rest) if rest and self.model is not None else None


def rank(model: FieldModel, cands: list[Candidate]) -> Ranked | None:
    """The best candidate (one per distinct value), its lead over the next value and its probability."""
    if not cands:
        return None
    raw = model.scores(cands)
    best_per_value: dict[Any, tuple[float, Candidate]] = {}
    for cand, score in zip(cands, raw, strict=True):
        key = value_key(cand.value)
        if key not in best_per_value or score > best_per_value[key][0]:
            best_per_value[key] = (float(score), cand)
    ordered = sorted(best_per_value.values(), key=lambda sc: -sc[0])
    return _ranking(model, [(c, s) for s, c in ordered])


def _ranking(model: FieldModel, ordered: list[tuple[Candidate, float]]) -> Ranked:
    """The first of these (candidate, score) pairs, best first, with its lead over the next and its probability."""
    (best, score), others = ordered[0], ordered[1:]
    lead = score - others[0][1] if others else LEAD_CAP
    return Ranked(best, score, lead, model.probability(score, lead), others, model)


def value_key(value: Any) -> Any:
    """Values that are the same for a field (names compare without case, spaces and punctuation)."""
    return _name_key(value) if isinstance(value, str) else value


@lru_cache(maxsize=20_000)
def _name_key(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


@cache
def _load(folder: Path) -> dict[str, FieldModel]:
    if not folder.is_dir():
        return {}
    models = {m.field: m for m in (FieldModel.load(p) for p in sorted(folder.glob("*.json")) if p.stem != "report")}
    for model in models.values():
        # Compile each ensemble now (a reader's warm-up loads the models), not on the first document's time.
        model.trees.raw(np.zeros((1, len(model.features))))
    return models


_folder = [MODELS]


def use_models(folder: Path) -> None:
    """Read models from another folder in this process (evaluation of models fitted on other data)."""
    _folder[0] = folder


def load_models() -> dict[str, FieldModel]:
    """Every field model of the models folder (loaded once per process)."""
    return _load(_folder[0])
