"""Tests of convertkit.reference.pooling: Caffe Pooling, ONNX MaxPool / AveragePool / Global*, masks, unpooling
and the Caffe -> ONNX pooling rule.

Evidence: hand-computed windows and divisors; fast == oracle over hypothesis sweeps; the ONNX kernels against
onnxruntime (and the ceil / count_include_pad divisors against onnx.reference); the Caffe kernels against
OpenCV's Caffe reader, a real Caffe runtime, on one-layer prototxts; and every ONNX form that
``caffe_pooling_as_onnx`` describes run in onnxruntime against the Caffe reference.  Where OpenCV differs from
Caffe's own ``src/caffe/layers/pooling_layer.cpp`` the row is an xfail with the reason.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from convertkit import shapes
from convertkit.errors import UnsupportedError, ValidationError
from convertkit.reference import (
    CaffePooling,
    average_pool,
    average_pool_by_window,
    caffe_mask_to_onnx_indices,
    caffe_max_pool_with_mask,
    caffe_max_unpool,
    caffe_pool,
    caffe_pool_by_window,
    caffe_pool_divisors,
    caffe_pooling_as_onnx,
    caffe_pooling_equals_onnx,
    convolution,
    global_average_pool,
    global_max_pool,
    max_pool,
    max_pool_by_window,
    max_pool_with_indices,
    max_unpool,
    onnx_indices_to_caffe_mask,
    onnx_pool_divisors,
)
from convertkit.reference.pooling import CAFFE_MAX_INIT

# ----------------------------------------------------------------------------------------------------------------
# Runtimes
# ----------------------------------------------------------------------------------------------------------------


def onnx_model(op_type: str, inputs: dict[str, np.ndarray], n_outputs: int, attrs: dict, opset: int = 22):
    outputs = ["y", "indices"][:n_outputs]
    node = helper.make_node(op_type, list(inputs), outputs, **attrs)
    types = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64}
    graph = helper.make_graph(
        [node],
        op_type,
        [helper.make_tensor_value_info(k, types[v.dtype], list(v.shape)) for k, v in inputs.items()],
        [
            helper.make_tensor_value_info(o, {"y": TensorProto.FLOAT, "indices": TensorProto.INT64}[o], None)
            for o in outputs
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def run_ort(op_type: str, inputs: dict[str, np.ndarray], attrs: dict, n_outputs: int = 1) -> list[np.ndarray]:
    model = onnx_model(op_type, inputs, n_outputs, attrs)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, inputs)


def run_ort_model(model) -> ort.InferenceSession:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _cv2():
    cv2 = pytest.importorskip("cv2")
    if not hasattr(cv2, "dnn") or not hasattr(cv2.dnn, "readNetFromCaffe"):
        pytest.skip("this OpenCV has no Caffe reader (opencv-python-headless<5 has)")
    return cv2


def run_opencv_pooling(tmp_path: Path, x: np.ndarray, params: str, with_mask: bool = False) -> list[np.ndarray]:
    """One Caffe Pooling layer (``pooling_param { params }``) on ``x`` in OpenCV; ``[top]`` or ``[top, mask]``."""
    cv2 = _cv2()
    dims = " ".join(f"dim: {d}" for d in x.shape)
    tops = 'top: "pool" top: "mask"' if with_mask else 'top: "pool"'
    (tmp_path / "pool.prototxt").write_text(
        f'input: "data"\ninput_shape {{ {dims} }}\n'
        f'layer {{ name: "pool" type: "Pooling" bottom: "data" {tops} pooling_param {{ {params} }} }}\n'
    )
    net = cv2.dnn.readNetFromCaffe(str(tmp_path / "pool.prototxt"))
    net.setInput(x)
    if with_mask:
        return list(net.forwardAndRetrieve(["pool"])[0])  # OpenCV's forward(name) returns the first top only
    return [net.forward("pool")]


# ----------------------------------------------------------------------------------------------------------------
# Shape rules
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # ceil((6 + 2 - 3) / 2) + 1 = 4; last window starts at 3 * 2 - 1 = 5 < 6: kept.
        ((6, 3, 2, 1), 4),
        # ceil((5 + 2 - 2) / 2) + 1 = 4; last window would start at 3 * 2 - 1 = 5 >= 5 (in the pad): dropped.
        ((5, 2, 2, 1), 3),
        # No pad: ceil((5 - 1) / 3) + 1 = 3, the last window starts at 6 >= 5 and is kept (and empty).
        ((5, 1, 3, 0), 3),
        # The same axis in a layer padded on another axis: Caffe tests pad_h || pad_w, so it is dropped.
        ((5, 1, 3, 0, "CEIL", True), 2),
        # Kernel larger than the input: ceil(-1 / 2) + 1 = 1.
        ((2, 3, 2, 0), 1),
        # global pooling: k = in, pad 0, stride 1.
        ((7, 7, 1, 0), 1),
    ],
)
def test_caffe_pool_output_size(args, expected):
    assert shapes.caffe_pool_output_size(*args) == expected


def test_caffe_floor_round_mode_and_onnx_sizes():
    assert shapes.caffe_pool_output_size(6, 3, 2, 0, "FLOOR") == 2  # floor(3 / 2) + 1
    assert shapes.onnx_pool_output_size(6, 3, 2, 0, 0, 1, 0) == 2
    assert shapes.onnx_pool_output_size(6, 3, 2, 0, 0, 1, 1) == 3  # ceil(3 / 2) + 1, starts at 4 < 6
    # Unlike Caffe, ONNX drops a window starting past the input without padding too: ceil(4 / 3) + 1 = 3 -> 2.
    assert shapes.onnx_pool_output_size(5, 1, 3, 0, 0, 1, 1) == 2
    # Dilation: k_eff = 2 * (3 - 1) + 1 = 5, floor((9 + 1 + 0 - 5) / 2) + 1 = 3.
    assert shapes.onnx_pool_output_size(9, 3, 2, 1, 0, 2, 0) == 3


# ----------------------------------------------------------------------------------------------------------------
# Hand-computed Caffe windows
# ----------------------------------------------------------------------------------------------------------------


def test_caffe_ave_divides_by_the_window_clipped_to_the_padded_input():
    # in 6, k 3, s 2, pad 1: windows [-1, 2), [1, 4), [3, 6), [5, 8).  Caffe's divisor clips the end at
    # in + pad = 7: 3, 3, 3, 2; on an all-ones input the sums (cells inside [0, 6)) are 2, 3, 3, 1.
    x = np.ones((1, 1, 1, 6), np.float64)
    y = caffe_pool(x, pool="AVE", kernel_shape=[1, 3], strides=[1, 2], pads=[0, 1, 0, 1])
    np.testing.assert_allclose(y.ravel(), [2 / 3, 1, 1, 1 / 2])
    divisors = caffe_pool_divisors([1, 6], kernel_shape=[1, 3], strides=[1, 2], pads=[0, 1, 0, 1])
    np.testing.assert_array_equal(divisors.ravel(), [3, 3, 3, 2])


def test_caffe_drops_the_last_window_when_it_would_start_in_the_padding():
    # in 5, k 2, s 2, pad 1: ceil(5 / 2) + 1 = 4 windows would start at -1, 1, 3, 5; 5 is in the pad: 3 remain.
    x = np.arange(5, dtype=np.float64).reshape(1, 1, 1, 5)
    y, mask = caffe_max_pool_with_mask(x, kernel_shape=[1, 2], strides=[1, 2], pads=[0, 1, 0, 1])
    np.testing.assert_array_equal(y.ravel(), [0, 2, 4])  # windows {0}, {1, 2}, {3, 4}
    np.testing.assert_array_equal(mask.ravel(), [0, 2, 4])


def test_caffe_pools_an_empty_window_without_padding():
    # in 5, k 1, s 3, pad 0: windows at 0, 3, 6; the last has no cell.  MAX keeps its -FLT_MAX start value and
    # mask -1; AVE divides the empty sum 0 by (min(6 + 1, 5) - 6) = -1, giving -0.0.  With in 4, s 2 the last
    # window starts at 4 = in, its size is 0 and the average 0 / 0 = NaN.
    x = np.arange(1, 6, dtype=np.float32).reshape(1, 1, 1, 5)
    y, mask = caffe_max_pool_with_mask(x, kernel_shape=[1, 1], strides=[1, 3])
    np.testing.assert_array_equal(y.ravel(), [1, 4, CAFFE_MAX_INIT])
    np.testing.assert_array_equal(mask.ravel(), [0, 3, -1])
    ave = caffe_pool(x, pool="AVE", kernel_shape=[1, 1], strides=[1, 3]).ravel()
    assert ave[2] == 0 and np.signbit(ave[2])
    nan = caffe_pool(x[..., :4], pool="AVE", kernel_shape=[1, 1], strides=[1, 2]).ravel()
    assert np.isnan(nan[2])


def test_caffe_max_ties_keep_the_first_cell_in_scan_order():
    x = np.array([[[[1.0, 3.0], [3.0, 2.0]]]])
    for impl in (caffe_max_pool_with_mask, lambda x, **k: caffe_pool_by_window(x, pool="MAX", **k)):
        _y, mask = impl(x, kernel_shape=[2, 2])
        assert int(mask.ravel()[0]) == 1  # (0, 1) before (1, 0)


# ----------------------------------------------------------------------------------------------------------------
# Caffe semantics against OpenCV's Caffe reader
# ----------------------------------------------------------------------------------------------------------------

OPENCV_EMPTY_WINDOW = (
    "OpenCV writes 0 for a MAX window with no input cell; Caffe's pooling_layer.cpp starts every output at "
    "-FLT_MAX (caffe_set(top_count, Dtype(-FLT_MAX), top_data)) and an empty window never overwrites it"
)
OPENCV_ROUND_MODE = (
    "OpenCV's Caffe proto has its own bool ceil_mode = 13 where BVLC caffe.proto has enum round_mode = 13, so it "
    "cannot read 'round_mode: FLOOR' (pooling_layer.cpp switches on round_mode_)"
)
OPENCV_DROP_PER_AXIS = (
    "OpenCV drops a last window starting past the input only on an axis with its own end pad "
    "(pads_end[i] && ...); Caffe's Reshape tests pad_h_ || pad_w_ and then drops on both axes"
)
OPENCV_KERNEL_GT_INPUT = (
    "OpenCV refuses a kernel larger than the input; Caffe's LayerSetUp only checks kernel > 0 and pad < kernel "
    "and its Reshape gives ceil((in - kernel) / stride) + 1 = 1 output"
)

#: id -> (x shape, pooling_param text, caffe_pool keywords).  Odd sizes, pads, stride > kernel, the dropped last
#: window, the ceil overhang past in + pad (AVE border divisors), per-axis kernel/pad/stride, global pooling.
CAFFE_CASES = {
    "max_k3_s2_p1_odd": ((1, 2, 9, 11), "pool: MAX kernel_size: 3 stride: 2 pad: 1", {}),
    "ave_k3_s2_p1_odd": ((1, 2, 9, 11), "pool: AVE kernel_size: 3 stride: 2 pad: 1", {}),
    "ave_k3_s2_p1_overhang": ((2, 2, 6, 8), "pool: AVE kernel_size: 3 stride: 2 pad: 1", {}),
    "max_k2_s2_p1_drop_last": ((1, 3, 5, 7), "pool: MAX kernel_size: 2 stride: 2 pad: 1", {}),
    "ave_k2_s2_p1_drop_last": ((1, 3, 5, 7), "pool: AVE kernel_size: 2 stride: 2 pad: 1", {}),
    "ave_k4_s3_p2": ((1, 1, 10, 11), "pool: AVE kernel_size: 4 stride: 3 pad: 2", {}),
    "max_k3_s2_no_pad_overhang": ((1, 2, 8, 10), "pool: MAX kernel_size: 3 stride: 2", {}),
    "ave_k3_s2_no_pad_overhang": ((1, 2, 8, 10), "pool: AVE kernel_size: 3 stride: 2", {}),
    "max_stride_gt_kernel_p1": ((1, 2, 9, 10), "pool: MAX kernel_size: 2 stride: 3 pad: 1", {}),
    "ave_stride_gt_kernel_p1": ((1, 2, 9, 10), "pool: AVE kernel_size: 2 stride: 3 pad: 1", {}),
    "ave_stride_gt_kernel_no_pad": ((1, 2, 9, 11), "pool: AVE kernel_size: 2 stride: 3", {}),
    "max_per_axis": ((1, 2, 9, 10), "pool: MAX kernel_h: 3 kernel_w: 2 pad_h: 1 pad_w: 1 stride_h: 2 stride_w: 3", {}),
    "ave_per_axis": ((1, 2, 9, 10), "pool: AVE kernel_h: 3 kernel_w: 2 pad_h: 1 pad_w: 1 stride_h: 2 stride_w: 3", {}),
    "ave_per_axis_pad_h_only": ((1, 1, 7, 8), "pool: AVE kernel_h: 3 kernel_w: 3 pad_h: 2 pad_w: 0 stride: 2", {}),
    "max_global": ((2, 3, 5, 7), "pool: MAX global_pooling: true", {}),
    "ave_global": ((2, 3, 5, 7), "pool: AVE global_pooling: true", {}),
    "ave_empty_window_neg_zero": ((1, 1, 5, 7), "pool: AVE kernel_size: 1 stride: 3", {}),
    "ave_empty_window_nan": ((1, 1, 4, 6), "pool: AVE kernel_size: 1 stride: 2", {}),
    "max_empty_window": ((1, 1, 5, 7), "pool: MAX kernel_size: 1 stride: 3", {"xfail": OPENCV_EMPTY_WINDOW}),
    "max_pad_h_only_stride_gt_kernel_w": (
        (1, 1, 7, 5),
        "pool: MAX kernel_h: 2 kernel_w: 1 pad_h: 1 pad_w: 0 stride_h: 2 stride_w: 3",
        {"xfail": OPENCV_DROP_PER_AXIS},
    ),
    "ave_pad_h_only_stride_gt_kernel_w": (
        (1, 1, 7, 5),
        "pool: AVE kernel_h: 2 kernel_w: 1 pad_h: 1 pad_w: 0 stride_h: 2 stride_w: 3",
        {"xfail": OPENCV_DROP_PER_AXIS},
    ),
    "max_floor": ((1, 2, 7, 8), "pool: MAX kernel_size: 3 stride: 2 round_mode: FLOOR", {"xfail": OPENCV_ROUND_MODE}),
    "ave_kernel_gt_input": ((1, 1, 2, 3), "pool: AVE kernel_size: 3 stride: 2", {"xfail": OPENCV_KERNEL_GT_INPUT}),
}


def caffe_kwargs(x_shape: tuple[int, ...], params: str) -> dict:
    """The caffe_pool keywords for a pooling_param text (the test's own little reader of the Caffe names)."""
    fields = dict(zip(params.split()[::2], params.split()[1::2], strict=True))
    fields = {k.rstrip(":"): v for k, v in fields.items()}
    kwargs: dict = {"pool": fields["pool"], "round_mode": fields.get("round_mode", "CEIL")}
    if fields.get("global_pooling") == "true":
        return {**kwargs, "global_pooling": True}

    def pair(name: str, default: int) -> tuple[int, int]:
        both = int(fields.get(name if name != "kernel" else "kernel_size", default))
        return int(fields.get(f"{name}_h", both)), int(fields.get(f"{name}_w", both))

    pad = pair("pad", 0)
    return {**kwargs, "kernel_shape": pair("kernel", 0), "strides": pair("stride", 1), "pads": pad + pad}


def _caffe_params(case: str):
    x_shape, params, extra = CAFFE_CASES[case]
    marks = [pytest.mark.xfail(reason=extra["xfail"], strict=True)] if "xfail" in extra else []
    return pytest.param(x_shape, params, id=case, marks=marks)


@pytest.mark.parametrize(("x_shape", "params"), [_caffe_params(c) for c in CAFFE_CASES])
def test_caffe_pooling_matches_opencv(x_shape, params, tmp_path):
    x = np.random.default_rng(sum(x_shape)).standard_normal(x_shape).astype(np.float32)
    expected = caffe_pool(x, **caffe_kwargs(x_shape, params))
    (got,) = run_opencv_pooling(tmp_path, x, params)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)  # NaN == NaN here
    np.testing.assert_array_equal(np.signbit(got[got == 0]), np.signbit(expected[expected == 0]))


