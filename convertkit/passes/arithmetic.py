"""The scalar-arithmetic multi-node forms (import): ONNX chains of scalar ``Mul`` / ``Add`` / ``Pow`` nodes around
``Exp`` and ``Log``, each read as its own Power / Exp / Log layer, fold into the one Caffe layer they are.

Every rule keeps Caffe's order of rounding steps (scale, then shift, then power / exp / log, then the outer
scale), so the fused layer computes the same values bit for bit; what cannot be said so stays as it is:

- ``Power(scale, shift)`` then ``Power(power)``, or ``Power(scale)`` then ``Power(shift [, power])``: one Power.
  A Power with every default (a copy, written as ``Mul`` by 1) is left alone, so it reads back as itself.
- ``Power(scale)`` then ``Exp`` (base e): ``Exp(scale)``; ``Exp(base e, no shift)`` then ``Power(scale c)``:
  ``Exp(shift = log c)`` when ``exp(float32(log c)) == c`` in the dtype (Caffe's ``outer_scale``), else not.
- ``Power(scale, shift)`` then ``Log`` (base e): ``Log(scale, shift)``; ``Log(base e)`` then ``Power(scale c)``:
  ``Log(base b)`` for the float32 ``b`` whose ``1 / log(b)`` is ``c`` in the dtype, if one is found, else not.
- ``Convolution`` / ``Deconvolution`` without bias, then ``Power(shift s)``: the layer with a bias of ``s`` per
  channel (the bias is added after the products in every format; an exporter's scalar bias ``Add``).
- ``Power(scale c)`` read by an ``Eltwise`` sum: that input's coefficient ``c`` (Caffe's Eltwise SUM ``coeff``;
  convertkit's own export of coefficients is this ``Mul`` -> ``Sum``).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..fillers import Values
from ..ir import Layer
from ..layers.convolution import Convolution
from ..layers.deconvolution import Deconvolution
from ..layers.eltwise import Eltwise
from ..layers.exp import Exp
from ..layers.log import Log
from ..layers.power import Power
from . import Fusion, Graph

__all__ = ["FUSIONS"]


def _only_scale(p: Layer) -> bool:
    return isinstance(p, Power) and p.power == 1.0 and p.shift == 0.0 and p.scale != 1.0


def fuse_power_pair(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    if len(chain) < 2 or not isinstance(chain[0], Power) or not isinstance(chain[1], Power):
        return None
    a, b = chain[0], chain[1]
    if a.is_copy or b.is_copy or a.power != 1.0 or b.scale != 1.0:
        return None
    if b.shift != 0.0 and a.shift != 0.0:
        return None
    fused = dataclasses.replace(b, name=a.name, input=a.input, scale=a.scale, shift=a.shift + b.shift)
    return fused, 2


def fuse_exp(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    if len(chain) < 2:
        return None
    first, second = chain[0], chain[1]
    if _only_scale(first) and isinstance(second, Exp) and (second.base, second.scale, second.shift) == (-1.0, 1.0, 0.0):
        assert isinstance(first, Power)
        return dataclasses.replace(second, name=first.name, input=first.input, scale=first.scale), 2
    if isinstance(first, Exp) and first.base == -1.0 and first.shift == 0.0 and _only_scale(second):
        assert isinstance(second, Power)
        c = second.scale
        if c <= 0:
            return None
        t = np.dtype(graph.types[first.input].dtype).type
        shift = float(np.float32(math.log(c)))
        for candidate in (
            shift,
            float(np.nextafter(np.float32(shift), np.float32(np.inf))),
            float(np.nextafter(np.float32(shift), np.float32(-np.inf))),
        ):
            if candidate != 0.0 and np.exp(t(candidate)) == t(c):
                return dataclasses.replace(first, output=second.output, shift=candidate), 2
    return None


def fuse_log(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    if len(chain) < 2:
        return None
    first, second = chain[0], chain[1]
    if (
        isinstance(first, Power)
        and first.power == 1.0
        and not first.is_copy
        and isinstance(second, Log)
        and (second.base, second.scale, second.shift) == (-1.0, 1.0, 0.0)
    ):
        return dataclasses.replace(second, name=first.name, input=first.input, scale=first.scale, shift=first.shift), 2
    if isinstance(first, Log) and first.base == -1.0 and _only_scale(second):
        assert isinstance(second, Power)
        c = second.scale
        t = np.dtype(graph.types[first.input].dtype).type
        if c == 0:
            return None
        guess = np.float32(math.exp(1.0 / c))
        for candidate in (guess, np.nextafter(guess, np.float32(np.inf)), np.nextafter(guess, np.float32(0))):
            b = float(candidate)
            if b > 0 and b != 1.0 and math.isfinite(b) and t(t(1) / np.log(t(b))) == t(c):
                return dataclasses.replace(first, output=second.output, base=b), 2
    return None


def fuse_coefficient(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    if len(chain) < 2 or not _only_scale(chain[0]) or not isinstance(chain[1], Eltwise):
        return None
    p, e = chain[0], chain[1]
    assert isinstance(p, Power)
    if e.operation != "sum":
        return None
    k = e.input_names.index(p.output)
    coeff = list(e.coeff or (1.0,) * len(e.input_names))
    if coeff[k] != 1.0:
        return None
    coeff[k] = p.scale
    names = list(e.input_names)
    names[k] = p.input
    return dataclasses.replace(e, input_names=tuple(names), coeff=tuple(coeff)), 2


def fuse_scalar_bias(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    if len(chain) < 2 or not isinstance(chain[0], (Convolution, Deconvolution)) or not isinstance(chain[1], Power):
        return None
    k, p = chain[0], chain[1]
    if k.bias_term or p.power != 1.0 or p.scale != 1.0 or p.shift == 0.0:
        return None
    bias = Values(array=np.full((k.out_channels,), p.shift, dtype=np.float32))  # the shift is a float32
    return dataclasses.replace(k, output=p.output, bias_term=True, bias=bias), 2


FUSIONS: dict[str, list[tuple[int, Fusion]]] = {
    "import": [(2, fuse_power_pair), (2, fuse_exp), (2, fuse_log), (2, fuse_coefficient), (2, fuse_scalar_bias)]
}
