"""Run an ONNX model: onnxruntime sessions on the CPU provider, and one registry (:data:`RUNNERS`) of every runtime
convertkit runs ONNX in (onnxruntime, the reference, and the peers OpenCV, OpenVINO, onnx2torch in kept child
processes, as the Caffe OpenCV runner does: a crash of a runtime is an error naming it, not a dead convertkit)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ConvertkitError, FormatError, UnsupportedError

__all__ = ["run_onnx", "onnx_input_types", "Runner", "RUNNERS", "runner", "run_backend"]


def onnx_input_types(
    proto: Any, shapes: Mapping[str, tuple[int, ...]] | None = None
) -> dict[str, tuple[tuple[int, ...], str]]:
    """Graph inputs (not initializers) of an ONNX model: name -> (static shape, numpy dtype name).

    ``shapes`` gives the shape of inputs whose declared shape has symbolic or unknown dimensions.
    """
    from .codec.onnx import declared_type

    shapes = dict(shapes or {})
    inits = {i.name for i in proto.graph.initializer}
    out = {}
    for vi in proto.graph.input:
        if vi.name in inits:
            continue
        dims, dtype = declared_type(vi)
        if vi.name in shapes:
            out[vi.name] = (tuple(shapes.pop(vi.name)), dtype)
            continue
        for d in dims or ():
            if isinstance(d, str) or d < 1:
                if isinstance(d, int):
                    what = f"dimension of size {d}"
                else:
                    what = f"symbolic dimension {d!r}" if d != "?" else "dimension of unknown size"
                raise UnsupportedError(
                    f"ONNX input {vi.name!r} has a {what}; give its shape with --input-shape {vi.name}=N,C,H,W "
                    "or feed it with --input"
                )
        out[vi.name] = (tuple(int(d) for d in dims or ()), dtype)
    if shapes:
        raise UnsupportedError(
            f"--input-shape names {', '.join(sorted(shapes))}, which the model does not take as input"
        )
    return out


def run_onnx(proto: Any, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run ``proto`` (an ``onnx.ModelProto``) in onnxruntime; returns every graph output by name."""
    import onnxruntime as ort

    ort.set_default_logger_severity(4)  # our own error says what failed, on one line
    options = ort.SessionOptions()
    options.log_severity_level = 4
    try:
        session = ort.InferenceSession(
            proto.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own exception types from C++
        msg = str(exc).splitlines()[0]
        if "NOT_IMPLEMENTED" in msg:
            raise UnsupportedError(
                f"onnxruntime has no kernel for this model ({msg}); float64 ConvTranspose/Resize are not "
                "implemented on its CPU provider — use float32"
            ) from exc
        raise FormatError(f"onnxruntime cannot load the model: {msg}") from exc
    names = [o.name for o in session.get_outputs()]
    try:
        results = session.run(names, {k: np.ascontiguousarray(v) for k, v in inputs.items()})
    except Exception as exc:  # onnxruntime raises its own exception types from C++
        raise ConvertkitError(f"onnxruntime failed to run the model: {str(exc).splitlines()[0]}") from exc
    return dict(zip(names, results, strict=True))


# --- the runners: one registry of every runtime an ONNX model can run in -------------------------------------


@dataclass(frozen=True)
class Runner:
    """One runtime: ``missing()`` says why it cannot run here (None: installed), ``run(proto, feeds, model)``
    returns every graph output by name (``model``: the convertkit Model, for the reference)."""

    name: str
    missing: Callable[[], str | None]
    run: Callable[[Any, Mapping[str, np.ndarray], Any], dict[str, np.ndarray]]
    what: str


def _module_missing(module: str, install: str) -> Callable[[], str | None]:
    def missing() -> str | None:
        import importlib.util

        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed: {install}"
        return None

    return missing


def _opencv_missing() -> str | None:
    import importlib.util

    if importlib.util.find_spec("cv2") is None:
        return "OpenCV is not installed: pip install 'opencv-python-headless<5'"
    return None


def _torch_missing() -> str | None:
    import importlib.util

    for module, install in (("torch", "pip install torch"), ("onnx2torch", "pip install --no-deps onnx2torch")):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed: {install}"
    return None


_PEER_WORKERS: dict[str, Any] = {}


def _peer(backend: str, label: str) -> Callable[[Any, Mapping[str, np.ndarray], Any], dict[str, np.ndarray]]:
    def run(proto: Any, feeds: Mapping[str, np.ndarray], model: Any = None) -> dict[str, np.ndarray]:
        import atexit
        import json
        import os
        import tempfile

        from .formats.caffe.opencv import DEFAULT_TIMEOUT, _exit_reason, _Worker

        why = RUNNERS[backend].missing()
        if why is not None:
            raise UnsupportedError(f"the {backend} backend needs {label}; {why}")
        worker = _PEER_WORKERS.get(backend)
        if worker is None:
            child = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_peer_child.py")
            worker = _PEER_WORKERS[backend] = _Worker([child, backend])
            atexit.register(worker.stop)
        names = [o.name for o in proto.graph.output]
        with tempfile.TemporaryDirectory(prefix=f"convertkit-{backend}-") as tmp:
            path = os.path.join(tmp, "model.onnx")
            with open(path, "wb") as f:
                f.write(proto.SerializeToString())
            for i, value in enumerate(feeds.values()):
                np.save(os.path.join(tmp, f"in_{i}.npy"), np.ascontiguousarray(value))
            with open(os.path.join(tmp, "request.json"), "w", encoding="utf-8") as f:
                json.dump({"model": path, "inputs": list(feeds), "outputs": names}, f)
            status, stderr = worker.run(tmp, DEFAULT_TIMEOUT, f"the ONNX model in {label}")
            error = os.path.join(tmp, "error.txt")
            if status in (3, 4) and os.path.exists(error):
                with open(error, encoding="utf-8") as f:
                    raise ConvertkitError(f"{label} cannot run the ONNX model: {f.read()}")
            if status != 0:
                raise ConvertkitError(f"{label} crashed running the ONNX model: {_exit_reason(status, stderr)}")
            return {n: np.load(os.path.join(tmp, f"out_{i}.npy")) for i, n in enumerate(names)}

    return run


def _run_reference(proto: Any, feeds: Mapping[str, np.ndarray], model: Any = None) -> dict[str, np.ndarray]:
    from .reference.interpreter import run_model

    if model is None:
        from .formats.onnx_import import from_onnx

        model = from_onnx(proto)
    return run_model(model, feeds)


def _run_onnxruntime(proto: Any, feeds: Mapping[str, np.ndarray], model: Any = None) -> dict[str, np.ndarray]:
    return run_onnx(proto, feeds)


#: Every runtime convertkit runs an ONNX model in, by ``--backend`` name (``check --backends all`` lists them).
RUNNERS: dict[str, Runner] = {
    "onnxruntime": Runner("onnxruntime", lambda: None, _run_onnxruntime, "onnxruntime (CPU)"),
    "reference": Runner("reference", lambda: None, _run_reference, "convertkit's NumPy reference"),
    "opencv": Runner("opencv", _opencv_missing, _peer("opencv", "OpenCV's ONNX importer"), "cv2.dnn.readNetFromONNX"),
    "openvino": Runner(
        "openvino", _module_missing("openvino", "pip install openvino"), _peer("openvino", "OpenVINO"), "OpenVINO CPU"
    ),
    "torch": Runner("torch", _torch_missing, _peer("torch", "onnx2torch"), "onnx2torch + PyTorch"),
}


def runner(name: str) -> Runner:
    """The runner called ``name``; :class:`UnsupportedError` naming the others otherwise."""
    if name not in RUNNERS:
        raise UnsupportedError(f"backend must be one of {', '.join(RUNNERS)}, got {name!r}")
    return RUNNERS[name]


def run_backend(name: str, proto: Any, feeds: Mapping[str, np.ndarray], model: Any = None) -> dict[str, np.ndarray]:
    """Run ``proto`` in the runtime ``name``; a clear :class:`UnsupportedError` when it is not installed."""
    r = runner(name)
    why = r.missing()
    if why is not None:
        raise UnsupportedError(f"the {name} backend ({r.what}) cannot run here: {why}")
    return r.run(proto, feeds, model)