MASK_CASES = ["max_k3_s2_p1_odd", "max_k2_s2_p1_drop_last", "max_per_axis", "max_global", "max_stride_gt_kernel_p1"]


@pytest.mark.parametrize("case", MASK_CASES)
def test_caffe_max_mask_matches_opencv_second_top(case, tmp_path):
    x_shape, params, _ = CAFFE_CASES[case]
    x = np.random.default_rng(3).standard_normal(x_shape).astype(np.float32)
    kwargs = caffe_kwargs(x_shape, params)
    kwargs.pop("pool")
    pooled, mask = caffe_max_pool_with_mask(x, **kwargs)
    got, got_mask = run_opencv_pooling(tmp_path, x, params, with_mask=True)
    np.testing.assert_array_equal(got, pooled)
    np.testing.assert_array_equal(got_mask.astype(np.int64), mask)


def test_opencv_agrees_on_the_mask_of_an_empty_window(tmp_path):
    # Only the value differs (OPENCV_EMPTY_WINDOW): the mask is -1 in both.
    x = np.arange(35, dtype=np.float32).reshape(1, 1, 5, 7) - 100
    _pooled, mask = caffe_max_pool_with_mask(x, kernel_shape=[1, 1], strides=[3, 3])
    _got, got_mask = run_opencv_pooling(tmp_path, x, "pool: MAX kernel_size: 1 stride: 3", with_mask=True)
    np.testing.assert_array_equal(got_mask.astype(np.int64), mask)
    assert (mask[0, 0, 2] == -1).all()


