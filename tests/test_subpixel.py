"""DepthToSpace (both directions, DCR and CRD): hand-computed values, PyTorch, onnxruntime, OpenCV on the stock
Caffe export, PyTorch's own ONNX exports read back, and the one-hot fusion's limits (0 * inf = NaN)."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convertkit as ck
from convertkit.formats.caffe.opencv import run_opencv
from convertkit.formats.onnx_import import from_onnx
from convertkit.ir import TensorType
from convertkit.passes.subpixel import stock_caffe_form

torch = pytest.importorskip("torch")  # PyTorch's PixelShuffle / PixelUnshuffle exports are what users bring


def _model(shape: tuple[int, ...], **fields: object) -> ck.Model:
    return ck.Model([ck.Input(name="x", shape=shape), ck.DepthToSpace(name="d", input="x", output="y", **fields)])


def _ref(model: ck.Model, x: np.ndarray) -> np.ndarray:
    return ck.run(model, {"x": x})["y"]


def test_hand_computed_depth_to_space_dcr_and_crd():
    # 4 channels of one pixel each, values = channel index; r = 2, C' = 1: both orders put channel i*2+j at (i, j)
    x = np.arange(4, dtype=np.float32).reshape(1, 4, 1, 1)
    for mode in ("DCR", "CRD"):
        np.testing.assert_array_equal(_ref(_model(x.shape, blocksize=2, mode=mode), x)[0, 0], [[0, 1], [2, 3]])
    # 8 channels, C' = 2: DCR takes channel (i*2+j)*2 + c, CRD channel c*4 + i*2 + j
    x = np.arange(8, dtype=np.float32).reshape(1, 8, 1, 1)
    dcr = _ref(_model(x.shape, blocksize=2, mode="DCR"), x)[0]
    crd = _ref(_model(x.shape, blocksize=2, mode="CRD"), x)[0]
    np.testing.assert_array_equal(dcr, [[[0, 2], [4, 6]], [[1, 3], [5, 7]]])
    np.testing.assert_array_equal(crd, [[[0, 1], [2, 3]], [[4, 5], [6, 7]]])


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_space_to_depth_inverts_depth_to_space(mode):
    x = np.random.default_rng(0).standard_normal((2, 18, 2, 3)).astype(np.float32)
    y = _ref(_model(x.shape, blocksize=3, mode=mode), x)
    back = _ref(_model(y.shape, blocksize=3, mode=mode, direction="space_to_depth"), y)
    np.testing.assert_array_equal(back, x)


def test_against_torch_pixel_shuffle_and_unshuffle():
    x = np.random.default_rng(1).standard_normal((1, 12, 2, 3)).astype(np.float32)
    want = torch.nn.functional.pixel_shuffle(torch.from_numpy(x), 2).numpy()
    np.testing.assert_array_equal(_ref(_model(x.shape, blocksize=2, mode="CRD"), x), want)
    y = np.random.default_rng(2).standard_normal((1, 2, 4, 6)).astype(np.float32)
    want = torch.nn.functional.pixel_unshuffle(torch.from_numpy(y), 2).numpy()
    np.testing.assert_array_equal(_ref(_model(y.shape, blocksize=2, mode="CRD", direction="space_to_depth"), y), want)


def test_shape_rules_name_the_values():
    with pytest.raises(ck.ValidationError, match=r"divisible by blocksize\^2 = 4.*has 6 channels"):
        _model((1, 6, 2, 2), blocksize=2)
    with pytest.raises(ck.ValidationError, match=r"height and width divisible by blocksize 2.*3x4"):
        _model((1, 1, 3, 4), blocksize=2, direction="space_to_depth")
    with pytest.raises(ck.ValidationError, match="mode must be DCR or CRD"):
        ck.DepthToSpace(name="d", input="x", blocksize=2, mode="RDC")


@pytest.mark.parametrize("opset", [11, 17])
@pytest.mark.parametrize("module", ["shuffle", "unshuffle"])
def test_torch_exports_read_back(tmp_path: Path, opset: int, module: str):
    """PixelShuffle exports DepthToSpace CRD; PixelUnshuffle the Reshape -> Transpose -> Reshape chain (measured,
    torch 2.13, the TorchScript exporter): both read as one DepthToSpace."""
    if module == "shuffle":
        net, x = torch.nn.PixelShuffle(2), torch.randn(1, 8, 3, 2, generator=torch.Generator().manual_seed(0))
    else:
        net, x = torch.nn.PixelUnshuffle(2), torch.randn(1, 2, 4, 6, generator=torch.Generator().manual_seed(0))
    path = tmp_path / "net.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (x,), str(path), opset_version=opset, dynamo=False, input_names=["x"])
    model = ck.load(str(path))
    (layer,) = [layer for layer in model.layers if not isinstance(layer, ck.Input)]
    want_direction = "depth_to_space" if module == "shuffle" else "space_to_depth"
    assert (type(layer), layer.mode, layer.direction, layer.blocksize) == (ck.DepthToSpace, "CRD", want_direction, 2)
    np.testing.assert_array_equal(ck.run(model, {"x": x.numpy()})[layer.output], net(x).numpy())


@pytest.mark.parametrize(
    ("shape", "fields"),
    [
        ((1, 8, 3, 2), {"mode": "CRD"}),
        ((1, 8, 3, 2), {"mode": "DCR"}),
        ((1, 2, 4, 6), {"mode": "CRD", "direction": "space_to_depth"}),
        ((1, 2, 4, 6), {"mode": "DCR", "direction": "space_to_depth"}),
    ],
)
def test_onnxruntime_and_opencv_on_the_stock_caffe_form(tmp_path: Path, shape, fields):
    model = _model(shape, blocksize=2, **fields)
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    want = _ref(model, x)
    ck.save(model, str(tmp_path / "m.onnx"))
    got = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"x": x})[0]
    np.testing.assert_array_equal(got, want)
    ck.save(model, str(tmp_path / "m.prototxt"))
    text = (tmp_path / "m.prototxt").read_text()
    assert ("Deconvolution" if "direction" not in fields else "Convolution") in text
    out = run_opencv(str(tmp_path / "m.prototxt"), str(tmp_path / "m.caffemodel"), {"x": x}, ["y"])
    np.testing.assert_array_equal(out["y"], want)
    back = ck.load(str(tmp_path / "m.prototxt"), weights=str(tmp_path / "m.caffemodel"))
    assert back.layers[1:] == model.layers[1:]  # the fusion after the Caffe reader


def test_crd_is_grouped_dcr_dense():
    x = TensorType((1, 12, 2, 2))
    crd = stock_caffe_form(ck.DepthToSpace(name="d", input="x", blocksize=2, mode="CRD"), x)
    dcr = stock_caffe_form(ck.DepthToSpace(name="d", input="x", blocksize=2, mode="DCR"), x)
    assert (crd.group, crd.weight_array(12).shape) == (3, (12, 1, 2, 2))
    assert (dcr.group, dcr.weight_array(12).shape) == (1, (12, 3, 2, 2))
    assert crd.weight_array(12).sum() == dcr.weight_array(12).sum() == 12  # one 1 per deep channel


def test_one_hot_form_differs_on_inf(tmp_path: Path):
    """0 * inf = NaN: the one-hot Deconvolution spreads an inf's NaN over its block, DepthToSpace copies."""
    model = _model((1, 4, 1, 1), blocksize=2, mode="CRD")
    x = np.array([np.inf, 1, 2, 3], dtype=np.float32).reshape(1, 4, 1, 1)
    np.testing.assert_array_equal(_ref(model, x)[0, 0], [[np.inf, 1], [2, 3]])
    ck.save(model, str(tmp_path / "m.prototxt"))
    out = run_opencv(str(tmp_path / "m.prototxt"), str(tmp_path / "m.caffemodel"), {"x": x}, ["y"])["y"][0, 0]
    # measured, OpenCV 4.14: [[inf, nan], [nan, nan]] — every tap of the block met the inf with weight 0
    assert np.isposinf(out[0, 0]) and np.isnan(out.ravel()[1:]).all()


