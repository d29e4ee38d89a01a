"""Comparing outputs: the reports of a check and the tolerance rule, with seeded inputs (no runtime here)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .ir import Model

__all__ = ["OutputReport", "CheckReport", "random_inputs", "compare", "DEFAULT_ATOL", "DEFAULT_RTOL"]

DEFAULT_ATOL = 1e-5
DEFAULT_RTOL = 1e-4


@dataclass(frozen=True, slots=True)
class OutputReport:
    """Comparison of one output: ``passed`` when shapes agree and ``|a - r| <= atol + rtol * |r|`` everywhere."""

    name: str
    shape: tuple[int, ...]
    other_shape: tuple[int, ...]
    max_abs: float
    max_rel: float
    passed: bool


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Result of :func:`check_model`: one :class:`OutputReport` per model output."""

    outputs: tuple[OutputReport, ...]
    atol: float
    rtol: float
    seed: int
    backends: tuple[str, str] = ("reference", "onnxruntime")
    notes: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return all(o.passed for o in self.outputs)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["passed"] = self.passed
        return d

    def format(self) -> str:
        lines = [f"{self.backends[1]} vs {self.backends[0]} (atol {self.atol:g}, rtol {self.rtol:g}, seed {self.seed})"]
        for o in self.outputs:
            shape = "x".join(map(str, o.shape))
            if o.shape != o.other_shape:
                shape += f" vs {'x'.join(map(str, o.other_shape))}"
            lines.append(
                f"  {o.name}: shape {shape}  max abs {o.max_abs:.3g}  max rel {o.max_rel:.3g}  "
                f"{'PASS' if o.passed else 'FAIL'}"
            )
        lines.extend(f"  note: {n}" for n in self.notes)
        lines.append("PASS" if self.passed else "FAIL")
        return "\n".join(lines)


def random_inputs(model: Model, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded standard-normal inputs of the declared shapes and dtypes (for a run: refused when the model's tensors
    exceed the memory budget, before anything is drawn)."""
    from .budget import require

    require(model, "reference")
    rng = np.random.default_rng(seed)
    return {
        name: rng.standard_normal(model.types[name].shape, dtype=np.float64).astype(model.types[name].dtype)
        for name in model.inputs
    }


#: Elements compared at once (8 MB of float64 per temporary).
_CHUNK = 1 << 20


def compare(name: str, ref: np.ndarray, other: np.ndarray, atol: float, rtol: float) -> OutputReport:
    """Compare ``other`` against ``ref`` (the oracle).

    Passes when shapes agree and ``|other - ref| <= atol + rtol * |ref|`` everywhere; a NaN or infinity passes
    only where both hold the same one.  ``max_rel`` is ``|other - ref| / max(|ref|, atol)``, so values that are
    zero up to ``atol`` do not blow it up.
    """
    if ref.shape != other.shape:
        return OutputReport(name, tuple(ref.shape), tuple(other.shape), float("inf"), float("inf"), False)
    floor = atol if atol > 0 else np.finfo(np.float64).tiny
    max_abs, max_rel, passed = 0.0, 0.0, True
    flat_ref, flat_other = ref.reshape(-1), other.reshape(-1)
    # in chunks: the float64 temporaries stay small however large the output (a check's peak is the tensors)
    for start in range(0, flat_ref.size, _CHUNK):
        r = flat_ref[start : start + _CHUNK].astype(np.float64)
        o = flat_other[start : start + _CHUNK].astype(np.float64)
        same_special = (np.isnan(r) & np.isnan(o)) | (np.isinf(r) & (r == o))
        with np.errstate(invalid="ignore"):
            diff = np.where(same_special, 0.0, np.abs(o - r))
        diff = np.where(np.isnan(diff), np.inf, diff)
        magnitude = np.where(np.isfinite(r), np.abs(r), 0.0)
        max_abs = max(max_abs, float(diff.max(initial=0.0)))
        max_rel = max(max_rel, float((diff / np.maximum(magnitude, floor)).max(initial=0.0)))
        passed = passed and bool((diff <= atol + rtol * magnitude).all())
    return OutputReport(name, tuple(ref.shape), tuple(other.shape), max_abs, max_rel, passed)
