"""The memory budget (convertkit.budget): sizes, the estimate from static types, and where it refuses."""

from __future__ import annotations

import dataclasses
import typing

import numpy as np
import pytest

import convertkit as ck
from convertkit.budget import estimate, format_bytes, memory_budget, parse_size
from convertkit.errors import MemoryBudgetError, ValidationError
from convertkit.fillers import Filler, WeightSource
from convertkit.ir import Layer, Model
from convertkit.registry import kinds


def test_parse_and_format_sizes() -> None:
    assert parse_size("4G") == 4 * 10**9
    assert parse_size("512MB") == 512 * 10**6
    assert parse_size("1.5GiB") == int(1.5 * 2**30)
    assert parse_size("1000") == 1000
    assert parse_size(" 2 k ") == 2000
    for bad in ("lots", "-1G", "4X", "", "0"):
        with pytest.raises(ValidationError, match="memory size"):
            parse_size(bad)
    assert format_bytes(537_000_000) == "537 MB"
    assert format_bytes(1_300_000_000) == "1.3 GB"
    assert format_bytes(999) == "999 B"


def _chain(hw: int, channels: int = 4) -> Model:
    layers: list[Layer] = [ck.Input(name="x", shape=(1, channels, hw, hw))]
    prev = "x"
    for i in range(3):
        layers.append(
            ck.Deconvolution(
                name=f"up{i}",
                input=prev,
                out_channels=channels,
                kernel_shape=(2, 2),
                strides=(2, 2),
                weight=Filler(type="constant", value=1.0),
            )
        )
        prev = f"up{i}"
    return Model(layers)


def test_estimate_counts_parameters_and_the_live_values_only() -> None:
    model = _chain(8)
    est = estimate(model)
    # three 4x4x2x2 float32 kernels and biases (bias_term defaults on)
    assert est.parameters == 3 * (4 * 4 * 2 * 2 + 4) * 4
    sizes = [4 * 4 * 8 * 8 * 4**k for k in range(4)]  # bytes of x, up0, up1, up2 (each 4x the last)
    # at the last layer: its input is alive, then its output, the reference's GEMM workspace (every tap times the
    # zero-padded input: 4 taps x 4 channels x (32 + 2 * 2) ** 2, float32, over the output's size here) and its kernel
    workspace = 4 * 4 * (32 + 2 * 2) ** 2 * 4
    assert model.layers[-1].reference_workspace([model.types["up1"]]) == workspace > sizes[3]
    assert est.reference == sizes[2] + sizes[3] + workspace + (4 * 4 * 2 * 2 + 4) * 4
    assert est.largest_layer == "layer 'up2' (Deconvolution)"
    # an actual run frees as it goes: the values are dropped after their last reader
    out = ck.run(model)
    assert list(out) == ["up2"] and out["up2"].shape == (1, 4, 64, 64)


def test_reference_and_export_refuse_over_budget_before_allocating() -> None:
    model = _chain(512)
    with memory_budget("10M"):
        with pytest.raises(
            MemoryBudgetError,
            match=r"running the NumPy reference needs about .* over the memory "
            r"budget of 10\.0 MB \(--max-memory 10\.0 MB\); the largest is layer 'up2'",
        ):
            ck.run(model)
        with pytest.raises(MemoryBudgetError, match="running the NumPy reference"):
            ck.check(model)
    with memory_budget(100):
        with pytest.raises(
            MemoryBudgetError,
            match=r"materialising the weights for export needs about 1\.6 kB, over the memory budget of 100 B .*; the "
            r"heaviest is layer 'up0' \(Deconvolution\) with 272 B of parameters",
        ):
            ck.to_onnx(_chain(2))
    # outside the block the default (a share of the available memory) applies again
    assert ck.run(_chain(2))["up2"].shape == (1, 4, 16, 16)


def _has_weight_source(cls: type) -> bool:
    hints = typing.get_type_hints(cls)
    return any(
        WeightSource in typing.get_args(hints[f.name])
        or hints[f.name] is WeightSource
        or any(WeightSource in typing.get_args(a) for a in typing.get_args(hints[f.name]))
        for f in dataclasses.fields(cls)
    )


@pytest.mark.parametrize("kind", [k for k in kinds() if _has_weight_source(k.layer)], ids=lambda k: k.name)
def test_every_kind_with_weights_says_their_shapes(kind) -> None:
    # the budget adds parameter_shapes up; a kind with a weight source that keeps Layer's "none" would hide its
    # weights from it
    assert kind.layer.parameter_shapes is not Layer.parameter_shapes, kind.name


def test_kinds_with_weights_are_found() -> None:
    names = {k.name for k in kinds() if _has_weight_source(k.layer)}
    assert {"Deconvolution", "Convolution", "PReLU", "Bias"} <= names


def test_validate_prints_the_memory_line(tmp_path, capsys) -> None:
    from convertkit.cli import main

    assert main(["validate", "examples/bilinear_x2_21ch.json"]) == 0
    out = capsys.readouterr().out
    assert "memory: parameters 1.3 kB, reference peak about" in out
    assert main(["validate", "--max-memory", "1k", "examples/bilinear_x2_21ch.json"]) == 2
    assert "over the memory budget of 1.0 kB (--max-memory 1.0 kB)" in capsys.readouterr().err


def test_compare_is_chunked_and_still_exact() -> None:
    from convertkit.comparison import _CHUNK, compare

    rng = np.random.default_rng(0)
    ref = rng.standard_normal(_CHUNK * 2 + 17).astype(np.float32)
    other = ref.copy()
    other[_CHUNK + 5] += 1.0  # in the second chunk
    report = compare("y", ref, other, 1e-5, 1e-4)
    assert not report.passed and report.max_abs == pytest.approx(1.0, rel=1e-6)
    assert compare("y", ref, ref.copy(), 1e-5, 1e-4).passed