# ----------------------------------------------------------------------------------------------------------------
# ONNX semantics against onnxruntime
# ----------------------------------------------------------------------------------------------------------------

#: id -> (x shape, attributes shared by MaxPool and AveragePool).  Odd sizes, asymmetric pads, ceil_mode cases
#: (overhang, dropped last window, stride > kernel), dilations, 1-D and 3-D.
ONNX_CASES = {
    "2d_k3_s2_p1_odd": ((1, 3, 9, 11), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    "2d_k3_s2_floor_odd": ((2, 2, 10, 7), {"kernel_shape": [3, 3], "strides": [2, 2]}),
    "2d_ceil_asym_pads": (
        (1, 2, 10, 7),
        {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [0, 1, 1, 0], "ceil_mode": 1},
    ),
    "2d_ceil_overhang_p1": (
        (1, 2, 6, 8),
        {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1},
    ),
    "2d_ceil_drop_last": (
        (1, 2, 5, 5),
        {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1},
    ),
    "2d_ceil_stride_gt_kernel": ((1, 2, 5, 7), {"kernel_shape": [1, 2], "strides": [3, 3], "ceil_mode": 1}),
    "2d_rect_kernel": ((1, 2, 8, 9), {"kernel_shape": [2, 4], "strides": [1, 3], "pads": [1, 0, 0, 2]}),
    "2d_dilated": ((1, 2, 11, 10), {"kernel_shape": [3, 2], "dilations": [2, 3], "pads": [2, 1, 0, 1]}),
    "2d_dilated_ceil": (
        (1, 2, 12, 9),
        {"kernel_shape": [2, 3], "strides": [2, 2], "dilations": [3, 2], "pads": [1, 1, 1, 0], "ceil_mode": 1},
    ),
    "1d_k4_s3_p2_ceil": ((2, 3, 10), {"kernel_shape": [4], "strides": [3], "pads": [2, 2], "ceil_mode": 1}),
    "3d_k2_s2_ceil": ((1, 2, 5, 6, 7), {"kernel_shape": [2, 2, 2], "strides": [2, 2, 2], "ceil_mode": 1}),
    "3d_k3_s2_p1": ((1, 2, 5, 5, 6), {"kernel_shape": [3, 3, 3], "strides": [2, 2, 2], "pads": [1] * 6}),
}


def _onnx_input(x_shape, seed=0):
    return np.random.default_rng(seed).standard_normal(x_shape).astype(np.float32)


@pytest.mark.parametrize("case", list(ONNX_CASES))
@pytest.mark.parametrize("impl", ["fast", "by_window"])
def test_max_pool_and_indices_match_onnxruntime(case, impl):
    x_shape, attrs = ONNX_CASES[case]
    x = _onnx_input(x_shape)
    y, indices = (max_pool_with_indices if impl == "fast" else max_pool_by_window)(x, **attrs)
    expected, expected_indices = run_ort("MaxPool", {"x": x}, attrs, n_outputs=2)
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(indices, expected_indices)
    if impl == "fast":
        np.testing.assert_array_equal(max_pool(x, **attrs), expected)


@pytest.mark.parametrize("case", ["2d_k3_s2_p1_odd", "2d_dilated_ceil", "3d_k3_s2_p1"])
def test_max_pool_column_major_indices_match_onnxruntime(case):
    x_shape, attrs = ONNX_CASES[case]
    x = _onnx_input(x_shape, seed=1)
    _y, indices = max_pool_with_indices(x, **attrs, storage_order=1)
    _expected, expected_indices = run_ort("MaxPool", {"x": x}, {**attrs, "storage_order": 1}, n_outputs=2)
    np.testing.assert_array_equal(indices, expected_indices)


@pytest.mark.parametrize("case", list(ONNX_CASES))
@pytest.mark.parametrize("count_include_pad", [0, 1])
@pytest.mark.parametrize("impl", [average_pool, average_pool_by_window], ids=["fast", "by_window"])
def test_average_pool_matches_onnxruntime(case, count_include_pad, impl):
    x_shape, attrs = ONNX_CASES[case]
    x = _onnx_input(x_shape, seed=2)
    attrs = {**attrs, "count_include_pad": count_include_pad}
    (expected,) = run_ort("AveragePool", {"x": x}, attrs)
    np.testing.assert_allclose(impl(x, **attrs), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", ["2d_ceil_overhang_p1", "2d_ceil_drop_last", "2d_dilated_ceil", "1d_k4_s3_p2_ceil"])
@pytest.mark.parametrize("count_include_pad", [0, 1])
def test_ceil_mode_divisors_agree_with_onnx_reference(case, count_include_pad):
    # The divisor at the ceil overhang (clipped to in + pad_end, also with count_include_pad) is where runtimes
    # have disagreed; onnx.reference 1.2x computes what onnxruntime 1.3x does.
    x_shape, attrs = ONNX_CASES[case]
    x = np.ones(x_shape, np.float32)
    attrs = {**attrs, "count_include_pad": count_include_pad}
    expected = ReferenceEvaluator(onnx_model("AveragePool", {"x": x}, 1, attrs)).run(None, {"x": x})[0]
    np.testing.assert_allclose(average_pool(x, **attrs), expected, rtol=1e-6)
    real = onnx_pool_divisors(x_shape[2:], **{**attrs, "count_include_pad": 0})
    counted = onnx_pool_divisors(x_shape[2:], **attrs)
    np.testing.assert_allclose(expected[0, 0], real / counted, rtol=1e-6)  # ones: cells on the input / divisor


@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (1, 4, 6), (1, 2, 3, 4, 5)])
def test_global_pools_match_onnxruntime(shape):
    x = _onnx_input(shape, seed=4)
    np.testing.assert_array_equal(global_max_pool(x), run_ort("GlobalMaxPool", {"x": x}, {})[0])
    np.testing.assert_allclose(global_average_pool(x), run_ort("GlobalAveragePool", {"x": x}, {})[0], atol=1e-7)


