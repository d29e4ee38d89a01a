"""The Caffe forks' ``BN`` layer as a :class:`BatchNorm`: one type string, two different layers.

**PSPNet / DeepLab** (hszhao/PSPNet ``src/caffe/layers/bn_layer.cpp`` @ c479f4fe, ``caffe.proto`` BNParameter):
four blobs of shape ``(1, C, 1, 1)`` — slope, bias, moving mean, moving variance — and at TEST (or ``frozen``)
Forward_cpu/gpu compute, in float32::

    y = ((x - mean) * pow(variance + eps, -0.5)) * slope + bias        (eps default 1e-5)

always from the stored statistics (``frozen_ || phase_ == TEST``), so it is deterministic.  A net without a
caffemodel starts from LayerSetUp's blobs: the slope and bias fillers (FillerParameter's default: constant 0),
mean 0 and variance ``frozen ? 1 : 0``.  ``momentum`` only steers training.

**SegNet / ENet** (alexgkendall/caffe-segnet ``src/caffe/layers/bn_layer.cpp`` @ 03d1e9f1; TimoSaemann's
caffe-segnet-cudnn5 has the same file): two blobs of shape ``(1, C, 1, 1)`` — scale and shift.  ``bn_mode:
INFERENCE`` computes ``y = x * scale + shift`` (a multiply, then an add).  ``bn_mode: LEARN`` (the default)
normalises with the batch's own mean and ``E(x^2) - E(x)^2`` variance (``var_eps_ = 1e-9``) whatever the phase —
the switch in Forward_cpu looks at the mode only — so its output depends on the batch and it is refused; SegNet's
``compute_bn_statistics.py`` folds the statistics into scale/shift and writes the INFERENCE net to convert.

Both are one ``BatchNorm`` in the IR, exactly:

- PSPNet: ``mean``, ``variance``, ``eps``, ``scale`` = slope, ``bias``; ``scale_factor`` 1.  convertkit's
  reference (like Caffe's stock BatchNorm) divides by ``sqrt(variance + eps)`` where the fork multiplies by
  ``pow(variance + eps, -0.5)``: the two differ by float32 rounding of the normaliser only (at most a few ulp
  of the normalised value; ``tests/test_fork_bn.py`` measures it).
- SegNet INFERENCE: ``mean`` 0, ``variance`` 1, ``eps`` 0, ``scale``, ``bias`` = shift: ``(x - 0) / sqrt(1 + 0)``
  is ``x`` bit for bit, so ``y = x * scale + shift`` in the fork's order.

The fork form (which fork, the bn_param fields as written, the ``param { }`` entries) is ``meta["caffe.fork_bn"]``
(:class:`ForkBN`): provenance for writing the layer back as that ``BN`` with ``--caffe-dialect pspnet`` /
``segnet``; every other export is the stock one (ONNX BatchNormalization, Caffe BatchNorm + Scale).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...codec.caffe import (
    CaffeEmitter,
    CaffeLayer,
    CaffeReader,
    filler_from_proto,
    filler_to_proto,
    pb,
)
from ...errors import FormatError
from ...fillers import FILLER_TYPES, Filler, Values, WeightSource
from ...ir import Layer, Meta, TensorType
from ..deconvolution.caffe import _training_from_caffe
from ..deconvolution.core import BlobTraining
from .core import BatchNorm

__all__ = ["FORK_BN", "ForkBN", "PSPNET", "SEGNET", "TYPES", "fork_form", "read", "write", "blobs"]

TYPES = ("BN",)
#: ``meta`` key: the fork ``BN`` the layer was read from (a :class:`ForkBN`).
FORK_BN = "caffe.fork_bn"
PSPNET, SEGNET = "pspnet", "segnet"
#: PSPNet's BNParameter eps default (float32).
PSPNET_EPS = float(np.float32(1e-5))
#: bn_param fields only one fork has (the union message in schemas/caffe.proto carries both forks' names).
_PSPNET_FIELDS = ("slope_filler", "bias_filler", "momentum", "eps", "frozen", "engine")
_SEGNET_FIELDS = ("scale_filler", "shift_filler", "bn_mode")
_BLOB_NAMES = {PSPNET: ("slope", "bias", "mean", "variance"), SEGNET: ("scale", "shift")}
_FILLERS = {PSPNET: ("slope_filler", "bias_filler"), SEGNET: ("scale_filler", "shift_filler")}


@dataclass(frozen=True, slots=True)
class ForkBN:
    """How a fork ``BN`` layer was written: ``fork`` (``"pspnet"`` or ``"segnet"``), its bn_param scalar fields
    as given (``momentum``, ``eps``, ``frozen``, ``engine``; ``bn_mode``), its fillers as given and its
    ``param { }`` entries.  None of it changes what the layer computes."""

    fork: str
    fields: tuple[tuple[str, Any], ...] = ()
    #: (bn_param field, its FillerParameter as written, serialized): written back as it was
    fillers: tuple[tuple[str, bytes], ...] = ()
    training: tuple[BlobTraining, ...] = ()

    def field(self, name: str, default: Any = None) -> Any:
        return dict(self.fields).get(name, default)


def _fork_of(source: CaffeLayer, ctx: CaffeReader, blobs: list[np.ndarray] | None) -> str:
    """Which fork's BN ``source`` is: by the bn_param fields it gives, else by its caffemodel blobs (4 or 2),
    else by its ``param { }`` count; PSPNet's (deterministic) when nothing tells, with a warning."""
    p, where = source.param.bn_param, source.where
    psp = [f for f in _PSPNET_FIELDS if p.HasField(f)]
    seg = [f for f in _SEGNET_FIELDS if p.HasField(f)]
    if psp and seg:
        raise source.error(
            f"bn_param mixes PSPNet's BN fields ({', '.join(psp)}) and SegNet's ({', '.join(seg)}); no fork has "
            "both — keep one fork's fields",
            FormatError,
        )
    by_fields = PSPNET if psp else SEGNET if seg else None
    by_blobs = None
    if blobs is not None:
        by_blobs = {4: PSPNET, 2: SEGNET}.get(len(blobs))
        if by_blobs is None:
            raise source.error(
                f"the caffemodel has {len(blobs)} blobs {[list(b.shape) for b in blobs]}; a BN has 4 (PSPNet: "
                "slope, bias, mean, variance) or 2 (SegNet: scale, shift)",
                FormatError,
            )
    if by_fields is not None and by_blobs is not None and by_fields != by_blobs:
        raise source.error(
            f"bn_param gives {by_fields}'s fields ({', '.join(psp or seg)}) but the caffemodel has {len(blobs or [])} "
            f"blobs, {by_blobs}'s BN; the prototxt and the caffemodel are of different nets",
            FormatError,
        )
    fork = by_fields or by_blobs
    if fork is not None:
        if by_fields is None:
            ctx.note(f"{where}: bn_param gives no fork's field; read as {fork}'s BN ({len(blobs or [])} blobs)")
        return fork
    n = len(source.param.param)
    reason = (
        f"{n} param {{ }} entries: only PSPNet's BN has more than 2 blobs"
        if n > 2
        else "nothing tells (no bn_param field, no caffemodel blobs); PSPNet's reads the stored statistics, SegNet's "
        "default bn_mode LEARN would normalise with batch statistics, which convertkit refuses"
    )
    ctx.warn(f"{where}: read as PSPNet's BN: {reason}")
    return PSPNET


