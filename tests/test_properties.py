"""Property-based sweep over whole layers: any valid Deconvolution / Upsample the IR accepts exports to ONNX that
onnxruntime runs with the reference's numbers (seeded, bounded)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convertkit as ck

SETTINGS = settings(
    max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@st.composite
def deconvolutions(draw):
    n = draw(st.integers(1, 3))
    group = draw(st.integers(1, 3))
    c_in = group * draw(st.integers(1, 2))
    m = group * draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 4)) for _ in range(n))
    s = tuple(draw(st.integers(1, 3)) for _ in range(n))
    d = tuple(draw(st.integers(1, 3)) for _ in range(n))
    # PyTorch's rule: output_padding < stride or < dilation (onnxruntime only takes < stride; we must cope).
    op = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d, strict=True))
    spatial = tuple(draw(st.integers(1, 5)) for _ in range(n))
    convention = draw(st.sampled_from(["explicit", "caffe", "onnx_auto_pad", "onnx_output_shape"]))
    full = [si * (i - 1) + di * (ki - 1) + 1 for si, i, di, ki in zip(s, spatial, d, k, strict=True)]
    if convention == "explicit":
        pads = tuple(draw(st.integers(0, 2)) for _ in range(2 * n))
        padding = ck.Padding(pads=pads)
    elif convention == "caffe":
        padding = ck.Padding(convention="caffe", pad=tuple(draw(st.integers(0, 1)) for _ in range(n)))
    elif convention == "onnx_auto_pad":
        padding = ck.Padding(convention="onnx_auto_pad", auto_pad=draw(st.sampled_from(["SAME_UPPER", "SAME_LOWER"])))
    else:
        out = tuple(max(1, f + draw(st.integers(-2, 1))) for f in full)
        padding = ck.Padding(
            convention="onnx_output_shape", output_shape=out, auto_pad=draw(st.sampled_from(["NOTSET", "SAME_UPPER"]))
        )
    bias = draw(st.booleans())
    layer = dict(
        name="d",
        input="x",
        out_channels=m,
        group=group,
        kernel_shape=k,
        strides=s,
        dilations=d,
        output_padding=op,
        padding=padding,
        bias_term=bias,
        weight=ck.Filler(type="gaussian", seed=draw(st.integers(0, 99))),
        bias=ck.Filler(type="uniform", min=-1, max=1, seed=1) if bias else None,
    )
    return (draw(st.integers(1, 2)), c_in, *spatial), layer


@pytest.mark.slow
@SETTINGS
@given(deconvolutions())
def test_any_valid_deconvolution_exports_exactly(case):
    shape, layer = case
    try:
        model = ck.Model([ck.Input(name="x", shape=shape), ck.Deconvolution(**layer)])
    except ck.ValidationError as exc:
        # Only geometry that crops everything away may be refused here.
        assert "not positive" in str(exc) or "output_padding" in str(exc), exc
        return
    report = ck.check(model, seed=3, atol=1e-4, rtol=1e-4)
    assert report.passed, report.format()


@pytest.mark.slow
@SETTINGS
@given(
    mode=st.sampled_from(["nearest", "linear"]),
    factors=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    semantics=st.sampled_from(["resize", "deconvolution"]),
    data=st.data(),
)
def test_integer_upsample_both_lowerings(mode, factors, semantics, data):
    n = len(factors)
    shape = (1, 2, *(data.draw(st.integers(1, 5)) for _ in range(n)))
    lowering = semantics if semantics == "deconvolution" else data.draw(st.sampled_from(["resize", "deconvolution"]))
    up = ck.Upsample(
        name="up", input="x", mode=mode, scales=tuple(float(f) for f in factors), semantics=semantics, lowering=lowering
    )
    model = ck.Model([ck.Input(name="x", shape=shape), up])
    assert model.types["up"].shape == (1, 2, *(s * f for s, f in zip(shape[2:], factors, strict=True)))
    report = ck.check(model, seed=1)
    assert report.passed, report.format()
    np.testing.assert_equal(report.outputs[0].shape, model.types["up"].shape)
