"""Specs with real weights: large values go to .npy files beside the spec, small ones stay inline, and reading a
long inline list is checked cheaply instead of by the JSON-schema validator (with the same errors)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import convertkit as ck
from convertkit.errors import SpecError
from convertkit.formats import spec as spec_format


def deconv_model(kernel: int, dtype=np.float32) -> ck.Model:
    w = np.random.default_rng(0).standard_normal((2, 3, kernel, kernel)).astype(dtype)
    return ck.Model(
        [
            ck.Input(name="x", shape=(1, 2, 3, 3)),
            ck.Deconvolution(
                name="up/1", input="x", out_channels=3, kernel_shape=(kernel, kernel), bias_term=False,
                weight=ck.Values(array=w),
            ),
        ]
    )  # fmt: skip


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_large_weights_go_to_an_npy_file_beside_the_spec(tmp_path, suffix):
    model = deconv_model(4)  # 96 values > 64
    path = tmp_path / f"net{suffix}"
    ck.save(model, str(path))
    npy = tmp_path / "net.up_1.weight.npy"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, npy.name])
    assert "npy" in path.read_text() and "values" not in path.read_text()
    stored = np.load(npy)
    assert stored.dtype == np.float32
    np.testing.assert_array_equal(stored, model.layers[1].weight.array)
    back = ck.load(str(path))
    np.testing.assert_array_equal(back.layers[1].weight.array, model.layers[1].weight.array)
    # saved again elsewhere, the weights follow (copied beside the new spec)
    other = tmp_path / "sub"
    other.mkdir()
    ck.save(back, str(other / "again.json"))
    np.testing.assert_array_equal(ck.load(str(other / "again.json")).layers[1].weight.array, stored)


def test_small_weights_stay_inline_and_inline_max_is_an_option(tmp_path):
    ck.save(deconv_model(3), str(tmp_path / "small.json"))  # 54 values
    assert [p.name for p in tmp_path.iterdir()] == ["small.json"]
    assert "values" in (tmp_path / "small.json").read_text()
    ck.save(deconv_model(4), str(tmp_path / "inline.json"), inline_max=-1)
    ck.save(deconv_model(4), str(tmp_path / "inline100.json"), inline_max=100)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inline.json", "inline100.json", "small.json"]
    model = ck.load(str(tmp_path / "inline.json"))
    np.testing.assert_array_equal(model.layers[1].weight.array, deconv_model(4).layers[1].weight.array)


def test_float64_weights_keep_their_dtype_in_the_npy(tmp_path):
    ck.save(deconv_model(4, np.float64), str(tmp_path / "f64.json"))
    assert np.load(tmp_path / "f64.up_1.weight.npy").dtype == np.float64


def _long_values_spec(values) -> dict:
    return {
        "version": 1,
        "layers": [
            {"type": "Input", "name": "x", "shape": [1, 2, 3, 3]},
            {
                "type": "Deconvolution", "name": "up", "input": "x", "out_channels": 3, "kernel_shape": [10, 10],
                "bias_term": False, "weight": {"values": values},
            },
        ],
    }  # fmt: skip


def test_long_inline_values_are_checked_cheaply_with_the_schema_errors(tmp_path):
    good = np.random.default_rng(1).standard_normal((2, 3, 10, 10)).tolist()
    path = tmp_path / "long.json"
    path.write_text(json.dumps(_long_values_spec(good)))
    assert ck.load(str(path)).layers[1].weight.array.shape == (2, 3, 10, 10)
    assert spec_format._without_long_values(_long_values_spec(good))["layers"][1]["weight"] == {"values": [0]}
    for bad in ("1.5", True, None, []):
        broken = json.loads(json.dumps(good))
        broken[1][2][3][4] = bad
        assert spec_format._without_long_values(_long_values_spec(broken))["layers"][1]["weight"]["values"] == broken
        path.write_text(json.dumps(_long_values_spec(broken)))
        with pytest.raises(SpecError, match=r"\$\.layers\[1\]\.weight"):
            ck.load(str(path))


def test_nested_numbers_matches_the_schema_rule():
    assert spec_format._nested_numbers([[1, 2.5], [3]])  # ragged is the reader's error, not the schema's
    assert spec_format._nested_numbers(3)
    assert not spec_format._nested_numbers([[1], []])
    assert not spec_format._nested_numbers([1, False])
    assert not spec_format._nested_numbers([1, "2"])
