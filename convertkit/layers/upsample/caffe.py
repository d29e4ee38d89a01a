"""Caffe facet of ``Upsample``: the exact stock form (Deconvolution recipes), or the fork's ``Interp``."""

from __future__ import annotations

from ... import shapes
from ...codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
from ...errors import FormatError, UnsupportedError
from ...fillers import Filler
from ...ir import Layer, TensorType
from ..deconvolution import caffe as deconvolution_caffe
from ..deconvolution.core import Deconvolution, Padding
from .core import _HALF_PIXEL_FAMILY, InterpForm, Upsample

TYPES = ("Interp",)


def write(layer: Upsample, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    """The exact Caffe form, or an error that says why there is none.

    - Read from the fork's ``Interp`` (``caffe_interp``): ``Interp`` again, in the size form it was written
      with (zoom/shrink factors while they give this layer's sizes, else height/width), in every dialect.
    - Caffe's recipe (``semantics: deconvolution``): the frozen grouped bilinear (or ones) Deconvolution.
    - nearest, integer factors, reading source row ``floor(i / f)``: Deconvolution with a ones kernel.
    - linear, half-pixel family, integer factors: the recipe differs from Resize only at the borders (zero
      padding vs clamping).  Replicating the edge row on each side (``Slice`` + ``Concat``; the unused middle
      piece goes to ``Silence``) and cropping ``f`` rows more at each end (``pad + f``) makes it exact.
    - linear, align_corners, sizes ``z * (in - 1) + 1``: output row ``z * j`` is input row ``j`` and rows in
      between interpolate linearly, which is the triangle kernel ``2z - 1`` (bilinear filler), stride ``z``,
      pad ``z - 1``; exact, no border effect.  Other align-corners sizes: the fork's ``Interp`` with
      ``dialect='pspnet'``.
    """
    x = types[0]
    n, c, in_spatial = len(x.shape) - 2, x.shape[1], x.shape[2:]
    if layer._resize_features():
        raise layer.error(
            f"{', '.join(layer._resize_features())} has no Caffe form (Caffe upsamples by deconvolution or "
            "the fork's bilinear Interp); export to ONNX instead",
            UnsupportedError,
        )
    if layer.interp_form is not None:
        _write_interp(layer, ctx, in_spatial, layer.output_spatial(in_spatial))
        return
    if layer.semantics == "deconvolution":
        deconvolution_caffe.write(layer.as_deconvolution(c, in_spatial), ctx, types)
        return
    ctm = layer.coordinate_transformation_mode
    out_spatial = layer.output_spatial(in_spatial)
    integer = all(o % i == 0 for i, o in zip(in_spatial, out_spatial, strict=True)) and (
        layer.scales is None or all(float(s).is_integer() for s in layer.scales)
    )
    if layer.mode == "nearest":
        if integer and layer._nearest_reads_floor(in_spatial):
            deconvolution_caffe.write(layer.as_deconvolution(c, in_spatial), ctx, types)
            return
        why = (
            "the factors are not integers"
            if not integer
            else f"with {ctm} and nearest_mode {layer.nearest_mode} output row i does not read input row i // f"
        )
        raise layer.error(
            f"nearest Resize ({ctm}, {layer.nearest_mode}) from {list(in_spatial)} to {list(out_spatial)}: {why}, "
            "and copying each input row to f consecutive output rows is all a stock Caffe layer (ones-kernel "
            "Deconvolution) can do; use integer factors with half_pixel (or asymmetric / tf_half_pixel_for_nn + "
            "floor)",
            UnsupportedError,
        )
    if ctm in _HALF_PIXEL_FAMILY and integer:
        _caffe_edge_recipe(layer, ctx, x, tuple(o // i for i, o in zip(in_spatial, out_spatial, strict=True)))
        return
    if ctm == "align_corners":
        zooms = [
            (o - 1) // (i - 1) if i > 1 and (o - 1) % (i - 1) == 0 else None
            for i, o in zip(in_spatial, out_spatial, strict=True)
        ]
        if ctx.dialect == "pspnet" and n == 2:
            _write_interp(layer, ctx, in_spatial, out_spatial)
            return
        if all(z is not None and z >= 1 for z in zooms):
            _caffe_align_corners_recipe(layer, ctx, x, tuple(int(z) for z in zooms if z is not None))
            return
        raise layer.error(
            f"bilinear align_corners from {list(in_spatial)} to {list(out_spatial)} has no exact stock Caffe "
            "form: a Deconvolution interpolates with a fixed stride, exact only for sizes z * (in - 1) + 1 "
            "(integer z); Caffe's recipe (half-pixel interior, zero border) would differ everywhere; "
            "ways out: --caffe-dialect pspnet (the fork's Interp layer, 2-D), or sizes z * (in - 1) + 1",
            UnsupportedError,
        )
    raise layer.error(
        f"bilinear Resize with coordinate_transformation_mode {ctm} from {list(in_spatial)} to "
        f"{list(out_spatial)} has no exact Caffe form: Caffe's recipe is exact for integer factors with the "
        "half-pixel modes only (its border rows see zero padding, which convertkit replaces by edge "
        "replication); ways out: integer factors with half_pixel, semantics 'deconvolution' (Caffe's recipe, "
        "different border), or align_corners with --caffe-dialect pspnet (Interp)",
        UnsupportedError,
    )


def _caffe_edge_recipe(layer: Upsample, ctx: CaffeEmitter, x: TensorType, factors: tuple[int, ...]) -> None:
    cur, shape = layer.input, list(x.shape)
    for a in range(len(factors)):
        axis, length = 2 + a, shape[2 + a]
        if length == 1:
            first = last = cur
        else:
            tops = [ctx.fresh(f"{layer.name}.edge{a}_first")]
            if length > 2:
                tops.append(ctx.fresh(f"{layer.name}.edge{a}_middle"))
            tops.append(ctx.fresh(f"{layer.name}.edge{a}_last"))
            sl = ctx.add_layer(ctx.fresh(f"{layer.name}.edge{a}_slice"), "Slice", [cur], tops)
            sl.slice_param.axis = axis
            sl.slice_param.slice_point.extend([1] if length == 2 else [1, length - 1])
            if length > 2:
                ctx.add_layer(ctx.fresh(f"{layer.name}.edge{a}_silence"), "Silence", [tops[1]], [])
            first, last = tops[0], tops[-1]
        padded = ctx.fresh(f"{layer.name}.edge{a}")
        cat = ctx.add_layer(ctx.fresh(f"{layer.name}.edge{a}_concat"), "Concat", [first, cur, last], [padded])
        cat.concat_param.axis = axis
        cur, shape[axis] = padded, length + 2
    recipe = [shapes.bilinear_upsample_recipe(f) for f in factors]
    deconv = Deconvolution(
        name=layer.name,
        input=cur,
        output=layer.output,
        out_channels=x.shape[1],
        group=x.shape[1],
        kernel_shape=tuple(r[0] for r in recipe),
        strides=factors,
        padding=Padding(convention="caffe", pad=tuple(r[2] + f for r, f in zip(recipe, factors, strict=True))),
        bias_term=False,
        weight=Filler(type="bilinear"),
        frozen=True,
    )
    deconvolution_caffe.write(deconv, ctx, [TensorType(tuple(shape), x.dtype)])


def _caffe_align_corners_recipe(layer: Upsample, ctx: CaffeEmitter, x: TensorType, zooms: tuple[int, ...]) -> None:
    deconv = Deconvolution(
        name=layer.name,
        input=layer.input,
        output=layer.output,
        out_channels=x.shape[1],
        group=x.shape[1],
        kernel_shape=tuple(2 * z - 1 for z in zooms),
        strides=zooms,
        padding=Padding(convention="caffe", pad=tuple(z - 1 for z in zooms)),
        bias_term=False,
        weight=Filler(type="bilinear"),
        frozen=True,
    )
    deconvolution_caffe.write(deconv, ctx, [x])


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
