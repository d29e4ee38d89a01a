"""Caffe facet of ``Pooling``: one stock ``Pooling`` layer (MAX / AVE, 2-D), exactly or not at all.

Written: ``global_pooling`` as such; otherwise Caffe's own words (``kernel_size`` or ``kernel_h``/``kernel_w``,
``stride``..., ``pad``...), ``round_mode: FLOOR`` only where Caffe's default CEIL would give other windows than
the layer's.  An ONNX-convention layer is written only where Caffe computes exactly its windows and divisors
(:func:`convertkit.reference.pooling.caffe_pooling_equals_onnx` on the input size); asymmetric pads of a MAX or
a ``count_include_pad`` AVE are first made symmetric by a Pad (:mod:`convertkit.passes.pooling`); the rest is
refused with the rule that breaks.  Read: ``Pooling`` (and V1 ``POOLING``) with every field, and MAX's second
top, the argmax mask (``indices``); STOCHASTIC is refused.
"""

from __future__ import annotations

from typing import Any

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader, pb
from ...errors import FormatError, UnsupportedError
from ...ir import Layer, TensorType
from ...reference.pooling import CaffePooling, OnnxPooling, caffe_pooling_equals_onnx
from ...registry import CaffeFacet
from .core import Pooling

TYPES = ("Pooling",)

_POOL = {"max": "MAX", "average": "AVE"}


def _caffe_round_mode(layer: Pooling, spatial: tuple[int, ...]) -> str | None:
    """``CEIL`` or ``FLOOR``: the round_mode with which Caffe computes ``layer`` exactly on ``spatial``, or None."""
    assert layer.kernel_shape is not None
    if layer.convention == "caffe":
        return "CEIL"
    n = len(spatial)
    onnx = OnnxPooling(
        op_type="MaxPool" if layer.method == "max" else "AveragePool",
        kernel_shape=layer.kernel_shape,
        strides=layer.strides,
        pads=layer.pads,
        dilations=layer.dilations,
        ceil_mode=int(layer.ceil_mode),
        count_include_pad=int(layer.count_include_pad),
    )
    for round_mode in ("CEIL", "FLOOR"):  # CEIL first: OpenCV cannot read round_mode FLOOR
        caffe = CaffePooling(
            pool=_POOL[layer.method],
            kernel_shape=layer.kernel_shape,
            strides=layer.strides,
            pads=layer.pads[:n] + layer.pads[:n],
            round_mode=round_mode,
        )
        if caffe_pooling_equals_onnx(spatial, caffe, onnx):
            return round_mode
    return None


def _refusal(layer: Pooling, spatial: tuple[int, ...]) -> str | None:
    """Why Caffe cannot compute this (2-D, non-global) layer exactly on ``spatial``, or None."""
    assert layer.kernel_shape is not None
    n = len(spatial)
    if any(d != 1 for d in layer.dilations):
        return f"Caffe Pooling has no dilations, got {list(layer.dilations)}; export to ONNX instead"
    if layer.method == "average" and layer.padded and not layer.count_include_pad:
        return (
            f"Caffe AVE divides by the window including its padded cells; count_include_pad false with pads "
            f"{list(layer.pads)} has no stock Caffe form (zero padding would be counted too); export to ONNX instead"
        )
    if layer.pads[:n] != layer.pads[n:]:
        return (
            f"Caffe Pooling pads symmetrically; pads {list(layer.pads)} are asymmetric and no exact Pad + Pooling "
            f"form keeps the output size {list(layer.output_spatial(spatial))}; export to ONNX instead"
        )
    if _caffe_round_mode(layer, spatial) is None:
        rounding = "ceil" if layer.ceil_mode else "floor"
        return (
            f"neither Caffe's round_mode CEIL nor FLOOR gives the windows of ceil_mode {int(layer.ceil_mode)} "
            f"({rounding}, output {list(layer.output_spatial(spatial))}) on input {list(spatial)}; export to ONNX "
            "instead"
        )
    return None


def _set_pair(pp: Any, base: str, single: str, values: tuple[int, ...], default: int | None) -> None:
    if default is not None and all(v == default for v in values):
        return
    if values[0] == values[1]:
        setattr(pp, single, values[0])
    else:
        setattr(pp, f"{base}_h", values[0])
        setattr(pp, f"{base}_w", values[1])


