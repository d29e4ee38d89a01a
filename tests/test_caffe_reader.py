"""Reading Caffe nets: the seed's example, Caffe's own deconvolution test facts, the bilinear filler and recipe,
net inputs in every form, phase rules, V1 nets, weights from a caffemodel, fillers, FCN surgery weights."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import convertkit as ck
from convertkit.codec.caffe import array_to_blob, parse_prototxt, pb
from convertkit.errors import FormatError, UnsupportedError
from convertkit.formats.caffe import CaffeWarning, load_caffe

SEED_PROTOTXT = """
name: 'seed'
layer { name: 'data' type: 'Input' top: 'data' input_param { shape: { dim: 1 dim: 1 dim: 2 dim: 2 } } }
layer {
  name: 'deconv' type: 'Deconvolution' bottom: 'data' top: 'deconv'
  convolution_param: { num_output: 1 bias_term: false pad: 0 kernel_size: 3 group: 1 stride: 2
                       weight_filler: { type: 'constant' value: 1 } }
}
"""
# The seed note's hand-worked scatter of [[1, 2], [3, 4]] with a 3x3 ones kernel, stride 2.
SEED_5X5 = np.array(
    [[1, 1, 3, 2, 2], [1, 1, 3, 2, 2], [4, 4, 10, 6, 6], [3, 3, 7, 4, 4], [3, 3, 7, 4, 4]], dtype=np.float32
)


def _write(tmp_path: Path, text: str, name: str = "net.prototxt") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _write_caffemodel(
    tmp_path: Path, layers: dict[str, list], legacy: bool = False, double: bool = False, v1: bool = False
) -> str:
    net = pb.NetParameter()
    for name, arrays in layers.items():
        layer = net.layers.add() if v1 else net.layer.add()
        layer.name = name
        if v1:
            layer.type = pb.V1LayerParameter.DECONVOLUTION
        for a in arrays:
            a = np.asarray(a)
            if legacy:
                blob = pb.BlobProto()
                dims = (1,) * (4 - a.ndim) + a.shape
                blob.num, blob.channels, blob.height, blob.width = dims
                blob.data.extend(a.astype(np.float32).ravel().tolist())
            elif double:
                blob = pb.BlobProto()
                blob.shape.dim.extend(a.shape)
                blob.double_data.extend(a.astype(np.float64).ravel().tolist())
            else:
                blob = array_to_blob(a)
            layer.blobs.append(blob)
    path = tmp_path / "net.caffemodel"
    path.write_bytes(net.SerializeToString())
    return str(path)


def test_seed_example_gives_the_seed_matrix(tmp_path: Path) -> None:
    model = load_caffe(_write(tmp_path, SEED_PROTOTXT))
    x = np.array([[[[1, 2], [3, 4]]]], dtype=np.float32)
    for backend in ("reference", "onnxruntime"):
        y = ck.run(model, {"data": x}, backend=backend)["deconv"]
        np.testing.assert_array_equal(y[0, 0], SEED_5X5)


@pytest.mark.parametrize("group, num_output", [(1, 4), (3, 3)], ids=["full", "group3"])
def test_caffe_deconvolution_test_shapes(tmp_path: Path, group: int, num_output: int) -> None:
    # BVLC Caffe's test_deconvolution_layer: bottom 2x3x6x4, kernel 3, stride 2 -> top 2xMx13x9.
    text = f"""
    input: "bottom" input_dim: 2 input_dim: 3 input_dim: 6 input_dim: 4
    layer {{ name: "deconv" type: "Deconvolution" bottom: "bottom" top: "top"
             convolution_param {{ num_output: {num_output} kernel_size: 3 stride: 2 group: {group}
                                  weight_filler {{ type: "gaussian" }}
                                  bias_filler {{ type: "constant" value: 0.1 }} }} }}
    """
    model = load_caffe(_write(tmp_path, text))
    assert model.types["top"].shape == (2, num_output, 13, 9)
    assert ck.check(model).passed


def _caffe_bilinear_filler(k: int) -> np.ndarray:
    # Transcribed loop of Caffe's BilinearFiller::Fill over one (out, in) kernel.
    f = math.ceil(k / 2)
    c = (k - 1) / (2 * f)
    w = np.empty(k * k)
    for i in range(k * k):
        x, y = i % k, (i // k) % k
        w[i] = (1 - abs(x / f - c)) * (1 - abs(y / f - c))
    return w.reshape(k, k)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6, 7, 8, 63])
def test_bilinear_filler_is_caffes(tmp_path: Path, k: int) -> None:
    text = f"""
    layer {{ name: "x" type: "Input" top: "x" input_param {{ shape {{ dim: 1 dim: 2 dim: 3 dim: 3 }} }} }}
    layer {{ name: "up" type: "Deconvolution" bottom: "x" top: "up"
             convolution_param {{ num_output: 2 group: 2 kernel_size: {k} bias_term: false
                                  weight_filler {{ type: "bilinear" }} }} }}
    """
    layer = load_caffe(_write(tmp_path, text)).layer("up")
    w = layer.weight_array(2)
    expected = _caffe_bilinear_filler(k).astype(np.float32)
    for c in range(2):
        np.testing.assert_array_equal(w[c, 0], expected)
    if k == 4:
        np.testing.assert_allclose(w[0, 0, 0], [0.0625, 0.1875, 0.1875, 0.0625])


def _zero_border_bilinear(x: np.ndarray, f: int) -> np.ndarray:
    """Half-pixel bilinear upsampling by ``f`` that reads zeros outside the input (what the recipe computes)."""
    h, w = x.shape[-2:]
    padded = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(1, 1), (1, 1)])

    def taps(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = (np.arange(f * n) + 0.5) / f - 0.5 + 1  # +1: index into the zero-padded input
        lo = np.floor(pos).astype(int)
        return lo, lo + 1, pos - lo

    y0, y1, fy = taps(h)
    x0, x1, fx = taps(w)
    rows = padded[..., y0, :] * (1 - fy)[:, None] + padded[..., y1, :] * fy[:, None]
    return rows[..., x0] * (1 - fx) + rows[..., x1] * fx


@pytest.mark.parametrize("factor", [2, 3, 4, 8, 32])
def test_upsampling_recipe(tmp_path: Path, factor: int) -> None:
    k, pad = 2 * factor - factor % 2, math.ceil((factor - 1) / 2)
    text = f"""
    layer {{ name: "x" type: "Input" top: "x" input_param {{ shape {{ dim: 1 dim: 3 dim: 4 dim: 5 }} }} }}
    layer {{ name: "up" type: "Deconvolution" bottom: "x" top: "up" param {{ lr_mult: 0 decay_mult: 0 }}
             convolution_param {{ kernel_size: {k} stride: {factor} num_output: 3 group: 3 pad: {pad}
                                  weight_filler: {{ type: "bilinear" }} bias_term: false }} }}
    """
    model = load_caffe(_write(tmp_path, text))
    layer = model.layer("up")
    assert layer.is_bilinear_frozen
    assert model.types["up"].shape == (1, 3, 4 * factor, 5 * factor)
    x = np.random.default_rng(factor).standard_normal((1, 3, 4, 5)).astype(np.float32)
    y = ck.run(model, {"x": x}, backend="onnxruntime")["up"]
    np.testing.assert_allclose(y, _zero_border_bilinear(x.astype(np.float64), factor), atol=1e-5)
    # The same recipe through convertkit's Upsample (semantics 'deconvolution') is the same layer.
    up = ck.Upsample(name="up", input="x", mode="linear", scales=(factor, factor), semantics="deconvolution")
    assert up.as_deconvolution(3, (4, 5)) == layer


def test_legacy_v1_net_with_input_shape_and_phase_rules(tmp_path: Path) -> None:
    text = """
    name: "v1"
    input: "x"
    input_shape { dim: 1 dim: 2 dim: 3 dim: 3 }
    layers { name: "train_only" type: DECONVOLUTION bottom: "x" top: "t"
             include { phase: TRAIN } convolution_param { num_output: 2 kernel_size: 2 } }
    layers { name: "up" type: DECONVOLUTION bottom: "x" top: "up" blobs_lr: 0 blobs_lr: 0
             exclude { phase: TRAIN }
             convolution_param { num_output: 2 kernel_size: 4 stride: 2 pad: 1 group: 2 bias_term: false
                                 weight_filler { type: "bilinear" } } }
    """
    # V1's two blobs_lr for a layer without bias are one param too many: dropped, with a warning.
    with pytest.warns(CaffeWarning, match=r"layer 'up' \(Deconvolution\): 2 param \{ \} entries for 1 blob\(s\)"):
        model = load_caffe(_write(tmp_path, text))
    assert [layer.name for layer in model.layers] == ["x", "up"]
    assert model.layer("up").frozen and model.types["up"].shape == (1, 2, 6, 6)


def test_data_layer_needs_input_shape(tmp_path: Path) -> None:
    text = """
    layer { name: "data" type: "Python" top: "data" top: "label"
            python_param { module: "voc_layers" layer: "VOCSegDataLayer" param_str: "{'seed': 1337}" } }
    layer { name: "up" type: "Deconvolution" bottom: "data" top: "up"
            convolution_param { num_output: 3 kernel_size: 2 stride: 2 weight_filler { type: "msra" } } }
    """
    path = _write(tmp_path, text)
    with pytest.raises(FormatError, match=r"layer 'data' \(Python\).*--input-shape data=N,C,H,W"):
        load_caffe(path)
    model = load_caffe(path, input_shapes={"data": [1, 3, 4, 4]}, seed=3)
    assert model.types["up"].shape == (1, 3, 8, 8)
    again = load_caffe(path, input_shapes={"data": (1, 3, 4, 4)}, seed=3)
    np.testing.assert_array_equal(model.layer("up").weight_array(3), again.layer("up").weight_array(3))
    other = load_caffe(path, input_shapes={"data": (1, 3, 4, 4)}, seed=4)
    assert not np.array_equal(model.layer("up").weight_array(3), other.layer("up").weight_array(3))


NO_FILLER = """
input: "x"
input_dim: 1 input_dim: 3 input_dim: 4 input_dim: 4
layer { name: "upscore" type: "Deconvolution" bottom: "x" top: "upscore" param { lr_mult: 0 }
        convolution_param { num_output: 3 bias_term: false kernel_size: 4 stride: 2 } }
