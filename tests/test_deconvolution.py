"""Deconvolution layer: validation, convention normalisation (checked by shape and value against onnxruntime
running the convention natively), ONNX export of every geometry, and hand-computed values."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import convertkit as ck
from convertkit.runtime import run_onnx

SEED_X = np.array([[[[1, 2], [3, 4]]]], dtype=np.float32)
SEED_Y = np.array(
    [[1, 1, 3, 2, 2], [1, 1, 3, 2, 2], [4, 4, 10, 6, 6], [3, 3, 7, 4, 4], [3, 3, 7, 4, 4]], dtype=np.float32
)


def _seed_model(**kwargs) -> ck.Model:
    layer = dict(
        name="deconv",
        input="x",
        out_channels=1,
        kernel_shape=(3, 3),
        strides=(2, 2),
        bias_term=False,
        weight=ck.Filler(type="constant", value=1.0),
    )
    layer.update(kwargs)
    return ck.Model([ck.Input(name="x", shape=(1, 1, 2, 2)), ck.Deconvolution(**layer)])


@pytest.mark.parametrize("backend", ["reference", "onnxruntime"])
def test_seed_example_exact(backend):
    out = ck.run(_seed_model(), {"x": SEED_X}, backend=backend)["deconv"]
    np.testing.assert_array_equal(out[0, 0], SEED_Y)


def test_seed_symbolic_centre():
    # The centre of the 5x5 is a*w9 + b*w7 + c*w3 + d*w1 (the seed's symbolic matrix gets the middle row wrong).
    w = np.arange(1, 10, dtype=np.float64).reshape(1, 1, 3, 3)  # w1..w9
    x = np.array([[[[2.0, 3.0], [5.0, 7.0]]]])  # a, b, c, d
    model = ck.Model(
        [
            ck.Input(name="x", shape=(1, 1, 2, 2), dtype="float64"),
            ck.Deconvolution(
                name="d",
                input="x",
                out_channels=1,
                kernel_shape=(3, 3),
                strides=(2, 2),
                bias_term=False,
                weight=ck.Values(array=w),
            ),
        ]
    )
    y = ck.run(model, {"x": x})["d"][0, 0]
    a, b, c, d = 2.0, 3.0, 5.0, 7.0
    w1, w2, w3, w4, w5, w6, w7, w8, w9 = range(1, 10)
    assert y[2, 2] == a * w9 + b * w7 + c * w3 + d * w1
    assert y[2, 0] == a * w7 + c * w1 and y[2, 4] == b * w9 + d * w3
    assert y[0, 2] == a * w3 + b * w1 and y[4, 2] == c * w9 + d * w7


def test_tensorflow_same_seed_example():
    # TF conv2d_transpose(padding=SAME, output_shape 4x4): forward pads (0, 1) -> the first 4 rows/cols.
    m = _seed_model(padding=ck.Padding(convention="tensorflow", auto_pad="SAME", output_shape=(4, 4)))
    assert m.types["deconv"].shape == (1, 1, 4, 4)
    out = ck.run(m, {"x": SEED_X})["deconv"][0, 0]
    np.testing.assert_array_equal(out, SEED_Y[:4, :4])
    np.testing.assert_array_equal(ck.run(m, {"x": SEED_X}, backend="onnxruntime")["deconv"][0, 0], SEED_Y[:4, :4])


def test_tensorflow_valid_larger_output_appends_zero_rows():
    m = _seed_model(padding=ck.Padding(convention="tensorflow", auto_pad="VALID", output_shape=(6, 6)))
    out = ck.run(m, {"x": SEED_X})["deconv"][0, 0]
    expected = np.zeros((6, 6), np.float32)
    expected[:5, :5] = SEED_Y
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(ck.run(m, {"x": SEED_X}, backend="onnxruntime")["deconv"][0, 0], expected)


def test_pytorch_padding_output_padding_seed():
    # ConvTranspose2d(k3, s2, padding=1, output_padding=1): rows/cols 1..4 of the 5x5 scatter.
    m = _seed_model(padding=ck.Padding(convention="pytorch", pad=(1, 1)), output_padding=(1, 1))
    out = ck.run(m, {"x": SEED_X})["deconv"][0, 0]
    np.testing.assert_array_equal(out, SEED_Y[1:5, 1:5])


def _native_convtranspose(x, w, b, attrs) -> np.ndarray:
    """Run a one-node ConvTranspose with the convention's own attributes (auto_pad / output_shape) in ORT."""
    inputs = ["x", "w"] + (["b"] if b is not None else [])
    inits = [numpy_helper.from_array(w, "w")] + ([numpy_helper.from_array(b, "b")] if b is not None else [])
    node = helper.make_node("ConvTranspose", inputs, ["y"], **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    return run_onnx(proto, {"x": x})["y"]


# (id, in spatial, kernel, stride, dilation, output_padding, padding convention, onnx attrs)
CONVENTION_CASES = [
    (
        "same_upper_odd",
        (5, 4),
        (3, 3),
        (2, 2),
        (1, 1),
        (0, 0),
        ck.Padding(convention="onnx_auto_pad", auto_pad="SAME_UPPER"),
        {"auto_pad": "SAME_UPPER"},
    ),
    (
        "same_lower_odd",
        (5, 4),
        (3, 3),
        (2, 2),
        (1, 1),
        (0, 0),
        ck.Padding(convention="onnx_auto_pad", auto_pad="SAME_LOWER"),
        {"auto_pad": "SAME_LOWER"},
    ),
    (
        "same_upper_even_k",
        (3, 3),
        (4, 4),
        (2, 2),
        (1, 1),
        (0, 0),
        ck.Padding(convention="onnx_auto_pad", auto_pad="SAME_UPPER"),
        {"auto_pad": "SAME_UPPER"},
    ),
    (
        "same_lower_dilated",
        (4, 3),
        (3, 2),
        (3, 2),
        (2, 1),
        (0, 0),
        ck.Padding(convention="onnx_auto_pad", auto_pad="SAME_LOWER"),
        {"auto_pad": "SAME_LOWER"},
    ),
    (
        "same_upper_k_lt_s",
        (3, 3),
        (1, 1),
        (2, 2),
        (1, 1),
        (0, 0),
        ck.Padding(convention="onnx_auto_pad", auto_pad="SAME_UPPER"),
        {"auto_pad": "SAME_UPPER"},
    ),
    (
        "same_upper_with_op",
        (3, 3),
        (3, 3),
        (2, 2),
        (1, 1),
        (1, 1),
        ck.Padding(convention="onnx_auto_pad", auto_pad="SAME_UPPER"),
        {"auto_pad": "SAME_UPPER"},
    ),
    (
        "valid",
        (3, 2),
        (3, 3),
        (2, 3),
        (1, 1),
        (1, 2),
        ck.Padding(convention="onnx_auto_pad", auto_pad="VALID"),
        {"auto_pad": "VALID"},
    ),
    (
        "output_shape_odd",
        (3, 3),
        (3, 3),
        (2, 2),
        (1, 1),
        (0, 0),
        ck.Padding(convention="onnx_output_shape", output_shape=(6, 4)),
        {"output_shape": [6, 4]},
    ),
    (
        "output_shape_upper",
        (3, 3),
        (3, 3),
        (2, 2),
        (1, 1),
        (0, 0),
        ck.Padding(convention="onnx_output_shape", output_shape=(6, 4), auto_pad="SAME_UPPER"),
        {"output_shape": [6, 4], "auto_pad": "SAME_UPPER"},
    ),
    (
        "output_shape_larger",
        (3, 3),
        (3, 3),
        (2, 2),
        (1, 1),
        (0, 0),
        ck.Padding(convention="onnx_output_shape", output_shape=(8, 7)),
        {"output_shape": [8, 7]},
    ),
]


@pytest.mark.parametrize("case", CONVENTION_CASES, ids=[c[0] for c in CONVENTION_CASES])
def test_convention_matches_onnxruntime_native(case):
    _, spatial, k, s, d, op, padding, attrs = case
    rng = np.random.default_rng(7)
    c_in, m = 4, 6
    x = rng.standard_normal((2, c_in, *spatial)).astype(np.float32)
    w = rng.standard_normal((c_in, m // 2, *k)).astype(np.float32)
    b = rng.standard_normal((m,)).astype(np.float32)
    native = _native_convtranspose(
        x, w, b, dict(strides=list(s), dilations=list(d), group=2, output_padding=list(op), **attrs)
    )
    model = ck.Model(
        [
            ck.Input(name="x", shape=x.shape),
            ck.Deconvolution(
                name="up",
                input="x",
                out_channels=m,
                kernel_shape=k,
                strides=s,
                dilations=d,
                output_padding=op,
                group=2,
                padding=padding,
                weight=ck.Values(array=w),
                bias=ck.Values(array=b),
            ),
        ]
    )
    assert model.types["up"].shape == native.shape
    ref = ck.run(model, {"x": x})["up"]
    np.testing.assert_allclose(ref, native, rtol=1e-4, atol=1e-4)
    exported = ck.run(model, {"x": x}, backend="onnxruntime")["up"]
    np.testing.assert_allclose(exported, native, rtol=1e-4, atol=1e-4)


def test_export_has_explicit_pads_only():
    m = _seed_model(padding=ck.Padding(convention="onnx_auto_pad", auto_pad="SAME_LOWER"))
    proto = ck.to_onnx(m)
    for node in proto.graph.node:
        names = {a.name for a in node.attribute}
        assert "auto_pad" not in names and "output_shape" not in names
        if node.op_type == "ConvTranspose":
            assert "pads" in names


@pytest.mark.parametrize(
    "op, pads, strides, dilations, bias",
    [
        ((1,), (0, 0), (1,), (2,), True),  # op >= stride (allowed since < dilation): Pad + Add bias
        ((2,), (0, 1), (2,), (3,), True),  # end pad absorbs one row, the other becomes the attribute
        ((2,), (1, 0), (1,), (3,), False),  # no bias: Pad only
        ((1,), (0, 3), (1,), (2,), True),  # absorbed entirely by the end pad
    ],
)
def test_output_padding_beyond_stride_exports_exactly(op, pads, strides, dilations, bias):
    rng = np.random.default_rng(1)
    layer = ck.Deconvolution(
        name="d",
        input="x",
        out_channels=3,
        kernel_shape=(3,),
        strides=strides,
        dilations=dilations,
        output_padding=op,
        padding=ck.Padding(pads=pads),
        bias_term=bias,
        weight=ck.Filler(type="gaussian", seed=2),
        bias=ck.Filler(type="uniform", min=1, max=2) if bias else None,
    )
    model = ck.Model([ck.Input(name="x", shape=(1, 2, 5)), layer])
    x = {"x": rng.standard_normal((1, 2, 5)).astype(np.float32)}
    report = ck.check(model, x)
    assert report.passed, report.format()
    proto = ck.to_onnx(model)
    for node in proto.graph.node:
        if node.op_type == "ConvTranspose":
            attrs = {a.name: list(a.ints) for a in node.attribute}
            assert all(o < s for o, s in zip(attrs.get("output_padding", [0]), strides, strict=False))
    if bias and op[0] > pads[1]:
        # rows past the scatter hold the bias only
        y = ck.run(model, x)["d"]
        b = layer.bias_array()
        extra = op[0] - pads[1]
        np.testing.assert_allclose(y[0, :, -extra:], np.repeat(b[:, None], extra, axis=1), rtol=1e-6)


def test_3d_asymmetric_pads_output_padding_grouped_bias():
    rng = np.random.default_rng(3)
    model = ck.Model(
        [
            ck.Input(name="x", shape=(2, 4, 3, 4, 5)),
            ck.Deconvolution(
                name="d",
                input="x",
                out_channels=6,
                group=2,
                kernel_shape=(3, 2, 3),
                strides=(2, 3, 1),
                dilations=(1, 1, 2),
                padding=ck.Padding(pads=(1, 0, 2, 0, 1, 1)),
                output_padding=(1, 2, 1),
                weight=ck.Filler(type="msra", seed=5),
                bias=ck.Filler(type="gaussian", seed=6),
            ),
        ]
    )
    assert model.types["d"].shape == (2, 6, 2 * 2 + 1 + 3 - 1, 3 * 3 + 2 + 2 - 1, 4 + 1 + 5 - 3)
    report = ck.check(model, {"x": rng.standard_normal((2, 4, 3, 4, 5)).astype(np.float32)})
    assert report.passed, report.format()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(out_channels=5, group=2), "group must divide out_channels, but 2 does not divide 5"),
        (dict(output_padding=(2, 0)), "output_padding 2 >= stride 2 and >= dilation 1"),
        (dict(strides=(0, 1)), "strides must be >= 1"),
        (dict(kernel_shape=(3,)), "strides needs 1 values"),
        (dict(padding=ck.Padding(pads=(1, 1))), "pads needs 4 values"),
        (dict(padding=ck.Padding(pads=(0, -1, 0, 0))), "pads must be >= 0"),
        (dict(padding=ck.Padding(convention="caffe")), "needs pad"),
        (dict(padding=ck.Padding(convention="onnx_auto_pad", auto_pad="SAME")), "must be one of SAME_UPPER"),
        (dict(bias=ck.Values(array=np.zeros(3))), r"bias shape must be \(out_channels,\) = \(2,\)"),
        (dict(weight=ck.Values(array=np.zeros((4, 1, 3, 3)))), r"weight shape must be \(C, out_channels / group"),
        (dict(bias_term=False, bias=ck.Filler()), "bias_term is false"),
    ],
)
def test_validation_names_layer_rule_and_values(kwargs, message):
    layer = dict(
        name="up1", input="x", out_channels=2, kernel_shape=(3, 3), strides=(2, 2), weight=ck.Filler(type="constant")
    )
    layer.update(kwargs)
    with pytest.raises(ck.ValidationError, match=message) as info:
        ck.Deconvolution(**layer)
    assert "layer 'up1' (Deconvolution)" in str(info.value)


