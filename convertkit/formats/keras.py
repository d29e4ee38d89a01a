"""Keras import: ``.keras`` archives (``config.json`` + ``model.weights.h5``) and legacy ``.h5`` files, read with
the standard library and h5py — no TensorFlow, no Keras.

Plumbing only: each layer kind reads its own Keras layers through its Keras facet
(:class:`convertkit.registry.KerasFacet`); this module walks the model (Functional or Sequential), finds every
layer's weights, wires the values and keeps the layout:

* the IR is channels-first.  A channels_last model's tensors are turned around at the boundary: by default the
  model's inputs and outputs *are* NCHW (``keep_layout="nchw"``: no Transpose anywhere, so the model converts to
  Caffe too); ``keep_layout="nhwc"`` keeps Keras's NHWC interface with a Transpose after each input and before
  each output.  Inside, every kernel is permuted by its kind and every Keras axis mapped
  (:meth:`KerasLayer.ir_axis`).  A model whose layers mix data formats is refused.
* Batch and unknown sizes: the batch is 1 unless ``input_shapes`` (Keras's own layout, batch first) says; an
  unknown spatial size needs ``input_shapes``.
* Layers no kind reads are listed in one :class:`UnsupportedError`.

Weights: in a ``.keras`` archive a layer's variables are ``layers/<snake_case class name>[_k]/vars/<i>`` in the
order of the model's layers (keras/src/saving/saving_lib.py ``_save_container_state``); in a legacy ``.h5`` file
``model_weights/<layer name>`` lists them in its ``weight_names`` attribute.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .. import layers as _layers  # noqa: F401  (registers the layer kinds)
from ..codec.keras import KerasLayer
from ..codec.names import NameAllocator
from ..errors import ConvertkitError, FormatError, UnsupportedError, ValidationError
from ..ir import DTYPES, Layer, Model, TensorType
from ..registry import keras_layout, keras_readers

__all__ = ["load_keras", "KEEP_LAYOUTS"]

KEEP_LAYOUTS: tuple[str, ...] = ("nchw", "nhwc")


def _snake_case(name: str) -> str:
    """keras/src/utils/naming.py ``to_snake_case``: the name a layer's variables are stored under."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as exc:
        raise UnsupportedError(
            "reading Keras files needs h5py (the weights are HDF5): pip install 'convertkit[keras]'"
        ) from exc
    return h5py


def _read_files(path: str) -> tuple[dict[str, Any], Any]:
    """The model config and an ``lookup(index, layer_config) -> list of arrays`` for the weights."""
    h5py = _h5py()
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                if "config.json" not in names:
                    raise FormatError(f"{path}: a .keras archive holds config.json; this one has {names}")
                config = json.loads(archive.read("config.json"))
                blob = archive.read("model.weights.h5") if "model.weights.h5" in names else None
            weights = h5py.File(io.BytesIO(blob), "r") if blob is not None else None
            return config, ("archive", weights)
        handle = h5py.File(path, "r")
    except ConvertkitError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise FormatError(f"{path}: not a readable Keras file (.keras archive or HDF5 .h5): {exc}") from exc
    raw = handle.attrs.get("model_config")
    if raw is None:
        raise FormatError(
            f"{path}: this HDF5 file has no model_config (a weights-only file?); save the whole model (model.save)"
        )
    config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    return config, ("legacy", handle)


def _archive_weights(store: Any, paths: list[str | None]) -> list[list[np.ndarray]]:
    out: list[list[np.ndarray]] = []
    for p in paths:
        arrays: list[np.ndarray] = []
        if store is not None and p is not None and f"layers/{p}/vars" in store:
            group = store[f"layers/{p}/vars"]
            arrays = [np.asarray(group[str(i)]) for i in range(len(group))]
        out.append(arrays)
    return out


def _legacy_weights(store: Any, names: list[str]) -> list[list[np.ndarray]]:
    root = store["model_weights"] if "model_weights" in store else store
    out = []
    for name in names:
        arrays = []
        if name in root:
            group = root[name]
            for wn in group.attrs.get("weight_names", []):
                wn = wn.decode() if isinstance(wn, bytes) else str(wn)
                arrays.append(np.asarray(group[wn]))
        out.append(arrays)
    return out


