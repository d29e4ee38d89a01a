"""Caffe facet of ``Upsample``: the exact stock form (Deconvolution recipes), or the fork's ``Interp``."""

from __future__ import annotations

from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...errors import FormatError, UnsupportedError
from ...ir import Layer, TensorType
from ...registry import CaffeFacet
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
    """The PSPNet/DeepLab fork's ``Interp``: bilinear with aligned corners, sizes from its parameters.

    The size form (zoom/shrink factors, or height/width) is kept in ``caffe_interp`` so the layer is written back
    as the same ``Interp``.
    """
    lp, inputs, outputs, in_types = source.param, source.inputs, source.outputs, source.in_types
    where = f"layer {lp.name!r} (Interp)"
    if len(inputs) != 1 or len(outputs) != 1:
        raise UnsupportedError(
            f"{where}: {len(inputs)} bottoms (a second bottom gives the size from a blob); convertkit converts "
            "Interp with one bottom and zoom_factor, shrink_factor or height/width"
        )
    p = lp.interp_param
    if p.pad_beg or p.pad_end:
        raise UnsupportedError(f"{where}: pad_beg {p.pad_beg} / pad_end {p.pad_end} are not supported (only 0)")
    in_spatial = in_types[0].shape[2:]
    if len(in_spatial) != 2:
        raise FormatError(f"{where}: Interp takes a 4-D blob, got {list(in_types[0].shape)}")
    # The fork's order: a zoom or shrink factor wins over height/width.
    if p.HasField("zoom_factor") or p.HasField("shrink_factor"):
        if p.zoom_factor < 1 or p.shrink_factor < 1:
            raise FormatError(f"{where}: zoom_factor and shrink_factor must be >= 1")
        form = InterpForm(
            zoom_factor=p.zoom_factor if p.HasField("zoom_factor") else None,
            shrink_factor=p.shrink_factor if p.HasField("shrink_factor") else None,
        )
        if p.HasField("height") or p.HasField("width"):
            ctx.warn(
                f"{where}: height/width are ignored (and not kept) because a zoom or shrink factor is given, "
                "as in the fork's Interp"
            )
        sizes = form.output_spatial(in_spatial)
    elif p.HasField("height") and p.HasField("width"):
        form = InterpForm()
        sizes = (p.height, p.width)
    else:
        raise FormatError(f"{where}: interp_param needs zoom_factor, shrink_factor, or height and width")
    return [
        Upsample(
            name=lp.name,
            input=inputs[0],
            output=outputs[0],
            mode="linear",
            sizes=sizes,
            coordinate_transformation_mode="align_corners",
            caffe_interp=form,
        )
    ]


def opencv_refusal(source: CaffeLayer, rank: int | None) -> str | None:
    """OpenCV's ``Interp`` implements zoom_factor / height / width only."""
    p = source.param.interp_param
    if p.shrink_factor != 1:
        return (
            f"OpenCV's Interp implements zoom_factor/height/width only; this one has shrink_factor {p.shrink_factor}, "
            "so OpenCV would compute another size; the prototxt is what PSPNet's Caffe runs — use --backend "
            "reference or onnxruntime, or check without --caffe"
        )
    return None


#: This kind's Caffe facet, registered in the package's ``__init__``.
FACET: CaffeFacet[Upsample] = CaffeFacet(write=write, types=TYPES, read=read, opencv_refusal=opencv_refusal)
