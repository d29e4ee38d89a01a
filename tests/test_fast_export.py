"""optimize="speed" exports (convertkit.passes.fast_upsample): every identity equal to the literal export and to
the NumPy reference within 1e-6 relative, on small shapes with borders, odd and non-square sizes and batches > 1;
the chosen forms; what stays literal; the CLI flags and check's proof.  No timings here (benchmarks/ has them)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import convertkit as ck
from convertkit.cli import main
from convertkit.fillers import Filler, Values, bilinear_kernel
from convertkit.formats.onnx import to_onnx
from convertkit.layers.deconvolution import Padding
from convertkit.passes import ExportOptions
from convertkit.passes.fast_upsample import analyse, choose_form
from convertkit.reference.interpreter import run_model
from convertkit.runtime import run_onnx


@pytest.fixture(autouse=True)
def _no_dense_form(monkeypatch):
    """These tests pin the separable, windowed, nearest and triangle forms on shapes small enough for the dense
    form (tests/test_dense_form.py tests that one): switch it off."""
    from convertkit.passes import fast_upsample

    monkeypatch.setattr(fast_upsample, "DENSE_MAX_IN", 0)


RTOL = 1e-6


def _ops(proto) -> list[str]:
    return [n.op_type for n in proto.graph.node]


def _equal_everywhere(model: ck.Model, seed: int = 0):
    """ORT(speed) == ORT(literal) == reference, relative to the output's largest magnitude; the fast proto."""
    shape = model.types[model.inputs[0]].shape
    x = {model.inputs[0]: np.random.default_rng(seed).standard_normal(shape).astype(np.float32)}
    fast, literal = to_onnx(model, optimize="speed", target="onnxruntime"), to_onnx(model, optimize="none")
    out = model.outputs[0]
    a, b, r = run_onnx(fast, x)[out], run_onnx(literal, x)[out], run_model(model, x)[out]
    assert a.shape == b.shape == r.shape
    scale = max(1.0, float(np.abs(r).max()))
    assert float(np.abs(a - b).max()) <= RTOL * scale
    assert float(np.abs(a - r).max()) <= RTOL * scale
    return fast


def _deconv(shape, **kwargs) -> ck.Model:
    return ck.Model([ck.Input(name="x", shape=shape), ck.Deconvolution(name="up", input="x", **kwargs)])


def _recipe(c, f):
    k, p = 2 * f - f % 2, (f - 1 + 1) // 2
    return dict(
        out_channels=c,
        group=c,
        kernel_shape=(k, k),
        strides=(f, f),
        padding=Padding(convention="caffe", pad=(p, p)),
        bias_term=False,
        weight=Filler(type="bilinear"),
        frozen=True,
    )


@pytest.mark.parametrize("f", [2, 3, 4, 5])
@pytest.mark.parametrize("shape", [(1, 3, 4, 4), (2, 2, 3, 5)])
def test_caffe_recipe_is_separable_and_equal(f, shape):
    fast = _equal_everywhere(_deconv(shape, **_recipe(shape[1], f)))
    assert _ops(fast) == ["Reshape", "ConvTranspose", "ConvTranspose", "Reshape"]


def test_separable_weights_are_one_dimensional():
    """Compact: a 21-channel x8 recipe stores two 16-tap kernels, not 21 x 16 x 16 weights."""
    fast = to_onnx(_deconv((1, 21, 4, 4), **_recipe(21, 8)), optimize="speed", target="onnxruntime")
    literal = to_onnx(_deconv((1, 21, 4, 4), **_recipe(21, 8)), optimize="none")
    floats = lambda p: sum(int(np.prod(i.dims)) for i in p.graph.initializer if i.data_type == 1)  # noqa: E731
    assert floats(literal) == 21 * 16 * 16 and floats(fast) == 2 * 16


@pytest.mark.parametrize("pads", [(0, 0, 0, 0), (1, 2, 0, 3)])
def test_fcn_diagonal_full_deconvolution_with_bias(pads):
    c, k = 4, 8
    w = np.zeros((c, c, k, k), np.float32)
    w[np.arange(c), np.arange(c)] = bilinear_kernel((k, k))
    m = _deconv(
        (2, c, 3, 5),
        out_channels=c,
        kernel_shape=(k, k),
        strides=(4, 4),
        padding=Padding(pads=pads),
        weight=Values(array=w),
        bias=Values(array=np.arange(c, dtype=np.float32)),
    )
    assert analyse(m.layers[1], m.types["x"]).diagonal
    assert _ops(_equal_everywhere(m)) == ["Reshape", "ConvTranspose", "ConvTranspose", "Reshape", "Add"]


def test_non_square_factors_output_padding_and_dilation():
    m = _deconv(
        (1, 2, 4, 5),
        out_channels=2,
        group=2,
        kernel_shape=(4, 8),
        strides=(2, 4),
        dilations=(1, 2),
        padding=Padding(pads=(1, 2, 0, 1)),
        output_padding=(1, 3),
        bias_term=False,
        weight=Filler(type="bilinear"),
    )
    _equal_everywhere(m)


