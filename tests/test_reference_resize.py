"""Tests of convertkit.reference.resize: hand-computed values, onnxruntime sweeps, and the points where
onnxruntime 1.32 settles what the ONNX text leaves open (or departs from it)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from convertkit.errors import ValidationError
from convertkit.reference import resize

COORDINATE_MODES = [
    "half_pixel",
    "half_pixel_symmetric",
    "pytorch_half_pixel",
    "align_corners",
    "asymmetric",
    "tf_half_pixel_for_nn",
    "tf_crop_and_resize",
]
NEAREST_MODES = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]


def run_ort_resize(x: np.ndarray, *, scales=None, sizes=None, roi=None, **attributes) -> np.ndarray:
    """One Resize node (opset 19) with roi / scales / sizes as initializers."""
    initializers, inputs = [], ["x"]
    for name, value, dtype in (("roi", roi, np.float32), ("scales", scales, np.float32), ("sizes", sizes, np.int64)):
        if value is None:
            inputs.append("")
        else:
            inputs.append(name)
            initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
    while inputs[-1] == "":
        inputs.pop()
    attributes = {k: (float(v) if k in ("extrapolation_value", "cubic_coeff_a") else v) for k, v in attributes.items()}
    node = helper.make_node("Resize", inputs, ["y"], **attributes)
    graph = helper.make_graph(
        [node],
        "resize",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3  # tf_half_pixel_for_nn is deprecated: ORT warns on every session
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def assert_matches_ort(x: np.ndarray, **kwargs) -> np.ndarray:
    want = run_ort_resize(x, **kwargs)
    got = resize(x, **kwargs)
    assert got.shape == want.shape, kwargs
    assert got.dtype == x.dtype
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, equal_nan=True, err_msg=str(kwargs))
    return got


# ----------------------------------------------------------------------------------------------------------------
# Hand-computed values
# ----------------------------------------------------------------------------------------------------------------


def test_linear_half_pixel_doubles_two_values():
    y = resize(np.array([1, 2], dtype=np.float32), scales=[2.0], mode="linear")
    np.testing.assert_allclose(y, [1, 1.25, 1.75, 2])


def test_linear_align_corners_keeps_the_end_points():
    y = resize(
        np.array([1, 2, 3], dtype=np.float32), sizes=[5], mode="linear", coordinate_transformation_mode="align_corners"
    )
    np.testing.assert_allclose(y, [1, 1.5, 2, 2.5, 3])


def test_linear_asymmetric_and_pytorch_half_pixel():
    x = np.array([0, 10, 20], dtype=np.float32)
    # asymmetric: coordinate x / 2 -> 0, 0.5, 1, 1.5, 2, 2.5 (clamped to 2).
    np.testing.assert_allclose(
        resize(x, scales=[2.0], mode="linear", coordinate_transformation_mode="asymmetric"), [0, 5, 10, 15, 20, 20]
    )
    # pytorch_half_pixel with one output pixel reads coordinate 0 (half_pixel would read 1).
    np.testing.assert_allclose(
        resize(x, sizes=[1], mode="linear", coordinate_transformation_mode="pytorch_half_pixel"), [0]
    )
    np.testing.assert_allclose(resize(x, sizes=[1], mode="linear"), [10])


def test_nearest_asymmetric_floor_repeats_and_drops():
    x = np.array([1, 2, 3, 4], dtype=np.float32)
    common = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
    np.testing.assert_array_equal(resize(x, scales=[2.0], **common), [1, 1, 2, 2, 3, 3, 4, 4])
    np.testing.assert_array_equal(resize(x, scales=[0.5], **common), [1, 3])


@pytest.mark.parametrize(("nearest_mode", "expected"), [("round_prefer_floor", [1, 3]), ("round_prefer_ceil", [2, 4])])
def test_nearest_half_pixel_halfway_ties(nearest_mode, expected):
    # half_pixel at scale 0.5: coordinates (0.5)/0.5 - 0.5 = 0.5 and (1.5)/0.5 - 0.5 = 2.5, both ties.
    x = np.array([1, 2, 3, 4], dtype=np.float32)
    np.testing.assert_array_equal(resize(x, scales=[0.5], nearest_mode=nearest_mode), expected)


def test_nearest_tf_half_pixel_for_nn():
    # coordinate (x + 0.5) / 2 -> 0.25, 0.75, 1.25, 1.75, 2.25, 2.75 -> rounded 0, 1, 1, 2, 2, 3 (clamped to 2)
    x = np.array([1, 2, 3], dtype=np.float32)
    y = resize(x, scales=[2.0], coordinate_transformation_mode="tf_half_pixel_for_nn")
    np.testing.assert_array_equal(y, [1, 2, 2, 3, 3, 3])


def test_tf_crop_and_resize_with_extrapolation():
    # coordinates 0.5*3 + x * (1.5 - 0.5) * 3 / 2 = 1.5, 3.0, 4.5; the last is outside [0, 3].
    x = np.array([0, 10, 20, 30], dtype=np.float32)
    y = resize(
        x,
        sizes=[3],
        mode="linear",
        coordinate_transformation_mode="tf_crop_and_resize",
        roi=[0.5, 1.5],
        extrapolation_value=-1.0,
    )
    np.testing.assert_allclose(y, [15, 30, -1])


def test_cubic_weights_of_an_impulse():
    # asymmetric x4: output k reads coordinate k / 4.  With A = -0.75 the Keys weights at fraction 0.25 are
    # (-0.10546875, 0.87890625, 0.26171875, -0.03515625) on neighbours floor-1 .. floor+2.
    x = np.array([0, 0, 1, 0, 0], dtype=np.float32)
    y = resize(x, scales=[4.0], mode="cubic", coordinate_transformation_mode="asymmetric")
    assert y[5] == pytest.approx(0.26171875)  # coordinate 1.25: the impulse is neighbour floor+1
    assert y[6] == pytest.approx(0.59375)  # coordinate 1.5
    assert y[8] == pytest.approx(1.0)  # coordinate 2: exactly on the impulse
    assert y[9] == pytest.approx(0.87890625)  # coordinate 2.25: the impulse is neighbour floor
    assert y[11] == pytest.approx(0.26171875)  # coordinate 2.75: neighbour floor, fraction 0.75 (symmetry)
    assert y[13] == pytest.approx(-0.10546875)  # coordinate 3.25: the impulse is neighbour floor-1


def test_cubic_exclude_outside_renormalises_at_the_edge():
    # Coordinate -0.25 (half_pixel, x2, first output): neighbours -2, -1, 0, 1 with weights for fraction 0.75.
    # Edge mode reads x[0] for the outside ones; exclude_outside keeps only neighbours 0 and 1.
    x = np.array([1, 0, 0, 0], dtype=np.float32)
    a = -0.75
    s = 0.75
    w = [
        ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a,
        ((a + 2) * s - (a + 3)) * s * s + 1,
        ((a + 2) * (1 - s) - (a + 3)) * (1 - s) * (1 - s) + 1,
        ((a * (2 - s) - 5 * a) * (2 - s) + 8 * a) * (2 - s) - 4 * a,
    ]
    edge = resize(x, scales=[2.0], mode="cubic")[0]
    excluded = resize(x, scales=[2.0], mode="cubic", exclude_outside=1)[0]
    assert edge == pytest.approx(w[0] + w[1] + w[2])
    assert excluded == pytest.approx(w[2] / (w[2] + w[3]))


def test_antialias_linear_downscale_stretches_the_triangle():
    # Scale 0.5: output i is centred on input 2i + 0.5 and input j weighs max(0, 1 - |j - centre| / 2),
    # i.e. 1/8, 3/8, 3/8, 1/8 on j = 2i - 1 .. 2i + 2; index -1 reads the edge.
    x = np.array([0, 0, 4, 0, 0, 0], dtype=np.float32)
    np.testing.assert_allclose(resize(x, scales=[0.5], mode="linear", antialias=1), [0.5, 1.5, 0.0])
    # exclude_outside drops index -1 and renormalises 3/8, 3/8, 1/8 for output 0: 4 * (1/8) / (7/8).
    np.testing.assert_allclose(
        resize(x, scales=[0.5], mode="linear", antialias=1, exclude_outside=1), [4 / 7, 1.5, 0.0], rtol=1e-6
    )
    # Without antialias the same downscale only samples two neighbours: coordinates 0.5, 2.5, 4.5.
    np.testing.assert_allclose(resize(x, scales=[0.5], mode="linear"), [0.0, 2.0, 0.0])


def test_antialias_has_no_effect_when_upscaling_linear():
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    np.testing.assert_allclose(
        resize(x, scales=[2.0, 1.5], mode="linear", antialias=1),
        resize(x, scales=[2.0, 1.5], mode="linear"),
        rtol=1e-6,
        atol=1e-6,
    )


def test_keep_aspect_ratio_policies():
    x = np.arange(10, dtype=np.float32).reshape(2, 5)
    # not_larger: scale min(1/2, 100/5) = 0.5; sizes round(0.5 * 2) = 1 and round(0.5 * 5) = round(2.5) = 3.
    assert resize(x, sizes=[1, 100], keep_aspect_ratio_policy="not_larger").shape == (1, 3)
    # not_smaller: scale 20 -> (40, 100).
    assert resize(x, sizes=[1, 100], keep_aspect_ratio_policy="not_smaller").shape == (40, 100)
    assert resize(x, sizes=[1, 100]).shape == (1, 100)


def test_axes_select_the_resized_axes():
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5)).astype(np.float32)
    full = resize(x, scales=[1, 1, 2, 0.6], mode="linear")
    np.testing.assert_array_equal(resize(x, scales=[0.6, 2], axes=[3, 2], mode="linear"), full)
    np.testing.assert_array_equal(resize(x, scales=[2, 0.6], axes=[-2, -1], mode="linear"), full)


def test_n_dimensional_linear_is_separable():
    # A 5-D linear resize on all axes equals applying it one axis at a time.
    x = np.random.default_rng(2).standard_normal((2, 3, 2, 3, 4))
    scales = [1.5, 0.7, 2.0, 1.0, 0.5]
    y = resize(x, scales=scales, mode="linear")
    step = x
    for axis, scale in enumerate(scales):
        step = resize(step, scales=[scale], axes=[axis], mode="linear")
    np.testing.assert_allclose(y, step, rtol=1e-12)


def test_float64_and_integer_inputs():
    x = np.arange(12, dtype=np.float64).reshape(3, 4)
    y64 = resize(x, scales=[1.5, 2.0], mode="cubic")
    y32 = resize(x.astype(np.float32), scales=[1.5, 2.0], mode="cubic")
    assert y64.dtype == np.float64
    np.testing.assert_allclose(y64, y32, rtol=1e-5, atol=1e-5)
    integers = resize(np.arange(4, dtype=np.int64), scales=[2.0])
    assert integers.dtype == np.int64
    np.testing.assert_array_equal(integers, [0, 0, 1, 1, 2, 2, 3, 3])


# ----------------------------------------------------------------------------------------------------------------
# onnxruntime sweeps
# ----------------------------------------------------------------------------------------------------------------

UP_AND_DOWN_SCALES = [0.25, 0.33, 0.5, 0.6, 0.75, 0.8, 1.3, 1.5, 1.7, 2.0, 2.5, 3.0]


def random_resize_case(rng: np.random.Generator, mode: str, antialias: int) -> tuple[np.ndarray, dict]:
    """A random Resize that onnxruntime implements for ``mode`` (it refuses some ranks / resized axes)."""
    coordinate_mode = str(rng.choice(COORDINATE_MODES))
    # onnxruntime's NHWC antialias / cubic path mislabels extrapolated pixels (see
    # test_ort_nhwc_antialias_crop_and_resize_disagrees_with_its_nchw_path): only its NCHW path is compared there.
    nhwc_allowed = coordinate_mode != "tf_crop_and_resize" or (mode == "linear" and not antialias)
    if mode == "nearest":
        rank = int(rng.integers(1, 5))
        resized = list(range(rank))
    elif mode == "linear":
        rank = int(rng.choice([2, 3, 4, 5]))
        # 4-D and 5-D: onnxruntime interpolates the spatial axes only (N and C keep scale 1); 4-D also NHWC.
        if rank == 4 and nhwc_allowed and rng.random() < 0.3:
            resized = [1, 2]
        else:
            resized = list(range(rank)) if rank <= 3 else list(range(2, rank))
    else:
        rank = int(rng.choice([2, 4]))
        resized = list(range(rank)) if rank == 2 else [2, 3]
    shape = [int(rng.integers(1, 8)) for _ in range(rank)]
    x = rng.standard_normal(shape).astype(np.float32)
    kwargs: dict = {"mode": mode, "coordinate_transformation_mode": coordinate_mode}
    if mode == "nearest":
        kwargs["nearest_mode"] = str(rng.choice(NEAREST_MODES))
    if antialias:
        kwargs["antialias"] = 1
    if mode == "cubic" and rng.random() < 0.4:
        kwargs["cubic_coeff_a"] = -0.5
    if (mode == "cubic" or antialias) and rng.random() < 0.5:
        kwargs["exclude_outside"] = 1
    use_axes = rng.random() < 0.3
    if rng.random() < 0.5:
        values = [float(rng.choice(UP_AND_DOWN_SCALES)) for _ in resized]
        full = [1.0] * rank
    else:
        values = [int(rng.integers(1, 11)) for _ in resized]
        full = list(shape)
        if rng.random() < 0.3:
            kwargs["keep_aspect_ratio_policy"] = str(rng.choice(["not_larger", "not_smaller"]))
            # Without axes the policy scale would reach N and C too, which onnxruntime cannot interpolate.
            use_axes = use_axes or len(resized) < rank
    if use_axes:
        kwargs["axes"] = resized  # non-negative: see test_ort_ignores_negative_axes_under_keep_aspect_ratio
    else:
        for axis, value in zip(resized, values, strict=True):
            full[axis] = value
        values = full
    kwargs["scales" if isinstance(values[0], float) else "sizes"] = values
    if coordinate_mode == "tf_crop_and_resize":
        count = len(resized) if use_axes else rank
        starts = rng.uniform(-0.3, 0.6, count)
        ends = starts + rng.uniform(0.1, 0.9, count)
        if not use_axes:  # keep the roi of unresized axes at the identity
            starts = np.where(np.isin(np.arange(rank), resized), starts, 0.0)
            ends = np.where(np.isin(np.arange(rank), resized), ends, 1.0)
        kwargs["roi"] = [float(v) for v in (*starts, *ends)]
        kwargs["extrapolation_value"] = -7.5
    return x, kwargs


@pytest.mark.parametrize("seed", range(200))
def test_nearest_matches_onnxruntime(seed):
    x, kwargs = random_resize_case(np.random.default_rng(10_000 + seed), "nearest", 0)
    assert_matches_ort(x, **kwargs)


@pytest.mark.parametrize("seed", range(150))
def test_linear_matches_onnxruntime(seed):
    x, kwargs = random_resize_case(np.random.default_rng(20_000 + seed), "linear", 0)
    assert_matches_ort(x, **kwargs)


@pytest.mark.parametrize("seed", range(100))
def test_cubic_matches_onnxruntime(seed):
    x, kwargs = random_resize_case(np.random.default_rng(30_000 + seed), "cubic", 0)
    assert_matches_ort(x, **kwargs)


@pytest.mark.parametrize("seed", range(100))
def test_antialias_matches_onnxruntime(seed):
    rng = np.random.default_rng(40_000 + seed)
    x, kwargs = random_resize_case(rng, str(rng.choice(["linear", "cubic"])), 1)
    assert_matches_ort(x, **kwargs)


@pytest.mark.parametrize("coordinate_mode", COORDINATE_MODES)
@pytest.mark.parametrize("nearest_mode", NEAREST_MODES)
def test_every_nearest_mode_and_coordinate_mode_on_a_grid(coordinate_mode, nearest_mode):
    # Every pair, up and down, with non-integer scales and with sizes: a dense grid rather than a random draw.
    x = np.random.default_rng(5).standard_normal((1, 2, 7, 9)).astype(np.float32)
    roi = {"roi": [0, 0, 0.1, -0.2, 1, 1, 0.8, 1.1]} if coordinate_mode == "tf_crop_and_resize" else {}
    common = {"mode": "nearest", "coordinate_transformation_mode": coordinate_mode, "nearest_mode": nearest_mode}
    for scales in ([1, 1, 0.6, 1.7], [1, 1, 2.5, 0.35], [1, 1, 3.0, 2.0], [1, 1, 0.5, 0.5]):
        assert_matches_ort(x, scales=scales, **common, **roi)
    for sizes in ([1, 2, 4, 13], [1, 2, 11, 3]):
        assert_matches_ort(x, sizes=sizes, **common, **roi)


@pytest.mark.parametrize("coordinate_mode", COORDINATE_MODES)
@pytest.mark.parametrize("mode", ["linear", "cubic"])
def test_every_interpolating_mode_and_coordinate_mode_on_a_grid(coordinate_mode, mode):
    x = np.random.default_rng(6).standard_normal((2, 3, 6, 7)).astype(np.float32)
    roi = {"roi": [0, 0, 0.1, -0.2, 1, 1, 0.8, 1.1]} if coordinate_mode == "tf_crop_and_resize" else {}
    common = {"mode": mode, "coordinate_transformation_mode": coordinate_mode, "extrapolation_value": 2.5}
    for scales in ([1, 1, 0.6, 1.7], [1, 1, 2.5, 0.35], [1, 1, 2.0, 2.0]):
        assert_matches_ort(x, scales=scales, **common, **roi)
        assert_matches_ort(x, scales=scales, antialias=1, **common, **roi)
    assert_matches_ort(x, sizes=[2, 3, 1, 12], **common, **roi)


# ----------------------------------------------------------------------------------------------------------------
# Where onnxruntime 1.32 settles or departs from the ONNX text (documented in resize.py)
# ----------------------------------------------------------------------------------------------------------------


def test_output_size_from_scales_is_floored_in_float32():
    # float32(0.7) * 10 is 6.99999988 exactly, but 7.0 once rounded to float32: onnxruntime gives 7 rows.
    x = np.arange(10, dtype=np.float32)
    assert int(np.floor(np.float64(np.float32(0.7)) * 10)) == 6
    assert assert_matches_ort(x.reshape(1, 10), scales=[1.0, 0.7]).shape == (1, 7)
    assert resize(x, scales=[0.7]).shape == (7,)


def test_unchanged_shape_returns_the_input():
    # scales 1.1 on length 4 keeps 4 rows; the ONNX text would still resample with scale 1.1, onnxruntime copies.
    x = np.random.default_rng(7).standard_normal((4, 4)).astype(np.float32)
    y = assert_matches_ort(x, scales=[1.1, 1.2], mode="linear")
    np.testing.assert_array_equal(y, x)


def test_axis_with_scale_one_ignores_the_coordinate_transform():
    x = np.arange(16, dtype=np.float32).reshape(4, 4)
    # tf_half_pixel_for_nn + round_prefer_ceil would read row x + 1 (the text); onnxruntime copies the rows.
    y = assert_matches_ort(
        x, scales=[1.0, 2.0], coordinate_transformation_mode="tf_half_pixel_for_nn", nearest_mode="round_prefer_ceil"
    )
    np.testing.assert_array_equal(y[:, 0], x[:, 0])
    # tf_crop_and_resize: the roi of the scale-1 axis (rows 0.2 .. 0.7) is ignored.
    y = assert_matches_ort(
        x,
        scales=[1.0, 2.0],
        mode="linear",
        coordinate_transformation_mode="tf_crop_and_resize",
        roi=[0.2, 0.0, 0.7, 1.0],
    )
    np.testing.assert_allclose(y[:, 0], x[:, 0])


def test_antialias_axis_with_unchanged_size_is_copied():
    # scale 1.3 on a length-2 axis keeps 2 rows; with antialias onnxruntime leaves that axis alone.
    x = np.random.default_rng(8).standard_normal((2, 8)).astype(np.float32)
    y = assert_matches_ort(x, scales=[1.3, 0.5], mode="linear", antialias=1)
    np.testing.assert_allclose(y, resize(x, scales=[0.5], axes=[1], mode="linear", antialias=1))


@pytest.mark.parametrize(
    ("position", "nearest_mode", "index"),
    [
        # coordinate 0.49999997 (float32 for an exact 0.5): a tie, so round_prefer_ceil picks 1
        (0.49999997, "round_prefer_ceil", 1),
        # coordinate 0.50000018: also a tie within 1e-6, so round_prefer_floor picks 0
        (0.50000018, "round_prefer_floor", 0),
        # 0.5000038 is beyond the tolerance: plain rounding
        (0.5000038, "round_prefer_floor", 1),
    ],
)
def test_nearest_ties_have_a_tolerance_of_1e_minus_6(position, nearest_mode, index):
    # tf_crop_and_resize on a length-2 axis puts output 0 exactly at roi_start.
    x = np.array([[0, 1], [0, 1]], dtype=np.float32)
    kwargs = {
        "sizes": [2, 3],
        "roi": [0.0, position, 1.0, 1.0],
        "nearest_mode": nearest_mode,
        "coordinate_transformation_mode": "tf_crop_and_resize",
    }
    assert assert_matches_ort(x, **kwargs)[0, 0] == index


def test_half_pixel_symmetric_tie_from_float32_error():
    # Length 7, scale 0.6: output 0 maps to 0.50000018 in float32 (exactly 0.5 in real arithmetic).
    x = np.arange(7, dtype=np.float32).reshape(1, 7)
    y = assert_matches_ort(
        x, scales=[1.0, 0.6], coordinate_transformation_mode="half_pixel_symmetric", nearest_mode="round_prefer_floor"
    )
    np.testing.assert_array_equal(y[0], [0, 2, 4, 5])


def test_keep_aspect_ratio_rounds_halves_away_from_zero():
    # round(0.5 * 5) = round(2.5): 3 as std::round does (the ONNX reference's numpy round gives 2).
    x = np.random.default_rng(9).standard_normal((2, 5)).astype(np.float32)
    assert assert_matches_ort(x, sizes=[1, 100], keep_aspect_ratio_policy="not_larger").shape == (1, 3)


def test_keep_aspect_ratio_uses_the_policy_scale_in_the_transform():
    # not_smaller picks scale 2 (from axis 1); axis 0 is then resized with scale 2, not sizes[0] / in.
    x = np.random.default_rng(10).standard_normal((3, 4)).astype(np.float32)
    y = assert_matches_ort(x, sizes=[5, 8], mode="linear", keep_aspect_ratio_policy="not_smaller")
    assert y.shape == (6, 8)


def test_ort_ignores_negative_axes_under_keep_aspect_ratio():
    # onnxruntime 1.32 compares the policy's axes with non-negative indices only, so axes=[-1] resizes nothing.
    # The reference normalises negative axes as the ONNX text says: -1 means the last axis.
    x = np.random.default_rng(11).standard_normal((3, 4)).astype(np.float32)
    kwargs = {"sizes": [8], "keep_aspect_ratio_policy": "not_larger", "mode": "linear"}
    assert run_ort_resize(x, axes=[-1], **kwargs).shape == (3, 4)
    np.testing.assert_array_equal(resize(x, axes=[-1], **kwargs), resize(x, axes=[1], **kwargs))
    assert_matches_ort(x, axes=[1], **kwargs)


@pytest.mark.parametrize(("mode", "antialias"), [("cubic", 0), ("cubic", 1), ("linear", 1)])
def test_ort_nhwc_antialias_crop_and_resize_disagrees_with_its_nchw_path(mode, antialias):
    # Resizing axes 1 and 2 of a 4-D tensor sends onnxruntime down its NHWC path, which for cubic and for
    # antialias marks pixels inside the roi as extrapolated.  The reference agrees with onnxruntime's NCHW
    # path on the same data (transposed), which follows the ONNX text.
    x = np.random.default_rng(12).standard_normal((1, 3, 4, 2)).astype(np.float32)
    kwargs = {
        "mode": mode,
        "antialias": antialias,
        "coordinate_transformation_mode": "tf_crop_and_resize",
        "extrapolation_value": -7.0,
        "scales": [1, 2, 1.5, 1],
        "roi": [0, 0.3, -0.2, 0, 1, 0.9, 0.8, 1],
    }
    nchw = {**kwargs, "scales": [1, 1, 2, 1.5], "roi": [0, 0, 0.3, -0.2, 1, 1, 0.9, 0.8]}
    ort_nchw = run_ort_resize(x.transpose(0, 3, 1, 2).copy(), **nchw).transpose(0, 2, 3, 1)
    np.testing.assert_allclose(resize(x, **kwargs), ort_nchw, rtol=1e-5, atol=1e-5)
    assert not np.allclose(run_ort_resize(x, **kwargs), ort_nchw, atol=1e-3)


def test_cubic_exclude_outside_past_the_edge_is_nan_like_ort():
    x = np.random.default_rng(13).standard_normal((8, 6)).astype(np.float32)
    y = assert_matches_ort(
        x,
        sizes=[6, 7],
        mode="cubic",
        coordinate_transformation_mode="tf_half_pixel_for_nn",
        exclude_outside=1,
        keep_aspect_ratio_policy="not_larger",
    )
    assert np.isnan(y[:, -1]).all() and not np.isnan(y[:, :-1]).any()


# ----------------------------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of scales and sizes"),
        ({"scales": [2.0, 2.0], "sizes": [4, 4]}, "exactly one of scales and sizes"),
        ({"scales": [2.0]}, "one value per resized axis"),
        ({"sizes": [2, 3, 4]}, "one value per resized axis"),
        ({"scales": [2.0, 0.0]}, "scales must be positive"),
        ({"sizes": [2, -1]}, "sizes must be non-negative"),
        ({"scales": [2.0, 2.0], "mode": "bicubic"}, "mode must be one of"),
        ({"scales": [2.0, 2.0], "coordinate_transformation_mode": "center"}, "coordinate_transformation_mode"),
        ({"scales": [2.0, 2.0], "nearest_mode": "round"}, "nearest_mode must be one of"),
        ({"scales": [2.0, 2.0], "keep_aspect_ratio_policy": "fit"}, "keep_aspect_ratio_policy"),
        ({"scales": [2.0, 2.0], "antialias": 2}, "antialias must be one of"),
        ({"scales": [2.0], "axes": [2]}, "out of range"),
        ({"scales": [2.0, 2.0], "axes": [1, -1]}, "distinct"),
        ({"scales": [2.0, 2.0], "coordinate_transformation_mode": "tf_crop_and_resize", "roi": [0, 1]}, "roi needs"),
    ],
)
def test_validation_errors(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        resize(np.zeros((2, 3), dtype=np.float32), **kwargs)


def test_interpolation_needs_floating_point():
    with pytest.raises(ValidationError, match="floating-point"):
        resize(np.zeros((2, 3), dtype=np.int32), scales=[2.0, 2.0], mode="linear")


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), -2.0, 0.0])
def test_non_finite_or_non_positive_scales_are_validation_errors(bad):
    # Resize-18 linear with scales [1, 1, 2, inf] raised a bare OverflowError from the size rule; NaN gave
    # "cannot convert float NaN to integer".
    with pytest.raises(ValidationError, match="scale"):
        resize(np.zeros((1, 1, 2, 2), np.float32), scales=[1, 1, 2, bad], mode="linear")


def test_resize_output_size_names_the_rule_for_infinite_scales():
    from convertkit import shapes

    with pytest.raises(ValidationError, match="finite positive"):
        shapes.resize_output_size(3, float("inf"))
    with pytest.raises(ValidationError, match="finite positive"):
        shapes.exact_resize_output_size(3, float("nan"))
