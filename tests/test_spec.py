"""Spec format: schema errors with JSON paths, the schema file is the IR's, round trips, YAML, .npy weights."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest

import convertkit as ck
from convertkit.formats.spec import json_schema, model_from_spec, model_to_spec
from convertkit.ir import LAYER_KINDS

REPO = Path(__file__).resolve().parents[1]


def test_schema_file_is_generated_from_the_ir():
    on_disk = json.loads((REPO / "schemas" / "convertkit.schema.json").read_text())
    assert on_disk == json_schema(), "schemas/convertkit.schema.json is stale: run `convertkit schema > ...`"
    jsonschema.Draft202012Validator.check_schema(on_disk)


def test_schema_covers_every_layer_kind_and_field():
    schema = json_schema()
    assert set(schema["$defs"]) - {"nested_numbers"} == set(LAYER_KINDS)
    # Every dataclass field of a kind is writable in the spec (under its own name, or via padding for pads).
    import dataclasses

    for kind, cls in LAYER_KINDS.items():
        props = set(schema["$defs"][kind]["properties"])
        for f in dataclasses.fields(cls):
            assert f.name in props or (f.name == "padding" and "pads" in props), (kind, f.name)


@pytest.mark.parametrize(
    "example", sorted([*(REPO / "examples").glob("*.json"), *(REPO / "examples").glob("*.yaml")]), ids=lambda p: p.name
)
def test_examples_round_trip_through_spec(example, tmp_path):
    model = ck.load(str(example))
    for suffix in (".json", ".yaml"):
        out = tmp_path / f"again{suffix}"
        ck.save(model, str(out))
        again = ck.load(str(out))
        assert model_to_spec(again) == model_to_spec(model)
        assert again.types == model.types
        rng = np.random.default_rng(0)
        feeds = {n: rng.standard_normal(model.types[n].shape).astype(model.types[n].dtype) for n in model.inputs}
        a, b = ck.run(model, feeds), ck.run(again, feeds)
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])


def _spec(**deconv):
    layer = {
        "type": "Deconvolution",
        "name": "up",
        "input": "x",
        "out_channels": 2,
        "kernel_shape": [3, 3],
        "weight": {"filler": "xavier", "seed": 1},
    }
    layer.update(deconv)
    return {"layers": [{"type": "Input", "name": "x", "shape": [1, 2, 4, 4]}, layer]}


@pytest.mark.parametrize(
    "patch, path",
    [
        (dict(strides=[2, -1]), "$.layers[1].strides[1]"),
        (dict(weight={"filler": "bicubic"}), "$.layers[1].weight"),
        (dict(padding={"convention": "caffe", "pads": [1, 1]}), "$.layers[1].padding"),
        (dict(stride=[2, 2]), "$.layers[1]"),
        (dict(group="2"), "$.layers[1].group"),
    ],
)
def test_schema_errors_carry_json_path(patch, path):
    with pytest.raises(ck.SpecError) as info:
        model_from_spec(_spec(**patch))
    assert path in str(info.value)


def test_layer_rule_errors_name_the_layer_position():
    with pytest.raises(ck.ValidationError, match=r"\$\.layers\[1\]: layer 'up' \(Deconvolution\): group must divide"):
        model_from_spec(_spec(group=2, out_channels=3))


def test_unknown_layer_type():
    with pytest.raises(ck.SpecError, match=r"\$\.layers\[0\]\.type"):
        model_from_spec({"layers": [{"type": "SoftmaxWithLoss", "name": "c"}]})


def test_npy_weights_relative_to_spec(tmp_path):
    w = np.random.default_rng(0).standard_normal((2, 2, 3, 3)).astype(np.float32)
    (tmp_path / "w").mkdir()
    np.save(tmp_path / "w" / "up.npy", w)
    spec = _spec(weight={"npy": "w/up.npy"})
    (tmp_path / "m.json").write_text(json.dumps(spec))
    model = ck.load(str(tmp_path / "m.json"))
    np.testing.assert_array_equal(model.layer("up").weight_array(2), w)
    # Saved beside the original, the reference is as the user wrote it; saved elsewhere, it still finds the file.
    ck.save(model, str(tmp_path / "same.json"))
    assert json.loads((tmp_path / "same.json").read_text())["layers"][1]["weight"] == {"npy": "w/up.npy"}
    (tmp_path / "other").mkdir()
    ck.save(model, str(tmp_path / "other" / "moved.yaml"))
    moved = ck.load(str(tmp_path / "other" / "moved.yaml"))
    np.testing.assert_array_equal(moved.layer("up").weight_array(2), w)
    spec["layers"][1]["weight"] = {"npy": "missing.npy"}
    (tmp_path / "bad.json").write_text(json.dumps(spec))
    with pytest.raises(ck.FormatError, match="missing.npy"):
        ck.load(str(tmp_path / "bad.json"))


def test_inline_values_and_yaml(tmp_path):
    (tmp_path / "m.yaml").write_text(
        "layers:\n"
        "  - {type: Input, name: x, shape: [1, 1, 2]}\n"
        "  - type: Deconvolution\n"
        "    name: d\n"
        "    input: x\n"
        "    out_channels: 1\n"
        "    kernel_shape: [2]\n"
        "    strides: [2]\n"
        "    weight: {values: [[[1, -1]]]}\n"
        "    bias: {values: [0.5]}\n"
    )
    model = ck.load(str(tmp_path / "m.yaml"))
    y = ck.run(model, {"x": np.array([[[3.0, 5.0]]], np.float32)})["d"]
    np.testing.assert_array_equal(y[0, 0], [3.5, -2.5, 5.5, -4.5])


def test_bad_files(tmp_path):
    (tmp_path / "m.json").write_text("{ nope")
    with pytest.raises(ck.SpecError, match="invalid JSON at line 1"):
        ck.load(str(tmp_path / "m.json"))
    with pytest.raises(ck.FormatError, match="cannot read"):
        ck.load(str(tmp_path / "absent.json"))
    with pytest.raises(ck.FormatError, match="cannot read .txt"):
        ck.load(str(tmp_path / "m.txt"))