# ----------------------------------------------------------------------------------------------------------------
# fast == oracle (hypothesis)
# ----------------------------------------------------------------------------------------------------------------


@st.composite
def onnx_pools(draw):
    rank = draw(st.integers(1, 3))
    kernel = [draw(st.integers(1, 3)) for _ in range(rank)]
    strides = [draw(st.integers(1, 3)) for _ in range(rank)]
    dilations = [draw(st.integers(1, 2)) for _ in range(rank)]
    pads = [draw(st.integers(0, k - 1)) for k in kernel] + [draw(st.integers(0, k - 1)) for k in kernel]
    ceil_mode = draw(st.integers(0, 1))
    spatial = []
    for a in range(rank):
        low = max(1, shapes.effective_kernel(kernel[a], dilations[a]) - pads[a] - pads[rank + a])
        spatial.append(draw(st.integers(low, low + (5 if rank < 3 else 2))))
    attrs = {"kernel_shape": kernel, "strides": strides, "dilations": dilations, "pads": pads, "ceil_mode": ceil_mode}
    return (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *spatial), attrs, draw(st.integers(0, 2**16))


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(pool=onnx_pools(), count_include_pad=st.integers(0, 1))
def test_onnx_fast_paths_equal_oracles(pool, count_include_pad):
    x_shape, attrs, seed = pool
    x = np.random.default_rng(seed).standard_normal(x_shape)
    y, indices = max_pool_with_indices(x, **attrs)
    y_oracle, indices_oracle = max_pool_by_window(x, **attrs)
    np.testing.assert_array_equal(y, y_oracle)
    np.testing.assert_array_equal(indices, indices_oracle)
    np.testing.assert_array_equal(max_pool(x, **attrs), y_oracle)
    got = average_pool(x, **attrs, count_include_pad=count_include_pad)
    np.testing.assert_allclose(got, average_pool_by_window(x, **attrs, count_include_pad=count_include_pad), atol=1e-12)


