"""Tests of convertkit.reference.normalization: LRN (ONNX, Caffe both regions), softmax, batch normalisation.

Evidence: hand-computed values; fast == oracle; onnxruntime on one-node models (LRN sizes 1-9, softmax axes,
BatchNormalization bit for bit); OpenCV's Caffe reader on one-layer prototxts (LRN both regions, Softmax,
BatchNorm with .caffemodel blobs).  Where OpenCV or onnx.reference depart from Caffe / the ONNX text the row is an
xfail with the reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from convertkit.codec.caffe import array_to_blob, pb
from convertkit.errors import ValidationError
from convertkit.reference.normalization import (
    batch_norm,
    batch_norm_by_formula,
    caffe_batch_norm,
    caffe_batch_norm_statistics,
    caffe_lrn,
    lrn,
    lrn_by_window,
    softmax,
    softmax_flattened,
)


def one_node_model(op_type: str, inputs: dict[str, np.ndarray], attrs: dict, opset: int = 17):
    node = helper.make_node(op_type, list(inputs), ["y"], **attrs)
    graph = helper.make_graph(
        [node],
        op_type,
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(v.shape)) for k, v in inputs.items()],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def run_ort(op_type: str, inputs: dict[str, np.ndarray], attrs: dict, opset: int = 17) -> np.ndarray:
    model = one_node_model(op_type, inputs, attrs, opset)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, inputs)[0]


def run_opencv(tmp_path: Path, x: np.ndarray, layer: str, name: str, blobs: list[np.ndarray] | None = None):
    cv2 = pytest.importorskip("cv2")
    if not hasattr(cv2, "dnn") or not hasattr(cv2.dnn, "readNetFromCaffe"):
        pytest.skip("this OpenCV has no Caffe reader (opencv-python-headless<5 has)")
    dims = " ".join(f"dim: {d}" for d in x.shape)
    (tmp_path / "net.prototxt").write_text(f'input: "data"\ninput_shape {{ {dims} }}\n{layer}\n')
    if blobs is None:
        net = cv2.dnn.readNetFromCaffe(str(tmp_path / "net.prototxt"))
    else:
        weights = pb.NetParameter()
        entry = weights.layer.add()
        entry.name = name
        entry.blobs.extend(array_to_blob(b) for b in blobs)
        (tmp_path / "net.caffemodel").write_bytes(weights.SerializeToString())
        net = cv2.dnn.readNetFromCaffe(str(tmp_path / "net.prototxt"), str(tmp_path / "net.caffemodel"))
    net.setInput(x)
    return net.forward(name)


def _input(shape, seed=0, scale=2.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


# ----------------------------------------------------------------------------------------------------------------
# LRN
# ----------------------------------------------------------------------------------------------------------------


def test_lrn_hand_computed():
    # C = 3, one pixel, x = [1, 2, 3], size 3, alpha 3 (alpha / size = 1), beta 1, bias 1:
    # sums of squares over [c-1, c+1] clipped: [1 + 4, 1 + 4 + 9, 4 + 9] = [5, 14, 13];
    # y = x / (1 + sum) = [1/6, 2/15, 3/14].
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1, 1)
    for impl in (lrn, lrn_by_window):
        y = impl(x, size=3, alpha=3.0, beta=1.0, bias=1.0)
        np.testing.assert_allclose(y.ravel(), [1 / 6, 2 / 15, 3 / 14])


def test_lrn_even_size_window_leans_forward():
    # size 2: window [c - floor(1/2), c + ceil(1/2)] = [c, c + 1]: squares [1 + 4, 4 + 9, 9] with alpha / size = 1.
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    for impl in (lrn, lrn_by_window):
        np.testing.assert_allclose(impl(x, size=2, alpha=2.0, beta=1.0, bias=1.0).ravel(), [1 / 6, 2 / 14, 3 / 10])


LRN_PARAMS = [(1e-4, 0.75, 1.0), (0.5, 0.75, 2.0), (1.0, 0.5, 1.0)]


@pytest.mark.parametrize("size", [1, 3, 5, 7])
@pytest.mark.parametrize(("alpha", "beta", "bias"), LRN_PARAMS)
@pytest.mark.parametrize("impl", [lrn, lrn_by_window], ids=["fast", "by_window"])
def test_lrn_matches_onnxruntime(impl, size, alpha, beta, bias):
    # onnxruntime (like Caffe) divides alpha by size, and only takes odd sizes.
    x = _input((2, 6, 5, 7), seed=size)
    expected = run_ort("LRN", {"x": x}, {"size": size, "alpha": alpha, "beta": beta, "bias": bias})
    np.testing.assert_allclose(impl(x, size=size, alpha=alpha, beta=beta, bias=bias), expected, rtol=2e-6, atol=1e-7)


ONNX_REFERENCE_LRN_BUG = (
    "onnx.reference's LRN loops its channel index over x.shape[0] (the batch axis), so with N < C the channels "
    "from N on get a zero sum of squares"
)


@pytest.mark.xfail(reason=ONNX_REFERENCE_LRN_BUG, strict=True)
def test_lrn_even_size_matches_onnx_reference():
    x = _input((1, 6, 3, 4), seed=1)
    attrs = {"size": 2, "alpha": 0.5, "beta": 0.75, "bias": 1.5}
    expected = ReferenceEvaluator(one_node_model("LRN", {"x": x}, attrs)).run(None, {"x": x})[0]
    np.testing.assert_allclose(lrn(x, **attrs), expected, rtol=1e-6)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    shape=st.tuples(st.integers(1, 2), st.integers(1, 7), st.integers(1, 4), st.integers(1, 4)),
    size=st.integers(1, 8),
    alpha=st.floats(1e-4, 2.0),
    beta=st.floats(0.25, 1.5),
    bias=st.floats(0.5, 3.0),
    seed=st.integers(0, 2**16),
)
def test_lrn_fast_path_equals_oracle(shape, size, alpha, beta, bias, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    got = lrn(x, size=size, alpha=alpha, beta=beta, bias=bias)
    np.testing.assert_allclose(got, lrn_by_window(x, size=size, alpha=alpha, beta=beta, bias=bias), rtol=1e-12)


def test_caffe_within_channel_divides_by_local_size_squared_even_at_the_border():
    # One 3x3 plane of ones, local_size 3: the corner's 3x3 window (pad 1) holds 4 ones but Caffe's AVE pooling
    # divides by 9 (padded cells count), so y = 1 * (1 + alpha * 4/9) ^ -beta; the centre has 9/9.
    x = np.ones((1, 1, 3, 3), np.float64)
    y = caffe_lrn(x, local_size=3, alpha=0.9, beta=1.0, k=5.0, norm_region="WITHIN_CHANNEL")
    assert y[0, 0, 0, 0] == pytest.approx(1 / (1 + 0.9 * 4 / 9))
    assert y[0, 0, 0, 1] == pytest.approx(1 / (1 + 0.9 * 6 / 9))
    assert y[0, 0, 1, 1] == pytest.approx(1 / (1 + 0.9))  # k = 5 is not used: Caffe's Power shift is 1


def test_caffe_within_channel_equals_a_box_sum_over_local_size_squared():
    x = _input((2, 3, 7, 9), seed=4).astype(np.float64)
    n, alpha, beta = 5, 0.7, 0.6
    padded = np.pad(x * x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    box = sum(padded[:, :, i : i + 7, j : j + 9] for i in range(n) for j in range(n))
    expected = x / (1 + alpha * box / n**2) ** beta
    got = caffe_lrn(x, local_size=n, alpha=alpha, beta=beta, norm_region="WITHIN_CHANNEL")
    np.testing.assert_allclose(got, expected, rtol=1e-12)


OPENCV_LRN_K = (
    "OpenCV's LRN reads its shift from a 'bias' parameter (default 1) that the Caffe importer never sets from "
    "lrn_param.k, so k != 1 is ignored; Caffe's CrossChannelForward_cpu starts the scale at k_ (lrn_layer.cpp)"
)

#: id -> (local_size, alpha, beta, k, norm_region, xfail reason or None)
CAFFE_LRN_CASES = {
    "across_3": (3, 0.5, 0.75, 1.0, "ACROSS_CHANNELS", None),
    "across_5_alexnet": (5, 1e-4, 0.75, 1.0, "ACROSS_CHANNELS", None),
    "across_5_k2": (5, 1.0, 0.75, 2.0, "ACROSS_CHANNELS", OPENCV_LRN_K),
    "within_3": (3, 0.5, 0.75, 1.0, "WITHIN_CHANNEL", None),
    "within_5": (5, 1.0, 0.75, 1.0, "WITHIN_CHANNEL", None),
    # Caffe ignores k within a channel, and so does OpenCV: this one agrees.
    "within_3_k2": (3, 0.3, 0.5, 2.0, "WITHIN_CHANNEL", None),
}


def _lrn_param(case):
    *values, reason = CAFFE_LRN_CASES[case]
    marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
    return pytest.param(*values, id=case, marks=marks)


@pytest.mark.parametrize(("local_size", "alpha", "beta", "k", "region"), [_lrn_param(c) for c in CAFFE_LRN_CASES])
def test_caffe_lrn_matches_opencv(local_size, alpha, beta, k, region, tmp_path):
    x = _input((2, 6, 7, 9), seed=local_size)
    layer = (
        'layer { name: "lrn" type: "LRN" bottom: "data" top: "lrn" lrn_param { '
        f"local_size: {local_size} alpha: {alpha} beta: {beta} k: {k} norm_region: {region} }} }}"
    )
    expected = caffe_lrn(x, local_size=local_size, alpha=alpha, beta=beta, k=k, norm_region=region)
    np.testing.assert_allclose(run_opencv(tmp_path, x, layer, "lrn"), expected, rtol=2e-6, atol=1e-7)


def test_caffe_lrn_refusals():
    with pytest.raises(ValidationError, match="local_size must be a positive odd number, got 4"):
        caffe_lrn(np.zeros((1, 2, 3, 3), np.float32), local_size=4)
    with pytest.raises(ValidationError, match=r"input must have 4 axes \(N, C, H, W\)"):
        caffe_lrn(np.zeros((1, 2, 3, 3, 3), np.float32))
    with pytest.raises(ValidationError, match="norm_region must be ACROSS_CHANNELS or WITHIN_CHANNEL"):
        caffe_lrn(np.zeros((1, 2, 3, 3), np.float32), local_size=3, norm_region="ACROSS")


# ----------------------------------------------------------------------------------------------------------------
# Softmax
# ----------------------------------------------------------------------------------------------------------------


def test_softmax_hand_computed():
    # [0, ln 3] -> [1, 3] / 4; a large shift does not overflow (the max is subtracted first).
    y = softmax(np.array([[0.0, np.log(3.0)], [1000.0, 1000.0 + np.log(3.0)]]), axis=1)
    np.testing.assert_allclose(y, [[0.25, 0.75], [0.25, 0.75]])


@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1, -3])
def test_softmax_matches_onnxruntime_opset_13(axis):
    x = _input((2, 3, 4, 5), seed=axis + 10, scale=4.0)
    expected = run_ort("Softmax", {"x": x}, {"axis": axis}, opset=13)
    np.testing.assert_allclose(softmax(x, axis=axis), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("axis", [1, 2, -1])
def test_softmax_flattened_matches_onnxruntime_opset_11(axis):
    x = _input((2, 3, 4, 5), seed=axis + 20, scale=4.0)
    expected = run_ort("Softmax", {"x": x}, {"axis": axis}, opset=11)
    np.testing.assert_allclose(softmax_flattened(x, axis=axis), expected, rtol=1e-6, atol=1e-8)
    if axis in (-1, 3):
        np.testing.assert_allclose(softmax(x, axis=axis), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("axis", [1, 2])
def test_caffe_softmax_matches_opencv(axis, tmp_path):
    x = _input((2, 4, 3, 5), seed=axis + 30, scale=3.0)
    layer = f'layer {{ name: "prob" type: "Softmax" bottom: "data" top: "prob" softmax_param {{ axis: {axis} }} }}'
    np.testing.assert_allclose(run_opencv(tmp_path, x, layer, "prob"), softmax(x, axis=axis), rtol=2e-6, atol=1e-8)


def test_softmax_axis_out_of_range():
    with pytest.raises(ValidationError, match="axis 4 is out of range for an input of rank 4"):
        softmax(np.zeros((1, 2, 3, 4), np.float32), axis=4)


# ----------------------------------------------------------------------------------------------------------------
# Batch normalisation
# ----------------------------------------------------------------------------------------------------------------


def _bn_arrays(channels, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "scale": rng.standard_normal(channels).astype(np.float32),
        "bias": rng.standard_normal(channels).astype(np.float32),
        "mean": rng.standard_normal(channels).astype(np.float32),
        "var": (rng.random(channels) + 0.05).astype(np.float32),
    }


def test_batch_norm_hand_computed():
    # (x - 1) / sqrt(3 + 1) * 2 + 0.5 at x = 5: 4 / 2 * 2 + 0.5 = 4.5.
    x = np.full((1, 1, 1), 5.0)
    for impl in (batch_norm, batch_norm_by_formula):
        y = impl(x, mean=np.array([1.0]), var=np.array([3.0]), scale=np.array([2.0]), bias=np.array([0.5]), epsilon=1)
        assert float(y.ravel()[0]) == 4.5


@pytest.mark.parametrize("shape", [(2, 16, 17, 19), (3, 5), (1, 4, 3, 5, 6)])
@pytest.mark.parametrize("epsilon", [1e-5, 1e-3])
def test_batch_norm_equals_onnxruntime_bit_for_bit(shape, epsilon):
    x = _input(shape, seed=shape[1], scale=3.0)
    v = _bn_arrays(shape[1], seed=shape[1])
    inputs = {"x": x, "scale": v["scale"], "bias": v["bias"], "mean": v["mean"], "var": v["var"]}
    expected = run_ort("BatchNormalization", inputs, {"epsilon": epsilon}, opset=15)
    np.testing.assert_array_equal(batch_norm(x, **v, epsilon=epsilon), expected)
    # The textbook order is the same value to float32 rounding, but not the same bits everywhere.
    np.testing.assert_allclose(batch_norm_by_formula(x, **v, epsilon=epsilon), expected, rtol=1e-6, atol=1e-6)


def test_caffe_batch_norm_divides_the_stored_statistics_by_the_moving_average_factor():
    mean, var = caffe_batch_norm_statistics(np.array([2.0, 4.0]), np.array([8.0, 2.0]), np.array([2.0]))
    np.testing.assert_array_equal(mean, [1, 2])
    np.testing.assert_array_equal(var, [4, 1])
    zero_mean, zero_var = caffe_batch_norm_statistics(np.array([2.0]), np.array([8.0]), np.array([0.0]))
    assert zero_mean[0] == 0 and zero_var[0] == 0  # factor 0 -> statistics 0 (batch_norm_layer.cpp)


def test_caffe_batch_norm_matches_opencv(tmp_path):
    x = _input((2, 5, 6, 7), seed=40, scale=3.0)
    rng = np.random.default_rng(41)
    mean_blob = (rng.standard_normal(5) * 7).astype(np.float32)
    var_blob = ((rng.random(5) + 0.1) * 7).astype(np.float32)
    factor = np.array([7.0], np.float32)
    layer = 'layer { name: "bn" type: "BatchNorm" bottom: "data" top: "bn" batch_norm_param { eps: 0.001 } }'
    got = run_opencv(tmp_path, x, layer, "bn", [mean_blob, var_blob, factor])
    expected = caffe_batch_norm(x, mean_blob, var_blob, factor, eps=1e-3)
    np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-6)
    mean, var = caffe_batch_norm_statistics(mean_blob, var_blob, factor)
    np.testing.assert_allclose(batch_norm(x, mean=mean, var=var, epsilon=1e-3), expected, rtol=2e-6, atol=1e-6)


def test_batch_norm_refuses_a_wrong_channel_vector():
    with pytest.raises(ValidationError, match=r"var must have shape \(C,\) = \(3,\), got \[2\]"):
        batch_norm(np.zeros((1, 3, 2, 2), np.float32), mean=np.zeros(3), var=np.ones(2))
