"""The child process of the OpenCV runner (``opencv.py``): one forward pass of a Caffe net in OpenCV.

Run as ``python _opencv_child.py`` (by path, so it imports NumPy and OpenCV only, not convertkit): it reads one
request folder per line on stdin and answers each with its exit status on a line of stdout, so one child serves a
whole session (a test run calls OpenCV hundreds of times; a fresh interpreter per call costs ~0.25 s) and ends
when stdin closes, i.e. with its parent.  ``FOLDER/request.json`` names the prototxt, the caffemodel, the inputs
(``in_<i>.npy``) and, per output, the Caffe layer writing it, its top and its type.  The outputs go to
``out_<i>.npy``; an OpenCV error (``cv2.error``) to ``error.txt`` with status 3.  A crash of OpenCV (a signal)
or a hang is the parent's to report.
"""

from __future__ import annotations

import json
import os
import signal
import sys


def _opencv_layer(net, names: set[str], layer: str, top: str, caffe_type: str) -> str:
    """The name OpenCV knows the Caffe layer ``layer`` (first top ``top``) by.

    OpenCV's Caffe reader keeps most layer names but names some layers (Convolution in 4.x) after their top; a
    name is taken only when OpenCV's layer of that name has the Caffe layer's type.
    """
    for candidate in (layer, top):
        if candidate in names and net.getLayer(candidate).type == caffe_type:
            return candidate
    for candidate in (layer, top):
        if candidate in names:
            return candidate
    return layer  # OpenCV raises its own "Requested layer not found"


def main(folder: str) -> int:
    with open(os.path.join(folder, "request.json"), encoding="utf-8") as f:
        request = json.load(f)
    if request.get("test_signal"):  # the parent's test hook: a stand-in for OpenCV's segmentation faults
        os.kill(os.getpid(), int(request["test_signal"]))
    import cv2
    import numpy as np

    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is not None:  # OpenCV logs its own errors on stderr before raising them
        logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        if request["caffemodel"]:
            net = cv2.dnn.readNetFromCaffe(request["prototxt"], request["caffemodel"])
        else:
            net = cv2.dnn.readNetFromCaffe(request["prototxt"])
        names = set(net.getLayerNames())
        for i, name in enumerate(request["inputs"]):
            net.setInput(np.load(os.path.join(folder, f"in_{i}.npy")), name)
        asked = [_opencv_layer(net, names, layer, top, t) for layer, top, t in request["outputs"]]
        results = net.forward(asked)
    except cv2.error as exc:
        with open(os.path.join(folder, "error.txt"), "w", encoding="utf-8") as f:
            f.write(" ".join(str(exc).split()))
        return 3
    for i, value in enumerate(results):
        np.save(os.path.join(folder, f"out_{i}.npy"), np.asarray(value))
    return 0


def serve() -> None:
    for line in sys.stdin:
        folder = line.strip()
        if not folder:
            continue
        try:
            status = main(folder)
        except Exception as exc:  # anything but an OpenCV error: report it, keep serving
            with open(os.path.join(folder, "error.txt"), "w", encoding="utf-8") as f:
                f.write(f"{type(exc).__name__}: {exc}")
            status = 4
        sys.stdout.write(f"{status}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops this child
    serve()
