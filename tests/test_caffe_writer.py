"""Writing Caffe nets: Caffe's field names, the bilinear-frozen layer, exact constructions, refusals, round trips.

Exactness of the constructions is checked here without OpenCV by reading the written prototxt + caffemodel back
(Caffe semantics: symmetric pads, no output_padding) and running both models; test_caffe_opencv.py runs the same
files in a real Caffe runtime.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import convertkit as ck
from convertkit.check import random_inputs
from convertkit.codec.caffe import parse_prototxt, read_caffemodel
from convertkit.errors import UnsupportedError
from convertkit.formats.caffe import CaffeWarning, load_caffe, save_caffe, to_caffe
from convertkit.layers import Slice
from convertkit.runtime import run_onnx


def _deconv(shape=(1, 2, 4, 5), seed=0, **kw) -> ck.Model:
    rng = np.random.default_rng(seed)
    g, m, k = kw.get("group", 1), kw["out_channels"], kw["kernel_shape"]
    kw.setdefault("weight", ck.Values(array=rng.standard_normal((shape[1], m // g, *k)).astype(np.float32)))
    if kw.get("bias_term", True) and "bias" not in kw:
        kw["bias"] = ck.Values(array=rng.standard_normal(m).astype(np.float32))
    return ck.Model([ck.Input(name="x", shape=shape), ck.Deconvolution(name="d", input="x", **kw)])


def _round_trip(model: ck.Model, tmp_path: Path, **options) -> tuple[ck.Model, object]:
    path = tmp_path / "net.prototxt"
    exported = save_caffe(model, str(path), **options)
    return load_caffe(str(path), weights=str(tmp_path / "net.caffemodel")), exported


def _same_outputs(a: ck.Model, b: ck.Model, atol: float = 1e-5) -> None:
    feeds = random_inputs(a, 3)
    ra, rb = ck.run(a, feeds, backend="onnxruntime"), ck.run(b, feeds, backend="onnxruntime")
    assert list(ra) == list(rb)
    for name in ra:
        np.testing.assert_allclose(rb[name], ra[name], atol=atol, rtol=1e-5)


def test_bilinear_frozen_layer_keeps_filler_frozen_params_and_blob(tmp_path: Path) -> None:
    model = ck.Model(
        [
            ck.Input(name="x", shape=(1, 21, 6, 6)),
            ck.Upsample(name="up", input="x", mode="linear", scales=(2, 2), semantics="deconvolution"),
        ]
    )
    exported = save_caffe(model, str(tmp_path / "net.prototxt"))
    layer = parse_prototxt((tmp_path / "net.prototxt").read_text()).layer[1]
    cp = layer.convolution_param
    assert (layer.type, cp.num_output, cp.group, list(cp.kernel_size), list(cp.stride), list(cp.pad)) == (
        "Deconvolution",
        21,
        21,
        [4],
        [2],
        [1],
    )
    assert cp.weight_filler.type == "bilinear" and cp.HasField("bias_term") and not cp.bias_term
    assert [(p.lr_mult, p.decay_mult) for p in layer.param] == [(0, 0)]
    blobs = read_caffemodel(str(tmp_path / "net.caffemodel")).layer
    assert [(b.name, [list(x.shape.dim) for x in b.blobs]) for b in blobs] == [("up", [[21, 1, 4, 4]])]
    np.testing.assert_array_equal(
        np.array(blobs[0].blobs[0].data).reshape(21, 1, 4, 4)[5, 0], ck.bilinear_kernel((4, 4)).astype(np.float32)
    )
    assert exported.output_layers == {"up": "up"}


def test_caffe_field_names(tmp_path: Path) -> None:
    square = to_caffe(
        _deconv(
            out_channels=3,
            kernel_shape=(3, 3),
            strides=(2, 2),
            dilations=(2, 2),
            padding=ck.Padding(convention="caffe", pad=(1, 1)),
        )
    )
    cp = square.net.layer[1].convolution_param
    # dilation is written out as zero taps (OpenCV ignores Caffe's dilation): kernel 3 dilation 2 -> dense 5
    assert (list(cp.kernel_size), list(cp.stride), list(cp.pad), list(cp.dilation)) == ([5], [2], [1], [])
    assert not cp.HasField("kernel_h")
    rect = to_caffe(
        _deconv(
            out_channels=3,
            kernel_shape=(3, 3),
            strides=(1, 2),
            dilations=(1, 2),
            padding=ck.Padding(convention="caffe", pad=(2, 1)),
        )
    )
    cp = rect.net.layer[1].convolution_param
    assert (cp.kernel_h, cp.kernel_w, cp.stride_h, cp.stride_w, cp.pad_h, cp.pad_w) == (3, 5, 1, 2, 2, 1)
    assert not len(cp.dilation) and not len(cp.kernel_size)
    volume = to_caffe(_deconv(shape=(1, 2, 3, 3, 3), out_channels=2, kernel_shape=(2, 3, 2), strides=(2, 1, 1)))
    cp = volume.net.layer[1].convolution_param
    assert (list(cp.kernel_size), list(cp.stride)) == ([2, 3, 2], [2, 1, 1])


@pytest.mark.parametrize(
    "kw",
    [
        dict(out_channels=3, kernel_shape=(3, 3), strides=(2, 2), padding=ck.Padding(pads=(1, 0, 0, 1))),
        dict(
            out_channels=2,
            kernel_shape=(4, 2),
            strides=(2, 3),
            padding=ck.Padding(pads=(0, 0, 2, 1)),
            output_padding=(1, 2),
        ),
        dict(out_channels=4, kernel_shape=(1, 1), strides=(3, 2), output_padding=(2, 1), group=2),
        dict(
            out_channels=2, kernel_shape=(3, 2), strides=(2, 2), dilations=(2, 3), padding=ck.Padding(pads=(0, 1, 3, 0))
        ),
        dict(
            out_channels=2,
            kernel_shape=(2, 2),
            padding=ck.Padding(convention="onnx_auto_pad", auto_pad="SAME_UPPER"),
            strides=(2, 2),
        ),
        dict(
            out_channels=2,
            kernel_shape=(3, 3),
            strides=(2, 2),
            padding=ck.Padding(convention="tensorflow", auto_pad="SAME", output_shape=(8, 10)),
        ),
    ],
    ids=["asymmetric", "output-padding", "past-extent-bias-only", "dilated-asymmetric", "same-upper", "tf-same"],
)
def test_asymmetric_pads_and_output_padding_are_exact(tmp_path: Path, kw: dict) -> None:
    model = _deconv(**kw)
    _check_exact_round_trip(model, tmp_path)


@pytest.mark.parametrize(
    "shape, kw",
    [
        (
            (1, 2, 6),
            dict(out_channels=3, kernel_shape=(3,), strides=(2,), padding=ck.Padding(pads=(2, 0)), output_padding=(1,)),
        ),
        (
            (1, 2, 3, 2, 4),
            dict(
                out_channels=2,
                kernel_shape=(2, 3, 1),
                strides=(2, 1, 3),
                dilations=(1, 2, 1),
                padding=ck.Padding(pads=(0, 1, 0, 1, 0, 0)),
                output_padding=(1, 0, 2),
            ),
        ),
    ],
    ids=["1d", "3d"],
)
def test_n_d_deconvolutions_are_exact(tmp_path: Path, shape: tuple, kw: dict) -> None:
    _check_exact_round_trip(_deconv(shape=shape, **kw), tmp_path)


def _check_exact_round_trip(model: ck.Model, tmp_path: Path) -> None:
    back, exported = _round_trip(model, tmp_path)
    layer = back.layer("d")
    assert layer.padding.convention == "caffe"
    assert not any(layer.output_padding)
    assert back.types["d"] == model.types["d"]
    _same_outputs(model, back)


def test_output_padding_rows_past_the_extent_hold_bias_only(tmp_path: Path) -> None:
    model = _deconv(
        shape=(1, 1, 2, 2),
        out_channels=1,
        kernel_shape=(1, 1),
        strides=(2, 2),
        output_padding=(1, 1),
        weight=ck.Values(array=np.ones((1, 1, 1, 1), np.float32)),
        bias=ck.Values(array=np.array([0.5], np.float32)),
    )
    back, _ = _round_trip(model, tmp_path)
    y = ck.run(back, {"x": np.array([[[[1, 2], [3, 4]]]], np.float32)}, backend="onnxruntime")["d"][0, 0]
    np.testing.assert_array_equal(
        y, [[1.5, 0.5, 2.5, 0.5], [0.5, 0.5, 0.5, 0.5], [3.5, 0.5, 4.5, 0.5], [0.5, 0.5, 0.5, 0.5]]
    )


@pytest.mark.parametrize(
    "kw, shape",
    [
        (dict(mode="linear", scales=(2, 3)), (1, 2, 5, 4)),
        (dict(mode="linear", sizes=(4, 8), coordinate_transformation_mode="pytorch_half_pixel"), (1, 2, 2, 1)),
        (dict(mode="nearest", scales=(3, 2)), (1, 2, 3, 3)),
        (dict(mode="linear", sizes=(13, 7), coordinate_transformation_mode="align_corners"), (1, 2, 5, 4)),
        (dict(mode="linear", scales=(2, 1, 3)), (1, 1, 3, 2, 2)),
        (dict(mode="linear", scales=(4,)), (1, 2, 5)),
    ],
    ids=["half-pixel", "pytorch-half-pixel-edge-1", "nearest", "align-corners-zoom", "trilinear", "linear-1d"],
)
def test_upsample_constructions_are_exact(tmp_path: Path, kw: dict, shape: tuple) -> None:
    model = ck.Model([ck.Input(name="x", shape=shape), ck.Upsample(name="up", input="x", **kw)])
    back, exported = _round_trip(model, tmp_path)
    assert exported.output_layers == {"up": "up"}
    assert "Interp" not in {layer.type for layer in exported.net.layer}
    _same_outputs(model, back)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(mode="nearest", scales=(1.5, 2.0)), r"nearest Resize .*: the factors are not integers"),
        (
            dict(mode="nearest", scales=(3, 3), coordinate_transformation_mode="asymmetric"),
            r"nearest Resize \(asymmetric, round_prefer_floor\) .*output row i does not read input row i // f",
        ),
        (
            dict(mode="linear", scales=(2, 2), coordinate_transformation_mode="asymmetric"),
            r"bilinear Resize with coordinate_transformation_mode asymmetric .*no exact Caffe form.*half-pixel",
        ),
        (
            dict(mode="linear", sizes=(8, 8), coordinate_transformation_mode="align_corners"),
            r"bilinear align_corners from \[5, 4\] to \[8, 8\] has no exact stock Caffe form.*--caffe-dialect pspnet",
        ),
    ],
    ids=["nearest-fractional", "nearest-asymmetric-round", "linear-asymmetric", "align-corners-other-size"],
)
def test_inexpressible_upsamples_are_refused(kw: dict, match: str) -> None:
    model = ck.Model([ck.Input(name="x", shape=(1, 2, 5, 4)), ck.Upsample(name="up", input="x", **kw)])
    with pytest.raises(UnsupportedError, match=r"layer 'up' \(Upsample\): " + match):
        to_caffe(model)


def test_float64_is_refused() -> None:
    model = ck.Model(
        [
            ck.Input(name="x", shape=(1, 1, 2, 2), dtype="float64"),
            ck.Deconvolution(
                name="d", input="x", out_channels=1, kernel_shape=(2, 2), weight=ck.Filler(type="constant", value=1.0)
            ),
        ]
    )
    with pytest.raises(UnsupportedError, match="float32"):
        to_caffe(model)


def test_interp_dialect_round_trip(tmp_path: Path) -> None:
    text = """
    input: "x" input_dim: 1 input_dim: 2 input_dim: 5 input_dim: 4
    layer { name: "zoom" type: "Interp" bottom: "x" top: "zoom" interp_param { zoom_factor: 8 } }
    layer { name: "fixed" type: "Interp" bottom: "x" top: "fixed" interp_param { height: 11 width: 6 } }
    """
    src = tmp_path / "psp.prototxt"
    src.write_text(text)
    model = load_caffe(str(src))
    zoom = model.layer("zoom")
    assert (zoom.mode, zoom.coordinate_transformation_mode, zoom.sizes) == ("linear", "align_corners", (33, 25))
    assert zoom.caffe_interp == ck.InterpForm(zoom_factor=8)
    # Read from Interp, a layer is written back as Interp in every dialect (tests/test_caffe_roundtrip.py); the
    # dialect decides for upsamples built elsewhere, which these are without caffe_interp.
    model = ck.Model([model.layers[0], *(dataclasses.replace(layer, caffe_interp=None) for layer in model.layers[1:])])
    with pytest.raises(UnsupportedError, match=r"layer 'fixed' \(Upsample\)"):
        to_caffe(model)
    exported = to_caffe(model, dialect="pspnet")
    written = {layer.name: layer for layer in exported.net.layer}
    assert written["zoom"].interp_param.zoom_factor == 8
    assert (written["fixed"].interp_param.height, written["fixed"].interp_param.width) == (11, 6)
    stock = to_caffe(ck.Model(model.layers[:2]))
    assert stock.net.layer[1].type == "Deconvolution"  # zoom sizes have an exact stock form


def test_prototxt_round_trip_keeps_the_users_fields(tmp_path: Path) -> None:
    text = """
    name: "user"
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 4 dim: 5 dim: 6 } } }
    layer { name: "up" type: "Deconvolution" bottom: "data" top: "up" param { lr_mult: 0 decay_mult: 0 }
            convolution_param { num_output: 4 kernel_size: 4 pad: 1 stride: 2 group: 4
                                weight_filler { type: "bilinear" } bias_term: false } }
    layer { name: "score" type: "Deconvolution" bottom: "data" top: "score"
            convolution_param { num_output: 2 kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0
                                weight_filler { type: "xavier" variance_norm: AVERAGE }
                                bias_filler { type: "constant" value: 0.25 } } }
    """
    src = tmp_path / "user.prototxt"
    src.write_text(text)
    model = load_caffe(str(src))
    out = tmp_path / "again.prototxt"
    save_caffe(model, str(out))
    original, again = parse_prototxt(text), parse_prototxt(out.read_text())
    assert again.name == "user"
    for a, b in zip(original.layer, again.layer, strict=True):
        assert (a.name, a.type, list(a.bottom), list(a.top)) == (b.name, b.type, list(b.bottom), list(b.top))
        assert _canonical(a.convolution_param) == _canonical(b.convolution_param), a.name
        assert [(p.lr_mult, p.decay_mult) for p in a.param] == [(p.lr_mult, p.decay_mult) for p in b.param]
    _same_outputs(model, load_caffe(str(out), weights=str(tmp_path / "again.caffemodel")))


def test_a_read_dilated_deconvolution_is_written_dense_without_dilation(tmp_path: Path) -> None:
    # OpenCV ignores Caffe's dilation (it mis-sizes the output), so the writer never emits it: the dilated kernel
    # is written out with zero taps, exact in Caffe and OpenCV alike; the weights go to the caffemodel.
    text = """
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 2 dim: 5 dim: 6 } } }
    layer { name: "score" type: "Deconvolution" bottom: "data" top: "score"
            convolution_param { num_output: 2 kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0
                                dilation: 2 weight_filler { type: "xavier" variance_norm: AVERAGE }
                                bias_filler { type: "constant" value: 0.25 } } }
    """
    src = tmp_path / "user.prototxt"
    src.write_text(text)
    model = load_caffe(str(src))
    out = tmp_path / "again.prototxt"
    save_caffe(model, str(out))
    cp = parse_prototxt(out.read_text()).layer[1].convolution_param
    assert not len(cp.dilation)
    assert (cp.kernel_h, cp.kernel_w, cp.pad_h, cp.pad_w) == (5, 3, 1, 0)
    assert cp.bias_filler.value == 0.25
    _same_outputs(model, load_caffe(str(out), weights=str(tmp_path / "again.caffemodel")))


def _canonical(cp) -> dict:
    from google.protobuf.json_format import MessageToDict

    return MessageToDict(cp, preserving_proto_field_name=True)


def test_onnx_to_caffe_to_onnx_gives_identical_outputs(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    model = ck.Model(
        [
            ck.Input(name="x", shape=(1, 2, 4, 5)),
            ck.Deconvolution(
                name="d",
                input="x",
                out_channels=2,
                kernel_shape=(3, 3),
                strides=(2, 2),
                padding=ck.Padding(pads=(1, 0, 0, 1)),
                output_padding=(1, 0),
                weight=ck.Values(array=rng.standard_normal((2, 2, 3, 3)).astype(np.float32)),
                bias=ck.Values(array=rng.standard_normal(2).astype(np.float32)),
            ),
            ck.Upsample(name="up", input="d", mode="linear", scales=(2, 2)),
            ck.Upsample(name="near", input="x", mode="nearest", scales=(2, 3)),
        ]
    )
    onnx_path = tmp_path / "src.onnx"
    ck.save(model, str(onnx_path))
    imported = ck.load(str(onnx_path))
    back, _ = _round_trip(imported, tmp_path)
    feeds = {"x": rng.standard_normal((1, 2, 4, 5)).astype(np.float32)}
    import onnx

    expected = run_onnx(onnx.load(str(onnx_path)), feeds)
    got = run_onnx(ck.to_onnx(back), feeds)
    assert set(got) == set(expected)
    for name in expected:
        if name == "up":
            # Resize and the edge-replicated recipe sum the same two products per axis in another order: a few ulp.
            np.testing.assert_allclose(got[name], expected[name], rtol=1e-6, atol=1e-6)
        else:
            np.testing.assert_array_equal(got[name], expected[name])


def test_slice_output_that_is_not_the_first_top_is_reachable(tmp_path: Path) -> None:
    model = ck.Model(
        [
            ck.Input(name="x", shape=(1, 4, 3, 3)),
            Slice(name="s", input="x", output_names=("a", "b"), slice_points=(1,)),
        ]
    )
    exported = to_caffe(model)
    assert exported.output_layers["a"] == "s"
    copy = exported.output_layers["b"]
    assert [(layer.type, list(layer.bottom)) for layer in exported.net.layer if layer.name == copy] == [
        ("Split", ["b"])
    ]


def test_no_weights_writes_no_caffemodel_and_warns_for_values(tmp_path: Path) -> None:
    model = _deconv(out_channels=2, kernel_shape=(2, 2))
    with pytest.warns(CaffeWarning, match=r"layer 'd' \(Deconvolution\): its weights are explicit values"):
        save_caffe(model, str(tmp_path / "n.prototxt"), with_weights=False)
    assert not (tmp_path / "n.caffemodel").exists()


def _random_filled(weight: ck.Filler, bias: ck.Filler | None = None) -> ck.Model:
    return ck.Model(
        [
            ck.Input(name="x", shape=(1, 2, 3, 3)),
            ck.Deconvolution(name="d", input="x", out_channels=2, kernel_shape=(2, 2), weight=weight, bias=bias),
        ]
    )


def test_no_weights_warns_that_a_random_fillers_seed_is_lost(tmp_path: Path) -> None:
    # Caffe's FillerParameter has no seed: without a caffemodel the weights read back differently.
    model = _random_filled(ck.Filler(type="gaussian", seed=5), ck.Filler(type="uniform", seed=7))
    path = tmp_path / "n.prototxt"
    with pytest.warns(
        CaffeWarning,
        match=r"layer 'd' \(Deconvolution\): its weights come from a gaussian filler "
        r"with seed 5, which Caffe's filler cannot carry and its bias comes from a uniform filler "
        r"with seed 7",
    ):
        save_caffe(model, str(path), with_weights=False)
    back = load_caffe(str(path))
    feeds = random_inputs(model, 0)
    assert not np.array_equal(ck.run(model, feeds)["d"], ck.run(back, feeds)["d"])


def test_no_weights_is_silent_for_a_random_filler_read_from_a_prototxt(tmp_path: Path) -> None:
    # A layer read from a prototxt has the reader's seed: written again, it reads back with the same values.
    model = _random_filled(ck.Filler(type="gaussian", seed=5))
    first = tmp_path / "a.prototxt"
    with pytest.warns(CaffeWarning):
        save_caffe(model, str(first), with_weights=False)
    read = load_caffe(str(first))
    second = tmp_path / "b.prototxt"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        save_caffe(read, str(second), with_weights=False)
    feeds = random_inputs(read, 0)
    assert np.array_equal(ck.run(read, feeds)["d"], ck.run(load_caffe(str(second)), feeds)["d"])


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "convertkit", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.slow
def test_cli_caffe_round_trip(tmp_path: Path) -> None:
    model = ck.Model(
        [ck.Input(name="x", shape=(1, 3, 4, 4)), ck.Upsample(name="up", input="x", mode="linear", scales=(2, 2))]
    )
    ck.save(model, str(tmp_path / "src.json"))
    r = _cli("convert", "src.json", "-o", "net.prototxt", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "net.caffemodel").exists()
    r = _cli("check", "net.prototxt", "--weights", "net.caffemodel", cwd=tmp_path)
    assert r.returncode == 0 and "PASS" in r.stdout, r.stdout + r.stderr
    r = _cli("convert", "net.prototxt", "--weights", "net.caffemodel", "-o", "back.onnx", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = _cli("convert", "net.prototxt", "--weights", "missing.caffemodel", "-o", "x.onnx", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "missing.caffemodel" in r.stderr
    (tmp_path / "bad.prototxt").write_text("layer { name: 'x' type: 'Input' top: 'x' bogus { }")
    r = _cli("run", "bad.prototxt", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "not a Caffe prototxt" in r.stderr


@pytest.mark.slow
def test_cli_reads_a_net_whose_data_layer_has_no_shape(tmp_path: Path) -> None:
    (tmp_path / "fcn.prototxt").write_text(
        """
        layer { name: "data" type: "Python" top: "data" top: "label" include { phase: TRAIN }
                python_param { module: "voc_layers" layer: "SBDDSegDataLayer" } }
        layer { name: "data" type: "Python" top: "data" top: "label" include { phase: TEST }
                python_param { module: "voc_layers" layer: "VOCSegDataLayer" } }
        layer { name: "upscore" type: "Deconvolution" bottom: "data" top: "upscore" param { lr_mult: 0 }
                convolution_param { num_output: 3 bias_term: false kernel_size: 4 stride: 2 } }
        """
    )
    r = _cli("convert", "fcn.prototxt", "-o", "x.onnx", cwd=tmp_path)
    assert r.returncode == 2 and "--input-shape data=N,C,H,W" in r.stderr and "Traceback" not in r.stderr
    r = _cli("convert", "fcn.prototxt", "--input-shape", "data=1,3,5,5", "-o", "x.json", cwd=tmp_path)
    assert r.returncode == 0 and "all zeros" in r.stderr, r.stderr
    r = _cli(
        "convert",
        "fcn.prototxt",
        "--input-shape",
        "data=1,3,5,5",
        "--fill-missing",
        "bilinear",
        "--compact",
        "-o",
        "compact.prototxt",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    layer = parse_prototxt((tmp_path / "compact.prototxt").read_text()).layer[1]
    assert layer.convolution_param.group == 3 and [p.lr_mult for p in layer.param] == [0]
    r = _cli("check", "compact.prototxt", "--weights", "compact.caffemodel", cwd=tmp_path)
    assert r.returncode == 0 and "PASS" in r.stdout, r.stdout + r.stderr


def _random_deconvolutions(count: int, seed: int) -> list:
    """Seeded N-D deconvolutions (rank 1-3) with asymmetric pads, output_padding, dilation, groups, bias."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(count):
        n = int(rng.integers(1, 4))
        g = int(rng.choice([1, 2]))
        k = tuple(int(v) for v in rng.integers(1, 4, size=n))
        s = tuple(int(v) for v in rng.integers(1, 4, size=n))
        d = tuple(int(v) for v in rng.integers(1, 3, size=n))
        pads = tuple(int(rng.integers(0, kk)) for kk in k) + tuple(int(rng.integers(0, kk)) for kk in k)
        op = tuple(int(rng.integers(0, max(ss, dd))) for ss, dd in zip(s, d, strict=True))
        shape = (1, g * int(rng.integers(1, 3)), *(int(v) for v in rng.integers(1, 5, size=n)))
        kw = dict(
            out_channels=g * int(rng.integers(1, 3)),
            kernel_shape=k,
            strides=s,
            dilations=d,
            group=g,
            padding=ck.Padding(pads=pads),
            output_padding=op,
            bias_term=bool(rng.integers(0, 2)),
        )
        cases.append(pytest.param(shape, kw, id=f"r{i}-{n}d"))
    return cases


@pytest.mark.parametrize("shape, kw", _random_deconvolutions(30, seed=11))
def test_random_deconvolutions_round_trip_exactly(tmp_path: Path, shape: tuple, kw: dict) -> None:
    try:
        model = _deconv(shape=shape, seed=1, **kw)
    except ck.ValidationError as exc:
        assert "not positive" in str(exc)  # pads that crop everything: not a model, nothing to export
        return
    back, _ = _round_trip(model, tmp_path)
    assert back.types["d"] == model.types["d"]
    feeds = random_inputs(model, 0)
    a, b = ck.run(model, feeds, backend="onnxruntime")["d"], ck.run(back, feeds, backend="onnxruntime")["d"]
    np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)
