"""Tests of convertkit.reference.conv_transpose (fast path) and conv_transpose_scatter (oracle).

Independent evidence, from cheapest to strongest: hand-computed values, the adjoint identity against a direct
forward convolution written here, fast == scatter over a hypothesis sweep, and onnxruntime on one-node models.
"""

from __future__ import annotations

import itertools
import threading

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from convertkit.errors import ValidationError
from convertkit.reference import conv_transpose, conv_transpose_scatter

BOTH = pytest.mark.parametrize("impl", [conv_transpose, conv_transpose_scatter], ids=["fast", "scatter"])
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64])


# ----------------------------------------------------------------------------------------------------------------
# Hand-computed values
# ----------------------------------------------------------------------------------------------------------------


@BOTH
@DTYPES
def test_seed_example_2x2_by_3x3_ones_stride_2(impl, dtype):
    x = np.array([[[[1, 2], [3, 4]]]], dtype=dtype)
    w = np.ones((1, 1, 3, 3), dtype=dtype)
    expected = np.array(
        [[1, 1, 3, 2, 2], [1, 1, 3, 2, 2], [4, 4, 10, 6, 6], [3, 3, 7, 4, 4], [3, 3, 7, 4, 4]], dtype=dtype
    )
    y = impl(x, w, strides=[2, 2])
    assert y.dtype == dtype
    np.testing.assert_array_equal(y[0, 0], expected)


def _one_d(values):
    return np.array(values, dtype=np.float64).reshape(1, 1, -1)


@BOTH
def test_1d_pads_crop_both_ends(impl):
    # Scatter of [1,2,3] * [1,2,1] at stride 2 is [1,2,3,4,5,6,3]; pads (1,1) drop one row at each end.
    y = impl(_one_d([1, 2, 3]), _one_d([1, 2, 1]), strides=[2], pads=[1, 1])
    np.testing.assert_array_equal(y.ravel(), [2, 3, 4, 5, 6])


@BOTH
def test_1d_asymmetric_pads(impl):
    y = impl(_one_d([1, 2, 3]), _one_d([1, 2, 1]), strides=[2], pads=[0, 2])
    np.testing.assert_array_equal(y.ravel(), [1, 2, 3, 4, 5])


@BOTH
def test_1d_output_padding_appends_a_row_then_crops(impl):
    # [1,2,3,4,5,6,3] + one output_padding row -> [1,2,3,4,5,6,3,0], then pads (1,1).
    y = impl(_one_d([1, 2, 3]), _one_d([1, 2, 1]), strides=[2], pads=[1, 1], output_padding=[1])
    np.testing.assert_array_equal(y.ravel(), [2, 3, 4, 5, 6, 3])


@BOTH
def test_1d_dilation_stride_1(impl):
    # Taps 2 apart: x[0] lands on rows 0 and 2, x[1] on rows 1 and 3.
    y = impl(_one_d([1, 2]), _one_d([1, 10]), dilations=[2])
    np.testing.assert_array_equal(y.ravel(), [1, 2, 10, 20])


@BOTH
def test_1d_dilation_3_stride_2(impl):
    # x[0] lands on rows 0 and 3, x[1] on rows 2 and 5; row 1 and row 4 get nothing.
    y = impl(_one_d([1, 2]), _one_d([1, 10]), strides=[2], dilations=[3])
    np.testing.assert_array_equal(y.ravel(), [1, 0, 2, 10, 0, 20])


@BOTH
def test_1d_output_padding_larger_than_stride_holds_bias_only(impl):
    # PyTorch allows output_padding < dilation even when >= stride; the extra rows hold the bias only.
    y = impl(_one_d([1, 2]), _one_d([1, 10]), np.array([0.5]), strides=[1], dilations=[3], output_padding=[2])
    np.testing.assert_array_equal(y.ravel(), [1.5, 2.5, 0.5, 10.5, 20.5, 0.5, 0.5])


