"""``Deconvolution``: N-D transposed convolution (ONNX ConvTranspose, Caffe Deconvolution).

Everything about the kind lives here: fields and validation, the padding conventions users arrive with and their
normalisation to explicit pads (:meth:`Deconvolution.geometry`), the shape rule, the reference call, the spec
form and the ONNX lowering.

Fields use ONNX names: ``kernel_shape``, ``strides``, ``dilations``, ``group``, ``output_padding``; pads are
``(begin..., end...)``.  The weight blob has shape ``(C, out_channels / group, k...)``, the bias ``(out_channels,)``.
"""

from __future__ import annotations

import math
from dataclasses import InitVar, dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from ... import shapes, specfields
from ...coord_map import CoordMap, filter_map
from ...errors import ValidationError
from ...fillers import (
    Filler,
    Values,
    WeightSource,
)
from ...ir import UNSET, TensorType, UnaryLayer, set_meta
from .._fields import NAME_SCHEMA, int_array_schema, int_tuple, is_int
from .._kernel import KernelBlobs

__all__ = ["Deconvolution", "Padding", "Geometry", "BlobTraining", "PADDING_CONVENTIONS"]

PaddingConvention = Literal["explicit", "caffe", "pytorch", "onnx_auto_pad", "onnx_output_shape", "tensorflow"]
PADDING_CONVENTIONS: tuple[str, ...] = (
    "explicit",
    "caffe",
    "pytorch",
    "onnx_auto_pad",
    "onnx_output_shape",
    "tensorflow",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Padding:
    """How the user wrote the padding; :meth:`Deconvolution.geometry` turns it into explicit pads.

    - ``explicit``: ``pads`` = ONNX ``(begin..., end...)``.
    - ``caffe`` / ``pytorch``: ``pad`` = one symmetric pad per spatial axis (Caffe ``pad``, PyTorch ``padding``).
    - ``onnx_auto_pad``: ``auto_pad`` = ``SAME_UPPER`` | ``SAME_LOWER`` | ``VALID``.
    - ``onnx_output_shape``: ``output_shape`` (spatial) and optionally ``auto_pad`` (NOTSET | SAME_UPPER |
      SAME_LOWER) deciding where an odd total pad goes.
    - ``tensorflow``: ``auto_pad`` = ``SAME`` | ``VALID`` with the ``output_shape`` (spatial) that
      ``conv_transpose`` requires.
    """

    convention: PaddingConvention = "explicit"
    pads: tuple[int, ...] | None = None
    pad: tuple[int, ...] | None = None
    auto_pad: str | None = None
    output_shape: tuple[int, ...] | None = None

    _NEEDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "explicit": ("pads",),
        "caffe": ("pad",),
        "pytorch": ("pad",),
        "onnx_auto_pad": ("auto_pad",),
        "onnx_output_shape": ("output_shape",),
        "tensorflow": ("auto_pad", "output_shape"),
    }
    _AUTO_PAD: ClassVar[dict[str, tuple[str, ...]]] = {
        "onnx_auto_pad": ("SAME_UPPER", "SAME_LOWER", "VALID"),
        "onnx_output_shape": ("NOTSET", "SAME_UPPER", "SAME_LOWER"),
        "tensorflow": ("SAME", "VALID"),
    }

    def check(self, layer: str, n: int) -> Padding:
        """Validate against ``n`` spatial axes; return a copy with tuple fields."""
        where = f"layer {layer!r} (Deconvolution)"
        if self.convention not in PADDING_CONVENTIONS:
            raise ValidationError(
                f"{where}: padding convention must be one of {', '.join(PADDING_CONVENTIONS)}, got {self.convention!r}"
            )
        needs = self._NEEDS[self.convention]
        allowed = set(needs) | ({"auto_pad"} if self.convention == "onnx_output_shape" else set())
        for fname in ("pads", "pad", "auto_pad", "output_shape"):
            value = getattr(self, fname)
            if fname in needs and value is None:
                raise ValidationError(f"{where}: padding convention {self.convention!r} needs {fname}")
            if fname not in allowed and value is not None:
                raise ValidationError(
                    f"{where}: padding convention {self.convention!r} does not take {fname} "
                    f"(it takes {', '.join(sorted(allowed))})"
                )
        pads = int_tuple(layer, "Deconvolution", "pads", self.pads, 2 * n) if self.pads is not None else None
        pad = int_tuple(layer, "Deconvolution", "pad", self.pad, n) if self.pad is not None else None
        out_shape = (
            int_tuple(layer, "Deconvolution", "output_shape", self.output_shape, n)
            if self.output_shape is not None
            else None
        )
        for fname, value in (("pads", pads), ("pad", pad)):
            if value is not None and any(v < 0 for v in value):
                raise ValidationError(f"{where}: {fname} must be >= 0, got {list(value)}")
        if out_shape is not None and any(v < 1 for v in out_shape):
            raise ValidationError(f"{where}: output_shape must be positive, got {list(out_shape)}")
        if self.auto_pad is not None and self.convention in self._AUTO_PAD:
            if self.auto_pad not in self._AUTO_PAD[self.convention]:
                raise ValidationError(
                    f"{where}: auto_pad for convention {self.convention!r} must be one of "
                    f"{', '.join(self._AUTO_PAD[self.convention])}, got {self.auto_pad!r}"
                )
        return Padding(convention=self.convention, pads=pads, pad=pad, auto_pad=self.auto_pad, output_shape=out_shape)

    def to_spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"convention": self.convention}
        for fname in ("pads", "pad", "auto_pad", "output_shape"):
            value = getattr(self, fname)
            if value is not None:
                out[fname] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Padding:
        def ints(key: str) -> tuple[int, ...] | None:
            return tuple(spec[key]) if key in spec else None

        return cls(
            convention=spec["convention"],
            pads=ints("pads"),
            pad=ints("pad"),
            auto_pad=spec.get("auto_pad"),
            output_shape=ints("output_shape"),
        )

    @classmethod
    def spec_schema(cls) -> dict[str, Any]:
        ints = int_array_schema(0)
        variants = []
        for convention, needs in cls._NEEDS.items():
            props: dict[str, Any] = {"convention": {"const": convention}}
            for fname in needs + (("auto_pad",) if convention == "onnx_output_shape" else ()):
                if fname == "auto_pad":
                    props[fname] = {"enum": list(cls._AUTO_PAD[convention])}
                elif fname == "output_shape":
                    props[fname] = int_array_schema(1)
                else:
                    props[fname] = ints
            variants.append(
                {
                    "type": "object",
                    "properties": props,
                    "required": ["convention", *needs],
                    "additionalProperties": False,
                }
            )
        return {"oneOf": variants}


