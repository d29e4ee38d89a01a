"""Tests of convertkit.reference.convolution: conv (fast path), conv_by_window (oracle) and inner_product.

Evidence, from cheapest to strongest: hand-computed values, fast == oracle over a hypothesis sweep, both against
onnxruntime on one-node Conv models over a seeded table of layers, and Caffe Convolution / InnerProduct layers
run by OpenCV's Caffe reader with weights written to a .caffemodel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from convertkit import shapes
from convertkit.codec.caffe import array_to_blob, pb
from convertkit.errors import ValidationError
from convertkit.reference import conv, conv_by_window, convolution, inner_product

BOTH = pytest.mark.parametrize("impl", [conv, conv_by_window], ids=["fast", "by_window"])


def _row(values, dtype=np.float64) -> np.ndarray:
    return np.array(values, dtype=dtype).reshape(1, 1, -1)


# ----------------------------------------------------------------------------------------------------------------
# Hand-computed values
# ----------------------------------------------------------------------------------------------------------------


@BOTH
def test_1d_is_a_correlation_not_a_convolution(impl):
    # Output o is sum_j x[o + j] * w[j]: [1*1 + 2*0 + 3*-1, 2*1 + 3*0 + 4*-1] = [-2, -2] (a flipped kernel gives +2).
    y = impl(_row([1, 2, 3, 4]), _row([1, 0, -1]))
    np.testing.assert_array_equal(y.ravel(), [-2, -2])


@BOTH
def test_1d_asymmetric_pads_stride_and_bias(impl):
    # Padded input [0, 1, 2, 3, 4, 5, 0, 0] (pads 1, 2), kernel [1, 1], stride 3: windows at 0, 3, 6 ->
    # [0+1, 3+4, 0+0] = [1, 7, 0], plus bias 10.
    y = impl(_row([1, 2, 3, 4, 5]), _row([1, 1]), np.array([10.0]), strides=[3], pads=[1, 2])
    np.testing.assert_array_equal(y.ravel(), [11, 17, 10])


@BOTH
def test_1d_dilation_skips_cells(impl):
    # Taps 2 apart: o -> x[o] * 1 + x[o + 2] * 10: [1 + 30, 2 + 40, 3 + 50].
    y = impl(_row([1, 2, 3, 4, 5]), _row([1, 10]), dilations=[2])
    np.testing.assert_array_equal(y.ravel(), [31, 42, 53])


@BOTH
def test_groups_see_only_their_channels(impl):
    # Two groups of one channel, kernel [1]: output channel 0 = 2 * x[0], channel 1 = 3 * x[1].
    x = np.array([[[1.0, 2.0], [5.0, 7.0]]])
    w = np.array([[[2.0]], [[3.0]]])
    y = impl(x, w, group=2)
    np.testing.assert_array_equal(y[0], [[2, 4], [15, 21]])


@BOTH
def test_2d_3x3_ones_with_pad_counts_the_neighbourhood(impl):
    # All-ones 3x3 input, all-ones 3x3 kernel, pad 1: each output counts the in-image cells of its 3x3
    # neighbourhood: 4 in the corners, 6 on the edges, 9 in the centre.
    y = impl(np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)), pads=[1, 1, 1, 1])
    np.testing.assert_array_equal(y[0, 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 5, 5)).astype(dtype)
    w = rng.standard_normal((3, 2, 3, 3))
    assert conv(x, w).dtype == dtype and conv_by_window(x, w).dtype == dtype


# ----------------------------------------------------------------------------------------------------------------
# onnxruntime on a seeded table of layers
# ----------------------------------------------------------------------------------------------------------------

#: id -> (x shape, w shape, attributes, bias?).  Every code path of conv: im2col, depthwise (with and without a
#: channel multiplier), pointwise; 1-D, 2-D, 3-D; groups, dilations, asymmetric pads, strides, stride > kernel.
ORT_CASES = {
    "1d_k3": ((2, 3, 11), (4, 3, 3), {}, True),
    "1d_s2_d2_asym": ((1, 4, 13), (6, 2, 3), {"strides": [2], "dilations": [2], "pads": [2, 1], "group": 2}, True),
    "2d_k3_p1": ((1, 5, 9, 9), (7, 5, 3, 3), {"pads": [1, 1, 1, 1]}, True),
    "2d_k3_s2_odd": ((2, 3, 10, 7), (4, 3, 3, 3), {"strides": [2, 2]}, False),
    "2d_asym_pads": ((1, 4, 8, 9), (5, 4, 3, 2), {"pads": [0, 2, 1, 0], "strides": [1, 3]}, True),
    "2d_dilated_grouped": ((1, 6, 11, 11), (9, 2, 3, 3), {"dilations": [2, 3], "group": 3, "pads": [2, 1, 2, 3]}, True),
    "2d_stride_gt_kernel": ((1, 2, 10, 10), (3, 2, 2, 2), {"strides": [3, 4]}, True),
    "2d_depthwise": ((1, 8, 12, 12), (8, 1, 3, 3), {"group": 8, "pads": [1, 1, 1, 1]}, True),
    "2d_depthwise_s2": ((2, 4, 9, 9), (4, 1, 5, 5), {"group": 4, "strides": [2, 2], "pads": [2, 2, 2, 2]}, False),
    "2d_channel_multiplier": ((1, 3, 7, 7), (6, 1, 3, 3), {"group": 3, "dilations": [2, 1]}, True),
    "2d_pointwise": ((2, 6, 5, 4), (4, 6, 1, 1), {}, True),
    "2d_pointwise_grouped_s2": ((1, 6, 6, 6), (4, 3, 1, 1), {"group": 2, "strides": [2, 2]}, True),
    "2d_kernel_eq_input": ((1, 2, 4, 5), (3, 2, 4, 5), {}, True),
    "3d_k3_p1": ((1, 3, 6, 7, 5), (4, 3, 3, 3, 3), {"pads": [1] * 6}, True),
    "3d_grouped_strided": (
        (1, 4, 7, 6, 8),
        (6, 2, 2, 3, 2),
        {"group": 2, "strides": [2, 1, 3], "pads": [0, 1, 1, 1, 0, 1]},
        True,
    ),
    "3d_dilated": ((1, 2, 9, 9, 9), (2, 2, 2, 2, 2), {"dilations": [3, 2, 4]}, False),
}


def run_ort_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, attrs: dict) -> np.ndarray:
    names = ["x", "w"] + ([] if b is None else ["b"])
    arrays = [x, w] + ([] if b is None else [b])
    node = helper.make_node("Conv", names, ["y"], **attrs)
    inputs = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, list(a.shape)) for n, a in zip(names, arrays, strict=True)
    ]
    graph = helper.make_graph([node], "conv", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, dict(zip(names, arrays, strict=True)))[0]


def _case_arrays(x_shape, w_shape, with_bias, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = rng.standard_normal(w_shape, dtype=np.float32)
    b = rng.standard_normal(w_shape[0], dtype=np.float32) if with_bias else None
    return x, w, b


def _assert_close_scaled(got, expected, rel=2e-6):
    """Max error relative to the output's scale: float32 sums of O(100) products agree to a few ulps of it."""
    assert got.shape == expected.shape
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(got, expected, rtol=0, atol=rel * scale)