def _tensors(obj: Any) -> Iterator[tuple[str, int, int]]:
    """The ``(layer, node, tensor)`` references in an inbound node's arguments (Keras 3 and Keras 2 forms)."""
    if isinstance(obj, dict):
        if obj.get("class_name") == "__keras_tensor__":
            history = obj["config"]["keras_history"]
            yield str(history[0]), int(history[1]), int(history[2])
            return
        for v in obj.values():
            yield from _tensors(v)
    elif isinstance(obj, list):
        if len(obj) >= 3 and isinstance(obj[0], str) and isinstance(obj[1], int) and isinstance(obj[2], int):
            yield obj[0], obj[1], obj[2]  # Keras 2: [name, node_index, tensor_index, kwargs]
            return
        for v in obj:
            yield from _tensors(v)


def _refs(value: Any) -> list[tuple[str, int, int]]:
    """``input_layers`` / ``output_layers``: one reference or a list of them."""
    if isinstance(value, list) and len(value) >= 3 and isinstance(value[0], str):
        return [(value[0], int(value[1]), int(value[2]))]
    return [r for v in value for r in _refs(v)] if isinstance(value, list) else []


def load_keras(
    path: str,
    *,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    keep_layout: str | None = None,
) -> Model:
    """Read a Keras model file into a checked channels-first :class:`Model` (see the module docs)."""
    layout = keep_layout or "nchw"
    if layout not in KEEP_LAYOUTS:
        raise FormatError(f"keep_layout must be one of {', '.join(KEEP_LAYOUTS)}, got {keep_layout!r}")
    config, (store_kind, store) = _read_files(path)
    try:
        return _build(path, config, store_kind, store, dict(input_shapes or {}), layout)
    finally:
        if store is not None:
            store.close()


