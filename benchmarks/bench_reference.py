"""Time convertkit's NumPy reference against onnxruntime, PyTorch (when installed) and onnx.reference.

Run from the repository root::

    python benchmarks/bench_reference.py [--repeats 9] [--gap-ms 200] [--only convtranspose,resize,conv,pool,fcn8s]
                                         [--skip-onnx-reference] [--fcn8s-size 75x61]

Protocol: the runtimes alternate in one process (ORT, ours, torch, ORT, ours, torch, ...); each timed call follows
a sleep (the previous runtime's spinning worker threads go quiet: OpenBLAS's for about 0.2 s) and one untimed
warm-up call of the same runtime, so every runtime is timed in steady state.  The table reports medians and the
ratios to onnxruntime (default CPU session: as many intra-op threads as cores).  ``onnx.reference`` (the ONNX
package's Python evaluator) is slow; it runs once per case, for scale.  Every peer is first checked to compute the
same output as onnxruntime.

Targets (issue 10): ConvTranspose and Resize ours/ORT <= 1.5, Conv and Pooling <= 2, a whole FCN-8s <= 3.

The FCN-8s row reads /work/shared/data/caffe/fcn_voc-fcn8s_deploy.prototxt (``--caffe-dir``) with a seeded
caffemodel made by tests/test_real_nets.py's ``seeded_caffemodel`` (written once under ``--workdir``; 538 MB).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from convertkit.reference import conv, conv_transpose, max_pool, resize  # noqa: E402

BLAS_ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


@dataclass(frozen=True)
class Case:
    group: str
    name: str
    op_type: str
    x_shape: tuple[int, ...]
    attributes: dict = field(default_factory=dict)
    w_shape: tuple[int, ...] | None = None
    #: Resize: the scales input
    scales: tuple[float, ...] | None = None


def _ct(name, x, w, **attrs) -> Case:
    return Case("convtranspose", name, "ConvTranspose", x, attrs, w)


CASES = (
    _ct("ct a 1x64x64x64->32 k4 s2 p1", (1, 64, 64, 64), (64, 32, 4, 4), strides=[2, 2], pads=[1, 1, 1, 1]),
    _ct("ct b 8x128x32x32->64 k4 s2 p1", (8, 128, 32, 32), (128, 64, 4, 4), strides=[2, 2], pads=[1, 1, 1, 1]),
    _ct(
        "ct c 3-D 1x16x16^3->8 k3 s2 p1 op1",
        (1, 16, 16, 16, 16),
        (16, 8, 3, 3, 3),
        strides=[2, 2, 2],
        pads=[1] * 6,
        output_padding=[1, 1, 1],
    ),
    _ct(
        "ct d depthwise bilinear x8 1x21x64x64",
        (1, 21, 64, 64),
        (21, 1, 16, 16),
        strides=[8, 8],
        pads=[4] * 4,
        group=21,
    ),  # fmt: skip
    *(
        Case("resize", f"resize {mode} x{s} 1x21x64x64", "Resize", (1, 21, 64, 64), attrs, scales=(1, 1, s, s))
        for mode, attrs in (
            ("linear", {"mode": "linear", "coordinate_transformation_mode": "half_pixel"}),
            ("nearest", {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}),
        )
        for s in (2, 8)
    ),
    Case("conv", "conv 1x64x64x64->64 k3 p1", "Conv", (1, 64, 64, 64), {"pads": [1] * 4}, (64, 64, 3, 3)),
    Case("conv", "conv 1x3x75x61->64 k3 p100 (FCN)", "Conv", (1, 3, 75, 61), {"pads": [100] * 4}, (64, 3, 3, 3)),
    Case("conv", "conv 1x512x17x16->512 k3 p1", "Conv", (1, 512, 17, 16), {"pads": [1] * 4}, (512, 512, 3, 3)),
    Case(
        "pool", "maxpool 1x64x128x128 k2 s2", "MaxPool", (1, 64, 128, 128), {"kernel_shape": [2, 2], "strides": [2, 2]}
    ),  # fmt: skip
    Case(
        "pool",
        "maxpool 1x64x112x112 k3 s2 p1",
        "MaxPool",
        (1, 64, 112, 112),
        {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1] * 4},
    ),  # fmt: skip
)


def onnx_model(case: Case):
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(case.x_shape))]
    names, initializers = ["x"], []
    if case.w_shape is not None:
        inputs.append(helper.make_tensor_value_info("w", TensorProto.FLOAT, list(case.w_shape)))
        names.append("w")
    if case.scales is not None:
        names += ["", "scales"]
        initializers.append(numpy_helper.from_array(np.asarray(case.scales, np.float32), "scales"))
    node = helper.make_node(case.op_type, names, ["y"], **case.attributes)
    graph = helper.make_graph(
        [node], "bench", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=initializers
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])


def ours_call(case: Case, feeds: dict) -> Callable[[], np.ndarray]:
    x, w, a = feeds["x"], feeds.get("w"), case.attributes
    if case.op_type == "ConvTranspose":
        return lambda: conv_transpose(x, w, **a)
    if case.op_type == "Conv":
        return lambda: conv(x, w, **a)
    if case.op_type == "MaxPool":
        return lambda: max_pool(x, **a)
    return lambda: resize(x, scales=list(case.scales), **a)


def torch_call(case: Case, feeds: dict) -> Callable[[], np.ndarray] | None:
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    x = torch.from_numpy(feeds["x"])
    w = torch.from_numpy(feeds["w"]) if "w" in feeds else None
    a, rank = case.attributes, len(case.x_shape) - 2
    pads = a.get("pads", [0] * 2 * rank)
    if pads[:rank] != pads[rank:]:
        return None
    if case.op_type == "ConvTranspose":
        fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[rank - 1]

        def run():
            return fn(x, w, stride=a.get("strides", 1), padding=pads[:rank], output_padding=a.get("output_padding", 0),
                      groups=a.get("group", 1))  # fmt: skip
    elif case.op_type == "Conv":

        def run():
            return F.conv2d(x, w, padding=pads[:rank], stride=a.get("strides", 1), groups=a.get("group", 1))
    elif case.op_type == "MaxPool":

        def run():
            return F.max_pool2d(x, a["kernel_shape"], a.get("strides"), pads[:rank])
    elif a["mode"] == "linear":

        def run():
            return F.interpolate(x, scale_factor=case.scales[2:], mode="bilinear", align_corners=False)
    else:

        def run():
            return F.interpolate(x, scale_factor=case.scales[2:], mode="nearest")

    def call() -> np.ndarray:
        with torch.no_grad():
            return run().numpy()

    return call


def onnx_reference_call(case: Case, feeds: dict) -> Callable[[], np.ndarray]:
    from onnx.reference import ReferenceEvaluator

    evaluator = ReferenceEvaluator(onnx_model(case))
    return lambda: evaluator.run(None, feeds)[0]


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def interleaved(calls: dict[str, Callable[[], object]], repeats: int, gap: float) -> dict[str, list[float]]:
    """Seconds per call of each runtime, the runtimes alternating; each timed call after a sleep and a warm-up."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            time.sleep(gap)
            call()
            times[name].append(timed(call))
    return times


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want)) / max(1.0, float(np.max(np.abs(want)))))


