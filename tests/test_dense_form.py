"""The dense form of a bilinear / ones upsample (convertkit.passes.fast_upsample.dense_form): each resampled axis as
one MatMul by its interpolation matrix.  Hand-computed matrices; the matrix read back exactly; the form equal to
the literal ConvTranspose in onnxruntime and to the NumPy reference; the rule that picks it; the import that folds
it back into the one Deconvolution; MatMuls that are no upsample stay MatMuls.  No timings (benchmarks/)."""

from __future__ import annotations

import itertools

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import convertkit as ck
from convertkit.fillers import Filler, Values, bilinear_kernel, bilinear_kernel_1d
from convertkit.formats.onnx import to_onnx
from convertkit.formats.onnx_import import from_onnx
from convertkit.layers.deconvolution import Padding
from convertkit.passes import ExportOptions
from convertkit.passes.fast_upsample import (
    DENSE_MAX_IN,
    DENSE_MAX_OUT,
    choose_form,
    interpolation_matrix,
    read_interpolation_matrix,
)
from convertkit.reference.interpreter import run_model
from convertkit.runtime import run_onnx

SPEED = ExportOptions(target="onnx", optimize="speed", runtime="onnxruntime")


def _ops(proto) -> list[str]:
    return [n.op_type for n in proto.graph.node]


def _up(shape, f=2, *, bias=False, pads=None, output_padding=None, kernel=None, ones=False, dilations=None):
    n = len(shape) - 2
    c = shape[1]
    k = kernel or (2 * f - f % 2,) * n
    p = (f - 1 + 1) // 2 if isinstance(f, int) else 0
    return ck.Model(
        [
            ck.Input(name="x", shape=shape),
            ck.Deconvolution(
                name="up",
                input="x",
                out_channels=c,
                group=c,
                kernel_shape=k,
                strides=(f,) * n if isinstance(f, int) else f,
                dilations=dilations,
                padding=Padding(pads=pads or (p,) * (2 * n)),
                output_padding=output_padding or (0,) * n,
                bias_term=bias,
                weight=Filler(type="constant", value=1.0) if ones else Filler(type="bilinear"),
                bias=Values(array=np.linspace(-1, 1, c, dtype=np.float32)) if bias else None,
            ),
        ]
    )


def _equal(model: ck.Model, seed: int = 0):
    """onnxruntime on the dense export == onnxruntime on the literal ConvTranspose == the reference (1e-6 rel)."""
    shape = model.types["x"].shape
    x = {"x": np.random.default_rng(seed).standard_normal(shape).astype(np.float32)}
    fast, literal = to_onnx(model, optimize="speed", target="onnxruntime"), to_onnx(model, optimize="none")
    a, b, r = run_onnx(fast, x)["up"], run_onnx(literal, x)["up"], run_model(model, x)["up"]
    assert a.shape == b.shape == r.shape
    scale = max(1.0, float(np.abs(r).max()))
    assert float(np.abs(a - b).max()) <= 1e-6 * scale
    assert float(np.abs(a - r).max()) <= 1e-6 * scale
    assert "ConvTranspose" in _ops(literal)
    return fast


def test_interpolation_matrix_by_hand():
    # x2 recipe: kernel 4 (taps 1/4, 3/4, 3/4, 1/4), stride 2, pad 1; 2 inputs -> 4 outputs.
    # M[i, o] = taps[o + 1 - 2 i]: input 0 reaches outputs 0..2 with taps 1..3, input 1 outputs 1..3 with taps 0..2.
    m = interpolation_matrix(bilinear_kernel_1d(4), 2, 1, 2, 4)
    np.testing.assert_array_equal(m, [[0.75, 0.75, 0.25, 0.0], [0.0, 0.25, 0.75, 0.75]])
    # output_padding past the scatter: the extra column is zero; a big begin pad crops input 0 away entirely
    np.testing.assert_array_equal(interpolation_matrix(np.ones(2), 2, 0, 2, 5)[:, 4], [0, 0])
    np.testing.assert_array_equal(interpolation_matrix(np.ones(2), 2, 2, 3, 2), [[0, 0], [1, 1], [0, 0]])


