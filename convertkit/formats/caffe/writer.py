"""Caffe export: graph plumbing only — each layer kind writes its own Caffe layers through :class:`CaffeEmitter`.

The emitted net is ``layer { }`` text with one ``Input`` layer per graph input; every blob (weights, bias) goes
into a ``.caffemodel`` beside it, a ``NetParameter`` whose layers carry only ``name``, ``type`` and ``blobs`` (Caffe
and OpenCV copy trained blobs by layer name).  OpenCV returns a layer's *first* top when asked for a layer by name,
so every model output is made the first top of the layer that writes it (a ``Split`` copy is added otherwise).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ...errors import ConvertkitError, FormatError, UnsupportedError
from ...ir import Model
from .._names import NameAllocator
from .io import array_to_blob, format_prototxt, pb

__all__ = ["CaffeEmitter", "CaffeNet", "CaffeWarning", "to_caffe", "save_caffe", "DIALECTS"]

Dialect = Literal["bvlc", "pspnet"]
#: ``bvlc``: stock Caffe layers only.  ``pspnet``: also the PSPNet/DeepLab fork's ``Interp`` (bilinear,
#: aligned corners) for align-corners upsampling that stock layers cannot express.  The dialect decides for
#: upsamples built elsewhere; one read from an ``Interp`` (``Upsample.caffe_interp``) is written back as that
#: ``Interp`` in every dialect, as the user wrote it.
DIALECTS: tuple[str, ...] = ("bvlc", "pspnet")


class CaffeWarning(UserWarning):
    """Something the user should know about a Caffe conversion (zero-filled layers, weights left out...)."""


@dataclass
class CaffeNet:
    """An exported net: ``net`` (prototxt), ``weights`` (caffemodel) and which layer outputs each model output."""

    net: Any
    weights: Any
    output_layers: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def prototxt(self) -> str:
        return format_prototxt(self.net)


class CaffeEmitter:
    """Collects Caffe layers and their blobs while IR layers write themselves (``layer.to_caffe(ctx, types)``)."""

    def __init__(
        self, *, dialect: Dialect = "bvlc", with_weights: bool = True, warn: Callable[[str], None] | None = None
    ) -> None:
        if dialect not in DIALECTS:
            raise UnsupportedError(f"Caffe dialect must be one of {', '.join(DIALECTS)}, not {dialect!r}")
        self.dialect = dialect
        self.with_weights = with_weights
        self.net = pb.NetParameter()
        self.weights = pb.NetParameter()
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
        entry = self.weights.layer.add()
        entry.name = layer.name
        entry.type = layer.type
        for a in arrays:
            if not np.all(np.isfinite(a)):
                raise FormatError(f"layer {layer.name!r}: blob has non-finite values; Caffe cannot use them")
            entry.blobs.append(array_to_blob(a))

    @staticmethod
    def freeze(layer: Any, n_blobs: int) -> None:
        """``param { lr_mult: 0 decay_mult: 0 }`` per blob: Caffe training leaves the blobs as they are.

        For frozen layers that say nothing more; a layer with its own per-blob training writes that instead.
        """
        for _ in range(n_blobs):
            p = layer.param.add()
            p.lr_mult = 0
            p.decay_mult = 0


def to_caffe(
    model: Model, *, dialect: Dialect = "bvlc", with_weights: bool = True, warn: Callable[[str], None] | None = None
) -> CaffeNet:
    """Export ``model`` as a Caffe net and its weights, exactly, or raise naming the layer that cannot be."""
    ctx = CaffeEmitter(dialect=dialect, with_weights=with_weights, warn=warn)
    ctx.net.name = model.name
    ctx.weights.name = model.name
    ctx.reserve(list(model.types))
    ctx.reserve([layer.name for layer in model.layers])
    for value, t in model.types.items():
        if t.dtype != "float32":
            raise UnsupportedError(
                f"value {value!r} is {t.dtype}; Caffe nets compute in float32, so the export would not be exact "
                "— build the model in float32"
            )
    for layer in model.layers:
        hook = getattr(layer, "to_caffe", None)
        if hook is None:
            raise layer.error("has no Caffe form (no to_caffe hook)", UnsupportedError)
        try:
            hook(ctx, model.input_types(layer))
        except ConvertkitError:
            raise
        except (ValueError, TypeError) as exc:
            raise layer.error(f"Caffe export failed: {exc}", FormatError) from exc
    output_layers = {}
    for value in _outputs_to_copy(ctx.net, model):
        copy = ctx.fresh(f"{value}.out")
        ctx.add_layer(copy, "Split", [value], [copy])
        output_layers[value] = copy
    unread = _unread_blobs(ctx.net)  # not the Input layers' tops: an unread net input is no output
    copies = set(output_layers.values())
    dropped = [v for v in unread if v not in model.outputs and v not in copies]
    if dropped:
        # a blob no layer reads is a Caffe net output: Silence the ones the model does not declare
        ctx.add_layer(ctx.fresh("silence"), "Silence", dropped, [])
    for value in model.outputs:
        output_layers.setdefault(value, ctx.producer[value][0])
    return CaffeNet(ctx.net, ctx.weights, {o: output_layers[o] for o in model.outputs}, ctx.notes)


def _outputs_to_copy(net: Any, model: Model) -> list[str]:
    """The model outputs that get a ``Split`` copy ``X.out`` (read back as output ``X``), in the model's order.

    A Caffe net's outputs are the blobs no layer reads, in net order, and OpenCV returns a layer's first top only.
    An output needs a copy when it is not a first top, is a net input, or is read by another layer (Caffe would
    not see it as an output); when the outputs left uncopied would read back in another order, all get one.
    """
    read = {bottom for layer in net.layer for bottom in layer.bottom}
    first_top = {layer.top[0] for layer in net.layer if len(layer.top) and layer.type != "Input"}
    copied = [v for v in model.outputs if v not in first_top or v in read or v in model.inputs]
    kept = [v for v in _unread_blobs(net) if v in model.outputs and v not in copied]
    if kept + copied != list(model.outputs):
        return list(model.outputs)
    return copied


def _unread_blobs(net: Any) -> list[str]:
    """Blobs written by a (non-Input) layer and read by none, in net order: what Caffe takes as net outputs."""
    read = {bottom for layer in net.layer for bottom in layer.bottom}
    out: list[str] = []
    for layer in net.layer:
        for top in layer.top:
            if top not in read and layer.type != "Input" and top not in out:
                out.append(top)
    return out


def caffemodel_path(prototxt_path: str) -> str:
    return os.path.splitext(prototxt_path)[0] + ".caffemodel"


def save_caffe(
    model: Model,
    path: str,
    *,
    dialect: Dialect = "bvlc",
    with_weights: bool = True,
    warn: Callable[[str], None] | None = None,
) -> CaffeNet:
    """Write ``path`` (.prototxt) and, unless ``with_weights`` is false, the ``.caffemodel`` beside it."""
    exported = to_caffe(model, dialect=dialect, with_weights=with_weights, warn=warn)
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(exported.prototxt())
        if with_weights:
            with open(caffemodel_path(path), "wb") as f:
                f.write(exported.weights.SerializeToString())
    except OSError as exc:
        raise FormatError(f"cannot write {exc.filename or path!r}: {exc.strerror or exc}") from exc
    return exported
