"""Weight sources: Caffe-compatible fillers and explicit values.

A layer's weight (or bias) is a :class:`Filler` (materialised deterministically) or :class:`Values` (an array given
inline or loaded from a ``.npy`` file).  Random fillers draw from ``numpy.random.default_rng(seed)``, so a filler
with a seed always produces the same blob.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Literal, Union

import numpy as np
from numpy.typing import DTypeLike

from .errors import ValidationError

__all__ = [
    "FILLER_TYPES",
    "Filler",
    "Values",
    "WeightSource",
    "bilinear_kernel_1d",
    "bilinear_kernel",
    "materialize",
    "weight_source_schema",
    "weight_source_from_spec",
    "weight_source_to_spec",
]

FillerType = Literal["constant", "uniform", "gaussian", "xavier", "msra", "bilinear"]
FILLER_TYPES: tuple[str, ...] = ("constant", "uniform", "gaussian", "xavier", "msra", "bilinear")
VARIANCE_NORMS: tuple[str, ...] = ("FAN_IN", "FAN_OUT", "AVERAGE")


@dataclass(frozen=True, slots=True, kw_only=True)
class Filler:
    """A Caffe ``FillerParameter``: how to fill a blob without stored values.

    Defaults are Caffe's (``value 0``, ``min 0``, ``max 1``, ``mean 0``, ``std 1``, ``variance_norm FAN_IN``).
    ``seed`` makes the random fillers deterministic.
    """

    type: FillerType = "constant"
    value: float = 0.0
    min: float = 0.0
    max: float = 1.0
    mean: float = 0.0
    std: float = 1.0
    variance_norm: Literal["FAN_IN", "FAN_OUT", "AVERAGE"] = "FAN_IN"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("value", "min", "max", "mean", "std"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
                raise ValidationError(f"filler {name} must be a finite number, got {v!r}")
            object.__setattr__(self, name, float(v))
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValidationError(f"filler seed must be a non-negative integer, got {self.seed!r}")
        if self.type not in FILLER_TYPES:
            raise ValidationError(f"filler type must be one of {', '.join(FILLER_TYPES)}, not {self.type!r}")
        if self.variance_norm not in VARIANCE_NORMS:
            raise ValidationError(
                f"filler variance_norm must be one of {', '.join(VARIANCE_NORMS)}, not {self.variance_norm!r}"
            )
        if self.type == "uniform" and self.min > self.max:
            raise ValidationError(f"uniform filler needs min <= max, got min {self.min} > max {self.max}")
        if self.type == "gaussian" and self.std < 0:
            raise ValidationError(f"gaussian filler needs std >= 0, got {self.std}")

    def materialize(self, shape: tuple[int, ...], dtype: DTypeLike = np.float32) -> np.ndarray:
        """Return the filled blob of ``shape``."""
        return materialize(self, shape, dtype)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Values:
    """Explicit values for a blob.

    ``path`` remembers the ``.npy`` file they came from (absolute once loaded from a spec), so that a saved spec
    refers to the same file again, relative to wherever the spec is written.
    """

    array: np.ndarray
    path: str | None = field(default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.array, np.ndarray):
            object.__setattr__(self, "array", np.asarray(self.array, dtype=np.float32))
        if self.array.dtype.kind not in "fiu":
            raise ValidationError(f"values must be numeric, got dtype {self.array.dtype}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Values):
            return NotImplemented
        return self.array.shape == other.array.shape and bool(np.array_equal(self.array, other.array))

    def __hash__(self) -> int:
        return hash((self.array.shape, self.array.tobytes()))

    def materialize(self, shape: tuple[int, ...], dtype: DTypeLike = np.float32) -> np.ndarray:
        """Return the values as ``dtype``; the shape must already match."""
        if tuple(self.array.shape) != tuple(shape):
            raise ValidationError(f"values have shape {tuple(self.array.shape)}, expected {tuple(shape)}")
        return self.array.astype(dtype, copy=False)


WeightSource = Union[Filler, Values]  # noqa: UP007 (a runtime alias; `X | Y` needs 3.10 types)


def bilinear_kernel_1d(k: int) -> np.ndarray:
    """Caffe's current BilinearFiller along one axis, in float64.

    ``f = ceil(K / 2)``, ``c = (K - 1) / (2 f)``, ``w[x] = 1 - |x / f - c|``.
    """
    if k < 1:
        raise ValidationError(f"bilinear kernel size must be >= 1, got {k}")
    f = math.ceil(k / 2)
    c = (k - 1) / (2 * f)
    x = np.arange(k, dtype=np.float64)
    return 1.0 - np.abs(x / f - c)


def bilinear_kernel(kernel_shape: tuple[int, ...]) -> np.ndarray:
    """N-D bilinear kernel: the outer product of :func:`bilinear_kernel_1d` over the axes.

    For 2-D with ``kh == kw`` this is exactly Caffe's BilinearFiller
    (``(1 - |x/f - c|) * (1 - |y/f - c|)``); Caffe itself only fills 4-D square blobs, the N-D and non-square
    forms are the same separable product with each axis's own ``f`` and ``c``.
    """
    out = np.ones((), dtype=np.float64)
    for k in kernel_shape:
        out = np.multiply.outer(out, bilinear_kernel_1d(k))
    return out


def _fans(shape: tuple[int, ...]) -> tuple[float, float]:
    # Caffe: fan_in = count / shape(0), fan_out = count / shape(1).
    count = math.prod(shape)
    fan_in = count / shape[0] if shape and shape[0] else float(count)
    fan_out = count / shape[1] if len(shape) > 1 and shape[1] else float(count)
    return fan_in, fan_out


def _variance_n(filler: Filler, shape: tuple[int, ...]) -> float:
    fan_in, fan_out = _fans(shape)
    if filler.variance_norm == "FAN_OUT":
        return fan_out
    if filler.variance_norm == "AVERAGE":
        return (fan_in + fan_out) / 2.0
    return fan_in


def materialize(filler: Filler, shape: tuple[int, ...], dtype: DTypeLike = np.float32) -> np.ndarray:
    """Fill a blob of ``shape`` following Caffe's filler definitions.

    - constant: ``value`` everywhere.
    - uniform: U(min, max).   gaussian: N(mean, std).
    - xavier: U(-a, a), ``a = sqrt(3 / n)``;  msra: N(0, sqrt(2 / n));  ``n`` = fan_in (``count / shape[0]``),
      fan_out (``count / shape[1]``) or their mean, by ``variance_norm``.
    - bilinear: :func:`bilinear_kernel` over the trailing (spatial) axes, the same for every leading index pair.
    """
    shape = tuple(int(s) for s in shape)
    rng = np.random.default_rng(filler.seed)
    if filler.type == "constant":
        out = np.full(shape, filler.value, dtype=np.float64)
    elif filler.type == "uniform":
        out = rng.uniform(filler.min, filler.max, size=shape)
    elif filler.type == "gaussian":
        out = rng.normal(filler.mean, filler.std, size=shape)
    elif filler.type == "xavier":
        a = math.sqrt(3.0 / _variance_n(filler, shape))
        out = rng.uniform(-a, a, size=shape)
    elif filler.type == "msra":
        out = rng.normal(0.0, math.sqrt(2.0 / _variance_n(filler, shape)), size=shape)
    else:  # bilinear
        if len(shape) < 3:
            raise ValidationError(
                f"bilinear filler needs a blob with at least one spatial axis (C, M, k...), got shape {shape}"
            )
        out = np.broadcast_to(bilinear_kernel(shape[2:]), shape)
    return np.ascontiguousarray(out, dtype=dtype)


def weight_source_schema() -> dict:
    """JSON Schema of a weight source in a spec: a filler, inline values or a ``.npy`` path."""
    number = {"type": "number"}
    filler = {
        "type": "object",
        "properties": {
            "filler": {"enum": list(FILLER_TYPES)},
            "value": number,
            "min": number,
            "max": number,
            "mean": number,
            "std": {"type": "number", "minimum": 0},
            "variance_norm": {"enum": list(VARIANCE_NORMS)},
            "seed": {"type": "integer", "minimum": 0},
        },
        "required": ["filler"],
        "additionalProperties": False,
    }
    values = {
        "type": "object",
        "properties": {"values": {"$ref": "#/$defs/nested_numbers"}},
        "required": ["values"],
        "additionalProperties": False,
    }
    npy = {
        "type": "object",
        "properties": {"npy": {"type": "string", "minLength": 1}},
        "required": ["npy"],
        "additionalProperties": False,
    }
    return {"oneOf": [filler, values, npy]}


def weight_source_from_spec(spec: dict, base_dir: str) -> WeightSource:
    """Build a :class:`Filler` or :class:`Values` from its (schema-valid) spec dict."""

    if "filler" in spec:
        kwargs = {k: v for k, v in spec.items() if k != "filler"}
        return Filler(type=spec["filler"], **kwargs)
    if "values" in spec:
        try:
            array = np.asarray(spec["values"], dtype=np.float64)
        except ValueError as exc:
            raise ValidationError(f"values are not a rectangular nested list of numbers: {exc}") from exc
        _check_finite(array, "values")
        return Values(array=array)
    return Values(array=_read_npy(spec["npy"], base_dir), path=os.path.abspath(os.path.join(base_dir, spec["npy"])))


_NPY_MAGIC = b"\x93NUMPY"


def _check_finite(array: np.ndarray, what: str) -> None:
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))[0]
        value = array[tuple(bad)]
        raise ValidationError(
            f"{what}: element {list(map(int, bad))} is {value}; weights must be finite numbers (no runtime "
            "computes NaN or infinity the same way)"
        )


def _read_npy(path: str, base_dir: str) -> np.ndarray:
    """A weight array from a ``.npy`` file inside the spec's folder: float32 or float64, finite, no pickles."""
    import os

    from .errors import FormatError

    full = os.path.join(base_dir, path)
    root = os.path.realpath(base_dir)
    real = os.path.realpath(full)
    if os.path.commonpath([root, real]) != root:
        raise FormatError(
            f"weights path {path!r} points outside the spec's folder {base_dir!r}; a spec reads .npy files from its "
            "own folder or below (copy the file beside the spec)"
        )
    try:
        with open(full, "rb") as f:
            head = f.read(len(_NPY_MAGIC))
    except OSError as exc:
        raise FormatError(f"cannot read weights from {full!r}: {exc.strerror or exc}") from exc
    if head != _NPY_MAGIC:
        raise FormatError(f"{full!r} is not a .npy file (no NumPy header); save weights with numpy.save")
    try:
        array = np.load(full, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise FormatError(
                f"{full!r} holds Python objects (pickled data), which convertkit never loads; save a float array"
            ) from exc
        raise FormatError(f"cannot read weights from {full!r}: {exc}") from exc
    except OSError as exc:
        raise FormatError(f"cannot read weights from {full!r}: {exc}") from exc
    if array.dtype not in (np.float32, np.float64):
        raise FormatError(
            f"{full!r} holds {array.dtype} values; weights must be float32 or float64 "
            "(numpy.save(path, weights.astype(numpy.float32)))"
        )
    try:
        _check_finite(array, f"{full!r}")
    except ValidationError as exc:
        raise FormatError(str(exc)) from exc
    return array


def weight_source_to_spec(source: WeightSource) -> dict:
    """The spec dict of a weight source (inline values unless it came from a ``.npy`` file).

    A ``.npy`` reference is written with its absolute path here; :func:`convertkit.formats.spec.save_spec` makes
    it relative to the saved spec.
    """
    if isinstance(source, Filler):
        out: dict = {"filler": source.type}
        defaults = Filler()
        for name in ("value", "min", "max", "mean", "std", "variance_norm", "seed"):
            v = getattr(source, name)
            if v != getattr(defaults, name):
                out[name] = v
        return out
    if source.path is not None:
        return {"npy": source.path}
    sink = LARGE_VALUES_SINK.get()
    entry = None if sink is None else sink(source.array)
    if entry is not None:
        return {"npy": entry}
    return {"values": source.array.tolist()}


#: A spec written to a file keeps weights of at most this many values inline; larger ones go to ``.npy`` files
#: beside it (a JSON list of 1.8 M numbers is 40 MB and costs minutes to validate; the .npy is 7 MB, read at disk
#: speed).
INLINE_VALUES_MAX = 64

#: Set while :func:`convertkit.formats.spec.save_spec` builds a spec: takes an array of values, returns the
#: ``npy`` entry to write for it (the file is written with the spec) or None to write it inline.  Unset, every
#: value is written inline.
LARGE_VALUES_SINK: ContextVar[Callable[[np.ndarray], object] | None] = ContextVar(
    "convertkit_large_values", default=None
)
