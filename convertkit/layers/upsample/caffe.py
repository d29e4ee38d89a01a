"""Caffe facet of ``Upsample``: the exact stock form (Deconvolution recipes), or the fork's ``Interp``."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...errors import FormatError, UnsupportedError
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
from ..crop import Crop
from .core import InterpForm, Upsample

TYPES = ("Interp",)


def write(layer: Upsample, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    """The fork's ``Interp``: as the layer was read (its size form), or align_corners with dialect ``pspnet``.

    Every stock form (Caffe's recipe, the edge-replicated recipe, the triangle recipe) and every refusal is an IR
    lowering run before export (:mod:`convertkit.passes.upsample`); what reaches this writer is an Interp.
    """
    x = types[0]
    in_spatial = x.shape[2:]
    if layer.interp_form is None and (layer.coordinate_transformation_mode != "align_corners" or len(in_spatial) != 2):
        raise layer.error(
            "has no Interp form here; export through convertkit.to_caffe, which lowers it to stock layers first",
            UnsupportedError,
        )
    _write_interp(layer, ctx, in_spatial, layer.output_spatial(in_spatial))


def _write_interp(
    layer: Upsample, ctx: CaffeEmitter, in_spatial: tuple[int, ...], out_spatial: tuple[int, ...]
) -> None:
    interp = ctx.add_layer(layer.name, "Interp", [layer.input], [layer.output])
    p = interp.interp_param
    form = layer.interp_form
    if form is not None:
        if not form.by_factors:
            p.height, p.width = out_spatial
        elif form.output_spatial(in_spatial) == out_spatial:
            if form.shrink_factor is not None:
                p.shrink_factor = form.shrink_factor
            if form.zoom_factor is not None:
                p.zoom_factor = form.zoom_factor
        else:
            p.height, p.width = out_spatial
            ctx.warn(
                f"layer {layer.name!r} ({layer.kind}): written as Interp with height/width {list(out_spatial)}: "
                f"its factors {form.to_spec()} give {list(form.output_spatial(in_spatial))} for input "
                f"{list(in_spatial)}"
            )
        return
    zooms = {(o - 1) // (i - 1) for i, o in zip(in_spatial, out_spatial, strict=True) if i > 1}
    if len(zooms) == 1 and all(
        i > 1 and o == i + (i - 1) * (next(iter(zooms)) - 1) for i, o in zip(in_spatial, out_spatial, strict=True)
    ):
        p.zoom_factor = next(iter(zooms))
    else:
        p.height, p.width = out_spatial


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    """The PSPNet/DeepLab fork's ``Interp``: bilinear with aligned corners, sizes as the fork computes them.

    The rule is the fork's ``src/caffe/layers/interp_layer.cpp`` (hszhao/PSPNet, ``Reshape``), in its order: a
    second bottom gives the size (and no parameter may); then shrink only, zoom only, height and width, and shrink
    with zoom (so height/width win over shrink + zoom, and a lone shrink or zoom over height/width).  Sizes count
    from the effective input ``in + pad_beg + pad_end``: ``LayerSetUp`` refuses positive pads, and ``Forward`` crops
    ``[-pad_beg, in + pad_end)`` on both axes before interpolating (read here as a ``Crop`` then the Upsample).
    The size form is kept in ``caffe_interp`` so the layer is written back as the same ``Interp``.
    """
    lp, inputs, outputs, in_types = source.param, source.inputs, source.outputs, source.in_types
    where = f"layer {lp.name!r} (Interp)"
    p = lp.interp_param
    if len(inputs) not in (1, 2) or len(outputs) != 1:
        raise FormatError(f"{where}: Interp takes one or two bottoms and one top, got {len(inputs)} and {len(outputs)}")
    in_shape = in_types[0].shape
    if len(in_shape) != 4:
        raise FormatError(f"{where}: Interp takes a 4-D blob, got {list(in_shape)}")
    if p.pad_beg > 0 or p.pad_end > 0:
        raise FormatError(
            f"{where}: pad_beg {p.pad_beg} / pad_end {p.pad_end}: the fork's Interp supports only non-positive "
            "padding (cropping) and refuses this net (interp_layer.cpp LayerSetUp); use pads <= 0"
        )
    pb, pe = p.pad_beg, p.pad_end
    eff = tuple(i + pb + pe for i in in_shape[2:])
    if any(e < 1 for e in eff):
        raise FormatError(f"{where}: pad_beg {pb} / pad_end {pe} crop input {list(in_shape)} to nothing")
    sizes: tuple[int, ...]
    has_hw = p.HasField("height") and p.HasField("width")
    shrink, zoom = p.HasField("shrink_factor"), p.HasField("zoom_factor")
    if len(inputs) == 2:
        if shrink or zoom or p.HasField("height") or p.HasField("width"):
            raise FormatError(
                f"{where}: a second bottom gives the size, so shrink_factor, zoom_factor, height and width must be "
                "absent (the fork refuses the ambiguity)"
            )
        if in_shape[0] > 1:
            raise FormatError(f"{where}: the fork sizes by a second bottom for batch 1 only, got batch {in_shape[0]}")
        size_like = in_types[1].shape
        if len(size_like) != 4:
            raise FormatError(f"{where}: the size bottom {inputs[1]!r} must be 4-D, got {list(size_like)}")
        form, sizes = InterpForm(), (size_like[2], size_like[3])
        ctx.note(
            f"{where}: the size comes from bottom {inputs[1]!r} ({size_like[2]}x{size_like[3]}); kept as height/width "
            "(the shapes are static)"
        )
    elif shrink or zoom:
        if p.zoom_factor < 1 or p.shrink_factor < 1:
            raise FormatError(f"{where}: zoom_factor and shrink_factor must be >= 1")
        if shrink and zoom and has_hw:
            form = InterpForm()  # the fork tests height/width before shrink together with zoom
            sizes = (p.height, p.width)
            ctx.warn(
                f"{where}: shrink_factor and zoom_factor are ignored because height/width are given, as in the fork"
            )
        else:
            form = InterpForm(
                zoom_factor=p.zoom_factor if zoom else None, shrink_factor=p.shrink_factor if shrink else None
            )
            if p.HasField("height") or p.HasField("width"):
                ctx.warn(
                    f"{where}: height/width are ignored (and not kept) because a lone zoom or shrink factor is given, "
                    "as in the fork's Interp"
                )
            sizes = form.output_spatial(eff)
    elif has_hw:
        form, sizes = InterpForm(), (p.height, p.width)
    else:
        raise FormatError(f"{where}: interp_param needs zoom_factor, shrink_factor, or height and width")
    if any(o < 1 for o in sizes):
        raise FormatError(f"{where}: output size {list(sizes)} is not positive")
    layers: list[Layer] = []
    source_value = inputs[0]
    if pb or pe:
        crop = Crop(
            name=f"{lp.name}.crop",
            input=inputs[0],
            output=f"{outputs[0]}.cropped",
            axis=2,
            offset=(-pb, -pb),
            shape=eff,
        )
        layers.append(crop)
        source_value = crop.output
    layers.append(
        Upsample(
            name=lp.name,
            input=source_value,
            output=outputs[0],
            mode="linear",
            sizes=sizes,
            coordinate_transformation_mode="align_corners",
            caffe_interp=form,
        )
    )
    return layers


def opencv_refusal(source: CaffeLayer, rank: int | None) -> str | None:
    """OpenCV's ``Interp`` implements zoom_factor / height / width only."""
    p = source.param.interp_param
    if p.pad_beg or p.pad_end:
        return (
            f"OpenCV's Interp ignores pad_beg/pad_end (measured, OpenCV 4.14: it interpolates the uncropped input); "
            f"this one has pad_beg {p.pad_beg} / pad_end {p.pad_end} — use --backend reference or onnxruntime"
        )
    if p.shrink_factor != 1:
        return (
            f"OpenCV's Interp implements zoom_factor/height/width only; this one has shrink_factor {p.shrink_factor}, "
            "so OpenCV would compute another size; the prototxt is what PSPNet's Caffe runs — use --backend "
            "reference or onnxruntime, or check without --caffe"
        )
    return None


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Upsample] = CaffeFacet(write=write, types=TYPES, read=read, opencv_refusal=opencv_refusal)
