"""Fillers: Caffe's bilinear formula by hand, the recipe, random fillers seeded and Caffe-scaled."""

from __future__ import annotations

import math
from fractions import Fraction as F

import numpy as np
import pytest

from convertkit import shapes
from convertkit.errors import ValidationError
from convertkit.fillers import Filler, Values, bilinear_kernel, bilinear_kernel_1d

# Hand-computed from f = ceil(K/2), c = (K-1)/(2f), w = 1 - |x/f - c| (exact fractions).
BILINEAR_1D = {
    1: [F(1)],
    2: [F(1, 2), F(1, 2)],
    3: [F(1, 2), F(1), F(1, 2)],
    4: [F(1, 4), F(3, 4), F(3, 4), F(1, 4)],
    5: [F(1, 3), F(2, 3), F(1), F(2, 3), F(1, 3)],
    6: [F(1, 6), F(1, 2), F(5, 6), F(5, 6), F(1, 2), F(1, 6)],
    7: [F(1, 4), F(1, 2), F(3, 4), F(1), F(3, 4), F(1, 2), F(1, 4)],
    8: [F(1, 8), F(3, 8), F(5, 8), F(7, 8), F(7, 8), F(5, 8), F(3, 8), F(1, 8)],
}


@pytest.mark.parametrize("k", sorted(BILINEAR_1D), ids=lambda k: f"K{k}")
def test_bilinear_1d_hand_values(k):
    np.testing.assert_allclose(bilinear_kernel_1d(k), [float(v) for v in BILINEAR_1D[k]], rtol=0, atol=1e-15)


def test_bilinear_63_peaks_at_centre():
    # K = 63: f = 32, c = 31/32, so w[x] = (32 - |x - 31|) / 32.
    expected = [(32 - abs(x - 31)) / 32 for x in range(63)]
    np.testing.assert_allclose(bilinear_kernel_1d(63), expected, rtol=0, atol=1e-15)


def test_bilinear_63_differs_from_old_fork_formula():
    # Older forks used c = (2f - 1 - f % 2) / (2f); FIELDS.md says they differ at K = 63.
    f = 32
    old_c = (2 * f - 1 - f % 2) / (2 * f)
    old = 1 - np.abs(np.arange(63) / f - old_c)
    assert not np.allclose(bilinear_kernel_1d(63), old)


@pytest.mark.parametrize("k", [*range(1, 9), 63], ids=lambda k: f"K{k}")
def test_bilinear_2d_is_caffe_loop(k):
    # Caffe's BilinearFiller loop, transcribed: x = i % K, y = (i / K) % K over a (2, 3, K, K) blob.
    blob = Filler(type="bilinear").materialize((2, 3, k, k), np.float64)
    f = math.ceil(k / 2.0)
    c = (k - 1) / (2.0 * f)
    flat = blob.ravel()
    for i in range(flat.size):
        x = i % k
        y = (i // k) % k
        assert flat[i] == pytest.approx((1 - abs(x / f - c)) * (1 - abs(y / f - c)), abs=1e-15)


def test_bilinear_nd_is_separable_product():
    w = bilinear_kernel((3, 4, 5))
    expected = np.einsum("i,j,k->ijk", bilinear_kernel_1d(3), bilinear_kernel_1d(4), bilinear_kernel_1d(5))
    np.testing.assert_array_equal(w, expected)


@pytest.mark.parametrize(
    "factor, expected",
    [(2, (4, 2, 1)), (3, (5, 3, 1)), (4, (8, 4, 2)), (8, (16, 8, 4)), (32, (64, 32, 16))],
)
def test_upsampling_recipe(factor, expected):
    k, s, p = shapes.bilinear_upsample_recipe(factor)
    assert (k, s, p) == expected
    for i in (1, 5, 17):
        assert shapes.caffe_deconv_output_size(i, k, s, p) == factor * i


def test_random_fillers_are_seeded_and_scaled():
    shape = (64, 32, 4, 4)  # (C, M/group, k, k)
    a = Filler(type="gaussian", std=0.01, seed=3).materialize(shape)
    b = Filler(type="gaussian", std=0.01, seed=3).materialize(shape)
    c = Filler(type="gaussian", std=0.01, seed=4).materialize(shape)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert abs(a.std() - 0.01) < 0.001
    fan_in = 32 * 4 * 4  # Caffe: count / shape[0]
    x = Filler(type="xavier", seed=1).materialize(shape, np.float64)
    bound = math.sqrt(3 / fan_in)
    assert x.min() >= -bound and x.max() <= bound and x.max() > 0.9 * bound
    m = Filler(type="msra", variance_norm="FAN_OUT", seed=1).materialize(shape, np.float64)
    fan_out = 64 * 4 * 4  # count / shape[1]
    assert abs(m.std() - math.sqrt(2 / fan_out)) < 0.05 * math.sqrt(2 / fan_out)
    u = Filler(type="uniform", min=-2, max=-1, seed=0).materialize((1000,))
    assert u.min() >= -2 and u.max() <= -1
    np.testing.assert_array_equal(Filler(type="constant", value=2.5).materialize((2, 2)), np.full((2, 2), 2.5))


def test_filler_validation():
    with pytest.raises(ValidationError, match="filler type"):
        Filler(type="bicubic")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="min <= max"):
        Filler(type="uniform", min=1, max=0)
    with pytest.raises(ValidationError, match="expected"):
        Values(array=np.zeros((2, 2))).materialize((2, 3))