@pytest.mark.parametrize("case", list(ORT_CASES), ids=list(ORT_CASES))
@BOTH
def test_matches_onnxruntime(impl, case):
    x_shape, w_shape, attrs, with_bias = ORT_CASES[case]
    x, w, b = _case_arrays(x_shape, w_shape, with_bias)
    _assert_close_scaled(impl(x, w, b, **attrs), run_ort_conv(x, w, b, attrs))


def test_fast_path_float32_accumulation_stays_within_float32_rounding_of_the_exact_value():
    # The fast path sums in float32 like onnxruntime's MLAS GEMM; its distance to the float64 result (the
    # oracle) is that of onnxruntime, a few ulps of the output scale for 576-term sums.
    x, w, b = _case_arrays((1, 64, 16, 16), (32, 64, 3, 3), True, seed=3)
    exact = conv(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), pads=[1, 1, 1, 1])
    ours = conv(x, w, b, pads=[1, 1, 1, 1])
    theirs = run_ort_conv(x, w, b, {"pads": [1, 1, 1, 1]})
    scale = float(np.max(np.abs(exact)))
    ours_error, ort_error = np.max(np.abs(ours - exact)) / scale, np.max(np.abs(theirs - exact)) / scale
    assert ours_error < 4 * np.finfo(np.float32).eps and ort_error < 4 * np.finfo(np.float32).eps


# ----------------------------------------------------------------------------------------------------------------
# fast == oracle over a hypothesis sweep
# ----------------------------------------------------------------------------------------------------------------


