"""The fast Resize path (convertkit.reference.resize.resize) against its oracle (resize_by_gather) and onnxruntime.

The fast path applies the oracle's taps and weights differently (last axis first as one blocked GEMM, other axes as
blocked row gathers); these tests hold it to the oracle on seeded random configurations, on shapes big enough to
take several GEMM and row blocks, and on non-finite inputs (where the GEMM must not be used).
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_reference_resize import random_resize_case, run_ort_resize

from convertkit.reference import resize

resize_module = importlib.import_module("convertkit.reference.resize")


def assert_fast_equals_oracle(x: np.ndarray, kwargs: dict) -> np.ndarray:
    fast = resize(x, **kwargs)
    slow = resize_module.resize_by_gather(x, **kwargs)
    assert fast.shape == slow.shape and fast.dtype == slow.dtype
    if kwargs.get("mode", "nearest") == "nearest":
        np.testing.assert_array_equal(fast, slow)  # a gather either way
    else:
        # one float32 rounding per axis apart at most (BLAS's sum order / fused multiply-add)
        scale = max(1.0, float(np.nanmax(np.abs(slow), initial=0)))
        np.testing.assert_allclose(fast, slow, rtol=2e-6, atol=2e-6 * scale)
    return fast


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), mode=st.sampled_from(["nearest", "linear", "cubic"]), antialias=st.booleans())
def test_fast_resize_equals_the_gather_oracle(seed, mode, antialias):
    x, kwargs = random_resize_case(np.random.default_rng(seed), mode, int(antialias and mode != "nearest"))
    assert_fast_equals_oracle(x, kwargs)


@pytest.mark.parametrize("mode", ["linear", "nearest", "cubic"])
@pytest.mark.parametrize("scale", [2.0, 8.0, 0.5, 3.0])
def test_decoder_shapes_take_several_blocks_and_match_onnxruntime(mode, scale, monkeypatch):
    # small blocks so that a small tensor crosses several GEMM and row blocks, with ragged ends
    monkeypatch.setattr(resize_module, "_ROW_BLOCK_BYTES", 7 * 4 * 10)
    x = np.random.default_rng(3).standard_normal((2, 3, 9, 10)).astype(np.float32)
    kwargs = {"scales": [1.0, 1.0, scale, scale], "mode": mode}
    got = assert_fast_equals_oracle(x, kwargs)
    np.testing.assert_allclose(got, run_ort_resize(x, **kwargs), rtol=1e-5, atol=1e-5)


def test_row_pass_is_bit_for_bit_the_gather():
    x = np.random.default_rng(4).standard_normal((1, 4, 6, 33)).astype(np.float32)
    plan = resize_module._AxisPlan(6, 21, np.float32(3.5), np.float32(0), np.float32(1))
    indices, weights = resize_module._linear_taps(resize_module._half_pixel(plan), 6)
    fast = resize_module._row_pass(x, 2, indices, weights)
    np.testing.assert_array_equal(fast, resize_module._weighted_gather(x, 2, indices, weights))


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_non_finite_inputs_skip_the_gemm(bad):
    # a zero weight times an infinity is NaN in a GEMM; the gather reads only the taps
    x = np.random.default_rng(5).standard_normal((1, 2, 5, 6)).astype(np.float32)
    x[0, 1, 2, 3] = bad
    for mode in ("linear", "cubic"):
        kwargs = {"scales": [1.0, 1.0, 2.0, 3.0], "mode": mode}
        with np.errstate(invalid="ignore"):  # as the interpreter runs the reference: inf * 0 is NaN, no warning
            fast = resize(x, **kwargs)
            np.testing.assert_array_equal(fast, resize_module.resize_by_gather(x, **kwargs))
        np.testing.assert_allclose(fast, run_ort_resize(x, **kwargs), rtol=1e-5, atol=1e-5, equal_nan=True)
        assert np.isfinite(fast[0, 0]).all()  # the other channel is untouched by the bad value


def test_float64_fast_path_accumulates_in_float64():
    x = np.random.default_rng(6).standard_normal((1, 1, 7, 9))
    got = assert_fast_equals_oracle(x, {"scales": [1.0, 1.0, 2.0, 2.0], "mode": "linear"})
    assert got.dtype == np.float64


def test_resize_by_gather_refuses_unknown_attributes():
    from convertkit.errors import ValidationError

    with pytest.raises(ValidationError, match="unknown attribute"):
        resize_module.resize_by_gather(np.zeros((2, 2), np.float32), scales=[2.0, 2.0], bogus=1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32, np.uint8])
@pytest.mark.parametrize(
    "shape, scales",
    [
        ((1, 3, 5, 7), [1, 1, 2, 2]),  # the doubled-word path straight into the output
        ((2, 3, 5, 7), [1, 2, 3, 4]),  # four axes, the last one halved then repeated
        ((1, 2, 4, 6), [1, 1, 1, 8]),
        ((1, 2, 4, 6), [1, 1, 3, 1]),  # the last axis not resized
        ((1, 2, 4, 6), [1, 1, 2, 3]),  # odd last factor
        ((3, 5), [2, 6]),
        ((1, 2, 3, 4, 5), [1, 1, 2, 2, 2]),
    ],
)
def test_integer_nearest_repeats_copy_the_bit_patterns(dtype, shape, scales):
    # nearest with integer factors is one broadcast copy (4-byte values: two per 64-bit word); the bits must be
    # the gather's, NaN payloads and -0.0 included, on contiguous and strided inputs alike
    x = (np.random.default_rng(7).standard_normal(shape) * 10).astype(dtype)
    if dtype == np.float32:
        bits = x.reshape(-1).view(np.uint32)
        bits[::5] = 0x7FC00001 + np.arange(bits[::5].size, dtype=np.uint32)  # distinct NaN payloads
        bits[1::7] = 0x80000000  # -0.0
    kwargs = {
        "scales": scales,
        "mode": "nearest",
        "coordinate_transformation_mode": "asymmetric",
        "nearest_mode": "floor",
    }
    for data in (x, x[..., ::-1]):
        fast, slow = resize(data, **kwargs), resize_module.resize_by_gather(data, **kwargs)
        assert fast.shape == slow.shape and fast.dtype == slow.dtype
        np.testing.assert_array_equal(fast.view(np.uint8), slow.view(np.uint8))
