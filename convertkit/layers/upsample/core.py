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

import math
from dataclasses import InitVar, dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from ... import shapes, specfields
from ...errors import ValidationError
from ...fillers import Filler
from ...ir import UNSET, TensorType, UnaryLayer, set_meta
from .._fields import float_tuple, int_tuple
from ..deconvolution.core import Deconvolution, Padding

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
#: ``meta`` key: the ONNX form asked for (``deconvolution`` where the semantics mean Resize, and so on).
LOWERING = "onnx.lowering"
#: ``meta`` key: the layer was read from the fork's Caffe ``Interp`` in this size form (an :class:`InterpForm`).
INTERP = "caffe.interp"


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Upsample(UnaryLayer):
    """Upsample ``input`` (N, C, spatial...) by per-axis ``scales`` or to spatial ``sizes``.

    ``caffe_interp`` records that the layer was read from the fork's Caffe ``Interp`` (and how it gave its size):
    the Caffe writer then writes it back as ``Interp`` in every dialect.  It needs what Interp computes (linear,
    align_corners, 2-D sizes) and does not change the ONNX export.
    """

    kind: ClassVar[str] = "Upsample"
    upsamples: ClassVar[bool] = True
    spec_schema_extra: ClassVar[dict[str, Any]] = {"oneOf": [{"required": ["scales"]}, {"required": ["sizes"]}]}
    spec_meta_keys: ClassVar[tuple[str, ...]] = (INTERP, LOWERING)
    #: The chain :meth:`to_onnx` writes for linear Resize lowered to the recipe (see :meth:`from_onnx_chain`).
    mode: Literal["nearest", "linear", "cubic"] = "nearest"
    scales: tuple[float, ...] | None = field(default=None, metadata={"schema": {"exclusiveMinimum": 0}})
    sizes: tuple[int, ...] | None = field(default=None, metadata={"schema": {"minimum": 1}})
    coordinate_transformation_mode: str = field(
        default="half_pixel", metadata={"schema": {"enum": list(COORDINATE_TRANSFORMATION_MODES)}}
    )
    nearest_mode: str = field(default="round_prefer_floor", metadata={"schema": {"enum": list(NEAREST_MODES)}})
    semantics: Literal["resize", "deconvolution"] = "resize"
    # Resize-only features (semantics and lowering "resize"), ONNX attribute names and defaults:
    cubic_coeff_a: float = -0.75
    exclude_outside: bool = False
    antialias: bool = False
    extrapolation_value: float = 0.0
    roi: tuple[float, ...] | None = field(default=None, metadata={"schema": {"minItems": 2}})
    keep_aspect_ratio_policy: str = field(
        default="stretch", metadata={"schema": {"enum": list(KEEP_ASPECT_RATIO_POLICIES)}}
    )
    #: The ONNX form asked for (``meta["onnx.lowering"]``, an export choice, not a field): ``resize`` or
    #: ``deconvolution``; None: the one the semantics mean.  Read back as the :attr:`lowering` property.
    lowering: InitVar[str | None] = UNSET
    #: Compatibility keyword for ``meta["caffe.interp"]`` (read back as the :attr:`caffe_interp` property).
    caffe_interp: InitVar[InterpForm | None] = UNSET

    def __post_init__(self, lowering: str | None, caffe_interp: InterpForm | None) -> None:
        self._check_io()
        set_meta(self, LOWERING, lowering)
        set_meta(self, INTERP, caffe_interp)
        set_ = object.__setattr__
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
        lowering = self.meta.get(LOWERING) or self.semantics
        if lowering not in SEMANTICS:
            raise self.error(f"lowering must be resize or deconvolution, got {self.meta.get(LOWERING)!r}")
        # one form per meaning: the lowering the semantics mean is not recorded
        set_meta(self, LOWERING, None if lowering == self.semantics else lowering)
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

    @property
    def onnx_lowering(self) -> str:
        """The ONNX form to export: ``meta["onnx.lowering"]``, else the one the semantics mean."""
        value: str = self.meta.get(LOWERING) or self.semantics
        return value

    @property
    def interp_form(self) -> InterpForm | None:
        """The fork's ``Interp`` size form this layer was read from (``meta["caffe.interp"]``), or None."""
        value: InterpForm | None = self.meta.get(INTERP)
        return value

    def _check_caffe_interp(self) -> None:
        form = self.interp_form
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
        if used and (self.semantics != "resize" or self.onnx_lowering != "resize"):
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
        n = len(self.scales if self.scales is not None else self.sizes or ())
        x = self.spatial_input(inputs, n, f"{n} scales/sizes need")
        in_spatial = x.shape[2:]
        if self.semantics == "deconvolution" or self.onnx_lowering == "deconvolution":
            self.factors(in_spatial)
        if self.semantics == "resize" and self.onnx_lowering == "deconvolution" and self.mode == "nearest":
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
        from ...reference import resize

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
        out = specfields.spec_of(self)
        if self.meta.get(LOWERING):
            out["lowering"] = self.meta[LOWERING]
        if self.interp_form is not None:
            out["caffe_interp"] = self.interp_form.to_spec()
        return out

    @classmethod
    def from_spec(cls, spec: dict[str, Any], base_dir: str) -> Upsample:
        form = InterpForm.from_spec(spec["caffe_interp"]) if "caffe_interp" in spec else None
        layer: Upsample = specfields.from_fields(
            cls,
            {k: v for k, v in spec.items() if k not in ("caffe_interp", "lowering")},
            base_dir,
            caffe_interp=form,
            lowering=spec.get("lowering"),
        )
        return layer

    @classmethod
    def spec_schema(cls) -> dict[str, Any]:
        schema = specfields.schema_of(cls)
        schema["properties"]["caffe_interp"] = InterpForm.spec_schema()
        schema["properties"]["lowering"] = {"enum": list(SEMANTICS)}
        return schema

    # -- Caffe ----------------------------------------------------------------------------------------------------

    # -- ONNX -----------------------------------------------------------------------------------------------------


def _caffe_interp(self: Upsample) -> InterpForm | None:
    return self.interp_form


# The attribute is set after the class is made: the dataclass owns the ``caffe_interp`` keyword (an InitVar).
setattr(  # noqa: B010  (mypy cannot see an attribute assigned to the class)
    Upsample, "caffe_interp", property(_caffe_interp, doc="Compatibility name of :attr:`Upsample.interp_form`.")
)


def _lowering(self: Upsample) -> str:
    return self.onnx_lowering


setattr(  # noqa: B010  (mypy cannot see an attribute assigned to the class)
    Upsample, "lowering", property(_lowering, doc="Compatibility name of :attr:`Upsample.onnx_lowering`.")
)
