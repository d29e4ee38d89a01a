"""The comparison behind `check`: tolerances, special values, shape mismatch."""

from __future__ import annotations

import numpy as np

from convertkit.check import compare


def test_pass_and_fail_by_tolerance():
    ref = np.array([1.0, -2.0, 0.0], np.float32)
    assert compare("y", ref, ref + np.float32(1e-6), 1e-5, 1e-4).passed
    r = compare("y", ref, ref + np.array([0, 0, 1e-3], np.float32), 1e-5, 1e-4)
    assert not r.passed and abs(r.max_abs - 1e-3) < 1e-9
    # relative error is measured against max(|ref|, atol): 1e-3 / 1e-5 for the zero entry
    assert abs(r.max_rel - 100.0) < 1e-3


def test_special_values_must_match():
    ref = np.array([np.nan, np.inf, 1.0])
    assert compare("y", ref, ref.copy(), 0.0, 0.0).passed
    assert not compare("y", ref, np.array([0.0, np.inf, 1.0]), 1.0, 1.0).passed
    assert not compare("y", ref, np.array([np.nan, -np.inf, 1.0]), 1.0, 1.0).passed
    assert not compare("y", np.array([1.0]), np.array([np.nan]), 1.0, 1.0).passed


def test_shape_mismatch_fails():
    r = compare("y", np.zeros((1, 2)), np.zeros((2, 1)), 1.0, 1.0)
    assert not r.passed and r.shape == (1, 2) and r.other_shape == (2, 1)
