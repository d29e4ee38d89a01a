"""convertkit's ONNX export (``optimize="speed"``) against the literal form, in onnxruntime, and the
``convertkit optimize`` exams (a PyTorch FCN head, FCN-8s as caffe2onnx writes it), with file sizes."""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Iterator

import numpy as np

from .timing import time_models

SHAPE = (1, 21, 64, 64)
#: Target speedups (export vs literal) from issue 10; None: never slower.
TARGETS = {"bilinear x2": 1.0, "bilinear x8": 2.0, "bilinear x32": 8.0}


def _recipe(f: int) -> tuple[int, int]:
    return 2 * f - f % 2, (f - 1 + 1) // 2


def export_cases(shape: tuple[int, ...] = SHAPE) -> Iterator[tuple[str, object]]:
    import convertkit as ck
    from convertkit.fillers import Filler, Values, bilinear_kernel
    from convertkit.layers.deconvolution import Padding

    c = shape[1]
    x = ck.Input(name="x", shape=shape)
    for f in (2, 8, 32):
        k, p = _recipe(f)
        yield (
            f"bilinear x{f}",
            ck.Model([x, ck.Upsample(name="up", input="x", mode="linear", semantics="deconvolution", scales=(f, f))]),
        )
    for f in (2, 8):
        yield (
            f"nearest x{f}",
            ck.Model(
                [
                    x,
                    ck.Deconvolution(
                        name="up",
                        input="x",
                        out_channels=c,
                        group=c,
                        kernel_shape=(f, f),
                        strides=(f, f),
                        bias_term=False,
                        weight=Filler(type="constant", value=1.0),
                    ),
                ]
            ),
        )
    for f in (8, 32):
        k, p = _recipe(f)
        w = np.zeros((c, c, k, k), np.float32)
        w[np.arange(c), np.arange(c)] = bilinear_kernel((k, k))
        yield (
            f"FCN diagonal x{f}",
            ck.Model(
                [
                    x,
                    ck.Deconvolution(
                        name="up",
                        input="x",
                        out_channels=c,
                        kernel_shape=(k, k),
                        strides=(f, f),
                        padding=Padding(pads=(p,) * 4),
                        bias_term=False,
                        weight=Values(array=w),
                    ),
                ]
            ),
        )
    for z in (8, 16):  # z8: 505x505, the dense form; z16: past its limits, Resize stays
        yield (
            f"align_corners z{z}",
            ck.Model(
                [
                    x,
                    ck.Upsample(
                        name="up",
                        input="x",
                        mode="linear",
                        coordinate_transformation_mode="align_corners",
                        sizes=tuple(z * (d - 1) + 1 for d in shape[2:]),
                    ),
                ]
            ),
        )


def _form(proto) -> str:
    """``Resize`` or ``6 nodes: ConvTranspose x1, Conv x1``: what the export computes with."""
    ops = [n.op_type for n in proto.graph.node]
    if len(ops) == 1:
        return ops[0]
    main = [op for op in ("ConvTranspose", "Conv", "Resize", "MatMul") if op in ops]
    return f"{len(ops)} nodes: " + ", ".join(f"{op} x{ops.count(op)}" for op in main)


def bench_export(repeats: int = 5) -> list[str]:
    """Literal export vs convertkit's (medians of interleaved onnxruntime runs, one thread)."""
    from convertkit.formats.onnx import to_onnx

    lines = [
        f"## export vs literal, onnxruntime, {'x'.join(map(str, SHAPE))}, 1 thread, median of {repeats}",
        "",
        "| case | literal ms | export ms | speedup | target | export form |",
        "|---|---:|---:|---:|---:|---|",
    ]
    print("\n".join(lines), flush=True)
    x = {"x": np.random.default_rng(0).standard_normal(SHAPE).astype(np.float32)}
    for label, model in export_cases():
        literal, fast = (
            to_onnx(model, optimize="none", target="onnxruntime"),
            to_onnx(model, optimize="speed", target="onnxruntime"),
        )
        t = time_models({"literal": literal, "export": fast}, x, repeats)
        ratio = t["literal"] / t["export"]
        target = TARGETS.get(label)
        mark = "" if target is None else (f">= {target:g}x " + ("met" if ratio >= target else "MISSED"))
        form = _form(fast)
        lines.append(
            f"| {label} | {t['literal'] * 1e3:.2f} | {t['export'] * 1e3:.2f} | {ratio:.2f}x | {mark} | {form} |"
        )
        print(lines[-1], flush=True)
    return lines


