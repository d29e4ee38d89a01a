"""IR -> IR passes: each multi-node form is lowered for a target and fused back by the same definitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convertkit as ck
from convertkit.comparison import random_inputs
from convertkit.passes import ExportOptions, fuse, lower
from convertkit.reference.interpreter import run_model

X = ck.Input(name="x", shape=(1, 3, 4, 5))


def _kinds(model: ck.Model) -> list[str]:
    return [layer.kind for layer in model.layers]


def _same_outputs(a: ck.Model, b: ck.Model, seed: int = 0, exact: bool = True) -> None:
    feeds = random_inputs(a, seed)
    ra, rb = run_model(a, feeds), run_model(b, feeds)
    for name in a.outputs:
        if exact:
            np.testing.assert_array_equal(ra[name], rb[name])
        else:  # Resize and the recipe sum the same two products per axis in another order: a few ulp
            np.testing.assert_allclose(ra[name], rb[name], rtol=2e-6, atol=1e-6)


def _bias(c: int) -> ck.Values:
    return ck.Values(array=np.arange(1, c + 1, dtype=np.float32) / 4)


def test_output_padding_past_the_stride_lowers_to_pad_crop_bias_for_onnx_only():
    # op 2 >= stride 1 (allowed below dilation 3); pads (3, 0) crop the whole scatter on the first axis.
    d = ck.Deconvolution(
        name="d",
        input="x",
        out_channels=2,
        kernel_shape=(1, 2),
        strides=(1, 2),
        dilations=(3, 1),
        output_padding=(2, 0),
        padding=ck.Padding(pads=(4, 0, 0, 0)),
        weight=ck.Filler(type="gaussian", seed=3),
        bias=_bias(2),
    )
    model = ck.Model([X, d])
    # target onnxruntime keeps the dilation (portable writes it as zero taps: tests/test_portability.py)
    lowered = lower(model, ExportOptions(target="onnx", runtime="onnxruntime"))
    assert _kinds(lowered) == ["Input", "Deconvolution", "Pad", "Crop", "Bias"]
    assert lowered.outputs == model.outputs
    _same_outputs(model, lowered)
    assert lower(model, ExportOptions(target="caffe")) is model  # Caffe's Deconvolution says it in one layer
    fused = fuse(lowered.layers, dict(lowered.types), lowered.outputs)
    assert fused == list(model.layers)


def test_edge_recipe_is_pad_deconvolution_crop_for_onnx_and_folds_its_crop_for_caffe():
    up = ck.Upsample(name="u", input="x", mode="linear", scales=(2.0, 3.0), lowering="deconvolution")
    model = ck.Model([X, up])
    onnx_form = lower(model, ExportOptions(target="onnx"))
    assert _kinds(onnx_form) == ["Input", "Pad", "Deconvolution", "Crop"]
    _same_outputs(model, onnx_form, exact=False)
    caffe_form = lower(model, ExportOptions(target="caffe"))
    assert _kinds(caffe_form) == ["Input", "Pad", "Deconvolution"]  # the crop of f rows is in the pads
    deconv = caffe_form.layers[-1]
    assert deconv.name == "u" and deconv.geometry((6, 7)).pads == (3, 4, 3, 4)  # recipe pads 1, 1 plus f = 2, 3
    _same_outputs(model, caffe_form, exact=False)
    assert fuse(onnx_form.layers, dict(onnx_form.types), onnx_form.outputs) == list(model.layers)


def test_lowered_forms_run_in_onnxruntime_and_opencv_like_the_layer():
    up = ck.Upsample(name="u", input="x", mode="linear", scales=(2.0, 2.0))
    model = ck.Model([X, up])
    assert ck.check(model).passed
    pytest.importorskip("cv2")
    from convertkit.formats.caffe import check_caffe

    report = check_caffe(model)
    assert report.passed, report.format()


@pytest.mark.parametrize(
    "pad",
    [
        ck.Pad(name="p", input="x", pads=(1, 0, 2, 3), mode="edge"),
        ck.Pad(name="p", input="x", pads=(0, 2, 1, 0)),
        ck.Pad(name="p", input="x", pads=(1, 1, 1, 1), value=-2.5),
    ],
    ids=["edge", "zeros", "value"],
)
def test_pad_runs_the_same_in_the_reference_and_onnxruntime(pad):
    model = ck.Model([X, pad])
    assert model.types["p"].shape == (1, 3, 4 + pad.pads[0] + pad.pads[2], 5 + pad.pads[1] + pad.pads[3])
    report = ck.check(model)
    assert report.passed, report.format()


@pytest.mark.parametrize("mode", ["edge", "constant"])
def test_pad_has_an_exact_stock_caffe_form(mode):
    pytest.importorskip("cv2")
    from convertkit.formats.caffe import check_caffe, to_caffe

    model = ck.Model([X, ck.Pad(name="p", input="x", pads=(2, 1, 0, 3), mode=mode)])
    types = {layer.type for layer in to_caffe(model).net.layer}
    assert types >= ({"Slice", "Concat"} if mode == "edge" else {"Deconvolution"})
    report = check_caffe(model)
    assert report.passed, report.format()
    with pytest.raises(ck.UnsupportedError, match="no stock Caffe form"):
        to_caffe(ck.Model([X, ck.Pad(name="p", input="x", pads=(1, 1, 1, 1), value=1.0)]))


def test_pad_and_bias_rules_name_the_layer():
    with pytest.raises(ck.ValidationError, match=r"layer 'p' \(Pad\): pads must be >= 0"):
        ck.Pad(name="p", input="x", pads=(1, -1))
    with pytest.raises(ck.ValidationError, match="applies to mode constant only"):
        ck.Pad(name="p", input="x", pads=(1, 1), mode="edge", value=1.0)
    with pytest.raises(ck.ValidationError, match="rank"):
        ck.Model([X, ck.Pad(name="p", input="x", pads=(1, 1))])
    with pytest.raises(ck.ValidationError, match="3 channels"):
        ck.Model([X, ck.Bias(name="b", input="x", bias=_bias(2))])


@st.composite
def _deconvolutions(draw: st.DrawFn) -> ck.Model:
    rank = draw(st.integers(1, 2))
    spatial = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    strides = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    dilations = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    op = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(strides, dilations, strict=True))
    pads = tuple(draw(st.integers(0, 3)) for _ in range(2 * rank))
    bias = draw(st.booleans())
    layer = ck.Deconvolution(
        name="d",
        input="x",
        out_channels=2,
        kernel_shape=kernel,
        strides=strides,
        dilations=dilations,
        output_padding=op,
        padding=ck.Padding(pads=pads),
        bias_term=bias,
        weight=ck.Filler(type="uniform", min=-1.0, max=1.0, seed=draw(st.integers(0, 9))),
        bias=_bias(2) if bias else None,
    )
    x = ck.Input(name="x", shape=(1, 2, *spatial))
    try:
        return ck.Model([x, layer])
    except ck.ValidationError:
        return ck.Model([x, dataclasses_replace(layer, padding=ck.Padding(pads=(0,) * (2 * rank)))])


def dataclasses_replace(layer, **changes):
    import dataclasses

    return dataclasses.replace(layer, **changes)


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(_deconvolutions())
def test_fuse_undoes_the_onnx_lowering_and_both_compute_the_layer(model):
    lowered = lower(model, ExportOptions(target="onnx", runtime="onnxruntime"))
    _same_outputs(model, lowered)
    # The one definition of the form folds it back into one layer computing the same, bit for bit (in its
    # canonical form: an end pad that output_padding's rows would refill is absorbed), and lowering that layer
    # writes the same layers again, so re-exports are stable.
    fused = ck.Model(fuse(lowered.layers, dict(lowered.types), lowered.outputs), model.outputs)
    assert _kinds(fused) == _kinds(model)
    _same_outputs(model, fused)
    assert lower(fused, ExportOptions(target="onnx", runtime="onnxruntime")).layers == lowered.layers
