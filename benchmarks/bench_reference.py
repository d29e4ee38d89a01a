"""Time convertkit.reference.conv_transpose against onnxruntime on four representative deconvolutions.

Run from the repository root::

    python benchmarks/bench_reference.py [--repeats 15] [--gap-ms 300] [--skip-scatter]

ORT and the reference run alternately (ORT, ours, ORT, ours, ...) in one process so that machine noise hits
both alike; the table reports medians.  Before each timed call the script sleeps, then makes one untimed call
of the same runtime.  The sleep is there because both runtimes keep their worker threads spinning after a
call (OpenBLAS, behind numpy's matmul, for about 0.2 s), and on a small machine those spinning threads steal
the cores the other runtime is about to use: without it ORT measured up to 3x slower right after a numpy
GEMM on a 2-core VM.  The untimed call warms the runtime's own caches and threads after the sleep, so both
are timed in steady state.
``conv_transpose_scatter`` (the per-pixel oracle) runs once per case, for scale only.  When PyTorch is
installed, its CPU ``conv_transpose{1,2,3}d`` is timed too (same gap-and-warm-up protocol, after the interleaved
pairs) as another peer.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from convertkit.reference import conv_transpose, conv_transpose_scatter  # noqa: E402

#: Environment variables that change OpenBLAS behaviour (and so numpy's GEMM speed) on this kind of machine.
BLAS_ENV_VARS = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OPENBLAS_THREAD_TIMEOUT",
    "OMP_NUM_THREADS",
)


@dataclass(frozen=True)
class Case:
    name: str
    x_shape: tuple[int, ...]
    w_shape: tuple[int, ...]
    attributes: dict = field(default_factory=dict)


CASES = (
    Case("a 2-D 64->32 k4 s2 p1", (1, 64, 64, 64), (64, 32, 4, 4), {"strides": [2, 2], "pads": [1, 1, 1, 1]}),
    Case("b 2-D N8 128->64 k4 s2 p1", (8, 128, 32, 32), (128, 64, 4, 4), {"strides": [2, 2], "pads": [1, 1, 1, 1]}),
    Case(
        "c 3-D 16->8 k3 s2 p1 op1",
        (1, 16, 16, 16, 16),
        (16, 8, 3, 3, 3),
        {"strides": [2, 2, 2], "pads": [1] * 6, "output_padding": [1, 1, 1]},
    ),
    Case(
        "d depthwise bilinear x8, C=21",
        (1, 21, 64, 64),
        (21, 1, 16, 16),
        {"strides": [8, 8], "pads": [4, 4, 4, 4], "group": 21},
    ),
)


def ort_session(case: Case) -> ort.InferenceSession:
    """A one-node ConvTranspose model with x and w as graph inputs, in a default CPU session."""
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], **case.attributes)
    graph = helper.make_graph(
        [node],
        "bench",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, list(case.x_shape)),
            helper.make_tensor_value_info("w", TensorProto.FLOAT, list(case.w_shape)),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def interleaved_times(first, second, repeats: int, gap: float) -> tuple[list[float], list[float]]:
    """Alternate the two calls ``repeats`` times; seconds per call.

    Each timed call follows a sleep of ``gap`` seconds (the other runtime's threads go quiet) and one untimed
    call of the same function (its own caches and threads are warm), so both are measured in steady state.
    """
    first_times, second_times = [], []
    for _ in range(repeats):
        for call, times in ((first, first_times), (second, second_times)):
            time.sleep(gap)
            call()
            times.append(timed(call))
    return first_times, second_times


def bench_case(case: Case, repeats: int, gap: float, run_scatter: bool) -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(case.x_shape, dtype=np.float32)
    w = rng.standard_normal(case.w_shape, dtype=np.float32)
    session = ort_session(case)
    feeds = {"x": x, "w": w}

    def run_ort():
        return session.run(None, feeds)[0]

    def run_ours():
        return conv_transpose(x, w, **case.attributes)

    expected, got = run_ort(), run_ours()  # warm-up, and a check that both compute the same thing
    error = float(np.max(np.abs(expected - got)) / max(1.0, float(np.max(np.abs(expected)))))
    ort_times, our_times = interleaved_times(run_ort, run_ours, repeats, gap)
    scatter_s = timed(lambda: conv_transpose_scatter(x, w, **case.attributes)) if run_scatter else float("nan")
    ort_median = statistics.median(ort_times)
    torch_ratio = torch_median(case, x, w, expected, repeats, gap) / ort_median
    return {
        "case": case.name,
        "ort_ms": 1e3 * ort_median,
        "ours_ms": 1e3 * statistics.median(our_times),
        "ratio": statistics.median(our_times) / ort_median,
        "best_ratio": min(our_times) / min(ort_times),
        "scatter_ratio": scatter_s / ort_median,
        "torch_ratio": torch_ratio,
        "rel_err": error,
    }


def torch_median(case: Case, x: np.ndarray, w: np.ndarray, expected: np.ndarray, repeats: int, gap: float) -> float:
    """Median seconds of PyTorch's conv_transpose on the same layer, or NaN without torch."""
    try:
        import torch
    except ImportError:
        return float("nan")
    n = x.ndim - 2
    attrs = case.attributes
    pads = attrs.get("pads", [0] * 2 * n)
    if pads[:n] != pads[n:]:
        return float("nan")  # PyTorch pads symmetrically
    fn = {
        1: torch.nn.functional.conv_transpose1d,
        2: torch.nn.functional.conv_transpose2d,
        3: torch.nn.functional.conv_transpose3d,
    }[n]
    tx, tw = torch.from_numpy(x), torch.from_numpy(w)

    def run_torch():
        with torch.no_grad():
            return fn(
                tx,
                tw,
                stride=attrs.get("strides", 1),
                padding=pads[:n],
                output_padding=attrs.get("output_padding", 0),
                groups=attrs.get("group", 1),
            )

    got = run_torch().numpy()
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-4, atol=1e-3):
        raise SystemExit(f"{case.name}: PyTorch disagrees with onnxruntime; not a valid peer")
    times = []
    for _ in range(repeats):
        time.sleep(gap)
        run_torch()
        times.append(timed(run_torch))
    return statistics.median(times)


