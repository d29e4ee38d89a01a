"""``Upsample``: nearest / (bi)linear upsampling, with the semantics stated, not implied.

Two semantics exist in the wild and differ at the borders:

- ``semantics="resize"`` — ONNX ``Resize`` (``mode``, ``coordinate_transformation_mode``, ``nearest_mode``),
  any scale or target size.  Borders clamp to the edge pixel.
- ``semantics="deconvolution"`` — Caffe's recipe, a frozen grouped deconvolution (``group = out = C``) with integer
  factor ``f`` per axis: ``linear`` uses the bilinear filler with kernel ``2f - f%2``, stride ``f``, pad
  ``ceil((f-1)/2)``; ``nearest`` a ones kernel with kernel = stride = ``f``, pad 0.  The interior equals half-pixel
  Resize; the first/last rows of ``linear`` see zero padding (they are darker than Resize's).

``lowering`` chooses the ONNX graph (default: the one that matches the semantics):

==================  ============  ==============================================================================
semantics           lowering      emitted ONNX
==================  ============  ==============================================================================
resize              resize        ``Resize`` (scales or sizes input, the layer's attributes)
resize              deconvolution nearest: ``ConvTranspose`` with a ones kernel (k = s = f), exact when every
                                  output row reads source row ``floor(i / f)`` (half-pixel modes; asymmetric and
                                  tf_half_pixel_for_nn with nearest_mode floor).  linear, half-pixel modes:
                                  ``Pad(edge, 1)`` -> recipe ``ConvTranspose`` -> ``Slice`` ``[f, f + f*in)``
                                  (the replicated edge turns the recipe's zero border into Resize's clamp).
deconvolution       deconvolution the recipe ``ConvTranspose`` (group C, materialised bilinear / ones weights)
==================  ============  ==============================================================================

Resize-only fields (semantics and lowering ``resize``; no deconvolution or Caffe form), with ONNX names and
defaults: ``mode="cubic"`` with ``cubic_coeff_a`` and ``exclude_outside``; ``antialias`` (linear and cubic; ONNX
opset >= 18); ``coordinate_transformation_mode="tf_crop_and_resize"`` with ``roi`` (normalised starts then ends
of the spatial axes; sizes only) and ``extrapolation_value``; ``keep_aspect_ratio_policy`` (sizes only, over the
spatial axes, opset >= 18: one float32 scale, the min or max of the size ratios, sizes ``round(scale * in)``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from .. import shapes
from ..errors import UnsupportedError, ValidationError
from ..fillers import Filler
from ..ir import Layer, TensorType, register_layer
from ._fields import check_name, float_tuple, int_array_schema, int_tuple, layer_schema
from .deconvolution import Deconvolution, Padding

__all__ = ["Upsample", "InterpForm", "COORDINATE_TRANSFORMATION_MODES", "NEAREST_MODES", "KEEP_ASPECT_RATIO_POLICIES"]

COORDINATE_TRANSFORMATION_MODES: tuple[str, ...] = (
    "half_pixel",
    "half_pixel_symmetric",
    "pytorch_half_pixel",
    "align_corners",
    "asymmetric",
    "tf_half_pixel_for_nn",
    "tf_crop_and_resize",
)
NEAREST_MODES: tuple[str, ...] = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")
MODES: tuple[str, ...] = ("nearest", "linear", "cubic")
KEEP_ASPECT_RATIO_POLICIES: tuple[str, ...] = ("stretch", "not_larger", "not_smaller")
SEMANTICS: tuple[str, ...] = ("resize", "deconvolution")
_HALF_PIXEL_FAMILY = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel")


@dataclass(frozen=True, slots=True, kw_only=True)
class InterpForm:
    """How a Caffe ``Interp`` layer (the PSPNet/DeepLab fork) gave its output size, kept to write it back so.

    With ``zoom_factor`` and/or ``shrink_factor`` the size follows from the input as the fork computes it
    (:meth:`output_spatial`); with neither, the layer wrote ``height`` and ``width`` (the Upsample's ``sizes``).
    """

    zoom_factor: int | None = None
    shrink_factor: int | None = None

    def check(self, where: str) -> None:
        for fname in ("zoom_factor", "shrink_factor"):
            value = getattr(self, fname)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValidationError(f"{where}: caffe_interp {fname} must be an integer >= 1, got {value!r}")

    @property
    def by_factors(self) -> bool:
        """Whether the size follows from the input (zoom/shrink factors) rather than height/width."""
        return self.zoom_factor is not None or self.shrink_factor is not None

    def output_spatial(self, in_spatial: tuple[int, ...]) -> tuple[int, ...]:
        """The fork's sizes: shrink ``(i - 1) // s + 1``, then zoom ``n + (n - 1) * (z - 1)`` (aligned corners)."""
        s, z = self.shrink_factor or 1, self.zoom_factor or 1
        shrunk = [(i - 1) // s + 1 for i in in_spatial]
        return tuple(n + (n - 1) * (z - 1) for n in shrunk)

    def to_spec(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in ("zoom_factor", "shrink_factor") if getattr(self, f) is not None}

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> InterpForm:
        return cls(zoom_factor=spec.get("zoom_factor"), shrink_factor=spec.get("shrink_factor"))

    @classmethod
    def spec_schema(cls) -> dict[str, Any]:
        factor = {"type": "integer", "minimum": 1}
        return {
            "type": "object",
            "properties": {"zoom_factor": factor, "shrink_factor": factor},
            "additionalProperties": False,
        }


@register_layer
@dataclass(frozen=True, slots=True, kw_only=True)
class Upsample(Layer):
    """Upsample ``input`` (N, C, spatial...) by per-axis ``scales`` or to spatial ``sizes``.

    ``caffe_interp`` records that the layer was read from the fork's Caffe ``Interp`` (and how it gave its size):
    the Caffe writer then writes it back as ``Interp`` in every dialect.  It needs what Interp computes (linear,
    align_corners, 2-D sizes) and does not change the ONNX export.
    """

    kind: ClassVar[str] = "Upsample"
    onnx_op_types: ClassVar[tuple[str, ...]] = ("Resize", "Upsample")
    #: The chain :meth:`to_onnx` writes for linear Resize lowered to the recipe (see :meth:`from_onnx_chain`).
    onnx_patterns: ClassVar[tuple[tuple[str, ...], ...]] = (("Pad", "ConvTranspose", "Slice"),)
    name: str
    input: str
    output: str = ""
    mode: Literal["nearest", "linear", "cubic"] = "nearest"
    scales: tuple[float, ...] | None = None
    sizes: tuple[int, ...] | None = None
    coordinate_transformation_mode: str = "half_pixel"
    nearest_mode: str = "round_prefer_floor"
    semantics: Literal["resize", "deconvolution"] = "resize"
    lowering: Literal["resize", "deconvolution"] | None = None
    # Resize-only features (semantics and lowering "resize"), ONNX attribute names and defaults:
    cubic_coeff_a: float = -0.75
    exclude_outside: bool = False
    antialias: bool = False
    extrapolation_value: float = 0.0
    roi: tuple[float, ...] | None = None
    keep_aspect_ratio_policy: str = "stretch"
    caffe_interp: InterpForm | None = None

    def __post_init__(self) -> None:
        check_name(self.kind, self.name)
        check_name(self.kind, self.input, "input")
        set_ = object.__setattr__
        if not self.output:
            set_(self, "output", self.name)
        if (self.scales is None) == (self.sizes is None):
            raise self.error("give exactly one of scales (per spatial axis) or sizes (spatial target size)")
        if self.scales is not None:
            scales = float_tuple(self.name, self.kind, "scales", self.scales)
            if not scales or any(not (s > 0 and math.isfinite(s)) for s in scales):
                raise self.error(f"scales must be positive and finite, one per spatial axis, got {list(scales)}")
            set_(self, "scales", scales)
        if self.sizes is not None:
            sizes = int_tuple(self.name, self.kind, "sizes", self.sizes)
            if not sizes or any(s < 1 for s in sizes):
                raise self.error(f"sizes must be positive, one per spatial axis, got {list(sizes)}")
            set_(self, "sizes", sizes)
        for fname, allowed in (
            ("mode", MODES),
            ("coordinate_transformation_mode", COORDINATE_TRANSFORMATION_MODES),
            ("nearest_mode", NEAREST_MODES),
            ("semantics", SEMANTICS),
        ):
            if getattr(self, fname) not in allowed:
                raise self.error(f"{fname} must be one of {', '.join(allowed)}, got {getattr(self, fname)!r}")
        lowering = self.lowering or self.semantics
        if lowering not in SEMANTICS:
            raise self.error(f"lowering must be resize or deconvolution, got {self.lowering!r}")
        set_(self, "lowering", lowering)
        if self.semantics == "deconvolution":
            if lowering != "deconvolution":
                raise self.error(
                    "semantics 'deconvolution' (Caffe's recipe, zero border) cannot be lowered to Resize, which "
                    "clamps at the border; use lowering 'deconvolution' or semantics 'resize'"
                )
            if self.coordinate_transformation_mode != "half_pixel" or self.nearest_mode != "round_prefer_floor":
                raise self.error(
                    "coordinate_transformation_mode and nearest_mode describe Resize; semantics 'deconvolution' "
                    "is fixed by the recipe (interior = half_pixel) — drop them or use semantics 'resize'"
                )
            if self.scales is not None:
                self._integer_factors(self.scales)
        elif lowering == "deconvolution":
            self._check_deconvolution_lowering()
        self._check_resize_features()
        self._check_caffe_interp()

    def _check_caffe_interp(self) -> None:
        form = self.caffe_interp
        if form is None:
            return
        if not isinstance(form, InterpForm):
            raise self.error(f"caffe_interp must be an InterpForm or None, got {type(form).__name__}")
        form.check(f"layer {self.name!r} ({self.kind})")
        differs = [
            what
            for what, bad in (
                (f"mode {self.mode}", self.mode != "linear"),
                (
                    f"coordinate_transformation_mode {self.coordinate_transformation_mode}",
                    self.coordinate_transformation_mode != "align_corners",
                ),
                ("scales", self.sizes is None),
                (f"{len(self.sizes or ())} spatial axes", self.sizes is not None and len(self.sizes) != 2),
                (f"semantics {self.semantics}", self.semantics != "resize"),
                ("antialias", self.antialias),
            )
            if bad
        ]
        if differs:
            raise self.error(
                f"caffe_interp records a Caffe Interp layer (bilinear, align_corners, 2-D sizes), but this layer has "
                f"{', '.join(differs)}; drop caffe_interp"
            )

    def _resize_features(self) -> list[str]:
        """The Resize-only features this layer uses (they have no deconvolution or Caffe form)."""
        used = []
        if self.mode == "cubic":
            used.append("mode cubic")
        if self.antialias:
            used.append("antialias")
        if self.coordinate_transformation_mode == "tf_crop_and_resize":
            used.append("tf_crop_and_resize")
        if self.keep_aspect_ratio_policy != "stretch":
            used.append(f"keep_aspect_ratio_policy {self.keep_aspect_ratio_policy}")
        return used

    def _check_resize_features(self) -> None:
        set_ = object.__setattr__
        for fname in ("cubic_coeff_a", "extrapolation_value"):
            value = getattr(self, fname)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise self.error(f"{fname} must be a finite number, got {value!r}")
            set_(self, fname, float(value))
        for fname in ("exclude_outside", "antialias"):
            if not isinstance(getattr(self, fname), bool):
                raise self.error(f"{fname} must be true or false, got {getattr(self, fname)!r}")
        if self.keep_aspect_ratio_policy not in KEEP_ASPECT_RATIO_POLICIES:
            raise self.error(
                f"keep_aspect_ratio_policy must be one of {', '.join(KEEP_ASPECT_RATIO_POLICIES)}, "
                f"got {self.keep_aspect_ratio_policy!r}"
            )
        used = self._resize_features()
        if used and (self.semantics != "resize" or self.lowering != "resize"):
            raise self.error(f"{', '.join(used)} exist only in ONNX Resize; use semantics and lowering 'resize'")
        if self.cubic_coeff_a != -0.75 and self.mode != "cubic":
            raise self.error(f"cubic_coeff_a applies to mode cubic only (mode is {self.mode}); drop it")
        if self.exclude_outside and self.mode != "cubic" and not self.antialias:
            raise self.error("exclude_outside applies to mode cubic or antialias only; drop it")
        if self.antialias and self.mode == "nearest":
            raise self.error("antialias applies to modes linear and cubic (onnxruntime rejects it on nearest)")
        tf_crop = self.coordinate_transformation_mode == "tf_crop_and_resize"
        if self.extrapolation_value != 0.0 and not tf_crop:
            raise self.error("extrapolation_value applies to coordinate_transformation_mode tf_crop_and_resize only")
        if tf_crop != (self.roi is not None):
            raise self.error(
                "coordinate_transformation_mode tf_crop_and_resize needs roi (start..., end... per spatial axis, "
                "normalised), and roi means nothing without it"
            )
        n = len(self.scales if self.scales is not None else self.sizes or ())
        if self.roi is not None:
            roi = float_tuple(self.name, self.kind, "roi", self.roi)
            if len(roi) != 2 * n or not all(math.isfinite(v) for v in roi):
                raise self.error(
                    f"roi needs 2 x {n} finite values (starts then ends per spatial axis), got {list(roi)}"
                )
            if self.sizes is None:
                raise self.error(
                    "tf_crop_and_resize takes sizes here (the output size from scales would also depend on the "
                    "roi); give sizes"
                )
            set_(self, "roi", roi)
        if self.keep_aspect_ratio_policy != "stretch" and self.sizes is None:
            raise self.error("keep_aspect_ratio_policy applies to sizes only (scales keep their own ratio)")

    # -- helpers --------------------------------------------------------------------------------------------------
    def _integer_factors(self, scales: tuple[float, ...]) -> tuple[int, ...]:
        factors = tuple(int(round(s)) for s in scales)
        if any(f < 1 or f != s for f, s in zip(factors, scales, strict=True)):
            raise self.error(
                f"a deconvolution upsample needs integer factors >= 1 on every axis, got {list(scales)}; "
                "use semantics 'resize' with lowering 'resize' for fractional scales"
            )
        return factors

    def _check_deconvolution_lowering(self) -> None:
        # Nearest depends on the input size (see _nearest_reads_floor), checked in infer().
        ctm = self.coordinate_transformation_mode
        if self.scales is not None:
            self._integer_factors(self.scales)
        if self.mode == "linear" and ctm not in _HALF_PIXEL_FAMILY:
            raise self.error(
                f"linear Resize with coordinate_transformation_mode {ctm!r} has no exact deconvolution form "
                f"(only {', '.join(_HALF_PIXEL_FAMILY)} do, via edge padding + the bilinear recipe); "
                "use lowering 'resize'"
            )

    def _nearest_reads_floor(self, in_spatial: tuple[int, ...]) -> bool:
        """Whether nearest Resize reads source row ``floor(i / f)`` for every output row (exact rationals)."""
        from fractions import Fraction

        out_spatial = self.output_spatial(in_spatial)
        for a, (i_n, o_n) in enumerate(zip(in_spatial, out_spatial, strict=True)):
            scale = Fraction(self.scales[a]) if self.scales is not None else Fraction(o_n, i_n)
            f = o_n // i_n
            for i in range(o_n):
                ctm = self.coordinate_transformation_mode
                if ctm in ("half_pixel", "half_pixel_symmetric") or (ctm == "pytorch_half_pixel" and o_n > 1):
                    x = (i + Fraction(1, 2)) / scale - Fraction(1, 2)
                elif ctm == "align_corners":
                    x = Fraction(i * (i_n - 1), o_n - 1) if o_n > 1 else Fraction(0)
                elif ctm == "asymmetric":
                    x = i / scale
                elif ctm == "tf_half_pixel_for_nn":
                    x = (i + Fraction(1, 2)) / scale
                else:
                    x = Fraction(0)
                r = {
                    "round_prefer_floor": math.ceil(x - Fraction(1, 2)),
                    "round_prefer_ceil": math.floor(x + Fraction(1, 2)),
                    "floor": math.floor(x),
                    "ceil": math.ceil(x),
                }[self.nearest_mode]
                if min(max(r, 0), i_n - 1) != i // f:
                    return False
        return True

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,)

    def output_spatial(self, in_spatial: tuple[int, ...]) -> tuple[int, ...]:
        if self.sizes is not None and self.keep_aspect_ratio_policy != "stretch":
            # onnxruntime: one float32 scale (min or max of the size ratios), sizes round(scale * in) half away.
            ratios = [np.float32(o) / np.float32(i) for i, o in zip(in_spatial, self.sizes, strict=True)]
            scale = min(ratios) if self.keep_aspect_ratio_policy == "not_larger" else max(ratios)
            return tuple(int(math.floor(float(scale * np.float32(i)) + 0.5)) for i in in_spatial)
        if self.sizes is not None:
            return self.sizes
        assert self.scales is not None
        return tuple(shapes.resize_output_size(i, s) for i, s in zip(in_spatial, self.scales, strict=True))

    def factors(self, in_spatial: tuple[int, ...]) -> tuple[int, ...]:
        """Integer upsampling factor per axis (deconvolution semantics or lowering only)."""
        if self.scales is not None:
            return self._integer_factors(self.scales)
        assert self.sizes is not None
        out = []
        for a, (i, o) in enumerate(zip(in_spatial, self.sizes, strict=True)):
            if o % i:
                raise self.error(
                    f"a deconvolution upsample needs sizes that are integer multiples of the input, but on axis "
                    f"{a} size {o} is not a multiple of {i}; use semantics and lowering 'resize'"
                )
            out.append(o // i)
        return tuple(out)

    def as_deconvolution(self, channels: int, in_spatial: tuple[int, ...]) -> Deconvolution:
        """The recipe as a frozen grouped :class:`Deconvolution` (bilinear filler, or ones for nearest)."""
        factors = self.factors(in_spatial)
        if self.mode == "linear":
            recipe = [shapes.bilinear_upsample_recipe(f) for f in factors]
            weight = Filler(type="bilinear")
        else:
            recipe = [(f, f, 0) for f in factors]
            weight = Filler(type="constant", value=1.0)
        return Deconvolution(
            name=self.name,
            input=self.input,
            output=self.output,
            out_channels=channels,
            group=channels,
            kernel_shape=tuple(r[0] for r in recipe),
            strides=tuple(r[1] for r in recipe),
            padding=Padding(convention="caffe", pad=tuple(r[2] for r in recipe)),
            bias_term=False,
            weight=weight,
            frozen=True,
        )

    # -- shape rule and reference ---------------------------------------------------------------------------------
    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        (x,) = inputs
        n = len(self.scales if self.scales is not None else self.sizes or ())
        if len(x.shape) != n + 2:
            raise self.error(
                f"input {self.input!r} has rank {len(x.shape)} {list(x.shape)}, but {n} scales/sizes need rank "
                f"{n + 2} (N, C, {n} spatial)"
            )
        in_spatial = x.shape[2:]
        if self.semantics == "deconvolution" or self.lowering == "deconvolution":
            self.factors(in_spatial)
        if self.semantics == "resize" and self.lowering == "deconvolution" and self.mode == "nearest":
            if not self._nearest_reads_floor(in_spatial):
                raise self.error(
                    f"nearest Resize with coordinate_transformation_mode {self.coordinate_transformation_mode!r} "
                    f"and nearest_mode {self.nearest_mode!r} does not read source row floor(i / f) for input "
                    f"{list(in_spatial)}, so a ones-kernel ConvTranspose would differ; use lowering 'resize'"
                )
        out = self.output_spatial(in_spatial)
        if self.scales is not None:
            for a, (i, sc, o) in enumerate(zip(in_spatial, self.scales, out, strict=True)):
                exact = shapes.exact_resize_output_size(i, sc)
                if exact != o:
                    raise self.error(
                        f"scale {sc!r} on spatial axis {a} (input size {i}) gives an ambiguous output size: "
                        f"onnxruntime multiplies in float32, floor({i} * {sc!r}) = {o}; onnx shape inference in "
                        f"exact arithmetic = {exact}; give sizes instead of scales"
                    )
        if any(o < 1 for o in out):
            raise self.error(f"output size {list(out)} is not positive for input {list(in_spatial)}")
        return [TensorType((x.shape[0], x.shape[1], *out), x.dtype)]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        (x,) = inputs
        shape = types[0].shape
        if self.semantics == "deconvolution":
            return self.as_deconvolution(shape[1], shape[2:]).reference(inputs, types)
        from ..reference import resize

        return [resize(x, **self.resize_arguments(shape))]

    def resize_arguments(self, shape: tuple[int, ...]) -> dict[str, Any]:
        """The ONNX Resize this layer means on an input of ``shape``: attributes plus ``roi``/``scales``/``sizes``.

        One description for both the reference call (keyword arguments of :func:`convertkit.reference.resize`)
        and the ONNX node (attributes; roi, scales and sizes become its inputs).
        """
        args: dict[str, Any] = {
            "mode": self.mode,
            "coordinate_transformation_mode": self.coordinate_transformation_mode,
        }
        if self.mode == "nearest":
            args["nearest_mode"] = self.nearest_mode
        if self.mode == "cubic":
            args["cubic_coeff_a"] = self.cubic_coeff_a
        if self.exclude_outside:
            args["exclude_outside"] = 1
        if self.antialias:
            args["antialias"] = 1
        if self.roi is not None:
            n = len(self.roi) // 2
            args["roi"] = [0.0, 0.0, *self.roi[:n], 1.0, 1.0, *self.roi[n:]]
            args["extrapolation_value"] = self.extrapolation_value
        if self.scales is not None:
            args["scales"] = [1.0, 1.0, *self.scales]
        elif self.keep_aspect_ratio_policy != "stretch":
            # The policy takes the ratios of the resized axes only: N and C stay out of it.
            args["sizes"] = list(self.sizes or ())
            args["axes"] = list(range(2, len(shape)))
            args["keep_aspect_ratio_policy"] = self.keep_aspect_ratio_policy
        else:
            assert self.sizes is not None
            args["sizes"] = [shape[0], shape[1], *self.sizes]
        return args

    # -- spec -----------------------------------------------------------------------------------------------------
    def to_spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.kind, "name": self.name, "input": self.input}
        if self.output != self.name:
            out["output"] = self.output
        out["mode"] = self.mode
        if self.scales is not None:
            out["scales"] = [int(s) if float(s).is_integer() else s for s in self.scales]
        else:
            assert self.sizes is not None
            out["sizes"] = list(self.sizes)
        if self.coordinate_transformation_mode != "half_pixel":
            out["coordinate_transformation_mode"] = self.coordinate_transformation_mode
        if self.nearest_mode != "round_prefer_floor":
            out["nearest_mode"] = self.nearest_mode
        if self.semantics != "resize":
            out["semantics"] = self.semantics
        if self.lowering != self.semantics:
            out["lowering"] = self.lowering
        for fname, default in (
            ("cubic_coeff_a", -0.75),
            ("exclude_outside", False),
            ("antialias", False),
            ("extrapolation_value", 0.0),
            ("keep_aspect_ratio_policy", "stretch"),
        ):
            if getattr(self, fname) != default:
                out[fname] = getattr(self, fname)
        if self.roi is not None:
            out["roi"] = list(self.roi)
        if self.caffe_interp is not None:
            out["caffe_interp"] = self.caffe_interp.to_spec()
        return out

    @classmethod
    def from_spec(cls, spec: dict[str, Any], base_dir: str) -> Upsample:
        return cls(
            name=spec["name"],
            input=spec["input"],
            output=spec.get("output", ""),
            mode=spec.get("mode", "nearest"),
            scales=tuple(spec["scales"]) if "scales" in spec else None,
            sizes=tuple(spec["sizes"]) if "sizes" in spec else None,
            coordinate_transformation_mode=spec.get("coordinate_transformation_mode", "half_pixel"),
            nearest_mode=spec.get("nearest_mode", "round_prefer_floor"),
            semantics=spec.get("semantics", "resize"),
            lowering=spec.get("lowering"),
            cubic_coeff_a=spec.get("cubic_coeff_a", -0.75),
            exclude_outside=spec.get("exclude_outside", False),
            antialias=spec.get("antialias", False),
            extrapolation_value=spec.get("extrapolation_value", 0.0),
            roi=tuple(spec["roi"]) if "roi" in spec else None,
            keep_aspect_ratio_policy=spec.get("keep_aspect_ratio_policy", "stretch"),
            caffe_interp=InterpForm.from_spec(spec["caffe_interp"]) if "caffe_interp" in spec else None,
        )

    @classmethod
    def spec_schema(cls) -> dict[str, Any]:
        return layer_schema(
            cls.kind,
            {
                "input": True,
                "output": True,
                "mode": {"enum": list(MODES)},
                "scales": {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}, "minItems": 1},
                "sizes": int_array_schema(1),
                "coordinate_transformation_mode": {"enum": list(COORDINATE_TRANSFORMATION_MODES)},
                "nearest_mode": {"enum": list(NEAREST_MODES)},
                "semantics": {"enum": list(SEMANTICS)},
                "lowering": {"enum": list(SEMANTICS)},
                "cubic_coeff_a": {"type": "number"},
                "exclude_outside": {"type": "boolean"},
                "antialias": {"type": "boolean"},
                "extrapolation_value": {"type": "number"},
                "roi": {"type": "array", "items": {"type": "number"}, "minItems": 2},
                "keep_aspect_ratio_policy": {"enum": list(KEEP_ASPECT_RATIO_POLICIES)},
                "caffe_interp": InterpForm.spec_schema(),
            },
            required=["input"],
            oneOf=[{"required": ["scales"]}, {"required": ["sizes"]}],
        )

    # -- Caffe ----------------------------------------------------------------------------------------------------
    caffe_types: ClassVar[tuple[str, ...]] = ("Interp",)

    def to_caffe(self, ctx: Any, types: list[TensorType]) -> None:
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
        from ..errors import UnsupportedError

        x = types[0]
        n, c, in_spatial = len(x.shape) - 2, x.shape[1], x.shape[2:]
        if self._resize_features():
            raise self.error(
                f"{', '.join(self._resize_features())} has no Caffe form (Caffe upsamples by deconvolution or "
                "the fork's bilinear Interp); export to ONNX instead",
                UnsupportedError,
            )
        if self.caffe_interp is not None:
            self._caffe_interp(ctx, in_spatial, self.output_spatial(in_spatial))
            return
        if self.semantics == "deconvolution":
            self.as_deconvolution(c, in_spatial).to_caffe(ctx, types)
            return
        ctm = self.coordinate_transformation_mode
        out_spatial = self.output_spatial(in_spatial)
        integer = all(o % i == 0 for i, o in zip(in_spatial, out_spatial, strict=True)) and (
            self.scales is None or all(float(s).is_integer() for s in self.scales)
        )
        if self.mode == "nearest":
            if integer and self._nearest_reads_floor(in_spatial):
                self.as_deconvolution(c, in_spatial).to_caffe(ctx, types)
                return
            why = (
                "the factors are not integers"
                if not integer
                else f"with {ctm} and nearest_mode {self.nearest_mode} output row i does not read input row i // f"
            )
            raise self.error(
                f"nearest Resize ({ctm}, {self.nearest_mode}) from {list(in_spatial)} to {list(out_spatial)}: {why}, "
                "and copying each input row to f consecutive output rows is all a stock Caffe layer (ones-kernel "
                "Deconvolution) can do; use integer factors with half_pixel (or asymmetric / tf_half_pixel_for_nn + "
                "floor)",
                UnsupportedError,
            )
        if ctm in _HALF_PIXEL_FAMILY and integer:
            self._caffe_edge_recipe(ctx, x, tuple(o // i for i, o in zip(in_spatial, out_spatial, strict=True)))
            return
        if ctm == "align_corners":
            zooms = [
                (o - 1) // (i - 1) if i > 1 and (o - 1) % (i - 1) == 0 else None
                for i, o in zip(in_spatial, out_spatial, strict=True)
            ]
            if ctx.dialect == "pspnet" and n == 2:
                self._caffe_interp(ctx, in_spatial, out_spatial)
                return
            if all(z is not None and z >= 1 for z in zooms):
                self._caffe_align_corners_recipe(ctx, x, tuple(int(z) for z in zooms if z is not None))
                return
            raise self.error(
                f"bilinear align_corners from {list(in_spatial)} to {list(out_spatial)} has no exact stock Caffe "
                "form: a Deconvolution interpolates with a fixed stride, exact only for sizes z * (in - 1) + 1 "
                "(integer z); Caffe's recipe (half-pixel interior, zero border) would differ everywhere; "
                "ways out: --caffe-dialect pspnet (the fork's Interp layer, 2-D), or sizes z * (in - 1) + 1",
                UnsupportedError,
            )
        raise self.error(
            f"bilinear Resize with coordinate_transformation_mode {ctm} from {list(in_spatial)} to "
            f"{list(out_spatial)} has no exact Caffe form: Caffe's recipe is exact for integer factors with the "
            "half-pixel modes only (its border rows see zero padding, which convertkit replaces by edge "
            "replication); ways out: integer factors with half_pixel, semantics 'deconvolution' (Caffe's recipe, "
            "different border), or align_corners with --caffe-dialect pspnet (Interp)",
            UnsupportedError,
        )

    def _caffe_edge_recipe(self, ctx: Any, x: TensorType, factors: tuple[int, ...]) -> None:
        cur, shape = self.input, list(x.shape)
        for a in range(len(factors)):
            axis, length = 2 + a, shape[2 + a]
            if length == 1:
                first = last = cur
            else:
                tops = [ctx.fresh(f"{self.name}.edge{a}_first")]
                if length > 2:
                    tops.append(ctx.fresh(f"{self.name}.edge{a}_middle"))
                tops.append(ctx.fresh(f"{self.name}.edge{a}_last"))
                sl = ctx.add_layer(ctx.fresh(f"{self.name}.edge{a}_slice"), "Slice", [cur], tops)
                sl.slice_param.axis = axis
                sl.slice_param.slice_point.extend([1] if length == 2 else [1, length - 1])
                if length > 2:
                    ctx.add_layer(ctx.fresh(f"{self.name}.edge{a}_silence"), "Silence", [tops[1]], [])
                first, last = tops[0], tops[-1]
            padded = ctx.fresh(f"{self.name}.edge{a}")
            cat = ctx.add_layer(ctx.fresh(f"{self.name}.edge{a}_concat"), "Concat", [first, cur, last], [padded])
            cat.concat_param.axis = axis
            cur, shape[axis] = padded, length + 2
        recipe = [shapes.bilinear_upsample_recipe(f) for f in factors]
        Deconvolution(
            name=self.name,
            input=cur,
            output=self.output,
            out_channels=x.shape[1],
            group=x.shape[1],
            kernel_shape=tuple(r[0] for r in recipe),
            strides=factors,
            padding=Padding(convention="caffe", pad=tuple(r[2] + f for r, f in zip(recipe, factors, strict=True))),
            bias_term=False,
            weight=Filler(type="bilinear"),
            frozen=True,
        ).to_caffe(ctx, [TensorType(tuple(shape), x.dtype)])

    def _caffe_align_corners_recipe(self, ctx: Any, x: TensorType, zooms: tuple[int, ...]) -> None:
        Deconvolution(
            name=self.name,
            input=self.input,
            output=self.output,
            out_channels=x.shape[1],
            group=x.shape[1],
            kernel_shape=tuple(2 * z - 1 for z in zooms),
            strides=zooms,
            padding=Padding(convention="caffe", pad=tuple(z - 1 for z in zooms)),
            bias_term=False,
            weight=Filler(type="bilinear"),
            frozen=True,
        ).to_caffe(ctx, [x])

    def _caffe_interp(self, ctx: Any, in_spatial: tuple[int, ...], out_spatial: tuple[int, ...]) -> None:
        layer = ctx.add_layer(self.name, "Interp", [self.input], [self.output])
        p = layer.interp_param
        form = self.caffe_interp
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
                    f"layer {self.name!r} ({self.kind}): written as Interp with height/width {list(out_spatial)}: "
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

    @classmethod
    def from_caffe(
        cls, lp: Any, ctx: Any, inputs: list[str], outputs: list[str], in_types: list[TensorType]
    ) -> list[Layer]:
        """The PSPNet/DeepLab fork's ``Interp``: bilinear with aligned corners, sizes from its parameters.

        The size form (zoom/shrink factors, or height/width) is kept in ``caffe_interp`` so the layer is written back
        as the same ``Interp``.
        """
        from ..errors import FormatError, UnsupportedError

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
            cls(
                name=lp.name,
                input=inputs[0],
                output=outputs[0],
                mode="linear",
                sizes=sizes,
                coordinate_transformation_mode="align_corners",
                caffe_interp=form,
            )
        ]

    # -- ONNX -----------------------------------------------------------------------------------------------------
    def to_onnx(self, ctx: Any, types: list[TensorType]) -> None:
        x = types[0]
        n = len(x.shape) - 2
        if self.lowering == "resize":
            self._emit_resize(ctx, x)
            return
        deconv = self.as_deconvolution(x.shape[1], x.shape[2:])
        if self.semantics == "deconvolution" or self.mode == "nearest":
            deconv.to_onnx(ctx, types)
            return
        # Resize semantics through the recipe: replicate the edge, run the recipe, crop f rows at each end.
        factors = self.factors(x.shape[2:])
        padded = ctx.fresh(f"{self.name}.edge")
        pads = np.array([0, 0] + [1] * n + [0, 0] + [1] * n, dtype=np.int64)
        ctx.add_node(
            "Pad",
            [self.input, ctx.add_initializer(f"{self.name}.edge_pads", pads)],
            [padded],
            name=f"{self.name}.edge",
            mode="edge",
        )
        padded_type = TensorType((*x.shape[:2], *(d + 2 for d in x.shape[2:])), x.dtype)
        raw = ctx.fresh(f"{self.name}.recipe")
        recipe = Deconvolution(
            name=f"{self.name}.recipe",
            input=padded,
            output=raw,
            out_channels=deconv.out_channels,
            group=deconv.group,
            kernel_shape=deconv.kernel_shape,
            strides=deconv.strides,
            padding=deconv.padding,
            bias_term=False,
            weight=deconv.weight,
            frozen=True,
        )
        recipe.to_onnx(ctx, [padded_type])
        starts = np.array(factors, dtype=np.int64)
        ends = np.array([f + f * d for f, d in zip(factors, x.shape[2:], strict=True)], dtype=np.int64)
        axes = np.arange(2, n + 2, dtype=np.int64)
        ctx.add_node(
            "Slice",
            [
                raw,
                ctx.add_initializer(f"{self.name}.crop_starts", starts),
                ctx.add_initializer(f"{self.name}.crop_ends", ends),
                ctx.add_initializer(f"{self.name}.crop_axes", axes),
            ],
            [self.output],
            name=f"{self.name}.crop",
        )

    def _emit_resize(self, ctx: Any, x: TensorType) -> None:
        if self.coordinate_transformation_mode == "half_pixel_symmetric" and ctx.opset < 19:
            raise self.error(
                f"coordinate_transformation_mode half_pixel_symmetric needs ONNX opset >= 19, exporting at "
                f"opset {ctx.opset}; raise --opset",
                UnsupportedError,
            )
        for feature, opset in (("antialias", 18), ("keep_aspect_ratio_policy", 18)):
            if getattr(self, feature) not in (False, "stretch") and ctx.opset < opset:
                raise self.error(
                    f"{feature} needs ONNX opset >= {opset}, exporting at opset {ctx.opset}; raise --opset",
                    UnsupportedError,
                )
        attrs = self.resize_arguments(x.shape)
        roi, scales, sizes = attrs.pop("roi", None), attrs.pop("scales", None), attrs.pop("sizes", None)
        roi_input = ""
        if roi is not None:
            roi_values = np.array(roi, dtype=np.float32)
            if any(float(a) != b for a, b in zip(roi_values, roi, strict=True)):
                raise self.error(
                    f"roi {list(self.roi or ())} is not exactly representable in float32 (ONNX Resize roi is "
                    "float32 here); round it to float32 values",
                    UnsupportedError,
                )
            roi_input = ctx.add_initializer(f"{self.name}.roi", roi_values)
        if scales is not None:
            scale_values = np.array(scales, dtype=np.float32)
            if any(float(a) != b for a, b in zip(scale_values, scales, strict=True)):
                raise self.error(
                    f"scales {list(self.scales or ())} are not exactly representable in float32 (ONNX Resize "
                    "scales are float32), so the output size could differ; give sizes instead",
                    UnsupportedError,
                )
            inputs = [self.input, roi_input, ctx.add_initializer(f"{self.name}.scales", scale_values)]
        else:
            size_values = np.array(sizes, dtype=np.int64)
            inputs = [self.input, roi_input, "", ctx.add_initializer(f"{self.name}.sizes", size_values)]
        ctx.add_node("Resize", inputs, [self.output], name=self.name, **attrs)

    @classmethod
    def from_onnx(cls, node: Any) -> Upsample:
        """Build from an ONNX ``Resize`` (opset 10..19+) or ``Upsample`` (7, 9) node (``semantics="resize"``).

        ``node`` is a :class:`convertkit.formats.onnx_import.OnnxNode`.  ``axes`` resolve to per-axis spatial
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
                f"input has shape {list(x.shape)}; convertkit's Upsample resizes (N, C, spatial...) tensors of rank "
                ">= 3"
            )
        if node.op_type == "Upsample" or node.opset < 11:
            return cls._from_onnx_asymmetric(node, x)
        return cls._from_onnx_resize(node, x)

    @classmethod
    def from_onnx_chain(cls, chain: list[Any]) -> Upsample | None:
        """Fold ``Pad(edge, 1)`` -> recipe ``ConvTranspose`` -> ``Slice [f, f + f*in)`` back into one layer, or None.

        ``chain`` holds ``onnx_import.OnnxNode`` views.  It is linear half_pixel Resize by integer factors ``f``
        lowered to the deconvolution recipe when every part is exactly what :meth:`to_onnx` writes: edge pads of 1
        on the spatial axes only, a ConvTranspose with group = C = M, no bias, the recipe's kernel, stride and pads
        and weights bit for bit, and the crop of ``f`` rows at each end.  Anything else is not this pattern.
        """
        from .crop import onnx_slice_bounds
        from .deconvolution import onnx_constant_pads

        pad, conv, crop = chain
        x = pad.input_type(0)
        rank, n = len(x.shape), len(x.shape) - 2
        if n < 1 or conv.input_names[0] != pad.output_names[0] or crop.input_names[0] != conv.output_names[0]:
            return None
        if onnx_constant_pads(pad, rank, "edge") != ([0, 0] + [1] * n, [0, 0] + [1] * n):
            return None
        if conv.has_input(2) or any(conv.attr(a) is not None for a in ("auto_pad", "output_shape")):
            return None
        w = np.asarray(conv.constant(1, "the weight W"))
        c = x.shape[1]
        strides = tuple(int(s) for s in conv.attr("strides", [1] * n))
        if len(strides) != n or any(s < 1 for s in strides) or w.shape[:2] != (c, 1) or conv.attr("group", 1) != c:
            return None
        if any(conv.attr(a) is not None and any(v != d for v in conv.attr(a)) for a, d in (("dilations", 1),)):
            return None
        if any(conv.attr("output_padding", [0] * n)):
            return None
        try:
            layer = cls(
                name=pad.name.removesuffix(".edge") or pad.name,
                input=pad.value(0),
                output=crop.output_names[0],
                mode="linear",
                scales=tuple(float(f) for f in strides),
                lowering="deconvolution",
            )
            recipe = layer.as_deconvolution(c, x.shape[2:])
        except ValidationError:
            return None
        geo = recipe.geometry(x.shape[2:])
        pads = tuple(int(p) for p in conv.attr("pads", [0] * (2 * n)))
        expected = recipe.weight_array(c, w.dtype)
        if tuple(w.shape[2:]) != recipe.kernel_shape or pads != geo.pads or not np.array_equal(w, expected):
            return None
        padded = (*x.shape[:2], *(d + 2 for d in x.shape[2:]))
        (raw,) = dataclasses.replace(recipe, input="padded").infer([TensorType(padded, x.dtype)])
        bounds = onnx_slice_bounds(crop, raw.shape)
        want = {2 + a: (f, f + f * d) for a, (f, d) in enumerate(zip(strides, x.shape[2:], strict=True))}
        return layer if bounds == want else None

    @classmethod
    def _spatial_scales(cls, node: Any, x: TensorType, scales: np.ndarray) -> tuple[float, ...]:
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

    @classmethod
    def _scales_or_sizes(cls, node: Any, x: TensorType, scales: np.ndarray) -> dict[str, Any]:
        """``{"scales": ...}``, or ``{"sizes": ...}`` where the output size depends on float32 rounding.

        onnxruntime sizes a Resize as ``floor(float32(in) * scale)`` in float32; onnx shape inference (and the
        the spec writer) multiply exactly, so ``floor(10 * 0.7f)`` is 7 rows in onnxruntime and 6 in the others.
        Such a node is imported as ``sizes`` when onnxruntime's sizes reproduce the float32 scales exactly
        (``float32(out) / float32(in) == scale``, true for scales written as ``out / in``, e.g. by PyTorch), so it
        samples the same way; otherwise it is refused.
        """
        spatial = cls._spatial_scales(node, x, scales)
        f32 = np.float32
        runtime = [shapes.resize_output_size(i, s) for i, s in zip(x.shape[2:], spatial, strict=True)]
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

    @classmethod
    def _from_onnx_asymmetric(cls, node: Any, x: TensorType) -> Upsample:
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
        spatial = cls._scales_or_sizes(node, x, raw)
        scales = cls._spatial_scales(node, x, raw)
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
        return cls(
            name=node.name,
            input=node.value(0),
            output=node.output_names[0],
            mode=mode,
            coordinate_transformation_mode="asymmetric",
            nearest_mode=nearest_mode,
            **spatial,
        )

    @classmethod
    def _from_onnx_resize(cls, node: Any, x: TensorType) -> Upsample:
        rank = len(x.shape)
        f32 = np.float32
        mode = node.attr("mode", "nearest")
        ctm = node.attr("coordinate_transformation_mode", "half_pixel")
        nearest_mode = node.attr("nearest_mode", "round_prefer_floor")
        if mode not in MODES:
            raise node.error(f"mode must be nearest, linear or cubic, got {mode!r}", ValidationError)
        if ctm not in COORDINATE_TRANSFORMATION_MODES:
            raise node.error(
                f"coordinate_transformation_mode must be one of {', '.join(COORDINATE_TRANSFORMATION_MODES)}, "
                f"got {ctm!r}",
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
                raise node.error(
                    f"axes {node.attr('axes')} must be distinct axes of a rank-{rank} input", ValidationError
                )
        scales = node.optional_constant(2, "scales")
        sizes = node.optional_constant(3, "sizes")
        if (scales is None) == (sizes is None):
            raise node.error("give exactly one of the scales (input 2) and sizes (input 3) inputs", ValidationError)
        roi = None
        extrapolation_value = 0.0
        if ctm == "tf_crop_and_resize":
            roi = cls._spatial_roi(node, x, axes)
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
            return cls(**common, **cls._scales_or_sizes(node, x, full))
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
            cls._check_policy_is_spatial(node, x, requested, policy)
            common["keep_aspect_ratio_policy"] = policy
        full_sizes = [requested.get(a, d) for a, d in enumerate(x.shape)]
        if policy == "stretch" and (full_sizes[0] != x.shape[0] or full_sizes[1] != x.shape[1]):
            raise node.error(
                f"sizes {full_sizes} resize the batch or channel axis of input {list(x.shape)}; convertkit's "
                "Upsample resizes spatial axes only"
            )
        return cls(**common, sizes=tuple(full_sizes[2:]))

    @classmethod
    def _spatial_roi(cls, node: Any, x: TensorType, axes: list[int]) -> tuple[float, ...]:
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

    @classmethod
    def _check_policy_is_spatial(cls, node: Any, x: TensorType, requested: dict[int, int], policy: str) -> None:
        """The IR applies the policy over exactly the spatial axes: the node's ``axes`` must be those."""
        spatial = list(range(2, len(x.shape)))
        if sorted(requested) != spatial:
            raise node.error(
                f"keep_aspect_ratio_policy {policy} over axes {sorted(requested)}: convertkit's Upsample applies "
                f"the policy over exactly the spatial axes {spatial} (with N or C in it, onnxruntime scales them "
                "too; with a spatial axis left out, that axis keeps its size) — give axes "
                f"{spatial}"
            )
