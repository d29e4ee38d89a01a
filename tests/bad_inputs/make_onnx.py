"""Regenerate the ONNX files of the bad-input corpus: ``python tests/bad_inputs/make_onnx.py``.

Each is a small, deliberately broken model (or not a model at all); CASES.toml says what convertkit must answer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).parent / "onnx"


def _model(nodes, inputs, outputs, initializers=(), opset=19):
    graph = helper.make_graph(nodes, "bad", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="corpus")
    model.ir_version = 9
    return model


def _vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _deconv(**attrs):
    w = numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="up", **attrs)
    return _model([node], [_vi("x", [1, 1, 4, 4])], [_vi("y", None)], [w])


def main() -> None:
    HERE.mkdir(exist_ok=True)
    good = _deconv(strides=[2, 2], pads=[1, 1, 1, 1]).SerializeToString()
    files = {
        "not_a_model.onnx": b"this is a text file, not an ONNX model\n",
        "truncated.onnx": good[: len(good) // 2],
        "negative_pads.onnx": _deconv(strides=[2, 2], pads=[-1, 0, 0, 0]).SerializeToString(),
        "output_padding.onnx": _deconv(strides=[2, 2], output_padding=[3, 3]).SerializeToString(),
    }
    node = helper.make_node("ConvTranspose", ["x", "w_missing"], ["y"], name="up", strides=[2, 2])
    files["missing_initializer.onnx"] = _model([node], [_vi("x", [1, 1, 4, 4])], [_vi("y", None)]).SerializeToString()
    node = helper.make_node("TopK", ["x", "k"], ["y", "i"], name="topk")
    k = numpy_helper.from_array(np.array([2], np.int64), "k")
    files["unsupported_op.onnx"] = _model(
        [node],
        [_vi("x", [1, 1, 4, 4])],
        [_vi("y", None), helper.make_tensor_value_info("i", TensorProto.INT64, None)],
        [k],
    ).SerializeToString()
    scales = numpy_helper.from_array(np.array([1, 1, np.nan, 2], np.float32), "scales")
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], name="resize", mode="nearest")
    files["nan_scales.onnx"] = _model([node], [_vi("x", [1, 1, 4, 4])], [_vi("y", None)], [scales]).SerializeToString()
    files["huge_dims.onnx"] = _model(
        [helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="up", strides=[2, 2])],
        [_vi("x", [1, 1, 100000, 100000])],
        [_vi("y", None)],
        [numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")],
    ).SerializeToString()
    w = numpy_helper.from_array(np.ones((1, 1, 3, 3), np.float32), "w")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "../../outside.bin"), ("offset", "0"), ("length", "36")):
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="up", strides=[2, 2])
    files["external_outside.onnx"] = _model([node], [_vi("x", [1, 1, 4, 4])], [_vi("y", None)], [w]).SerializeToString()
    a = helper.make_node("Relu", ["x", "b_out"][1:], ["a_out"], name="a")
    b = helper.make_node("Relu", ["a_out"], ["b_out"], name="b")
    files["cyclic.onnx"] = _model([a, b], [_vi("x", [1, 1, 4, 4])], [_vi("b_out", None)]).SerializeToString()
    for name, data in files.items():
        (HERE / name).write_bytes(data)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
