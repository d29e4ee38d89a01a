"""Caffe facet of ``MaxUnpool``: the forks' unpooling layers, both with the pooling mask as second bottom.

Read:

- SegNet's / ENet's ``Upsample`` (alexgkendall/caffe-segnet ``upsample_layer.cpp``; ``upsample_param``): output
  ``upsample_h`` x ``upsample_w`` when both are given, else ``in * scale - pad_out`` (``scale`` or ``scale_h`` /
  ``scale_w``, default 2; ``pad_out_h`` / ``pad_out_w`` only with scale 2).  The windows are kernel = stride =
  scale.  (The type string is the fork's; convertkit's own ``Upsample`` kind reads ``Interp``, and a Caffe type
  names no IR kind.)  A one-bottom ``Upsample`` (darknet-era YOLO forks: nearest upsampling) is refused.
- DeconvNet's V1 ``UNPOOLING`` (HyeonwooNoh/caffe ``unpooling_layer.cpp``; ``unpooling_param``): kernel, stride,
  pad 0 (the fork CHECKs it); output ``unpool_size`` or ``unpool_h`` / ``unpool_w``, else
  ``max((in - 1) * stride + kernel - 2 * pad, in * stride - pad + 1)``.

Both scatter ``top[mask[i]] = bottom[i]`` per plane into zeros.  Written: as ``Upsample`` with
``upsample_h`` / ``upsample_w`` (and ``scale`` for square windows) under ``--caffe-dialect segnet``; stock Caffe
has no such layer, so other dialects go through :mod:`convertkit.passes.unpool`'s stock form.
"""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...errors import FormatError, UnsupportedError
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from .core import MaxUnpool

TYPES = ("Upsample", "Unpooling")


