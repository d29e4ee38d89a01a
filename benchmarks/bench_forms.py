"""Candidate ONNX forms of the same upsample, timed in onnxruntime: the measurements behind
:func:`convertkit.passes.fast_upsample.choose_form`.

```
python -m benchmarks.bench_forms [--repeats 7] [--threads 1]
```

Every form is built with onnx.helper directly (not by convertkit) and checked equal to the first one of its row
before it is timed.  Forms:

- bilinear recipe xf (Caffe: kernel 2f - f%2, stride f, pad ceil((f-1)/2)); ``sep_convT``: Reshape (N*C, 1, H, W)
  -> ConvTranspose (1, K) -> ConvTranspose (K, 1) -> Reshape; ``windowed``: the same with the H pass as windows of
  input rows (Pad, Slice per tap, Concat) -> 1-D Conv over the taps (one output channel per stride phase);
  ``phase_*``: one forward Conv with f*f phase channels -> DepthToSpace / Transpose; ``dense``: Transpose ->
  MatMul by the H axis's interpolation matrix -> Transpose -> MatMul by the W axis's;
  ``convT_dw`` (group C), ``convT_full`` (FCN: 21x21 diagonal), ``pad_resize_slice`` (Pad zeros 1 -> Resize linear
  half_pixel xf -> Slice [f, f + f*in)), ``separable`` (the same with one Resize per spatial axis);
- nearest xf: ``convT_dw`` (ones kernel, k = s = f) vs ``resize`` (nearest, asymmetric, floor);
- align_corners zoom z (sizes z*(in-1)+1): ``resize`` vs ``convT_dw`` (triangle kernel 2z-1, stride z, pad z-1).
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .timing import session, time_models

OPSET = 19


def _model(nodes, inits, x_shape, y_shape):
    g = helper.make_graph(
        nodes,
        "bench",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y_shape))],
        [numpy_helper.from_array(np.asarray(a), n) for n, a in inits.items()],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)])
    m.ir_version = 9
    onnx.checker.check_model(m)
    return m


def bilinear_1d(k: int) -> np.ndarray:
    f = math.ceil(k / 2)
    c = (k - 1) / (2 * f)
    return 1 - np.abs(np.arange(k) / f - c)


def conv_transpose(shape, weight, stride, pads, group):
    n, c, h, w = shape
    k = weight.shape[2:]
    oh = (h - 1) * stride[0] + k[0] - pads[0] - pads[2]
    ow = (w - 1) * stride[1] + k[1] - pads[1] - pads[3]
    node = helper.make_node("ConvTranspose", ["x", "W"], ["y"], strides=list(stride), pads=list(pads), group=group)
    return _model([node], {"W": weight.astype(np.float32)}, shape, (n, weight.shape[1] * group, oh, ow))


def recipe(f: int):
    k = 2 * f - f % 2
    return k, f, (f - 1 + 1) // 2


def bilinear_forms(shape, f):
    n, c, h, w = shape
    k, s, p = recipe(f)
    ker = np.outer(bilinear_1d(k), bilinear_1d(k)).astype(np.float32)
    dw = np.broadcast_to(ker, (c, 1, k, k)).copy()
    full = np.zeros((c, c, k, k), np.float32)
    full[np.arange(c), np.arange(c)] = ker
    out = (n, c, f * h, f * w)
    forms = {
        "convT_dw": conv_transpose(shape, dw, (s, s), (p,) * 4, c),
        "convT_full": conv_transpose(shape, full, (s, s), (p,) * 4, 1),
    }
    pad = helper.make_node("Pad", ["x", "pads"], ["xp"], mode="constant")
    pads = np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)
    resize = helper.make_node(
        "Resize", ["xp", "", "scales"], ["r"], mode="linear", coordinate_transformation_mode="half_pixel"
    )
    sl = helper.make_node("Slice", ["r", "st", "en", "ax"], ["y"])
    inits = {
        "pads": pads,
        "scales": np.array([1, 1, f, f], np.float32),
        "st": np.array([f, f], np.int64),
        "en": np.array([f + f * h, f + f * w], np.int64),
        "ax": np.array([2, 3], np.int64),
    }
    forms["pad_resize_slice"] = _model([pad, resize, sl], inits, shape, out)
    r1 = helper.make_node(
        "Resize", ["xp", "", "s1"], ["r1"], mode="linear", coordinate_transformation_mode="half_pixel"
    )
    r2 = helper.make_node("Resize", ["r1", "", "s2"], ["r"], mode="linear", coordinate_transformation_mode="half_pixel")
    inits2 = dict(inits, s1=np.array([1, 1, f, 1], np.float32), s2=np.array([1, 1, 1, f], np.float32))
    del inits2["scales"]
    forms["separable"] = _model([pad, r1, r2, sl], inits2, shape, out)
    forms["sep_convT"] = separable_conv_transpose(shape, bilinear_1d(k), f, p)
    return forms


def separable_conv_transpose(shape, k1, f, p):
    """Reshape (N*C, 1, H, W) -> ConvTranspose (1, K) -> ConvTranspose (K, 1) -> Reshape: one 1-D pass per axis."""
    n, c, h, w = shape
    k = len(k1)
    kw = np.asarray(k1, np.float32).reshape(1, 1, 1, k)
    kh = np.asarray(k1, np.float32).reshape(1, 1, k, 1)
    ow, oh = (w - 1) * f + k - 2 * p, (h - 1) * f + k - 2 * p
    nodes = [
        helper.make_node("Reshape", ["x", "s_in"], ["x1"]),
        helper.make_node("ConvTranspose", ["x1", "KW"], ["yw"], strides=[1, f], pads=[0, p, 0, p]),
        helper.make_node("ConvTranspose", ["yw", "KH"], ["yh"], strides=[f, 1], pads=[p, 0, p, 0]),
        helper.make_node("Reshape", ["yh", "s_out"], ["y"]),
    ]
    inits = {
        "s_in": np.array([n * c, 1, h, w], np.int64),
        "KW": kw,
        "KH": kh,
        "s_out": np.array([n, c, oh, ow], np.int64),
    }
    return _model(nodes, inits, shape, (n, c, oh, ow))


def nearest_forms(shape, f):
    n, c, h, w = shape
    ones = np.ones((c, 1, f, f), np.float32)
    resize = helper.make_node(
        "Resize",
        ["x", "", "scales"],
        ["y"],
        mode="nearest",
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
    )
    return {
        "convT_dw": conv_transpose(shape, ones, (f, f), (0,) * 4, c),
        "resize": _model([resize], {"scales": np.array([1, 1, f, f], np.float32)}, shape, (n, c, f * h, f * w)),
        "sep_convT": separable_conv_transpose(shape, np.ones(f), f, 0),
    }


def align_corners_forms(shape, z):
    n, c, h, w = shape
    k = 2 * z - 1
    ker = np.outer(bilinear_1d(k), bilinear_1d(k)).astype(np.float32)
    out = (n, c, z * (h - 1) + 1, z * (w - 1) + 1)
    resize = helper.make_node(
        "Resize", ["x", "", "", "sizes"], ["y"], mode="linear", coordinate_transformation_mode="align_corners"
    )
    return {
        "resize": _model([resize], {"sizes": np.array(out, np.int64)}, shape, out),
        "convT_dw": conv_transpose(shape, np.broadcast_to(ker, (c, 1, k, k)).copy(), (z, z), (z - 1,) * 4, c),
        "sep_convT": separable_conv_transpose(shape, bilinear_1d(k), z, z - 1),
        "dense": dense_matmuls(shape, bilinear_1d(k), z, z - 1),
    }


def rows(shape=(1, 21, 64, 64)):
    for f in (2, 4, 8, 16, 32):
        yield f"bilinear x{f}", bilinear_forms(shape, f)
    for f in (2, 8):
        yield f"nearest x{f}", nearest_forms(shape, f)
    for z in (2, 4, 8, 16):
        yield f"align_corners z{z}", align_corners_forms(shape, z)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--shape", default="1,21,64,64")
    ap.add_argument("--only", default="", help="rows whose label contains this text")
    ap.add_argument("--forms", default="", help="comma-separated forms to time (default all)")
    args = ap.parse_args(argv)
    shape = tuple(int(d) for d in args.shape.split(","))
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    print(f"shape {shape}, onnxruntime threads {args.threads}, medians of {args.repeats} interleaved runs (ms)")
    for label, forms in rows(shape):
        if args.only not in label:
            continue
        if args.forms:
            forms = {k: v for k, v in forms.items() if k in args.forms.split(",")}
        outs = {name: session(m).run(None, {"x": x})[0] for name, m in forms.items()}
        first = next(iter(outs.values()))
        for name, y in outs.items():
            err = float(np.max(np.abs(y - first)) / max(1.0, float(np.max(np.abs(first)))))
            assert err <= 1e-6, (label, name, err)
        t = time_models(forms, {"x": x}, args.repeats, args.threads)
        base = next(iter(t.values()))
        cells = "  ".join(f"{n} {v * 1e3:8.2f} ({base / v:5.2f}x)" for n, v in t.items())
        print(f"{label:18s} {cells}", flush=True)


def phase_conv_weights(w1h, w1w, fh, fw, ph, pw):
    """Forward-Conv weights (fh*fw, 1, 3, 3) of a stride-f deconvolution whose output rows f*m + q read input rows
    m - 1, m, m + 1 (pads ph, pw; kernel = outer(w1h, w1w)); see convertkit.passes.fast_upsample."""

    def taps(w1, f, p):
        k = len(w1)
        t = np.zeros((f, 3))
        for q in range(f):
            for d in (-1, 0, 1):
                idx = q + p - f * d
                if 0 <= idx < k:
                    t[q, d + 1] = w1[idx]
        return t

    th, tw = taps(w1h, fh, ph), taps(w1w, fw, pw)
    return np.einsum("ad,be->abde", th, tw).reshape(fh * fw, 1, 3, 3).astype(np.float32)


def phase_conv(shape, w1, f, p, depth_to_space=True, grouped=False):
    n, c, h, w = shape
    wt = phase_conv_weights(w1, w1, f, f, p, p)
    out = (n, c, f * h, f * w)
    if grouped:
        nodes = [
            helper.make_node("Conv", ["x", "K"], ["z"], pads=[1, 1, 1, 1], group=c),
            helper.make_node("DepthToSpace", ["z"], ["y"], blocksize=f, mode="CRD"),
        ]
        return _model(nodes, {"K": np.tile(wt, (c, 1, 1, 1))}, shape, out)
    nodes = [
        helper.make_node("Reshape", ["x", "s_in"], ["x1"]),
        helper.make_node("Conv", ["x1", "K"], ["z"], pads=[1, 1, 1, 1]),
    ]
    inits = {"s_in": np.array([n * c, 1, h, w], np.int64), "K": wt, "s_out": np.array(out, np.int64)}
    if depth_to_space:
        nodes.append(helper.make_node("DepthToSpace", ["z"], ["d"], blocksize=f, mode="CRD"))
    else:
        inits["s5"] = np.array([n * c, f, f, h, w], np.int64)
        nodes += [
            helper.make_node("Reshape", ["z", "s5"], ["z5"]),
            helper.make_node("Transpose", ["z5"], ["d"], perm=[0, 3, 1, 4, 2]),
        ]
    nodes.append(helper.make_node("Reshape", ["d", "s_out"], ["y"]))
    return _model(nodes, inits, shape, out)


def phase_taps_1d(w1, f, pb, out_rows):
    K = len(w1)
    dmin = math.ceil((pb - K + 1) / f)
    dmax = (f - 1 + pb) // f
    T = np.zeros((f, dmax - dmin + 1), np.float32)
    for q in range(f):
        for d in range(dmin, dmax + 1):
            idx = q + pb - f * d
            if 0 <= idx < K:
                T[q, d - dmin] = w1[idx]
    return T, dmin, dmax


def windowed_last_pass(shape, w1, f, p):
    n, c, h, w = shape
    K = len(w1)
    ow, oh = (w - 1) * f + K - 2 * p, (h - 1) * f + K - 2 * p
    T, dmin, dmax = phase_taps_1d(w1, f, p, oh)
    D = dmax - dmin + 1
    M = -(-oh // f)
    pb, pe = -dmin, max(0, M - 1 + dmax - (h - 1))
    nn = n * c
    nodes = [
        helper.make_node("Reshape", ["x", "s_in"], ["x1"]),
        helper.make_node("ConvTranspose", ["x1", "KW"], ["yw"], strides=[1, f], pads=[0, p, 0, p]),
        helper.make_node("Pad", ["yw", "pads"], ["zp"]),
    ]
    inits = {
        "s_in": np.array([nn, 1, h, w], np.int64),
        "KW": np.asarray(w1, np.float32).reshape(1, 1, 1, K),
        "pads": np.array([0, 0, pb, 0, 0, 0, pe, 0], np.int64),
        "ax": np.array([2], np.int64),
        "s_win": np.array([nn, M, 1, ow], np.int64),
        "s_b": np.array([nn * M, D, ow], np.int64),
        "T": T.reshape(f, D, 1),
        "s_out": np.array([n, c, M * f, ow], np.int64),
    }
    parts = []
    for d in range(D):
        inits[f"st{d}"] = np.array([d], np.int64)
        inits[f"en{d}"] = np.array([d + M], np.int64)
        nodes.append(helper.make_node("Slice", ["zp", f"st{d}", f"en{d}", "ax"], [f"sl{d}"]))
        nodes.append(helper.make_node("Reshape", [f"sl{d}", "s_win"], [f"w{d}"]))
        parts.append(f"w{d}")
    nodes += [
        helper.make_node("Concat", parts, ["win"], axis=2),
        helper.make_node("Reshape", ["win", "s_b"], ["b"]),
        helper.make_node("Conv", ["b", "T"], ["o"]),
        helper.make_node("Reshape", ["o", "s_out"], ["y"]),
    ]
    assert M * f == oh
    return _model(nodes, inits, shape, (n, c, oh, ow))


_bilinear_forms = bilinear_forms


def bilinear_forms(shape, f):  # noqa: F811
    forms = _bilinear_forms(shape, f)
    k, s, p = recipe(f)
    forms["phase_d2s"] = phase_conv(shape, bilinear_1d(k), f, p)
    forms["phase_transpose"] = phase_conv(shape, bilinear_1d(k), f, p, depth_to_space=False)
    forms["phase_grouped"] = phase_conv(shape, bilinear_1d(k), f, p, grouped=True)
    forms["windowed"] = windowed_last_pass(shape, bilinear_1d(k), f, p)
    forms["dense"] = dense_matmuls(shape, bilinear_1d(k), f, p)
    return forms


def interpolation_matrix(w1, f, p, size_in, size_out):
    """(size_in, size_out): row i holds the kernel at columns f*i - p .. (written here, not taken from convertkit)."""
    m = np.zeros((size_in, size_out), np.float32)
    for i in range(size_in):
        for t, v in enumerate(w1):
            o = f * i + t - p
            if 0 <= o < size_out:
                m[i, o] = v
    return m


def dense_matmuls(shape, w1, f, p):
    """Transpose (H, W) -> MatMul (H, OH) -> Transpose -> MatMul (W, OW): each axis one GEMM by its interpolation
    matrix, no scatter and no Reshape copy (convertkit's ``dense`` form)."""
    n, c, h, w = shape
    k = len(w1)
    oh, ow = (h - 1) * f + k - 2 * p, (w - 1) * f + k - 2 * p
    nodes = [
        helper.make_node("Transpose", ["x"], ["xt"], perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["xt", "MH"], ["t"]),
        helper.make_node("Transpose", ["t"], ["tt"], perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["tt", "MW"], ["y"]),
    ]
    inits = {"MH": interpolation_matrix(w1, f, p, h, oh), "MW": interpolation_matrix(w1, f, p, w, ow)}
    return _model(nodes, inits, shape, (n, c, oh, ow))


if __name__ == "__main__":
    main()
