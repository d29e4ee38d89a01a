"""One entry point for the benchmarks: ``python -m benchmarks [--only NAME] [--repeats N]``.

Each benchmark is a function ``(repeats)`` that prints its table, in :data:`BENCHMARKS`; add yours to the list.
Timings are medians of interleaved runs in one process, so every ratio compares peers measured in the same run:

- ``export``, ``optimize``, ``sizes`` (:mod:`benchmarks.export_speed`): convertkit's fast exports and
  ``convertkit optimize`` against the literal forms in onnxruntime (one intra-op thread), and the file sizes;
- ``reference`` (:mod:`benchmarks.bench_reference`): the NumPy reference against onnxruntime (its default
  threads), PyTorch and ``onnx.reference``, kernels and a whole FCN-8s forward;
- ``cli`` (:mod:`benchmarks.bench_cli`): the command line's start, ``--help`` and ``validate``;
- ``big`` (:mod:`benchmarks.bench_big_model`): wall time and peak RSS of converting the full-size FCN-8s, next
  to caffe2onnx when a Python with it is found.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable

from . import bench_cli, bench_reference, export_speed


def _reference(repeats: int) -> None:
    print("## the NumPy reference against onnxruntime (default threads), PyTorch and onnx.reference\n\n```")
    bench_reference.main(["--repeats", str(max(repeats, 5))])
    print("```")


def _cli(repeats: int) -> None:
    print("## command-line start\n\n```")
    bench_cli.main(["--repeats", str(max(repeats, 5))])
    print("```")


def _big(repeats: int) -> None:
    # In its own small process: a child started from this one (vfork, then exec) would report this process's
    # peak RSS (the reference benchmarks' gigabytes) as its own ru_maxrss.
    print("## full-size FCN-8s conversion: wall time and peak RSS\n\n```", flush=True)
    subprocess.run([sys.executable, "-m", "benchmarks.bench_big_model"], check=False)
    print("```")


BENCHMARKS: list[tuple[str, Callable[[int], object]]] = [
    ("export", export_speed.bench_export),
    ("optimize", export_speed.bench_optimize),
    ("sizes", export_speed.bench_sizes),
    ("reference", _reference),
    ("cli", _cli),
    ("big", _big),
]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", default=[], help="run only these benchmarks (by name)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    known = [name for name, _ in BENCHMARKS]
    unknown = [n for n in args.only if n not in known]
    if unknown:
        ap.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(known)}")
    for name, bench in BENCHMARKS:
        if args.only and name not in args.only:
            continue
        bench(args.repeats)  # prints its table as it goes
        print()


if __name__ == "__main__":
    main()