@dataclass(frozen=True, slots=True)
class Geometry:
    """Resolved geometry of a deconvolution on a given input: explicit pads and output_padding per axis."""

    kernel_shape: tuple[int, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    pads: tuple[int, ...]
    output_padding: tuple[int, ...]

    def output_spatial(self, in_spatial: tuple[int, ...]) -> tuple[int, ...]:
        n = len(self.kernel_shape)
        return tuple(
            shapes.conv_transpose_output_size(
                in_spatial[a],
                self.kernel_shape[a],
                self.strides[a],
                self.pads[a],
                self.pads[n + a],
                self.dilations[a],
                self.output_padding[a],
            )
            for a in range(n)
        )


#: ``meta`` key: per-blob training parameters as the user wrote them (Caffe ``param { }``), a tuple of
#: :class:`BlobTraining`.
TRAINING = "caffe.training"
#: Fillers that draw random values; Caffe's FillerParameter has no seed, so only a caffemodel keeps their values.
_RANDOM_FILLERS = ("uniform", "gaussian", "xavier", "msra")
#: The largest finite float32; values up to it round to a finite float32 (Caffe's proto ``float`` fields).
_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobTraining:
    """How a trainer treats one parameter blob, as the user wrote it; it does not change inference.

    ``lr_mult`` and ``decay_mult`` scale the learning rate and the weight decay of the blob; None means not given,
    which trainers read as 1.  ``name`` shares the blob with every other blob of that name (weight sharing).
    Caffe writes this as ``param { lr_mult: 2 decay_mult: 0 }``, one per blob (weights, then bias).

    Caffe stores both multipliers as float32: a value that overflows float32 (``1e40``) is refused here, and any
    other value is rounded to the nearest float32 when written to a prototxt (``0.123456789`` is written and read
    back as ``0.12345679``).  Values given in a spec are kept as given until then.
    """

    lr_mult: float | None = None
    decay_mult: float | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        # Non-numbers and NaN/inf are refused by check(), which knows the layer; float32 overflow is refused here.
        for fname in ("lr_mult", "decay_mult"):
            self._check_float32("BlobTraining", fname, getattr(self, fname))

    @staticmethod
    def _check_float32(where: str, fname: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return
        with np.errstate(over="ignore"):
            overflows = not np.isfinite(np.float32(value))
        if overflows:
            raise ValidationError(
                f"{where}: {fname} {value!r} does not fit float32, which is how Caffe stores it "
                f"(|{fname}| <= {_FLOAT32_MAX:.7g}); give a smaller value"
            )

    @property
    def trains(self) -> bool:
        """Whether the blob is updated in training (its learning rate multiplier is not 0)."""
        return self.lr_mult is None or self.lr_mult != 0

    def check(self, where: str, blob: str) -> BlobTraining:
        """Validate; return a copy with float multipliers."""
        values: dict[str, Any] = {}
        for fname in ("lr_mult", "decay_mult"):
            value = getattr(self, fname)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            ):
                raise ValidationError(
                    f"{where}: training of the {blob} blob: {fname} must be a finite number, got {value!r}"
                )
            self._check_float32(f"{where}: training of the {blob} blob", fname, value)
            values[fname] = None if value is None else float(value)
        if self.name is not None and (not isinstance(self.name, str) or not self.name):
            raise ValidationError(
                f"{where}: training of the {blob} blob: name (for weight sharing) must be a non-empty string, "
                f"got {self.name!r}"
            )
        return BlobTraining(name=self.name, **values)

    def to_spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for fname in ("lr_mult", "decay_mult"):
            value = getattr(self, fname)
            if value is not None:
                out[fname] = int(value) if float(value).is_integer() else value
        if self.name is not None:
            out["name"] = self.name
        return out

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> BlobTraining:
        return cls(lr_mult=spec.get("lr_mult"), decay_mult=spec.get("decay_mult"), name=spec.get("name"))

    @classmethod
    def spec_schema(cls) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"lr_mult": {"type": "number"}, "decay_mult": {"type": "number"}, "name": NAME_SCHEMA},
            "additionalProperties": False,
        }


