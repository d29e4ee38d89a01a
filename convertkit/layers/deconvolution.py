"""``Deconvolution``: N-D transposed convolution (ONNX ConvTranspose, Caffe Deconvolution).

Everything about the kind lives here: fields and validation, the padding conventions users arrive with and their
normalisation to explicit pads (:meth:`Deconvolution.geometry`), the shape rule, the reference call, the spec
form and the ONNX lowering.

Fields use ONNX names: ``kernel_shape``, ``strides``, ``dilations``, ``group``, ``output_padding``; pads are
``(begin..., end...)``.  The weight blob has shape ``(C, out_channels / group, k...)``, the bias ``(out_channels,)``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from .. import shapes
from ..errors import ValidationError
from ..fillers import (
    Filler,
    Values,
    WeightSource,
    weight_source_from_spec,
    weight_source_schema,
    weight_source_to_spec,
)
from ..ir import Layer, TensorType, register_layer
from ._fields import NAME_SCHEMA, check_name, int_array_schema, int_tuple, is_int, layer_schema

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


@register_layer
@dataclass(frozen=True, slots=True, kw_only=True)
class Deconvolution(Layer):
    """Transposed convolution of ``input`` (N, C, spatial...) into ``output`` (N, out_channels, spatial'...).

    ``training`` keeps how a trainer treats each parameter blob (weights, then bias; fewer entries than blobs leave
    the rest at the trainer's defaults), as the user wrote it.  ``frozen`` says that no blob is trained: with
    ``training`` given it follows from it (every blob listed with ``lr_mult`` 0) and an explicit ``frozen=True``
    that contradicts it is refused; without ``training`` it is written to Caffe as ``param { lr_mult: 0
    decay_mult: 0 }`` per blob, so ``training`` that says exactly that is stored as ``()`` with ``frozen`` true
    (one form per meaning).  Neither changes inference.  ``bias`` defaults to zeros when ``bias_term`` is true.
    """

    kind: ClassVar[str] = "Deconvolution"
    onnx_op_types: ClassVar[tuple[str, ...]] = ("ConvTranspose",)
    #: Chains this kind's ONNX export writes (see :meth:`from_onnx_chain`), folded back into one layer on import.
    onnx_patterns: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("ConvTranspose", "Pad", "Slice", "Add"),
        ("ConvTranspose", "Pad", "Add"),
        ("ConvTranspose", "Pad", "Slice"),
        ("ConvTranspose", "Pad"),
    )
    name: str
    input: str
    output: str = ""
    out_channels: int
    kernel_shape: tuple[int, ...]
    strides: tuple[int, ...] | None = None
    dilations: tuple[int, ...] | None = None
    padding: Padding = field(default_factory=lambda: Padding(pads=None))
    output_padding: tuple[int, ...] | None = None
    group: int = 1
    bias_term: bool = True
    weight: WeightSource
    bias: WeightSource | None = None
    frozen: bool = False
    training: tuple[BlobTraining, ...] = ()

    def __post_init__(self) -> None:
        check_name(self.kind, self.name)
        check_name(self.kind, self.input, "input")
        set_ = object.__setattr__
        if not self.output:
            set_(self, "output", self.name)
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
        if not isinstance(self.weight, (Filler, Values)):
            raise self.error(f"weight must be a Filler or Values, got {type(self.weight).__name__}")
        if self.bias is not None and not isinstance(self.bias, (Filler, Values)):
            raise self.error(f"bias must be a Filler, Values or None, got {type(self.bias).__name__}")
        if isinstance(self.bias, Filler) and self.bias.type == "bilinear":
            raise self.error(
                "the bilinear filler fills kernels (C, M, k...); a bias (out_channels,) has no spatial axes"
            )
        if not self.bias_term and self.bias is not None:
            raise self.error("bias is given but bias_term is false; drop the bias or set bias_term true")
        if isinstance(self.bias, Values) and tuple(self.bias.array.shape) != (self.out_channels,):
            raise self.error(
                f"bias shape must be (out_channels,) = ({self.out_channels},), got {tuple(self.bias.array.shape)}"
            )
        self._check_training()
        if isinstance(self.weight, Values):
            w = self.weight.array.shape
            if len(w) != n + 2 or tuple(w[1:]) != (self.out_channels // self.group, *kernel):
                raise self.error(
                    f"weight shape must be (C, out_channels / group, *kernel_shape) = "
                    f"(C, {self.out_channels // self.group}, {', '.join(map(str, kernel))}), got {tuple(w)}"
                )

    @property
    def blob_names(self) -> tuple[str, ...]:
        """The parameter blobs in Caffe's order: ``("weights",)`` or ``("weights", "bias")``."""
        return ("weights", "bias") if self.bias_term else ("weights",)

    def _check_training(self) -> None:
        # frozen means "no blob trains": one truth.  With training given, frozen is derived from it (a blob
        # without an entry trains with lr_mult 1) and an explicit frozen=True that training contradicts is refused.
        where = f"layer {self.name!r} (Deconvolution)"
        if not isinstance(self.frozen, bool):
            raise self.error(f"frozen must be true or false, got {self.frozen!r}")
        if not isinstance(self.training, (tuple, list)):
            raise self.error(f"training must be a sequence of BlobTraining (weights, then bias), got {self.training!r}")
        blobs = self.blob_names
        if len(self.training) > len(blobs):
            raise self.error(
                f"training lists {len(self.training)} blobs, the layer has {len(blobs)} ({', '.join(blobs)}); "
                "drop the extra entries"
            )
        training = []
        for blob, t in zip(blobs, self.training, strict=False):
            if not isinstance(t, BlobTraining):
                raise self.error(f"training of the {blob} blob must be a BlobTraining, got {type(t).__name__}")
            training.append(t.check(where, blob))
        object.__setattr__(self, "training", tuple(training))
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
            object.__setattr__(self, "training", ())

    # -- graph facets -------------------------------------------------------------------------------------------
    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,)

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

    def weight_shape(self, in_channels: int) -> tuple[int, ...]:
        return (in_channels, self.out_channels // self.group, *self.kernel_shape)

    def weight_array(self, in_channels: int, dtype: Any = np.float32) -> np.ndarray:
        """The materialised weight blob ``(C, out_channels / group, k...)``."""
        return self.weight.materialize(self.weight_shape(in_channels), dtype)

    def bias_array(self, dtype: Any = np.float32) -> np.ndarray | None:
        """The materialised bias ``(out_channels,)``, or None without bias_term."""
        if not self.bias_term:
            return None
        if self.bias is None:
            return np.zeros((self.out_channels,), dtype=dtype)
        return self.bias.materialize((self.out_channels,), dtype)

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        (x,) = inputs
        n = self.spatial_rank
        if len(x.shape) != n + 2:
            raise self.error(
                f"input {self.input!r} has rank {len(x.shape)} {list(x.shape)}, but kernel_shape "
                f"{list(self.kernel_shape)} needs rank {n + 2} (N, C, {n} spatial)"
            )
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
        from ..reference.conv_transpose import conv_transpose_resolved

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
        n = self.spatial_rank
        out: dict[str, Any] = {"type": self.kind, "name": self.name, "input": self.input}
        if self.output != self.name:
            out["output"] = self.output
        out["out_channels"] = self.out_channels
        out["kernel_shape"] = list(self.kernel_shape)
        for fname, default in (("strides", 1), ("dilations", 1), ("output_padding", 0)):
            value = getattr(self, fname)
            if value != (default,) * n:
                out[fname] = list(value)
        if self.padding.convention == "explicit":
            assert self.padding.pads is not None
            if any(self.padding.pads):
                out["pads"] = list(self.padding.pads)
        else:
            out["padding"] = self.padding.to_spec()
        if self.group != 1:
            out["group"] = self.group
        if not self.bias_term:
            out["bias_term"] = False
        out["weight"] = weight_source_to_spec(self.weight)
        if self.bias is not None:
            out["bias"] = weight_source_to_spec(self.bias)
        if self.frozen:
            out["frozen"] = True
        if self.training:
            out["training"] = [t.to_spec() for t in self.training]
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
        return cls(
            name=name,
            input=spec["input"],
            output=spec.get("output", ""),
            out_channels=spec["out_channels"],
            kernel_shape=tuple(spec["kernel_shape"]),
            strides=tuple(spec["strides"]) if "strides" in spec else None,
            dilations=tuple(spec["dilations"]) if "dilations" in spec else None,
            output_padding=tuple(spec["output_padding"]) if "output_padding" in spec else None,
            padding=padding,
            group=spec.get("group", 1),
            bias_term=spec.get("bias_term", True),
            weight=weight_source_from_spec(spec["weight"], base_dir),
            bias=weight_source_from_spec(spec["bias"], base_dir) if "bias" in spec else None,
            frozen=spec.get("frozen", False),
            training=tuple(BlobTraining.from_spec(t) for t in spec.get("training", ())),
        )

    @classmethod
    def spec_schema(cls) -> dict[str, Any]:
        return layer_schema(
            cls.kind,
            {
                "input": True,
                "output": True,
                "out_channels": {"type": "integer", "minimum": 1},
                "kernel_shape": int_array_schema(1),
                "strides": int_array_schema(1),
                "dilations": int_array_schema(1),
                "output_padding": int_array_schema(0),
                "pads": int_array_schema(0, min_items=2),
                "padding": Padding.spec_schema(),
                "group": {"type": "integer", "minimum": 1},
                "bias_term": {"type": "boolean"},
                "weight": weight_source_schema(),
                "bias": weight_source_schema(),
                "frozen": {"type": "boolean"},
                "training": {"type": "array", "items": BlobTraining.spec_schema(), "maxItems": 2},
            },
            required=["input", "out_channels", "kernel_shape", "weight"],
        )

    # -- Caffe ----------------------------------------------------------------------------------------------------
    caffe_types: ClassVar[tuple[str, ...]] = ("Deconvolution",)

    def caffe_kernel(self, in_channels: int, geo: Geometry) -> tuple[np.ndarray, list[int], list[int], list[int]]:
        """The weight blob, kernel, pads and dilations of the exact Caffe form of this layer.

        Caffe crops ``pad`` rows at both ends of the scatter and has no output_padding.  This layer crops ``pb`` at
        the beginning and ``pe' = pe - output_padding`` at the end (negative: rows appended, bias only).  Where
        ``pb != pe'`` on an axis, the kernel is made dense there (dilation written out as zero taps) and
        zero-extended by ``|pb - pe'|`` taps at the end (``pb > pe'``) or the beginning, and ``pad = max(pb, pe')``:
        the zero taps add scatter rows that receive nothing but the bias, so cropping ``pad`` at both ends leaves
        exactly this layer's rows.  Exact for every geometry; the cost is a larger kernel.

        A dilated axis is always written dense (zero taps, dilation 1), even with symmetric crops: Caffe's
        ``dilation`` is exact in Caffe, but OpenCV's Caffe Deconvolution ignores it when sizing the output, so a
        prototxt with ``dilation`` would compute differently in the two runtimes.
        """
        n = self.spatial_rank
        weight = self.weight_array(in_channels)
        kernel, pads, dilations = list(geo.kernel_shape), [], list(geo.dilations)
        for a in range(n):
            pb, pe = geo.pads[a], geo.pads[n + a] - geo.output_padding[a]
            axis, d = 2 + a, dilations[a]
            if pb == pe and d == 1:
                pads.append(pb)
                continue
            if d > 1:
                dense_shape = list(weight.shape)
                dense_shape[axis] = d * (kernel[a] - 1) + 1
                dense = np.zeros(dense_shape, dtype=weight.dtype)
                index = [slice(None)] * weight.ndim
                index[axis] = slice(None, None, d)
                dense[tuple(index)] = weight
                weight = dense
            widths = [(0, 0)] * weight.ndim
            widths[axis] = (0, pb - pe) if pb > pe else (pe - pb, 0)
            weight = np.pad(weight, widths)
            kernel[a], dilations[a] = weight.shape[axis], 1
            pads.append(max(pb, pe))
        return weight, kernel, pads, dilations

    def to_caffe(self, ctx: Any, types: list[TensorType]) -> None:
        """One Caffe ``Deconvolution`` (exact for asymmetric pads and output_padding, see :meth:`caffe_kernel`)."""
        from ..formats.caffe.io import filler_to_proto, write_conv_geometry

        x = types[0]
        geo = self.geometry(x.shape[2:])
        weight, kernel, pads, dilations = self.caffe_kernel(x.shape[1], geo)
        reshaped = tuple(kernel) != tuple(geo.kernel_shape)
        layer = ctx.add_layer(self.name, "Deconvolution", [self.input], [self.output])
        cp = layer.convolution_param
        cp.num_output = self.out_channels
        if not self.bias_term:
            cp.bias_term = False
        write_conv_geometry(cp, kernel, geo.strides, pads, dilations)
        if self.group != 1:
            cp.group = self.group
        # Caffe's BilinearFiller accepts only 4-D square blobs (it CHECK-fails otherwise, even when a caffemodel
        # then overwrites the blob); any other bilinear kernel lives in the caffemodel only.
        caffe_fills = not (
            isinstance(self.weight, Filler)
            and self.weight.type == "bilinear"
            and (len(kernel) != 2 or kernel[0] != kernel[1])
        )
        if isinstance(self.weight, Filler) and not reshaped and caffe_fills:
            filler_to_proto(self.weight, cp.weight_filler)
        if isinstance(self.bias, Filler):
            filler_to_proto(self.bias, cp.bias_filler)
        if self.training:
            for t in self.training:
                spec = layer.param.add()
                if t.name is not None:
                    spec.name = t.name
                if t.lr_mult is not None:
                    spec.lr_mult = t.lr_mult
                if t.decay_mult is not None:
                    spec.decay_mult = t.decay_mult
        elif self.frozen:
            ctx.freeze(layer, len(self.blob_names))
        blobs = [weight]
        bias = self.bias_array()
        if bias is not None:
            blobs.append(bias)
        if not ctx.with_weights:
            lost = []
            if reshaped:
                lost.append("its kernel is zero-extended for the exact Caffe form, which no filler describes")
            elif not caffe_fills:
                lost.append("its bilinear kernel is not 2-D square, which Caffe's bilinear filler refuses")
            elif isinstance(self.weight, Values):
                lost.append("its weights are explicit values")
            elif isinstance(self.weight, Filler) and self._caffe_loses_seed(self.weight, 0):
                lost.append(
                    f"its weights come from a {self.weight.type} filler with seed {self.weight.seed}, "
                    "which Caffe's filler cannot carry"
                )
            if isinstance(self.bias, Values):
                lost.append("its bias is explicit values")
            elif isinstance(self.bias, Filler) and self._caffe_loses_seed(self.bias, 1):
                lost.append(
                    f"its bias comes from a {self.bias.type} filler with seed {self.bias.seed}, "
                    "which Caffe's filler cannot carry"
                )
            if lost:
                ctx.warn(
                    f"layer {self.name!r} (Deconvolution): {' and '.join(lost)}, but no .caffemodel is written "
                    "(--no-weights); Caffe would fill those blobs from the prototxt instead"
                )
        ctx.add_blobs(layer, blobs)

    def _caffe_loses_seed(self, source: Filler, blob: int) -> bool:
        """Whether ``source`` is a random filler whose values a prototxt alone does not give back.

        Caffe's FillerParameter has no seed: reading the prototxt draws with the reader's own seed for the blob,
        which is the same values only when the filler already had that seed (a layer read from a prototxt).
        """
        from ..formats.caffe.reader import filler_seed

        return source.type in _RANDOM_FILLERS and source.seed != filler_seed(self.name, blob)

    @classmethod
    def from_caffe(
        cls, lp: Any, ctx: Any, inputs: list[str], outputs: list[str], in_types: list[TensorType]
    ) -> list[Layer]:
        """A Caffe ``Deconvolution`` (weights from the caffemodel, else its fillers, else zeros or --fill-missing)."""
        from ..errors import FormatError, UnsupportedError
        from ..fillers import bilinear_kernel
        from ..formats.caffe.io import filler_from_proto, read_conv_geometry

        where = f"layer {lp.name!r} (Deconvolution)"
        if len(inputs) != 1 or len(outputs) != 1:
            raise UnsupportedError(
                f"{where}: has {len(inputs)} bottoms and {len(outputs)} tops; convertkit converts one of each"
            )
        cp = lp.convolution_param
        x = in_types[0]
        if cp.axis not in (1, 1 - len(x.shape)):
            raise UnsupportedError(f"{where}: convolution_param axis {cp.axis}; only the channel axis 1 is supported")
        if not cp.HasField("num_output"):
            raise FormatError(f"{where}: convolution_param needs num_output")
        n = len(x.shape) - 2
        kernel, strides, pads, dilations = read_conv_geometry(cp, n, where)
        c, m, g = x.shape[1], cp.num_output, cp.group
        if g < 1 or c % g or m % g:
            raise FormatError(f"{where}: group {g} must divide the input channels {c} and num_output {m}")
        weight_shape = (c, m // g, *kernel)
        blobs = ctx.layer_blobs(lp.name)
        bias: WeightSource | None = None
        if blobs is not None:
            expected = [weight_shape] + ([(m,)] if cp.bias_term else [])
            if len(blobs) != len(expected):
                raise FormatError(
                    f"{where}: the caffemodel holds {len(blobs)} blob(s), the layer needs {len(expected)} "
                    f"(weights {weight_shape}{f' and bias ({m},)' if cp.bias_term else ''})"
                )
            arrays = []
            for i, (blob, shape) in enumerate(zip(blobs, expected, strict=True)):
                what = "weights" if i == 0 else "bias"
                if blob.shape != shape and blob.size == int(np.prod(shape)) and (i == 1 or blob.ndim == len(shape)):
                    blob = blob.reshape(shape)  # legacy 4-D bias (1, 1, 1, M)
                if blob.shape != shape:
                    raise FormatError(
                        f"{where}: {what} blob in the caffemodel has shape {list(blob.shape)}, the layer needs "
                        f"{list(shape)} (C, num_output / group, kernel...) for input {list(x.shape)}"
                    )
                arrays.append(np.ascontiguousarray(blob, dtype=np.float32))
            weight: WeightSource = Values(array=arrays[0])
            if cp.bias_term:
                bias = Values(array=arrays[1])
        else:
            if ctx.weights is not None:
                ctx.warn(f"{where}: the caffemodel has no blobs for this layer; using the prototxt's fillers")
            if cp.HasField("weight_filler"):
                weight = filler_from_proto(cp.weight_filler, where, ctx.filler_seed(lp.name, 0))
            elif ctx.fill_missing == "bilinear":
                if g == 1 and c == m:
                    diagonal = np.zeros(weight_shape, dtype=np.float32)
                    diagonal[np.arange(c), np.arange(c)] = bilinear_kernel(tuple(kernel))
                    weight = Values(array=diagonal)
                else:
                    weight = Filler(type="bilinear")
                ctx.warn(f"{where}: no weights and no weight_filler; filled with bilinear kernels (--fill-missing)")
            else:
                weight = Filler(type="constant", value=0.0)
                ctx.warn(
                    f"{where}: no weights and no weight_filler, so Caffe's default applies: all zeros "
                    "(give --weights, or --fill-missing bilinear for FCN-style upsampling)"
                )
            if cp.bias_term and cp.HasField("bias_filler"):
                bias = filler_from_proto(cp.bias_filler, where, ctx.filler_seed(lp.name, 1))
        training = cls._training_from_caffe(lp, where, 2 if cp.bias_term else 1, ctx)
        layer = cls(
            name=lp.name,
            input=inputs[0],
            output=outputs[0],
            out_channels=m,
            kernel_shape=tuple(kernel),
            strides=tuple(strides),
            dilations=tuple(dilations),
            padding=Padding(convention="caffe", pad=tuple(pads)),
            group=g,
            bias_term=bool(cp.bias_term),
            weight=weight,
            bias=bias,
            training=training,
        )
        diagonal_kernel = layer.diagonal_kernel(c)
        if diagonal_kernel is not None:
            if ctx.compact:
                # FCN's surgery puts Caffe's bilinear kernel on the diagonal: then the grouped layer *is* the
                # bilinear filler (exactly, in float32) and is written back as such.
                bilinear = bilinear_kernel(tuple(kernel)).astype(np.float32)
                is_bilinear = bool(np.all(diagonal_kernel == bilinear))
                compact_weight: WeightSource = (
                    Filler(type="bilinear")
                    if is_bilinear
                    else Values(array=np.ascontiguousarray(diagonal_kernel[:, None]))
                )
                layer = dataclasses.replace(layer, group=m, weight=compact_weight)
                ctx.note(
                    f"{where}: diagonal weights of one kernel per channel emitted as group {m} (--compact)"
                    + ("; they are Caffe's bilinear kernel, written as the bilinear filler" if is_bilinear else "")
                )
            else:
                ctx.note(
                    f"{where}: the weights are a diagonal of per-channel kernels (FCN surgery); --compact emits the "
                    f"equivalent group {m} layer with {m}x fewer weights"
                )
        return [layer]

    @staticmethod
    def _training_from_caffe(lp: Any, where: str, n_blobs: int, ctx: Any) -> tuple[BlobTraining, ...]:
        """The layer's ``param { }`` entries as written (absent fields stay None, floats as the float32 read)."""
        params = list(lp.param)
        if len(params) > n_blobs:
            # Caffe's Net::Init refuses this ("Too many params specified"); old V1 nets wrote blobs_lr per blob
            # whatever bias_term said, so read the net and write a valid one.
            ctx.warn(
                f"{where}: {len(params)} param {{ }} entries for {n_blobs} blob(s) "
                f"(weights{' and bias' if n_blobs == 2 else ''}); the extra ones are dropped (Caffe refuses them)"
            )
            params = params[:n_blobs]

        def number(p: Any, fname: str) -> float | None:
            # proto floats are float32: keep the shortest decimal that reads back as the same float32 (0.1, not
            # 0.10000000149011612), so specs show what the user wrote.
            return float(str(np.float32(getattr(p, fname)))) if p.HasField(fname) else None

        if any(p.HasField("share_mode") for p in params):
            ctx.warn(f"{where}: param share_mode is not kept (convertkit keeps lr_mult, decay_mult and name)")
        return tuple(
            BlobTraining(
                lr_mult=number(p, "lr_mult"),
                decay_mult=number(p, "decay_mult"),
                name=p.name if p.HasField("name") else None,
            )
            for p in params
        )

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
    def to_onnx(self, ctx: Any, types: list[TensorType]) -> None:
        """Emit ``ConvTranspose`` with explicit pads (never auto_pad / output_shape).

        onnxruntime refuses ``output_padding >= stride``, and an output_padding that the end pad would crop again
        is redundant, so the end pad absorbs output_padding first (``pe' = pe - op`` when ``pe >= op``; exact:
        the appended rows are cropped again).  What is left is emitted as the attribute when it is < stride;
        otherwise the ConvTranspose runs without bias and without output_padding, a ``Pad`` appends the zero rows
        and an ``Add`` puts the bias on every row (the appended rows hold bias only, as in the definition).
        """
        x = types[0]
        geo = self.geometry(x.shape[2:])
        n = self.spatial_rank
        dtype = np.dtype(x.dtype)
        begin = list(geo.pads[:n])
        end = list(geo.pads[n:])
        attr_op, appended = [0] * n, [0] * n
        for a in range(n):
            absorbed = min(end[a], geo.output_padding[a])
            end[a] -= absorbed
            rest = geo.output_padding[a] - absorbed
            if rest < geo.strides[a]:
                attr_op[a] = rest
            else:
                appended[a] = rest
        weight = ctx.add_initializer(f"{self.name}.weight", self.weight_array(x.shape[1], dtype))
        bias = self.bias_array(dtype)
        attrs: dict[str, Any] = {
            "kernel_shape": list(geo.kernel_shape),
            "strides": list(geo.strides),
            "dilations": list(geo.dilations),
            "pads": begin + end,
            "group": self.group,
        }
        if any(attr_op):
            attrs["output_padding"] = attr_op
        if not any(appended):
            inputs = [self.input, weight]
            if bias is not None:
                inputs.append(ctx.add_initializer(f"{self.name}.bias", bias))
            ctx.add_node("ConvTranspose", inputs, [self.output], name=self.name, **attrs)
            return
        # On an appended axis the ConvTranspose keeps full - pb rows; when pb crops the whole scatter away
        # (only bias rows remain), keep one row and drop the surplus with a Slice after the Pad, because
        # onnxruntime refuses an empty ConvTranspose output.
        lead = [0] * n
        for a in range(n):
            if appended[a]:
                full = shapes.conv_transpose_full_size(
                    x.shape[2 + a], geo.kernel_shape[a], geo.strides[a], geo.dilations[a]
                )
                lead[a] = max(0, begin[a] - (full - 1))
                begin[a] -= lead[a]
        attrs["pads"] = begin + end
        value = ctx.fresh(f"{self.name}.unpadded")
        ctx.add_node("ConvTranspose", [self.input, weight], [value], name=self.name, **attrs)
        steps: list[tuple[str, Any]] = [("pad", appended)]
        if any(lead):
            steps.append(("slice", lead))
        if bias is not None:
            steps.append(("bias", bias))
        for k, (step, arg) in enumerate(steps):
            out = self.output if k == len(steps) - 1 else ctx.fresh(f"{self.name}.{step}")
            if step == "pad":
                amounts = np.array([0, 0] + [0] * n + [0, 0] + arg, dtype=np.int64)
                pad_init = ctx.add_initializer(f"{self.name}.output_padding", amounts)
                ctx.add_node("Pad", [value, pad_init], [out], name=f"{self.name}.output_padding", mode="constant")
            elif step == "slice":
                axes = [a for a in range(n) if arg[a]]
                ctx.add_node(
                    "Slice",
                    [
                        value,
                        ctx.add_initializer(f"{self.name}.crop_starts", np.array([arg[a] for a in axes], np.int64)),
                        ctx.add_initializer(f"{self.name}.crop_ends", np.full(len(axes), 2**62, np.int64)),
                        ctx.add_initializer(f"{self.name}.crop_axes", np.array([2 + a for a in axes], np.int64)),
                    ],
                    [out],
                    name=f"{self.name}.crop",
                )
            else:
                b = ctx.add_initializer(f"{self.name}.bias", arg.reshape((1, self.out_channels) + (1,) * n))
                ctx.add_node("Add", [value, b], [out], name=f"{self.name}.bias")
            value = out

    @classmethod
    def from_onnx(cls, node: Any) -> Deconvolution:
        """Build from an ONNX ``ConvTranspose`` node (``node``: :class:`convertkit.formats.onnx_import.OnnxNode`).

        The padding keeps the form the node uses: ``pads`` -> ``explicit``, ``auto_pad`` -> ``onnx_auto_pad``,
        ``output_shape`` -> ``onnx_output_shape``; :meth:`geometry` resolves them as onnxruntime does.  Warned
        (exact, but ONNX readers disagree): ``auto_pad`` SAME with ``output_padding`` (onnx shape inference adds
        output_padding to ``i * s``, onnxruntime does not), SAME where the effective kernel is shorter than the
        stride (shape inference says ``i * s``, onnxruntime the unpadded size), an odd total padding from
        ``output_shape`` (the extra pad goes to the beginning unless SAME_UPPER, per the ONNX text and onnxruntime;
        TensorFlow-style exporters mean the end), and ``pads`` given together with ``output_shape`` or SAME
        (ignored).  Refused: an ``output_shape`` with N and C, larger than the scatter by ``stride`` or more
        (onnxruntime rejects it), a ``kernel_shape`` that disagrees with W, and whatever the layer rules refuse.
        """
        x = node.input_type(0)
        w = node.constant(1, "the weight W")
        b = node.optional_constant(2, "the bias B")
        n = len(x.shape) - 2
        if n < 1 or w.ndim != n + 2:
            raise node.error(
                f"input X has shape {list(x.shape)} and W {list(w.shape)}; ConvTranspose needs X (N, C, spatial...) "
                "and W (C, M / group, kernel...) of the same rank >= 3",
                ValidationError,
            )
        if w.dtype.kind != "f":
            raise node.error(f"W has element type {w.dtype}; convertkit takes float weights", ValidationError)
        kernel = tuple(int(k) for k in node.attr("kernel_shape", w.shape[2:]))
        if kernel != tuple(w.shape[2:]):
            raise node.error(
                f"kernel_shape {list(kernel)} disagrees with the weight's spatial shape {list(w.shape[2:])}; "
                "drop kernel_shape or fix W",
                ValidationError,
            )
        strides = tuple(node.attr("strides", [1] * n))
        dilations = tuple(node.attr("dilations", [1] * n))
        output_padding = tuple(node.attr("output_padding", [0] * n))
        group = int(node.attr("group", 1))
        auto_pad = node.attr("auto_pad", "NOTSET")
        pads = node.attr("pads")
        output_shape = node.attr("output_shape")
        if auto_pad not in ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"):
            raise node.error(
                f"auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got {auto_pad!r}", ValidationError
            )
        for fname, value in (("strides", strides), ("dilations", dilations), ("output_padding", output_padding)):
            if len(value) != n:
                raise node.error(f"{fname} needs {n} values (one per spatial axis), got {list(value)}", ValidationError)
        k_eff = [shapes.effective_kernel(k, d) for k, d in zip(kernel, dilations, strict=True)]
        spatial = x.shape[2:]
        if output_shape is not None:
            output_shape = tuple(int(v) for v in output_shape)
            if len(output_shape) != n:
                raise node.error(
                    f"output_shape {list(output_shape)} must list the {n} spatial sizes only (onnx and onnxruntime "
                    f"both reject N and C in it); write output_shape={list(output_shape[-n:])}",
                    ValidationError,
                )
            if auto_pad == "VALID":
                raise node.error(
                    "auto_pad VALID (no padding) contradicts output_shape (padding chosen to reach it); drop one",
                    ValidationError,
                )
            if pads is not None and any(pads):
                node.warn(f"pads {list(pads)} are ignored because output_shape is given (ONNX text, onnxruntime)")
            for a in range(n):
                scatter = strides[a] * (spatial[a] - 1) + k_eff[a]
                total = scatter + output_padding[a] - output_shape[a]
                if output_shape[a] - scatter >= strides[a]:
                    # onnxruntime checks that the forward convolution maps output_shape back to the input size,
                    # which holds while output_shape < scatter + stride (measured, output_padding not counted).
                    raise node.error(
                        f"output_shape {output_shape[a]} on axis {a} exceeds the scatter extent {scatter} by "
                        f"{output_shape[a] - scatter} >= stride {strides[a]}: onnxruntime rejects this node (the "
                        "forward convolution of that size does not give the input size) and the ONNX text gives "
                        "negative pads no meaning; use output_padding or a Pad node",
                        ValidationError,
                    )
                if total > 0 and total % 2:
                    where = "end" if auto_pad == "SAME_UPPER" else "beginning"
                    node.warn(
                        f"output_shape {list(output_shape)} leaves an odd total padding {total} on axis {a}; the "
                        f"extra pad goes to the {where} (auto_pad {auto_pad}), as the ONNX text and onnxruntime "
                        "say — TensorFlow-style exporters mean the end; check the exported pads"
                    )
            padding = Padding(
                convention="onnx_output_shape",
                output_shape=output_shape,
                auto_pad=None if auto_pad == "NOTSET" else auto_pad,
            )
        elif auto_pad != "NOTSET":
            if pads is not None and any(pads):
                node.warn(f"pads {list(pads)} are ignored because auto_pad is {auto_pad} (ONNX text, onnxruntime)")
            if auto_pad != "VALID":
                if any(output_padding):
                    node.warn(
                        f"auto_pad {auto_pad} with output_padding {list(output_padding)}: onnxruntime gives "
                        f"{[i * s for i, s in zip(spatial, strides, strict=True)]} (input * stride, output_padding "
                        "absorbed into the pads), onnx shape inference adds output_padding; convertkit follows "
                        "onnxruntime"
                    )
                for a in range(n):
                    if strides[a] * (spatial[a] - 1) + output_padding[a] + k_eff[a] < spatial[a] * strides[a]:
                        node.warn(
                            f"auto_pad {auto_pad} on axis {a}: the effective kernel {k_eff[a]} is shorter than the "
                            f"stride {strides[a]}, so input * stride would need negative pads; onnxruntime (and "
                            "convertkit) return the unpadded size, onnx shape inference says input * stride"
                        )
            padding = Padding(convention="onnx_auto_pad", auto_pad=auto_pad)
        else:
            padding = Padding(pads=tuple(int(p) for p in pads) if pads is not None else None)
        return cls(
            name=node.name,
            input=node.value(0),
            output=node.output_names[0],
            out_channels=int(w.shape[1]) * group,
            kernel_shape=kernel,
            strides=strides,
            dilations=dilations,
            padding=padding,
            output_padding=output_padding,
            group=group,
            bias_term=b is not None,
            weight=Values(array=w),
            bias=Values(array=b) if b is not None else None,
        )

    @classmethod
    def from_onnx_chain(cls, chain: list[Any]) -> Deconvolution | None:
        """Fold what :meth:`to_onnx` writes for output_padding >= stride back into one layer, or None.

        ``chain`` (``onnx_import.OnnxNode`` views) is ``ConvTranspose`` (no bias) -> ``Pad`` (constant zeros at the
        end of spatial axes only) [-> ``Slice`` (start rows of spatial axes only, to the end)] [-> ``Add`` (a
        constant broadcast along the channels)].  It is one Deconvolution with ``output_padding`` + the appended
        rows, the crop added to the begin pads and the Add as bias, exactly, when the appended rows lie past the
        scatter (the ConvTranspose's end pad <= its output_padding) — zeros, then the bias, as in the definition.
        Anything else is not this pattern (None): its Pad or Add stays unsupported and is reported.
        """
        from .crop import onnx_slice_bounds

        head, pad = chain[0], chain[1]
        rest = chain[2:]
        if head.has_input(2) or pad.input_names[0] != head.output_names[0]:
            return None
        base = cls.from_onnx(head)
        x = head.input_type(0)
        n = base.spatial_rank
        geo = base.geometry(x.shape[2:])
        (conv_out,) = base.infer([x])
        amounts = onnx_constant_pads(pad, len(x.shape), "constant")
        if amounts is None:
            return None
        begin_pad, end_pad = amounts
        if any(begin_pad) or any(end_pad[:2]):
            return None
        appended = list(end_pad[2:])
        if any(p and e > op for p, e, op in zip(appended, geo.pads[n:], geo.output_padding, strict=True)):
            return None
        padded = (*conv_out.shape[:2], *(d + p for d, p in zip(conv_out.shape[2:], appended, strict=True)))
        lead, bias, value = [0] * n, None, pad.output_names[0]
        for node in rest:
            if node.op_type == "Slice":
                if node.input_names[0] != value:
                    return None
                bounds = onnx_slice_bounds(node, padded)
                if any(a < 2 or hi != padded[a] for a, (_, hi) in bounds.items()):
                    return None
                for a, (lo, _) in bounds.items():
                    lead[a - 2] = lo
            else:
                others = [k for k, v in enumerate(node.input_names) if v != value]
                if len(node.input_names) != 2 or len(others) != 1:
                    return None
                b = np.asarray(node.constant(others[0], "the bias"))
                bias = _channel_bias(b, x.dtype, base.out_channels, len(x.shape))
                if bias is None:
                    return None
            value = node.output_names[0]
        pads = tuple(p + lead_a for p, lead_a in zip(geo.pads[:n], lead, strict=True)) + tuple(geo.pads[n:])
        try:
            return dataclasses.replace(
                base,
                output=value,
                padding=Padding(pads=pads),
                output_padding=tuple(op + p for op, p in zip(geo.output_padding, appended, strict=True)),
                bias_term=bias is not None,
                bias=Values(array=bias) if bias is not None else None,
            )
        except ValidationError:
            return None


def _channel_bias(b: np.ndarray, dtype: str, channels: int, rank: int) -> np.ndarray | None:
    """``b`` as a ``(channels,)`` bias when adding it broadcasts along the channel axis only, else None."""
    if b.dtype != np.dtype(dtype) or b.ndim > rank:
        return None
    shape = (1,) * (rank - b.ndim) + b.shape
    if shape[0] != 1 or any(d != 1 for d in shape[2:]) or shape[1] not in (1, channels):
        return None
    return np.ascontiguousarray(np.broadcast_to(b.reshape(-1), (channels,)))


def onnx_constant_pads(node: Any, rank: int, mode: str) -> tuple[list[int], list[int]] | None:
    """``(begin, end)`` pads per axis of an ONNX ``Pad`` node in ``mode`` with constant pads (and, for mode
    constant, value +0), or None when the node is something else.  ``node`` is an ``onnx_import.OnnxNode``."""
    if node.attr("mode", "constant") != mode:
        return None
    if node.opset < 11:
        raw = np.asarray(node.attr("pads", []), dtype=np.int64)
        value = np.asarray(node.attr("value", 0.0))
        axes = list(range(rank))
    else:
        raw = np.asarray(node.constant(1, "pads")).astype(np.int64).ravel()
        given = node.optional_constant(2, "constant_value") if node.has_input(2) else None
        value = np.asarray(0.0 if given is None else given)
        given_axes = node.optional_constant(3, "axes") if node.has_input(3) else None
        axes = list(range(rank)) if given_axes is None else [int(a) % rank for a in np.asarray(given_axes).ravel()]
    if mode == "constant" and (value.size != 1 or float(value.ravel()[0]) != 0.0 or np.signbit(value.ravel()[0])):
        return None
    if len(raw) != 2 * len(axes) or len(set(axes)) != len(axes) or np.any(raw < 0):
        return None
    begin, end = [0] * rank, [0] * rank
    for k, a in enumerate(axes):
        begin[a], end[a] = int(raw[k]), int(raw[len(axes) + k])
    return begin, end
