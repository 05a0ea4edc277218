"""Field scorer trees compiled into one ONNX TreeEnsemble node, evaluated by onnxruntime in double precision.

The model files keep the trees as flat node arrays (a leaf loops onto itself). Walking them level by level
in numpy costs a dozen array operations per level and model; onnxruntime walks each row's trees in C++,
about ten times faster for the few dozen candidates a page has.

The ONNX model is written here in protobuf's wire format (the few messages one node needs): importing the
`onnx` package to build it would cost over a second of start-up (its `ml_dtypes` extension) in every
process that parses an invoice. A test checks the bytes against the `onnx` package's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort

if TYPE_CHECKING:
    from collections.abc import Callable

_BRANCH_LEQ = 0  # TreeEnsemble's nodes_modes: go to the true branch when x[feature] <= split
_SUM = 1  # TreeEnsemble's aggregate_function


def compile_trees(model: bytes | None, bias: float) -> Callable[[np.ndarray], np.ndarray]:
    """A function from an (n, features) float64 matrix to each row's summed leaf values (`ensemble_model`'s parts)."""
    if model is None:
        return lambda x: np.full(x.shape[0], bias)
    options = ort.SessionOptions()
    # One page's candidates are a few dozen rows: threads would cost more than they save, and readers run in parallel.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    def run(x: np.ndarray) -> np.ndarray:
        out = session.run(None, {"X": np.ascontiguousarray(x, dtype=np.float64)})[0][:, 0]
        return out + bias if bias else out

    return run


def ensemble_model(
    feature: np.ndarray,
    threshold: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    value: np.ndarray,
    roots: np.ndarray,
) -> tuple[bytes | None, float]:
    """The serialized ONNX model of the trees that branch, and the summed value of those that are one leaf."""
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
        return None, bias

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
    attributes = [
        _attribute_int("aggregate_function", _SUM),
        _attribute_ints("leaf_targetids", [0] * len(weights)),
        _attribute_tensor("leaf_weights", np.asarray(weights, dtype=np.float64)),
        _attribute_int("n_targets", 1),
        _attribute_ints("nodes_falseleafs", false_leafs),
        _attribute_ints("nodes_falsenodeids", false_ids),
        _attribute_ints("nodes_featureids", feature[nodes].tolist()),
        _attribute_tensor("nodes_modes", np.full(len(order), _BRANCH_LEQ, dtype=np.uint8)),
        _attribute_tensor("nodes_splits", threshold[nodes].astype(np.float64)),
        _attribute_ints("nodes_trueleafs", true_leafs),
        _attribute_ints("nodes_truenodeids", true_ids),
        _attribute_int("post_transform", 0),
        _attribute_ints("tree_roots", tree_roots),
    ]
    return _model(attributes), bias


# ONNX protobuf field numbers (onnx/onnx-ml.proto) and the enum values used here.
_DOUBLE, _UINT8 = 11, 2  # TensorProto.DataType
_INT, _TENSOR, _INTS = 2, 4, 7  # AttributeProto.AttributeType
_DTYPES = {np.dtype(np.float64): _DOUBLE, np.dtype(np.uint8): _UINT8}
_IR_VERSION = 10
_OPSETS = (("", 21), ("ai.onnx.ml", 5))  # TreeEnsemble is ai.onnx.ml's since version 5


def _model(attributes: list[bytes]) -> bytes:
    """A serialized ModelProto: one ai.onnx.ml TreeEnsemble node from input X (n, features) to Y (n, 1), doubles."""
    node = b"".join(
        (_string(1, "X"), _string(2, "Y"), _string(4, "TreeEnsemble"), *(_field(5, a) for a in attributes))
    ) + _string(7, "ai.onnx.ml")
    graph = b"".join(
        (
            _field(1, node),
            _string(2, "field_scorer"),
            _field(11, _tensor_info("X", 2)),
            _field(12, _tensor_info("Y", 2)),
        )
    )
    opsets = b"".join(_field(8, _string(1, domain) + _varint_field(2, version)) for domain, version in _OPSETS)
    # ModelProto: ir_version (1), graph (7), opset_import (8); GraphProto: node (1), name (2), input (11), output (12);
    # NodeProto: input (1), output (2), op_type (4), attribute (5), domain (7).
    return _varint_field(1, _IR_VERSION) + _field(7, graph) + opsets


def _tensor_info(name: str, rank: int) -> bytes:
    """A ValueInfoProto: a double tensor of `rank` dimensions of any size."""
    shape = b"".join(_field(1, b"") for _ in range(rank))
    tensor_type = _varint_field(1, _DOUBLE) + _field(2, shape)
    return _string(1, name) + _field(2, _field(1, tensor_type))


def _attribute_int(name: str, value: int) -> bytes:
    return _string(1, name) + _varint_field(3, value) + _varint_field(20, _INT)


def _attribute_ints(name: str, values: list[int]) -> bytes:
    return _string(1, name) + b"".join(_varint_field(8, v) for v in values) + _varint_field(20, _INTS)


def _attribute_tensor(name: str, values: np.ndarray) -> bytes:
    little_endian = values.astype(values.dtype.newbyteorder("<")).tobytes()  # raw_data is little-endian
    dims = b"".join(_varint_field(1, d) for d in values.shape)
    tensor = dims + _varint_field(2, _DTYPES[values.dtype]) + _field(9, little_endian)
    return _string(1, name) + _field(5, tensor) + _varint_field(20, _TENSOR)


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # int64 as protobuf writes it: ten bytes of two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _varint_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field: an embedded message, bytes or a string."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _string(number: int, text: str) -> bytes:
    return _field(number, text.encode())