def bench_case(case: Case, repeats: int, gap: float, with_onnx_reference: bool) -> dict:
    rng = np.random.default_rng(0)
    feeds = {"x": rng.standard_normal(case.x_shape, dtype=np.float32)}
    if case.w_shape is not None:
        feeds["w"] = rng.standard_normal(case.w_shape, dtype=np.float32)
    session = ort.InferenceSession(onnx_model(case).SerializeToString(), providers=["CPUExecutionProvider"])
    calls = {"ort": lambda: session.run(None, feeds)[0], "ours": ours_call(case, feeds)}
    peer = torch_call(case, feeds)
    if peer is not None:
        calls["torch"] = peer
    want = calls["ort"]()
    errors = {}
    for name, call in calls.items():
        got = call()
        if got.shape != want.shape or relative_error(got, want) > 1e-4:
            raise SystemExit(f"{case.name}: {name} disagrees with onnxruntime; not a valid comparison")
        errors[name] = relative_error(got, want)
    times = interleaved(calls, repeats, gap)
    medians = {name: statistics.median(t) for name, t in times.items()}
    row = {"case": case.name, "group": case.group, "ort_ms": 1e3 * medians["ort"], "ours_ms": 1e3 * medians["ours"]}
    row["ours/ORT"] = medians["ours"] / medians["ort"]
    row["best-of"] = min(times["ours"]) / min(times["ort"])
    row["torch/ORT"] = medians["torch"] / medians["ort"] if "torch" in medians else float("nan")
    row["onnx.reference/ORT"] = float("nan")
    if with_onnx_reference:
        run = onnx_reference_call(case, feeds)
        row["onnx.reference/ORT"] = timed(run) / medians["ort"]
    row["rel err"] = errors["ours"]
    return row