def _filler(source: CaffeLayer, ctx: CaffeReader, field: str, blob: int) -> Filler:
    """A BN blob's filler, or FillerParameter's default (constant 0) when the field is absent."""
    p, where = source.param.bn_param, source.where
    if not p.HasField(field):
        ctx.warn(f"{where}: no {field}, so Caffe's default filler applies: constant 0 (give --weights)")
        return Filler(type="constant", value=0.0)
    fp = getattr(p, field)
    if fp.type in ("xavier", "msra"):
        # the fork's blob is (1, C, 1, 1): fan_in C, fan_out 1 — not what a (C,) vector's fans are
        raise source.error(
            f"{field} type {fp.type!r} scales by the (1, C, 1, 1) blob's fan, which convertkit's (C,) vector does "
            "not reproduce; give the trained blobs with --weights",
        )
    return filler_from_proto(fp, where, ctx.filler_seed(source.name, blob))


def read(source: CaffeLayer, ctx: CaffeReader) -> list[Layer]:
    """A fork ``BN`` (PSPNet's or SegNet's, told apart by :func:`_fork_of`) as one ``BatchNorm``."""
    source.expect_one_in_one_out()
    lp, where = source.param, source.where
    (x,) = source.in_types
    if not 2 <= len(x.shape) <= 4:
        # both forks index num/channels/height/width (Blob::LegacyShape: at most 4 axes)
        raise source.error(
            f"bottom has shape {list(x.shape)}; the fork's BN takes (N, C), (N, C, H) or (N, C, H, W) — reshape to "
            "4-D first"
        )
    c = x.shape[1]
    blobs = ctx.layer_blobs(lp.name)
    fork = _fork_of(source, ctx, blobs)
    p = lp.bn_param
    if fork == SEGNET and p.bn_mode != pb.BNParameter.INFERENCE:
        raise source.error(
            "bn_mode LEARN normalises with each batch's own mean and variance, at TEST too (caffe-segnet "
            "bn_layer.cpp: the mode, not the phase, decides), so the output depends on the batch; SegNet's "
            "compute_bn_statistics.py folds the statistics into scale/shift and writes bn_mode: INFERENCE — "
            "convert that prototxt and caffemodel"
        )
    names = _BLOB_NAMES[fork]
    training = _training_from_caffe(lp, where, len(names), ctx)
    if blobs is not None:
        if any(b.size != c for b in blobs):
            raise source.error(
                f"the caffemodel has blobs {[list(b.shape) for b in blobs]}; {fork}'s BN needs {', '.join(names)} "
                f"of shape [1, {c}, 1, 1] for input {list(x.shape)}",
                FormatError,
            )
        arrays: list[WeightSource] = [Values(array=np.ascontiguousarray(b.reshape(c), dtype=np.float32)) for b in blobs]
    else:
        if ctx.weights is not None:
            ctx.warn(f"{where}: the caffemodel has no blobs for this layer; using the prototxt's fillers")
        arrays = [_filler(source, ctx, f, i) for i, f in enumerate(_FILLERS[fork])]
        if fork == PSPNET:
            frozen = bool(p.frozen)
            # bn_layer.cpp LayerSetUp: mean 0, variance `frozen_ ? 1 : 0`
            arrays += [Filler(type="constant", value=0.0), Filler(type="constant", value=1.0 if frozen else 0.0)]
            ctx.warn(
                f"{where}: no statistics (no caffemodel blobs), so the fork's initial ones apply: mean 0, variance "
                f"{1 if frozen else 0} (frozen: {str(frozen).lower()}) (give --weights)"
            )
    given_fillers = tuple(
        (f, getattr(p, f).SerializeToString(deterministic=True)) for f in _FILLERS[fork] if p.HasField(f)
    )
    if fork == PSPNET:
        fields = tuple(
            (f, pb.BNParameter.Engine.Name(p.engine) if f == "engine" else getattr(p, f))
            for f in ("momentum", "eps", "frozen", "engine")
            if p.HasField(f)
        )
        scale, bias, mean, variance = arrays
        eps, scale_factor = float(p.eps), 1.0
    else:
        fields = (("bn_mode", "INFERENCE"),)
        scale, bias = arrays
        mean, variance = Filler(type="constant", value=0.0), Filler(type="constant", value=1.0)
        eps, scale_factor = 0.0, 1.0
    form = ForkBN(fork=fork, fields=fields, fillers=given_fillers, training=training)
    return [
        BatchNorm(
            name=lp.name,
            input=source.inputs[0],
            output=source.outputs[0],
            mean=mean,
            variance=variance,
            scale_factor=scale_factor,
            eps=eps,
            scale=scale,
            bias=bias,
            meta=Meta({FORK_BN: form}),
        )
    ]