def test_output_padding_past_the_stride_still_exact():
    """The lowered pass takes the output_padding lowering (Pad) after it; still one exact graph."""
    m = _deconv(
        (1, 2, 3, 3),
        out_channels=2,
        group=2,
        kernel_shape=(4, 4),
        strides=(2, 2),
        dilations=(3, 3),
        output_padding=(2, 0),
        bias_term=False,
        weight=Filler(type="bilinear"),
    )
    _equal_everywhere(m)


@pytest.mark.parametrize("shape", [(1, 2, 7), (1, 2, 3, 4, 5)])
def test_one_and_three_spatial_axes(shape):
    n = len(shape) - 2
    m = _deconv(
        shape,
        out_channels=2,
        group=2,
        kernel_shape=(4,) * n,
        strides=(2,) * n,
        padding=Padding(pads=(1,) * 2 * n),
        bias_term=False,
        weight=Filler(type="bilinear"),
    )
    assert _ops(_equal_everywhere(m)).count("ConvTranspose") == n


def test_one_channel_needs_no_reshape():
    m = _deconv(
        (1, 1, 2, 2),
        out_channels=1,
        kernel_shape=(3, 3),
        strides=(2, 2),
        bias_term=False,
        weight=Filler(type="constant", value=1.0),
    )
    assert _ops(_equal_everywhere(m)) == ["ConvTranspose", "ConvTranspose"]


@pytest.mark.parametrize("f", [2, 3])
def test_ones_kernel_is_nearest_resize(f):
    m = _deconv(
        (2, 3, 3, 5),
        out_channels=3,
        group=3,
        kernel_shape=(f, f),
        strides=(f, f),
        bias_term=False,
        weight=Filler(type="constant", value=1.0),
    )
    assert _ops(_equal_everywhere(m)) == ["Resize"]


def test_align_corners_zoom_16_past_the_dense_limits_stays_resize():
    m = ck.Model(
        [
            ck.Input(name="x", shape=(2, 3, 4, 5)),
            ck.Upsample(
                name="up", input="x", mode="linear", coordinate_transformation_mode="align_corners", sizes=(49, 65)
            ),
        ]
    )
    assert _ops(_equal_everywhere(m)) == ["Resize"]


def test_align_corners_small_zoom_and_half_pixel_resize_stay_resize():
    for kwargs in (
        dict(coordinate_transformation_mode="align_corners", sizes=(7, 9)),
        dict(coordinate_transformation_mode="align_corners", sizes=(25, 33)),
        dict(scales=(8.0, 8.0)),
    ):
        m = ck.Model(
            [ck.Input(name="x", shape=(1, 3, 4, 5)), ck.Upsample(name="up", input="x", mode="linear", **kwargs)]
        )
        assert _ops(_equal_everywhere(m)) == ["Resize"]


def test_caffe_recipe_upsample_and_edge_lowering():
    for kwargs in (dict(semantics="deconvolution"), dict(lowering="deconvolution")):
        m = ck.Model(
            [
                ck.Input(name="x", shape=(1, 3, 4, 5)),
                ck.Upsample(name="up", input="x", mode="linear", scales=(2.0, 2.0), **kwargs),
            ]
        )
        assert "Reshape" in _ops(_equal_everywhere(m))


def test_what_stays_literal():
    rng = np.random.default_rng(0)
    x = ck.TensorType((1, 3, 4, 4))
    k = np.broadcast_to(bilinear_kernel((4, 4)), (3, 1, 4, 4)).astype(np.float32).copy()
    k[1] *= 2  # one channel differs: a grouped ConvTranspose is what it is
    learned = rng.standard_normal((3, 1, 4, 4)).astype(np.float32)
    for w in (k, learned):
        m = _deconv(
            (1, 3, 4, 4),
            out_channels=3,
            group=3,
            kernel_shape=(4, 4),
            strides=(2, 2),
            bias_term=False,
            weight=Values(array=w),
        )
        assert (
            choose_form(m.layers[1], x, ExportOptions(target="onnx", runtime="onnxruntime", optimize="speed"))
            == "literal"
        )
        assert _ops(to_onnx(m, optimize="speed", target="onnxruntime")) == ["ConvTranspose"]
    m = _deconv((1, 3, 4, 4), **_recipe(3, 2))
    assert choose_form(m.layers[1], x, ExportOptions(target="onnx", optimize="none")) == "literal"
    assert _ops(to_onnx(m)) == ["ConvTranspose"]  # the API's default is the literal form


def test_unknown_optimize_is_refused():
    with pytest.raises(ck.UnsupportedError, match="optimize must be one of"):
        to_onnx(_deconv((1, 3, 4, 4), **_recipe(3, 2)), optimize="fast")


