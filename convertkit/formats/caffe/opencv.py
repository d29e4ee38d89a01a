"""Run a Caffe net (prototxt + caffemodel) in OpenCV's dnn module: a real Caffe runtime as a peer.

OpenCV (``opencv-python-headless`` 4.x; 5.x dropped the Caffe reader) addresses outputs by *layer name* and
returns that layer's first top, so each requested blob must be the first top of the layer that writes it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping

import numpy as np

from ...check import CheckReport
from ...errors import ConvertkitError, FormatError, UnsupportedError
from ...ir import Model
from .io import read_prototxt

__all__ = ["run_opencv", "output_layer_names", "check_caffe"]


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
    prototxt: str, caffemodel: str | None, inputs: Mapping[str, np.ndarray], outputs: list[str]
) -> dict[str, np.ndarray]:
    """Run the net in OpenCV on ``inputs`` (by input blob name); returns ``outputs`` (blob names)."""
    layers = output_layer_names(prototxt, outputs)
    results = _forward(prototxt, caffemodel, inputs, [layers[o] for o in outputs])
    return dict(zip(outputs, results, strict=True))


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
    try:
        net = cv2.dnn.readNetFromCaffe(prototxt, caffemodel) if caffemodel else cv2.dnn.readNetFromCaffe(prototxt)
        for name, value in inputs.items():
            net.setInput(np.ascontiguousarray(value, dtype=np.float32), name)
        results = net.forward(layers)
    except cv2.error as exc:
        message = " ".join(str(exc).split())
        raise ConvertkitError(f"OpenCV cannot run {prototxt}: {message}") from exc
    return [np.asarray(r) for r in results]


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
    from ...check import compare, random_inputs
    from ...reference.interpreter import check_inputs, run_model
    from .writer import save_caffe

    feeds = check_inputs(model, random_inputs(model, seed) if inputs is None else inputs)
    with tempfile.TemporaryDirectory(prefix="convertkit-caffe-") as tmp:
        prototxt = os.path.join(tmp, "net.prototxt")
        exported = save_caffe(model, prototxt, dialect=dialect)  # type: ignore[arg-type]
        layers = [exported.output_layers[o] for o in model.outputs]
        got = _forward(prototxt, os.path.join(tmp, "net.caffemodel"), feeds, layers)
    expected = run_model(model, feeds)
    reports = tuple(compare(o, expected[o], got[i], atol, rtol) for i, o in enumerate(model.outputs))
    return CheckReport(reports, atol, rtol, seed, backends=("reference", "opencv (Caffe)"))
