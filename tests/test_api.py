"""The library API refuses wrong types and lossy inputs with convertkit errors, never raw Python exceptions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import convertkit as ck

EX_MODEL = dict(
    name="d",
    input="x",
    out_channels=2,
    kernel_shape=(3, 3),
    strides=(2, 2),
    weight=ck.Filler(type="constant", value=1.0),
)


def _model() -> ck.Model:
    return ck.Model([ck.Input(name="x", shape=(1, 2, 3, 3)), ck.Deconvolution(**EX_MODEL)])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(strides=0), "strides must be >= 1"),
        (dict(dilations=(0, 1)), "dilations must be >= 1"),
        (dict(strides=()), "strides needs 2 values"),
        (dict(padding={"convention": "caffe", "pad": [1, 1]}), "padding must be a Padding"),
        (dict(kernel_shape="33"), "kernel_shape must be integers"),
        (dict(bias=ck.Filler(type="bilinear")), "a bias .* has no spatial axes"),
    ],
)
def test_deconvolution_field_types(kwargs, message):
    with pytest.raises(ck.ValidationError, match=message):
        ck.Deconvolution(**{**EX_MODEL, **kwargs})


def test_numpy_integers_are_integers():
    layer = ck.Deconvolution(
        **{**EX_MODEL, "out_channels": np.int64(2), "kernel_shape": np.array([3, 3]), "group": np.int32(1)}
    )
    assert layer.out_channels == 2 and layer.kernel_shape == (3, 3) and type(layer.out_channels) is int


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(std="1"), "std must be a finite number"),
        (dict(value=float("nan")), "value must be a finite"),
        (dict(seed=-1), "seed must be a non-negative"),
    ],
)
def test_filler_field_types(kwargs, message):
    with pytest.raises(ck.ValidationError, match=message):
        ck.Filler(type="gaussian", **kwargs)


def test_model_outputs_string_refused():
    with pytest.raises(ck.ValidationError, match="list of value names"):
        ck.Model([ck.Input(name="x", shape=(1, 2, 3, 3)), ck.Deconvolution(**EX_MODEL)], outputs="d")


def test_run_inputs_checked():
    m = _model()
    with pytest.raises(ck.ValidationError, match="mapping of input name"):
        ck.run(m, np.ones((1, 2, 3, 3), np.float32))  # type: ignore[arg-type]
    with pytest.raises(ck.ValidationError, match="rectangular"):
        ck.run(m, {"x": [[1, 2], [3]]})
    with pytest.raises(ck.ValidationError, match="dtype complex128"):
        ck.run(m, {"x": np.ones((1, 2, 3, 3), np.complex128)})
    lossy = np.full((1, 2, 3, 3), 0.1, np.float64)
    with pytest.raises(ck.ValidationError, match="cannot hold exactly"):
        ck.run(m, {"x": lossy})
    exact = np.full((1, 2, 3, 3), 0.5, np.float64)  # float64 holding float32 values: accepted
    np.testing.assert_array_equal(ck.run(m, {"x": exact})["d"], ck.run(m, {"x": exact.astype(np.float32)})["d"])
    assert ck.run(m, {"x": np.ones((1, 2, 3, 3), np.int64)})["d"].dtype == np.float32


def test_export_argument_types(tmp_path):
    with pytest.raises(ck.UnsupportedError, match="opset must be an integer"):
        ck.to_onnx(_model(), "13")  # type: ignore[arg-type]
    with pytest.raises(ck.FormatError, match="exports a convertkit Model"):
        ck.to_onnx("m")  # type: ignore[arg-type]
    with pytest.raises(ck.FormatError, match="writes a convertkit Model"):
        ck.save("m", str(tmp_path / "m.onnx"))  # type: ignore[arg-type]


def test_public_api_exports_every_layer_kind_and_to_caffe():
    for kind in ck.LAYER_KINDS:
        assert getattr(ck, kind) is ck.LAYER_KINDS[kind]
    net = ck.to_caffe(_model())
    assert [layer.type for layer in net.net.layer] == ["Input", "Deconvolution"]
    with pytest.raises(ck.FormatError, match="exports a convertkit Model"):
        ck.to_caffe("m")  # type: ignore[arg-type]


@pytest.mark.parametrize("shapes", [{"x": "1,8,16,16"}, {"x": (1, 0, 16, 16)}, [("x", (1, 8, 16, 16))]])
def test_load_input_shapes_checked(shapes):
    with pytest.raises(ck.FormatError, match="input_shapes"):
        ck.load(str(Path(__file__).resolve().parents[1] / "examples" / "same_upper_head.onnx"), input_shapes=shapes)