def report_blas_environment() -> None:
    blas_env = {name: os.environ[name] for name in BLAS_ENV_VARS if name in os.environ}
    if not blas_env:
        print("BLAS environment: none of " + ", ".join(BLAS_ENV_VARS) + " set")
        return
    print("BLAS environment: " + ", ".join(f"{k}={v}" for k, v in blas_env.items()))
    print(
        "  OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE can slow numpy's GEMM; compare with\n"
        "  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_reference.py"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed calls per runtime and case (median kept)")
    parser.add_argument("--gap-ms", type=float, default=300.0, help="sleep before each timed call")
    parser.add_argument("--skip-scatter", action="store_true", help="do not time the slow scatter oracle")
    args = parser.parse_args(argv)

    print(f"numpy {np.__version__}, onnxruntime {ort.__version__}, cpus {os.cpu_count()}")
    report_blas_environment()
    header = (
        f"{'case':<32} {'ORT ms':>8} {'ours ms':>8} {'ours/ORT':>9} {'best-of':>8} {'torch/ORT':>10} "
        f"{'scatter/ORT':>12} {'rel err':>8}"
    )
    print(header)
    print("-" * len(header))
    for case in CASES:
        row = bench_case(case, args.repeats, args.gap_ms / 1e3, not args.skip_scatter)
        print(
            f"{row['case']:<32} {row['ort_ms']:>8.2f} {row['ours_ms']:>8.2f} {row['ratio']:>9.2f} "
            f"{row['best_ratio']:>8.2f} {row['torch_ratio']:>10.2f} {row['scatter_ratio']:>12.1f} "
            f"{row['rel_err']:>8.1e}"
        )
    print(
        f"medians of {args.repeats} interleaved calls; best-of = fastest ours / fastest ORT; "
        "torch = PyTorch CPU (nan: not installed); scatter timed once; target ours/ORT <= 2"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
