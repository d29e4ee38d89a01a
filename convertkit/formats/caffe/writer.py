"""Caffe export: graph plumbing only — each layer kind's Caffe facet writes its layers through :class:`CaffeEmitter`.

The emitted net is ``layer { }`` text with one ``Input`` layer per graph input; every blob (weights, bias) goes
into a ``.caffemodel`` beside it, a ``NetParameter`` whose layers carry only ``name``, ``type`` and ``blobs`` (Caffe
and OpenCV copy trained blobs by layer name).  OpenCV returns a layer's *first* top when asked for a layer by name,
so every model output is made the first top of the layer that writes it (a ``Split`` copy is added otherwise).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ... import layers as _layers  # noqa: F401  (registers the layer kinds)
from ... import progress
from ...budget import require
from ...codec.caffe import DIALECTS, CaffeEmitter, CaffeWarning, Dialect, format_prototxt
from ...codec.files import Content, write_atomically
from ...errors import UnsupportedError
from ...ir import Model
from ...passes import ExportOptions, lower
from ...registry import write_layers

__all__ = ["CaffeEmitter", "CaffeNet", "CaffeWarning", "to_caffe", "save_caffe", "DIALECTS"]


@dataclass
class CaffeNet:
    """An exported net: ``net`` (prototxt), ``blob_layers`` (the caffemodel's layers as (name, type, float32
    arrays)) and which layer outputs each model output; ``weights`` builds the caffemodel's ``NetParameter``."""

    net: Any
    blob_layers: list[tuple[str, str, list[Any]]]
    output_layers: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def weights(self) -> Any:
        """The caffemodel as a ``NetParameter`` (built on demand: :func:`save_caffe` streams the arrays instead)."""
        from ...codec.caffe import array_to_blob, pb

        weights = pb.NetParameter()
        weights.name = self.net.name
        for name, type_, arrays in self.blob_layers:
            entry = weights.layer.add()
            entry.name, entry.type = name, type_
            entry.blobs.extend(array_to_blob(a) for a in arrays)
        return weights

    def write_caffemodel(self, f: BinaryIO, progress: Callable[[int], None] | None = None) -> None:
        """Write the caffemodel to ``f`` layer by layer, each blob straight from its array."""
        from ...codec.caffemodel import write_caffemodel

        write_caffemodel(f, self.net.name, self.blob_layers, progress)

    def prototxt(self) -> str:
        return format_prototxt(self.net)


def to_caffe(
    model: Model, *, dialect: Dialect = "bvlc", with_weights: bool = True, warn: Callable[[str], None] | None = None
) -> CaffeNet:
    """Export ``model`` as a Caffe net and its weights, exactly, or raise naming the layer that cannot be."""
    ctx = CaffeEmitter(dialect=dialect, with_weights=with_weights, warn=warn)
    model = lower(model, ExportOptions(target="caffe", dialect=dialect))
    if with_weights:
        require(model, "export")
    ctx.net.name = model.name
    ctx.reserve(list(model.types))
    ctx.reserve([layer.name for layer in model.layers])
    for value, t in model.types.items():
        if t.dtype != "float32":
            raise UnsupportedError(
                f"value {value!r} is {t.dtype}; Caffe nets compute in float32, so the export would not be exact "
                "— build the model in float32"
            )
    write_layers(model, ctx)
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
    return CaffeNet(ctx.net, ctx.blob_layers, {o: output_layers[o] for o in model.outputs}, ctx.notes)


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
    files: dict[str, Content] = {path: exported.prototxt()}
    total = sum(a.size * 4 for _, _, arrays in exported.blob_layers for a in arrays) if with_weights else 0
    with progress.bar(total, f"writing {os.path.basename(caffemodel_path(path))}") as update:
        if with_weights:
            files[caffemodel_path(path)] = lambda f: exported.write_caffemodel(f, update)
        write_atomically(files)
    return exported
