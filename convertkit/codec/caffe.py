"""Caffe files and the contexts layer kinds read and write Caffe through; nothing here knows a layer kind.

- Files: prototxt text, .caffemodel binary, blobs <-> arrays, fillers <-> ``FillerParameter``, convolution
  geometry in Caffe's words — all on the generated messages of ``schemas/caffe.proto`` (:mod:`.caffe_pb2`).
- Contexts: :class:`CaffeEmitter` (what a kind's Caffe writer appends to), :class:`CaffeReader` (what a kind's
  Caffe reader sees of the whole read: weights, options, warnings) and :class:`CaffeLayer` (one layer being read).

The generated protobuf module is imported on first use (``pb.NetParameter``), so importing convertkit does not
load it.
"""

from __future__ import annotations

import importlib
import logging
import re
import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal, cast

import numpy as np

from ..errors import ConvertkitError, FormatError, UnsupportedError
from ..fillers import FILLER_TYPES, Filler
from ..ir import TensorType
from .files import read_text
from .names import NameAllocator


class _LazyModule:
    """A module imported on first attribute access."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


# The generated module builds its classes at import time, which static checkers cannot see.
pb: Any = _LazyModule(f"{__package__}.caffe_pb2")

__all__ = [
    "pb",
    "CaffeWarning",
    "CaffeEmitter",
    "CaffeReader",
    "CaffeLayer",
    "Dialect",
    "DIALECTS",
    "READ_DIALECTS",
    "FILL_MISSING",
    "filler_seed",
    "kernel_blobs",
    "UnknownField",
    "parse_prototxt",
    "read_prototxt",
    "read_prototxt_with_lines",
    "read_caffemodel",
    "format_prototxt",
    "blob_to_array",
    "array_to_blob",
    "filler_from_proto",
    "filler_to_proto",
    "V1_TYPE_NAMES",
]

#: Legacy ``V1LayerParameter.LayerType`` -> the ``type`` string of the current ``LayerParameter``.
V1_TYPE_NAMES: dict[str, str] = {
    "ABSVAL": "AbsVal",
    "ACCURACY": "Accuracy",
    "ARGMAX": "ArgMax",
    "BNLL": "BNLL",
    "CONCAT": "Concat",
    "CONTRASTIVE_LOSS": "ContrastiveLoss",
    "CONVOLUTION": "Convolution",
    "DATA": "Data",
    "DECONVOLUTION": "Deconvolution",
    "DROPOUT": "Dropout",
    "DUMMY_DATA": "DummyData",
    "EUCLIDEAN_LOSS": "EuclideanLoss",
    "ELTWISE": "Eltwise",
    "EXP": "Exp",
    "FLATTEN": "Flatten",
    "HDF5_DATA": "HDF5Data",
    "HDF5_OUTPUT": "HDF5Output",
    "HINGE_LOSS": "HingeLoss",
    "IM2COL": "Im2col",
    "IMAGE_DATA": "ImageData",
    "INFOGAIN_LOSS": "InfogainLoss",
    "INNER_PRODUCT": "InnerProduct",
    "LRN": "LRN",
    "MEMORY_DATA": "MemoryData",
    "MULTINOMIAL_LOGISTIC_LOSS": "MultinomialLogisticLoss",
    "MVN": "MVN",
    "POOLING": "Pooling",
    "POWER": "Power",
    "RELU": "ReLU",
    "SIGMOID": "Sigmoid",
    "SIGMOID_CROSS_ENTROPY_LOSS": "SigmoidCrossEntropyLoss",
    "SILENCE": "Silence",
    "SOFTMAX": "Softmax",
    "SOFTMAX_LOSS": "SoftmaxWithLoss",
    "SPLIT": "Split",
    "SLICE": "Slice",
    "TANH": "TanH",
    "WINDOW_DATA": "WindowData",
    "THRESHOLD": "Threshold",
}

# Fields V1 and current layers share by name (the parameter messages are the same types in both).
_V1_SHARED = ("name", "bottom", "top", "include", "exclude", "blobs", "loss_weight")
_V1_PARAMS = (
    "concat_param",
    "convolution_param",
    "dropout_param",
    "eltwise_param",
    "exp_param",
    "inner_product_param",
    "lrn_param",
    "pooling_param",
    "power_param",
    "relu_param",
    "slice_param",
    "threshold_param",
    "unpooling_param",
)


def _upgrade_v1(v1: Any) -> Any:
    """A ``V1LayerParameter`` as a current ``LayerParameter`` (what Caffe's UpgradeV1LayerParameter does)."""
    layer = pb.LayerParameter()
    for name in _V1_SHARED:
        value = getattr(v1, name)
        if name in ("name",):
            if v1.HasField(name):
                setattr(layer, name, value)
        else:
            getattr(layer, name).extend(value)
    enum_name = pb.V1LayerParameter.LayerType.Name(v1.type)
    layer.type = V1_TYPE_NAMES.get(enum_name, enum_name)
    for name in _V1_PARAMS:
        if v1.HasField(name):
            getattr(layer, name).CopyFrom(getattr(v1, name))
    for lr, decay in _zip_longest(list(v1.blobs_lr), list(v1.weight_decay)):
        spec = layer.param.add()
        if lr is not None:
            spec.lr_mult = lr
        if decay is not None:
            spec.decay_mult = decay
    return layer


def _zip_longest(a: list[float], b: list[float]) -> list[tuple[float | None, float | None]]:
    n = max(len(a), len(b))
    return [(a[i] if i < len(a) else None, b[i] if i < len(b) else None) for i in range(n)]


class _QuietTextFormat(logging.Filter):
    """text_format logs every unknown field it skips; the reader reports unsupported layers itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "has no field named" not in record.getMessage()


@dataclass(frozen=True)
class UnknownField:
    """A field the prototxt sets that ``caffe.proto`` lacks: protobuf's text parser skips it (``line`` from 1)."""

    message: str  # the message that lacks it, e.g. "ConvolutionParameter"
    name: str
    line: int

    def suggestion(self) -> str:
        """``did you mean 'stride'?`` when the message has a field of a close name, else ``""``."""
        import difflib

        descriptor = getattr(pb, self.message, None)
        known = [f.name for f in descriptor.DESCRIPTOR.fields] if descriptor is not None else []
        close = difflib.get_close_matches(self.name, known, n=1, cutoff=0.75)
        return f" (did you mean {close[0]!r}?)" if close else ""


def _recording_parser(found: list[UnknownField]) -> Any:
    """protobuf's text parser, skipping unknown fields but recording each one (its outermost name, not what its
    skipped value holds).  Falls back to the plain parser (nothing recorded) if protobuf's internals change."""
    from google.protobuf import text_format

    base = getattr(text_format, "_Parser", None)
    if base is None or not hasattr(base, "_SkipFieldContents"):
        return None

    class _Recording(base):  # type: ignore[misc, valid-type]
        depth = 0

        def _SkipFieldContents(self, tokenizer: Any, field_name: str, message_type: str) -> Any:  # noqa: N802
            if self.depth == 0:
                line = int(getattr(tokenizer, "_line", -1)) + 1
                found.append(UnknownField(message_type.rsplit(".", 1)[-1], field_name, line))
            self.depth += 1
            try:
                return super()._SkipFieldContents(tokenizer, field_name, message_type)
            finally:
                self.depth -= 1

    return _Recording(allow_unknown_field=True)


def parse_prototxt(text: str, source: str = "prototxt", unknown: list[UnknownField] | None = None) -> Any:
    """Parse prototxt text into a ``NetParameter``; V1 ``layers { }`` are upgraded into ``layer { }``.

    Unknown fields (parameters of layers convertkit does not model, fork extensions) are skipped: the reader
    reports such layers by type.  With ``unknown``, each skipped field is appended to it (the reader refuses one
    inside a layer it reads: a misspelt ``tride: 2`` must not read as stride 1).  Single-quoted strings and
    ``field: { ... }`` are standard text format.
    """
    from google.protobuf import text_format

    text, fork_types = _fork_v1_types(text)
    net = pb.NetParameter()
    log = logging.getLogger("google.protobuf.text_format")
    quiet = _QuietTextFormat()
    log.addFilter(quiet)
    parser = _recording_parser(unknown) if unknown is not None else None
    try:
        if parser is not None:
            parser.ParseLines(text.split("\n"), net)
        else:
            text_format.Parse(text, net, allow_unknown_field=True)
    except text_format.ParseError as exc:
        raise FormatError(f"{source}: not a Caffe prototxt: {exc}") from exc
    finally:
        log.removeFilter(quiet)
    if len(net.layers):
        if len(net.layer):
            raise FormatError(f"{source}: mixes legacy `layers {{ }}` (V1) and `layer {{ }}` entries")
        for index, v1 in enumerate(net.layers):
            layer = _upgrade_v1(v1)
            if index in fork_types:
                layer.type = fork_types[index]
            net.layer.append(layer)
        del net.layers[:]
    return net


#: V1 enums of Caffe forks that BVLC's ``caffe.proto`` lacks, by their current ``type`` names (the FCN-era fork's
#: ``CROP``); other unknown V1 enums become CamelCase type names (``MULTI_STAGE_MEANFIELD`` ->
#: ``MultiStageMeanfield``), which the reader then reports as unsupported with the rest.
V1_FORK_TYPE_NAMES: dict[str, str] = {"CROP": "Crop"}


def _fork_v1_types(text: str) -> tuple[str, dict[int, str]]:
    """``text`` with every V1 ``type:`` enum ``caffe.proto`` lacks replaced by ``NONE``, and V1 layer index ->
    the type name it stands for (so one read reports all of them, not the parser's first)."""
    from .prototxt_scan import scan_layers

    if "layers" not in text:
        return text, {}
    known = set(pb.V1LayerParameter.LayerType.keys())
    v1 = [p for p in scan_layers(text) if p.block == "layers"]
    found: dict[int, str] = {}
    pieces: list[str] = []
    at = 0
    for index, pos in enumerate(v1):
        token, span = pos.type_token, pos.type_span
        if token is None or span is None or token in known or not re.fullmatch(r"[A-Z][A-Z0-9_]*", token):
            continue
        found[index] = V1_FORK_TYPE_NAMES.get(token) or "".join(w.capitalize() for w in token.split("_"))
        pieces += [text[at : span[0]], "NONE"]
        at = span[1]
    return "".join(pieces) + text[at:], found


def read_prototxt(path: str) -> Any:
    def not_text(exc: UnicodeDecodeError) -> FormatError:
        return FormatError(f"{path!r} is not a text prototxt (a binary .caffemodel goes to --weights): {exc}")

    return parse_prototxt(read_text(path, not_text), path)


def read_prototxt_with_lines(path: str) -> tuple[Any, list[int], dict[int, list[UnknownField]]]:
    """:func:`read_prototxt`, the line of each layer of ``net.layer`` (its ``name:`` line) for messages, and the
    unknown fields by layer index (``-1``: outside any layer)."""
    from .prototxt_scan import scan_layers

    def not_text(exc: UnicodeDecodeError) -> FormatError:
        return FormatError(f"{path!r} is not a text prototxt (a binary .caffemodel goes to --weights): {exc}")

    text = read_text(path, not_text)
    unknown: list[UnknownField] = []
    net = parse_prototxt(text, path, unknown)
    positions = scan_layers(text)
    if len(positions) != len(net.layer):
        return net, [], {}
    starts = [p.line for p in positions]
    by_layer: dict[int, list[UnknownField]] = {}
    for u in unknown:
        index = max((i for i, start in enumerate(starts) if start <= u.line), default=-1)
        by_layer.setdefault(index, []).append(u)
    return net, [p.where for p in positions], by_layer


def read_caffemodel(path: str) -> Any:
    """Read a binary ``.caffemodel`` as a ``NetParameter`` (V1 ``layers`` upgraded)."""
    from google.protobuf.message import DecodeError

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise FormatError(f"cannot read {path!r}: {exc.strerror or exc}") from exc
    net = pb.NetParameter()
    try:
        net.ParseFromString(data)
    except DecodeError as exc:
        raise FormatError(f"{path!r} is not a binary Caffe NetParameter (.caffemodel): {exc}") from exc
    if len(net.layers):
        for v1 in net.layers:
            net.layer.append(_upgrade_v1(v1))
        del net.layers[:]
    return net


def format_prototxt(net: Any) -> str:
    from google.protobuf import text_format

    return text_format.MessageToString(net)


def blob_shape(blob: Any) -> tuple[int, ...]:
    """A blob's shape: ``shape.dim`` or, for legacy blobs, ``(num, channels, height, width)``."""
    if blob.HasField("shape"):
        return tuple(int(d) for d in blob.shape.dim)
    return (blob.num, blob.channels, blob.height, blob.width)


def blob_to_array(blob: Any, where: str) -> np.ndarray:
    """A ``BlobProto`` as a float32 array (``data``) or float64 (``double_data``)."""
    shape = blob_shape(blob)
    if len(blob.double_data):
        values = np.asarray(blob.double_data, dtype=np.float64)
    else:
        values = np.asarray(blob.data, dtype=np.float32)
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if values.size != count:
        raise FormatError(f"{where}: blob has {values.size} values, its shape {list(shape)} needs {count}")
    return values.reshape(shape)


def array_to_blob(array: np.ndarray) -> Any:
    """A float32 ``BlobProto`` with ``shape`` (Caffe nets compute in float32)."""
    blob = pb.BlobProto()
    blob.shape.dim.extend(int(d) for d in array.shape)
    blob.data.extend(np.ascontiguousarray(array, dtype=np.float32).ravel().tolist())
    return blob


_VARIANCE = {0: "FAN_IN", 1: "FAN_OUT", 2: "AVERAGE"}


def filler_from_proto(fp: Any, where: str, seed: int) -> Filler:
    """A ``FillerParameter`` as an IR :class:`Filler` (random fillers get ``seed``)."""
    if fp.type not in FILLER_TYPES:
        raise UnsupportedError(
            f"{where}: filler type {fp.type!r} is not supported (supported: {', '.join(FILLER_TYPES)}); "
            "give the weights with --weights"
        )
    if fp.type == "gaussian" and fp.sparse != -1:
        raise UnsupportedError(
            f"{where}: sparse gaussian filler (sparse {fp.sparse}) is not supported; give the weights with --weights"
        )
    return Filler(
        type=fp.type,
        value=fp.value,
        min=fp.min,
        max=fp.max,
        mean=fp.mean,
        std=fp.std,
        variance_norm=cast(Any, _VARIANCE[fp.variance_norm]),
        seed=seed if fp.type in ("uniform", "gaussian", "xavier", "msra") else 0,
    )


def filler_to_proto(filler: Filler, fp: Any) -> None:
    """Write ``filler`` into the ``FillerParameter`` ``fp`` (only fields that differ from Caffe's defaults)."""
    fp.type = filler.type
    defaults = Filler()
    for name in ("value", "min", "max", "mean", "std"):
        if getattr(filler, name) != getattr(defaults, name):
            setattr(fp, name, getattr(filler, name))
    if filler.variance_norm != "FAN_IN":
        fp.variance_norm = {v: k for k, v in _VARIANCE.items()}[filler.variance_norm]


def repeated_or_default(values: Sequence[int], n: int, default: int, what: str, where: str) -> tuple[int, ...]:
    """Caffe's repeated per-axis fields: none -> default, one -> every axis, n -> one per axis."""
    values = [int(v) for v in values]
    if not values:
        return (default,) * n
    if len(values) == 1:
        return (values[0],) * n
    if len(values) != n:
        raise FormatError(f"{where}: {what} has {len(values)} values; give 1 or one per spatial axis ({n})")
    return tuple(values)


def write_conv_geometry(
    cp: Any, kernel: Sequence[int], strides: Sequence[int], pads: Sequence[int], dilations: Sequence[int]
) -> None:
    """Fill a ``ConvolutionParameter``'s geometry in Caffe's own words.

    One value when every axis agrees (``kernel_size: 3``), ``kernel_h``/``kernel_w`` (and ``stride_h``...,
    ``pad_h``...) for a 2-D layer whose axes differ, one value per axis otherwise.  Defaults (stride 1, pad 0,
    dilation 1) are left out.
    """
    n = len(kernel)
    for base, values, default, repeated in (
        ("kernel", kernel, None, "kernel_size"),
        ("stride", strides, 1, "stride"),
        ("pad", pads, 0, "pad"),
        ("dilation", dilations, 1, "dilation"),
    ):
        values = [int(v) for v in values]
        if default is not None and all(v == default for v in values):
            continue
        if len(set(values)) == 1:
            getattr(cp, repeated).append(values[0])
        elif n == 2 and base != "dilation":
            setattr(cp, f"{base}_h", values[0])
            setattr(cp, f"{base}_w", values[1])
        else:
            getattr(cp, repeated).extend(values)


def read_conv_geometry(cp: Any, n: int, where: str) -> tuple[tuple[int, ...], ...]:
    """``(kernel, strides, pads, dilations)`` of a ``ConvolutionParameter`` for ``n`` spatial axes (Caffe's rules)."""
    if cp.HasField("kernel_h") or cp.HasField("kernel_w"):
        if n != 2 or len(cp.kernel_size) or not (cp.HasField("kernel_h") and cp.HasField("kernel_w")):
            raise FormatError(f"{where}: kernel_h and kernel_w go together, for 2-D only, without kernel_size")
        kernel: tuple[int, ...] = (cp.kernel_h, cp.kernel_w)
    else:
        if not len(cp.kernel_size):
            raise FormatError(f"{where}: convolution_param needs kernel_size (or kernel_h and kernel_w)")
        kernel = repeated_or_default(cp.kernel_size, n, 0, "kernel_size", where)
    if cp.HasField("stride_h") or cp.HasField("stride_w"):
        if n != 2 or len(cp.stride):
            raise FormatError(f"{where}: stride_h/stride_w are for 2-D only and exclude stride")
        strides: tuple[int, ...] = (
            cp.stride_h if cp.HasField("stride_h") else 1,
            cp.stride_w if cp.HasField("stride_w") else 1,
        )
    else:
        strides = repeated_or_default(cp.stride, n, 1, "stride", where)
    if cp.HasField("pad_h") or cp.HasField("pad_w"):
        if n != 2 or len(cp.pad):
            raise FormatError(f"{where}: pad_h/pad_w are for 2-D only and exclude pad")
        pads: tuple[int, ...] = (cp.pad_h, cp.pad_w)
    else:
        pads = repeated_or_default(cp.pad, n, 0, "pad", where)
    dilations = repeated_or_default(cp.dilation, n, 1, "dilation", where)
    for what, values, low in (("kernel", kernel, 1), ("stride", strides, 1), ("dilation", dilations, 1)):
        if any(v < low for v in values):
            raise FormatError(f"{where}: {what} must be >= {low}, got {list(values)}")
    return kernel, strides, pads, dilations


# ----------------------------------------------------------------------------------------------------------------
# Contexts of the kinds' Caffe facets
# ----------------------------------------------------------------------------------------------------------------


from ..errors import CaffeWarning  # noqa: E402, F401  (defined without dependencies; this module re-exports it)

Dialect = Literal["bvlc", "pspnet", "segnet"]
#: ``bvlc``: stock Caffe layers only.  ``pspnet``: also the PSPNet/DeepLab fork's ``Interp`` (bilinear,
#: aligned corners) for align-corners upsampling that stock layers cannot express.  The dialect decides for
#: upsamples built elsewhere; one read from an ``Interp`` is written back as that ``Interp`` in every dialect, as
#: the user wrote it.  ``pspnet`` / ``segnet``: a batch normalisation read from that fork's ``BN`` is written back
#: as that ``BN`` (in ``bvlc``, and for every other one, stock BatchNorm + Scale).
DIALECTS: tuple[str, ...] = ("bvlc", "pspnet", "segnet")
#: Dialects of the prototxt being read (``--caffe-dialect`` / ``load(..., dialect=)``; None: detect).  ``bvlc``,
#: ``pspnet`` and ``segnet``: a ``Crop`` without ``crop_param`` has BVLC's defaults (axis 2, offset 0).  ``fcn``:
#: the FCN-era fork (HED, CRF-as-RNN) computes its offsets from coordinate maps (:mod:`convertkit.coord_map`).
READ_DIALECTS: tuple[str, ...] = ("bvlc", "pspnet", "segnet", "fcn")
#: What a Deconvolution with neither weights nor a filler gets (``--fill-missing``).
FILL_MISSING: tuple[str, ...] = ("zeros", "bilinear")


def filler_seed(layer: str, blob: int, seed: int = 0) -> int:
    """The seed the reader gives a random filler of blob ``blob`` of ``layer`` (Caffe's fillers carry none)."""
    return zlib.crc32(f"{layer}/{blob}".encode(), seed & 0xFFFFFFFF)


class CaffeEmitter:
    """Collects Caffe layers and their blobs while IR layers write themselves (a kind's Caffe ``write``)."""

    def __init__(
        self, *, dialect: Dialect = "bvlc", with_weights: bool = True, warn: Callable[[str], None] | None = None
    ) -> None:
        if dialect not in DIALECTS:
            raise UnsupportedError(f"Caffe dialect must be one of {', '.join(DIALECTS)}, not {dialect!r}")
        self.dialect = dialect
        self.with_weights = with_weights
        self.net = pb.NetParameter()
        #: (layer name, type, float32 arrays) per layer with blobs, in net order: the caffemodel, written by
        #: :func:`~convertkit.codec.caffemodel.write_caffemodel` straight from the arrays (no protobuf copy)
        self.blob_layers: list[tuple[str, str, list[np.ndarray]]] = []
        self.producer: dict[str, tuple[str, int]] = {}
        self._warn = warn or (lambda m: warnings.warn(m, CaffeWarning, stacklevel=4))
        self._names = NameAllocator()
        self.notes: list[str] = []

    def reserve(self, names: list[str]) -> None:
        self._names.reserve(names)

    def fresh(self, hint: str) -> str:
        """A layer/blob name not used anywhere in the net."""
        return self._names.fresh(hint)

    def warn(self, message: str) -> None:
        self.notes.append(message)
        self._warn(message)

    def add_layer(self, name: str, type_: str, bottoms: list[str], tops: list[str]) -> Any:
        """Append a ``layer { }``; returns the ``LayerParameter`` to fill in."""
        layer = self.net.layer.add()
        layer.name = name
        layer.type = type_
        layer.bottom.extend(bottoms)
        layer.top.extend(tops)
        self._names.reserve([name, *tops])
        for i, top in enumerate(tops):
            self.producer[top] = (name, i)
        return layer

    def add_blobs(self, layer: Any, arrays: list[np.ndarray]) -> None:
        """Record ``layer``'s blobs (weights first, then bias) for the caffemodel."""
        if not self.with_weights:
            return
        blobs = []
        for a in arrays:
            if not np.all(np.isfinite(a)):
                raise FormatError(f"layer {layer.name!r}: blob has non-finite values; Caffe cannot use them")
            blobs.append(np.ascontiguousarray(a, dtype=np.float32))
        self.blob_layers.append((layer.name, layer.type, blobs))

    @staticmethod
    def add_training(layer: Any, training: Sequence[Any]) -> None:
        """One ``param { }`` per blob from ``training`` (each with ``name``, ``lr_mult``, ``decay_mult``, None for
        unset): how a Caffe trainer treats the blobs, written back as the source said it."""
        for t in training:
            spec = layer.param.add()
            if t.name is not None:
                spec.name = t.name
            if t.lr_mult is not None:
                spec.lr_mult = t.lr_mult
            if t.decay_mult is not None:
                spec.decay_mult = t.decay_mult

    @staticmethod
    def freeze(layer: Any, n_blobs: int) -> None:
        """``param { lr_mult: 0 decay_mult: 0 }`` per blob: Caffe training leaves the blobs as they are.

        For frozen layers that say nothing more; a layer with its own per-blob training writes that instead.
        """
        for _ in range(n_blobs):
            p = layer.param.add()
            p.lr_mult = 0
            p.decay_mult = 0


class CaffeReader:
    """What a kind's Caffe reader sees of the whole read: the caffemodel's blobs, the options, warnings."""

    def __init__(
        self,
        *,
        weights: Mapping[str, list[np.ndarray]] | None,
        fill_missing: str,
        seed: int,
        compact: bool,
        warn: Callable[[str], None] | None,
        dialect: str | None = None,
    ) -> None:
        if fill_missing not in FILL_MISSING:
            raise FormatError(f"--fill-missing must be one of {', '.join(FILL_MISSING)}, not {fill_missing!r}")
        if dialect is not None and dialect not in READ_DIALECTS:
            raise FormatError(
                f"the Caffe dialect to read must be one of {', '.join(READ_DIALECTS)} (or none: detect), not "
                f"{dialect!r}"
            )
        #: the dialect of the prototxt (:data:`READ_DIALECTS`; None: detect from the net)
        self.dialect = dialect
        #: IR value -> the IR layer already read that writes it, and value -> its type (the reader fills both as
        #: it goes, so a kind may look upstream: the fork's Crop computes its offsets from coordinate maps)
        self.producers: dict[str, Any] = {}
        self.value_types: dict[str, TensorType] = {}
        self.weights = weights
        self.fill_missing = None if fill_missing == "zeros" else fill_missing
        self.seed = seed
        self.compact = compact
        self.notes: list[str] = []
        self._warn = warn or (lambda m: warnings.warn(m, CaffeWarning, stacklevel=4))

    def layer_blobs(self, name: str) -> list[np.ndarray] | None:
        """The caffemodel's blobs of layer ``name`` (None: no caffemodel, or it has no blobs for the layer)."""
        if self.weights is None:
            return None
        return self.weights.get(name)

    def filler_seed(self, layer: str, blob: int) -> int:
        """The seed of blob ``blob`` of ``layer``: from ``--seed``, but different for every blob of the net."""
        return filler_seed(layer, blob, self.seed)

    def warn(self, message: str) -> None:
        self.notes.append(message)
        self._warn(message)

    def note(self, message: str) -> None:
        """Information the user should see (printed like a warning by the CLI)."""
        self.warn(message)


@dataclass
class CaffeLayer:
    """One Caffe layer as a kind's Caffe reader sees it: the ``LayerParameter`` and its wired, typed blobs.

    ``inputs``/``outputs`` are the IR value names of the bottoms/tops (in-place layers get fresh value names);
    ``in_types`` the bottoms' types.
    """

    param: Any = field(repr=False)
    inputs: list[str]
    outputs: list[str]
    in_types: list[TensorType]

    @property
    def name(self) -> str:
        return str(self.param.name)

    @property
    def layer_type(self) -> str:
        return str(self.param.type)

    @property
    def where(self) -> str:
        return f"layer {self.name!r} ({self.layer_type})"

    def error(self, message: str, cls: type[ConvertkitError] = UnsupportedError) -> ConvertkitError:
        """An error about this layer: ``layer 'NAME' (Type): message``."""
        return cls(f"{self.where}: {message}")

    def expect_one_in_one_out(self) -> None:
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            raise self.error(
                f"has {len(self.inputs)} bottoms and {len(self.outputs)} tops; convertkit converts one of each"
            )


def kernel_fillers(ctx: CaffeReader, name: str, param: Any, where: str, bias_term: bool) -> tuple[Any, Any]:
    """``(weight, bias)`` of a layer with no caffemodel blobs: its ``weight_filler`` / ``bias_filler`` (seeded per
    blob), or Caffe's default for a missing weight filler, all zeros, with a warning (bias None: zeros)."""
    if ctx.weights is not None:
        ctx.warn(f"{where}: the caffemodel has no blobs for this layer; using the prototxt's fillers")
    if param.HasField("weight_filler"):
        weight = filler_from_proto(param.weight_filler, where, ctx.filler_seed(name, 0))
    else:
        weight = Filler(type="constant", value=0.0)
        ctx.warn(f"{where}: no weights and no weight_filler, so Caffe's default applies: all zeros (give --weights)")
    bias = None
    if bias_term and param.HasField("bias_filler"):
        bias = filler_from_proto(param.bias_filler, where, ctx.filler_seed(name, 1))
    return weight, bias


def kernel_blobs(
    source: CaffeLayer, blobs: list[np.ndarray], weight_shape: tuple[int, ...], bias: bool, layout: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """The caffemodel's weight (and bias) blobs of a convolution-like layer, checked against the shapes it needs.

    ``layout`` names the weight axes for the message; a legacy 4-D bias ``(1, 1, 1, M)`` is reshaped.
    """
    m = source.param.convolution_param.num_output
    expected = [weight_shape] + ([(m,)] if bias else [])
    if len(blobs) != len(expected):
        raise source.error(
            f"the caffemodel holds {len(blobs)} blob(s), the layer needs {len(expected)} "
            f"(weights {weight_shape}{f' and bias ({m},)' if bias else ''})",
            FormatError,
        )
    arrays = []
    for i, (blob, shape) in enumerate(zip(blobs, expected, strict=True)):
        if blob.shape != shape and blob.size == int(np.prod(shape)) and (i == 1 or blob.ndim == len(shape)):
            blob = blob.reshape(shape)  # legacy 4-D bias (1, 1, 1, M)
        if blob.shape != shape:
            raise source.error(
                f"{'weights' if i == 0 else 'bias'} blob in the caffemodel has shape {list(blob.shape)}, the layer "
                f"needs {list(shape)} {layout} for input {list(source.in_types[0].shape)}",
                FormatError,
            )
        arrays.append(np.ascontiguousarray(blob, dtype=np.float32))
    return arrays[0], arrays[1] if bias else None