def _build(
    path: str,
    config: dict[str, Any],
    store_kind: str,
    store: Any,
    input_shapes: dict[str, Sequence[int]],
    layout: str,
) -> Model:
    cls = config.get("class_name")
    if cls not in ("Functional", "Model", "Sequential"):
        raise UnsupportedError(f"{path}: the model is a {cls!r}; convertkit reads Functional and Sequential models")
    body = config.get("config", {})
    entries = list(body.get("layers", []))
    if not entries:
        raise FormatError(f"{path}: the model has no layers")
    sequential = cls == "Sequential"
    # Variables' paths in an archive: by class, in the model's layer order (a Sequential's InputLayer is no layer).
    used: dict[str, int] = {}
    paths: list[str | None] = []
    for e in entries:
        if sequential and e.get("class_name") == "InputLayer":
            paths.append(None)
            continue
        base = _snake_case(str(e.get("class_name")))
        if base in used:
            used[base] += 1
            paths.append(f"{base}_{used[base]}")
        else:
            used[base] = 0
            paths.append(base)
    names = [str(e.get("config", {}).get("name", e.get("name"))) for e in entries]
    if store_kind == "archive":
        weights = _archive_weights(store, paths)
    else:
        weights = _legacy_weights(store, names)

    readers = keras_readers()
    unknown = [(n, str(e.get("class_name"))) for n, e in zip(names, entries, strict=True)]
    unknown = [(n, c) for n, c in unknown if c not in readers]
    if (
        sequential
        and entries[0].get("class_name") != "InputLayer"
        and "batch_shape" not in entries[0].get("config", {})
    ):
        raise UnsupportedError(f"{path}: the Sequential model has no Input; save it built with keras.Input(shape)")
    if unknown:
        listing = "; ".join(f"{c} ({n})" for n, c in unknown)
        raise UnsupportedError(
            f"{path}: {len(unknown)} Keras layer(s) convertkit cannot convert: {listing}. "
            f"Supported: {', '.join(sorted(readers))}"
        )
    formats = {e["config"]["data_format"] for e in entries if e.get("config", {}).get("data_format")}
    if len(formats) > 1:
        raise UnsupportedError(
            f"{path}: the model mixes data formats ({', '.join(sorted(formats))}); convertkit reads one layout"
        )
    channels_last = formats != {"channels_first"}

    taken = NameAllocator()
    taken.reserve(names)
    ir: list[Layer] = []
    types: dict[str, TensorType] = {}
    value_of: dict[str, str] = {}  # Keras layer name -> IR value of its (first) output
    output_refs = [r[0] for r in _refs(body.get("output_layers", []))] if not sequential else [names[-1]]
    previous: str | None = None

    def keras_to_ir_shape(shape: Sequence[int]) -> tuple[int, ...]:
        shape = tuple(shape)
        if channels_last and len(shape) >= 3:
            return (shape[0], shape[-1], *shape[1:-1])
        return shape

    def add(layer: Layer) -> None:
        try:
            out = layer.infer([types[v] for v in layer.inputs])
        except ConvertkitError as exc:
            raise type(exc)(f"{path}: {exc}") from exc
        types.update(zip(layer.outputs, out, strict=True))
        ir.append(layer)

    for name, entry, arrays in zip(names, entries, weights, strict=True):
        cls_name = str(entry["class_name"])
        cfg = dict(entry.get("config", {}))
        if cls_name == "InputLayer":
            shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
            if shape is None:
                raise FormatError(f"{path}: InputLayer {name!r} has no batch_shape")
            given = input_shapes.get(name)
            if given is not None:
                if len(given) != len(shape):
                    raise FormatError(
                        f"{path}: input_shapes[{name!r}] = {list(given)} has rank {len(given)}, the input {len(shape)}"
                    )
                shape = list(given)
            shape = [1 if (i == 0 and d is None) else d for i, d in enumerate(shape)]
            if any(d is None for d in shape):
                raise UnsupportedError(
                    f"{path}: input {name!r} has unknown sizes {['?' if d is None else d for d in shape]}; give its "
                    f"shape (Keras's layout, batch first) with --input-shape {name}="
                    + ",".join("1" if d is None else str(d) for d in shape)
                )
            dtype = str(cfg.get("dtype", "float32"))
            if isinstance(cfg.get("dtype"), dict):
                dtype = str(cfg["dtype"].get("config", {}).get("name", "float32"))
            if dtype not in DTYPES:
                raise UnsupportedError(f"{path}: input {name!r} is {dtype}; convertkit models take {', '.join(DTYPES)}")
            keras_shape = tuple(int(d) for d in shape)
            nhwc = layout == "nhwc" and channels_last and len(keras_shape) >= 3
            value = name if not nhwc else taken.fresh(f"{name}.nchw")
            t = TensorType(keras_to_ir_shape(keras_shape), dtype)
            context = KerasLayer(cls_name, cfg, arrays, [], name, [t], channels_last, taken.fresh)
            if nhwc:
                context.in_types = [TensorType(keras_shape, dtype)]
            built = readers[cls_name].keras.read  # type: ignore[misc]
            for layer in built(context):  # type: ignore[misc]
                add(layer)
            if nhwc:
                rank = len(keras_shape)
                add(keras_layout(value, name, value, (0, rank - 1, *range(1, rank - 1))))
            value_of[name] = value
            previous = value
            continue
        if sequential:
            if previous is None:
                raise FormatError(f"{path}: layer {name!r} comes before any input")
            inputs = [previous]
        else:
            refs = [r for node in entry.get("inbound_nodes", [])[:1] for r in _tensors(node)]
            if len(entry.get("inbound_nodes", [])) > 1:
                raise UnsupportedError(f"{path}: layer {name!r} is called more than once (shared layer)")
            missing = [r[0] for r in refs if r[0] not in value_of]
            if missing or not refs:
                raise FormatError(f"{path}: layer {name!r} reads {missing or 'nothing'}, which no earlier layer makes")
            inputs = [value_of[r[0]] for r in refs]
        is_output = name in output_refs
        nhwc_out = is_output and layout == "nhwc" and channels_last and len(types[inputs[0]].shape) >= 3
        value = taken.fresh(f"{name}.nchw") if nhwc_out else name
        context = KerasLayer(
            cls_name, cfg, arrays, inputs, value, [types[v] for v in inputs], channels_last, taken.fresh
        )
        read = readers[cls_name].keras.read
        assert read is not None
        try:
            built_layers = read(context)
        except ConvertkitError as exc:
            raise type(exc)(f"{path}: {exc}") from exc
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise ValidationError(f"{path}: {context.where}: cannot convert: {exc}") from exc
        for layer in built_layers:
            add(layer)
        if nhwc_out:
            rank = len(types[value].shape)
            add(keras_layout(taken.fresh(f"{name}.nhwc"), value, name, (0, *range(2, rank), 1)))
            value = name
        value_of[name] = value
        previous = value
    outputs = [value_of[n] for n in output_refs]
    return Model(ir, outputs, name=str(body.get("name", "keras")))