@pytest.mark.parametrize(
    "x_shape, attrs",
    [
        # size == count * stride on the last axis: the one-long-loop pass, with taps cut at both ends
        ((2, 3, 6, 8), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
        ((1, 2, 5, 12), {"kernel_shape": [2, 5], "strides": [1, 3], "pads": [1, 2, 0, 2], "ceil_mode": 1}),
        ((1, 2, 7, 9), {"kernel_shape": [3, 3], "strides": [3, 3], "pads": [1, 2, 2, 1], "dilations": [1, 2]}),
        ((1, 1, 4, 4, 6), {"kernel_shape": [2, 2, 3], "strides": [2, 2, 2], "pads": [0, 1, 1, 1, 0, 1]}),
        ((3, 2, 10), {"kernel_shape": [4], "strides": [1], "pads": [3, 3]}),  # no tap covers every output
    ],
)
def test_max_pool_fast_path_with_nan_and_infinities_equals_the_oracle(x_shape, attrs):
    x = np.random.default_rng(4).standard_normal(x_shape).astype(np.float32)
    flat = x.reshape(-1)
    flat[::7], flat[3::11], flat[5::13] = np.nan, -np.inf, np.inf
    y_oracle, _ = max_pool_by_window(x, **attrs)
    np.testing.assert_array_equal(max_pool(x, **attrs), y_oracle)
    np.testing.assert_array_equal(max_pool(np.full(x_shape, np.nan, np.float32), **attrs), np.finfo(np.float32).min)


@st.composite
def caffe_pools(draw):
    rank = draw(st.integers(1, 2))
    kernel = [draw(st.integers(1, 4)) for _ in range(rank)]
    strides = [draw(st.integers(1, 4)) for _ in range(rank)]
    pad = [draw(st.integers(0, k - 1)) for k in kernel]
    spatial = [draw(st.integers(1, 10)) for _ in range(rank)]
    config = CaffePooling(
        pool=draw(st.sampled_from(["MAX", "AVE"])),
        kernel_shape=tuple(kernel),
        strides=tuple(strides),
        pads=tuple(pad + pad),
        round_mode=draw(st.sampled_from(["CEIL", "CEIL", "FLOOR"])),
        global_pooling=False,
    )
    return (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *spatial), config, draw(st.integers(0, 2**16))


def _caffe_valid(spatial, config: CaffePooling) -> bool:
    assert config.kernel_shape is not None and config.strides is not None and config.pads is not None
    return all(
        shapes.caffe_pool_output_size(i, k, s, p, config.round_mode) >= 1
        for i, k, s, p in zip(spatial, config.kernel_shape, config.strides, config.pads, strict=False)
    )


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(pool=caffe_pools())
def test_caffe_fast_paths_equal_the_oracle_bit_for_bit(pool):
    # Same cells, same order of additions, same division: the fast path is the oracle to the bit (NaN, -0 included).
    x_shape, config, seed = pool
    if not _caffe_valid(x_shape[2:], config):
        return
    x = np.random.default_rng(seed).standard_normal(x_shape).astype(np.float32)
    y_oracle, mask_oracle = caffe_pool_by_window(x, **config.kwargs())
    y = caffe_pool(x, **config.kwargs())
    np.testing.assert_array_equal(y, y_oracle)
    np.testing.assert_array_equal(np.signbit(y), np.signbit(y_oracle))
    if config.pool == "MAX":
        kwargs = config.kwargs()
        kwargs.pop("pool")
        y_masked, mask = caffe_max_pool_with_mask(x, **kwargs)
        np.testing.assert_array_equal(y_masked, y_oracle)
        np.testing.assert_array_equal(mask, mask_oracle)


@pytest.mark.parametrize("x_shape", [(2, 3, 9, 11), (1, 5, 4, 6, 7), (3, 1, 10)])
def test_plane_blocks_on_threads_give_the_serial_result(x_shape, monkeypatch):
    # Large inputs are pooled in blocks of planes on worker threads; force that path on small ones.
    x = np.random.default_rng(9).standard_normal(x_shape).astype(np.float32)
    rank = len(x_shape) - 2
    onnx_attrs = {"kernel_shape": [3] * rank, "strides": [2] * rank, "pads": [1] * (2 * rank), "ceil_mode": 1}
    caffe_attrs = {"kernel_shape": [3] * rank, "strides": [2] * rank, "pads": [1] * (2 * rank)}
    serial = (
        max_pool_with_indices(x, **onnx_attrs),
        average_pool(x, **onnx_attrs, count_include_pad=1),
        caffe_max_pool_with_mask(x, **caffe_attrs),
        caffe_pool(x, pool="MAX", **caffe_attrs),
        caffe_pool(x, pool="AVE", **caffe_attrs),
    )
    monkeypatch.setattr(convolution, "PARALLEL_MIN_ELEMENTS", 1)
    monkeypatch.setattr(convolution, "_WORKERS", 2)
    threaded = (
        max_pool_with_indices(x, **onnx_attrs),
        average_pool(x, **onnx_attrs, count_include_pad=1),
        caffe_max_pool_with_mask(x, **caffe_attrs),
        caffe_pool(x, pool="MAX", **caffe_attrs),
        caffe_pool(x, pool="AVE", **caffe_attrs),
    )
    for a, b in zip(serial, threaded, strict=True):
        for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,), strict=True):
            np.testing.assert_array_equal(u, v)


