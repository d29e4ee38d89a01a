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
    target: str = "portable",
) -> CheckReport:
    """Export ``model`` to ONNX for ``target`` (or use ``onnx_model``), run onnxruntime and the reference on the
    same inputs.  Warns (:class:`convertkit.portability.PortabilityWarning`) when the ONNX model hits a known
    defect of a runtime of ``target`` (:data:`convertkit.portability.DEFECTS`)."""
    from .formats.onnx import to_onnx
    from .portability import warn_defects
    from .reference.interpreter import check_inputs, run_model
    from .runtime import run_onnx

    feeds = check_inputs(model, random_inputs(model, seed) if inputs is None else inputs)
    proto = to_onnx(model, opset, target=target) if onnx_model is None else onnx_model
    warn_defects(proto, target, stacklevel=2)
    expected = run_model(model, feeds)
    got = run_onnx(proto, feeds)
    reports = []
    for name in model.outputs:
        reports.append(compare(name, expected[name], got[name], atol, rtol))
    return CheckReport(tuple(reports), atol, rtol, seed)


#: The optimized export must equal the literal one this closely (relative to the output's largest magnitude).
LITERAL_RTOL = 1e-6


def literal_differs(proto: Any, literal: Any) -> bool:
    """Whether the optimized export ``proto`` is another graph than the literal ``literal``."""
    return proto.graph.SerializeToString(deterministic=True) != literal.graph.SerializeToString(deterministic=True)


def compare_with_literal(
    model: Model, proto: Any, feeds: Mapping[str, np.ndarray], *, opset: int | None = None
) -> tuple[bool, str] | None:
    """Run the optimized export ``proto`` and the literal export of ``model`` in onnxruntime on ``feeds``.

    None when the two graphs are the same; else ``(equal, one line)``: equal when every output agrees within
    :data:`LITERAL_RTOL` of its largest magnitude (at least 1).
    """
    from .formats.onnx import to_onnx
    from .runtime import run_onnx

    literal = to_onnx(model, opset, optimize="none")
    if not literal_differs(proto, literal):
        return None
    fast, slow = run_onnx(proto, feeds), run_onnx(literal, feeds)
    worst, where = 0.0, ""
    for name in model.outputs:
        a, b = np.asarray(fast[name], np.float64), np.asarray(slow[name], np.float64)
        if a.shape != b.shape:
            return False, f"optimized export vs literal: output {name!r} shape {list(a.shape)} != {list(b.shape)}"
        err = float(np.max(np.abs(a - b), initial=0.0)) / max(1.0, float(np.max(np.abs(b), initial=0.0)))
        if err >= worst:
            worst, where = err, name
    ops = lambda p: len(p.graph.node)  # noqa: E731
    equal = worst <= LITERAL_RTOL
    verdict = "equal" if equal else "DIFFER"
    return equal, (
        f"optimized export ({ops(proto)} nodes) vs literal ({ops(literal)} nodes) in onnxruntime: {verdict}, "
        f"max relative difference {worst:.2e} (output {where!r}, bound {LITERAL_RTOL:g})"
    )