@BOTH
def test_1d_pads_beyond_the_scatter_leave_bias_rows(impl):
    # Scatter [1, 2] (k=1, stride 3) is [1, 0, 0, 2]; output_padding 3 appends 3 rows; pads (4, 0) drop the
    # whole scatter, leaving the 3 output_padding rows, which hold the bias only.
    # output_padding 3 >= stride 3 breaks the layer's rule (issue 7), so the public functions refuse it; the
    # layer's resolved geometry (an output_shape past the scatter) still computes these rows.
    from convertkit.reference.conv_transpose import conv_transpose_resolved

    with pytest.raises(ValidationError, match="output_padding must be smaller"):
        impl(_one_d([1, 2]), _one_d([1]), np.array([7.0]), strides=[3], pads=[4, 0], output_padding=[3])
    y = conv_transpose_resolved(
        _one_d([1, 2]),
        _one_d([1]),
        np.array([7.0]),
        strides=[3],
        pads=[4, 0],
        dilations=[1],
        group=1,
        output_padding=[3],
    )
    np.testing.assert_array_equal(y.ravel(), [7.0, 7.0, 7.0])


@BOTH
def test_grouped_depthwise_two_channels(impl):
    x = np.array([[[1, 2], [3, 4]]], dtype=np.float64)  # (N=1, C=2, L=2)
    w = np.array([[[1, 1]], [[1, -1]]], dtype=np.float64)  # (C=2, M/group=1, k=2)
    y = impl(x, w, group=2)
    np.testing.assert_array_equal(y[0], [[1, 3, 2], [3, 1, -4]])


@BOTH
def test_grouped_with_more_outputs_than_inputs_and_bias(impl):
    # group 2, C=2, M=4: channel 0 feeds outputs 0 and 1, channel 1 feeds outputs 2 and 3.
    x = np.array([[[1, 2], [3, 4]]], dtype=np.float64)
    w = np.array([[[1, 0], [0, 1]], [[1, 1], [2, 2]]], dtype=np.float64)  # (C=2, M/group=2, k=2)
    b = np.array([1, 2, 3, 4], dtype=np.float64)
    y = impl(x, w, b, group=2)
    expected = np.array([[1, 2, 0], [0, 1, 2], [3, 7, 4], [6, 14, 8]]) + b[:, None]
    np.testing.assert_array_equal(y[0], expected)


@BOTH
def test_multiple_input_channels_sum_into_each_output(impl):
    x = np.array([[[1, 2], [10, 20]]], dtype=np.float64)  # C=2
    w = np.array([[[1, 1]], [[1, -1]]], dtype=np.float64)  # (C=2, M=1, k=2), group 1
    y = impl(x, w, strides=[2])
    # channel 0 -> [1,1,2,2]; channel 1 -> [10,-10,20,-20]
    np.testing.assert_array_equal(y[0, 0], [11, -9, 22, -18])


# ----------------------------------------------------------------------------------------------------------------
# Random configurations shared by the sweeps
# ----------------------------------------------------------------------------------------------------------------


def random_config(rng: np.random.Generator, *, ort_compatible: bool) -> dict:
    """A random ConvTranspose: rank 1-3, groups with C != M, dilation, asymmetric pads, output_padding, bias."""
    while True:
        rank = int(rng.integers(1, 4))
        group = int(rng.choice([1, 1, 2, 3]))
        in_per_group, out_per_group = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        spatial = [int(rng.integers(1, 7 if rank < 3 else 5)) for _ in range(rank)]
        kernel = [int(rng.integers(1, 5)) for _ in range(rank)]
        strides = [int(rng.integers(1, 4)) for _ in range(rank)]
        dilations = [int(rng.choice([1, 1, 2, 3])) for _ in range(rank)]
        if ort_compatible:
            output_padding = [int(rng.integers(0, s)) for s in strides]
        else:
            output_padding = [int(rng.integers(0, max(s, d))) for s, d in zip(strides, dilations, strict=True)]
        pads = [int(rng.integers(0, 4)) for _ in range(2 * rank)]
        out = [
            s * (i - 1) + op + d * (k - 1) + 1 - pads[a] - pads[rank + a]
            for a, (i, k, s, d, op) in enumerate(zip(spatial, kernel, strides, dilations, output_padding, strict=True))
        ]
        if min(out) >= 1:
            break
    return {
        "x_shape": (int(rng.integers(1, 3)), group * in_per_group, *spatial),
        "w_shape": (group * in_per_group, out_per_group, *kernel),
        "bias": bool(rng.integers(0, 2)),
        "attributes": {
            "strides": strides,
            "dilations": dilations,
            "pads": pads,
            "output_padding": output_padding,
            "group": group,
        },
    }