# ----------------------------------------------------------------------------------------------------------------
# Caffe pooling as ONNX
# ----------------------------------------------------------------------------------------------------------------


def _small_caffe_grid():
    for i, k, s, pool in itertools.product(range(1, 10), range(1, 5), range(1, 5), ("MAX", "AVE")):
        for p in range(k):
            yield i, CaffePooling(pool=pool, kernel_shape=(k, k), strides=(s, s), pads=(p, p, p, p))
            if p:  # padded on the first axis only: the second still follows the padded-layer drop rule
                yield i, CaffePooling(pool=pool, kernel_shape=(k, 1), strides=(s, s + 1), pads=(p, 0, p, 0))


def test_every_small_caffe_pooling_has_an_exact_onnx_form_with_ceil_mode():
    # Over in 1..9 (x in+1), kernel 1..4, stride 1..4, pad < kernel: ONNX ceil_mode=1, pads (pad, pad),
    # count_include_pad=1 (or a floor form) is Caffe exactly, except where Caffe pools an empty window.
    checked = empty = 0
    for i, config in _small_caffe_grid():
        spatial = (i, i + 1)
        if not _caffe_valid(spatial, config):
            continue
        x = np.random.default_rng(i).standard_normal((1, 2, *spatial))
        try:
            form = caffe_pooling_as_onnx(spatial, config)
        except UnsupportedError:
            empty += 1
            assert config.pads == (0, 0, 0, 0) and config.strides is not None and config.kernel_shape is not None
            assert config.strides[0] > config.kernel_shape[0]
            continue
        checked += 1
        assert form.exact and caffe_pooling_equals_onnx(spatial, config, form), (i, config, form)
        np.testing.assert_allclose(form.run_reference(x), caffe_pool(x, **config.kwargs()), rtol=1e-12, atol=1e-12)
    assert checked > 500 and empty > 0


def test_without_ceil_mode_some_caffe_averages_need_a_divisor_map():
    needing = 0
    for i, config in _small_caffe_grid():
        spatial = (i, i + 1)
        if not _caffe_valid(spatial, config):
            continue
        try:
            form = caffe_pooling_as_onnx(spatial, config, ceil_mode_allowed=False)
        except UnsupportedError:
            continue
        assert form.ceil_mode == 0
        x = np.random.default_rng(i).standard_normal((1, 1, *spatial))
        np.testing.assert_allclose(form.run_reference(x), caffe_pool(x, **config.kwargs()), rtol=1e-12, atol=1e-12)
        if not form.exact:
            needing += 1
            assert config.pool == "AVE" and form.divisor_map is not None
            assert not caffe_pooling_equals_onnx(spatial, config, form)
            np.testing.assert_array_equal(form.divisor_map, caffe_pool_divisors(spatial, **_divisor_kwargs(config)))
    assert needing > 0


