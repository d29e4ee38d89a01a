"""Time the forward reference kernels (Conv, pooling, LRN) against onnxruntime, and PyTorch when installed.

Run from the repository root::

    python benchmarks/bench_kernels.py [--repeats 15] [--gap-ms 300] [--only conv,pool,lrn]

Same protocol as ``bench_reference.py``: onnxruntime and the reference alternate in one process (ORT, ours,
ORT, ours, ...), each timed call follows a sleep (so the other runtime's spinning worker threads go quiet) and an
untimed warm-up call; the table reports medians.  PyTorch, when importable, is timed the same way after the pairs
and is first checked to compute the same thing.  Target: ours/ORT <= 2 for conv and pooling.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from convertkit.reference import average_pool, caffe_pool, conv, lrn, max_pool  # noqa: E402

BLAS_ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


@dataclass(frozen=True)
class Case:
    """One layer: the ONNX node it is, the reference call, and the PyTorch call that should equal it."""

    group: str
    name: str
    op_type: str
    x_shape: tuple[int, ...]
    attributes: dict = field(default_factory=dict)
    w_shape: tuple[int, ...] | None = None


CASES = (
    Case("conv", "conv 1x64x64x64->64 k3 p1", "Conv", (1, 64, 64, 64), {"pads": [1, 1, 1, 1]}, (64, 64, 3, 3)),
    Case(
        "conv",
        "conv 1x3x224x224->64 k7 s2 p3",
        "Conv",
        (1, 3, 224, 224),
        {"strides": [2, 2], "pads": [3, 3, 3, 3]},
        (64, 3, 7, 7),
    ),
    Case(
        "conv",
        "conv grouped 1x64x56x56 g4 k3 p1",
        "Conv",
        (1, 64, 56, 56),
        {"pads": [1, 1, 1, 1], "group": 4},
        (64, 16, 3, 3),
    ),
    Case(
        "conv",
        "conv depthwise 1x64x112x112 k3 p1",
        "Conv",
        (1, 64, 112, 112),
        {"pads": [1, 1, 1, 1], "group": 64},
        (64, 1, 3, 3),
    ),
    Case(
        "conv",
        "conv depthwise 1x64x112x112 k3 s2",
        "Conv",
        (1, 64, 112, 112),
        {"strides": [2, 2], "pads": [1, 1, 1, 1], "group": 64},
        (64, 1, 3, 3),
    ),
    Case("pool", "max k3 s2 1x64x112x112", "MaxPool", (1, 64, 112, 112), {"kernel_shape": [3, 3], "strides": [2, 2]}),
    Case(
        "pool",
        "ave k3 s2 p1 1x64x112x112",
        "AveragePool",
        (1, 64, 112, 112),
        {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": 1},
    ),
    Case(
        "pool",
        "caffe MAX k3 s2 1x64x112x112",
        "CaffeMAX",
        (1, 64, 112, 112),
        {"kernel_shape": [3, 3], "strides": [2, 2]},
    ),
    Case(
        "pool",
        "caffe AVE k3 s2 p1 1x64x112x112",
        "CaffeAVE",
        (1, 64, 112, 112),
        {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
    ),
    Case("lrn", "lrn 1x96x55x55 n5", "LRN", (1, 96, 55, 55), {"size": 5, "alpha": 1e-4, "beta": 0.75, "bias": 1.0}),
)

#: The ONNX node that runs a Caffe pooling case in onnxruntime (Caffe = ceil_mode 1, count_include_pad 1).
CAFFE_AS_ONNX = {
    "CaffeMAX": ("MaxPool", {"ceil_mode": 1}),
    "CaffeAVE": ("AveragePool", {"ceil_mode": 1, "count_include_pad": 1}),
}


def ort_session(case: Case) -> ort.InferenceSession:
    op_type, extra = CAFFE_AS_ONNX.get(case.op_type, (case.op_type, {}))
    inputs = ["x"] + (["w"] if case.w_shape else [])
    attributes: dict = {**case.attributes, **extra}
    node = helper.make_node(op_type, inputs, ["y"], **attributes)
    values = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(case.x_shape))]
    if case.w_shape:
        values.append(helper.make_tensor_value_info("w", TensorProto.FLOAT, list(case.w_shape)))
    graph = helper.make_graph([node], "bench", values, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def reference_call(case: Case, x: np.ndarray, w: np.ndarray | None) -> Callable[[], np.ndarray]:
    a = case.attributes
    if case.op_type == "Conv":
        assert w is not None
        return lambda: conv(x, w, **a)
    if case.op_type == "MaxPool":
        return lambda: max_pool(x, **a)
    if case.op_type == "AveragePool":
        return lambda: average_pool(x, **a)
    if case.op_type == "CaffeMAX":
        return lambda: caffe_pool(x, pool="MAX", **a)
    if case.op_type == "CaffeAVE":
        return lambda: caffe_pool(x, pool="AVE", **a)
    return lambda: lrn(x, **a)


def torch_call(case: Case, x: np.ndarray, w: np.ndarray | None) -> Callable[[], np.ndarray] | None:
    """The same layer in PyTorch, or None (no torch, or a layer it spells differently)."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    tx = torch.from_numpy(x)
    a = case.attributes
    pads = a.get("pads", [0, 0, 0, 0])
    if pads[:2] != pads[2:]:
        return None
    if case.op_type == "Conv":
        tw = torch.from_numpy(w)

        def run():
            return F.conv2d(tx, tw, stride=a.get("strides", 1), padding=pads[:2], groups=a.get("group", 1))
    elif case.op_type in ("MaxPool", "CaffeMAX"):

        def run():
            return F.max_pool2d(tx, a["kernel_shape"], a["strides"], pads[:2], ceil_mode=case.op_type == "CaffeMAX")
    elif case.op_type in ("AveragePool", "CaffeAVE"):

        def run():
            return F.avg_pool2d(tx, a["kernel_shape"], a["strides"], pads[:2], ceil_mode=case.op_type == "CaffeAVE")
    else:

        def run():
            return F.local_response_norm(tx, a["size"], alpha=a["alpha"], beta=a["beta"], k=a["bias"])

    def call() -> np.ndarray:
        with torch.no_grad():
            return run().numpy()

    return call


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def interleaved_times(first, second, repeats: int, gap: float) -> tuple[list[float], list[float]]:
    """Alternate the two calls; each timed call after a sleep of ``gap`` seconds and one untimed call."""
    first_times: list[float] = []
    second_times: list[float] = []
    for _ in range(repeats):
        for call, times in ((first, first_times), (second, second_times)):
            time.sleep(gap)
            call()
            times.append(timed(call))
    return first_times, second_times