def _spec(tmp_path):
    path = tmp_path / "up.json"
    spec = {
        "version": 1,
        "name": "up",
        "layers": [
            {"type": "Input", "name": "x", "shape": [1, 3, 5, 4]},
            {
                "type": "Upsample",
                "name": "up",
                "input": "x",
                "mode": "linear",
                "semantics": "deconvolution",
                "scales": [2, 2],
            },
        ],
        "outputs": ["up"],
    }
    path.write_text(json.dumps(spec))
    return str(path)


def test_cli_convert_optimize_default_speed_and_none(tmp_path):
    """``--optimize speed`` (the default) takes the fast forms where the target runs them: onnxruntime, where they
    were measured; the default target ``portable`` keeps the literal form (OpenCV refuses 1-D ConvTranspose)."""
    import onnx

    src = _spec(tmp_path)
    fast, literal, portable = (str(tmp_path / f"{n}.onnx") for n in ("fast", "literal", "portable"))
    assert main(["convert", src, "-o", fast, "--target", "onnxruntime", "-q"]) == 0
    assert main(["convert", src, "-o", literal, "--target", "onnxruntime", "--optimize", "none", "-q"]) == 0
    assert main(["convert", src, "-o", portable, "-q"]) == 0
    assert _ops(onnx.load(fast)) == ["Reshape", "ConvTranspose", "ConvTranspose", "Reshape"]
    assert _ops(onnx.load(literal)) == ["ConvTranspose"]
    assert _ops(onnx.load(portable)) == ["ConvTranspose"]


def test_cli_check_proves_the_optimized_export_equal_to_the_literal(tmp_path, capsys):
    src = _spec(tmp_path)
    assert main(["check", src, "--target", "onnxruntime"]) == 0
    out = capsys.readouterr().out
    (line,) = [ln for ln in out.splitlines() if "vs literal" in ln]
    assert "equal" in line and "bound 1e-06" in line
    assert main(["check", src, "--target", "onnxruntime", "--optimize", "none"]) == 0
    assert "vs literal" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kernel_shape=(32, 32), strides=(16, 16), padding=Padding(pads=(8, 8, 8, 8))),
        dict(kernel_shape=(33, 34), strides=(17, 17), padding=Padding(pads=(0, 0, 0, 0))),  # FCN: no pads
        dict(
            kernel_shape=(32, 4),
            strides=(16, 2),
            dilations=(2, 1),
            padding=Padding(pads=(3, 1, 5, 0)),
            output_padding=(7, 1),
        ),
    ],
)
def test_windowed_last_pass_for_big_strides(kwargs):
    """Stride >= 16 on the first spatial axis: that (biggest) pass is windows of input rows -> 1-D Conv."""
    m = _deconv((2, 3, 3, 4), out_channels=3, group=3, bias_term=False, weight=Filler(type="bilinear"), **kwargs)
    ops = _ops(_equal_everywhere(m))
    assert "Conv" in ops and ops.count("ConvTranspose") == 1


def test_windowed_pass_in_three_dimensions_with_bias():
    m = _deconv(
        (1, 2, 2, 3, 2),
        out_channels=2,
        group=2,
        kernel_shape=(32, 4, 4),
        strides=(16, 2, 2),
        weight=Filler(type="bilinear"),
        bias=Values(array=np.array([1.0, -2.0], np.float32)),
    )
    ops = _ops(_equal_everywhere(m))
    assert ops.count("ConvTranspose") == 2 and ops[-1] == "Add"


def test_phase_taps_hand_values():
    """x2 recipe (kernel [1/4, 3/4, 3/4, 1/4], pad 1): even rows 1/4 x[m-1] + 3/4 x[m], odd 3/4 x[m] + 1/4 x[m+1]."""
    from convertkit.passes.fast_upsample import phase_taps

    table, dmin = phase_taps(np.array([0.25, 0.75, 0.75, 0.25]), 2, 1, 1)
    assert dmin == -1
    np.testing.assert_array_equal(table, [[0.25, 0.75, 0.0], [0.0, 0.75, 0.25]])


def test_fast_exports_read_back_as_one_layer():
    """The separable form folds back into one grouped Deconvolution on import (the edge recipe then into the
    Upsample it was), so convert -> convert round trips keep the model's layers."""
    from convertkit.formats.onnx_import import from_onnx

    m = _deconv((2, 3, 4, 5), **_recipe(3, 4))
    (back,) = [
        layer for layer in from_onnx(to_onnx(m, optimize="speed", target="onnxruntime")).layers if layer.kind != "Input"
    ]
    assert back.kind == "Deconvolution" and back.group == 3 and back.kernel_shape == (8, 8)
    assert isinstance(back.weight, Filler) and back.weight.type == "bilinear"
    up = ck.Model(
        [
            ck.Input(name="x", shape=(1, 3, 4, 5)),
            ck.Upsample(name="u", input="x", mode="linear", scales=(2.0, 3.0), lowering="deconvolution"),
        ]
    )
    (again,) = [
        layer
        for layer in from_onnx(to_onnx(up, optimize="speed", target="onnxruntime")).layers
        if layer.kind != "Input"
    ]
    assert again.kind == "Upsample" and again.name == "u"