def _divisor_kwargs(config: CaffePooling) -> dict:
    kwargs = config.kwargs()
    kwargs.pop("pool")
    return kwargs


def test_divisor_map_example():
    # in 6, k 3, s 2, pad 1, no ceil_mode: pads grow to (1, 2) so that floor((6 + 3 - 3) / 2) + 1 = 4 windows;
    # ONNX then divides every window by 3 (count_include_pad=1), Caffe the last one by 7 - 5 = 2.
    config = CaffePooling(pool="AVE", kernel_shape=(1, 3), strides=(1, 2), pads=(0, 1, 0, 1))
    form = caffe_pooling_as_onnx((1, 6), config, ceil_mode_allowed=False)
    assert form.pads == (0, 1, 0, 2) and form.ceil_mode == 0 and form.count_include_pad == 1
    assert form.divisor_map is not None and form.correction is not None
    np.testing.assert_array_equal(form.divisor_map, [[3, 3, 3, 2]])
    np.testing.assert_array_equal(form.correction, [[1, 1, 1, 1.5]])
    exact = caffe_pooling_as_onnx((1, 6), config)
    assert exact.exact and exact.ceil_mode == 1 and exact.pads == (0, 1, 0, 1) and exact.count_include_pad == 1


def _form_model(form, x: np.ndarray):
    nodes = [
        helper.make_node(form.op_type, ["x"], ["pooled" if form.correction is not None else "y"], **form.attributes())
    ]
    initializers = []
    if form.correction is not None:
        initializers.append(numpy_helper.from_array(form.correction.astype(np.float32), "correction"))
        nodes.append(helper.make_node("Mul", ["pooled", "correction"], ["y"]))
    graph = helper.make_graph(
        nodes,
        "caffe_pool",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=initializers,
    )
    opset = 22 if form.ceil_mode else 9  # the floor forms are what an opset without ceil_mode can carry
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _sampled_forms():
    rng = np.random.default_rng(2024)
    grid = [(i, c) for i, c in _small_caffe_grid() if i >= 3]
    picks = [grid[j] for j in rng.choice(len(grid), size=24, replace=False)]
    cases = []
    for i, config in picks:
        for ceil_allowed in (True, False):
            spatial = (i, i + 2)
            if not _caffe_valid(spatial, config):
                continue
            try:
                form = caffe_pooling_as_onnx(spatial, config, ceil_mode_allowed=ceil_allowed)
            except UnsupportedError:
                continue
            cases.append(
                pytest.param(
                    spatial,
                    config,
                    form,
                    id=f"{config.pool}-i{i}-k{config.kernel_shape[0]}-"
                    f"s{config.strides[0]}-p{config.pads[0]}-ceil{int(ceil_allowed)}",
                )
            )
    # A layer padded on one axis only, whose other axis drops its empty last window as ONNX does.
    for pool in ("MAX", "AVE"):
        config = CaffePooling(pool=pool, kernel_shape=(2, 1), strides=(2, 3), pads=(1, 0, 1, 0))
        cases.append(pytest.param((7, 5), config, caffe_pooling_as_onnx((7, 5), config), id=f"{pool}-7x5-pad-h-only"))
    # And the divisor-map case of test_divisor_map_example on a 2-D input, sure to need the Mul.
    config = CaffePooling(pool="AVE", kernel_shape=(3, 3), strides=(2, 2), pads=(1, 1, 1, 1))
    cases.append(
        pytest.param(
            (6, 8),
            config,
            caffe_pooling_as_onnx((6, 8), config, ceil_mode_allowed=False),
            id="AVE-6x8-k3-s2-p1-divisor-map",
        )
    )
    return cases


@pytest.mark.parametrize(("spatial", "config", "form"), _sampled_forms())
def test_described_onnx_form_run_in_onnxruntime_equals_the_caffe_reference(spatial, config, form):
    x = np.random.default_rng(7).standard_normal((2, 3, *spatial)).astype(np.float32)
    got = run_ort_model(_form_model(form, x)).run(None, {"x": x})[0]
    np.testing.assert_allclose(got, caffe_pool(x, **config.kwargs()), rtol=1e-6, atol=1e-6)


def test_global_caffe_pooling_is_onnx_global_pooling():
    form = caffe_pooling_as_onnx((5, 7), CaffePooling(pool="AVE", global_pooling=True))
    assert form.op_type == "GlobalAveragePool" and form.exact and form.attributes() == {}
    x = _onnx_input((1, 2, 5, 7))
    np.testing.assert_allclose(form.run_reference(x), caffe_pool(x, pool="AVE", global_pooling=True), rtol=1e-6)


def test_caffe_empty_window_has_no_onnx_form():
    config = CaffePooling(pool="MAX", kernel_shape=(1, 1), strides=(3, 3))
    with pytest.raises(UnsupportedError, match=r"pools an empty window .* use round_mode FLOOR or stride <= kernel"):
        caffe_pooling_as_onnx((5, 5), config)


def test_equality_needs_the_same_windows_and_divisors():
    config = CaffePooling(pool="AVE", kernel_shape=(3, 3), strides=(2, 2), pads=(1, 1, 1, 1))
    exact = caffe_pooling_as_onnx((6, 6), config)
    assert caffe_pooling_equals_onnx((6, 6), config, exact)
    assert not caffe_pooling_equals_onnx((6, 6), config, replace(exact, count_include_pad=0))  # border divisors
    assert not caffe_pooling_equals_onnx((6, 6), config, replace(exact, ceil_mode=0))  # one window fewer
    assert not caffe_pooling_equals_onnx((6, 6), config, replace(exact, op_type="MaxPool"))


