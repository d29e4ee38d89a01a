"""onnxruntime sessions: run an exported model on the CPU execution provider."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import ConvertkitError, FormatError, UnsupportedError

__all__ = ["run_onnx", "onnx_input_types"]


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