def write(layer: MaxUnpool, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    x = types[0]
    if len(x.shape) != 4:
        raise layer.error(f"the fork's Upsample is 2-D (a 4-D blob); input has shape {list(x.shape)}", UnsupportedError)
    out_h, out_w = layer.output_spatial(x.shape[2:])
    if out_h < 2 or out_w < 2:
        raise layer.error(
            f"the fork's Upsample CHECKs upsample_h and upsample_w > 1, the output is {[out_h, out_w]}; export to ONNX",
            UnsupportedError,
        )
    proto = ctx.add_layer(layer.name, "Upsample", [layer.input, layer.mask], [layer.output])
    up = proto.upsample_param
    if layer.non_overlapping and layer.kernel_shape[0] == layer.kernel_shape[1]:
        up.scale = layer.kernel_shape[0]
    up.upsample_h, up.upsample_w = out_h, out_w


def _two_bottoms(source: CaffeLayer, what: str) -> None:
    if len(source.inputs) != 2 or len(source.outputs) != 1:
        raise source.error(
            f"has {len(source.inputs)} bottoms and {len(source.outputs)} tops; {what} takes the data and the pooling "
            "mask (two bottoms) and writes one top"
        )
    x, mask = source.in_types
    if len(x.shape) != 4 or mask.shape != x.shape:
        raise source.error(
            f"bottoms have shapes {list(x.shape)} and {list(mask.shape)}; {what} takes two 4-D blobs of one shape "
            "(the data and its pooling mask)",
            FormatError,
        )


def _read_upsample(source: CaffeLayer) -> MaxUnpool:
    lp = source.param
    if len(source.inputs) == 1:
        raise source.error(
            "has one bottom: that is the nearest-neighbour Upsample of the YOLO-era forks, which convertkit does not "
            "read; SegNet's max-unpooling Upsample takes the pooling mask as its second bottom"
        )
    _two_bottoms(source, "SegNet's Upsample")
    p = lp.upsample_param
    h, w = source.in_types[0].shape[2:]
    has = p.HasField
    # upsample_layer.cpp LayerSetUp: (upsample_h and upsample_w) or (scale_h and scale_w without scale) or (neither
    # scale_h nor scale_w).
    if not (
        (has("upsample_h") and has("upsample_w"))
        or (not has("scale") and has("scale_h") and has("scale_w"))
        or (not has("scale_h") and not has("scale_w"))
    ):
        raise source.error(
            "upsample_param needs upsample_h and upsample_w, or scale, or scale_h and scale_w (not with scale) "
            "(the fork CHECKs it)",
            FormatError,
        )
    if has("scale_h") and has("scale_w") and not has("scale"):
        scales = (p.scale_h, p.scale_w)
    else:
        scales = (p.scale, p.scale)
    if has("upsample_h") and has("upsample_w"):
        if p.upsample_h <= 1 or p.upsample_w <= 1:
            raise source.error(
                f"upsample_h {p.upsample_h} and upsample_w {p.upsample_w} must be > 1 (the fork CHECKs it)", FormatError
            )
        out = (p.upsample_h, p.upsample_w)
    else:
        if any(s <= 1 for s in scales):
            raise source.error(f"scale {list(scales)} must be > 1 (the fork CHECKs it)", FormatError)
        for flag, s, axis in ((p.pad_out_h, scales[0], "h"), (p.pad_out_w, scales[1], "w")):
            if flag and s != 2:
                raise source.error(f"pad_out_{axis} needs scale_{axis} 2 (the fork CHECKs it), got {s}", FormatError)
        out = (h * scales[0] - int(p.pad_out_h), w * scales[1] - int(p.pad_out_w))
    if any(s < 1 for s in scales):
        scales = (2, 2)
    return MaxUnpool(
        name=lp.name,
        input=source.inputs[0],
        mask=source.inputs[1],
        output=source.outputs[0],
        kernel_shape=scales,
        strides=scales,
        output_shape=out,
    )


def _pair(p: object, single: str, base: str, default: int | None, source: CaffeLayer) -> tuple[int, int] | None:
    has = p.HasField  # type: ignore[attr-defined]
    if has(f"{base}_h") != has(f"{base}_w"):
        raise source.error(f"{base}_h and {base}_w go together (the fork CHECKs it)", FormatError)
    if has(f"{base}_h"):
        if has(single):
            raise source.error(f"give {single} or {base}_h and {base}_w, not both (the fork CHECKs it)", FormatError)
        return getattr(p, f"{base}_h"), getattr(p, f"{base}_w")
    if has(single) or default is not None:
        value = getattr(p, single)
        return value, value
    return None


def _read_unpooling(source: CaffeLayer) -> MaxUnpool:
    lp = source.param
    if len(source.inputs) == 1:
        raise source.error(
            "has no mask bottom: DeconvNet's UNPOOLING without a mask puts every value at its window's corner; "
            "convertkit reads max-unpooling with the mask (two bottoms) only"
        )
    _two_bottoms(source, "DeconvNet's UNPOOLING")
    p = lp.unpooling_param
    kernel = _pair(p, "kernel_size", "kernel", None, source)
    if kernel is None:
        raise source.error("unpooling_param needs kernel_size (or kernel_h and kernel_w)", FormatError)
    strides = _pair(p, "stride", "stride", 1, source)
    pads = _pair(p, "pad", "pad", 0, source)
    assert strides is not None and pads is not None
    if any(k < 1 for k in kernel) or any(s < 1 for s in strides):
        raise source.error(f"kernel {list(kernel)} and stride {list(strides)} must be >= 1", FormatError)
    if any(pads):
        raise source.error(f"pad {list(pads)}: the fork CHECKs pad 0 for unpooling", FormatError)
    size = _pair(p, "unpool_size", "unpool", None, source)
    h, w = source.in_types[0].shape[2:]
    if size is None:
        # unpooling_layer.cpp Reshape: max((in - 1) * stride + kernel - 2 * pad, in * stride - pad + 1)
        size = tuple(max((i - 1) * s + k, i * s + 1) for i, s, k in zip((h, w), strides, kernel, strict=True))  # type: ignore[assignment]
    return MaxUnpool(
        name=lp.name,
        input=source.inputs[0],
        mask=source.inputs[1],
        output=source.outputs[0],
        kernel_shape=kernel,
        strides=strides,
        output_shape=tuple(int(d) for d in size or ()),
    )


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    if source.param.type == "Upsample":
        return [_read_upsample(source)]
    return [_read_unpooling(source)]


def opencv_refusal(source: CaffeLayer, rank: int | None) -> str | None:
    return f"OpenCV's Caffe reader has no {source.param.type} layer (a Caffe fork's max-unpooling)"


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[MaxUnpool] = CaffeFacet(write=write, types=TYPES, read=read, opencv_refusal=opencv_refusal)
