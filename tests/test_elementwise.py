"""The elementwise kinds (issue 8) beyond the case table: Activation, PReLU, Eltwise, Softmax, Identity (Dropout).

- OpenCV on convertkit's prototxt, and on a hand-written FCN-style prototxt with in-place ReLU and Dropout, against
  the NumPy reference (seeded inputs);
- hand-built ONNX nodes (other exporters' spellings: LeakyRelu's default alpha, PRelu slopes, Sum of three, Dropout
  with ratio and training_mode, Softmax before opset 13) imported and run in the reference against onnxruntime on
  the original file;
- PyTorch's TorchScript exporter on a ``nn.Sequential`` of these activations;
- the refusals, each with its message.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import convertkit as ck
from convertkit.formats.caffe import check_caffe, load_caffe
from convertkit.formats.caffe.opencv import run_opencv
from convertkit.formats.onnx_import import from_onnx
from convertkit.reference.interpreter import run_model
from convertkit.runtime import run_onnx

RNG_SEED = 0


def _x(*shape: int, seed: int = RNG_SEED) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# -- OpenCV ----------------------------------------------------------------------------------------------------


def test_opencv_runs_every_elementwise_kind_in_one_net():
    pytest.importorskip("cv2", reason="OpenCV's Caffe reader is the Caffe runtime peer")
    slope = ck.Values(array=np.array([0.1, -0.2, 0.3], np.float32))
    model = ck.Model(
        [
            ck.Input(name="x", shape=(1, 3, 5, 6)),
            ck.Input(name="y", shape=(1, 3, 5, 6)),
            ck.PReLU(name="p", input="x", slope=slope),
            ck.Activation(name="e", input="p", function="elu", alpha=0.7),
            ck.Activation(name="t", input="y", function="tanh"),
            ck.Eltwise(name="s", input_names=("e", "t", "x"), coeff=(2.0, -0.5, 1.0)),
            ck.Eltwise(name="m", input_names=("s", "y"), operation="max"),
            ck.Eltwise(name="q", input_names=("m", "t"), operation="prod"),
            ck.Activation(name="a", input="q", function="abs"),
            ck.Identity(name="d", input="a"),
            ck.Softmax(name="sm", input="d"),
        ]
    )
    report = check_caffe(model, seed=3)
    assert report.passed, report.format()


FCN_TAIL = """
name: "fcn_tail"
input: "fc6"
input_shape { dim: 1 dim: 4 dim: 3 dim: 3 }
layer { name: "relu6" type: "ReLU" bottom: "fc6" top: "fc6" relu_param { negative_slope: 0.1 } }
layer { name: "drop6" type: "Dropout" bottom: "fc6" top: "fc6" dropout_param { dropout_ratio: 0.5 } }
layer { name: "sig" type: "Sigmoid" bottom: "fc6" top: "sig" }
layer { name: "prob" type: "Softmax" bottom: "sig" top: "prob" }
layer { name: "drop7" type: "Dropout" bottom: "prob" top: "prob" }
"""


def test_in_place_relu_and_dropout_read_and_run_in_opencv(tmp_path: Path):
    pytest.importorskip("cv2", reason="OpenCV's Caffe reader is the Caffe runtime peer")
    path = tmp_path / "fcn_tail.prototxt"
    path.write_text(FCN_TAIL)
    model = load_caffe(str(path))
    assert [layer.kind for layer in model.layers] == [
        "Input",
        "Activation",
        "Identity",
        "Activation",
        "Softmax",
        "Identity",
    ]
    drop6 = model.layer("drop6")
    assert drop6.meta["caffe.dropout_ratio"] == 0.5 and drop6.input != drop6.outputs[0]
    # the last in-place Dropout writes the net output, which keeps the blob's name as the model output
    (out,) = model.outputs
    feeds = {"fc6": _x(1, 4, 3, 3)}
    want = run_model(model, feeds)[out]
    np.testing.assert_allclose(want.sum(axis=1), 1.0, rtol=1e-6)
    got = run_opencv(str(path), None, feeds, ["prob"])["prob"]
    np.testing.assert_allclose(got, want, atol=1e-6, rtol=1e-5)
    # and through ONNX, where each Dropout is an inference Dropout node
    np.testing.assert_allclose(run_onnx(ck.to_onnx(model), feeds)[out], want, atol=1e-6, rtol=1e-5)


# -- ONNX from other exporters ------------------------------------------------------------------------------------


def _graph(nodes, inputs, outputs, inits=(), opset=17):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, S) for n in outputs],
        [numpy_helper.from_array(a, n) for n, a in inits],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


S = [1, 3, 4, 5]
ONNX_FORMS = {
    "leakyrelu-default-alpha": (lambda: _graph([helper.make_node("LeakyRelu", ["x"], ["y"])], [("x", S)], ["y"])),
    "elu-default-alpha": (lambda: _graph([helper.make_node("Elu", ["x"], ["y"])], [("x", S)], ["y"])),
    "relu-abs-tanh-sigmoid": (
        lambda: _graph(
            [
                helper.make_node("Relu", ["x"], ["a"]),
                helper.make_node("Abs", ["x"], ["b"]),
                helper.make_node("Tanh", ["a"], ["c"]),
                helper.make_node("Sigmoid", ["b"], ["y"]),
            ],
            [("x", S)],
            ["y", "c"],
        )
    ),
    "prelu-per-channel-c11": (
        lambda: _graph(
            [helper.make_node("PRelu", ["x", "s"], ["y"])],
            [("x", S)],
            ["y"],
            [("s", np.array([0.1, 0.5, -1.0], np.float32).reshape(3, 1, 1))],
        )
    ),
    "prelu-shared-scalar": (
        lambda: _graph(
            [helper.make_node("PRelu", ["x", "s"], ["y"])], [("x", S)], ["y"], [("s", np.array([0.2], np.float32))]
        )
    ),
    "sum-of-three-sub-mul-max": (
        lambda: _graph(
            [
                helper.make_node("Sum", ["x", "z", "x"], ["a"]),
                helper.make_node("Sub", ["a", "z"], ["b"]),
                helper.make_node("Mul", ["b", "x"], ["c"]),
                helper.make_node("Max", ["c", "z"], ["y"]),
            ],
            [("x", S), ("z", S)],
            ["y"],
        )
    ),
    "softmax-opset13-default-last-axis": (
        lambda: _graph([helper.make_node("Softmax", ["x"], ["y"])], [("x", S)], ["y"], opset=13)
    ),
    "softmax-opset11-last-axis": (
        lambda: _graph([helper.make_node("Softmax", ["x"], ["y"], axis=3)], [("x", S)], ["y"], opset=11)
    ),
    "dropout-ratio-training-false-is-an-output": (
        lambda: _graph(
            [
                helper.make_node("Relu", ["x"], ["r"]),
                helper.make_node("Dropout", ["r", "ratio", "train"], ["y"]),
            ],
            [("x", S)],
            ["y"],
            [("ratio", np.array(0.3, np.float32)), ("train", np.array(False))],
        )
    ),
    "dropout-of-the-graph-input-is-the-output": (
        lambda: _graph([helper.make_node("Dropout", ["x"], ["y"])], [("x", S)], ["y"], opset=13)
    ),
}


@pytest.mark.parametrize("form", sorted(ONNX_FORMS))
def test_onnx_forms_import_and_match_onnxruntime(form: str):
    proto = ONNX_FORMS[form]()
    onnx.checker.check_model(proto, full_check=True)
    model = from_onnx(proto)
    feeds = {name: _x(*S, seed=k) for k, name in enumerate(model.inputs)}
    want = run_onnx(proto, feeds)
    got = run_model(model, feeds)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], atol=1e-6, rtol=1e-5, err_msg=name)
    again = run_onnx(ck.to_onnx(model), feeds)
    for name in want:
        np.testing.assert_allclose(again[name], want[name], atol=1e-6, rtol=1e-5, err_msg=name)


def test_one_meaning_one_ir_value():
    relu = from_onnx(_graph([helper.make_node("LeakyRelu", ["x"], ["y"], alpha=0.0)], [("x", S)], ["y"]))
    assert relu.layer("LeakyRelu_0") == ck.Activation(name="LeakyRelu_0", input="x", output="y", function="relu")
    assert ck.Activation(name="e", input="x", function="elu", alpha=1.0).alpha is None
    assert ck.Activation(name="r", input="x", function="relu", alpha=0.1).alpha == float(np.float32(0.1))
    assert ck.Eltwise(name="e", input_names=("a", "b"), coeff=(1, 1)).coeff == ()


# -- PyTorch ------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_torchscript_exporter() -> Iterator[None]:
    # the two deprecation notices of every dynamo=False export (see tests/test_torch_export.py)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="You are using the legacy TorchScript", category=DeprecationWarning)
        warnings.filterwarnings(
            "ignore", message="The feature will be removed", category=DeprecationWarning, module=r"torch\.onnx\."
        )
        yield


def test_pytorch_sequential_of_the_activations_imports_exactly():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    module = nn.Sequential(
        nn.ReLU(),
        nn.LeakyReLU(0.2),
        nn.PReLU(3),
        nn.Sigmoid(),
        nn.ELU(0.7),
        nn.Tanh(),
        nn.Softmax(dim=1),
        nn.Dropout(0.4),
    ).eval()
    with torch.no_grad():
        module[2].weight.copy_(torch.tensor([0.1, -0.3, 0.6]))
    x = torch.from_numpy(_x(1, 3, 4, 5) * 3)
    with torch.no_grad():
        expected = module(x).numpy()
    buffer = io.BytesIO()
    with _quiet_torchscript_exporter():
        torch.onnx.export(module, (x,), buffer, dynamo=False, opset_version=17, input_names=["x"], output_names=["y"])
    model = from_onnx(onnx.load_from_string(buffer.getvalue()))
    kinds = [layer.kind for layer in model.layers]
    assert kinds.count("Activation") == 5 and "PReLU" in kinds and "Softmax" in kinds
    np.testing.assert_allclose(run_model(model, {"x": x.numpy()})["y"], expected, atol=1e-6, rtol=1e-5)
    np.testing.assert_allclose(run_onnx(ck.to_onnx(model), {"x": x.numpy()})["y"], expected, atol=1e-6, rtol=1e-5)


# -- refusals -----------------------------------------------------------------------------------------------------


REFUSED_ONNX = {
    "dropout-training-mode-true": (
        lambda: _graph(
            [helper.make_node("Dropout", ["x", "", "t"], ["y"])], [("x", S)], ["y"], [("t", np.array(True))]
        ),
        r"training_mode is True: a training Dropout is random",
    ),
    "dropout-mask-used": (
        lambda: _graph([helper.make_node("Dropout", ["x"], ["y", "mask"])], [("x", S)], ["y", "mask"]),
        r"its mask output 'mask' is used",
    ),
    "softmax-opset11-flattens-axes": (
        lambda: _graph([helper.make_node("Softmax", ["x"], ["y"], axis=1)], [("x", S)], ["y"], opset=11),
        r"before opset 13 Softmax normalises over axes 1\.\.3 together .* convert the model to opset 13",
    ),
    "prelu-slope-on-the-last-axis": (
        lambda: _graph(
            [helper.make_node("PRelu", ["x", "s"], ["y"])], [("x", S)], ["y"], [("s", np.ones(5, np.float32))]
        ),
        r"slope of shape \[5\] on input \[1, 3, 4, 5\]: convertkit's PReLU takes one slope per channel",
    ),
    "mul-broadcasting": (
        lambda: _graph([helper.make_node("Mul", ["x", "z"], ["y"])], [("x", S), ("z", [1, 3, 1, 1])], ["y"]),
        r"convertkit's Eltwise \(Caffe's\) takes inputs of one shape and dtype — broadcast them explicitly first",
    ),
    # a scalar constant is a Power (tests/test_dense_kinds.py), one over a run of axes a Scale; one broadcast
    # inside its run of axes is no kind's form
    "mul-by-a-constant-broadcast-inside-its-axes": (
        lambda: _graph(
            [helper.make_node("Mul", ["x", "c"], ["y"])],
            [("x", S)],
            ["y"],
            [("c", np.full((3, 1, 5), 2.0, np.float32))],
        ),
        r"cannot import: Mul \(node 'Mul_0'\)",
    ),
    "add-broadcasting": (
        lambda: _graph([helper.make_node("Add", ["x", "z"], ["y"])], [("x", S), ("z", [1, 3, 1, 1])], ["y"]),
        r"ONNX broadcasting of run-time tensors has no Caffe form",
    ),
}


@pytest.mark.parametrize("form", sorted(REFUSED_ONNX))
def test_onnx_refusals_say_why(form: str):
    build, match = REFUSED_ONNX[form]
    with pytest.raises(ck.UnsupportedError, match=match):
        from_onnx(build())


@pytest.mark.parametrize(
    "build,match",
    [
        (lambda: ck.Activation(name="a", input="x", function="sigmoid", alpha=0.1), r"sigmoid takes no alpha"),
        (lambda: ck.Activation(name="a", input="x", function="gelu"), r"function must be one of relu, sigmoid"),
        (
            lambda: ck.Eltwise(name="e", input_names=("a", "b"), operation="max", coeff=(1, 2)),
            r"coeff \[1\.0, 2\.0\] applies to operation sum only, not max",
        ),
        (lambda: ck.Eltwise(name="e", input_names=("a",)), r"needs at least two inputs"),
        (lambda: ck.Eltwise(name="e", input_names=("a", "b"), coeff=(1,)), r"coeff needs one value per input \(2\)"),
        (
            lambda: ck.PReLU(name="p", input="x", slope=ck.Values(array=np.ones(3, np.float32)), channel_shared=True),
            r"slope must have shape \(1,\) \(channel_shared\), got \(3,\)",
        ),
    ],
)
def test_ir_refusals_say_why(build, match):
    with pytest.raises(ck.ValidationError, match=match):
        build()


def test_model_refuses_eltwise_inputs_of_different_shapes():
    with pytest.raises(
        ck.ValidationError, match=r"input 'y' is float32\[1x2x3\], the first input 'x' float32\[1x2x4\]"
    ):
        ck.Model(
            [
                ck.Input(name="x", shape=(1, 2, 4)),
                ck.Input(name="y", shape=(1, 2, 3)),
                ck.Eltwise(name="e", input_names=("x", "y")),
            ]
        )


def test_caffe_eltwise_coeff_with_prod_is_refused(tmp_path: Path):
    path = tmp_path / "bad.prototxt"
    path.write_text(
        'input: "a" input_shape { dim: 1 dim: 2 }\ninput: "b" input_shape { dim: 1 dim: 2 }\n'
        'layer { name: "e" type: "Eltwise" bottom: "a" bottom: "b" top: "e" '
        "eltwise_param { operation: PROD coeff: 1 coeff: 2 } }\n"
    )
    with pytest.raises(ck.UnsupportedError, match=r"layer 'e' \(Eltwise\): coeff \[1\.0, 2\.0\] with operation PROD"):
        load_caffe(str(path))


@pytest.mark.parametrize("function", ["sigmoid", "elu", "tanh", "relu"])
def test_extreme_inputs_overflow_nowhere_and_match_onnxruntime(function: str):
    x = np.array([[-1e30, -1000, -88.7, -20, -1e-30, 0, 1e-30, 20, 88.7, 1000, 1e30]], np.float32)
    model = ck.Model([ck.Input(name="x", shape=x.shape), ck.Activation(name="a", input="x", function=function)])
    report = ck.check(model, inputs={"x": x})  # warnings are errors: an exp overflow would fail here
    assert report.passed, report.format()