@st.composite
def conv_layers(draw):
    rank = draw(st.integers(1, 3))
    group = draw(st.sampled_from([1, 2, 3]))
    in_per_group = draw(st.integers(1, 3))
    out_per_group = draw(st.integers(1, 3))
    kernel = [draw(st.integers(1, 3)) for _ in range(rank)]
    dilations = [draw(st.integers(1, 3)) for _ in range(rank)]
    strides = [draw(st.integers(1, 3)) for _ in range(rank)]
    pads = [draw(st.integers(0, 2)) for _ in range(2 * rank)]
    spatial = []
    for a in range(rank):
        k_eff = shapes.effective_kernel(kernel[a], dilations[a])
        low = max(1, k_eff - pads[a] - pads[rank + a])
        spatial.append(draw(st.integers(low, low + (6 if rank < 3 else 3))))
    batch = draw(st.integers(1, 2))
    return {
        "x_shape": (batch, group * in_per_group, *spatial),
        "w_shape": (group * out_per_group, in_per_group, *kernel),
        "attrs": {"strides": strides, "pads": pads, "dilations": dilations, "group": group},
        "bias": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(layer=conv_layers())
def test_fast_path_equals_oracle(layer):
    rng = np.random.default_rng(layer["seed"])
    x = rng.standard_normal(layer["x_shape"])
    w = rng.standard_normal(layer["w_shape"])
    b = rng.standard_normal(layer["w_shape"][0]) if layer["bias"] else None
    np.testing.assert_allclose(conv(x, w, b, **layer["attrs"]), conv_by_window(x, w, b, **layer["attrs"]), atol=1e-12)


@pytest.mark.parametrize("case", ["2d_depthwise", "2d_depthwise_s2", "2d_channel_multiplier"])
def test_channel_blocks_on_threads_give_the_serial_result(case, monkeypatch):
    # Large depthwise layers run in blocks of channels on worker threads; force that path on small ones.
    x_shape, w_shape, attrs, with_bias = ORT_CASES[case]
    x, w, b = _case_arrays(x_shape, w_shape, with_bias, seed=8)
    serial = conv(x, w, b, **attrs)
    monkeypatch.setattr(convolution, "PARALLEL_MIN_ELEMENTS", 1)
    monkeypatch.setattr(convolution, "_WORKERS", 2)
    np.testing.assert_array_equal(conv(x, w, b, **attrs), serial)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "attrs"),
    [
        ((2, 4, 9, 7), (6, 4, 3, 3), {"pads": [1, 0, 2, 1]}),  # bias folded (small weights)
        ((1, 4, 11, 5), (6, 2, 3, 2), {"group": 2, "strides": [2, 1], "dilations": [1, 2]}),
        ((2, 3, 13), (4, 3, 3), {"pads": [1, 1]}),
        ((1, 2, 5, 4, 3), (3, 2, 2, 2, 2), {"pads": [1] * 6}),
        ((1, 8, 4, 4), (64, 8, 3, 3), {}),  # weights larger than the output: the bias is added after the GEMM
    ],
)
def test_im2col_in_row_blocks_gives_the_whole_matrix_result(x_shape, w_shape, attrs, monkeypatch):
    # A small budget and block width split every item's im2col matrix into blocks of output rows (the last one
    # ragged, down to one row); BLAS may sum a narrow block in another order, so: within float32 rounding of the
    # whole-matrix result and of the float64 oracle (a misplaced block would be off by whole products).
    rng = np.random.default_rng(11)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(w_shape[0]).astype(np.float32)
    expected = conv_by_window(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), **attrs)
    scale = float(np.abs(expected).max())
    whole = conv(x, w, b, **attrs)
    np.testing.assert_allclose(whole, expected, rtol=0, atol=1e-6 * scale)
    monkeypatch.setattr(convolution, "_MIN_BLOCK_COLUMNS", 1)
    for budget in (1, 37, 200):
        monkeypatch.setattr(convolution, "_IM2COL_ELEMENTS", budget)
        blocked = conv(x, w, b, **attrs)
        np.testing.assert_allclose(blocked, whole, rtol=0, atol=1e-6 * scale)
        np.testing.assert_allclose(blocked, expected, rtol=0, atol=1e-6 * scale)


