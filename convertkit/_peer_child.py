"""The child process of the ONNX peer runners (:mod:`convertkit.runtime`): one forward pass in OpenCV's ONNX
importer, OpenVINO or onnx2torch.

Run by path (``python _peer_child.py BACKEND``), so it imports NumPy and that runtime only, never convertkit; it
serves requests as ``formats/caffe/_opencv_child.py`` does: one folder per line on stdin, its exit status on a line
of stdout.  ``FOLDER/request.json`` names the model, the inputs (``in_<i>.npy``) and the outputs; the results go
to ``out_<i>.npy``, a runtime's error to ``error.txt`` (status 3).  A crash (a signal) is the parent's to report.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import types


def _opencv(model: str, feeds: dict, outputs: list[str]) -> list:
    import cv2

    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is not None:
        logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    net = cv2.dnn.readNetFromONNX(model)
    for name, value in feeds.items():
        net.setInput(value, name)
    return list(net.forward(outputs))


def _openvino(model: str, feeds: dict, outputs: list[str]) -> list:
    import openvino as ov

    # f32 throughout: on CPUs with bf16/fp16 units OpenVINO otherwise computes in lower precision by default
    compiled = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    result = compiled(feeds)
    by_name = {}
    for port, value in result.items():
        for name in port.get_names():
            by_name[name] = value
    return [by_name[o] for o in outputs]


def _torch(model: str, feeds: dict, outputs: list[str]) -> list:
    import numpy as np

    if "torchvision" not in sys.modules:
        try:
            import torchvision  # noqa: F401
        except ImportError:
            # onnx2torch imports torchvision for its NMS and RoiAlign converters only; convertkit writes neither.
            stub = types.ModuleType("torchvision")
            ops = types.ModuleType("torchvision.ops")
            ops.roi_align = None  # type: ignore[attr-defined]
            stub.ops = ops  # type: ignore[attr-defined]
            sys.modules["torchvision"], sys.modules["torchvision.ops"] = stub, ops
    import torch
    from onnx2torch import convert

    module = convert(model).eval()
    with torch.no_grad():
        got = module(*[torch.from_numpy(np.ascontiguousarray(v)) for v in feeds.values()])
    if isinstance(got, torch.Tensor):
        got = [got]
    if isinstance(got, dict):
        got = [got[o] for o in outputs]
    return [g.numpy() for g in got]


RUNNERS = {"opencv": _opencv, "openvino": _openvino, "torch": _torch}


def main(backend: str, folder: str) -> int:
    import numpy as np

    with open(os.path.join(folder, "request.json"), encoding="utf-8") as f:
        request = json.load(f)
    feeds = {name: np.load(os.path.join(folder, f"in_{i}.npy")) for i, name in enumerate(request["inputs"])}
    try:
        results = RUNNERS[backend](request["model"], feeds, request["outputs"])
    except Exception as exc:  # the runtime's own exception types
        with open(os.path.join(folder, "error.txt"), "w", encoding="utf-8") as f:
            f.write(" ".join(f"{type(exc).__name__}: {exc}".split())[:2000])
        return 3
    for i, value in enumerate(results):
        np.save(os.path.join(folder, f"out_{i}.npy"), np.asarray(value))
    return 0


def serve(backend: str) -> None:
    for line in sys.stdin:
        folder = line.strip()
        if not folder:
            continue
        try:
            status = main(backend, folder)
        except Exception as exc:  # report it, keep serving
            with open(os.path.join(folder, "error.txt"), "w", encoding="utf-8") as f:
                f.write(f"{type(exc).__name__}: {exc}")
            status = 4
        sys.stdout.write(f"{status}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops this child
    serve(sys.argv[1])
