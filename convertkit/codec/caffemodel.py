"""A ``.caffemodel`` (a binary ``NetParameter``) read and written one layer at a time.

FCN-8s has 134 M parameters (537 MB): parsing the whole ``NetParameter`` and then copying every blob to NumPy
holds the file two or three times over.  Here each layer (``layer`` field 100, V1 ``layers`` field 2) is walked on
the wire: its blobs' packed ``data`` / ``double_data`` go straight from the file into NumPy arrays, everything
else of the layer (a few bytes: name, type...) is parsed by protobuf.  Writing is the mirror image, and gives the
same bytes protobuf's ``SerializeToString`` gives for the same message (fields in number order).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

import numpy as np

from .. import progress
from ..errors import FormatError
from .wire import I32, I64, LEN, VARINT, WireReader, len_field_header, tag, varint

__all__ = ["iter_caffemodel_layers", "write_caffemodel", "caffemodel_layer_sizes"]

_LAYER, _V1_LAYERS = 100, 2  # NetParameter.layer, NetParameter.layers (V1)
_BLOBS = {_LAYER: 7, _V1_LAYERS: 6}  # LayerParameter.blobs, V1LayerParameter.blobs


def _blob(r: WireReader) -> tuple[np.ndarray, tuple[int, ...]]:
    """One ``BlobProto`` (``r`` bounded by it) as an array: ``double_data`` if any, else ``data``; its shape."""
    legacy = {1: 0, 2: 0, 3: 0, 4: 0}  # num, channels, height, width
    shape: list[int] | None = None
    floats: list[np.ndarray] = []
    doubles: list[np.ndarray] = []
    while not r.at_end():
        field, wt = r.key()
        if field in (5, 8):  # data (float), double_data (double): packed, or one value per field
            size, chunks = (4, floats) if field == 5 else (8, doubles)
            if wt == LEN:
                chunks.append(r.read_array(r.length(), "f4" if size == 4 else "f8"))
            elif wt == (I32 if size == 4 else I64):
                chunks.append(np.frombuffer(r.read(size), "<f4" if size == 4 else "<f8").copy())
            else:
                raise FormatError(f"{r.source!r}: a blob's field {field} has wire type {wt}")
        elif field == 7 and wt == LEN:  # shape: BlobShape { repeated int64 dim = 1 [packed] }
            inner = r.sub(r.length())
            dims: list[int] = [] if shape is None else shape
            while not inner.at_end():
                f2, wt2 = inner.key()
                if f2 == 1 and wt2 == LEN:
                    packed = inner.sub(inner.length())
                    while not packed.at_end():
                        dims.append(_int64(packed.varint()))
                    inner.done(packed)
                elif f2 == 1 and wt2 == VARINT:
                    dims.append(_int64(inner.varint()))
                else:
                    inner.raw_field(f2, wt2)
            r.done(inner)
            shape = dims
        elif field in legacy and wt == VARINT:
            legacy[field] = _int64(r.varint())
        else:
            r.raw_field(field, wt)  # diff, double_diff, unknown fields: skipped
    dims_ = tuple(shape) if shape is not None else tuple(legacy.values())
    chunks = doubles if doubles else floats
    values = chunks[0] if len(chunks) == 1 else np.concatenate(chunks or [np.zeros(0, np.float32)])
    if not doubles and values.dtype != np.float32:
        values = values.astype(np.float32)
    return values, dims_


def _shaped(values: np.ndarray, dims: tuple[int, ...], where: str) -> np.ndarray:
    count = int(np.prod(dims, dtype=np.int64)) if dims else 1
    if values.size != count:
        raise FormatError(f"{where}: blob has {values.size} values, its shape {list(dims)} needs {count}")
    return values.reshape(dims)


def _int64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def iter_caffemodel_layers(path: str) -> Iterator[tuple[str, list[np.ndarray]]]:
    """(layer name, its blobs) for each layer of ``path`` with blobs, in file order, one layer in memory at a time.

    The same arrays :func:`~convertkit.codec.caffe.read_caffemodel` + ``blob_to_array`` give (float32 ``data``,
    or float64 ``double_data``; ``shape`` or legacy 4-D), read without the whole ``NetParameter``.  A progress
    bar counts the bytes read when bars are on (:mod:`convertkit.progress`).
    """
    try:
        f = open(path, "rb")  # noqa: SIM115  (closed below, also when the caller stops early)
    except OSError as exc:
        raise FormatError(f"cannot read {path!r}: {exc.strerror or exc}") from exc
    with f:
        size = os.fstat(f.fileno()).st_size
        with progress.bar(size, f"reading {os.path.basename(path)}") as update:
            try:
                yield from _layers(WireReader(f, path, size, kind="binary Caffe NetParameter (.caffemodel)"), update)
            except Exception as exc:  # protobuf's DecodeError on a layer's own fields
                if type(exc).__name__ != "DecodeError":
                    raise
                raise FormatError(f"{path!r} is not a binary Caffe NetParameter (.caffemodel): {exc}") from exc


def _layers(r: WireReader, update: Callable[[int], None] | None) -> Iterator[tuple[str, list[np.ndarray]]]:
    from .caffe import pb

    done = 0
    while not r.at_end():
        if update is not None:
            update(r.pos - done)
            done = r.pos
        field, wt = r.key()
        if field not in _BLOBS or wt != LEN:
            r.raw_field(field, wt)
            continue
        layer = r.sub(r.length())
        rest = bytearray()
        blobs: list[tuple[np.ndarray, tuple[int, ...]]] = []

        def read_blob(_: int, wt2: int, layer: WireReader = layer, blobs: list = blobs) -> None:
            if wt2 != LEN:
                raise FormatError(f"{r.source!r}: a layer's blob has wire type {wt2}")
            inner = layer.sub(layer.length())
            blobs.append(_blob(inner))
            layer.done(inner)

        layer.fields({_BLOBS[field]: read_blob}, rest)
        r.done(layer)
        message = pb.LayerParameter() if field == _LAYER else pb.V1LayerParameter()
        message.ParseFromString(bytes(rest))
        if blobs:
            name = message.name
            where = f"{r.source}: layer {name!r} blob"
            yield name, [_shaped(v, d, f"{where} {i}") for i, (v, d) in enumerate(blobs)]
    if update is not None:
        update(r.pos - done)


def _blob_header(array: np.ndarray) -> tuple[bytes, bytes, int]:
    """(bytes before the float payload, shape bytes after it, payload size) of a float32 ``BlobProto``.

    Field order as protobuf writes it: ``data`` (5) then ``shape`` (7).
    """
    n = array.size * 4
    data_head = len_field_header(5, n) if n else b""
    dims = b"".join(varint(int(d)) for d in array.shape)
    shape = len_field_header(1, len(dims)) + dims if dims else b""
    shape_field = len_field_header(7, len(shape)) + shape if array.ndim else b""
    return data_head, shape_field, n


def _string_field(field: int, value: str) -> bytes:
    raw = value.encode("utf-8")
    return len_field_header(field, len(raw)) + raw


def caffemodel_layer_sizes(layers: Iterable[tuple[str, str, list[np.ndarray]]]) -> int:
    """The payload bytes (float32 blob values) ``layers`` will write."""
    return sum(a.size * 4 for _, _, arrays in layers for a in arrays)


def write_caffemodel(
    f: BinaryIO,
    net_name: str | None,
    layers: Iterable[tuple[str, str, list[np.ndarray]]],
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write a ``NetParameter`` of ``layer { name type blobs }`` entries, each blob's values straight from NumPy.

    ``progress`` is called with each blob's byte count once it is written.
    """
    if net_name is not None:
        f.write(_string_field(1, net_name))
    for name, type_, arrays in layers:
        blobs = []
        for a in arrays:
            a32 = np.ascontiguousarray(a, dtype="<f4")
            head, shape, n = _blob_header(a32)
            blobs.append((a32, head, shape, n))
        body_head = _string_field(1, name) + _string_field(2, type_)
        blob_sizes = [len(h) + n + len(s) for _, h, s, n in blobs]
        body = len(body_head) + sum(len(tag(7, LEN)) + len(varint(b)) + b for b in blob_sizes)
        f.write(len_field_header(_LAYER, body) + body_head)
        for (a32, head, shape, n), size in zip(blobs, blob_sizes, strict=True):
            f.write(len_field_header(7, size) + head)
            if n:
                f.write(a32.data.cast("B"))
            f.write(shape)
            if progress is not None:
                progress(n)


def layer_entries(weights: Any) -> list[tuple[str, str, list[np.ndarray]]]:
    """A ``NetParameter``'s layers as (name, type, arrays) entries for :func:`write_caffemodel` (tests, tools)."""
    from .caffe import blob_to_array

    return [(lp.name, lp.type, [blob_to_array(b, lp.name) for b in lp.blobs]) for lp in weights.layer]