def _torch_fcn_head(path: str) -> bool:
    """wkentaro/pytorch-fcn's FCN-8s decoder (diagonal bilinear ConvTranspose2d) on a narrow encoder."""
    try:
        import torch
        import torch.nn as nn
    except ImportError:
        return False

    def upsampling_weight(n: int, k: int) -> torch.Tensor:
        f = (k + 1) // 2
        center = f - 1 if k % 2 == 1 else f - 0.5
        og = np.ogrid[:k, :k]
        filt = (1 - abs(og[0] - center) / f) * (1 - abs(og[1] - center) / f)
        w = np.zeros((n, n, k, k), np.float64)
        w[range(n), range(n)] = filt
        return torch.from_numpy(w).float()

    class Head(nn.Module):
        def __init__(self, n: int = 21) -> None:
            super().__init__()
            torch.manual_seed(0)
            self.enc3 = nn.Sequential(
                nn.Conv2d(3, 8, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(8, 16, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.MaxPool2d(2),
            )
            self.enc4 = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
            self.enc5 = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
            self.score_fr, self.score_pool4, self.score_pool3 = (
                nn.Conv2d(32, n, 1),
                nn.Conv2d(16, n, 1),
                nn.Conv2d(16, n, 1),
            )
            self.upscore2 = nn.ConvTranspose2d(n, n, 4, stride=2, padding=1, bias=False)
            self.upscore_pool4 = nn.ConvTranspose2d(n, n, 4, stride=2, padding=1, bias=False)
            self.upscore8 = nn.ConvTranspose2d(n, n, 16, stride=8, padding=4, bias=False)
            for m in (self.upscore2, self.upscore_pool4, self.upscore8):
                m.weight.data.copy_(upsampling_weight(n, m.kernel_size[0]))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            p3 = self.enc3(x)
            p4 = self.enc4(p3)
            p5 = self.enc5(p4)
            h = self.upscore2(self.score_fr(p5)) + self.score_pool4(p4)
            h = self.upscore_pool4(h) + self.score_pool3(p3)
            return self.upscore8(h)

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Head().eval(),
            (torch.randn(1, 3, 256, 256),),
            path,
            opset_version=17,
            input_names=["x"],
            output_names=["y"],
            dynamo=False,
        )
    return True


def bench_optimize(repeats: int = 5) -> list[str]:
    """``convertkit optimize`` on other converters' models: equal, faster, smaller."""
    import onnx

    from convertkit.optimize import optimize_onnx, verify

    from .fcn8s_small import write_caffe2onnx

    lines = [
        f"## convertkit optimize, onnxruntime 1 thread, median of {repeats}",
        "",
        "| model | nodes rewritten | equal (max rel) | original ms | optimized ms | speedup | file bytes |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        sources = []
        torch_path = os.path.join(tmp, "torch_fcn8s_head.onnx")
        if _torch_fcn_head(torch_path):
            sources.append(("PyTorch FCN-8s head (torch.onnx)", torch_path))
        c2o = write_caffe2onnx(tmp)
        if c2o:
            sources.append(("FCN-8s small (caffe2onnx)", c2o))
        for label, path in sources:
            proto = onnx.load(path)
            result = optimize_onnx(proto)
            out = path.removesuffix(".onnx") + ".opt.onnx"
            onnx.save(result.proto, out)
            v = verify(proto, result.proto, repeats=repeats)
            lines.append(
                f"| {label} | {result.rewritten} | {v.equal} ({v.max_relative:.1e}) | {v.original_s * 1e3:.2f} | "
                f"{v.optimized_s * 1e3:.2f} | {v.speedup:.2f}x | {os.path.getsize(path):,} -> "
                f"{os.path.getsize(out):,} |"
            )
            print(lines[-1], flush=True)
    return lines


def bench_sizes(repeats: int = 0) -> list[str]:
    """ONNX file sizes of the examples, literal vs convertkit's export (bilinear weights not stored C times)."""
    import convertkit as ck
    from convertkit.formats.onnx import to_onnx

    here = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
    lines = ["## ONNX bytes, literal -> export", "", "| example | literal | export |", "|---|---:|---:|"]
    for path in sorted(glob.glob(os.path.join(here, "*.json")) + glob.glob(os.path.join(here, "*.yaml"))):
        try:
            model = ck.load(path)
            sizes = [
                len(to_onnx(model, optimize=o, target="onnxruntime").SerializeToString()) for o in ("none", "speed")
            ]
        except ck.ConvertkitError as exc:  # an example that does not export alone
            lines.append(f"| {os.path.basename(path)} | {exc} | |")
            continue
        lines.append(f"| {os.path.basename(path)} | {sizes[0]:,} | {sizes[1]:,} |")
    print("\n".join(lines), flush=True)
    return lines
