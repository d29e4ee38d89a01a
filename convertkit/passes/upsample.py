"""Upsample's multi-node and deconvolution forms, defined once.

- **Caffe's recipe** (``semantics: deconvolution``, or nearest by integer factors reading row ``floor(i / f)``): one
  frozen grouped Deconvolution (:meth:`Upsample.as_deconvolution`: bilinear filler, or a ones kernel).
- **The edge-replicated recipe** (linear, half-pixel modes, integer factors ``f``): Caffe's recipe differs from
  Resize only at the borders, where it sees zero padding and Resize clamps.  ``Pad(edge, 1)`` -> the recipe
  Deconvolution -> ``Crop`` of ``f`` rows at each end is exactly half-pixel Resize.  ONNX writes it as
  ``Pad -> ConvTranspose -> Slice``; Caffe as ``Slice`` + ``Concat`` edge rows -> one Deconvolution whose pads also
  crop the ``f`` rows.
- **The triangle recipe** (Caffe; linear align_corners, sizes ``z * (in - 1) + 1``): output row ``z * j`` is input
  row ``j`` and the rows between interpolate linearly — a Deconvolution with the bilinear filler, kernel ``2z - 1``,
  stride ``z``, pad ``z - 1``; no border effect.  From a 1-pixel axis (PSPNet's pool1 1x1 -> 60x60) align_corners
  is a broadcast: kernel = stride = out, weight 1 on that axis (:func:`broadcast_recipe`).

ONNX exports follow the layer's ``lowering`` (``resize``: one Resize node, which the ONNX facet writes);
Caffe exports take the exact stock form, the fork's ``Interp`` (kept for the Caffe facet to write) where the layer
was read from one or ``--caffe-dialect pspnet`` asks for it, or refuse naming the rule and the way out.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import UnsupportedError
from ..fillers import Filler, Values
from ..ir import Layer, TensorType
from ..layers.crop import Crop
from ..layers.deconvolution import Deconvolution, Padding
from ..layers.pad import Pad
from ..layers.upsample import Upsample
from ..layers.upsample.core import _HALF_PIXEL_FAMILY
from . import ExportOptions, Fusion, Graph, Lowering

__all__ = ["edge_recipe", "LOWERINGS", "FUSIONS"]


def edge_recipe(layer: Upsample, x: TensorType, graph: Graph) -> list[Layer]:
    """``Pad(edge, 1)`` -> the recipe Deconvolution (named as the layer) -> ``Crop [f, f + f * in)``."""
    n = len(x.shape) - 2
    factors = layer.factors(x.shape[2:])
    recipe = layer.as_deconvolution(x.shape[1], x.shape[2:])
    pad = Pad(
        name=graph.names.fresh(f"{layer.name}.edge"),
        input=layer.input,
        output=graph.names.fresh(f"{layer.name}.edge"),
        pads=(1,) * (2 * n),
        mode="edge",
    )
    deconv = dataclasses.replace(recipe, input=pad.output, output=graph.names.fresh(f"{layer.name}.recipe"))
    crop = Crop(
        name=graph.names.fresh(f"{layer.name}.crop"),
        input=deconv.output,
        output=layer.output,
        axis=2,
        offset=factors,
        shape=tuple(f * d for f, d in zip(factors, x.shape[2:], strict=True)),
    )
    return [pad, deconv, crop]


def triangle_recipe(layer: Upsample, x: TensorType, zooms: tuple[int, ...]) -> Deconvolution:
    """Align-corners upsampling by integer zoom ``z``: the bilinear triangle kernel ``2z - 1``, stride ``z``, pad
    ``z - 1``."""
    return Deconvolution(
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


def broadcast_recipe(
    layer: Upsample, x: TensorType, out_spatial: tuple[int, ...], zooms: list[int | None]
) -> Deconvolution:
    """Align-corners from a 1-pixel axis is a broadcast (every output row reads the one input row with weight 1:
    ONNX's ``x * (1 - 1) / (out - 1) = 0``, the fork's ``rheight = 0``): on such an axis kernel = stride = out,
    pad 0, weight 1; the other axes keep the triangle recipe.  The kernel is the triangle recipe's with the
    broadcast axes' single tap repeated ``out`` times (the bilinear kernel is a product over axes)."""
    triangle = triangle_recipe(layer, x, tuple(1 if z is None else z for z in zooms))
    weight = triangle.weight_array(x.shape[1])
    broadcast = [a for a, z in enumerate(zooms) if z is None]
    for a in broadcast:
        weight = np.repeat(weight, out_spatial[a], axis=2 + a)
    return dataclasses.replace(
        triangle,
        kernel_shape=tuple(
            o if z is None else k for o, z, k in zip(out_spatial, zooms, triangle.kernel_shape, strict=True)
        ),
        strides=tuple(
            o if z is None else s for o, z, s in zip(out_spatial, zooms, triangle.strides or (), strict=True)
        ),
        padding=Padding(convention="caffe", pad=tuple(0 if z is None else z - 1 for z in zooms)),
        weight=Values(array=weight)
        if broadcast and len(broadcast) < len(zooms)
        else Filler(type="constant", value=1.0),
    )


