"""Coordinate maps and the FCN-era fork's Crop: each kind's map by hand, crop offsets of small nets worked out by
hand, the offsets of the real HED, CRF-as-RNN and RCF prototxts, and the reading dialect through load and the CLI.

Hand rule (FCN's coord_map.py): a filter with kernel k (dilated extent e = (k - 1) d + 1), stride s, pad p maps
``x -> x / s + (p - (e - 1) / 2) / s``; a deconvolution ``x -> s x + (e - 1) / 2 - p``; a Crop at o ``x -> x - o``.
"""

from __future__ import annotations

import re
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import convertkit as ck
from convertkit.cli import main
from convertkit.coord_map import IDENTITY, CoordMap, CoordMapError, crop_offsets
from convertkit.errors import FormatError, UnsupportedError
from convertkit.fillers import Filler
from convertkit.ir import TensorType

F = Fraction
X = TensorType((1, 2, 12, 10))
ONES = Filler(type="constant", value=1.0)


def _maps(layer: ck.Layer, t: TensorType = X) -> CoordMap | None:
    return layer.coord_map([t])


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        # k3 s1 p1: (1 - 1) / 1 = 0 -> the identity grid
        (ck.Convolution(name="c", input="x", out_channels=2, kernel_shape=(3, 3), pads=(1, 1, 1, 1), weight=ONES),
         ((F(1), F(0)),) * 2),
        # k3 s2 p0: 1/2, (0 - 1) / 2
        (ck.Convolution(name="c", input="x", out_channels=2, kernel_shape=(3, 3), strides=(2, 2), weight=ONES),
         ((F(1, 2), F(-1, 2)),) * 2),
        # k3 dilation 2: extent 5, (0 - 2) / 1; pad 100 (FCN's conv1_1) on the other axis: 100 - 1
        (ck.Convolution(name="c", input="x", out_channels=2, kernel_shape=(3, 3), dilations=(2, 1),
                        pads=(0, 100, 0, 100), weight=ONES),
         ((F(1), F(-2)), (F(1), F(99)))),
        # max k2 s2 p0: 1/2, (0 - 1/2) / 2
        (ck.Pooling(name="p", input="x", kernel_shape=(2, 2), strides=(2, 2)), ((F(1, 2), F(-1, 4)),) * 2),
        # k4 s2 p0 deconvolution: 2, 3/2; k16 s8 p4: 8, 15/2 - 4
        (ck.Deconvolution(name="d", input="x", out_channels=2, kernel_shape=(4, 16), strides=(2, 8),
                          padding=ck.Padding(convention="caffe", pad=(0, 4)), weight=ONES),
         ((F(2), F(3, 2)), (F(8), F(7, 2)))),
        (ck.Crop(name="k", input="x", shape_like="r", offset=(3, 5)), ((F(1), F(-3)), (F(1), F(-5)))),
        (ck.Crop(name="k", input="x", shape_like="r", axis=3, offset=(4,)), ((F(1), F(0)), (F(1), F(-4)))),
    ],
)  # fmt: skip
def test_coordinate_map_of_each_filter_kind(layer: ck.Layer, expected: tuple) -> None:
    got = _maps(layer)
    assert got is not None and got.axes == expected


def test_elementwise_kinds_are_the_identity_and_others_have_none() -> None:
    assert _maps(ck.Activation(name="r", input="x", function="relu")) == IDENTITY
    assert ck.Eltwise(name="e", input_names=("x", "y")).coord_map([X, X]) == IDENTITY
    assert _maps(ck.Identity(name="i", input="x")) == IDENTITY
    assert _maps(ck.Softmax(name="s", input="x")) is None  # coord_map.py lists no Softmax
    assert _maps(ck.Pooling(name="g", input="x", global_pooling=True)) is None
    assert ck.Concat(name="c", input_names=("x", "y")).coord_map([X, X]) is None


def test_compose_and_inverse_by_hand() -> None:
    conv = CoordMap(((F(1), F(4)),))  # k3 pad 5
    pool = CoordMap(((F(1, 2), F(-1, 4)),))
    deconv = CoordMap(((F(2), F(3, 2)),))
    # data -> deconv(pool(conv(data))): 2 ((x + 4) / 2 - 1/4) + 3/2 = x + 5
    assert deconv.compose(pool).compose(conv).axes == ((F(1), F(5)),)
    assert pool.inverse().axes == ((F(2), F(1, 2)),)
    assert IDENTITY.compose(conv) == conv and conv.compose(IDENTITY) == conv


# --- small nets --------------------------------------------------------------------------------------------------