def bench_fcn8s(size: tuple[int, int], repeats: int, gap: float, caffe_dir: Path, workdir: Path) -> dict:
    """The whole FCN-8s deploy net: convertkit's reference forward against onnxruntime on its ONNX export."""
    import convertkit
    from tests.test_real_nets import seeded_caffemodel

    source = caffe_dir / "fcn_voc-fcn8s_deploy.prototxt"
    shape = (1, 3, *size)
    workdir.mkdir(parents=True, exist_ok=True)
    caffemodel = workdir / "fcn8s_seeded.caffemodel"
    if not caffemodel.exists():
        seeded_caffemodel(source, shape, caffemodel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = convertkit.load(str(source), weights=str(caffemodel), input_shapes={"data": shape})
    onnx_path = workdir / f"fcn8s_{size[0]}x{size[1]}.onnx"
    convertkit.save(model, str(onnx_path))
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    name = session.get_inputs()[0].name
    calls = {
        "ort": lambda: session.run(None, {name: x})[0],
        "ours": lambda: convertkit.run(model, {model.inputs[0]: x})[model.outputs[0]],
    }
    error = relative_error(calls["ours"](), calls["ort"]())
    times = interleaved(calls, repeats, gap)
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {
        "case": f"FCN-8s whole net 1x3x{size[0]}x{size[1]}",
        "group": "fcn8s",
        "ort_ms": 1e3 * medians["ort"],
        "ours_ms": 1e3 * medians["ours"],
        "ours/ORT": medians["ours"] / medians["ort"],
        "best-of": min(times["ours"]) / min(times["ort"]),
        "torch/ORT": float("nan"),
        "onnx.reference/ORT": float("nan"),
        "rel err": error,
    }


TARGETS = {"convtranspose": 1.5, "resize": 1.5, "conv": 2.0, "pool": 2.0, "fcn8s": 3.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="timed calls per runtime and case (median kept)")
    parser.add_argument("--gap-ms", type=float, default=200.0, help="sleep before each timed call")
    parser.add_argument("--only", default=",".join(TARGETS), help="comma-separated groups: " + ", ".join(TARGETS))
    parser.add_argument("--skip-onnx-reference", action="store_true", help="do not time onnx.reference")
    parser.add_argument("--fcn8s-size", default="75x61", help="FCN-8s input H x W")
    parser.add_argument("--caffe-dir", type=Path, default=REPO.parent / "shared" / "data" / "caffe")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/convertkit-bench"))
    args = parser.parse_args(argv)
    groups = set(args.only.split(","))

    blas = {k: os.environ[k] for k in BLAS_ENV_VARS if k in os.environ}
    print(f"numpy {np.__version__}, onnxruntime {ort.__version__}, cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}"
          f", BLAS environment: {blas or 'none set'}")  # fmt: skip
    header = f"{'case':<40} {'ORT ms':>9} {'ours ms':>9} {'ours/ORT':>9} {'target':>7} {'best-of':>8} {'torch/ORT':>10}"
    header += f" {'onnxref/ORT':>12} {'rel err':>8}"
    print(header)
    print("-" * len(header))
    rows = [bench_case(c, args.repeats, args.gap_ms / 1e3, not args.skip_onnx_reference) for c in CASES
            if c.group in groups]  # fmt: skip
    for row in rows:
        print_row(row)
    if "fcn8s" in groups:
        h, w = (int(v) for v in args.fcn8s_size.lower().split("x"))
        row = bench_fcn8s((h, w), max(3, args.repeats // 3), args.gap_ms / 1e3, args.caffe_dir, args.workdir)
        print_row(row)
        rows.append(row)
    met = sum(row["ours/ORT"] <= TARGETS[row["group"]] for row in rows)
    print(f"medians of interleaved calls; best-of = fastest ours / fastest ORT; torch = PyTorch CPU (nan: not "
          f"installed or spelled differently); onnx.reference timed once; targets met: {met}/{len(rows)}")  # fmt: skip
    return 0


def print_row(row: dict) -> None:
    target = TARGETS[row["group"]]
    mark = "" if row["ours/ORT"] <= target else " *"
    print(
        f"{row['case']:<40} {row['ort_ms']:>9.2f} {row['ours_ms']:>9.2f} {row['ours/ORT']:>9.2f} {target:>7.1f} "
        f"{row['best-of']:>8.2f} {row['torch/ORT']:>10.2f} {row['onnx.reference/ORT']:>12.1f} {row['rel err']:>8.1e}"
        f"{mark}",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
