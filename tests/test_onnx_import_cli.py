"""The command line on ONNX sources: convert to every target, run, check, warnings on stderr, one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import convertkit as ck
from convertkit.cli import main
from convertkit.runtime import run_onnx


def _deconv_file(path: Path, batch: Any = 1, **attrs: Any) -> Path:
    rng = np.random.default_rng(7)
    w = rng.standard_normal((3, 2, 4, 4)).astype(np.float32)
    b = rng.standard_normal(2).astype(np.float32)
    node = helper.make_node("ConvTranspose", ["x", "W", "B"], ["y"], name="deconv", **attrs)
    graph = helper.make_graph(
        [node],
        "cli",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.fixture
def deconv_onnx(tmp_path: Path) -> Path:
    return _deconv_file(tmp_path / "deconv.onnx", strides=[2, 2], pads=[1, 1, 1, 1])


def test_convert_to_onnx_round_trips_bit_for_bit(deconv_onnx: Path, tmp_path: Path, capsys):
    out = tmp_path / "out.onnx"
    assert main(["convert", str(deconv_onnx), "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    x = np.random.default_rng(0).standard_normal((1, 3, 5, 5)).astype(np.float32)
    np.testing.assert_array_equal(
        run_onnx(onnx.load(str(out)), {"x": x})["y"], run_onnx(onnx.load(str(deconv_onnx)), {"x": x})["y"]
    )


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_convert_to_spec_keeps_the_model(deconv_onnx: Path, tmp_path: Path, suffix: str):
    out = tmp_path / f"out{suffix}"
    assert main(["convert", str(deconv_onnx), "-o", str(out)]) == 0
    reloaded = ck.load(str(out))
    original = ck.load(str(deconv_onnx))
    assert reloaded.layer("deconv").padding.pads == (1, 1, 1, 1)
    feeds = {"x": np.random.default_rng(1).standard_normal((1, 3, 5, 5)).astype(np.float32)}
    np.testing.assert_array_equal(ck.run(reloaded, feeds)["y"], ck.run(original, feeds)["y"])


def test_convert_to_prototxt_and_back_computes_the_same(deconv_onnx: Path, tmp_path: Path):
    out = tmp_path / "out.prototxt"
    assert main(["convert", str(deconv_onnx), "-o", str(out)]) == 0
    text = out.read_text()
    assert "Deconvolution" in text and "deconv" in text
    caffe = ck.load(str(out), weights=str(tmp_path / "out.caffemodel"))
    x = np.random.default_rng(2).standard_normal((1, 3, 5, 5)).astype(np.float32)
    (name,) = caffe.outputs
    np.testing.assert_allclose(
        ck.run(caffe, {"x": x})[name], run_onnx(onnx.load(str(deconv_onnx)), {"x": x})["y"], rtol=1e-5, atol=1e-5
    )


def test_check_onnx_compares_the_import_with_onnxruntime_on_the_file(deconv_onnx: Path, capsys):
    assert main(["check", str(deconv_onnx)]) == 0
    assert capsys.readouterr().out.rstrip().endswith("PASS")


def test_run_onnx_on_the_reference(deconv_onnx: Path, capsys):
    assert main(["run", str(deconv_onnx), "--backend", "reference"]) == 0
    out = capsys.readouterr().out
    assert "backend: reference" in out and "y: 1x2x10x10 float32" in out


def test_ambiguous_conversions_warn_on_stderr(tmp_path: Path, capsys):
    path = _deconv_file(tmp_path / "same.onnx", strides=[2, 2], auto_pad="SAME_UPPER", output_padding=[1, 1])
    assert main(["convert", str(path), "-o", str(tmp_path / "o.onnx")]) == 0
    err = capsys.readouterr().err
    assert (
        "convertkit convert: warning: ONNX node 'deconv' (ConvTranspose-17): auto_pad SAME_UPPER with output_padding"
        in err
    )
    assert "Traceback" not in err


def test_symbolic_batch_needs_input_shape(tmp_path: Path, capsys):
    path = _deconv_file(tmp_path / "dyn.onnx", batch="N", strides=[2, 2])
    assert main(["convert", str(path), "-o", str(tmp_path / "o.json")]) == 2
    err = capsys.readouterr().err
    assert "symbolic dimension 'N'" in err and "--input-shape x=" in err and len(err.strip().splitlines()) == 1
    assert main(["check", str(path), "--input-shape", "x=2,3,5,5"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("PASS")
    assert main(["convert", str(path), "--input-shape", "x=2,3,five", "-o", str(tmp_path / "o.json")]) == 2
    assert "--input-shape takes NAME=N,C,H,W" in capsys.readouterr().err


def test_unsupported_ops_exit_2_with_every_op_listed(tmp_path: Path, capsys):
    # Erf and Selu stand for ops no kind reads (Relu and Sigmoid were, before the elementwise kinds of issue 8).
    nodes = [
        helper.make_node("Erf", ["x"], ["a"], name="relu"),
        helper.make_node("Selu", ["a"], ["y"], name="sig"),
    ]
    graph = helper.make_graph(
        nodes,
        "bad",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    path = tmp_path / "bad.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    assert main(["convert", str(path), "-o", str(tmp_path / "o.json")]) == 2
    err = capsys.readouterr().err
    assert "Erf (node 'relu'); Selu (node 'sig')" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "layer",
    [
        {
            "type": "Deconvolution",
            "name": "d",
            "input": "x",
            "out_channels": 3,
            "kernel_shape": [3, 3],
            "output_padding": [1, 0],
            "dilations": [3, 1],
            "weight": {"filler": "gaussian", "std": 1.0, "seed": 1},
            "bias": {"filler": "constant", "value": 0.5},
        },
        {
            "type": "Upsample",
            "name": "u",
            "input": "x",
            "mode": "linear",
            "scales": [2, 3],
            "lowering": "deconvolution",
        },
        {"type": "Crop", "name": "c", "input": "x", "shape": [2, 3], "offset": [1, 2]},
    ],
    ids=["deconvolution-pad-add", "upsample-edge-recipe", "crop-slice"],
)
def test_convert_reimports_its_own_onnx_exports(tmp_path: Path, capsys: Any, layer: dict[str, Any]):
    import json

    spec = tmp_path / "m.json"
    spec.write_text(json.dumps({"layers": [{"type": "Input", "name": "x", "shape": [1, 3, 4, 5]}, layer]}))
    first, back, again = tmp_path / "m.onnx", tmp_path / "back.json", tmp_path / "again.onnx"
    assert main(["convert", str(spec), "-o", str(first)]) == 0
    assert main(["convert", str(first), "-o", str(back)]) == 0
    assert main(["convert", str(back), "-o", str(again)]) == 0
    assert [len(json.loads(back.read_text())["layers"])] == [2]
    feeds = {"x": np.random.default_rng(0).standard_normal((1, 3, 4, 5)).astype(np.float32)}
    a, b = run_onnx(onnx.load(str(first)), feeds), run_onnx(onnx.load(str(again)), feeds)
    for name, value in a.items():
        np.testing.assert_array_equal(b[name], value)
    assert "error" not in capsys.readouterr().err
