"""Convolution: OpenCV's Caffe reader on a seeded sweep, ONNX Conv import (auto_pad, asymmetric pads, PyTorch's
export) against onnxruntime running the node as written, the adjoint identity with Deconvolution, and refusals.

The case table (``tests/cases.py``, ``CONVOLUTION``) already runs every row through onnxruntime, the spec, ONNX and
Caffe round trips and OpenCV; this file covers what a table row cannot say.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import convertkit as ck
from convertkit.formats.caffe import check_caffe, load_caffe, run_opencv, save_caffe, to_caffe
from convertkit.formats.onnx_import import from_onnx
from convertkit.layers.convolution import onnx_auto_pad_conv_pads
from convertkit.reference.interpreter import run_model
from convertkit.runtime import run_onnx


def conv_model(shape: tuple[int, ...], seed: int = 0, dtype: str = "float32", **fields) -> ck.Model:
    fields.setdefault("weight", ck.Filler(type="gaussian", seed=seed))
    if fields.get("bias_term", True):
        fields.setdefault("bias", ck.Filler(type="gaussian", seed=seed + 1))
    return ck.Model([ck.Input(name="x", shape=shape, dtype=dtype), ck.Convolution(name="c", input="x", **fields)])


# -- OpenCV's Caffe Convolution, seeded sweep -------------------------------------------------------------------


def _sweep(count: int) -> list[dict]:
    rng = np.random.default_rng(8)
    rows = []
    while len(rows) < count:
        kernel = tuple(int(k) for k in rng.integers(1, 5, 2))
        strides = tuple(int(s) for s in rng.integers(1, 4, 2))
        dilations = tuple(int(d) for d in rng.integers(1, 4, 2))
        pads = tuple(int(p) for p in rng.integers(0, 3, 4))  # asymmetric too: Pad + Convolution in Caffe
        group = int(rng.choice([1, 2, 3]))
        channels, out = group * int(rng.integers(1, 3)), group * int(rng.integers(1, 3))
        size = (int(rng.integers(5, 12)) | 1, int(rng.integers(5, 12)) | 1)  # odd sizes
        try:
            conv_model((1, channels, *size), len(rows), out_channels=out, kernel_shape=kernel, strides=strides,
                       dilations=dilations, pads=pads, group=group)  # fmt: skip
        except ck.ValidationError:
            continue  # the dilated kernel does not fit
        rows.append(dict(shape=(1, channels, *size), out_channels=out, kernel_shape=kernel, strides=strides,
                         dilations=dilations, pads=pads, group=group))  # fmt: skip
    return rows


@pytest.mark.parametrize("row", _sweep(24), ids=lambda r: f"{r['shape'][2:]}-k{r['kernel_shape']}-s{r['strides']}"
                         f"-d{r['dilations']}-p{r['pads']}-g{r['group']}")  # fmt: skip
def test_opencv_runs_caffe_convolution_as_the_reference(row: dict):
    pytest.importorskip("cv2")
    fields = dict(row)
    model = conv_model(fields.pop("shape"), **fields)
    report = check_caffe(model)
    assert report.passed, report.format()


def test_opencv_handles_caffe_dilation_so_it_is_written_as_dilation():
    pytest.importorskip("cv2")
    model = conv_model((1, 2, 9, 11), out_channels=3, kernel_shape=(3, 2), dilations=(3, 2), pads=(1, 2, 1, 2))
    net = to_caffe(model).net
    (conv,) = [lp for lp in net.layer if lp.type == "Convolution"]
    assert list(conv.convolution_param.dilation) == [3, 2]
    assert list(conv.convolution_param.kernel_size) == [] and conv.convolution_param.kernel_h == 3
    assert check_caffe(model).passed


def test_opencv_refuses_a_3d_prototxt_with_a_lone_kernel_size(tmp_path: Path):
    pytest.importorskip("cv2")
    text = """
layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 1 dim: 2 dim: 5 dim: 5 dim: 5 } } }
layer { name: "c" type: "Convolution" bottom: "x" top: "c"
  convolution_param { num_output: 2 kernel_size: 3 pad: 1 weight_filler { type: "xavier" } } }
"""
    path = tmp_path / "net.prototxt"
    path.write_text(text)
    x = np.zeros((1, 2, 5, 5, 5), np.float32)
    with pytest.raises(ck.UnsupportedError, match=r"layer 'c' \(Convolution\): a 3-D Convolution with one value for "
                       r"kernel_size, pad: .* write one value per axis"):  # fmt: skip
        run_opencv(str(path), None, {"x": x}, ["c"])
    # the same layer as convertkit writes it (per axis) runs, with the fillers materialised
    model = load_caffe(str(path))
    save_caffe(model, str(tmp_path / "again.prototxt"))
    out = run_opencv(str(tmp_path / "again.prototxt"), str(tmp_path / "again.caffemodel"), {"x": x + 1}, ["c"])
    np.testing.assert_allclose(out["c"], run_model(model, {"x": x + 1})["c"], atol=1e-5, rtol=1e-4)


# -- ONNX Conv as other exporters write it ----------------------------------------------------------------------


def _conv_node_model(x_shape, w, b=None, **attrs) -> onnx.ModelProto:
    inits = [numpy_helper.from_array(w, "W")] + ([numpy_helper.from_array(b, "B")] if b is not None else [])
    node = helper.make_node("Conv", ["x", "W"] + (["B"] if b is not None else []), ["y"], name="conv", **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


AUTO_PAD_ROWS = [
    # (x shape, kernel, strides, dilations, group): odd and even totals, strides past the kernel, 1-D and 3-D
    ((1, 2, 7, 8), (3, 3), (2, 2), (1, 1), 1),
    ((1, 2, 7, 8), (4, 2), (2, 3), (1, 1), 2),
    ((1, 4, 9, 14), (3, 3), (1, 2), (2, 3), 4),
    ((1, 2, 5, 5), (2, 2), (3, 3), (1, 1), 1),
    ((1, 3, 10), (4,), (3,), (2,), 1),
    ((1, 2, 5, 6, 4), (2, 3, 2), (2, 1, 3), (1, 1, 1), 2),
]


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID"])
@pytest.mark.parametrize("row", AUTO_PAD_ROWS, ids=lambda r: "x".join(map(str, r[0][2:])) + f"-k{r[1]}-s{r[2]}")
def test_onnx_auto_pad_imports_as_onnxruntime_runs_it(auto_pad: str, row):
    shape, kernel, strides, dilations, group = row
    rng = np.random.default_rng(3)
    w = rng.standard_normal((4, shape[1] // group, *kernel)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    proto = _conv_node_model(shape, w, b, auto_pad=auto_pad, strides=list(strides), dilations=list(dilations),
                             group=group)  # fmt: skip
    x = rng.standard_normal(shape).astype(np.float32)
    if auto_pad != "VALID" and any(d > 1 for d in dilations):
        # onnxruntime refuses SAME with dilations; onnx's own reference runs it, and the import says so
        with pytest.raises(Exception, match="Dilation not supported for AutoPadType"):
            run_onnx(proto, {"x": x})
        from onnx.reference import ReferenceEvaluator

        (want,) = ReferenceEvaluator(proto).run(None, {"x": x})
        with pytest.warns(ck.OnnxImportWarning, match=r"with dilations .* onnxruntime refuses to run this node"):
            model = from_onnx(proto)
    else:
        want = run_onnx(proto, {"x": x})["y"]
        model = from_onnx(proto)
    conv = model.layer("conv")
    n = len(kernel)
    expect = [onnx_auto_pad_conv_pads(shape[2 + a], kernel[a], strides[a], dilations[a], auto_pad) for a in range(n)]
    assert conv.pads == tuple(p[0] for p in expect) + tuple(p[1] for p in expect)
    if auto_pad != "VALID":
        assert model.types["y"].shape[2:] == tuple(-(-i // s) for i, s in zip(shape[2:], strides, strict=True))
    got = run_model(model, {"x": x})["y"]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-4)
    again = ck.to_onnx(model)
    assert all(a.name != "auto_pad" for a in again.graph.node[0].attribute)  # written with explicit pads
    np.testing.assert_allclose(run_onnx(again, {"x": x})["y"], want, atol=1e-5, rtol=1e-4)


def test_same_upper_puts_the_odd_pad_at_the_end_same_lower_at_the_start():
    assert onnx_auto_pad_conv_pads(7, 4, 1, 1, "SAME_UPPER") == (1, 2)
    assert onnx_auto_pad_conv_pads(7, 4, 1, 1, "SAME_LOWER") == (2, 1)
    assert onnx_auto_pad_conv_pads(5, 2, 3, 1, "SAME_UPPER") == (0, 0)  # stride past the kernel: max(0, ...)
    assert onnx_auto_pad_conv_pads(9, 3, 1, 2, "VALID") == (0, 0)


def test_onnx_asymmetric_pads_import_and_caffe_export_run_as_onnxruntime(tmp_path: Path):
    rng = np.random.default_rng(5)
    w = rng.standard_normal((3, 2, 3, 4)).astype(np.float32)
    proto = _conv_node_model((1, 2, 8, 9), w, pads=[0, 2, 1, 1], strides=[2, 2])
    x = rng.standard_normal((1, 2, 8, 9)).astype(np.float32)
    want = run_onnx(proto, {"x": x})["y"]
    model = from_onnx(proto)
    assert model.layer("conv").pads == (0, 2, 1, 1)
    np.testing.assert_allclose(run_model(model, {"x": x})["y"], want, atol=1e-5, rtol=1e-4)
    exported = to_caffe(model)
    assert [lp.type for lp in exported.net.layer] == ["Input", "Deconvolution", "Convolution"]  # zero Pad, then conv
    (conv,) = [lp for lp in exported.net.layer if lp.type == "Convolution"]
    assert (conv.convolution_param.pad_h, conv.convolution_param.pad_w) == (0, 1)
    pytest.importorskip("cv2")
    renamed = ck.Model([model.layers[0], dataclasses.replace(model.layer("conv"), output="conv")])
    assert check_caffe(renamed, {"x": x}).passed


def test_opencv_runs_a_convolution_whose_top_is_not_its_name():
    """OpenCV 4.x's Caffe reader names a Convolution layer after its top ('y'), not its name ('c'): the runner
    asks OpenCV by the name it knows (formats/caffe/opencv.py), so the output is found and matches."""
    pytest.importorskip("cv2")
    model = conv_model((1, 2, 6, 6), out_channels=2, kernel_shape=(3, 3))
    model = ck.Model([model.layers[0], dataclasses.replace(model.layer("c"), output="y")])
    assert check_caffe(model).passed


def test_onnx_pad_then_conv_imports_as_one_convolution():
    rng = np.random.default_rng(6)
    w = rng.standard_normal((2, 2, 3, 3)).astype(np.float32)
    pads = numpy_helper.from_array(np.array([0, 0, 1, 0, 0, 0, 0, 2], np.int64), "pads")
    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["xp"], name="pad", mode="constant"),
        helper.make_node("Conv", ["xp", "W"], ["y"], name="conv", pads=[0, 1, 0, 1]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(w, "W"), pads],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model = from_onnx(proto)
    (conv,) = [layer for layer in model.layers if layer.kind == "Convolution"]
    assert len(model.layers) == 2 and conv.pads == (1, 1, 0, 3)
    x = rng.standard_normal((1, 2, 5, 6)).astype(np.float32)
    np.testing.assert_allclose(run_model(model, {"x": x})["y"], run_onnx(proto, {"x": x})["y"], atol=1e-5)


def test_onnx_pads_beside_auto_pad_are_ignored_with_a_warning():
    w = np.ones((1, 1, 3, 3), np.float32)
    proto = _conv_node_model((1, 1, 5, 5), w, auto_pad="SAME_UPPER", pads=[2, 2, 2, 2])
    with pytest.warns(ck.OnnxImportWarning, match=r"pads \[2, 2, 2, 2\] are ignored because auto_pad is SAME_UPPER"):
        model = from_onnx(proto)
    assert model.layer("conv").pads == (1, 1, 1, 1)


# -- PyTorch's exporter -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def _torchscript_exporter() -> Iterator[None]:
    """The deprecation warnings of the TorchScript exporter (``dynamo=False``) itself; any other warning fails."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="You are using the legacy TorchScript-based ONNX export", category=DeprecationWarning
        )
        warnings.filterwarnings(
            "ignore",
            message="The feature will be removed. Please remove usage of this function",
            category=DeprecationWarning,
            module=r"torch\.onnx\.",
        )
        # PyTorch's own note when it runs padding='same' with an even kernel (the export traces a forward)
        warnings.filterwarnings("ignore", message="Using padding='same' with even kernel lengths", category=UserWarning)
        yield