def _net(tmp_path: Path, body: str, shape: tuple[int, ...] = (1, 1, 12, 10), crop_type: str = "Crop") -> Path:
    dims = " ".join(f"dim: {d}" for d in shape)
    text = f"layer {{ name: 'data' type: 'Input' top: 'data' input_param {{ shape {{ {dims} }} }} }}\n"
    text += body.replace("CROP", crop_type)
    path = tmp_path / "net.prototxt"
    path.write_text(text)
    return path


def _conv(name: str, bottom: str, k: int, pad: int = 0, stride: int = 1, dilation: int = 1) -> str:
    return (
        f"layer {{ name: '{name}' type: 'Convolution' bottom: '{bottom}' top: '{name}' convolution_param {{ "
        f"num_output: 1 kernel_size: {k} pad: {pad} stride: {stride} dilation: {dilation} "
        "weight_filler { type: 'gaussian' std: 1 } } }\n"
    )


def _deconv(name: str, bottom: str, k: int, stride: int) -> str:
    return (
        f"layer {{ name: '{name}' type: 'Deconvolution' bottom: '{bottom}' top: '{name}' convolution_param {{ "
        f"num_output: 1 kernel_size: {k} stride: {stride} weight_filler {{ type: 'bilinear' }} }} }}\n"
    )


def _pool(name: str, bottom: str, k: int, stride: int) -> str:
    return (
        f"layer {{ name: '{name}' type: 'Pooling' bottom: '{bottom}' top: '{name}' "
        f"pooling_param {{ pool: MAX kernel_size: {k} stride: {stride} }} }}\n"
    )


def _crop(name: str, bottom: str, ref: str) -> str:
    return f"layer {{ name: '{name}' type: 'CROP' bottom: '{bottom}' bottom: '{ref}' top: '{name}' }}\n"


#: data (12x10) -> conv k3 pad 5 (x + 4; 20x18) -> relu -> pool k2 s2 (x/2 + 7/4; 10x9) -> deconv k4 s2 (x + 5;
#: 22x20) -> crop to data: offset 5 on both axes (FCN's upscore crop in miniature)
FCN_LIKE = (
    _conv("conv", "data", 3, pad=5)
    + "layer { name: 'relu' type: 'ReLU' bottom: 'conv' top: 'conv' }\n"
    + _pool("pool", "conv", 2, 2)
    + _deconv("up", "pool", 4, 2)
    + _crop("score", "up", "data")
)


