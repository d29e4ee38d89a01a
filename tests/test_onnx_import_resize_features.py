"""The Resize-only Upsample fields the ONNX importer needs: cubic, antialias, tf_crop_and_resize, aspect policy.

Built directly (not imported), each layer must check itself, survive the spec, export at the opsets that have
the feature (and refuse clearly below), refuse Caffe, and agree with onnxruntime through ``convertkit.check``.
"""

from __future__ import annotations

from typing import Any

import pytest

import convertkit as ck
from convertkit.formats.spec import model_from_spec, model_to_spec, validate_spec

X = ck.Input(name="x", shape=(1, 2, 6, 7))

FEATURE_LAYERS = {
    "cubic": dict(mode="cubic", scales=(2.0, 0.5), cubic_coeff_a=-0.5, exclude_outside=True),
    "cubic-align_corners-sizes": dict(mode="cubic", sizes=(9, 4), coordinate_transformation_mode="align_corners"),
    "linear-antialias": dict(mode="linear", scales=(0.5, 0.75), antialias=True),
    "cubic-antialias": dict(mode="cubic", sizes=(3, 5), antialias=True, exclude_outside=True),
    "tf_crop_and_resize": dict(
        mode="linear",
        sizes=(4, 5),
        coordinate_transformation_mode="tf_crop_and_resize",
        roi=(0.25, 0.0, 0.75, 0.5),
        extrapolation_value=-1.0,
    ),
    "not_smaller": dict(mode="nearest", sizes=(3, 5), keep_aspect_ratio_policy="not_smaller"),
    "not_larger-linear": dict(mode="linear", sizes=(12, 9), keep_aspect_ratio_policy="not_larger"),
}


def _model(**kwargs: Any) -> ck.Model:
    return ck.Model([X, ck.Upsample(name="up", input="x", **kwargs)])


@pytest.mark.parametrize("kwargs", FEATURE_LAYERS.values(), ids=FEATURE_LAYERS.keys())
def test_feature_layers_check_against_onnxruntime(kwargs):
    report = ck.check(_model(**kwargs))
    assert report.passed, report.format()


@pytest.mark.parametrize("kwargs", FEATURE_LAYERS.values(), ids=FEATURE_LAYERS.keys())
def test_feature_layers_survive_the_spec(kwargs):
    model = _model(**kwargs)
    spec = model_to_spec(model)
    validate_spec(spec)
    assert model_from_spec(spec).layer("up") == model.layer("up")


def test_aspect_policy_output_size_rounds_half_away_like_onnxruntime():
    # 6x7 to fit 3x5, not_smaller: scale max(0.5, 0.714) = 0.714, sizes round(4.29) = 4 and round(5.0) = 5.
    assert _model(mode="nearest", sizes=(3, 5), keep_aspect_ratio_policy="not_smaller").types["up"].shape == (
        1,
        2,
        4,
        5,
    )


@pytest.mark.parametrize(
    "kwargs,opset,message",
    [
        (dict(mode="linear", scales=(0.5, 0.5), antialias=True), 17, "antialias needs ONNX opset >= 18"),
        (
            dict(mode="nearest", sizes=(3, 5), keep_aspect_ratio_policy="not_larger"),
            17,
            "keep_aspect_ratio_policy needs ONNX opset >= 18",
        ),
    ],
)
def test_features_refuse_older_opsets(kwargs, opset, message):
    model = _model(**kwargs)
    with pytest.raises(ck.UnsupportedError, match=message):
        ck.to_onnx(model, opset)
    ck.to_onnx(model, 18)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(mode="linear", scales=(2.0, 2.0), cubic_coeff_a=-0.5), "cubic_coeff_a applies to mode cubic only"),
        (dict(mode="linear", scales=(2.0, 2.0), exclude_outside=True), "exclude_outside applies to mode cubic"),
        (dict(mode="nearest", scales=(0.5, 0.5), antialias=True), "antialias applies to modes linear and cubic"),
        (dict(mode="linear", scales=(2.0, 2.0), extrapolation_value=1.0), "extrapolation_value applies"),
        (dict(mode="linear", sizes=(4, 4), roi=(0.0, 0.0, 1.0, 1.0)), "needs roi .* and roi means nothing"),
        (
            dict(mode="linear", sizes=(4, 4), coordinate_transformation_mode="tf_crop_and_resize"),
            "tf_crop_and_resize needs roi",
        ),
        (
            dict(
                mode="linear", scales=(2.0, 2.0), coordinate_transformation_mode="tf_crop_and_resize", roi=(0, 0, 1, 1)
            ),
            "takes sizes here",
        ),
        (
            dict(mode="linear", sizes=(4, 4), coordinate_transformation_mode="tf_crop_and_resize", roi=(0, 1)),
            "roi needs 2 x 2 finite values",
        ),
        (dict(mode="nearest", scales=(2.0, 2.0), keep_aspect_ratio_policy="not_larger"), "applies to sizes only"),
        (dict(mode="nearest", sizes=(4, 4), keep_aspect_ratio_policy="fit"), "keep_aspect_ratio_policy must be"),
        (dict(mode="cubic", scales=(2.0, 2.0), lowering="deconvolution"), "exist only in ONNX Resize"),
        (dict(mode="cubic", scales=(2.0, 2.0), semantics="deconvolution"), "exist only in ONNX Resize"),
        (dict(mode="cubic", scales=(2.0, 2.0), exclude_outside=1), "exclude_outside must be true or false"),
    ],
)
def test_feature_rules(kwargs, message):
    with pytest.raises(ck.ValidationError, match=message):
        ck.Upsample(name="up", input="x", **kwargs)


@pytest.mark.parametrize("kwargs", FEATURE_LAYERS.values(), ids=FEATURE_LAYERS.keys())
def test_feature_layers_have_no_caffe_form(kwargs, tmp_path):
    with pytest.raises(ck.UnsupportedError, match="has no Caffe form"):
        ck.save(_model(**kwargs), str(tmp_path / "m.prototxt"))