def random_tensors(rng: np.random.Generator, config: dict, dtype=np.float64):
    x = rng.standard_normal(config["x_shape"]).astype(dtype)
    w = rng.standard_normal(config["w_shape"]).astype(dtype)
    m = config["w_shape"][1] * config["attributes"]["group"]
    b = rng.standard_normal(m).astype(dtype) if config["bias"] else None
    return x, w, b


# ----------------------------------------------------------------------------------------------------------------
# Adjoint identity against an independent direct convolution
# ----------------------------------------------------------------------------------------------------------------


def direct_conv(r, w, *, strides, pads, dilations, group, input_spatial):
    """Forward grouped cross-correlation of ``r`` (N, M, *out) with ``w`` (C, M/group, *k) back to x's shape.

    ``result[n, c, i] = sum over m in c's group and taps k of w[c, m, k] * r[n, m, i*s + k*d - pad_begin]``,
    reading zero outside ``r``: the adjoint of ConvTranspose, written without any code of the reference.
    """
    rank = len(input_spatial)
    batch, channels = r.shape[0], w.shape[0]
    in_per_group, out_per_group = channels // group, w.shape[1]
    kernel = w.shape[2:]
    # Zero rows so every read index i*s + k*d (after shifting by pad_begin) is inside the array.
    before = [pads[a] for a in range(rank)]
    after = [
        max(0, strides[a] * (input_spatial[a] - 1) + dilations[a] * (kernel[a] - 1) + 1 - (r.shape[2 + a] + pads[a]))
        for a in range(rank)
    ]
    r_padded = np.pad(r, [(0, 0), (0, 0)] + list(zip(before, after, strict=True)))
    result = np.zeros((batch, channels, *input_spatial))
    for c in range(channels):
        g = c // in_per_group
        for m_local in range(out_per_group):
            m = g * out_per_group + m_local
            for tap in itertools.product(*(range(k) for k in kernel)):
                window = tuple(
                    slice(
                        tap[a] * dilations[a],
                        tap[a] * dilations[a] + strides[a] * (input_spatial[a] - 1) + 1,
                        strides[a],
                    )
                    for a in range(rank)
                )
                result[:, c] += w[(c, m_local, *tap)] * r_padded[(slice(None), m, *window)]
    return result


def test_direct_conv_matches_a_hand_computed_value():
    # Guard the guard: 1-D, r = [1, 2, 3, 4], w = [1, 10], stride 2, pad_begin 1 -> x positions 0 and 1 read
    # r[-1] (zero), r[0] and r[1], r[2]: [0*1 + 1*10, 2*1 + 3*10].
    r = np.array([1.0, 2, 3, 4]).reshape(1, 1, 4)
    w = np.array([1.0, 10]).reshape(1, 1, 2)
    got = direct_conv(r, w, strides=[2], pads=[1, 0], dilations=[1], group=1, input_spatial=(2,))
    np.testing.assert_array_equal(got.ravel(), [10, 32])


@pytest.mark.parametrize("seed", range(100))
def test_adjoint_identity(seed):
    rng = np.random.default_rng(1000 + seed)
    config = random_config(rng, ort_compatible=False)
    x, w, _ = random_tensors(rng, config)
    attributes = config["attributes"]
    y = conv_transpose(x, w, **attributes)
    r = rng.standard_normal(y.shape)
    back = direct_conv(
        r, w, input_spatial=x.shape[2:], **{k: attributes[k] for k in ("strides", "pads", "dilations", "group")}
    )
    lhs, rhs = float(np.vdot(y, r)), float(np.vdot(x, back))
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-10), config


# ----------------------------------------------------------------------------------------------------------------
# Fast path == scatter oracle
# ----------------------------------------------------------------------------------------------------------------


