"""One entry point for the benchmarks: ``python -m benchmarks [--only NAME] [--repeats N]``.

Each benchmark is a function ``(repeats) -> list of lines`` (a markdown table) in :data:`BENCHMARKS`; add yours
to the list.  Timings are medians of interleaved runs in this one process (onnxruntime with one intra-op thread:
the machine is shared, and one thread keeps the ratios reproducible).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from . import export_speed

BENCHMARKS: list[tuple[str, Callable[[int], list[str]]]] = [
    ("export", export_speed.bench_export),
    ("optimize", export_speed.bench_optimize),
    ("sizes", export_speed.bench_sizes),
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