def _torch_rows():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    return [
        ("conv2d-same-k4", lambda: nn.Conv2d(3, 4, 4, padding="same"), (1, 3, 7, 8)),
        ("conv2d-same-dilated-groups", lambda: nn.Conv2d(4, 6, 3, padding="same", dilation=2, groups=2), (1, 4, 7, 6)),
        ("conv1d-stride-groups", lambda: nn.Conv1d(4, 6, 5, stride=2, padding=2, groups=2), (2, 4, 11)),
        ("conv3d-strides-no-bias", lambda: nn.Conv3d(2, 3, (3, 2, 3), stride=(2, 1, 2), padding=1, bias=False),
         (1, 2, 5, 4, 6)),
    ]  # fmt: skip


@pytest.mark.parametrize("index", range(4), ids=["conv2d-same-k4", "conv2d-same-dilated-groups", "conv1d", "conv3d"])
def test_pytorch_export_imports_and_runs_equal(index: int, tmp_path: Path):
    torch = pytest.importorskip("torch")
    _, make, shape = _torch_rows()[index]
    torch.manual_seed(index)
    module = make().eval()
    x = torch.randn(*shape)
    path = tmp_path / "conv.onnx"
    with _torchscript_exporter():
        torch.onnx.export(module, (x,), str(path), input_names=["x"], output_names=["y"], opset_version=17,
                          dynamo=False)  # fmt: skip
    if index == 1:
        # PyTorch writes padding='same' as auto_pad SAME_UPPER, which onnxruntime refuses with dilations
        with pytest.warns(ck.OnnxImportWarning, match=r"SAME_UPPER with dilations \[2, 2\]: onnxruntime refuses"):
            model = ck.load(str(path))
    else:
        model = ck.load(str(path))
    assert [layer.kind for layer in model.layers] == ["Input", "Convolution"]
    with torch.no_grad(), _torchscript_exporter():
        want = module(x).numpy()
    got = run_model(model, {"x": x.numpy()})[model.outputs[0]]
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-4)
    assert ck.check(model).passed


