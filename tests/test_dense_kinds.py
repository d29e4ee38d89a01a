"""InnerProduct, Flatten, Reshape, Power, Exp, Log and Eltwise's run-time Add: hand-computed values, the
reference against onnxruntime and OpenCV's Caffe reader on seeded sweeps, round trips of hand-written prototxt
snippets (in the style of pvanet's and RefineDet's nets) and of ONNX graphs, PyTorch exports, and the refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import convertkit as ck
from convertkit.codec.caffe import format_prototxt, read_prototxt
from convertkit.formats.caffe import caffemodel_path, check_caffe, load_caffe, save_caffe
from convertkit.formats.onnx_import import from_onnx
from convertkit.reference.interpreter import run_model


def _model(shape: tuple[int, ...], *layers: Any, dtype: str = "float32") -> ck.Model:
    return ck.Model([ck.Input(name="x", shape=shape, dtype=dtype), *layers])


def _run(model: ck.Model, x: np.ndarray) -> np.ndarray:
    return run_model(model, {"x": x})[model.outputs[0]]


def _values(seed: int, *shape: int) -> ck.Values:
    return ck.Values(array=np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


# -- hand-computed values -------------------------------------------------------------------------------------------


def test_power_exp_log_by_hand():
    x = np.array([[1.0, 2.0, 3.0]], np.float32)
    p = _model((1, 3), ck.Power(name="p", input="x", power=2, scale=0.5, shift=1))
    np.testing.assert_array_equal(_run(p, x), [[2.25, 4.0, 6.25]])  # (1 + x / 2)^2
    neg = _model((1, 3), ck.Power(name="p", input="x", scale=-1))
    np.testing.assert_array_equal(_run(neg, x), -x)
    const = _model((1, 3), ck.Power(name="p", input="x", power=3, scale=0, shift=2))  # Caffe: shift^power
    np.testing.assert_array_equal(_run(const, x), [[8.0, 8.0, 8.0]])
    zero = _model((1, 3), ck.Power(name="p", input="x", power=0, scale=5, shift=-100))
    np.testing.assert_array_equal(_run(zero, x), [[1.0, 1.0, 1.0]])
    e = _model((1, 3), ck.Exp(name="e", input="x", base=2, shift=1))
    np.testing.assert_allclose(_run(e, np.array([[0.0, 1.0, 2.0]], np.float32)), [[2.0, 4.0, 8.0]], rtol=1e-6)
    lg = _model((1, 3), ck.Log(name="l", input="x", base=10))
    np.testing.assert_allclose(_run(lg, np.array([[1.0, 10.0, 100.0]], np.float32)), [[0.0, 1.0, 2.0]], atol=1e-6)
    ln = _model((1, 3), ck.Log(name="l", input="x", scale=2, shift=-1))
    np.testing.assert_allclose(_run(ln, np.array([[1.0, 1.5, 2.0]], np.float32)), [[0.0, np.log(2), np.log(3)]])


def test_inner_product_by_hand():
    x = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    w = ck.Values(array=np.array([[1, 0], [1, 1], [0, 2]], np.float32))  # (N=3, K=2)
    b = ck.Values(array=np.array([1, 2, 3], np.float32))
    m = _model((2, 2), ck.InnerProduct(name="ip", input="x", num_output=3, weight=w, bias=b))
    np.testing.assert_array_equal(_run(m, x), [[2, 5, 7], [4, 9, 11]])
    wt = ck.Values(array=w.array.T.copy())  # transpose: stored (K, N)
    mt = _model((2, 2), ck.InnerProduct(name="ip", input="x", num_output=3, weight=wt, transpose=True, bias_term=False))
    np.testing.assert_array_equal(_run(mt, x), [[1, 3, 4], [3, 7, 8]])
    # axis 1 on (1, 2, 1, 1): K = 2 flattened; axis 2 on (1, 2, 2): one product per row
    m4 = _model((1, 2, 1, 1), ck.InnerProduct(name="ip", input="x", num_output=3, weight=w, bias=b))
    assert m4.types["ip"].shape == (1, 3)
    np.testing.assert_array_equal(_run(m4, x[:1].reshape(1, 2, 1, 1)), [[2, 5, 7]])
    m3 = _model((1, 2, 2), ck.InnerProduct(name="ip", input="x", num_output=3, axis=2, weight=w, bias=b))
    assert m3.types["ip"].shape == (1, 2, 3)
    np.testing.assert_array_equal(_run(m3, x[None]), [[[2, 5, 7], [4, 9, 11]]])


@pytest.mark.parametrize(
    "shape, fields, want",
    [
        ((2, 3, 4, 5), {"shape": (0, -1)}, (2, 60)),
        ((2, 6, 4, 5), {"shape": (0, 2, -1, 0)}, (2, 2, 12, 5)),  # pvanet's rpn_cls_score_reshape
        ((2, 3, 4, 5), {"shape": (6, 2), "axis": 1, "num_axes": 2}, (2, 6, 2, 5)),
        ((2, 3, 4, 5), {"shape": (-1,), "axis": 1, "num_axes": 2}, (2, 12, 5)),
        ((2, 3, 4), {"shape": (1, 1), "axis": -1}, (2, 3, 4, 1, 1)),  # -1: past the last axis
        ((2, 3, 4), {"shape": (1,), "axis": 0, "num_axes": 0}, (1, 2, 3, 4)),
        ((2, 3, 4), {"shape": (3, 0), "axis": 1}, (2, 3, 4)),  # 0 copies input axis axis + i
    ],
)
def test_reshape_shapes_by_hand(shape, fields, want):
    m = _model(shape, ck.Reshape(name="r", input="x", **fields))
    assert m.types["r"].shape == want


@pytest.mark.parametrize(
    "shape, fields, want",
    [
        ((2, 3, 4, 5), {}, (2, 60)),
        ((2, 3, 4, 5), {"axis": 2}, (2, 3, 20)),
        ((2, 3, 4, 5), {"axis": 1, "end_axis": 2}, (2, 12, 5)),
        ((2, 3, 4, 5), {"axis": -3, "end_axis": -2}, (2, 12, 5)),
        ((2, 3, 4), {"axis": 0}, (24,)),
    ],
)
def test_flatten_shapes_by_hand(shape, fields, want):
    assert _model(shape, ck.Flatten(name="f", input="x", **fields)).types["f"].shape == want


# -- refusals: each names the layer, the rule and the way out -------------------------------------------------------


@pytest.mark.parametrize(
    "shape, layer, match",
    [
        ((2, 3, 4), lambda: ck.Reshape(name="r", input="x", shape=(5, -1)), r"'r' \(Reshape\).*24 elements"),
        ((2, 3, 4), lambda: ck.Reshape(name="r", input="x", shape=(-1, -1)), r"2 -1 dimensions.*at most one"),
        ((2, 3, 4), lambda: ck.Reshape(name="r", input="x", shape=(7, 2)), r"counts must match"),
        ((2, 3), lambda: ck.Reshape(name="r", input="x", shape=(0, 0, 0)), r"copies \(0\) input axis 2"),
        ((2, 3), lambda: ck.Reshape(name="r", input="x", shape=(6,), axis=4), r"axis 4 is out of range"),
        ((2, 3), lambda: ck.Reshape(name="r", input="x", shape=(6,), axis=1, num_axes=3), r"past input"),
        ((2, 3), lambda: ck.Reshape(name="r", input="x", shape=(-2, 3)), r"positive, 0 \(copy\) or -1"),
        ((2, 3, 4), lambda: ck.Flatten(name="f", input="x", axis=2, end_axis=1), r"comes after end_axis"),
        ((2, 3), lambda: ck.Flatten(name="f", input="x", axis=3), r"axis 3 is out of range"),
        (
            (2, 3, 4),
            lambda: ck.InnerProduct(name="ip", input="x", num_output=2, weight=_values(0, 2, 5)),
            r"K = 12.*must be \(2, 12\)",
        ),
        (
            (2, 3),
            lambda: ck.InnerProduct(name="ip", input="x", num_output=2, weight=_values(0, 3, 2)),
            r"or flip transpose",
        ),
        ((2, 3), lambda: ck.InnerProduct(name="ip", input="x", num_output=0, weight=_values(0, 1, 3)), "num_output"),
        (
            (2, 3),
            lambda: ck.InnerProduct(name="ip", input="x", num_output=2, weight=_values(0, 2, 3), axis=2),
            r"axis 2 is out of range",
        ),
        ((2, 3), lambda: ck.Exp(name="e", input="x", base=-2), r"base must be -1 \(e\) or positive"),
        ((2, 3), lambda: ck.Log(name="l", input="x", base=1), r"not 1"),
        ((2, 3), lambda: ck.Power(name="p", input="x", power=float("inf")), r"power must be finite"),
    ],
)
def test_bad_configurations_are_refused(shape, layer, match):
    with pytest.raises(ck.ValidationError, match=match):
        _model(shape, layer())


# -- seeded sweeps: reference vs onnxruntime vs OpenCV -------------------------------------------------------------


def _both(model: ck.Model, x: np.ndarray | None = None, opencv: bool = True) -> None:
    feeds = None if x is None else {"x": x}
    report = ck.check(model, feeds, atol=1e-5, rtol=1e-4)
    assert report.passed, report.format()
    if opencv:
        pytest.importorskip("cv2")
        report = check_caffe(model, feeds, atol=1e-5, rtol=1e-4)
        assert report.passed, report.format()


@pytest.mark.parametrize("seed", range(4))
def test_inner_product_sweep(seed: int):
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(2, 5))
    shape = tuple(int(d) for d in rng.integers(1, 5, rank))
    for axis in range(-rank, rank):
        for transpose in (False, True):
            for bias_term in (True, False):
                a = axis % rank
                k, n = int(np.prod(shape[a:])), int(rng.integers(1, 6))
                w = _values(seed * 100 + a, *((k, n) if transpose else (n, k)))
                layer = ck.InnerProduct(
                    name="ip",
                    input="x",
                    num_output=n,
                    axis=axis,
                    transpose=transpose,
                    bias_term=bias_term,
                    weight=w,
                    bias=_values(seed, n) if bias_term else None,
                )
                # OpenCV ignores transpose and returns 1-D results as (n, 1): refused (see the kind's hook)
                _both(_model(shape, layer), opencv=not transpose and a != 0)


def test_opencv_refuses_what_it_cannot_run():
    t = _model((2, 3), ck.InnerProduct(name="ip", input="x", num_output=2, weight=_values(0, 3, 2), transpose=True))
    with pytest.raises(ck.UnsupportedError, match="OpenCV's Caffe reader ignores transpose"):
        check_caffe(t)
    lg = _model((2, 3), ck.Log(name="l", input="x", shift=4))
    with pytest.raises(ck.UnsupportedError, match="ignores log_param"):
        check_caffe(lg)


@pytest.mark.parametrize(
    "shape, fields",
    [
        ((2, 3, 4, 5), {"shape": (0, -1)}),
        ((2, 6, 4, 5), {"shape": (0, 2, -1, 0)}),
        ((2, 3, 4, 5), {"shape": (6, 2), "axis": 1, "num_axes": 2}),
        ((2, 3, 4, 5), {"shape": (-1,), "axis": 2}),
        ((2, 3, 4, 5), {"shape": (3, -1), "axis": 1, "num_axes": 1}),
        ((2, 3, 4, 5), {"shape": (2, 0, 5, 4), "axis": 0}),
        ((3, 8), {"shape": (0, 2, 2, 2)}),
    ],
)
def test_reshape_sweep(shape, fields):
    _both(_model(shape, ck.Reshape(name="r", input="x", **fields)))


@pytest.mark.parametrize("power", [1.0, 0.5, 2.0, 3.0, -1.0])
@pytest.mark.parametrize("scale, shift", [(1.0, 0.0), (2.0, 0.0), (1.0, 0.5), (0.25, 1.5), (-1.0, 0.0)])
def test_power_sweep_on_positive_inputs(power, scale, shift):
    x = np.random.default_rng(7).uniform(0.5, 3.0, (1, 3, 4, 5)).astype(np.float32)
    if scale < 0:
        x = -x  # keep the base positive
    _both(_model(x.shape, ck.Power(name="p", input="x", power=power, scale=scale, shift=shift)), x)


@pytest.mark.parametrize("base, scale, shift", [(-1.0, 1.0, 0.0), (2.0, 1.0, 0.0), (-1.0, 0.5, 1.0), (3.0, -1.0, 0.5)])
def test_exp_sweep(base, scale, shift):
    _both(_model((1, 3, 4, 5), ck.Exp(name="e", input="x", base=base, scale=scale, shift=shift)))


@pytest.mark.parametrize("base, scale, shift", [(-1.0, 1.0, 0.0), (2.0, 1.0, 0.0), (10.0, 2.0, 0.5)])
def test_log_sweep(base, scale, shift):
    x = np.random.default_rng(3).uniform(0.1, 5.0, (1, 3, 4, 5)).astype(np.float32)
    default = (base, scale, shift) == (-1.0, 1.0, 0.0)
    _both(_model(x.shape, ck.Log(name="l", input="x", base=base, scale=scale, shift=shift)), x, opencv=default)


# -- prototxt -> IR -> prototxt, in the style of the real nets ------------------------------------------------------

SNIPPET = """\
name: "dense"
layer {
  name: "data"
  type: "Input"
  top: "data"
  input_param {
    shape {
      dim: 2
      dim: 6
      dim: 4
      dim: 5
    }
  }
}
layer {
  name: "conv1_1/neg"
  type: "Power"
  bottom: "data"
  top: "conv1_1/neg"
  power_param {
    scale: -1
  }
}
layer {
  name: "rpn_cls_score_reshape"
  type: "Reshape"
  bottom: "conv1_1/neg"
  top: "rpn_cls_score_reshape"
  reshape_param {
    shape {
      dim: 0
      dim: 2
      dim: -1
      dim: 0
    }
  }
}
layer {
  name: "mbox_loc_flat"
  type: "Flatten"
  bottom: "rpn_cls_score_reshape"
  top: "mbox_loc_flat"
  flatten_param {
    axis: 2
  }
}
layer {
  name: "fc6"
  type: "InnerProduct"
  bottom: "mbox_loc_flat"
  top: "fc6"
  param {
    lr_mult: 1
    decay_mult: 1
  }
  param {
    lr_mult: 2
    decay_mult: 0
  }
  inner_product_param {
    num_output: 7
    axis: 2
  }
}
layer {
  name: "fc6/exp"
  type: "Exp"
  bottom: "fc6"
  top: "fc6/exp"
  exp_param {
    base: 2
    scale: 0.5
  }
}
layer {
  name: "fc6/log"
  type: "Log"
  bottom: "fc6/exp"
  top: "fc6/log"
}
"""


def _canonical(path: Path) -> str:
    return format_prototxt(read_prototxt(str(path)))


def test_prototxt_snippet_round_trips_bit_for_bit(tmp_path: Path):
    src = tmp_path / "src.prototxt"
    src.write_text(SNIPPET)
    with pytest.warns(ck.CaffeWarning, match="no weights and no weight_filler"):
        model = load_caffe(str(src))
    assert [layer.kind for layer in model.layers] == [
        "Input", "Power", "Reshape", "Flatten", "InnerProduct", "Exp", "Log"
    ]  # fmt: skip
    assert model.types["fc6"].shape == (2, 2, 7)
    first = tmp_path / "first.prototxt"
    save_caffe(model, str(first))
    assert _canonical(first) == _canonical(src)
    again = load_caffe(str(first), weights=caffemodel_path(str(first)))
    second = tmp_path / "second.prototxt"
    save_caffe(again, str(second))
    assert second.read_text() == first.read_text()
    assert Path(caffemodel_path(str(second))).read_bytes() == Path(caffemodel_path(str(first))).read_bytes()


def test_snippet_with_weights_runs_in_opencv_as_in_the_reference(tmp_path: Path):
    cv2 = pytest.importorskip("cv2")
    src = tmp_path / "src.prototxt"
    src.write_text(SNIPPET.replace("num_output: 7", 'num_output: 7\n    weight_filler { type: "xavier" }'))
    model = load_caffe(str(src), seed=5)
    path = tmp_path / "net.prototxt"
    save_caffe(model, str(path))
    net = cv2.dnn.readNetFromCaffe(str(path), caffemodel_path(str(path)))
    x = np.random.default_rng(0).standard_normal((2, 6, 4, 5)).astype(np.float32)
    net.setInput(x, "data")
    got = net.forward("fc6/log")
    want = run_model(model, {"data": x})["fc6/log"]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_explicit_defaults_read_as_the_same_layers(tmp_path: Path):
    """pvanet writes ``power: 1 scale: -1.0 shift: 0`` and ``scale: 1`` copies; the IR has one spelling."""
    text = SNIPPET.replace("    scale: -1\n", "    power: 1\n    scale: -1.0\n    shift: 0\n")
    src = tmp_path / "src.prototxt"
    src.write_text(text)
    with pytest.warns(ck.CaffeWarning):
        layer = load_caffe(str(src)).layers[1]
    assert layer == ck.Power(name="conv1_1/neg", input="data", output="conv1_1/neg", scale=-1)


# -- ONNX -> IR -> ONNX ----------------------------------------------------------------------------------------------


def _graph(nodes: list[Any], inits: list[np.ndarray | Any], x_shape, y_shape, extra_inputs=()) -> onnx.ModelProto:
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))]
    inputs += [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s)) for n, s in extra_inputs]
    g = helper.make_graph(
        nodes,
        "g",
        inputs,
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y_shape))],
        initializer=[numpy_helper.from_array(np.asarray(a), name) for name, a in inits],
    )
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _ort(proto: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(["y"], feeds)[0]


def test_a_scalar_chain_imports_as_one_power_and_its_export_round_trips():
    f32 = np.float32
    proto = _graph(
        [
            helper.make_node("Mul", ["x", "a"], ["t"], name="p"),
            helper.make_node("Add", ["t", "b"], ["u"], name="p2"),
            helper.make_node("Pow", ["u", "c"], ["y"], name="p3"),
        ],
        [("a", f32(0.5)), ("b", f32(4.0)), ("c", f32(0.5))],
        (1, 3, 4),
        (1, 3, 4),
    )
    model = from_onnx(proto)
    assert [layer.kind for layer in model.layers] == ["Input", "Power"]
    assert (model.layers[1].power, model.layers[1].scale, model.layers[1].shift) == (0.5, 0.5, 4.0)
    x = np.random.default_rng(0).standard_normal((1, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(run_model(model, {"x": x})["y"], _ort(proto, {"x": x}), rtol=1e-6)
    out = ck.to_onnx(model)
    assert ck.to_onnx(from_onnx(out)).SerializeToString() == out.SerializeToString()


@pytest.mark.parametrize(
    "op, order, want",
    [
        ("Sub", ("x", "c"), {"shift": -2.0}),
        ("Sub", ("c", "x"), {"scale": -1.0, "shift": 2.0}),
        ("Div", ("x", "c"), {"scale": 0.5}),
        ("Mul", ("c", "x"), {"scale": 2.0}),
        ("Add", ("c", "x"), {"shift": 2.0}),
    ],
)
def test_scalar_ops_read_as_power_exactly(op, order, want):
    proto = _graph(
        [helper.make_node(op, list(order), ["y"], name="n")], [("c", np.array([2.0], np.float32))], (2, 3), (2, 3)
    )
    model = from_onnx(proto)
    assert model.layers[1] == ck.Power(name="n", input="x", output="y", **want)
    x = np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_array_equal(run_model(model, {"x": x})["y"], _ort(proto, {"x": x}))


def test_neg_exp_log_read():
    proto = _graph(
        [
            helper.make_node("Neg", ["x"], ["a"], name="neg"),
            helper.make_node("Exp", ["a"], ["b"], name="exp"),
            helper.make_node("Log", ["b"], ["y"], name="log"),
        ],
        [],
        (2, 3),
        (2, 3),
    )
    model = from_onnx(proto)
    assert [layer.kind for layer in model.layers] == ["Input", "Exp", "Log"]  # Neg folded in as Exp's scale
    assert model.layers[1].scale == -1.0
    x = np.random.default_rng(1).standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_allclose(run_model(model, {"x": x})["y"], _ort(proto, {"x": x}), rtol=1e-6, atol=1e-6)


def test_divisions_that_are_not_a_multiplication_are_refused():
    proto = _graph([helper.make_node("Div", ["x", "c"], ["y"], name="d")], [("c", np.float32(3.0))], (2, 3), (2, 3))
    with pytest.raises(ck.UnsupportedError, match=r"'d' \(Div-17\).*only a power of two"):
        from_onnx(proto)


def test_per_channel_and_run_time_operands_are_not_power():
    # a (C,) constant is a Scale's form, not a Power's
    proto = _graph(
        [helper.make_node("Mul", ["x", "c"], ["y"], name="m")], [("c", np.ones((3,), np.float32))], (2, 3), (2, 3)
    )
    assert [la.kind for la in from_onnx(proto).layers if la.kind != "Input"] == ["Scale"]


def test_run_time_add_is_an_eltwise_sum_and_broadcasting_is_refused():
    proto = _graph([helper.make_node("Add", ["x", "z"], ["y"], name="add")], [], (2, 3), (2, 3), [("z", (2, 3))])
    model = from_onnx(proto)
    assert model.layers[-1] == ck.Eltwise(name="add", input_names=("x", "z"), output="y")
    for op in ("Add", "Mul", "Max"):
        wide = _graph([helper.make_node(op, ["x", "z"], ["y"], name="b")], [], (2, 3), (2, 3), [("z", (1, 3))])
        with pytest.raises(ck.UnsupportedError, match=r"ONNX broadcasting of run-time tensors has no Caffe form"):
            from_onnx(wide)


def test_a_scalar_add_after_a_one_channel_deconvolution_still_folds_as_its_bias():
    """The Bias kind keeps the (1, 1, 1, 1) Add of a one-channel output; a scalar elsewhere is a Power."""
    d = ck.Deconvolution(
        name="d",
        input="x",
        out_channels=1,
        kernel_shape=(1, 2),
        strides=(1, 2),
        dilations=(3, 1),
        output_padding=(2, 0),
        weight=_values(1, 2, 1, 1, 2),
        bias=ck.Values(array=np.array([0.5], np.float32)),
    )
    model = _model((1, 2, 3, 3), d)
    # onnxruntime's form (the portable one writes this output_padding as a dense kernel's zero taps, no Add)
    proto = ck.to_onnx(model, target="onnxruntime")
    assert "Add" in [n.op_type for n in proto.graph.node]
    back = from_onnx(proto)
    assert [layer.kind for layer in back.layers] == ["Input", "Deconvolution"]
    assert ck.to_onnx(back, target="onnxruntime").SerializeToString() == proto.SerializeToString()


def test_gemm_and_flatten_and_matmul_add_read_as_inner_product():
    rng = np.random.default_rng(2)
    w, b = rng.standard_normal((4, 12)).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    proto = _graph(
        [
            helper.make_node("Flatten", ["x"], ["f"], name="flat", axis=1),
            helper.make_node("Gemm", ["f", "w", "b"], ["y"], name="fc", transB=1),
        ],
        [("w", w), ("b", b)],
        (2, 3, 2, 2),
        (2, 4),
    )
    model = from_onnx(proto)
    assert [layer.kind for layer in model.layers] == ["Input", "InnerProduct"]
    x = rng.standard_normal((2, 3, 2, 2)).astype(np.float32)
    np.testing.assert_allclose(run_model(model, {"x": x})["y"], _ort(proto, {"x": x}), rtol=1e-5, atol=1e-5)
    mm = _graph(
        [
            helper.make_node("MatMul", ["x", "wt"], ["t"], name="mm"),
            helper.make_node("Add", ["t", "b"], ["y"], name="add"),
        ],
        [("wt", w.T.copy()), ("b", b)],
        (2, 12),
        (2, 4),
    )
    model = from_onnx(mm)
    assert [layer.kind for layer in model.layers] == ["Input", "InnerProduct"]
    assert model.layers[1].transpose and model.layers[1].bias_term
    x2 = x.reshape(2, 12)
    np.testing.assert_allclose(run_model(model, {"x": x2})["y"], _ort(mm, {"x": x2}), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "attrs, match",
    [
        ({"alpha": 2.0}, r"alpha 2.0"),
        ({"beta": 0.5}, r"beta 0.5"),
        ({"transA": 1}, r"transA 1"),
    ],
)
def test_gemm_factors_are_refused(attrs, match):
    w = np.ones((4, 3), np.float32)
    proto = _graph(
        [helper.make_node("Gemm", ["x", "w", "b"], ["y"], name="fc", transB=1, **attrs)],
        [("w", w), ("b", np.zeros(4, np.float32))],
        (3, 3) if attrs.get("transA") else (2, 3),
        (2, 4),
    )
    with pytest.raises(ck.UnsupportedError, match=match):
        from_onnx(proto)


def test_onnx_reshape_with_zero_and_minus_one_reads_resolved():
    proto = _graph(
        [helper.make_node("Reshape", ["x", "s"], ["y"], name="r")],
        [("s", np.array([0, -1, 2], np.int64))],
        (2, 3, 4),
        (2, 6, 2),
    )
    model = from_onnx(proto)
    assert model.layers[1] == ck.Reshape(name="r", input="x", output="y", shape=(2, 6, 2))
    out = ck.to_onnx(model)
    assert ck.to_onnx(from_onnx(out)).SerializeToString() == out.SerializeToString()
    flat0 = _graph([helper.make_node("Flatten", ["x"], ["y"], name="f", axis=0)], [], (2, 3), (1, 6))
    assert from_onnx(flat0).layers[1] == ck.Reshape(name="f", input="x", output="y", shape=(1, 6))


# -- PyTorch --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flatten", [True, False])
def test_torch_linear_export_imports_and_matches_onnxruntime(tmp_path: Path, flatten: bool):
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = torch.nn.Linear(24 if flatten else 6, 5)

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.fc(torch.flatten(x, 1) if flatten else x)

    torch.manual_seed(0)
    shape = (2, 4, 3, 2) if flatten else (3, 6)
    path = tmp_path / "net.onnx"
    from test_torch_export import quiet_torchscript_exporter

    with torch.no_grad(), quiet_torchscript_exporter():
        torch.onnx.export(Net().eval(), (torch.zeros(shape),), str(path), input_names=["x"], output_names=["y"],
                          opset_version=17, dynamo=False)  # fmt: skip
    proto = onnx.load(str(path))
    model = from_onnx(proto)
    assert [layer.kind for layer in model.layers] == ["Input", "InnerProduct"]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(run_model(model, {"x": x})["y"], _ort(proto, {"x": x}), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "op, axes, shape, want, opset",
    [
        ("Squeeze", [1], (2, 1, 3), (2, 3), 17),
        ("Squeeze", None, (1, 2, 1, 3), (2, 3), 17),
        ("Squeeze", [-1], (2, 3, 1), (2, 3), 11),
        ("Unsqueeze", [0, 3], (2, 3), (1, 2, 3, 1), 17),
        ("Unsqueeze", [-1], (2, 3), (2, 3, 1), 11),
    ],
)
def test_squeeze_and_unsqueeze_read_as_reshape(op, axes, shape, want, opset):
    inits, inputs, attrs = [], ["x"], {}
    if axes is not None and opset >= 13:
        inits, inputs = [("a", np.array(axes, np.int64))], ["x", "a"]
    elif axes is not None:
        attrs = {"axes": axes}
    proto = _graph([helper.make_node(op, inputs, ["y"], name="s", **attrs)], inits, shape, want)
    proto.opset_import[0].version = opset
    model = from_onnx(proto)
    assert model.layers[1] == ck.Reshape(name="s", input="x", output="y", shape=want)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    np.testing.assert_array_equal(run_model(model, {"x": x})["y"], _ort(proto, {"x": x}))
