"""``convertkit optimize`` on small ONNX models written with onnx.helper (as other exporters write them):
auto_pad SAME_UPPER / SAME_LOWER and output_shape ConvTranspose resolved to explicit pads and equal in onnxruntime,
bilinear weights recognised, every other node byte for byte untouched, what cannot be rewritten left as is."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from convertkit.cli import main
from convertkit.fillers import bilinear_kernel
from convertkit.optimize import optimize_onnx, verify


@pytest.fixture(autouse=True)
def _no_dense_form(monkeypatch):
    """These tests pin the separable, windowed, nearest and triangle forms on shapes small enough for the dense
    form (tests/test_dense_form.py tests that one): switch it off."""
    from convertkit.passes import fast_upsample

    monkeypatch.setattr(fast_upsample, "DENSE_MAX_IN", 0)


def _model(nodes, inits, x_shape, opset=17, extra_inputs=()):
    g = helper.make_graph(
        nodes,
        "m",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape)), *extra_inputs],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.asarray(a), n) for n, a in inits.items()],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def _bilinear_depthwise(c, k):
    return np.broadcast_to(bilinear_kernel((k, k)), (c, 1, k, k)).astype(np.float32).copy()


def _attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _optimized(proto, **kwargs):
    result = optimize_onnx(proto, **kwargs)
    check = verify(proto, result.proto, repeats=1)
    assert check.equal, check.format()
    return result


@pytest.mark.parametrize(
    "attrs",
    [
        dict(auto_pad="SAME_UPPER"),
        dict(auto_pad="SAME_LOWER"),
        dict(output_shape=[9, 11]),
        dict(output_shape=[10, 12], auto_pad="SAME_UPPER"),
        dict(pads=[1, 1, 1, 1]),
    ],
)
def test_conv_transpose_forms_become_explicit_and_fast(attrs):
    c, k = 3, 4
    node = helper.make_node("ConvTranspose", ["x", "W"], ["y"], strides=[2, 2], group=c, **attrs)
    proto = _model([node], {"W": _bilinear_depthwise(c, k)}, (2, c, 5, 6))
    result = _optimized(proto)
    assert result.rewritten == 1
    convs = [n for n in result.proto.graph.node if n.op_type == "ConvTranspose"]
    assert len(convs) == 2  # one pass per axis
    for conv in convs:
        a = _attrs(conv)
        assert "auto_pad" not in a and "output_shape" not in a and "pads" in a
    # the C x K x K kernel is gone: the file stores two 1-D kernels
    assert all(i.name != "W" for i in result.proto.graph.initializer)


def test_learned_conv_transpose_with_auto_pad_gets_explicit_pads_only():
    w = np.random.default_rng(0).standard_normal((3, 2, 3, 3)).astype(np.float32)
    node = helper.make_node("ConvTranspose", ["x", "W"], ["y"], strides=[2, 2], auto_pad="SAME_LOWER")
    result = _optimized(_model([node], {"W": w}, (1, 3, 4, 5)))
    (conv,) = result.proto.graph.node
    assert conv.op_type == "ConvTranspose" and "auto_pad" not in _attrs(conv)


def test_diagonal_full_weights_are_recognised():
    c, k = 4, 8
    w = np.zeros((c, c, k, k), np.float32)
    w[np.arange(c), np.arange(c)] = bilinear_kernel((k, k))
    node = helper.make_node("ConvTranspose", ["x", "W"], ["y"], strides=[4, 4], pads=[2, 2, 2, 2])
    result = _optimized(_model([node], {"W": w}, (1, c, 3, 5)))
    assert [n.op_type for n in result.proto.graph.node] == ["Reshape", "ConvTranspose", "ConvTranspose", "Reshape"]


def test_other_nodes_pass_through_untouched():
    """Ops convertkit has no kind for (Sin, Einsum) and the nodes around survive byte for byte."""
    c = 3
    nodes = [
        helper.make_node("Sin", ["x"], ["s"], name="sin"),
        helper.make_node("ConvTranspose", ["s", "W"], ["u"], name="up", strides=[2, 2], group=c, pads=[1, 1, 1, 1]),
        helper.make_node("Einsum", ["u"], ["e"], name="einsum", equation="nchw->nchw"),
        helper.make_node("Resize", ["e", "", "scales"], ["y"], name="resize", mode="nearest"),
    ]
    inits = {"W": _bilinear_depthwise(c, 4), "scales": np.array([1, 1, 2, 2], np.float32)}
    proto = _model(nodes, inits, (1, c, 4, 5))
    result = _optimized(proto)
    by_name = {n.name: n for n in result.proto.graph.node}
    for name in ("sin", "einsum"):
        original = next(n for n in proto.graph.node if n.name == name)
        assert by_name[name].SerializeToString() == original.SerializeToString()
    assert result.rewritten == 2  # the ConvTranspose and the Resize (written again with explicit inputs)
    assert not any(n.name == "up" for n in result.proto.graph.node)


def test_runtime_weights_and_old_opsets_are_left_as_is():
    node = helper.make_node("ConvTranspose", ["x", "W"], ["y"], strides=[2, 2])
    w_input = helper.make_tensor_value_info("W", TensorProto.FLOAT, [3, 1, 4, 4])
    proto = _model([node], {}, (1, 3, 4, 4), extra_inputs=[w_input])
    result = optimize_onnx(proto)
    assert result.rewritten == 0 and "computed at run time" in result.notes[0]
    assert result.proto.graph.node[0].SerializeToString() == node.SerializeToString()
    old = _model(
        [helper.make_node("ConvTranspose", ["x", "W"], ["y"], strides=[2, 2], group=3)],
        {"W": _bilinear_depthwise(3, 4)},
        (1, 3, 4, 4),
        opset=11,
    )
    result = optimize_onnx(old)
    assert result.rewritten == 0 and "opset 11" in result.notes[0]


def test_symbolic_input_needs_a_shape():
    c = 3
    node = helper.make_node("ConvTranspose", ["x", "W"], ["y"], strides=[2, 2], group=c, pads=[1, 1, 1, 1])
    proto = _model([node], {"W": _bilinear_depthwise(c, 4)}, ("N", c, 4, 4))
    assert "no static shape" in optimize_onnx(proto).notes[0]
    result = optimize_onnx(proto, input_shapes={"x": (2, c, 4, 4)})
    assert result.rewritten == 1
    assert verify(proto, result.proto, input_shapes={"x": (2, c, 4, 4)}, repeats=1).equal


def test_cli_optimize_writes_and_reports(tmp_path, capsys):
    c = 3
    node = helper.make_node("ConvTranspose", ["x", "W"], ["y"], strides=[2, 2], group=c, auto_pad="SAME_UPPER")
    src, dst = tmp_path / "in.onnx", tmp_path / "out.onnx"
    onnx.save(_model([node], {"W": _bilinear_depthwise(c, 4)}, (1, c, 4, 4)), src)
    assert main(["optimize", str(src), "-o", str(dst), "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "Reshape -> ConvTranspose -> ConvTranspose -> Reshape" in out
    assert "equal" in out and "x" in out.split("ms, ")[-1]
    assert dst.exists()
    assert main(["optimize", str(src), "-o", str(src)]) != 0