def checked_training(layer: UnaryLayer, blobs: tuple[str, ...]) -> tuple[BlobTraining, ...]:
    """Validate ``layer.meta["caffe.training"]`` against the layer's parameter ``blobs`` (weights, then bias),
    store it normalised (floats; nothing when empty) and return it."""
    where = f"layer {layer.name!r} ({layer.kind})"
    given = layer.meta.get(TRAINING, ())
    if not isinstance(given, (tuple, list)):
        raise layer.error(f"training must be a sequence of BlobTraining (weights, then bias), got {given!r}")
    if len(given) > len(blobs):
        raise layer.error(
            f"training lists {len(given)} blobs, the layer has {len(blobs)} ({', '.join(blobs)}); drop the extra "
            "entries"
        )
    checked = []
    for blob, t in zip(blobs, given, strict=False):
        if not isinstance(t, BlobTraining):
            raise layer.error(f"training of the {blob} blob must be a BlobTraining, got {type(t).__name__}")
        checked.append(t.check(where, blob))
    set_meta(layer, TRAINING, tuple(checked) or None)
    return tuple(checked)


@dataclass(frozen=True, slots=True, kw_only=True)
class Deconvolution(UnaryLayer, KernelBlobs):
    """Transposed convolution of ``input`` (N, C, spatial...) into ``output`` (N, out_channels, spatial'...).

    ``training`` keeps how a trainer treats each parameter blob (weights, then bias; fewer entries than blobs leave
    the rest at the trainer's defaults), as the user wrote it.  ``frozen`` says that no blob is trained: with
    ``training`` given it follows from it (every blob listed with ``lr_mult`` 0) and an explicit ``frozen=True``
    that contradicts it is refused; without ``training`` it is written to Caffe as ``param { lr_mult: 0
    decay_mult: 0 }`` per blob, so ``training`` that says exactly that is stored as ``()`` with ``frozen`` true
    (one form per meaning).  Neither changes inference.  ``bias`` defaults to zeros when ``bias_term`` is true.
    """

    kind: ClassVar[str] = "Deconvolution"
    upsamples: ClassVar[bool] = True
    spec_meta_keys: ClassVar[tuple[str, ...]] = (TRAINING,)
    out_channels: int = field(metadata={"schema": {"minimum": 1}})
    kernel_shape: tuple[int, ...] = field(metadata={"schema": {"minimum": 1}})
    strides: tuple[int, ...] | None = field(default=None, metadata={"schema": {"minimum": 1}, "per_axis_default": 1})
    dilations: tuple[int, ...] | None = field(default=None, metadata={"schema": {"minimum": 1}, "per_axis_default": 1})
    padding: Padding = field(default_factory=lambda: Padding(pads=None))
    output_padding: tuple[int, ...] | None = field(
        default=None, metadata={"schema": {"minimum": 0}, "per_axis_default": 0}
    )
    group: int = field(default=1, metadata={"schema": {"minimum": 1}})
    bias_term: bool = True
    weight: WeightSource
    bias: WeightSource | None = None
    frozen: bool = False
    #: Compatibility keyword for ``meta["caffe.training"]`` (read back as the :attr:`training` property).
    training: InitVar[tuple[BlobTraining, ...] | None] = UNSET

    def __post_init__(self, training: tuple[BlobTraining, ...] | None) -> None:
        self._check_io()
        set_meta(self, TRAINING, training)
        set_ = object.__setattr__
        kernel = int_tuple(self.name, self.kind, "kernel_shape", self.kernel_shape)
        n = len(kernel)
        if n < 1:
            raise self.error("kernel_shape needs at least one spatial axis")
        set_(self, "kernel_shape", kernel)
        set_(
            self, "strides", int_tuple(self.name, self.kind, "strides", 1 if self.strides is None else self.strides, n)
        )
        set_(
            self,
            "dilations",
            int_tuple(self.name, self.kind, "dilations", 1 if self.dilations is None else self.dilations, n),
        )
        set_(
            self,
            "output_padding",
            int_tuple(
                self.name, self.kind, "output_padding", 0 if self.output_padding is None else self.output_padding, n
            ),
        )
        padding = self.padding
        if not isinstance(padding, Padding):
            raise self.error(f"padding must be a Padding, got {type(padding).__name__} {padding!r}")
        if padding.convention == "explicit" and padding.pads is None:
            padding = Padding(pads=(0,) * (2 * n))
        set_(self, "padding", padding.check(self.name, n))
        for fname in ("kernel_shape", "strides", "dilations"):
            values = getattr(self, fname)
            if any(v < 1 for v in values):
                raise self.error(f"{fname} must be >= 1, got {list(values)}")
        if not is_int(self.out_channels) or self.out_channels < 1:
            raise self.error(f"out_channels must be a positive integer, got {self.out_channels!r}")
        if not is_int(self.group) or self.group < 1:
            raise self.error(f"group must be a positive integer, got {self.group!r}")
        set_(self, "out_channels", int(self.out_channels))
        set_(self, "group", int(self.group))
        if self.out_channels % self.group:
            raise self.error(f"group must divide out_channels, but {self.group} does not divide {self.out_channels}")
        # normalised to tuples above
        output_padding: tuple[int, ...] = self.output_padding  # type: ignore[assignment]
        strides: tuple[int, ...] = self.strides  # type: ignore[assignment]
        dilations: tuple[int, ...] = self.dilations  # type: ignore[assignment]
        if any(op < 0 for op in output_padding):
            raise self.error(f"output_padding must be >= 0, got {list(output_padding)}")
        a = shapes.output_padding_violation(output_padding, strides, dilations)
        if a is not None:
            raise self.error(
                f"output_padding must be smaller than stride or dilation (PyTorch's rule), but on axis {a} "
                f"output_padding {output_padding[a]} >= stride {strides[a]} and >= dilation {dilations[a]}"
            )
        self._check_blobs("(C, M, k...)")
        self._check_training()
        if isinstance(self.weight, Values):
            w = self.weight.array.shape
            if len(w) != n + 2 or tuple(w[1:]) != (self.out_channels // self.group, *kernel):
                raise self.error(
                    f"weight shape must be (C, out_channels / group, *kernel_shape) = "
                    f"(C, {self.out_channels // self.group}, {', '.join(map(str, kernel))}), got {tuple(w)}"
                )

    @property
    def blob_training(self) -> tuple[BlobTraining, ...]:
        """How a trainer treats each parameter blob (``meta["caffe.training"]``; ``()`` when not given)."""
        value: tuple[BlobTraining, ...] = self.meta.get(TRAINING, ())
        return value

    def _check_training(self) -> None:
        # frozen means "no blob trains": one truth.  With training given, frozen is derived from it (a blob
        # without an entry trains with lr_mult 1) and an explicit frozen=True that training contradicts is refused.
        if not isinstance(self.frozen, bool):
            raise self.error(f"frozen must be true or false, got {self.frozen!r}")
        blobs = self.blob_names
        training = list(checked_training(self, blobs))
        if not training:
            return
        listed = training + [BlobTraining()] * (len(blobs) - len(training))
        trained = [blob for blob, t in zip(blobs, listed, strict=True) if t.trains]
        if self.frozen and trained:
            raise self.error(
                f"frozen means no blob is trained, but training leaves the {' and '.join(trained)} blob trained "
                "(lr_mult not 0, or no entry, which means lr_mult 1); give lr_mult 0 for every blob or drop frozen"
            )
        object.__setattr__(self, "frozen", not trained)
        if training == [BlobTraining(lr_mult=0.0, decay_mult=0.0)] * len(blobs):
            # Exactly what frozen alone is written as: one canonical form, so equal layers compare equal.
            set_meta(self, TRAINING, None)

    # -- graph facets -------------------------------------------------------------------------------------------

    @property
    def is_bilinear_frozen(self) -> bool:
        """Caffe's upsampling recipe: bilinear filler, one group per channel, frozen, no bias."""
        return (
            isinstance(self.weight, Filler)
            and self.weight.type == "bilinear"
            and self.group == self.out_channels
            and self.frozen
            and not self.bias_term
        )

    @property
    def spatial_rank(self) -> int:
        return len(self.kernel_shape)

    def coord_map(self, inputs: list[TensorType]) -> CoordMap:
        """The inverse of the filter map of its kernel, stride and begin pad (coord_map.py's Deconvolution)."""
        g = self.geometry(inputs[0].shape[2:])
        return filter_map(g.kernel_shape, g.strides, g.pads[: self.spatial_rank], g.dilations).inverse()

    def geometry(self, in_spatial: tuple[int, ...]) -> Geometry:
        """Explicit pads and output_padding for an input of spatial size ``in_spatial`` (see :mod:`shapes`)."""
        n = self.spatial_rank
        assert self.strides is not None and self.dilations is not None and self.output_padding is not None
        p = self.padding
        if p.convention == "explicit":
            assert p.pads is not None
            pads, op = p.pads, self.output_padding
        elif p.convention in ("caffe", "pytorch"):
            assert p.pad is not None
            pads, op = p.pad + p.pad, self.output_padding
        else:
            begin, end, ops = [], [], []
            for a in range(n):
                args = (in_spatial[a], self.kernel_shape[a], self.strides[a], self.dilations[a])
                if p.convention == "onnx_auto_pad":
                    assert p.auto_pad is not None
                    r = shapes.onnx_auto_pad_pads(*args, self.output_padding[a], p.auto_pad)
                elif p.convention == "onnx_output_shape":
                    assert p.output_shape is not None
                    r = shapes.onnx_output_shape_pads(
                        *args, self.output_padding[a], p.output_shape[a], p.auto_pad or "NOTSET"
                    )
                else:
                    assert p.output_shape is not None and p.auto_pad is not None
                    if self.output_padding[a]:
                        raise self.error("the tensorflow convention takes no output_padding (output_shape sets it)")
                    try:
                        r = shapes.tf_conv_transpose_pads(*args, p.output_shape[a], p.auto_pad)
                    except ValueError as exc:
                        raise self.error(f"axis {a}: {exc}") from exc
                begin.append(r[0])
                end.append(r[1])
                ops.append(r[2])
            pads, op = tuple(begin + end), tuple(ops)
        return Geometry(self.kernel_shape, self.strides, self.dilations, tuple(pads), tuple(op))

    #: Layer's default says "no parameters"; the kernel mixin comes second in the bases, so name it here.
    parameter_shapes = KernelBlobs.parameter_shapes

    def reference_workspace(self, inputs: list[TensorType]) -> int:
        """An upper bound of the reference's GEMM of every tap with the zero-padded input
        (:func:`convertkit.reference.conv_transpose.conv_transpose`, general groups): taps x output channels x
        the padded input's rows, per image, in blocks of about ``_CHUNK_ELEMENTS`` elements (whole rows, plus the
        rows a block's taps reach beyond it); large for big kernels at small strides."""
        x = inputs[0]
        if self.group == x.shape[1] == self.out_channels:
            return 0  # depthwise: per-tap multiply-adds on the output's own size
        from ...reference.conv_transpose import _CHUNK_ELEMENTS

        geo = self.geometry(x.shape[2:])
        padded = [
            i + 2 * (d * (k - 1) + 1) for i, k, d in zip(x.shape[2:], geo.kernel_shape, geo.dilations, strict=True)
        ]
        taps = math.prod(geo.kernel_shape)
        row = math.prod(padded[1:])  # one padded row of the first spatial axis
        per_row = taps * self.out_channels * row
        rows = padded[0] if padded else 1
        # a block: as many rows as fit the chunk (at least one), and the rows its taps reach past it
        reach = -(-(geo.dilations[0] * (geo.kernel_shape[0] - 1) + 1) // geo.strides[0]) + 2 if padded else 1
        block_rows = min(rows, max(1, _CHUNK_ELEMENTS // max(1, per_row)) + reach)
        # the tap GEMM's block (a phase's sum of the same rows is smaller by the number of taps)
        return per_row * block_rows * (8 if x.dtype == "float64" else 4)

    def weight_shape(self, in_channels: int) -> tuple[int, ...]:
        return (in_channels, self.out_channels // self.group, *self.kernel_shape)

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        n = self.spatial_rank
        x = self.spatial_input(inputs, n, f"kernel_shape {list(self.kernel_shape)} needs")
        c = x.shape[1]
        if c % self.group:
            raise self.error(f"group must divide the input channels, but {self.group} does not divide {c}")
        if isinstance(self.weight, Values) and self.weight.array.shape[0] != c:
            raise self.error(
                f"weight shape must be (C, out_channels / group, *kernel_shape) with C = {c} input channels, "
                f"got {tuple(self.weight.array.shape)}"
            )
        geo = self.geometry(x.shape[2:])
        out = geo.output_spatial(x.shape[2:])
        if any(o < 1 for o in out):
            raise self.error(
                f"output size {list(out)} is not positive for input {list(x.shape[2:])} "
                f"(pads {list(geo.pads)} crop more than the scatter extent)"
            )
        return [TensorType((x.shape[0], self.out_channels, *out), x.dtype)]

    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        from ...reference.conv_transpose import conv_transpose_resolved

        (x,) = inputs
        geo = self.geometry(types[0].shape[2:])
        dtype = x.dtype
        y = conv_transpose_resolved(
            x,
            self.weight_array(types[0].shape[1], dtype),
            self.bias_array(dtype),
            strides=list(geo.strides),
            pads=list(geo.pads),
            dilations=list(geo.dilations),
            group=self.group,
            output_padding=list(geo.output_padding),
        )
        return [y]

    # -- spec -----------------------------------------------------------------------------------------------------
    def to_spec(self) -> dict[str, Any]:
        out = specfields.spec_of(self)
        # explicit pads are written as "pads"; a convention as "padding"
        out.pop("padding", None)
        if self.padding.convention == "explicit":
            assert self.padding.pads is not None
            if any(self.padding.pads):
                out["pads"] = list(self.padding.pads)
        else:
            out["padding"] = self.padding.to_spec()
        if self.blob_training:
            out["training"] = [t.to_spec() for t in self.blob_training]
        return out

    @classmethod
    def from_spec(cls, spec: dict[str, Any], base_dir: str) -> Deconvolution:
        name = spec["name"]
        if "pads" in spec and "padding" in spec:
            raise ValidationError(
                f"layer {name!r} (Deconvolution): give either pads (explicit) or padding (a convention), not both"
            )
        if "padding" in spec:
            padding = Padding.from_spec(spec["padding"])
        else:
            padding = Padding(pads=tuple(spec["pads"]) if "pads" in spec else None)
        layer: Deconvolution = specfields.from_fields(
            cls,
            {k: v for k, v in spec.items() if k not in ("pads", "training")},
            base_dir,
            padding=padding,
            training=tuple(BlobTraining.from_spec(t) for t in spec.get("training", ())),
        )
        return layer

    @classmethod
    def spec_schema(cls) -> dict[str, Any]:
        schema = specfields.schema_of(cls)
        schema["properties"]["pads"] = int_array_schema(0, min_items=2)
        schema["properties"]["training"] = {"type": "array", "items": BlobTraining.spec_schema(), "maxItems": 2}
        return schema

    # -- Caffe ----------------------------------------------------------------------------------------------------

    def diagonal_kernel(self, in_channels: int) -> np.ndarray | None:
        """For a full (group 1, C == out) layer whose weights are zero off the channel diagonal, the diagonal.

        That layer computes channel ``c`` from channel ``c`` alone: it is the grouped layer ``group = C`` with
        the diagonal as weights ``(C, 1, k...)`` (FCN's "surgery" bilinear weights are of this form).
        """
        if self.group != 1 or in_channels != self.out_channels or in_channels < 2:
            return None
        if isinstance(self.weight, Filler) and self.weight.type != "constant":
            return None
        w = self.weight_array(in_channels)
        idx = np.arange(in_channels)
        diagonal = w[idx, idx].copy()
        off = w.copy()
        off[idx, idx] = 0
        if np.any(off) or not np.any(diagonal):
            return None
        return diagonal

    # -- ONNX -----------------------------------------------------------------------------------------------------


def _training(self: Deconvolution) -> tuple[BlobTraining, ...]:
    return self.blob_training


# The attribute is set after the class is made: the dataclass owns the ``training`` keyword (an InitVar).
setattr(  # noqa: B010  (mypy cannot see an attribute assigned to the class)
    Deconvolution, "training", property(_training, doc="Compatibility name of :attr:`Deconvolution.blob_training`.")
)
