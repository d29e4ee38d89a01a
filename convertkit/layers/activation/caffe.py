"""Caffe facet of ``Activation``: ``ReLU`` (``negative_slope``), ``Sigmoid``, ``TanH``, ``ELU`` (``alpha``),
``AbsVal``."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .core import Activation

#: Caffe type -> function.
TYPE_FUNCTIONS = {"ReLU": "relu", "Sigmoid": "sigmoid", "TanH": "tanh", "ELU": "elu", "AbsVal": "abs"}
TYPES = tuple(TYPE_FUNCTIONS)
#: function -> Caffe type.
FUNCTION_TYPES = {f: t for t, f in TYPE_FUNCTIONS.items()}


def write(layer: Activation, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    proto = ctx.add_layer(layer.name, FUNCTION_TYPES[layer.function], [layer.input], [layer.output])
    if layer.alpha is not None and layer.function == "relu":
        proto.relu_param.negative_slope = layer.alpha
    elif layer.alpha is not None and layer.function == "elu":
        proto.elu_param.alpha = layer.alpha


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    source.expect_one_in_one_out()
    lp = source.param
    function = TYPE_FUNCTIONS[source.layer_type]
    alpha = None
    if function == "relu":
        alpha = lp.relu_param.negative_slope
    elif function == "elu":
        alpha = lp.elu_param.alpha
    return [Activation(name=lp.name, input=source.inputs[0], output=source.outputs[0], function=function, alpha=alpha)]


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Activation] = CaffeFacet(write=write, types=TYPES, read=read)