def _is_constant(source: WeightSource | None, value: float) -> bool:
    if isinstance(source, Filler):
        return source.type == "constant" and source.value == value and not np.signbit(source.value)
    if isinstance(source, Values):
        return bool(np.all(source.array == value) and not np.any(np.signbit(source.array)))
    return False


def fork_form(layer: Layer, dialect: str) -> ForkBN | None:
    """The fork ``BN`` form ``layer`` is written in for Caffe ``dialect``: a BatchNorm read from that fork's BN
    whose numbers that BN still says exactly (else None: the stock BatchNorm + Scale)."""
    if not isinstance(layer, BatchNorm):
        return None
    form = layer.meta.get(FORK_BN)
    if not isinstance(form, ForkBN) or form.fork != dialect:
        return None
    if layer.scale is None or layer.bias is None or layer.scale_factor != 1:
        return None
    if form.fork == SEGNET and not (
        layer.eps == 0 and _is_constant(layer.mean, 0.0) and _is_constant(layer.variance, 1.0)
    ):
        return None
    return form


def _same_filler(source: WeightSource | None, written: bytes) -> bool:
    if not isinstance(source, Filler):
        return False
    fp = pb.FillerParameter.FromString(written)
    if fp.type not in FILLER_TYPES:
        return False
    read = filler_from_proto(fp, "", source.seed)
    return read == source


