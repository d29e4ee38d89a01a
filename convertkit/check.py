"""Reference-vs-runtime comparison: export to ONNX, run onnxruntime and the NumPy reference, compare."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .comparison import DEFAULT_ATOL, DEFAULT_RTOL, CheckReport, OutputReport, compare, random_inputs
from .ir import Model

__all__ = ["OutputReport", "CheckReport", "random_inputs", "compare", "check_model"]


def check_model(
    model: Model,
    inputs: Mapping[str, np.ndarray] | None = None,
    *,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    seed: int = 0,
    opset: int | None = None,
    onnx_model: Any = None,
) -> CheckReport:
    """Export ``model`` to ONNX (or use ``onnx_model``), run onnxruntime and the reference on the same inputs."""
    from .formats.onnx import to_onnx
    from .reference.interpreter import check_inputs, run_model
    from .runtime import run_onnx

    feeds = check_inputs(model, random_inputs(model, seed) if inputs is None else inputs)
    proto = to_onnx(model, opset) if onnx_model is None else onnx_model
    expected = run_model(model, feeds)
    got = run_onnx(proto, feeds)
    reports = []
    for name in model.outputs:
        reports.append(compare(name, expected[name], got[name], atol, rtol))
    return CheckReport(tuple(reports), atol, rtol, seed)