def _load(path: Path, **options) -> tuple[ck.Model, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = ck.load(str(path), **options)
    return model, [str(w.message) for w in caught]


def _offsets(model: ck.Model) -> list[tuple[int, ...]]:
    return [layer.offset for layer in model.layers if isinstance(layer, ck.Crop)]


def test_fcn_like_net_offset_by_hand_in_every_dialect(tmp_path: Path) -> None:
    path = _net(tmp_path, FCN_LIKE)
    model, notes = _load(path, dialect="fcn")
    assert _offsets(model) == [(5, 5)] and notes == []
    model, notes = _load(path)  # detected: non-zero offsets, so the fork's reading, with a warning that says so
    assert _offsets(model) == [(5, 5)]
    (note,) = notes
    assert "layer 'score' (Crop): no crop_param; read as the FCN-era Caffe fork's Crop" in note
    assert "[5, 5]" in note and "--caffe-dialect bvlc" in note and "--caffe-dialect fcn" in note
    for dialect in ("bvlc", "pspnet"):
        model, notes = _load(path, dialect=dialect)
        assert _offsets(model) == [()] and notes == []


@pytest.mark.slow  # OpenCV runs in a child process (~6 s)
def test_fcn_like_net_crops_the_hand_computed_window_and_runs_everywhere(tmp_path: Path) -> None:
    from convertkit.formats.caffe import to_caffe
    from convertkit.formats.caffe.opencv import check_caffe

    model, _ = _load(_net(tmp_path, FCN_LIKE), dialect="fcn", outputs=["score", "up"])
    x = np.random.default_rng(0).standard_normal((1, 1, 12, 10)).astype(np.float32)
    ref = ck.run(model, {"data": x})
    assert ref["score"].shape == (1, 1, 12, 10)
    np.testing.assert_array_equal(ref["score"], ref["up"][:, :, 5:17, 5:15])
    ort = ck.run(model, {"data": x}, backend="onnxruntime")
    np.testing.assert_allclose(ort["score"], ref["score"], rtol=1e-5, atol=1e-5)
    # stock Caffe: Crop with crop_param (axis 2 is the default), which OpenCV runs
    assert re.search(r"crop_param \{\s*offset: 5\s*offset: 5\s*\}", to_caffe(model).prototxt())
    pytest.importorskip("cv2")
    report = check_caffe(model, {"data": x})
    assert report.passed, report.format()


def test_zero_offsets_agree_and_say_nothing(tmp_path: Path) -> None:
    # conv k3 pad 1 keeps the grid: both readings crop at 0
    model, notes = _load(_net(tmp_path, _conv("conv", "data", 3, pad=1) + _crop("k", "conv", "data")))
    assert _offsets(model) == [()] and notes == []


def test_a_crop_upstream_shifts_by_its_offset(tmp_path: Path) -> None:
    # c1 = crop(conv k3 pad 5 = x + 4) at 4 = x; conv2 k3 pad 2 = c1 + 1; crop to data at 1 (5 without c1's shift)
    body = _conv("conv", "data", 3, pad=5) + _crop("c1", "conv", "data") + _conv("conv2", "c1", 3, pad=2)
    model, _ = _load(_net(tmp_path, body + _crop("c2", "conv2", "data")), dialect="fcn")
    assert _offsets(model) == [(4, 4), (1, 1)]


def test_dilation_and_strided_walk_to_a_common_ancestor(tmp_path: Path) -> None:
    # shared conv k3 pad 4 (x + 3; 18x16), then: a = conv k3 dilation 2 pad 2 (a + 0 -> x + 3);
    # b = pool k3 s1 (b - 1 -> x + 2); crop a to b: a = b + 1 -> offset 1
    body = (
        _conv("trunk", "data", 3, pad=4)
        + _conv("a", "trunk", 3, pad=2, dilation=2)
        + _pool("b", "trunk", 3, 1)
        + _crop("k", "a", "b")
    )
    model, _ = _load(_net(tmp_path, body), dialect="fcn")
    assert _offsets(model) == [(1, 1)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            _deconv("up", "data", 4, 2) + _crop("k", "up", "data"),
            r"is 0.5 \* x - 0.75, 0.5 \* x - 0.75: its scale is not 1",
        ),
        # pool k3 s2 (x/2 - 1/2) then deconv k2 s2 (2x + 1/2): x - 1/2
        (_pool("p", "data", 3, 2) + _deconv("up", "p", 2, 2) + _crop("k", "up", "data"), "non-positive integer"),
        # softmax has no map (coord_map.py lists none)
        (
            _conv("c", "data", 3, pad=2)
            + "layer { name: 'sm' type: 'Softmax' bottom: 'c' top: 'sm' }\n"
            + _crop("k", "sm", "data"),
            r"layer 'sm' \(Softmax\) between 'data' and 'sm' has no coordinate map",
        ),
    ],
)
def test_maps_that_give_no_crop_are_clear_errors_for_the_fork(tmp_path: Path, body: str, message: str) -> None:
    path = _net(tmp_path, body, shape=(1, 1, 8, 8))
    with pytest.raises(UnsupportedError, match=rf"net.prototxt: Crop 'k': .*{message}"):
        ck.load(str(path), dialect="fcn")
    with pytest.raises(UnsupportedError, match=message):  # AutoCrop has no other reading
        ck.load(str(_net(tmp_path, body, shape=(1, 1, 8, 8), crop_type="AutoCrop")))


def test_undetected_without_maps_falls_back_to_bvlc_with_a_warning(tmp_path: Path) -> None:
    text = (
        "input: 'a' input_shape { dim: 1 dim: 1 dim: 9 dim: 9 }\n"
        "input: 'b' input_shape { dim: 1 dim: 1 dim: 4 dim: 4 }\n"
        "layer { name: 'k' type: 'Crop' bottom: 'a' bottom: 'b' top: 'k' }\n"
    )
    path = tmp_path / "two.prototxt"
    path.write_text(text)
    model, notes = _load(path)
    assert _offsets(model) == [()]
    (note,) = notes
    assert "BVLC Caffe's defaults apply (axis 2, offset 0)" in note and "no common ancestor" in note
    with pytest.raises(UnsupportedError, match=r"Crop 'k': its bottoms 'a' and 'b' have no common ancestor"):
        ck.load(str(path), dialect="fcn")


def test_autocrop_and_v1_crop_read_by_coordinate_maps(tmp_path: Path) -> None:
    model, notes = _load(_net(tmp_path, FCN_LIKE, crop_type="AutoCrop"), dialect="bvlc")
    assert _offsets(model) == [(5, 5)] and notes == []  # AutoCrop means one thing in any dialect
    v1 = tmp_path / "v1.prototxt"
    v1.write_text(
        "input: 'data' input_dim: 1 input_dim: 1 input_dim: 12 input_dim: 10\n"
        "layers { name: 'conv' type: CONVOLUTION bottom: 'data' top: 'conv' convolution_param { num_output: 1 "
        "kernel_size: 3 pad: 5 weight_filler { type: 'gaussian' } } }\n"
        "layers { name: 'crop' type: CROP bottom: 'conv' bottom: 'data' top: 'crop' }\n"
    )
    model, _ = _load(v1, dialect="fcn")
    assert _offsets(model) == [(4, 4)]