@pytest.mark.parametrize(
    "k, s, begin, size_in, extra",
    [
        (k, s, b, n, e)
        for k, s, b, n, e in itertools.product((2, 3, 4, 5, 16), (1, 2, 3, 8), (0, 1, 3), (2, 3, 7), (-2, 0, 1))
        if b < k and (n - 1) * s + k - b + e > 0
    ],
)
def test_matrix_reads_back(k, s, begin, size_in, extra):
    taps = bilinear_kernel_1d(k)
    out = (size_in - 1) * s + k - begin + extra
    m = interpolation_matrix(taps, s, begin, size_in, out)
    found = read_interpolation_matrix(m)
    rows = [np.flatnonzero(m[i]) for i in range(size_in)]
    readable = all(len(r) for r in rows) and any(len(r) == k and r[0] > 0 and r[-1] < out - 1 for r in rows)
    if found is None:
        # declined only where no row shows the whole kernel uncropped, or an input reaches no output at all
        assert not readable
        return
    got_taps, got_s, got_begin = found
    np.testing.assert_array_equal(interpolation_matrix(got_taps, got_s, got_begin, size_in, out), m)


@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((1, 21, 8, 8), dict(f=8)),
        ((2, 3, 5, 7), dict(f=2, bias=True)),
        ((1, 3, 4, 6), dict(f=3, bias=True, pads=(0, 1, 2, 0), output_padding=(2, 1))),
        ((1, 2, 3, 4), dict(f=4, pads=(0, 0, 0, 0))),
        ((1, 2, 9), dict(f=4)),
        ((1, 2, 4, 5), dict(f=(2, 1), kernel=(4, 1), pads=(1, 0, 1, 0))),  # the H axis only
        ((1, 2, 4, 5), dict(f=(1, 3), kernel=(1, 6), pads=(0, 1, 0, 1))),  # the W axis only
        ((1, 2, 3, 3), dict(f=2, ones=True, pads=(1, 1, 0, 0))),  # a ones kernel that is no plain nearest
    ],
)
def test_dense_export_is_exact(shape, kwargs):
    model = _up(shape, **kwargs)
    assert choose_form(model.layers[1], model.types["x"], SPEED) == "dense"
    fast = _equal(model)
    ops = _ops(fast)
    assert "ConvTranspose" not in ops and set(ops) <= {"Transpose", "MatMul", "Add"}
    assert ops.count("MatMul") == sum(
        s != 1 or k != 1 for s, k in zip(model.layers[1].strides, model.layers[1].kernel_shape, strict=True)
    )
    # compact: the matrices, not C * K^2 weights
    floats = sum(int(np.prod(i.dims)) for i in fast.graph.initializer if i.data_type == TensorProto.FLOAT)
    outs = model.types["up"].shape[2:]
    assert floats <= sum(i * o for i, o in zip(shape[2:], outs, strict=True)) + shape[1]


def test_fcn_diagonal_full_weights_take_the_dense_form():
    c, k = 4, 8
    w = np.zeros((c, c, k, k), np.float32)
    w[np.arange(c), np.arange(c)] = bilinear_kernel((k, k))
    model = ck.Model(
        [
            ck.Input(name="x", shape=(1, c, 5, 6)),
            ck.Deconvolution(
                name="up", input="x", out_channels=c, kernel_shape=(k, k), strides=(4, 4), weight=Values(array=w)
            ),
        ]
    )
    assert choose_form(model.layers[1], model.types["x"], SPEED) == "dense"
    assert _ops(_equal(model)) == ["Transpose", "MatMul", "Transpose", "MatMul", "Add"]


def test_rule_limits_and_the_other_forms():
    x2 = (2 * 2, 2)
    fits = _up((1, 2, DENSE_MAX_IN, 8), 2)
    assert choose_form(fits.layers[1], fits.types["x"], SPEED) == "dense"
    long_in = _up((1, 2, DENSE_MAX_IN + 1, 8), 2)
    assert choose_form(long_in.layers[1], long_in.types["x"], SPEED) == "separable"
    f = DENSE_MAX_OUT // 8 + 1  # 8 inputs, more than DENSE_MAX_OUT outputs
    long_out = _up((1, 2, 8, 8), f)
    assert choose_form(long_out.layers[1], long_out.types["x"], SPEED) == "separable"
    three_d = _up((1, 2, 3, 3, 3), 2)
    assert choose_form(three_d.layers[1], three_d.types["x"], SPEED) == "separable"
    dilated = _up((1, 2, 4, 4), 2, kernel=(x2[0], x2[0]), dilations=(2, 2))
    assert choose_form(dilated.layers[1], dilated.types["x"], SPEED) == "separable"
    nearest = _up((1, 2, 4, 4), 2, kernel=(2, 2), pads=(0, 0, 0, 0), ones=True)
    assert choose_form(nearest.layers[1], nearest.types["x"], SPEED) == "resize"
    for target in ("portable", "opencv", "openvino", "torch"):
        options = ExportOptions(target="onnx", optimize="speed", runtime=target)
        assert choose_form(fits.layers[1], fits.types["x"], options) == "literal"
    options = ExportOptions(target="onnx", optimize="none", runtime="onnxruntime")
    assert choose_form(fits.layers[1], fits.types["x"], options) == "literal"