@st.composite
def conv_transpose_cases(draw):
    """Drawn field by field (not from a seed) so that hypothesis can shrink a failure to a small layer."""
    rank = draw(st.integers(1, 3))
    per_axis = st.lists(st.integers(1, 6 if rank < 3 else 4), min_size=rank, max_size=rank)
    spatial = draw(per_axis)
    kernel = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    strides = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    dilations = draw(st.lists(st.integers(1, 3), min_size=rank, max_size=rank))
    # Below max(stride, dilation): includes output_padding >= stride when < dilation (PyTorch's rule).
    output_padding = [draw(st.integers(0, max(s, d) - 1)) for s, d in zip(strides, dilations, strict=True)]
    pads = draw(st.lists(st.integers(0, 5), min_size=2 * rank, max_size=2 * rank))
    out = [
        s * (i - 1) + op + d * (k - 1) + 1 - pads[a] - pads[rank + a]
        for a, (i, k, s, d, op) in enumerate(zip(spatial, kernel, strides, dilations, output_padding, strict=True))
    ]
    assume(min(out) >= 1)
    group = draw(st.sampled_from([1, 2, 3]))
    in_per_group, out_per_group = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    config = {
        "x_shape": (draw(st.integers(1, 2)), group * in_per_group, *spatial),
        "w_shape": (group * in_per_group, out_per_group, *kernel),
        "bias": draw(st.booleans()),
        "attributes": {
            "strides": strides,
            "dilations": dilations,
            "pads": pads,
            "output_padding": output_padding,
            "group": group,
        },
    }
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return config, random_tensors(rng, config, dtype)


@settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(conv_transpose_cases())
def test_fast_path_matches_scatter(case):
    config, (x, w, b) = case
    fast = conv_transpose(x, w, b, **config["attributes"])
    slow = conv_transpose_scatter(x, w, b, **config["attributes"])
    assert fast.shape == slow.shape and fast.dtype == slow.dtype == x.dtype
    tolerance = 1e-4 if x.dtype == np.float32 else 1e-11
    np.testing.assert_allclose(
        fast, slow, rtol=tolerance, atol=tolerance * max(1.0, float(np.abs(slow).max(initial=0)))
    )


def test_fast_path_in_small_chunks_matches_scatter(monkeypatch):
    # Force the row/batch chunking of the fast path (normally only big inputs are split).
    module = __import__("convertkit.reference.conv_transpose", fromlist=["_CHUNK_ELEMENTS"])
    monkeypatch.setattr(module, "_CHUNK_ELEMENTS", 5)
    rng = np.random.default_rng(7)
    for _ in range(40):
        config = random_config(rng, ort_compatible=False)
        x, w, b = random_tensors(rng, config)
        np.testing.assert_allclose(
            conv_transpose(x, w, b, **config["attributes"]),
            conv_transpose_scatter(x, w, b, **config["attributes"]),
            rtol=1e-11,
            atol=1e-11,
        )


def test_results_do_not_alias_scratch_memory():
    rng = np.random.default_rng(3)
    x1, x2 = rng.standard_normal((2, 1, 4, 5, 5))
    w = rng.standard_normal((4, 3, 3, 3))
    first = conv_transpose(x1, w, strides=[2, 2])
    kept = first.copy()
    conv_transpose(x2, w, strides=[2, 2])
    np.testing.assert_array_equal(first, kept)


