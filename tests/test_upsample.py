"""Upsample: both semantics, every lowering checked by onnxruntime against the reference, and the border
difference between Caffe's recipe and Resize shown explicitly."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import convertkit as ck
from convertkit.fillers import bilinear_kernel_1d


def _model(shape, **kwargs) -> ck.Model:
    return ck.Model([ck.Input(name="x", shape=shape), ck.Upsample(name="up", input="x", **kwargs)])


def _x(shape, seed=0):
    return {"x": np.random.default_rng(seed).standard_normal(shape).astype(np.float32)}


def test_linear_half_pixel_x2_hand_values():
    m = _model((1, 1, 2), mode="linear", scales=(2,))
    y = ck.run(m, {"x": np.array([[[1.0, 2.0]]], np.float32)})["up"]
    np.testing.assert_allclose(y[0, 0], [1.0, 1.25, 1.75, 2.0])


def test_recipe_x2_hand_values():
    # Recipe f=2: kernel [1/4, 3/4, 3/4, 1/4], stride 2, pad 1; the first/last outputs see the zero border.
    m = _model((1, 1, 2), mode="linear", scales=(2,), semantics="deconvolution")
    y = ck.run(m, {"x": np.array([[[1.0, 2.0]]], np.float32)})["up"]
    np.testing.assert_allclose(y[0, 0], [0.75, 1.25, 1.75, 1.5])


@pytest.mark.parametrize("f", [2, 3, 4, 8])
def test_recipe_equals_resize_inside_differs_at_border(f):
    shape = (1, 3, 6, 5)
    x = _x(shape)
    recipe = ck.run(_model(shape, mode="linear", scales=(f, f), semantics="deconvolution"), x)["up"]
    resize = ck.run(_model(shape, mode="linear", scales=(f, f)), x)["up"]
    assert recipe.shape == resize.shape == (1, 3, 6 * f, 5 * f)
    # Rows/cols whose half-pixel source lies inside [0, n-1] agree; the border band does not.
    band = f // 2
    inner = (slice(None), slice(None), slice(band, -band), slice(band, -band))
    np.testing.assert_allclose(recipe[inner], resize[inner], rtol=1e-5, atol=1e-5)
    assert not np.allclose(recipe[..., 0, :], resize[..., 0, :], atol=1e-3)


def test_bilinear_frozen_grouped_filter_form():
    m = _model((1, 21, 8, 8), mode="linear", scales=(2, 2), semantics="deconvolution")
    up = m.layer("up")
    deconv = up.as_deconvolution(21, (8, 8))
    assert deconv.is_bilinear_frozen and deconv.group == deconv.out_channels == 21
    assert deconv.kernel_shape == (4, 4) and deconv.strides == (2, 2) and deconv.padding.pad == (1, 1)
    w = deconv.weight_array(21)
    assert w.shape == (21, 1, 4, 4)
    np.testing.assert_allclose(w[5, 0], np.outer(bilinear_kernel_1d(4), bilinear_kernel_1d(4)))
    proto = ck.to_onnx(m)
    (node,) = [n for n in proto.graph.node]
    assert node.op_type == "ConvTranspose"
    assert {a.name: a.i for a in node.attribute if a.name == "group"} == {"group": 21}


RESIZE_CASES = [
    # (mode, ctm, nearest_mode, scales or sizes)
    *[
        ("nearest", ctm, nm, (2, 3))
        for ctm, nm in itertools.product(
            [
                "half_pixel",
                "asymmetric",
                "align_corners",
                "pytorch_half_pixel",
                "tf_half_pixel_for_nn",
                "half_pixel_symmetric",
            ],
            ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"],
        )
    ],
    *[
        ("linear", ctm, "round_prefer_floor", s)
        for ctm, s in itertools.product(
            ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", "half_pixel_symmetric"],
            [(2, 2), (1.5, 0.5), (3, 1.25)],
        )
    ],
]


@pytest.mark.parametrize("case", RESIZE_CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}-{c[3]}")
def test_resize_lowering_matches_onnxruntime(case):
    mode, ctm, nm, scales = case
    m = _model((2, 3, 5, 4), mode=mode, scales=scales, coordinate_transformation_mode=ctm, nearest_mode=nm)
    report = ck.check(m, _x((2, 3, 5, 4)))
    assert report.passed, report.format()


@pytest.mark.parametrize("sizes", [(10, 7), (3, 9), (1, 1)])
def test_resize_sizes_matches_onnxruntime(sizes):
    for mode in ("nearest", "linear"):
        m = _model((1, 2, 5, 4), mode=mode, sizes=sizes)
        assert m.types["up"].shape == (1, 2, *sizes)
        report = ck.check(m, _x((1, 2, 5, 4)))
        assert report.passed, report.format()


DECONV_LOWERING_CASES = [
    ("nearest", "half_pixel", "round_prefer_floor", (2, 3)),
    ("nearest", "half_pixel", "round_prefer_ceil", (4, 1)),
    ("nearest", "pytorch_half_pixel", "round_prefer_ceil", (3, 2)),
    ("nearest", "asymmetric", "floor", (2, 2)),
    ("nearest", "asymmetric", "round_prefer_floor", (2, 2)),  # x = i/2 ties round down: still floor(i/2)
    ("nearest", "align_corners", "round_prefer_floor", (2, 2)),  # 5 -> 10 and 4 -> 8 happen to read floor(i/2)
    ("nearest", "tf_half_pixel_for_nn", "floor", (3, 3)),
    ("linear", "half_pixel", "round_prefer_floor", (2, 2)),
    ("linear", "half_pixel", "round_prefer_floor", (3, 4)),
    ("linear", "pytorch_half_pixel", "round_prefer_floor", (8, 1)),
    ("linear", "half_pixel_symmetric", "round_prefer_floor", (2, 5)),
]


@pytest.mark.parametrize("case", DECONV_LOWERING_CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}-{c[3]}")
def test_resize_semantics_through_deconvolution_is_exact(case):
    mode, ctm, nm, scales = case
    shape = (1, 3, 5, 4)
    kwargs = dict(mode=mode, scales=scales, coordinate_transformation_mode=ctm, nearest_mode=nm)
    via_deconv = _model(shape, lowering="deconvolution", **kwargs)
    ops = {n.op_type for n in ck.to_onnx(via_deconv).graph.node}
    assert "Resize" not in ops and "ConvTranspose" in ops
    x = _x(shape, seed=4)
    report = ck.check(via_deconv, x)  # onnxruntime on the deconvolution graph vs the Resize reference
    assert report.passed, report.format()
    native = ck.run(_model(shape, **kwargs), x, backend="onnxruntime")["up"]
    np.testing.assert_allclose(ck.run(via_deconv, x, backend="onnxruntime")["up"], native, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            dict(
                mode="linear", scales=(2, 2), coordinate_transformation_mode="align_corners", lowering="deconvolution"
            ),
            "no exact deconvolution form",
        ),
        (dict(mode="linear", scales=(1.5, 2), semantics="deconvolution"), "integer factors"),
        (dict(mode="linear", scales=(2, 2), semantics="deconvolution", lowering="resize"), "clamps at the border"),
        (dict(mode="linear", scales=(2, 2), sizes=(4, 4)), "exactly one of scales"),
        (dict(mode="area", scales=(2, 2)), "mode must be one of"),
        (dict(mode="linear", scales=(0, 2)), "positive"),
        (
            dict(
                mode="linear", scales=(2, 2), semantics="deconvolution", coordinate_transformation_mode="align_corners"
            ),
            "fixed by the recipe",
        ),
    ],
)
def test_upsample_refusals(kwargs, message):
    with pytest.raises(ck.ValidationError, match=message) as info:
        ck.Upsample(name="up", input="x", **kwargs)
    assert "layer 'up' (Upsample)" in str(info.value)


@pytest.mark.parametrize(
    "ctm, nearest_mode",
    [
        ("asymmetric", "round_prefer_floor"),
        ("half_pixel", "ceil"),
        ("half_pixel", "floor"),
        ("tf_half_pixel_for_nn", "round_prefer_ceil"),
        ("align_corners", "round_prefer_floor"),
    ],
)
def test_nearest_deconvolution_lowering_refused_when_rows_differ(ctm, nearest_mode):
    # Factor 3: e.g. asymmetric + round_prefer_floor reads row round(2/3) = 1 for output row 2, not 2 // 3 = 0.
    with pytest.raises(ck.ValidationError, match="does not read source row floor"):
        _model(
            (1, 1, 5, 4),
            mode="nearest",
            scales=(3, 3),
            coordinate_transformation_mode=ctm,
            nearest_mode=nearest_mode,
            lowering="deconvolution",
        )


def test_sizes_not_multiple_refused_for_deconvolution():
    with pytest.raises(ck.ValidationError, match="not a multiple of 5"):
        _model((1, 1, 5, 4), mode="linear", sizes=(12, 8), semantics="deconvolution")


def test_non_float32_scale_refused_at_export():
    m = _model((1, 1, 30, 30), mode="linear", scales=(0.1, 0.1))
    with pytest.raises(ck.UnsupportedError, match="float32"):
        ck.to_onnx(m)


def test_x8_bilinear_21_channels_matches_onnxruntime():
    m = _model((1, 21, 16, 16), mode="linear", scales=(8, 8), semantics="deconvolution")
    report = ck.check(m)
    assert report.passed, report.format()


def test_scale_whose_output_size_readers_disagree_on_is_refused():
    # 3 * 3.6666665f is 11 in float32 (onnxruntime) and 10.99999... exactly (onnx shape inference).
    scale = float(np.nextafter(np.float32(11 / 3), np.float32(0)))
    with pytest.raises(ck.ValidationError, match=r"ambiguous output size: .* = 11; .* = 10; give sizes"):
        _model((1, 1, 3, 4), mode="nearest", scales=(scale, 1.0))


def test_output_size_follows_onnxruntime_float32_product():
    from convertkit import shapes

    assert shapes.resize_output_size(10, 0.7) == 7  # float32 product 7.0000000x
    assert shapes.exact_resize_output_size(10, 0.7) == 6
    m = _model((1, 1, 5, 4), mode="linear", scales=(1.5, 0.75))
    assert m.types["up"].shape == (1, 1, 7, 3)
