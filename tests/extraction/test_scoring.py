"""The field scorers' runtime: trees evaluated by onnxruntime, feature matrices, models that travel to readers."""

from __future__ import annotations

import pickle

import numpy as np

from extraction.parser.candidates import Candidate
from extraction.parser.scoring import FieldModel, Trees, load_models
from extraction.parser.tree_session import ensemble_model

# Two trees as flat node arrays (a leaf loops onto itself):
#   tree 0: x[1] <= 0.5 ? (x[0] <= 2.0 ? 1.0 : -2.0) : 4.0
#   tree 1: a single leaf worth 0.25, as a round that found no split leaves it
TREES = {
    "feature": [1, 0, 0, 0, 0, 0],
    "threshold": [0.5, 2.0, 1e308, 1e308, 1e308, 1e308],
    "left": [1, 2, 2, 3, 4, 5],
    "right": [4, 3, 2, 3, 4, 5],
    "value": [0.0, 0.0, 1.0, -2.0, 4.0, 0.25],
    "roots": [0, 5],
    "depth": 2,
}


def _walk(data: dict, row: list[float]) -> float:
    """The reference: follow each tree from its root, node by node."""
    total = 0.0
    for node in data["roots"]:
        while data["left"][node] != node:
            go_left = row[data["feature"][node]] <= data["threshold"][node]
            node = data["left"][node] if go_left else data["right"][node]
        total += data["value"][node]
    return total


def test_compiled_trees_score_each_row_as_walking_them_does() -> None:
    rows = [[0.0, 0.0], [2.0, 0.5], [2.5, 0.0], [0.0, 0.51], [-1.0, 9.0]]
    scores = Trees.from_dict(TREES).raw(np.asarray(rows))
    assert scores.tolist() == [_walk(TREES, r) for r in rows] == [1.25, 1.25, -1.75, 4.25, 4.25]


def test_an_ensemble_of_single_leaves_adds_their_values() -> None:
    leaves = {"feature": [0, 0], "threshold": [1e308] * 2, "left": [0, 1], "right": [0, 1], "value": [0.5, -1.5]}
    assert Trees.from_dict({**leaves, "roots": [0, 1]}).raw(np.zeros((3, 4))).tolist() == [-1.0] * 3


def test_no_candidates_score_nothing() -> None:
    assert Trees.from_dict(TREES).raw(np.zeros((0, 2))).shape == (0,)


def test_the_matrix_places_each_feature_in_the_model_column_whatever_the_candidate_order() -> None:
    model = FieldModel("total", ("b", "a", "c"), Trees.from_dict(TREES), (1.0, 0.0, 0.0), 0.0)
    cands = [
        Candidate("amount", 1, "1", None, features={"a": 1.0, "b": 2.0, "unknown": 9.0}),
        Candidate("amount", 2, "2", None, features={"c": 3.0, "a": 4.0}),
        Candidate("amount", 3, "3", None, features={}),
        Candidate("amount", 4, "4", None, features={"a": 5.0, "b": 6.0, "unknown": 7.0}),
    ]
    assert model.matrix(cands).tolist() == [[2.0, 1.0, 0.0], [0.0, 4.0, 3.0], [0.0, 0.0, 0.0], [6.0, 5.0, 0.0]]


def test_a_loaded_model_pickles_after_use_and_scores_the_same() -> None:
    """Reader processes receive models by pickle: the compiled session stays behind and is rebuilt there."""
    model = load_models()["total"]
    x = np.zeros((2, len(model.features)))
    before = model.trees.raw(x)
    copy = pickle.loads(pickle.dumps(model))
    assert copy.trees.raw(x).tolist() == before.tolist()


def test_the_model_bytes_are_what_the_onnx_package_reads_and_writes() -> None:
    """The protobuf written by hand is a valid ONNX model, byte for byte as the onnx package serializes it."""
    import onnx

    arrays = {k: np.asarray(v) for k, v in TREES.items() if k != "depth"}
    data, bias = ensemble_model(
        arrays["feature"], arrays["threshold"], arrays["left"], arrays["right"], arrays["value"], arrays["roots"]
    )
    assert data is not None and bias == 0.25
    model = onnx.load_model_from_string(data)
    onnx.checker.check_model(model, full_check=True)
    assert model.SerializeToString() == data
    (node,) = model.graph.node
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert (node.op_type, node.domain) == ("TreeEnsemble", "ai.onnx.ml")
    assert attributes["tree_roots"] == [0]  # the single-leaf tree is the bias, not a tree
    assert onnx.numpy_helper.to_array(attributes["nodes_splits"]).tolist() == [0.5, 2.0]
    assert sorted(onnx.numpy_helper.to_array(attributes["leaf_weights"]).tolist()) == [-2.0, 1.0, 4.0]