def test_threads_get_their_own_scratch():
    rng = np.random.default_rng(4)
    inputs = [rng.standard_normal((2, 6, 9, 9)) for _ in range(4)]
    w = rng.standard_normal((6, 4, 4, 4))
    expected = [conv_transpose_scatter(x, w, strides=[2, 2], pads=[1, 1, 1, 1]) for x in inputs]
    results: list = [None] * len(inputs)

    def work(index):
        for _ in range(5):
            results[index] = conv_transpose(inputs[index], w, strides=[2, 2], pads=[1, 1, 1, 1])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for got, want in zip(results, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------------------------------------------
# onnxruntime
# ----------------------------------------------------------------------------------------------------------------


def run_ort_conv_transpose(x, w, b, attributes: dict) -> np.ndarray:
    feeds = {"x": x, "w": w} if b is None else {"x": x, "w": w, "b": b}
    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, list(a.shape)) for name, a in feeds.items()]
    node = helper.make_node("ConvTranspose", list(feeds), ["y"], **attributes)
    output = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph([node], "conv_transpose", inputs, [output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # small models: thread start-up would dominate
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


def assert_close_float32(got, want):
    assert got.shape == want.shape
    scale = max(1.0, float(np.abs(want).max(initial=0)))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.parametrize("seed", range(250))
def test_matches_onnxruntime_random(seed):
    rng = np.random.default_rng(2000 + seed)
    config = random_config(rng, ort_compatible=True)
    x, w, b = random_tensors(rng, config, np.float32)
    attributes = {k: v for k, v in config["attributes"].items()}
    want = run_ort_conv_transpose(x, w, b, attributes)
    assert_close_float32(conv_transpose(x, w, b, **attributes), want)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "attributes"),
    [
        # The benchmark layers (benchmarks/bench_reference.py): sizes where the fast path splits into chunks.
        ((1, 64, 64, 64), (64, 32, 4, 4), {"strides": [2, 2], "pads": [1, 1, 1, 1]}),
        ((8, 128, 32, 32), (128, 64, 4, 4), {"strides": [2, 2], "pads": [1, 1, 1, 1]}),
        ((1, 16, 16, 16, 16), (16, 8, 3, 3, 3), {"strides": [2, 2, 2], "pads": [1] * 6, "output_padding": [1, 1, 1]}),
        ((1, 21, 64, 64), (21, 1, 16, 16), {"strides": [8, 8], "pads": [4, 4, 4, 4], "group": 21}),
        # Large grouped (not depthwise) and dilated layers.
        ((2, 32, 24, 20), (32, 6, 5, 3), {"strides": [3, 2], "dilations": [2, 3], "pads": [2, 0, 1, 3], "group": 4}),
        ((1, 48, 40, 40), (48, 2, 4, 4), {"strides": [2, 2], "pads": [1, 1, 1, 1], "group": 48}),
    ],
)
def test_large_layers_match_onnxruntime(x_shape, w_shape, attributes):
    rng = np.random.default_rng(8)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(w_shape[1] * attributes.get("group", 1)).astype(np.float32)
    assert_close_float32(conv_transpose(x, w, b, **attributes), run_ort_conv_transpose(x, w, b, attributes))


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "attributes"),
    [
        # SAME_*: total padding s*(i-1) + k_eff - i*s = 3 here, odd, so the two modes differ.
        ((1, 2, 5), (2, 3, 4), {"strides": [1], "auto_pad": "SAME_UPPER"}),
        ((1, 2, 5), (2, 3, 4), {"strides": [1], "auto_pad": "SAME_LOWER"}),
        ((1, 2, 4, 5), (2, 2, 3, 5), {"strides": [2, 2], "auto_pad": "SAME_UPPER"}),
        ((1, 2, 4, 5), (2, 2, 3, 5), {"strides": [2, 2], "auto_pad": "SAME_LOWER"}),
        ((1, 3, 3, 4), (3, 2, 4, 3), {"strides": [3, 1], "dilations": [1, 2], "auto_pad": "SAME_UPPER"}),
        ((1, 3, 3, 4), (3, 2, 4, 3), {"strides": [3, 1], "dilations": [1, 2], "auto_pad": "SAME_LOWER"}),
        # Effective kernel smaller than the stride: onnxruntime clamps the pads to zero.
        ((1, 1, 4), (1, 1, 2), {"strides": [3], "auto_pad": "SAME_UPPER"}),
        ((1, 2, 3, 3), (2, 2, 3, 3), {"strides": [2, 2], "auto_pad": "VALID"}),
        ((1, 2, 3, 3), (2, 2, 3, 3), {"strides": [2, 2], "auto_pad": "VALID", "output_padding": [1, 0]}),
        # output_shape: odd total padding goes to the beginning for NOTSET and SAME_LOWER, the end for SAME_UPPER.
        ((1, 2, 3, 3), (2, 2, 3, 3), {"strides": [2, 2], "output_shape": [6, 6]}),
        ((1, 2, 3, 3), (2, 2, 3, 3), {"strides": [2, 2], "output_shape": [6, 6], "auto_pad": "SAME_UPPER"}),
        ((1, 2, 3, 3), (2, 2, 3, 3), {"strides": [2, 2], "output_shape": [6, 5], "auto_pad": "SAME_LOWER"}),
        ((1, 4, 3, 3), (4, 1, 3, 3), {"strides": [2, 2], "output_shape": [5, 6], "group": 2}),
        # Requested output one row past the scatter (onnxruntime accepts up to stride - 1 such rows, each
        # holding the bias only).
        ((1, 2, 3), (2, 2, 3), {"strides": [2], "output_shape": [8]}),
        ((1, 2, 3, 2, 2), (2, 1, 2, 3, 2), {"strides": [2, 1, 2], "output_shape": [7, 4, 5]}),
    ],
)
def test_auto_pad_and_output_shape_match_onnxruntime(x_shape, w_shape, attributes):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(w_shape[1] * attributes.get("group", 1)).astype(np.float32)
    want = run_ort_conv_transpose(x, w, b, attributes)
    assert_close_float32(conv_transpose(x, w, b, **attributes), want)
    assert_close_float32(conv_transpose_scatter(x, w, b, **attributes), want)


