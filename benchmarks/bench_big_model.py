"""Peak memory and wall time of converting a full-size FCN-8s (134 M parameters, a 537 MB caffemodel).

```
python benchmarks/bench_big_model.py [--prototxt fcn8s_deploy.prototxt] [--workdir DIR] [--c2o-python PY]
```

Generates a seeded full-size caffemodel for the FCN-8s deploy prototxt with convertkit's own reader and writer
(gaussian fillers on every Convolution / Deconvolution), then runs, each in its own child process:

1. prototxt + caffemodel -> ONNX (one file), 2. that ONNX -> prototxt + caffemodel,
3. prototxt + caffemodel -> ONNX with external data, 4. that ONNX -> prototxt + caffemodel,
5. caffe2onnx (prototxt + caffemodel -> ONNX) when a Python with it is given or found (/work/venv-c2o).

Each child's peak RSS comes from ``os.wait4`` (the child's own ``ru_maxrss``, not the largest child so far) and is
reported against the weight bytes (the float32 blob values); the target is < 1.5x.  Nothing here runs in the
test suite.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FCN8S = "/work/shared/data/caffe/fcn_voc-fcn8s_deploy.prototxt"
C2O_PYTHON = "/work/venv-c2o/bin/python"

GENERATE = """
import sys
from convertkit.codec.caffe import format_prototxt, read_prototxt
from convertkit.formats.caffe import load_caffe, save_caffe
src, filled, out = sys.argv[1:4]
net = read_prototxt(src)
for lp in net.layer:
    if lp.type in ("Convolution", "Deconvolution"):
        cp = lp.convolution_param
        cp.weight_filler.type = "gaussian"
        cp.weight_filler.std = 0.01
        cp.bias_filler.type = "gaussian"
        cp.bias_filler.std = 0.01
with open(filled, "w") as f:
    f.write(format_prototxt(net))
model = load_caffe(filled, input_shapes={"data": (1, 3, 64, 64)}, seed=0)
save_caffe(model, out)
"""

C2O = """
import sys
from caffe2onnx.src.load_save_model import loadcaffemodel, saveonnxmodel
from caffe2onnx.src.caffe2onnx import Caffe2Onnx
prototxt, caffemodel, onnx_path = sys.argv[1:4]
graph, params = loadcaffemodel(prototxt, caffemodel)
saveonnxmodel(Caffe2Onnx(graph, params, onnx_path).createOnnxModel(), onnx_path)
"""


def run(argv: list[str], env: dict[str, str] | None = None, timeout: float = 1e9) -> tuple[float, int, int, str]:
    """(wall seconds, peak RSS bytes, exit status, stderr tail) of one child, killed after ``timeout`` s."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=err, stderr=err, env=env, cwd=ROOT)
        killed = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout and not killed:
                proc.kill()
                killed = True
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        err.seek(0)
        tail = err.read().decode("utf-8", "replace").strip().splitlines()[-2:]
    if killed:
        tail.append(f"stopped after {timeout:g} s (peak RSS {usage.ru_maxrss / 1e6:.1f} GB by then)")
    return wall, usage.ru_maxrss * 1024, proc.returncode, " | ".join(tail)


def weight_bytes(caffemodel: str) -> int:
    sys.path.insert(0, ROOT)
    from convertkit.formats.caffe import read_weights

    return sum(a.nbytes for blobs in read_weights(caffemodel).values() for a in blobs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prototxt", default=FCN8S)
    ap.add_argument("--workdir", default=None, help="keep the files here (default: a temporary folder)")
    ap.add_argument("--c2o-python", default=C2O_PYTHON, help="a Python with caffe2onnx installed")
    ap.add_argument("--c2o-timeout", type=float, default=600, help="seconds caffe2onnx may take (default 600)")
    args = ap.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="convertkit-bench-") as tmp:
        work = args.workdir or tmp
        os.makedirs(work, exist_ok=True)
        j = lambda name: os.path.join(work, name)  # noqa: E731
        wall, rss, rc, err = run([py, "-c", GENERATE, args.prototxt, j("filled.prototxt"), j("gen.prototxt")], env)
        if rc:
            print(f"generating the caffemodel failed (exit {rc}): {err}")
            return 1
        caffemodel = j("gen.caffemodel")
        weights = weight_bytes(caffemodel)
        size = os.path.getsize(caffemodel)
        print(f"FCN-8s: {weights / 1e6:.1f} MB of weights ({weights // 4:,} float32), caffemodel {size / 1e6:.1f} MB")
        print(f"  (generated in {wall:.1f} s, peak RSS {rss / 1e6:.0f} MB)")
        cli = [py, "-m", "convertkit", "convert", "--quiet"]
        steps = [
            ("caffe -> onnx", [*cli, args.prototxt, "--weights", caffemodel, "-o", j("fcn.onnx")], env),
            ("onnx -> caffe", [*cli, j("fcn.onnx"), "-o", j("back.prototxt")], env),
            (
                "caffe -> onnx (external data)",
                [*cli, args.prototxt, "--weights", caffemodel, "-o", j("fcnx.onnx"), "--external-data"],
                env,
            ),
            ("onnx (external data) -> caffe", [*cli, j("fcnx.onnx"), "-o", j("backx.prototxt")], env),
        ]
        rows = []
        for name, argv, step_env in steps:
            wall, rss, rc, err = run(argv, step_env)
            rows.append((f"convertkit {name}", wall, rss, rc, err))
        if os.path.exists(args.c2o_python):
            c2o = [args.c2o_python, "-c", C2O, args.prototxt, caffemodel, j("c2o.onnx")]
            wall, rss, rc, err = run(c2o, timeout=args.c2o_timeout)
            rows.append(("caffe2onnx caffe -> onnx", wall, rss, rc, err))
        else:
            why = f"not run: no Python at {args.c2o_python} (pip install --no-deps caffe2onnx; numpy onnx 'protobuf<4')"
            rows.append(("caffe2onnx caffe -> onnx", 0.0, 0, -1, why))
        print(f"{'step':40s} {'wall s':>7s} {'peak RSS MB':>12s} {'x weights':>10s}")
        for name, wall, rss, rc, err in rows:
            if rc:
                print(f"{name:40s} failed (exit {rc}; {wall:.0f} s, peak RSS {rss / 1e6:.0f} MB): {err}")
            else:
                print(f"{name:40s} {wall:7.1f} {rss / 1e6:12.0f} {rss / weights:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