"""


def test_missing_weights_are_zeros_with_a_warning(tmp_path: Path) -> None:
    with pytest.warns(CaffeWarning, match=r"layer 'upscore' \(Deconvolution\): no weights and no weight_filler.*zeros"):
        model = load_caffe(_write(tmp_path, NO_FILLER))
    assert not np.any(ck.run(model)["upscore"])


def test_fill_missing_bilinear_is_fcns_diagonal_and_compact_is_exact(tmp_path: Path) -> None:
    path = _write(tmp_path, NO_FILLER)
    with pytest.warns(CaffeWarning):
        full = load_caffe(path, fill_missing="bilinear")
    w = full.layer("upscore").weight_array(3)
    assert w.shape == (3, 3, 4, 4)
    for i in range(3):
        for j in range(3):
            expected = _caffe_bilinear_filler(4) if i == j else np.zeros((4, 4))
            np.testing.assert_array_equal(w[i, j], expected.astype(np.float32))
    with (
        pytest.warns(CaffeWarning, match="group 3"),
        pytest.warns(CaffeWarning, match=r"no weights and no weight_filler; filled with bilinear kernels"),
    ):
        compact = load_caffe(path, fill_missing="bilinear", compact=True)
    layer = compact.layer("upscore")
    assert layer.group == 3 and layer.weight_array(3).shape == (3, 1, 4, 4)
    assert layer.weight == ck.Filler(type="bilinear") and layer.is_bilinear_frozen  # FCN surgery -> the recipe
    x = {"x": np.random.default_rng(0).standard_normal((1, 3, 4, 4)).astype(np.float32)}
    np.testing.assert_array_equal(ck.run(full, x)["upscore"], ck.run(compact, x)["upscore"])


@pytest.mark.parametrize("form", ["shape", "legacy", "double", "v1"])
def test_weights_from_caffemodel(tmp_path: Path, form: str) -> None:
    text = """
    layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 1 dim: 2 dim: 3 dim: 3 } } }
    layer { name: "up" type: "Deconvolution" bottom: "x" top: "up"
            convolution_param { num_output: 4 kernel_size: 3 stride: 2 group: 2 } }
    """
    rng = np.random.default_rng(1)
    w, b = rng.standard_normal((2, 2, 3, 3)), rng.standard_normal(4)
    weights = _write_caffemodel(
        tmp_path, {"up": [w, b]}, legacy=form in ("legacy", "v1"), double=form == "double", v1=form == "v1"
    )
    model = load_caffe(_write(tmp_path, text), weights=weights)
    layer = model.layer("up")
    np.testing.assert_array_equal(layer.weight_array(2), w.astype(np.float32))
    np.testing.assert_array_equal(layer.bias_array(), b.astype(np.float32))


def test_weight_shape_mismatch_names_the_layer(tmp_path: Path) -> None:
    text = """
    layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 1 dim: 2 dim: 3 dim: 3 } } }
    layer { name: "up" type: "Deconvolution" bottom: "x" top: "up"
            convolution_param { num_output: 4 kernel_size: 3 bias_term: false } }
    """
    weights = _write_caffemodel(tmp_path, {"up": [np.zeros((2, 4, 2, 2))]})
    with pytest.raises(
        FormatError, match=r"layer 'up' \(Deconvolution\): weights blob .* \[2, 4, 2, 2\].*\[2, 4, 3, 3\]"
    ):
        load_caffe(_write(tmp_path, text), weights=weights)
    weights = _write_caffemodel(tmp_path, {"up": [np.zeros((2, 4, 3, 3)), np.zeros(4)]})
    with pytest.raises(FormatError, match=r"layer 'up' .*2 blob\(s\), the layer needs 1"):
        load_caffe(_write(tmp_path, text), weights=weights)


def test_unsupported_layers_are_reported_by_type(tmp_path: Path) -> None:
    # fork layers convertkit does not read: the whole-net listing names each with its line (RCF's AutoCrop, once
    # listed here, now reads as the coordinate-map Crop: tests/test_coord_map.py)
    text = (
        "input: 'data' input_shape { dim: 1 dim: 1 dim: 4 dim: 4 }\n"
        "layer { name: 'a' type: 'ForkThing' bottom: 'data' top: 'a' }\n"
        "layer { name: 'b' type: 'ForkThing' bottom: 'a' top: 'b' }\n"
    )
    with pytest.raises(UnsupportedError, match=r"does not convert: ForkThing x2: a \(line 2\), b \(line 3\)"):
        load_caffe(_write(tmp_path, text))


def test_fcn8s_deploy_reads_whole(shared_caffe_dir: Path) -> None:
    # Convolution, Pooling, ReLU, Eltwise, Deconvolution and Crop: every layer of the real net is read.
    # no caffemodel: every blob-carrying layer says it is zeros
    with pytest.warns(CaffeWarning, match=r"no weights and no weight_filler, so Caffe's default applies: all zeros"):
        model = load_caffe(str(shared_caffe_dir / "fcn_voc-fcn8s_deploy.prototxt"))
    assert [str(model.types[o]) for o in model.outputs] == ["float32[1x21x500x500]"]
    kinds = {layer.kind for layer in model.layers}
    assert {"Convolution", "Pooling", "Activation", "Eltwise", "Deconvolution", "Crop"} <= kinds


@pytest.mark.parametrize(
    "name",
    [
        "fcn_voc-fcn8s_deploy",
        "fcn_voc-fcn32s_val",
        "fcn_voc-fcn-alexnet_val",
        "pspnet50_ADE20K_473",
        "pvanet_example_train_test",
    ],
)
def test_real_prototxts_parse(shared_caffe_dir: Path, name: str) -> None:
    net = parse_prototxt((shared_caffe_dir / f"{name}.prototxt").read_text(), name)
    deconvs = [layer for layer in net.layer if layer.type in ("Deconvolution", "Interp")]
    assert deconvs, name
    for layer in deconvs:
        if layer.type == "Deconvolution":
            assert layer.convolution_param.num_output > 0


def _cut_out(text: str, layer_name: str) -> str:
    """The ``layer { }`` block named ``layer_name``, verbatim."""
    start = text.index(f'name: "{layer_name}"')
    start = text.rindex("layer {", 0, start)
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if text[i] == "}" and depth == 0:
            return text[start : i + 1]
    raise AssertionError("unbalanced braces")


def test_pvanet_bilinear_frozen_upsample_converts_and_runs(shared_caffe_dir: Path, tmp_path: Path) -> None:
    text = (shared_caffe_dir / "pvanet_example_train_test.prototxt").read_text()
    block = _cut_out(text, "upsample")
    net = 'input: "conv5_4"\ninput_shape { dim: 1 dim: 384 dim: 20 dim: 33 }\n' + block
    model = load_caffe(_write(tmp_path, net))
    layer = model.layer("upsample")
    assert layer.is_bilinear_frozen and layer.group == 384
    assert model.types["upsample"].shape == (1, 384, 40, 66)
    report = ck.check(model)
    assert report.passed, report.format()
    x = np.random.default_rng(0).standard_normal((1, 384, 20, 33)).astype(np.float32)
    y = ck.run(model, {"conv5_4": x}, backend="onnxruntime")["upsample"]
    np.testing.assert_allclose(y, _zero_border_bilinear(x.astype(np.float64), 2), atol=1e-5)


FCN_CROP = """
name: "fcn-head"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 2 dim: 9 dim: 11 } } }
layer { name: "score" type: "Input" top: "score" input_param { shape { dim: 1 dim: 2 dim: 6 dim: 7 } } }
layer { name: "upscore" type: "Deconvolution" bottom: "score" top: "upscore" param { lr_mult: 0 }
        convolution_param { num_output: 2 bias_term: false kernel_size: 4 stride: 2 } }