def solo_times(call, repeats: int, gap: float) -> list[float]:
    times = []
    for _ in range(repeats):
        time.sleep(gap)
        call()
        times.append(timed(call))
    return times


def relative_error(got: np.ndarray, expected: np.ndarray) -> float:
    return float(np.max(np.abs(got - expected)) / max(1.0, float(np.max(np.abs(expected)))))


def bench_case(case: Case, repeats: int, gap: float) -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(case.x_shape, dtype=np.float32)
    w = rng.standard_normal(case.w_shape, dtype=np.float32) if case.w_shape else None
    session = ort_session(case)
    feeds = {"x": x} if w is None else {"x": x, "w": w}

    def run_ort():
        return session.run(None, feeds)[0]

    run_ours = reference_call(case, x, w)
    expected = run_ort()
    error = relative_error(run_ours(), expected)
    if error > 1e-4:
        raise SystemExit(f"{case.name}: the reference disagrees with onnxruntime (relative error {error:.1e})")
    ort_times, our_times = interleaved_times(run_ort, run_ours, repeats, gap)
    ort_median = statistics.median(ort_times)
    torch_ratio = float("nan")
    run_torch = torch_call(case, x, w)
    if run_torch is not None:
        got = run_torch()
        if got.shape != expected.shape or relative_error(got, expected) > 1e-4:
            raise SystemExit(f"{case.name}: PyTorch disagrees with onnxruntime; not a valid peer")
        torch_ratio = statistics.median(solo_times(run_torch, repeats, gap)) / ort_median
    return {
        "case": case.name,
        "ort_ms": 1e3 * ort_median,
        "ours_ms": 1e3 * statistics.median(our_times),
        "ratio": statistics.median(our_times) / ort_median,
        "best_ratio": min(our_times) / min(ort_times),
        "torch_ratio": torch_ratio,
        "rel_err": error,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed calls per runtime and case (median kept)")
    parser.add_argument("--gap-ms", type=float, default=300.0, help="sleep before each timed call")
    parser.add_argument("--only", default="conv,pool,lrn", help="comma-separated groups: conv, pool, lrn")
    args = parser.parse_args(argv)
    groups = set(args.only.split(","))

    print(f"numpy {np.__version__}, onnxruntime {ort.__version__}, cpus {os.cpu_count()}")
    print(
        f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} (another busy process on a 2-core VM "
        "makes OpenBLAS's and onnxruntime's spinning threads wait for each other: read best-of as well)"
    )
    blas_env = {name: os.environ[name] for name in BLAS_ENV_VARS if name in os.environ}
    print("BLAS environment: " + (", ".join(f"{k}={v}" for k, v in blas_env.items()) or "none set"))
    header = (
        f"{'case':<36} {'ORT ms':>8} {'ours ms':>8} {'ours/ORT':>9} {'best-of':>8} {'torch/ORT':>10} {'rel err':>8}"
    )
    print(header)
    print("-" * len(header))
    for case in CASES:
        if case.group not in groups:
            continue
        row = bench_case(case, args.repeats, args.gap_ms / 1e3)
        print(
            f"{row['case']:<36} {row['ort_ms']:>8.2f} {row['ours_ms']:>8.2f} {row['ratio']:>9.2f} "
            f"{row['best_ratio']:>8.2f} {row['torch_ratio']:>10.2f} {row['rel_err']:>8.1e}"
        )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(
        f"medians of {args.repeats} interleaved calls; best-of = fastest ours / fastest ORT; torch = PyTorch CPU "
        "(nan: not installed); target ours/ORT <= 2 for conv and pooling"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