# ----------------------------------------------------------------------------------------------------------------
# Masks, indices, unpooling
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x_shape", "kernel", "stride", "pad"), [((2, 3, 9, 11), 3, 2, 1), ((1, 2, 8, 8), 2, 2, 0), ((2, 2, 5, 7), 2, 2, 1)]
)
def test_caffe_mask_converts_to_onnxruntime_indices_and_back(x_shape, kernel, stride, pad):
    x = _onnx_input(x_shape, seed=5)
    config = CaffePooling(pool="MAX", kernel_shape=(kernel,) * 2, strides=(stride,) * 2, pads=(pad,) * 4)
    pooled, mask = caffe_max_pool_with_mask(x, **_divisor_kwargs(config))
    form = caffe_pooling_as_onnx(x_shape[2:], config)
    expected, expected_indices = run_ort("MaxPool", {"x": x}, form.attributes(), n_outputs=2)
    np.testing.assert_array_equal(pooled, expected)
    np.testing.assert_array_equal(caffe_mask_to_onnx_indices(mask, x.shape), expected_indices)
    np.testing.assert_array_equal(onnx_indices_to_caffe_mask(expected_indices, x.shape), mask)


def test_mask_conversion_hand_computed_and_refusals():
    # Input (2, 3, 4, 5): plane 20; item (n=1, c=2) is plane 1 * 3 + 2 = 5, offset 100.
    mask = np.array([[[[7]], [[0]], [[19]]], [[[3]], [[-1]], [[4]]]], dtype=np.float32)
    indices = caffe_mask_to_onnx_indices(mask, (2, 3, 4, 5))
    np.testing.assert_array_equal(indices.ravel(), [7, 20, 59, 63, -1, 104])
    with pytest.raises(ValidationError, match=r"mask values must be plane indices in \[0, 20\)"):
        caffe_mask_to_onnx_indices(np.full((2, 3, 1, 1), 20), (2, 3, 4, 5))
    with pytest.raises(ValidationError, match=r"index 7 at \[0, 1, 0, 0\] is not in plane"):
        onnx_indices_to_caffe_mask(np.full((2, 3, 1, 1), 7), (2, 3, 4, 5))


def test_max_unpool_hand_computed():
    # 1-D: values [5, 6] at indices [1, 2] of a length-4 output (kernel 2, stride 2: (2 - 1) * 2 + 2 = 4).
    y = max_unpool(np.array([[[5.0, 6.0]]]), np.array([[[1, 2]]]), kernel_shape=[2], strides=[2])
    np.testing.assert_array_equal(y.ravel(), [0, 5, 6, 0])


@pytest.mark.parametrize(("x_shape", "with_output_shape"), [((1, 2, 8, 6), False), ((2, 3, 7, 9), True)])
def test_max_unpool_matches_onnxruntime_and_segnet_upsample(x_shape, with_output_shape):
    x = _onnx_input(x_shape, seed=6)
    attrs = {"kernel_shape": [2, 2], "strides": [2, 2]}
    pooled, indices = max_pool_with_indices(x, **attrs)
    inputs = {"x": pooled, "indices": indices}
    kwargs = {}
    if with_output_shape:
        inputs["output_shape"] = np.array(x.shape, dtype=np.int64)
        kwargs["output_shape"] = x.shape
    (expected,) = run_ort("MaxUnpool", inputs, attrs)
    got = max_unpool(pooled, indices, **attrs, **kwargs)
    np.testing.assert_array_equal(got, expected)
    # SegNet's Upsample does the same with the per-plane mask and the pooled input's size.
    mask = onnx_indices_to_caffe_mask(indices, x.shape)
    np.testing.assert_array_equal(caffe_max_unpool(pooled, mask, output_spatial=got.shape[2:]), got)


def test_segnet_upsample_refuses_a_mask_past_its_output():
    with pytest.raises(ValidationError, match=r"mask values must lie in \[0, 4\) for output \[2, 2\]"):
        caffe_max_unpool(np.ones((1, 1, 1, 1), np.float32), np.array([[[[4]]]]), output_spatial=(2, 2))


# ----------------------------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pool": "MAX", "kernel_shape": [3, 3], "pads": [1, 0, 0, 1]}, "Caffe pads symmetrically"),
        ({"pool": "AVE", "kernel_shape": [2, 2], "pads": [2, 2, 2, 2]}, "pad must be smaller than the kernel"),
        ({"pool": "MAX", "global_pooling": True, "kernel_shape": [2, 2]}, "global_pooling takes its kernel"),
        ({"pool": "STOCHASTIC", "kernel_shape": [2, 2]}, "pool must be MAX or AVE"),
        ({"pool": "MAX"}, "kernel_shape is required unless global_pooling"),
        ({"pool": "AVE", "kernel_shape": [3, 3], "round_mode": "UP"}, "round_mode must be CEIL or FLOOR"),
        ({"pool": "MAX", "kernel_shape": [7, 3], "strides": [2, 1]}, "output size of spatial axis 0 is 0 < 1"),
    ],
)
def test_caffe_pooling_refusals(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        caffe_pool(np.zeros((1, 1, 5, 5), np.float32), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kernel_shape": [2, 2], "pads": [2, 0, 0, 0]}, "pads must be smaller than the kernel"),
        ({"kernel_shape": [2]}, r"kernel_shape needs 2 values, got \[2\]"),
        ({"kernel_shape": [6, 2]}, "output size of spatial axis 0 is 0 < 1"),
        ({"kernel_shape": [2, 2], "ceil_mode": 2}, "ceil_mode must be 0 or 1"),
    ],
)
def test_onnx_pooling_refusals(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        max_pool(np.zeros((1, 1, 5, 5), np.float32), **kwargs)