@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((1, 21, 8, 8), dict(f=8)),
        ((2, 3, 5, 7), dict(f=2, bias=True)),
        ((1, 2, 9), dict(f=4)),
        ((1, 2, 4, 5), dict(f=(1, 3), kernel=(1, 6), pads=(0, 1, 0, 1))),
        ((1, 2, 3, 3), dict(f=2, ones=True, pads=(1, 1, 0, 0))),
    ],
)
def test_dense_export_imports_back_as_the_deconvolution(shape, kwargs):
    model = _up(shape, **kwargs)
    back = from_onnx(to_onnx(model, optimize="speed", target="onnxruntime"))
    assert [type(layer).__name__ for layer in back.layers] == ["Input", "Deconvolution"]
    assert back.layers[1] == model.layers[1]


def test_degenerate_pads_import_back_with_the_same_values():
    """End pad 2 with output_padding 2 on one axis is the same as neither: the import keeps the simpler geometry."""
    model = _up((1, 3, 4, 6), f=3, bias=True, pads=(0, 1, 2, 0), output_padding=(2, 1))
    back = from_onnx(to_onnx(model, optimize="speed", target="onnxruntime"))
    (up,) = [layer for layer in back.layers if layer.kind == "Deconvolution"]
    assert up.padding.pads == (0, 1, 0, 0) and up.output_padding == (0, 1)
    x = {"x": np.random.default_rng(1).standard_normal((1, 3, 4, 6)).astype(np.float32)}
    np.testing.assert_array_equal(run_model(back, x)["up"], run_model(model, x)["up"])


def _matmul_model(matrix: np.ndarray, shape) -> onnx.ModelProto:
    out = (*shape[:-1], matrix.shape[1])
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "M"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out))],
        [numpy_helper.from_array(matrix.astype(np.float32), "M")],
    )
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


@pytest.mark.parametrize(
    "matrix",
    [
        np.eye(4),  # an identity: no upsampling
        interpolation_matrix(bilinear_kernel_1d(4), 2, 1, 4, 8) * 1.5,  # no bilinear taps
        interpolation_matrix(np.array([1.0, 2.0, 1.0]), 2, 1, 4, 7),  # a kernel of its own
        np.random.default_rng(0).standard_normal((4, 8)),
    ],
)
def test_other_matmuls_stay_inner_products(matrix):
    back = from_onnx(_matmul_model(matrix, (1, 2, 3, 4)))
    assert [layer.kind for layer in back.layers] == ["Input", "InnerProduct"]


def test_bilinear_matmul_on_the_last_axis_reads_as_the_upsample():
    """Someone else's MatMul by exactly the x2 recipe's matrix is that upsample along W (and runs the same)."""
    m = interpolation_matrix(bilinear_kernel_1d(4), 2, 1, 4, 8)
    proto = _matmul_model(m, (1, 2, 3, 4))
    back = from_onnx(proto)
    (up,) = [layer for layer in back.layers if layer.kind == "Deconvolution"]
    assert up.kernel_shape == (1, 4) and up.strides == (1, 2) and up.group == 2
    x = {"x": np.random.default_rng(2).standard_normal((1, 2, 3, 4)).astype(np.float32)}
    np.testing.assert_allclose(run_model(back, x)["y"], run_onnx(proto, x)["y"], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape, sizes", [((1, 3, 9, 9), (33, 33)), ((2, 2, 5, 7), (9, 25)), ((1, 2, 6), (26,))])
def test_align_corners_integer_zooms_take_the_triangle_then_dense(shape, sizes):
    """Resize(linear, align_corners) to z * (in - 1) + 1: the triangle recipe, written dense, equal to Resize."""
    model = ck.Model(
        [
            ck.Input(name="x", shape=shape),
            ck.Upsample(
                name="up", input="x", mode="linear", coordinate_transformation_mode="align_corners", sizes=sizes
            ),
        ]
    )
    assert choose_form(model.layers[1], model.types["x"], SPEED) == "triangle"
    fast = to_onnx(model, optimize="speed", target="onnxruntime")
    assert "Resize" not in _ops(fast) and "MatMul" in _ops(fast)
    literal = to_onnx(model, optimize="none")
    assert "Resize" in _ops(literal)
    x = {"x": np.random.default_rng(3).standard_normal(shape).astype(np.float32)}
    a, b, r = run_onnx(fast, x)["up"], run_onnx(literal, x)["up"], run_model(model, x)["up"]
    scale = max(1.0, float(np.abs(r).max()))
    assert float(np.abs(a - b).max()) <= 1e-6 * scale and float(np.abs(a - r).max()) <= 1e-6 * scale