# -- the adjoint identity ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "c, m, group, kernel, strides, dilations, pads, output_padding, size",
    [
        (2, 3, 1, (3, 3), (2, 2), (1, 1), (1, 0, 1, 1), (1, 0), (4, 5)),
        (4, 6, 2, (2, 3), (3, 1), (2, 2), (0, 1, 2, 0), (2, 0), (3, 4)),
        (3, 3, 3, (4,), (2,), (1,), (1, 2), (1,), (6,)),
        (2, 4, 2, (2, 2, 3), (1, 2, 2), (1, 1, 2), (0, 1, 1, 1, 0, 2), (0, 1, 1), (3, 3, 4)),
    ],
)
def test_deconvolution_is_the_adjoint_of_convolution(c, m, group, kernel, strides, dilations, pads, output_padding,
                                                     size):  # fmt: skip
    # <convT(x), r> == <x, conv(r)> with the same weights (C, M/group, k...): Deconvolution maps C -> M and the
    # Convolution that maps M back to C reads the blob as (C, M/group, k...) = (out, in/group, k...), in float64.
    rng = np.random.default_rng(1)
    w = ck.Values(array=rng.standard_normal((c, m // group, *kernel)))
    x = rng.standard_normal((1, c, *size))
    deconv = ck.Model([
        ck.Input(name="x", shape=x.shape, dtype="float64"),
        ck.Deconvolution(name="d", input="x", out_channels=m, group=group, kernel_shape=kernel, strides=strides,
                         dilations=dilations, padding=ck.Padding(pads=pads), output_padding=output_padding,
                         bias_term=False, weight=w),
    ])  # fmt: skip
    y = run_model(deconv, {"x": x})["d"]
    r = rng.standard_normal(y.shape)
    conv = conv_model(r.shape, dtype="float64", out_channels=c, group=group, kernel_shape=kernel, strides=strides,
                      dilations=dilations, pads=pads, bias_term=False, weight=w)  # fmt: skip
    back = run_model(conv, {"x": r})["c"]
    assert back.shape == x.shape
    np.testing.assert_allclose(np.vdot(y, r), np.vdot(x, back), rtol=1e-12)


# -- Caffe reading ----------------------------------------------------------------------------------------------


def test_legacy_v1_convolution_with_fillers_and_training_params(tmp_path: Path):
    text = """
input: "data"
input_dim: 1 input_dim: 3 input_dim: 10 input_dim: 10
layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1" blobs_lr: 1 blobs_lr: 2
  weight_decay: 1 weight_decay: 0
  convolution_param { num_output: 8 kernel_size: 5 stride: 2 pad_h: 2 pad_w: 1 group: 1
    weight_filler { type: "gaussian" std: 0.01 } bias_filler { type: "constant" value: 0.5 } } }
"""
    path = tmp_path / "v1.prototxt"
    path.write_text(text)
    model = load_caffe(str(path), seed=4)
    conv = model.layer("conv1")
    assert isinstance(conv, ck.Convolution)
    assert (conv.kernel_shape, conv.strides, conv.pads) == ((5, 5), (2, 2), (2, 1, 2, 1))
    assert model.types["conv1"].shape == (1, 8, 5, 4)
    assert conv.blob_training == (
        ck.BlobTraining(lr_mult=1.0, decay_mult=1.0),
        ck.BlobTraining(lr_mult=2.0, decay_mult=0.0),
    )
    assert np.all(conv.bias_array() == 0.5)
    assert load_caffe(str(path), seed=4) == model  # seeded fillers
    assert load_caffe(str(path), seed=5) != model
    exported = to_caffe(model).net.layer[-1]
    assert [(p.lr_mult, p.decay_mult) for p in exported.param] == [(1.0, 1.0), (2.0, 0.0)]


# -- refusals ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, message",
    [
        (dict(out_channels=3, group=2), r"layer 'c' \(Convolution\): group must divide out_channels, but 2 does not "
                                        r"divide 3"),
        (dict(out_channels=4, group=4), r"group must divide the input channels, but 4 does not divide 6"),
        (dict(out_channels=4, pads=(1, -1, 0, 0)), r"pads must be >= 0 \(begin\.\.\., end\.\.\.\), got "
                                                   r"\[1, -1, 0, 0\]"),
        (dict(out_channels=4, kernel_shape=(9, 3)), r"output size \[-1, 3\] is not positive for input \[7, 5\]: the "
                                                    r"effective kernel \[9, 3\] is larger"),
        (dict(out_channels=4, weight=ck.Values(array=np.zeros((4, 6, 3, 2), np.float32))),
         r"weight shape must be \(out_channels, C / group, \*kernel_shape\) = \(4, C / 1, 3, 3\), got \(4, 6, 3, 2\)"),
        (dict(out_channels=4, group=2, weight=ck.Values(array=np.zeros((4, 6, 3, 3), np.float32))),
         r"with C / group = 6 / 2 = 3, got \(4, 6, 3, 3\)"),
        (dict(out_channels=4, bias_term=False, bias=ck.Filler(type="constant", value=1.0)),
         r"bias is given but bias_term is false"),
        (dict(out_channels=4, strides=(1, 0)), r"strides must be >= 1, got \[1, 0\]"),
    ],
)  # fmt: skip
def test_layer_rules_name_the_layer_rule_and_values(fields: dict, message: str):
    fields.setdefault("kernel_shape", (3, 3))
    with pytest.raises(ck.ValidationError, match=message):
        conv_model((1, 6, 7, 5), **fields)


def test_onnx_conv_with_a_runtime_weight_is_refused():
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv")
    graph = helper.make_graph(
        [node],
        "g",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 5]),
            helper.make_tensor_value_info("w", TensorProto.FLOAT, [2, 2, 3, 3]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(ck.UnsupportedError, match=r"ONNX node 'conv' \(Conv-17\): the weight W .* is computed at run "
                       r"time; .* bind it"):  # fmt: skip
        from_onnx(proto)


def test_onnx_kernel_shape_that_disagrees_with_w_is_refused():
    proto = _conv_node_model((1, 2, 5, 5), np.zeros((2, 2, 3, 3), np.float32), kernel_shape=[3, 2])
    with pytest.raises(ck.ValidationError, match=r"kernel_shape \[3, 2\] disagrees with the weight's spatial shape"):
        from_onnx(proto)


def test_caffe_convolution_on_another_axis_and_wrong_blobs_are_refused(tmp_path: Path):
    base = """
layer {{ name: "x" type: "Input" top: "x" input_param {{ shape {{ dim: 1 dim: 2 dim: 5 dim: 5 }} }} }}
layer {{ name: "c" type: "Convolution" bottom: "x" top: "c" convolution_param {{ num_output: 2 kernel_size: 3 {} }} }}
"""
    path = tmp_path / "axis.prototxt"
    path.write_text(base.format("axis: 2"))
    with pytest.raises(ck.UnsupportedError, match=r"layer 'c' \(Convolution\): convolution_param axis 2; only the "
                       r"channel axis 1"):  # fmt: skip
        load_caffe(str(path))
    path.write_text(base.format("group: 3"))
    with pytest.raises(ck.FormatError, match=r"group 3 must divide the input channels 2 and num_output 2"):
        load_caffe(str(path))
    path.write_text(base.format(""))
    with pytest.warns(ck.CaffeWarning, match=r"no weights and no weight_filler, so Caffe's default applies: all zeros"):
        model = load_caffe(str(path))
    save_caffe(model, str(tmp_path / "net.prototxt"))
    model = conv_model((1, 2, 5, 5), out_channels=3, kernel_shape=(3, 3))
    save_caffe(model, str(tmp_path / "three.prototxt"))
    with pytest.raises(ck.FormatError, match=r"weights blob in the caffemodel has shape \[3, 2, 3, 3\], the layer "
                       r"needs \[2, 2, 3, 3\]"):  # fmt: skip
        load_caffe(str(path), weights=str(tmp_path / "three.caffemodel"))


def test_caffe_writer_refuses_asymmetric_pads_that_were_not_lowered():
    from convertkit.codec.caffe import CaffeEmitter
    from convertkit.registry import kind_of

    model = conv_model((1, 2, 5, 5), out_channels=2, kernel_shape=(3, 3), pads=(1, 0, 0, 1))
    write = kind_of(ck.Convolution).caffe.write
    assert write is not None
    with pytest.raises(ck.UnsupportedError, match=r"Caffe Convolution pads symmetrically; pads \[1, 0, 0, 1\] are "
                       r"asymmetric — export through convertkit.to_caffe"):  # fmt: skip
        write(model.layer("c"), CaffeEmitter(), model.input_types(model.layer("c")))  # type: ignore[arg-type]
