"""Shared timing helpers: interleaved medians of onnxruntime sessions in one process."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = ["session", "interleaved", "time_models"]


def session(proto: Any, threads: int = 1) -> Any:
    """An onnxruntime CPU session of ``proto`` (``threads`` intra-op threads; 1 keeps a shared machine's noise down)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(proto.SerializeToString(), opts, providers=["CPUExecutionProvider"])


#: Fast calls are repeated until a round of them has taken about this long (a median of 5 runs of 1 ms says
#: little on a shared machine, where one preemption costs several ms).
MIN_SECONDS = 1.0
MAX_REPEATS = 201


def interleaved(calls: Mapping[str, Callable[[], Any]], repeats: int = 9, warmup: int = 2) -> dict[str, float]:
    """Median seconds of each call, the calls taken in turn (a, b, a, b, ...) so machine noise hits all alike;
    at least ``repeats`` rounds, more (up to :data:`MAX_REPEATS`) while a round is short."""
    round_s = 0.0
    for _ in range(warmup):
        t0 = time.perf_counter()
        for call in calls.values():
            call()
        round_s = time.perf_counter() - t0
    if round_s > 0:
        repeats = min(MAX_REPEATS, max(repeats, int(MIN_SECONDS / round_s)))
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            t0 = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def time_models(
    models: Mapping[str, Any], feeds: Mapping[str, np.ndarray], repeats: int = 9, threads: int = 1
) -> dict[str, float]:
    """Median onnxruntime run time (seconds) of each ONNX model on ``feeds``, interleaved."""
    sessions = {name: session(proto, threads) for name, proto in models.items()}
    return interleaved({name: (lambda s=s: s.run(None, dict(feeds))) for name, s in sessions.items()}, repeats)