def test_fusion_declines_near_misses(tmp_path: Path):
    """A Deconvolution with k = s = 2 that is not exactly the one-hot pattern (a bias, a 0.5) stays one."""
    d2s = ck.DepthToSpace(name="d", input="x", output="y", blocksize=2, mode="CRD")
    base = stock_caffe_form(d2s, TensorType((1, 4, 2, 2)))
    w = base.weight_array(4).copy()
    w[0, 0, 0, 0] = 0.5
    for layer in (
        dataclasses.replace(base, weight=ck.Values(array=w)),
        dataclasses.replace(base, bias_term=True, bias=ck.Values(array=np.ones(1, np.float32))),
    ):
        model = ck.Model([ck.Input(name="x", shape=(1, 4, 2, 2)), layer])
        ck.save(model, str(tmp_path / "n.prototxt"))
        back = ck.load(str(tmp_path / "n.prototxt"), weights=str(tmp_path / "n.caffemodel"))
        assert isinstance(back.layers[1], ck.Deconvolution)


@settings(max_examples=10, derandomize=True, deadline=None, database=None)
@given(
    r=st.integers(1, 3),
    c=st.integers(1, 3),
    hw=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    mode=st.sampled_from(["DCR", "CRD"]),
    direction=st.sampled_from(["depth_to_space", "space_to_depth"]),
)
def test_random_configurations(r, c, hw, mode, direction):
    """reference == onnxruntime; ONNX and stock Caffe read back as the same layer (r >= 2) with the same numbers."""
    import tempfile

    h, w = hw
    shape = (1, c * r * r, h, w) if direction == "depth_to_space" else (1, c, h * r, w * r)
    model = _model(shape, blocksize=r, mode=mode, direction=direction)
    first = ck.to_onnx(model)
    x = np.random.default_rng(r * 10 + c).standard_normal(shape).astype(np.float32)
    session = ort.InferenceSession(first.SerializeToString())
    np.testing.assert_array_equal(session.run(None, {"x": x})[0], _ref(model, x))
    assert ck.to_onnx(from_onnx(first)).SerializeToString() == first.SerializeToString()
    with tempfile.TemporaryDirectory() as folder:
        ck.save(model, f"{folder}/m.prototxt")
        back = ck.load(f"{folder}/m.prototxt", weights=f"{folder}/m.caffemodel")
    np.testing.assert_array_equal(ck.run(back, {"x": x})["y"], _ref(model, x))
    if r >= 2:  # with one shallow channel DCR and CRD are one permutation: the Caffe kernel reads back as CRD
        want = model.layers[1] if c > 1 else dataclasses.replace(model.layers[1], mode="CRD")
        assert back.layers[1:] == (want,)
