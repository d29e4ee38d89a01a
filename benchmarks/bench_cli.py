"""Time the ``convertkit`` command line's start: ``--help``, every ``COMMAND --help``, ``validate`` of a small spec.

Run from the repository root::

    python benchmarks/bench_cli.py [--repeats 7]

Each command runs as a fresh ``python -m convertkit ...`` process (this checkout first on ``PYTHONPATH``); the
table reports the median and fastest wall time of ``--repeats`` runs, interleaved command by command, next to
``python -c pass`` (the interpreter's own start, which no change in convertkit can remove) and the heavy modules
the process imported.  Targets (issue 10): ``--help`` and ``COMMAND --help`` <= 0.15 s, ``validate`` of a small
spec <= 0.4 s.

Bytecode: with ``PYTHONDONTWRITEBYTECODE`` set (as on some CI machines) every start compiles convertkit's sources
again, which costs more than the imports; the script therefore gives the children a bytecode cache of their own
(``PYTHONPYCACHEPREFIX`` in a temporary folder, warmed by one untimed run of each command) unless ``--no-pycache``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "onnx", "onnxruntime", "google.protobuf", "cv2", "yaml", "jsonschema")
COMMANDS = ("convert", "run", "check", "validate", "schema", "explain")
TARGETS = {"help": 0.15, "validate": 0.4}

PROBE = """
import runpy, sys
sys.argv = ["convertkit", *{args!r}]
try:
    runpy.run_module("convertkit", run_name="__main__")
except SystemExit:
    pass
heavy = sorted({{m.split(".")[0] if not m.startswith("google.protobuf") else "google.protobuf" for m in sys.modules
                if m.split(".")[0] in {heavy!r} or m.startswith("google.protobuf")}})
print("HEAVY:" + ",".join(heavy), file=sys.stderr)
"""


def environment(pycache: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def run_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO, check=False)
    return time.perf_counter() - start


def heavy_imports(args: list[str], env: dict[str, str]) -> str:
    code = PROBE.format(args=args, heavy=HEAVY)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=REPO)
    lines = [line for line in r.stderr.splitlines() if line.startswith("HEAVY:")]
    return (lines[-1].removeprefix("HEAVY:") or "none") if lines else "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-pycache", action="store_true", help="keep the environment's bytecode settings")
    args = parser.parse_args(argv)

    spec = REPO / "examples" / "seed_5x5.json"
    rows = [("python -c pass", [sys.executable, "-c", "pass"], None, None)]
    rows.append(("convertkit --help", [sys.executable, "-m", "convertkit", "--help"], ["--help"], "help"))
    for command in COMMANDS:
        rows.append(
            (f"convertkit {command} --help", [sys.executable, "-m", "convertkit", command, "--help"],
             [command, "--help"], "help")
        )  # fmt: skip
    rows.append(
        ("convertkit validate seed_5x5.json", [sys.executable, "-m", "convertkit", "validate", str(spec)],
         ["validate", str(spec)], "validate")
    )  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="convertkit-pycache-") as cache:
        env = environment(None if args.no_pycache else cache)
        for _name, command, _args, _target in rows:
            run_once(command, env)  # warm the bytecode cache and the page cache
        times: dict[str, list[float]] = {name: [] for name, *_ in rows}
        for _ in range(args.repeats):
            for name, command, _args, _target in rows:
                times[name].append(run_once(command, env))
        print(f"python {sys.version.split()[0]}, cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}, "
              f"bytecode cache: {'environment' if args.no_pycache else 'private, warm'}")  # fmt: skip
        header = f"{'command':<40} {'median s':>9} {'best s':>7} {'target':>7}  heavy modules imported"
        print(header)
        print("-" * (len(header) + 10))
        for name, _command, probe_args, target in rows:
            heavy = heavy_imports(probe_args, env) if probe_args is not None else "-"
            limit = TARGETS.get(target or "", float("nan"))
            median = statistics.median(times[name])
            mark = " *" if median > limit else ""
            print(f"{name:<40} {median:>9.3f} {min(times[name]):>7.3f} {limit:>7.2f}  {heavy}{mark}")
    print(f"medians of {args.repeats} interleaved runs; * = over target")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
