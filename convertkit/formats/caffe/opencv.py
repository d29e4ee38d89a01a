"""Run a Caffe net (prototxt + caffemodel) in OpenCV's dnn module: a real Caffe runtime as a peer.

OpenCV (``opencv-python-headless`` 4.x; 5.x dropped the Caffe reader) addresses outputs by *layer name* and
returns that layer's first top, so each requested blob must be the first top of the layer that writes it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from ... import layers as _layers  # noqa: F401  (registers the layer kinds)
from ...codec.caffe import CaffeLayer, array_to_blob, pb, read_prototxt
from ...comparison import CheckReport, compare, random_inputs
from ...errors import ConvertkitError, FormatError, UnsupportedError
from ...ir import Model
from ...registry import caffe_facet_for_type, caffe_readers

__all__ = ["run_opencv", "output_layer_names", "check_caffe", "refuse_what_opencv_cannot_run"]


def output_layer_names(prototxt: str, blobs: list[str]) -> dict[str, str]:
    """For each blob, the layer OpenCV must be asked for (the last layer writing it as its first top)."""
    net = read_prototxt(prototxt)
    writer: dict[str, tuple[str, int]] = {}
    for layer in net.layer:
        for i, top in enumerate(layer.top):
            writer[top] = (layer.name, i)
    out = {}
    for blob in blobs:
        if blob not in writer:
            raise FormatError(f"{prototxt}: no layer writes blob {blob!r}")
        name, index = writer[blob]
        if index:
            raise UnsupportedError(
                f"{prototxt}: blob {blob!r} is top {index} of layer {name!r}; OpenCV returns only a layer's first "
                "top, so it cannot be read there (convertkit's writer adds a Split copy for such outputs)"
            )
        out[blob] = name
    return out


def run_opencv(
    prototxt: str,
    caffemodel: str | None,
    inputs: Mapping[str, np.ndarray],
    outputs: list[str],
    *,
    model: Model | None = None,
) -> dict[str, np.ndarray]:
    """Run the net in OpenCV on ``inputs`` (by input blob name); returns ``outputs`` (blob names).

    OpenCV crashes on a layer that needs blobs and has none, so when ``caffemodel`` is missing or lacks a layer's
    blobs, the blobs convertkit materialises for it (``model``, the prototxt read with the same caffemodel: its
    fillers, or zeros / ``--fill-missing``) go into a temporary caffemodel.  ``model`` is read from the prototxt
    when not given.
    """
    layers = output_layer_names(prototxt, outputs)
    net = read_prototxt(prototxt)
    with tempfile.TemporaryDirectory(prefix="convertkit-opencv-") as tmp:
        if _blobs_missing(net, caffemodel):
            if model is None:
                from .reader import load_caffe

                model = load_caffe(
                    prototxt, weights=caffemodel, input_shapes={k: np.shape(v) for k, v in inputs.items()}
                )
            caffemodel = os.path.join(tmp, "materialised.caffemodel")
            _write_materialised_blobs(net, model, caffemodel, prototxt)
        results = _forward(prototxt, caffemodel, inputs, [layers[o] for o in outputs])
    return dict(zip(outputs, results, strict=True))


def _needs_blobs(caffe_type: str) -> bool:
    """Whether layers of ``caffe_type`` carry parameter blobs (their kind's Caffe facet can materialise them)."""
    facet = caffe_facet_for_type(caffe_type)
    return facet is not None and facet.blobs is not None


def _blobs_missing(net: Any, caffemodel: str | None) -> bool:
    """Whether a layer that needs blobs has none in ``caffemodel`` (or there is no caffemodel)."""
    needing = [lp.name for lp in net.layer if _needs_blobs(lp.type)]
    if not needing:
        return False
    if caffemodel is None:
        return True
    from .reader import read_weights

    have = read_weights(caffemodel)
    return any(name not in have for name in needing)


def _write_materialised_blobs(net: Any, model: Model, path: str, prototxt: str) -> None:
    """A caffemodel with the IR's blobs of every blob-carrying layer of ``net``, shaped as the prototxt says."""
    by_name = {layer.name: layer for layer in model.layers}
    weights = pb.NetParameter()
    for lp in net.layer:
        record = caffe_readers().get(lp.type)
        layer = by_name.get(lp.name)
        if record is None or record.caffe.blobs is None or layer is None or layer.kind != record.name:
            continue  # not in the TEST-phase net convertkit reads
        source = CaffeLayer(lp, list(layer.inputs), list(layer.outputs), model.input_types(layer))
        try:
            arrays = record.caffe.blobs(layer, source)
        except ConvertkitError as exc:
            raise type(exc)(f"{prototxt}: {exc}") from exc
        entry = weights.layer.add()
        entry.name, entry.type = lp.name, lp.type
        entry.blobs.extend(array_to_blob(a) for a in arrays)
    try:
        with open(path, "wb") as f:
            f.write(weights.SerializeToString())
    except OSError as exc:
        raise FormatError(f"cannot write {path!r}: {exc.strerror or exc}") from exc


def _forward(
    prototxt: str, caffemodel: str | None, inputs: Mapping[str, np.ndarray], layers: list[str]
) -> list[np.ndarray]:
    try:
        import cv2
    except ImportError as exc:
        raise UnsupportedError(
            "the opencv backend needs OpenCV's Caffe reader: pip install 'opencv-python-headless<5'"
        ) from exc
    if not hasattr(cv2, "dnn") or not hasattr(cv2.dnn, "readNetFromCaffe"):
        raise UnsupportedError(
            f"OpenCV {cv2.__version__} has no Caffe reader (5.x removed it): pip install 'opencv-python-headless<5'"
        )
    refuse_what_opencv_cannot_run(read_prototxt(prototxt), {k: np.ndim(v) for k, v in inputs.items()}, prototxt)
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    level = logging.getLogLevel() if logging is not None else None
    try:
        if logging is not None:  # OpenCV logs its own errors on stderr before raising them
            logging.setLogLevel(logging.LOG_LEVEL_SILENT)
        net = cv2.dnn.readNetFromCaffe(prototxt, caffemodel) if caffemodel else cv2.dnn.readNetFromCaffe(prototxt)
        for name, value in inputs.items():
            net.setInput(np.ascontiguousarray(value, dtype=np.float32), name)
        results = net.forward(layers)
    except cv2.error as exc:
        message = " ".join(str(exc).split())
        raise ConvertkitError(f"OpenCV cannot run {prototxt}: {message}") from exc
    finally:
        if logging is not None:
            logging.setLogLevel(level)
    return [np.asarray(r) for r in results]


def refuse_what_opencv_cannot_run(net: Any, input_ranks: Mapping[str, int], source: str) -> None:
    """Raise, naming the layer, for a valid Caffe net that OpenCV's Caffe reader would crash on or mis-run.

    ``input_ranks`` gives the rank of each net input; other blobs take the rank of their layer's first bottom
    (true of every layer type convertkit reads).
    """
    rank: dict[str, int] = dict(input_ranks)
    for name, shape in zip(net.input, net.input_shape, strict=False):
        rank.setdefault(name, len(shape.dim))
    for name in net.input:
        rank.setdefault(name, 4)  # input_dim: always N, C, H, W
    for lp in net.layer:
        if lp.type == "Input":
            shapes = list(lp.input_param.shape)
            for i, top in enumerate(lp.top):
                if shapes:
                    rank.setdefault(top, len(shapes[min(i, len(shapes) - 1)].dim))
            continue
        r = rank.get(lp.bottom[0]) if len(lp.bottom) else None
        facet = caffe_facet_for_type(lp.type)
        if facet is not None and facet.opencv_refusal is not None:
            why = facet.opencv_refusal(CaffeLayer(lp, list(lp.bottom), list(lp.top), []), r)
            if why is not None:
                raise UnsupportedError(f"{source}: layer {lp.name!r} ({lp.type}): {why}")
        for top in lp.top:
            if r is not None:
                rank[top] = r


def check_caffe(
    model: Model,
    inputs: Mapping[str, np.ndarray] | None = None,
    *,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    seed: int = 0,
    dialect: str = "bvlc",
) -> CheckReport:
    """Export ``model`` to Caffe, run it in OpenCV and compare every output with the NumPy reference."""
    from ...reference.interpreter import check_inputs, run_model
    from .writer import save_caffe

    feeds = check_inputs(model, random_inputs(model, seed) if inputs is None else inputs)
    with tempfile.TemporaryDirectory(prefix="convertkit-caffe-") as tmp:
        prototxt = os.path.join(tmp, "net.prototxt")
        exported = save_caffe(model, prototxt, dialect=dialect)  # type: ignore[arg-type]
        refuse_what_opencv_cannot_run(exported.net, {k: np.ndim(v) for k, v in feeds.items()}, "the Caffe export")
        layers = [exported.output_layers[o] for o in model.outputs]
        got = _forward(prototxt, os.path.join(tmp, "net.caffemodel"), feeds, layers)
    expected = run_model(model, feeds)
    reports = tuple(compare(o, expected[o], got[i], atol, rtol) for i, o in enumerate(model.outputs))
    return CheckReport(reports, atol, rtol, seed, backends=("reference", "opencv (Caffe)"))