layer { name: "crop" type: "Crop" bottom: "upscore" bottom: "data" top: "out"
        crop_param { axis: 2 offset: 3 offset: 1 } }
"""


def test_fcn_style_crop_against_a_reference_blob(tmp_path: Path) -> None:
    with pytest.warns(CaffeWarning):
        model = load_caffe(_write(tmp_path, FCN_CROP), fill_missing="bilinear")
    assert model.types["upscore"].shape == (1, 2, 14, 16)
    assert model.types["out"].shape == (1, 2, 9, 11)
    assert model.outputs == ("out",)
    rng = np.random.default_rng(0)
    feeds = {
        "data": rng.standard_normal((1, 2, 9, 11)).astype(np.float32),
        "score": rng.standard_normal((1, 2, 6, 7)).astype(np.float32),
    }
    head = ck.Model([model.layer("score"), model.layer("upscore")])
    full = ck.run(head, {"score": feeds["score"]})["upscore"]
    for backend in ("reference", "onnxruntime"):
        np.testing.assert_allclose(ck.run(model, feeds, backend=backend)["out"], full[:, :, 3:12, 1:12], atol=1e-6)


def test_random_fillers_differ_between_layers_and_follow_the_seed(tmp_path: Path) -> None:
    text = """
    layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 1 dim: 2 dim: 3 dim: 3 } } }
    layer { name: "a" type: "Deconvolution" bottom: "x" top: "a"
            convolution_param { num_output: 2 kernel_size: 2 weight_filler { type: "xavier" }
                                bias_filler { type: "gaussian" std: 0.5 } } }
    layer { name: "b" type: "Deconvolution" bottom: "x" top: "b"
            convolution_param { num_output: 2 kernel_size: 2 weight_filler { type: "xavier" } } }
    """
    path = _write(tmp_path, text)
    first, again, other = load_caffe(path), load_caffe(path), load_caffe(path, seed=1)
    wa, wb = first.layer("a").weight_array(2), first.layer("b").weight_array(2)
    assert not np.array_equal(wa, wb)
    np.testing.assert_array_equal(wa, again.layer("a").weight_array(2))
    assert not np.array_equal(wa, other.layer("a").weight_array(2))
    bound = np.sqrt(3.0 / (2 * 2 * 2))  # xavier: U(-a, a), a = sqrt(3 / fan_in), fan_in = count / shape[0]
    assert np.abs(wa).max() <= bound and np.abs(wa).max() > bound / 4
    assert first.layer("a").bias_array().std() > 0


def test_compact_keeps_diagonal_kernels_that_are_not_bilinear(tmp_path: Path) -> None:
    text = """
    layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 1 dim: 3 dim: 4 dim: 4 } } }
    layer { name: "up" type: "Deconvolution" bottom: "x" top: "up"
            convolution_param { num_output: 3 kernel_size: 3 stride: 2 bias_term: false } }
    """
    w = np.zeros((3, 3, 3, 3), np.float32)
    kernels = np.random.default_rng(2).standard_normal((3, 3, 3)).astype(np.float32)
    w[[0, 1, 2], [0, 1, 2]] = kernels
    path = _write(tmp_path, text)
    weights = _write_caffemodel(tmp_path, {"up": [w]})
    with pytest.warns(CaffeWarning, match="FCN surgery"):
        full = load_caffe(path, weights=weights)
    with pytest.warns(CaffeWarning, match="group 3"):
        compact = load_caffe(path, weights=weights, compact=True)
    np.testing.assert_array_equal(compact.layer("up").weight_array(3)[:, 0], kernels)
    x = {"x": np.random.default_rng(0).standard_normal((1, 3, 4, 4)).astype(np.float32)}
    np.testing.assert_allclose(ck.run(compact, x)["up"], ck.run(full, x)["up"], atol=1e-6)
    w[0, 1, 0, 0] = 1e-3  # one off-diagonal tap: not a per-channel layer any more
    weights = _write_caffemodel(tmp_path, {"up": [w]})
    assert load_caffe(path, weights=weights, compact=True).layer("up").group == 1


def test_input_shape_for_an_unknown_name_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, SEED_PROTOTXT)
    with pytest.raises(FormatError, match=r"--input-shape names dat, which is not a net input"):
        load_caffe(path, input_shapes={"dat": (1, 1, 2, 2)})
    # A shape given for a net input overrides the file's.
    assert load_caffe(path, input_shapes={"data": (2, 1, 3, 3)}).types["deconv"].shape == (2, 1, 7, 7)


def test_the_test_phase_is_read_whatever_the_files_state_says(tmp_path: Path) -> None:
    text = (
        SEED_PROTOTXT
        + """
    state { phase: TRAIN }
    layer { name: "train_only" type: "Deconvolution" bottom: "data" top: "t" include { phase: TRAIN }
            convolution_param { num_output: 1 kernel_size: 2 } }
    """
    )
    assert [layer.name for layer in load_caffe(_write(tmp_path, text)).layers] == ["data", "deconv"]
