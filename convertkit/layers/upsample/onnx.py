"""ONNX facet of ``Upsample``: ``Resize`` (or the exact deconvolution lowering), read from Resize and Upsample."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import shapes
from ...codec.onnx import OnnxEmitter, OnnxNode
from ...errors import UnsupportedError, ValidationError
from ...ir import TensorType
from ...registry import OnnxFacet
from .core import COORDINATE_TRANSFORMATION_MODES, KEEP_ASPECT_RATIO_POLICIES, MODES, NEAREST_MODES, Upsample

OP_TYPES = ("Resize", "Upsample")


def write(layer: Upsample, ctx: OnnxEmitter, types: list[TensorType]) -> None:
    """One ``Resize`` node; the deconvolution lowerings are IR passes run before export
    (:mod:`convertkit.passes.upsample`)."""
    if layer.onnx_lowering != "resize":
        raise layer.error(
            f"lowering {layer.onnx_lowering!r} is an IR pass; export through convertkit.to_onnx, which runs it",
            UnsupportedError,
        )
    _emit_resize(layer, ctx, types[0])


def _emit_resize(layer: Upsample, ctx: OnnxEmitter, x: TensorType) -> None:
    if layer.coordinate_transformation_mode == "half_pixel_symmetric" and ctx.opset < 19:
        raise layer.error(
            f"coordinate_transformation_mode half_pixel_symmetric needs ONNX opset >= 19, exporting at "
            f"opset {ctx.opset}; raise --opset",
            UnsupportedError,
        )
    for feature, opset in (("antialias", 18), ("keep_aspect_ratio_policy", 18)):
        if getattr(layer, feature) not in (False, "stretch") and ctx.opset < opset:
            raise layer.error(
                f"{feature} needs ONNX opset >= {opset}, exporting at opset {ctx.opset}; raise --opset",
                UnsupportedError,
            )
    attrs = layer.resize_arguments(x.shape)
    roi, scales, sizes = attrs.pop("roi", None), attrs.pop("scales", None), attrs.pop("sizes", None)
    roi_input = ""
    if roi is not None:
        why = "(ONNX Resize roi is float32 here); round it to float32 values"
        roi_values = _float32_exactly(layer, f"roi {list(layer.roi or ())} is", roi, why)
        roi_input = ctx.add_initializer(f"{layer.name}.roi", roi_values)
    if scales is not None:
        why = "(ONNX Resize scales are float32), so the output size could differ; give sizes instead"
        scale_values = _float32_exactly(layer, f"scales {list(layer.scales or ())} are", scales, why)
        inputs = [layer.input, roi_input, ctx.add_initializer(f"{layer.name}.scales", scale_values)]
    else:
        size_values = np.array(sizes, dtype=np.int64)
        inputs = [layer.input, roi_input, "", ctx.add_initializer(f"{layer.name}.sizes", size_values)]
    ctx.add_node("Resize", inputs, [layer.output], name=layer.name, **attrs)


def _float32_exactly(layer: Upsample, what: str, values: list[float], why: str) -> np.ndarray:
    """``values`` as float32, refused (``what``: the field as the user gave it, with its verb) unless exact."""
    array = np.array(values, dtype=np.float32)
    if any(float(a) != b for a, b in zip(array, values, strict=True)):
        raise layer.error(f"{what} not exactly representable in float32 {why}", UnsupportedError)
    return array


def read(node: OnnxNode) -> Upsample:
    """Build from an ONNX ``Resize`` (opset 10..19+) or ``Upsample`` (7, 9) node (``semantics="resize"``).

     ``axes`` resolve to per-axis spatial
    scales or sizes (N and C must not be resized); float32 scales, roi and cubic_coeff_a are kept exactly.
    cubic, antialias, tf_crop_and_resize (roi, extrapolation_value) and keep_aspect_ratio_policy (over exactly
    the spatial axes) become the layer's Resize-only fields; attributes without effect in the node's mode are
    dropped (antialias on nearest with a warning).  Upsample-7/9 and Resize-10 have asymmetric coordinates;
    their nearest rounding (unspecified by ONNX) is onnxruntime's: floor on upscaled axes, ceil on downscaled
    ones.  Refused with the reason: N or C resizing or cropping, tf_crop_and_resize with scales, a policy over
    other axes, and scales whose output size depends on float32 rounding.
    """
    x = node.input_type(0)
    if len(x.shape) < 3:
        raise node.error(
            f"input has shape {list(x.shape)}; convertkit's Upsample resizes (N, C, spatial...) tensors of rank >= 3"
        )
    if node.op_type == "Upsample" or node.opset < 11:
        return _from_onnx_asymmetric(node, x)
    return _from_onnx_resize(node, x)


def _spatial_scales(node: OnnxNode, x: TensorType, scales: np.ndarray) -> tuple[float, ...]:
    scales = np.asarray(scales, dtype=np.float32).ravel()
    if len(scales) != len(x.shape):
        raise node.error(
            f"scales {scales.tolist()} need one value per input axis ({len(x.shape)}, input {list(x.shape)})",
            ValidationError,
        )
    if scales[0] != 1 or scales[1] != 1:
        raise node.error(
            f"scales {scales.tolist()} resize the batch or channel axis; convertkit's Upsample resizes spatial "
            "axes only — resize N and C in a separate model or set their scales to 1"
        )
    return tuple(float(s) for s in scales[2:])


def _scales_or_sizes(node: OnnxNode, x: TensorType, scales: np.ndarray) -> dict[str, Any]:
    """``{"scales": ...}``, or ``{"sizes": ...}`` where the output size depends on float32 rounding.

    onnxruntime sizes a Resize as ``floor(float32(in) * scale)`` in float32; onnx shape inference (and the
    the spec writer) multiply exactly, so ``floor(10 * 0.7f)`` is 7 rows in onnxruntime and 6 in the others.
    Such a node is imported as ``sizes`` when onnxruntime's sizes reproduce the float32 scales exactly
    (``float32(out) / float32(in) == scale``, true for scales written as ``out / in``, e.g. by PyTorch), so it
    samples the same way; otherwise it is refused.
    """
    spatial = _spatial_scales(node, x, scales)
    f32 = np.float32
    try:
        runtime = [shapes.resize_output_size(i, s) for i, s in zip(x.shape[2:], spatial, strict=True)]
    except ValidationError as exc:
        raise node.error(str(exc).removeprefix("Resize: "), ValidationError) from exc
    exact = [shapes.exact_resize_output_size(i, s) for i, s in zip(x.shape[2:], spatial, strict=True)]
    if runtime == exact:
        return {"scales": spatial}
    same_sampling = all(
        o >= 1 and f32(o) / f32(i) == f32(s) for i, o, s in zip(x.shape[2:], runtime, spatial, strict=True)
    )
    a = next(k for k, (r, e) in enumerate(zip(runtime, exact, strict=True)) if r != e)
    i, s = x.shape[2 + a], spatial[a]
    if not same_sampling:
        raise node.error(
            f"scale {s!r} on spatial axis {a} (input size {i}) gives an ambiguous output size: onnxruntime "
            f"multiplies in float32, floor({i} * {s!r}) = {runtime[a]}, onnx shape inference and convertkit "
            f"in exact arithmetic = {exact[a]}; and sizes {runtime} would sample with other scales — give "
            "sizes instead of scales (or a scale whose product with the input size is not this close to an "
            "integer)"
        )
    node.warn(
        f"scale {s!r} on spatial axis {a} (input size {i}) gives {runtime[a]} rows in onnxruntime (float32 "
        f"product) but {exact[a]} in onnx shape inference; imported as sizes {runtime}, which onnxruntime "
        "samples with the same float32 scales (exact; the file's declared shapes may say otherwise)"
    )
    return {"sizes": tuple(runtime)}


def _from_onnx_asymmetric(node: OnnxNode, x: TensorType) -> Upsample:
    if node.op_type == "Upsample" and node.opset < 7:
        raise node.error(
            "Upsample-1 (experimental, height_scale/width_scale) is not supported; re-export at opset >= 7"
        )
    mode = node.attr("mode", "nearest")
    if mode not in MODES:
        raise node.error(f"mode must be nearest or linear, got {mode!r}", ValidationError)
    if node.op_type == "Upsample" and node.opset < 9:
        if node.attr("scales") is None:
            raise node.error("Upsample-7 needs the scales attribute", ValidationError)
        raw = np.asarray(node.attr("scales"), dtype=np.float32)
    else:
        raw = node.constant(1, "scales")
    spatial = _scales_or_sizes(node, x, raw)
    scales = _spatial_scales(node, x, raw)
    if node.op_type == "Upsample" and any(s < 1 for s in scales):
        raise node.error(
            f"Upsample scales must be >= 1 (ONNX text; onnxruntime rejects the node), got {list(scales)}; "
            "use Resize to downsample",
            ValidationError,
        )
    nearest_mode = "round_prefer_floor"
    if mode == "nearest":
        down = [a for a, s in enumerate(scales) if s < 1]
        up = [a for a, s in enumerate(scales) if s > 1]
        if down and up:
            raise node.error(
                f"nearest {node.op_type}-{node.opset} with scales {list(scales)} both up- and downscales; "
                "onnxruntime rounds source coordinates down on upscaled axes and up on downscaled ones, which "
                "one nearest_mode cannot express — split it into two nodes, or use Resize-11+"
            )
        nearest_mode = "ceil" if down else "floor"
        if down:
            node.warn(
                f"{node.op_type}-{node.opset} leaves nearest rounding unspecified; for downscaling "
                f"{list(scales)} onnxruntime rounds the source coordinate up, and so does convertkit "
                "(nearest_mode ceil, asymmetric)"
            )
    return Upsample(
        name=node.name,
        input=node.value(0),
        output=node.output_names[0],
        mode=mode,
        coordinate_transformation_mode="asymmetric",
        nearest_mode=nearest_mode,
        **spatial,
    )


def _from_onnx_resize(node: OnnxNode, x: TensorType) -> Upsample:
    rank = len(x.shape)
    f32 = np.float32
    mode = node.attr("mode", "nearest")
    ctm = node.attr("coordinate_transformation_mode", "half_pixel")
    nearest_mode = node.attr("nearest_mode", "round_prefer_floor")
    if mode not in MODES:
        raise node.error(f"mode must be nearest, linear or cubic, got {mode!r}", ValidationError)
    if ctm not in COORDINATE_TRANSFORMATION_MODES:
        raise node.error(
            f"coordinate_transformation_mode must be one of {', '.join(COORDINATE_TRANSFORMATION_MODES)}, got {ctm!r}",
            ValidationError,
        )
    if mode == "nearest" and nearest_mode not in NEAREST_MODES:
        raise node.error(
            f"nearest_mode must be one of {', '.join(NEAREST_MODES)}, got {nearest_mode!r}", ValidationError
        )
    antialias = bool(node.attr("antialias", 0))
    if antialias and mode == "nearest":
        node.warn(
            "antialias is dropped: the ONNX text applies it to linear and cubic modes only, so nearest is "
            "unchanged (onnxruntime rejects antialias on nearest)"
        )
        antialias = False
    axes = node.attr("axes")
    if axes is None:
        axes = list(range(rank))
    else:
        axes = [int(a) + rank if int(a) < 0 else int(a) for a in axes]
        if sorted(set(axes)) != sorted(axes) or any(not 0 <= a < rank for a in axes):
            raise node.error(f"axes {node.attr('axes')} must be distinct axes of a rank-{rank} input", ValidationError)
    scales = node.optional_constant(2, "scales")
    sizes = node.optional_constant(3, "sizes")
    if (scales is None) == (sizes is None):
        raise node.error("give exactly one of the scales (input 2) and sizes (input 3) inputs", ValidationError)
    roi = None
    extrapolation_value = 0.0
    if ctm == "tf_crop_and_resize":
        roi = _spatial_roi(node, x, axes)
        extrapolation_value = float(f32(node.attr("extrapolation_value", 0.0)))
        if scales is not None:
            raise node.error(
                "tf_crop_and_resize with scales: convertkit takes this mode with sizes (the output size from "
                "scales also depends on the roi); re-export with sizes"
            )
    common: dict[str, Any] = dict(
        name=node.name,
        input=node.value(0),
        output=node.output_names[0],
        mode=mode,
        coordinate_transformation_mode=ctm,
        nearest_mode=nearest_mode if mode == "nearest" else "round_prefer_floor",
        antialias=antialias,
        roi=roi,
        extrapolation_value=extrapolation_value,
    )
    if mode == "cubic":
        common["cubic_coeff_a"] = float(f32(node.attr("cubic_coeff_a", -0.75)))
    if node.attr("exclude_outside", 0) and (mode == "cubic" or antialias):
        common["exclude_outside"] = True
    if scales is not None:
        scales = np.asarray(scales, dtype=np.float32).ravel()
        if len(scales) != len(axes):
            raise node.error(f"scales {scales.tolist()} need one value per axis of {axes}", ValidationError)
        full = np.ones(rank, dtype=np.float32)
        full[axes] = scales
        return Upsample(**common, **_scales_or_sizes(node, x, full))
    sizes = np.asarray(sizes).ravel().astype(np.int64)
    if len(sizes) != len(axes):
        raise node.error(f"sizes {sizes.tolist()} need one value per axis of {axes}", ValidationError)
    policy = node.attr("keep_aspect_ratio_policy", "stretch")
    if policy not in KEEP_ASPECT_RATIO_POLICIES:
        raise node.error(
            f"keep_aspect_ratio_policy must be one of {', '.join(KEEP_ASPECT_RATIO_POLICIES)}, got {policy!r}",
            ValidationError,
        )
    requested = dict(zip(axes, (int(s) for s in sizes), strict=True))
    if policy != "stretch":
        _check_policy_is_spatial(node, x, requested, policy)
        common["keep_aspect_ratio_policy"] = policy
    full_sizes = [requested.get(a, d) for a, d in enumerate(x.shape)]
    if policy == "stretch" and (full_sizes[0] != x.shape[0] or full_sizes[1] != x.shape[1]):
        raise node.error(
            f"sizes {full_sizes} resize the batch or channel axis of input {list(x.shape)}; convertkit's "
            "Upsample resizes spatial axes only"
        )
    return Upsample(**common, sizes=tuple(full_sizes[2:]))


def _spatial_roi(node: OnnxNode, x: TensorType, axes: list[int]) -> tuple[float, ...]:
    """tf_crop_and_resize's roi as (starts..., ends...) of the spatial axes; N and C must not be cropped."""
    rank = len(x.shape)
    if not node.has_input(1):
        raise node.error("tf_crop_and_resize needs the roi input (input 1)", ValidationError)
    raw = np.asarray(node.constant(1, "roi"), dtype=np.float32).ravel()
    if len(raw) != 2 * len(axes):
        raise node.error(
            f"roi {raw.tolist()} needs start and end for each of the {len(axes)} axes {axes}", ValidationError
        )
    starts = {a: 0.0 for a in range(rank)}
    ends = {a: 1.0 for a in range(rank)}
    for k, a in enumerate(axes):
        starts[a], ends[a] = float(raw[k]), float(raw[len(axes) + k])
    if any((starts[a], ends[a]) != (0.0, 1.0) for a in (0, 1)):
        raise node.error(
            f"roi {raw.tolist()} crops the batch or channel axis; convertkit's Upsample crops and resizes "
            "spatial axes only"
        )
    return tuple(starts[a] for a in range(2, rank)) + tuple(ends[a] for a in range(2, rank))


def _check_policy_is_spatial(node: OnnxNode, x: TensorType, requested: dict[int, int], policy: str) -> None:
    """The IR applies the policy over exactly the spatial axes: the node's ``axes`` must be those."""
    spatial = list(range(2, len(x.shape)))
    if sorted(requested) != spatial:
        raise node.error(
            f"keep_aspect_ratio_policy {policy} over axes {sorted(requested)}: convertkit's Upsample applies "
            f"the policy over exactly the spatial axes {spatial} (with N or C in it, onnxruntime scales them "
            "too; with a spatial axis left out, that axis keeps its size) — give axes "
            f"{spatial}"
        )


#: This kind's ONNX facet, registered in the package's ``__init__``.
FACET: OnnxFacet[Upsample] = OnnxFacet(write=write, op_types=OP_TYPES, read=read)
