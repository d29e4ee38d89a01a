"""Build examples/same_upper_head.onnx: what a TensorFlow-style exporter writes for a decoder head.

A ConvTranspose with auto_pad SAME_UPPER and output_padding (the case where onnx shape inference and onnxruntime
disagree on the output size), then a bilinear Resize x2 with scales. Run: python examples/make_onnx_example.py
"""

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)
w = (rng.standard_normal((8, 4, 3, 3)) * 0.1).astype(np.float32)
b = np.linspace(-0.5, 0.5, 4).astype(np.float32)
nodes = [
    helper.make_node("Constant", [], ["w"], name="w", value=numpy_helper.from_array(w)),
    helper.make_node(
        "ConvTranspose",
        ["x", "w", "b"],
        ["up1"],
        name="up1",
        strides=[2, 2],
        auto_pad="SAME_UPPER",
        output_padding=[1, 1],
    ),
    helper.make_node(
        "Resize",
        ["up1", "", "scales"],
        ["y"],
        name="up2",
        mode="linear",
        coordinate_transformation_mode="half_pixel",
    ),
]
graph = helper.make_graph(
    nodes,
    "same_upper_head",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16, 16])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 64, 64])],
    [numpy_helper.from_array(b, "b"), numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="example")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, Path(__file__).with_name("same_upper_head.onnx"))