def _arrays(layer: BatchNorm, fork: str, c: int) -> list[np.ndarray]:
    scale = layer.scale_array(c)
    bias = layer.bias_array(c)
    assert scale is not None and bias is not None  # fork_form checked
    vectors = [scale, bias]
    if fork == PSPNET:
        vectors += [layer.mean.materialize((c,), np.float32), layer.variance.materialize((c,), np.float32)]
    # the fork's LayerSetUp makes every blob (1, C, 1, 1); Caffe copies a caffemodel's blobs only if shapes match
    return [v.reshape(1, c, 1, 1) for v in vectors]


def write(layer: BatchNorm, form: ForkBN, ctx: CaffeEmitter, types: list[TensorType]) -> None:
    """The fork's ``BN`` (``form.fork``): bn_param as it was read, the layer's blobs in the fork's order."""
    c = types[0].shape[1]
    proto = ctx.add_layer(layer.name, "BN", [layer.input], [layer.output])
    p = proto.bn_param
    given = dict(form.fillers)
    lost = []
    pairs = zip(_FILLERS[form.fork], _BLOB_NAMES[form.fork], (layer.scale, layer.bias), strict=False)
    for field, what, source in pairs:
        if isinstance(source, Values):
            lost.append(what)
        if field in given and (isinstance(source, Values) or _same_filler(source, given[field])):
            getattr(p, field).ParseFromString(given[field])  # as the user wrote it (Caffe fills, then loads)
        elif isinstance(source, Filler):
            filler_to_proto(source, getattr(p, field))
    if form.fork == PSPNET:
        for field, value in form.fields:
            if field == "engine":
                p.engine = pb.BNParameter.Engine.Value(value)
            elif field != "eps":
                setattr(p, field, value)
        if layer.eps != PSPNET_EPS or form.field("eps") is not None:
            p.eps = layer.eps
    else:
        p.bn_mode = pb.BNParameter.INFERENCE  # written always: the fork's default is LEARN
    ctx.add_training(proto, form.training)
    ctx.add_blobs(proto, _arrays(layer, form.fork, c))
    if ctx.with_weights:
        return
    if form.fork == PSPNET:
        initial = 1.0 if p.frozen else 0.0
        if not (_is_constant(layer.mean, 0.0) and _is_constant(layer.variance, initial)):
            lost.append("statistics")
    if lost:
        ctx.warn(
            f"layer {layer.name!r} (BN, {form.fork}): its {', '.join(lost)} are not what the prototxt alone gives, "
            "but no .caffemodel is written (--no-weights); the fork would start from the fillers"
            + (f" and mean 0, variance {1 if p.frozen else 0}" if form.fork == PSPNET else "")
        )


def blobs(layer: BatchNorm, source: CaffeLayer) -> list[np.ndarray]:
    """The blobs of the prototxt ``BN`` ``source`` from the layer read from it."""
    form = layer.meta.get(FORK_BN)
    fork = form.fork if isinstance(form, ForkBN) else PSPNET
    return _arrays(layer, fork, source.in_types[0].shape[1])


def opencv_refusal(source: CaffeLayer, rank: int | None) -> str | None:
    return (
        "OpenCV's Caffe reader has no BN layer (the PSPNet and SegNet forks' layer); the prototxt is what the fork "
        "runs — export with --caffe-dialect bvlc (BatchNorm + Scale) to check it in OpenCV, or check with --backend "
        "reference or onnxruntime"
    )
