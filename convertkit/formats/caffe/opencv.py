"""Run a Caffe net (prototxt + caffemodel) in OpenCV's dnn module: a real Caffe runtime as a peer.

OpenCV (``opencv-python-headless`` 4.x; 5.x dropped the Caffe reader) addresses outputs by *layer name* and
returns that layer's first top, so each requested blob must be the first top of the layer that writes it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ...errors import ConvertkitError, FormatError, UnsupportedError
from .io import read_prototxt

__all__ = ["run_opencv", "output_layer_names"]


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
    layers = output_layer_names(prototxt, outputs)
    try:
        net = cv2.dnn.readNetFromCaffe(prototxt, caffemodel) if caffemodel else cv2.dnn.readNetFromCaffe(prototxt)
        for name, value in inputs.items():
            net.setInput(np.ascontiguousarray(value, dtype=np.float32), name)
        results = net.forward([layers[o] for o in outputs])
    except cv2.error as exc:
        message = " ".join(str(exc).split())
        raise ConvertkitError(f"OpenCV cannot run {prototxt}: {message}") from exc
    return {o: np.asarray(r) for o, r in zip(outputs, results, strict=True)}