# ----------------------------------------------------------------------------------------------------------------
# Validation: the message names the rule and the values
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs", "message"),
    [
        ((1, 6, 5, 5), (4, 2, 3, 3), {"group": 4}, "group=4 must divide the input channels C=6"),
        ((1, 6, 5, 5), (4, 3, 3, 3), {"group": 3}, "group=3 must divide the output channels M=w.shape[0]=4"),
        ((1, 6, 5, 5), (4, 2, 3, 3), {"group": 2}, "w.shape[1] * group = 2 * 2 must equal the input channels C=6"),
        ((1, 2, 5, 5), (4, 2, 3), {}, "w must have the rank of x (4)"),
        (
            (1, 2, 5, 5),
            (4, 2, 3, 3),
            {"pads": [1, -1, 0, 0]},
            "pads (begin..., end...) must be >= 0, got [1, -1, 0, 0]",
        ),
        ((1, 2, 5, 5), (4, 2, 3, 3), {"pads": [1, 1]}, "pads (begin..., end...) needs 4 values, got [1, 1]"),
        ((1, 2, 5, 5), (4, 2, 3, 3), {"strides": [0, 1]}, "strides must be positive, got [0, 1]"),
        ((1, 2, 4, 5), (4, 2, 3, 3), {"dilations": [2, 1]}, "output size of spatial axis 0 is 0 < 1"),
        ((1, 2, 5, 5), (4, 2, 3, 3), {"kernel_shape": [3, 2]}, "kernel_shape [3, 2] must equal w.shape[2:] = [3, 3]"),
    ],
)
@BOTH
def test_invalid_layers_are_refused_with_the_rule_and_values(impl, x_shape, w_shape, kwargs, message):
    with pytest.raises(ValidationError) as info:
        impl(np.zeros(x_shape, np.float32), np.zeros(w_shape, np.float32), **kwargs)
    assert message in str(info.value)


def test_bias_shape_and_input_dtype_are_checked():
    x, w = np.zeros((1, 2, 5, 5), np.float32), np.zeros((4, 2, 3, 3), np.float32)
    with pytest.raises(ValidationError, match=r"bias must have shape \(M,\) = \(4,\), got \[3\]"):
        conv(x, w, np.zeros(3))
    with pytest.raises(ValidationError, match="x must be float32 or float64, not int64"):
        conv(np.zeros((1, 2, 5, 5), np.int64), w)


# ----------------------------------------------------------------------------------------------------------------
# InnerProduct
# ----------------------------------------------------------------------------------------------------------------


def test_inner_product_hand_computed():
    # x (1, 2, 1, 2) flattens to [1, 2, 3, 4]; rows of w are [1, 0, 0, 0] and [1, 1, 1, 1]: [1, 10] + bias.
    x = np.arange(1, 5, dtype=np.float64).reshape(1, 2, 1, 2)
    w = np.array([[1, 0, 0, 0], [1, 1, 1, 1]], dtype=np.float64)
    np.testing.assert_array_equal(inner_product(x, w, np.array([0.5, -1])), [[1.5, 9]])
    np.testing.assert_array_equal(inner_product(x, w.T, transpose=True), [[1, 10]])


@pytest.mark.parametrize("axis", [1, 2, -1])
def test_inner_product_matches_onnxruntime_flatten_gemm(axis):
    rng = np.random.default_rng(axis + 5)
    x = rng.standard_normal((2, 3, 4, 5), dtype=np.float32)
    rows, depth = int(np.prod(x.shape[: axis % 4])), int(np.prod(x.shape[axis % 4 :]))
    w = rng.standard_normal((6, depth), dtype=np.float32)
    b = rng.standard_normal(6, dtype=np.float32)
    nodes = [
        helper.make_node("Flatten", ["x"], ["flat"], axis=axis % 4),
        helper.make_node("Gemm", ["flat", "w", "b"], ["y"], transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "ip",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape)),
            helper.make_tensor_value_info("w", TensorProto.FLOAT, list(w.shape)),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [6]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = session.run(None, {"x": x, "w": w, "b": b})[0].reshape(*x.shape[: axis % 4], 6)
    assert rows * 6 == expected.size
    _assert_close_scaled(inner_product(x, w, b, axis=axis), expected)


def test_inner_product_refuses_a_weight_of_the_wrong_depth():
    with pytest.raises(ValidationError, match=r"w is \(num_output, K\) with K = prod\(x.shape\[1:\]\) = 8"):
        inner_product(np.zeros((1, 2, 2, 2), np.float32), np.zeros((3, 6), np.float32))