def write(layer: Pooling, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    x = types[0]
    if len(x.shape) != 4:
        raise layer.error(
            f"Caffe Pooling is 2-D (a 4-D blob), input {layer.input!r} has shape {list(x.shape)}; export to ONNX "
            "instead",
            UnsupportedError,
        )
    spatial = x.shape[2:]
    if not layer.global_pooling:
        why = _refusal(layer, spatial)
        if why is not None:
            raise layer.error(why, UnsupportedError)
    proto = ctx.add_layer(layer.name, "Pooling", [layer.input], list(layer.outputs))
    pp = proto.pooling_param
    pp.pool = pb.PoolingParameter.PoolMethod.Value(_POOL[layer.method])
    if layer.global_pooling:
        pp.global_pooling = True
        return
    assert layer.kernel_shape is not None
    _set_pair(pp, "kernel", "kernel_size", layer.kernel_shape, None)
    _set_pair(pp, "stride", "stride", layer.strides, 1)
    _set_pair(pp, "pad", "pad", layer.pads[:2], 0)
    if _caffe_round_mode(layer, spatial) == "FLOOR":
        pp.round_mode = pb.PoolingParameter.RoundMode.Value("FLOOR")


def _pair(pp: Any, base: str, single: str, default: int, where: str) -> tuple[int, int] | None:
    """Caffe's ``X`` or ``X_h`` and ``X_w`` (both): ``(h, w)``, None when neither is given."""
    has_h, has_w = pp.HasField(f"{base}_h"), pp.HasField(f"{base}_w")
    if pp.HasField(single) and (has_h or has_w):
        raise FormatError(f"{where}: give {single} or {base}_h and {base}_w, not both (Caffe refuses it)")
    if has_h != has_w:
        raise FormatError(f"{where}: {base}_h and {base}_w go together (Caffe refuses one alone)")
    if has_h:
        return getattr(pp, f"{base}_h"), getattr(pp, f"{base}_w")
    if pp.HasField(single):
        return getattr(pp, single), getattr(pp, single)
    return None if base == "kernel" else (default, default)


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    """A Caffe ``Pooling`` (every field; ``engine`` does not change results)."""
    lp, where = source.param, source.where
    indices = ""
    if len(source.outputs) == 2 and len(source.inputs) == 1:
        # pooling_layer.cpp: MAX with two tops writes the argmax (h * width + w in the input plane) to top[1].
        if pb.PoolingParameter.PoolMethod.Name(lp.pooling_param.pool) != "MAX":
            raise source.error(
                "has a second top, but only MAX pooling writes a mask (Caffe: ExactNumTopBlobs is 1 for AVE); "
                "drop the second top",
                FormatError,
            )
        indices = source.outputs[1]
    else:
        source.expect_one_in_one_out()
    x = source.in_types[0]
    if len(x.shape) != 4:
        raise source.error(f"Caffe Pooling takes 4-D blobs; bottom has shape {list(x.shape)}", FormatError)
    pp = lp.pooling_param
    pool = pb.PoolingParameter.PoolMethod.Name(pp.pool)
    if pool == "STOCHASTIC":
        raise source.error(
            "pool STOCHASTIC samples at training time and has no fixed inference rule in other runtimes; use MAX or AVE"
        )
    method = "max" if pool == "MAX" else "average"
    kernel = _pair(pp, "kernel", "kernel_size", 0, where)
    strides = _pair(pp, "stride", "stride", 1, where)
    pads = _pair(pp, "pad", "pad", 0, where)
    assert strides is not None and pads is not None
    round_mode = pb.PoolingParameter.RoundMode.Name(pp.round_mode)
    if pp.global_pooling and indices:
        spatial = tuple(x.shape[2:])
        if any(pads) or any(s != 1 for s in strides) or kernel is not None:
            raise source.error("global_pooling needs no kernel, pad 0 and stride 1", FormatError)
        kernel = (int(spatial[0]), int(spatial[1]))
    elif pp.global_pooling:
        # pooling_layer.cpp LayerSetUp: no kernel with global pooling, and pad 0 / stride 1 only.
        if kernel is not None:
            raise source.error(
                f"global_pooling takes its kernel from the input; got kernel {list(kernel)}", FormatError
            )
        if any(pads) or any(s != 1 for s in strides):
            raise source.error(
                f"global_pooling needs pad 0 and stride 1, got pad {list(pads)} stride {list(strides)}", FormatError
            )
        return [
            Pooling(name=lp.name, input=source.inputs[0], output=source.outputs[0], method=method, global_pooling=True)
        ]
    if kernel is None:
        raise source.error("pooling_param needs kernel_size (or kernel_h and kernel_w)", FormatError)
    for what, values, low in (("kernel", kernel, 1), ("stride", strides, 1)):
        if any(v < low for v in values):
            raise source.error(f"{what} must be >= {low}, got {list(values)}", FormatError)
    if any(p >= k for p, k in zip(pads, kernel, strict=True)):
        raise source.error(
            f"pad {list(pads)} must be smaller than the kernel {list(kernel)} (Caffe CHECKs pad < kernel)", FormatError
        )
    return [
        Pooling(
            name=lp.name,
            input=source.inputs[0],
            output=source.outputs[0],
            method=method,
            kernel_shape=kernel,
            strides=strides,
            pads=pads + pads,
            ceil_mode=round_mode == "CEIL",
            count_include_pad=method == "average" and any(pads),
            convention="caffe",
            indices=indices,
        )
    ]


def opencv_refusal(source: CaffeLayer, rank: int | None) -> str | None:
    """Where OpenCV's Caffe Pooling computes another result than Caffe (tests/test_reference_pooling.py)."""
    pp = source.param.pooling_param
    if pp.HasField("round_mode") and pp.round_mode == pb.PoolingParameter.RoundMode.Value("FLOOR"):
        return (
            "OpenCV's Caffe proto has a bool ceil_mode at field 13 where BVLC has enum round_mode, so it cannot read "
            "round_mode: FLOOR"
        )
    if pp.global_pooling:
        return None
    kernel = _pair(pp, "kernel", "kernel_size", 0, source.where)
    strides = _pair(pp, "stride", "stride", 1, source.where)
    pads = _pair(pp, "pad", "pad", 0, source.where)
    if kernel is None or strides is None or pads is None:
        return None
    if not source.in_types:
        # Only the rank is known: refuse the geometries that can differ on some input size.
        for a in range(2):
            if strides[a] > kernel[a] and not pads[a]:
                if any(pads):
                    return (
                        f"on axis {a} (stride {strides[a]} > kernel {kernel[a]}, no pad of its own) Caffe drops a last "
                        "window starting past the input because the other axis pads; OpenCV drops it only on an axis "
                        "with its own pad"
                    )
                return (
                    f"stride {strides[a]} > kernel {kernel[a]} without pads can pool an empty last window on axis {a}: "
                    "Caffe gives it -FLT_MAX (MAX) or 0 / size <= 0 (AVE), OpenCV 0"
                )
        return None
    spatial = source.in_types[0].shape[2:]
    if any(k > i for k, i in zip(kernel, spatial, strict=True)):
        return (
            f"OpenCV refuses a kernel {list(kernel)} larger than the input {list(spatial)}, which Caffe pools as one "
            "partial window"
        )
    for a in range(2):
        out = -(-(spatial[a] + 2 * pads[a] - kernel[a]) // strides[a]) + 1
        if (out - 1) * strides[a] < spatial[a] + pads[a]:
            continue
        if any(pads) and not pads[a]:
            return (
                f"on axis {a} (no pad of its own) Caffe drops the last window, which starts past the input, because "
                "the other axis pads; OpenCV drops it only on an axis with its own pad"
            )
        if not any(pads):
            return (
                f"the last window on axis {a} starts past the input (stride {strides[a]} > kernel {kernel[a]}, no "
                "pad): Caffe gives it -FLT_MAX (MAX) or 0 / size <= 0 (AVE), OpenCV 0"
            )
    return None


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Pooling] = CaffeFacet(write=write, types=TYPES, read=read, opencv_refusal=opencv_refusal)