def lower_for_onnx(layer: Layer, types: list[TensorType], graph: Graph, options: ExportOptions) -> list[Layer] | None:
    """The ONNX form the layer's ``lowering`` asks for: Resize (kept), the recipe, or the edge-replicated recipe."""
    if not isinstance(layer, Upsample) or layer.onnx_lowering == "resize":
        return None
    x = types[0]
    if layer.semantics == "deconvolution" or layer.mode == "nearest":
        return [layer.as_deconvolution(x.shape[1], x.shape[2:])]
    return edge_recipe(layer, x, graph)


def lower_for_caffe(layer: Layer, types: list[TensorType], graph: Graph, options: ExportOptions) -> list[Layer] | None:
    """The exact stock Caffe form, the fork's Interp (kept), or an error that says why there is none."""
    if not isinstance(layer, Upsample):
        return None
    x = types[0]
    n, c, in_spatial = len(x.shape) - 2, x.shape[1], x.shape[2:]
    features = layer._resize_features()
    if features:
        raise layer.error(
            f"{', '.join(features)} has no Caffe form (Caffe upsamples by deconvolution or the fork's bilinear "
            "Interp); export to ONNX instead",
            UnsupportedError,
        )
    if layer.interp_form is not None:
        return None
    if layer.semantics == "deconvolution":
        return [layer.as_deconvolution(c, in_spatial)]
    ctm = layer.coordinate_transformation_mode
    out_spatial = layer.output_spatial(in_spatial)
    integer = all(o % i == 0 for i, o in zip(in_spatial, out_spatial, strict=True)) and (
        layer.scales is None or all(float(s).is_integer() for s in layer.scales)
    )
    if layer.mode == "nearest":
        if integer and layer._nearest_reads_floor(in_spatial):
            return [layer.as_deconvolution(c, in_spatial)]
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
        return edge_recipe(layer, x, graph)
    if ctm == "align_corners":
        zooms = [
            (o - 1) // (i - 1) if i > 1 and (o - 1) % (i - 1) == 0 else None
            for i, o in zip(in_spatial, out_spatial, strict=True)
        ]
        if options.dialect == "pspnet" and n == 2:
            return None
        if all(z is not None and z >= 1 for z in zooms):
            return [triangle_recipe(layer, x, tuple(int(z) for z in zooms if z is not None))]
        if any(i == 1 for i in in_spatial) and all(
            i == 1 or z is not None for i, z in zip(in_spatial, zooms, strict=True)
        ):
            return [broadcast_recipe(layer, x, out_spatial, zooms)]
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


def fuse_edge_recipe(chain: list[Layer], graph: Graph) -> tuple[Layer, int] | None:
    """``Pad(edge, 1)`` -> recipe Deconvolution -> ``Crop [f, f + f * in)`` back into the linear half-pixel
    Upsample (lowering ``deconvolution``), when every part is exactly what :func:`edge_recipe` builds (weights bit
    for bit)."""
    if len(chain) < 3 or not (
        isinstance(chain[0], Pad) and isinstance(chain[1], Deconvolution) and isinstance(chain[2], Crop)
    ):
        return None
    pad, conv, crop = chain[0], chain[1], chain[2]
    x = graph.types[pad.input]
    n = len(x.shape) - 2
    if n < 1 or pad.mode != "edge" or pad.pads != (1,) * (2 * n):
        return None
    c = x.shape[1]
    if conv.bias_term or conv.group != c or conv.out_channels != c:
        return None
    if any(d != 1 for d in conv.dilations or ()) or any(conv.output_padding or ()):
        return None
    name = conv.name if not conv.name.endswith(".recipe") else conv.name.removesuffix(".recipe")
    layer = Upsample(
        name=name,
        input=pad.input,
        output=crop.output,
        mode="linear",
        scales=tuple(float(s) for s in conv.strides or ()),
        lowering="deconvolution",
    )
    recipe = layer.as_deconvolution(c, x.shape[2:])
    padded = graph.types[pad.output].shape[2:]
    if conv.kernel_shape != recipe.kernel_shape or conv.geometry(padded).pads != recipe.geometry(x.shape[2:]).pads:
        return None
    dtype = np.dtype(graph.types[pad.output].dtype)
    if not np.array_equal(conv.weight_array(c, dtype), recipe.weight_array(c, dtype)):
        return None
    if crop.shape is None:
        return None
    raw = graph.types[conv.output].shape
    axis, offsets = crop.starts(raw)
    factors = tuple(int(s) for s in conv.strides or ())
    if (
        axis != 2
        or offsets != factors
        or crop.sizes([graph.types[conv.output]]) != tuple(f * d for f, d in zip(factors, x.shape[2:], strict=True))
    ):
        return None
    return layer, 3


LOWERINGS: dict[str, list[Lowering]] = {"onnx": [lower_for_onnx], "caffe": [lower_for_caffe]}
FUSIONS: dict[str, list[tuple[int, Fusion]]] = {"import": [(3, fuse_edge_recipe)]}