@BOTH
def test_output_shape_far_past_the_scatter_pads_with_bias(impl):
    # onnxruntime refuses this (more than stride - 1 extra rows); the reference follows shapes.py and computes it.
    y = impl(_one_d([1, 2]), _one_d([1, 1]), np.array([0.5]), strides=[2], output_shape=[7])
    np.testing.assert_array_equal(y.ravel(), [1.5, 1.5, 2.5, 2.5, 0.5, 0.5, 0.5])


# ----------------------------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "b_shape", "attributes", "message"),
    [
        ((1, 3, 4), (3, 1, 2), None, {"group": 2}, "divisible by group"),
        ((1, 4, 4), (2, 1, 2), None, {}, "must equal the input channels"),
        ((1, 2, 4), (2, 3, 2), (2,), {}, "bias must have shape"),
        ((1, 2, 4), (2, 3, 2), None, {"strides": [0]}, "strides must be positive"),
        ((1, 2, 4), (2, 3, 2), None, {"dilations": [-1]}, "dilations must be positive"),
        ((1, 2, 4), (2, 3, 2), None, {"pads": [0, -1]}, "pads must be non-negative"),
        ((1, 2, 4), (2, 3, 2), None, {"pads": [1]}, "one value per spatial axis"),
        ((1, 2, 4), (2, 3, 2), None, {"output_padding": [-1]}, "output_padding must be non-negative"),
        ((1, 2, 4), (2, 3, 2), None, {"strides": [1, 1]}, "one value per spatial axis"),
        ((1, 2), (2, 3), None, {}, "rank >= 3"),
        ((1, 2, 0), (2, 3, 2), None, {}, "spatial sizes of x must be >= 1"),
        ((1, 2, 4), (2, 3, 2, 2), None, {}, "rank of x"),
        ((1, 2, 4), (2, 3, 2), None, {"kernel_shape": [3]}, "kernel_shape"),
        ((1, 2, 4), (2, 3, 2), None, {"pads": [4, 2]}, "< 0"),
        ((1, 2, 4), (2, 3, 2), None, {"auto_pad": "SAME"}, "auto_pad must be one of"),
        ((1, 2, 4), (2, 3, 2), None, {"auto_pad": "SAME_UPPER", "pads": [1, 1]}, "cannot be combined"),
        ((1, 2, 4), (2, 3, 2), None, {"output_shape": [3, 3]}, "output_shape needs"),
        ((1, 2, 4), (2, 3, 2), None, {"output_shape": [1, 3, 5]}, "without N and C"),
    ],
)
def test_validation_errors_name_the_rule(x_shape, w_shape, b_shape, attributes, message):
    x = np.zeros(x_shape, dtype=np.float32)
    w = np.zeros(w_shape, dtype=np.float32)
    b = None if b_shape is None else np.zeros(b_shape, dtype=np.float32)
    for impl in (conv_transpose, conv_transpose_scatter):
        with pytest.raises(ValidationError, match=message):
            impl(x, w, b, **attributes)


def test_integer_input_is_rejected():
    with pytest.raises(ValidationError, match="float32 or float64"):
        conv_transpose(np.zeros((1, 1, 2), dtype=np.int32), np.zeros((1, 1, 2)))


def test_weights_and_bias_are_cast_to_the_input_dtype():
    x = np.ones((1, 1, 2), dtype=np.float32)
    y = conv_transpose(x, np.ones((1, 1, 2), dtype=np.float64), np.ones(1, dtype=np.float64))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.ravel(), [2, 3, 2])


@pytest.mark.parametrize("impl", [conv_transpose, conv_transpose_scatter])
def test_output_padding_follows_the_layers_rule(impl):
    # output_padding must stay below max(stride, dilation), as the Deconvolution layer requires (PyTorch's rule);
    # onnxruntime and the ONNX text reject >= stride.
    x = np.ones((1, 1, 3, 3), np.float32)
    w = np.ones((1, 1, 3, 3), np.float32)
    with pytest.raises(ValidationError, match="output_padding must be smaller than stride or dilation"):
        impl(x, w, strides=[2, 2], output_padding=[2, 2])
    assert impl(x, w, strides=[2, 2], output_padding=[1, 1]).shape == (1, 1, 8, 8)