# ----------------------------------------------------------------------------------------------------------------
# Caffe Convolution / InnerProduct in OpenCV's Caffe reader
# ----------------------------------------------------------------------------------------------------------------


def _opencv_forward(tmp_path: Path, x: np.ndarray, layer: str, name: str, blobs: list[np.ndarray]) -> np.ndarray:
    cv2 = pytest.importorskip("cv2")
    if not hasattr(cv2, "dnn") or not hasattr(cv2.dnn, "readNetFromCaffe"):
        pytest.skip("this OpenCV has no Caffe reader (opencv-python-headless<5 has)")
    dims = " ".join(f"dim: {d}" for d in x.shape)
    (tmp_path / "net.prototxt").write_text(f'input: "data"\ninput_shape {{ {dims} }}\n{layer}\n')
    weights = pb.NetParameter()
    entry = weights.layer.add()
    entry.name = name
    entry.blobs.extend(array_to_blob(b) for b in blobs)
    (tmp_path / "net.caffemodel").write_bytes(weights.SerializeToString())
    net = cv2.dnn.readNetFromCaffe(str(tmp_path / "net.prototxt"), str(tmp_path / "net.caffemodel"))
    net.setInput(x)
    return net.forward(name)


#: id -> (x shape, num_output, convolution_param text, (kernel, strides, pads (begin..., end...), dilations), group)
CAFFE_CONV_CASES = {
    "k3_p1": ((1, 3, 9, 9), 4, "kernel_size: 3 pad: 1", ((3, 3), (1, 1), (1, 1, 1, 1), (1, 1)), 1),
    "k3_s2_odd": ((1, 3, 10, 7), 5, "kernel_size: 3 stride: 2", ((3, 3), (2, 2), (0, 0, 0, 0), (1, 1)), 1),
    "kh_kw_ph_pw_sh_sw": (
        (2, 2, 11, 9),
        3,
        "kernel_h: 3 kernel_w: 2 pad_h: 2 pad_w: 1 stride_h: 2 stride_w: 3",
        ((3, 2), (2, 3), (2, 1, 2, 1), (1, 1)),
        1,
    ),
    "dilated_grouped": (
        (1, 4, 12, 12),
        6,
        "kernel_size: 3 dilation: 2 pad: 2 group: 2",
        ((3, 3), (1, 1), (2, 2, 2, 2), (2, 2)),
        2,
    ),
    "depthwise": (
        (1, 5, 8, 8),
        5,
        "kernel_size: 3 pad: 1 stride: 2 group: 5",
        ((3, 3), (2, 2), (1, 1, 1, 1), (1, 1)),
        5,
    ),
}


@pytest.mark.parametrize("case", list(CAFFE_CONV_CASES), ids=list(CAFFE_CONV_CASES))
def test_caffe_convolution_in_opencv_equals_conv_with_symmetric_pads(case, tmp_path):
    x_shape, num_output, params, (kernel, strides, pads, dilations), group = CAFFE_CONV_CASES[case]
    rng = np.random.default_rng(11)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = rng.standard_normal((num_output, x_shape[1] // group, *kernel), dtype=np.float32)
    b = rng.standard_normal(num_output, dtype=np.float32)
    layer = (
        'layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" '
        f"convolution_param {{ num_output: {num_output} {params} }} }}"
    )
    got = _opencv_forward(tmp_path, x, layer, "conv", [w, b])
    expected = conv(x, w, b, strides=strides, pads=pads, dilations=dilations, group=group)
    for axis, size in enumerate(expected.shape[2:]):
        assert size == shapes.caffe_conv_output_size(
            x_shape[2 + axis], kernel[axis], strides[axis], pads[axis], dilations[axis]
        )
    _assert_close_scaled(got, expected, rel=1e-5)


def test_caffe_inner_product_in_opencv(tmp_path):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 3, 4, 4), dtype=np.float32)
    w = rng.standard_normal((5, 48), dtype=np.float32)
    b = rng.standard_normal(5, dtype=np.float32)
    layer = 'layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc" inner_product_param { num_output: 5 } }'
    got = _opencv_forward(tmp_path, x, layer, "fc", [w, b])
    _assert_close_scaled(got.reshape(2, 5), inner_product(x, w, b), rel=1e-5)