def test_crop_offsets_walks_first_inputs_only() -> None:
    # the fork's CropLayer follows bottom[0] of every layer: an Eltwise's second input is not a path
    conv = ck.Convolution(name="c", input="x", out_channels=1, kernel_shape=(3, 3), pads=(5, 5, 5, 5), weight=ONES)
    add = ck.Eltwise(name="e", input_names=("y", "c"))
    producers = {"c": conv, "e": add}
    types = {"x": X, "y": X, "c": TensorType((1, 1, 20, 18)), "e": TensorType((1, 1, 20, 18))}
    with pytest.raises(CoordMapError, match="no common ancestor"):
        crop_offsets("k", "e", "x", producers.get, types)
    assert crop_offsets("k", "c", "x", producers.get, types) == (4, 4)


def test_dialect_option_is_checked() -> None:
    with pytest.raises(FormatError, match="dialect to read must be one of bvlc, pspnet, segnet, fcn"):
        ck.load(str(Path(__file__).parents[1] / "examples" / "fcn_head.prototxt"), dialect="caffe2")
    with pytest.raises(FormatError, match="do not apply to reading .json"):
        ck.load(str(Path(__file__).parents[1] / "examples" / "seed_5x5.json"), dialect="fcn")


# --- the real nets -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "options", "offsets"),
    [
        ("hed_deploy.prototxt", {}, [34, 35, 36, 38, 42]),
        ("crfasrnn_TVG_CRFRNN_new_deploy.prototxt", {"outputs": ["unary"]}, [5, 9, 31]),
        ("crfasrnn_TVG_CRFRNN_COCO_VOC.prototxt", {"outputs": ["unary"]}, [5, 9, 31]),  # V1 `type: CROP`
        ("rcf_test_vgg16.prototxt", {}, [1, 2, 4, 0]),  # AutoCrop
    ],
)
def test_real_net_offsets(shared_caffe_dir: Path, file: str, options: dict, offsets: list[int]) -> None:
    model, notes = _load(shared_caffe_dir / file, dialect="fcn", input_shapes={"data": (1, 3, 75, 61)}, **options)
    assert [o[0] if o else 0 for o in _offsets(model)] == offsets
    assert all(len(set(o)) <= 1 for o in _offsets(model))
    assert not [n for n in notes if "crop" in n.lower() and "more than once" not in n]
    if file.startswith("hed"):
        # detected: the same offsets, one warning per crop
        model, notes = _load(shared_caffe_dir / file, input_shapes={"data": (1, 3, 75, 61)})
        assert [o[0] for o in _offsets(model)] == offsets
        assert len([n for n in notes if "read as the FCN-era Caffe fork's Crop" in n]) == 5
        model, notes = _load(shared_caffe_dir / file, dialect="bvlc", input_shapes={"data": (1, 3, 75, 61)})
        assert _offsets(model) == [()] * 5


@pytest.mark.slow  # exports the whole of HED (~3 s)
def test_cli_reads_with_the_dialect(shared_caffe_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import onnx

    out = tmp_path / "hed.onnx"
    hed = str(shared_caffe_dir / "hed_deploy.prototxt")
    args = ["convert", hed, "-o", str(out), "--input-shape", "data=1,3,75,61", "--caffe-dialect", "fcn", "-q"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # HED has no weights: zero-filled convolutions
        assert main(args) == 0
    graph = onnx.load(str(out)).graph
    inits = {i.name: onnx.numpy_helper.to_array(i).tolist() for i in graph.initializer}
    starts = [inits[node.input[1]] for node in graph.node if node.op_type == "Slice"]
    assert sorted(starts) == [[o, o] for o in (34, 35, 36, 38, 42)]
    capsys.readouterr()
    spec = str(Path(__file__).parents[1] / "examples" / "seed_5x5.json")
    assert main(["validate", spec, "--caffe-dialect", "fcn"]) == 2
    assert "--caffe-dialect apply to a .prototxt source only" in capsys.readouterr().err
    assert main(["convert", spec, "-o", str(tmp_path / "x.onnx"), "--caffe-dialect", "fcn"]) == 2
    assert "--caffe-dialect applies to a .prototxt source or output only" in capsys.readouterr().err