@pytest.mark.parametrize(
    "layer_kwargs, shape, message",
    [
        (dict(group=3, out_channels=3), (1, 4, 5, 5), "3 does not divide 4"),
        (dict(), (1, 4, 5), "needs rank 4"),
        (dict(padding=ck.Padding(pads=(4, 4, 4, 4))), (1, 4, 1, 1), "not positive"),
        (dict(weight=ck.Values(array=np.zeros((3, 2, 3, 3)))), (1, 4, 5, 5), "C = 4"),
    ],
)
def test_shape_rule_errors(layer_kwargs, shape, message):
    layer = dict(
        name="up1", input="x", out_channels=2, kernel_shape=(3, 3), strides=(2, 2), weight=ck.Filler(type="constant")
    )
    layer.update(layer_kwargs)
    with pytest.raises(ck.ValidationError, match=message):
        ck.Model([ck.Input(name="x", shape=shape), ck.Deconvolution(**layer)])


def test_onnx_model_passes_full_check_and_shape_inference_agrees():
    proto = ck.to_onnx(_seed_model(padding=ck.Padding(convention="pytorch", pad=(1, 1)), output_padding=(1, 1)))
    onnx.checker.check_model(proto, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(proto, strict_mode=True)
    dims = [d.dim_value for d in inferred.graph.output[0].type.tensor_type.shape.dim]
    assert dims == [1, 1, 4, 4]


def test_output_padding_rows_only_when_pads_crop_the_whole_scatter():
    # 1 input row, k1: the scatter is one row; pads (1, 0) crop it, output_padding 2 (< dilation 3) appends two
    # rows that hold the bias only. onnxruntime refuses an empty ConvTranspose, so the export keeps a row and slices.
    layer = ck.Deconvolution(
        name="d",
        input="x",
        out_channels=2,
        kernel_shape=(1, 3),
        strides=(1, 1),
        dilations=(3, 1),
        output_padding=(2, 0),
        padding=ck.Padding(pads=(1, 0, 0, 0)),
        weight=ck.Filler(type="gaussian", seed=1),
        bias=ck.Values(array=np.array([0.5, -2.0], np.float32)),
    )
    model = ck.Model([ck.Input(name="x", shape=(1, 2, 1, 4)), layer])
    assert model.types["d"].shape == (1, 2, 2, 6)
    x = {"x": np.random.default_rng(0).standard_normal((1, 2, 1, 4)).astype(np.float32)}
    y = ck.run(model, x)["d"]
    np.testing.assert_array_equal(y, np.broadcast_to(np.array([0.5, -2.0], np.float32)[None, :, None, None], y.shape))
    report = ck.check(model, x)
    assert report.passed, report.format()


def test_onnx_node_names_are_the_layer_names():
    m = ck.Model(
        [
            ck.Input(name="x", shape=(1, 2, 3)),
            ck.Deconvolution(
                name="d",
                input="x",
                out_channels=2,
                kernel_shape=(3,),
                dilations=(2,),
                output_padding=(1,),
                weight=ck.Filler(type="gaussian"),
                bias=ck.Filler(value=1.0),
            ),
        ]
    )
    names = [n.name for n in ck.to_onnx(m).graph.node]
    assert names[0] == "d" and len(set(names)) == len(names)
