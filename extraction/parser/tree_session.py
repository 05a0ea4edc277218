"""Field scorer trees compiled into one ONNX TreeEnsemble node, evaluated by onnxruntime in double precision.

The model files keep the trees as flat node arrays (a leaf loops onto itself). Walking them level by level
in numpy costs a dozen array operations per level and model; onnxruntime walks each row's trees in C++,
about ten times faster for the few dozen candidates a page has.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

if TYPE_CHECKING:
    from collections.abc import Callable

_BRANCH_LEQ = 0  # TreeEnsemble's nodes_modes: go to the true branch when x[feature] <= split
_SUM = 1  # TreeEnsemble's aggregate_function


def compile_trees(
    feature: np.ndarray,
    threshold: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    value: np.ndarray,
    roots: np.ndarray,
) -> Callable[[np.ndarray], np.ndarray]:
    """A function from an (n, features) float64 matrix to each row's summed leaf values."""
    internal: dict[int, int] = {}  # flat node -> position among the ensemble's interior nodes
    order: list[int] = []
    bias = 0.0
    tree_roots: list[int] = []
    for root in (int(r) for r in roots):
        if left[root] == root:  # a tree that is one leaf adds its value to every row
            bias += float(value[root])
            continue
        tree_roots.append(len(order))
        stack = [root]
        while stack:
            node = stack.pop()
            if left[node] == node:
                continue
            internal[node] = len(order)
            order.append(node)
            stack.extend((int(right[node]), int(left[node])))
    if not order:
        return lambda x: np.full(x.shape[0], bias)

    leaves: dict[int, int] = {}
    weights: list[float] = []

    def target(node: int) -> tuple[int, int]:
        """Where a branch leads: (index, 1) into the leaves or (index, 0) into the interior nodes."""
        if left[node] != node:
            return internal[node], 0
        if node not in leaves:
            leaves[node] = len(weights)
            weights.append(float(value[node]))
        return leaves[node], 1

    true_ids, true_leafs, false_ids, false_leafs = [], [], [], []
    for node in order:
        index, is_leaf = target(int(left[node]))
        true_ids.append(index)
        true_leafs.append(is_leaf)
        index, is_leaf = target(int(right[node]))
        false_ids.append(index)
        false_leafs.append(is_leaf)
    nodes = np.asarray(order)
    ensemble = helper.make_node(
        "TreeEnsemble",
        ["X"],
        ["Y"],
        domain="ai.onnx.ml",
        n_targets=1,
        aggregate_function=_SUM,
        post_transform=0,
        tree_roots=tree_roots,
        nodes_featureids=feature[nodes].tolist(),
        nodes_splits=numpy_helper.from_array(threshold[nodes].astype(np.float64)),
        nodes_modes=numpy_helper.from_array(np.full(len(order), _BRANCH_LEQ, dtype=np.uint8)),
        nodes_truenodeids=true_ids,
        nodes_trueleafs=true_leafs,
        nodes_falsenodeids=false_ids,
        nodes_falseleafs=false_leafs,
        leaf_targetids=[0] * len(weights),
        leaf_weights=numpy_helper.from_array(np.asarray(weights, dtype=np.float64)),
    )
    graph = helper.make_graph(
        [ensemble],
        "field_scorer",
        [helper.make_tensor_value_info("X", TensorProto.DOUBLE, [None, None])],
        [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, [None, 1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("ai.onnx.ml", 5)])
    model.ir_version = 10
    options = ort.SessionOptions()
    # One page's candidates are a few dozen rows: threads would cost more than they save, and readers run in parallel.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])

    def run(x: np.ndarray) -> np.ndarray:
        out = session.run(None, {"X": np.ascontiguousarray(x, dtype=np.float64)})[0][:, 0]
        return out + bias if bias else out

    return run
