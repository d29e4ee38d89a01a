"""The fork's Caffe ``Interp`` as ``interp_layer.cpp`` (hszhao/PSPNet) computes it: the size rules in its order,
pads that crop first, the second-bottom size, 1-pixel inputs; checked against PyTorch
``F.interpolate(align_corners=True)``, onnxruntime, and OpenCV's Interp where it runs the form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

import convertkit as ck
from convertkit.formats.caffe.opencv import run_opencv

torch = pytest.importorskip("torch")  # PyTorch's align_corners=True is the oracle where OpenCV cannot run the form
F = torch.nn.functional


def _prototxt(path: Path, shape: tuple[int, ...], params: str, size_like: tuple[int, ...] | None = None) -> str:
    dims = " ".join(f"dim: {d}" for d in shape)
    text = f'layer {{ name: "data" type: "Input" top: "data" input_param {{ shape {{ {dims} }} }} }}\n'
    bottoms = 'bottom: "data"'
    if size_like is not None:
        dims = " ".join(f"dim: {d}" for d in size_like)
        text += f'layer {{ name: "like" type: "Input" top: "like" input_param {{ shape {{ {dims} }} }} }}\n'
        bottoms += ' bottom: "like"'
    text += f'layer {{ name: "interp" type: "Interp" {bottoms} top: "out" interp_param {{ {params} }} }}\n'
    path.write_text(text)
    return str(path)


def _torch(x: np.ndarray, size: tuple[int, ...], pb: int = 0, pe: int = 0) -> np.ndarray:
    h, w = x.shape[2:]
    cropped = torch.from_numpy(x)[:, :, -pb : h + pe, -pb : w + pe]
    return F.interpolate(cropped, size=size, mode="bilinear", align_corners=True).numpy()


# (input, interp_param, the fork's output size, pad_beg, pad_end); sizes worked by hand from interp_layer.cpp
FORMS = [
    ((1, 2, 5, 7), "zoom_factor: 3", (13, 19), 0, 0),  # n + (n - 1)(z - 1)
    ((1, 2, 33, 17), "shrink_factor: 2", (17, 9), 0, 0),  # ICNet: (n - 1) // 2 + 1 on odd sizes
    ((1, 2, 10, 9), "shrink_factor: 2", (5, 5), 0, 0),  # even: (10 - 1) // 2 + 1 = 5
    ((1, 2, 9, 9), "shrink_factor: 2 zoom_factor: 3", (13, 13), 0, 0),  # shrink to 5, then zoom: 5 + 4 * 2
    ((1, 2, 1, 1), "height: 6 width: 4", (6, 4), 0, 0),  # PSPNet pool1: a broadcast
    ((1, 2, 6, 8), "zoom_factor: 2 pad_beg: -1 pad_end: -1", (7, 11), -1, -1),  # eff 4x6, then zoom
    ((1, 2, 6, 8), "height: 5 width: 9 pad_beg: -1", (5, 9), -1, 0),  # crop [1, 6) x [1, 8)
]


@pytest.mark.parametrize(("shape", "params", "size", "pb", "pe"), FORMS, ids=[f[1] for f in FORMS])
def test_forms_against_torch_and_onnxruntime(tmp_path: Path, shape, params, size, pb, pe):
    model = ck.load(_prototxt(tmp_path / "n.prototxt", shape, params))
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    y = ck.run(model, {"data": x})["out"]
    assert y.shape[2:] == size
    # the fork (and onnxruntime) interpolate in float32 with another order of operations than torch
    np.testing.assert_allclose(y, _torch(x, size, pb, pe), atol=3e-6)
    ck.save(model, str(tmp_path / "n.onnx"))
    got = ort.InferenceSession(str(tmp_path / "n.onnx")).run(None, {"data": x})[0]
    np.testing.assert_allclose(got, y, atol=1e-6)


def test_height_width_win_over_shrink_with_zoom(tmp_path: Path):
    path = _prototxt(tmp_path / "n.prototxt", (1, 1, 9, 9), "shrink_factor: 2 zoom_factor: 3 height: 4 width: 5")
    with pytest.warns(ck.CaffeWarning, match="shrink_factor and zoom_factor are ignored"):
        model = ck.load(path)
    assert model.types["out"].shape == (1, 1, 4, 5)


def test_positive_pads_are_refused_as_the_fork_does(tmp_path: Path):
    path = _prototxt(tmp_path / "n.prototxt", (1, 1, 4, 4), "zoom_factor: 2 pad_beg: 1")
    with pytest.raises(ck.FormatError, match=r"pad_beg 1 / pad_end 0.*non-positive padding"):
        ck.load(path)


def test_second_bottom_gives_the_size(tmp_path: Path):
    path = _prototxt(tmp_path / "n.prototxt", (1, 2, 3, 4), "", size_like=(1, 5, 7, 6))
    with pytest.warns(ck.CaffeWarning, match="the size comes from bottom 'like'"):
        model = ck.load(path)
    x = np.random.default_rng(1).standard_normal((1, 2, 3, 4)).astype(np.float32)
    y = ck.run(model, {"data": x, "like": np.zeros((1, 5, 7, 6), np.float32)})["out"]
    np.testing.assert_allclose(y, _torch(x, (7, 6)), atol=3e-6)
    with pytest.raises(ck.FormatError, match="second bottom gives the size"):
        ck.load(_prototxt(tmp_path / "m.prototxt", (1, 2, 3, 4), "zoom_factor: 2", size_like=(1, 5, 7, 6)))


@pytest.mark.parametrize(("shape", "params"), [((1, 2, 5, 7), "zoom_factor: 3"), ((1, 2, 1, 1), "height: 6 width: 4")])
def test_opencv_runs_the_interp_it_implements(tmp_path: Path, shape, params):
    path = _prototxt(tmp_path / "n.prototxt", shape, params)
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    y = ck.run(ck.load(path), {"data": x})["out"]
    np.testing.assert_allclose(run_opencv(path, None, {"data": x}, ["out"])["out"], y, atol=3e-6)


def test_pads_export_as_crop_then_interp_which_opencv_runs(tmp_path: Path):
    """OpenCV's Interp ignores pad_beg/pad_end (refused up front), but the export crops first (Slice), exactly."""
    model = ck.load(_prototxt(tmp_path / "n.prototxt", (1, 2, 6, 8), "zoom_factor: 2 pad_beg: -1 pad_end: -1"))
    assert [layer.kind for layer in model.layers] == ["Input", "Crop", "Upsample"]
    x = np.random.default_rng(3).standard_normal((1, 2, 6, 8)).astype(np.float32)
    y = ck.run(model, {"data": x})["out"]
    out = tmp_path / "e.prototxt"
    ck.save(model, str(out), dialect="pspnet")
    text = out.read_text()
    assert "zoom_factor: 2" in text and "pad_beg" not in text
    np.testing.assert_allclose(run_opencv(str(out), None, {"data": x}, ["out"])["out"], y, atol=3e-6)


@pytest.mark.parametrize(("shape", "sizes"), [((1, 2, 1, 1), (6, 5)), ((1, 2, 1, 3), (4, 7))])
def test_stock_caffe_broadcast_from_one_pixel(tmp_path: Path, shape, sizes):
    """align_corners from a 1-pixel axis is a broadcast: a Deconvolution with kernel = stride = out, weight 1."""
    model = ck.Model(
        [
            ck.Input(name="x", shape=shape),
            ck.Upsample(
                name="u",
                input="x",
                output="y",
                mode="linear",
                sizes=sizes,
                coordinate_transformation_mode="align_corners",
            ),
        ]
    )
    x = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    ck.save(model, str(tmp_path / "s.prototxt"))
    assert "Interp" not in (tmp_path / "s.prototxt").read_text()
    got = run_opencv(str(tmp_path / "s.prototxt"), str(tmp_path / "s.caffemodel"), {"x": x}, ["y"])["y"]
    np.testing.assert_allclose(got, _torch(x, sizes), atol=1e-6)
