"""Whole real networks (issue 8, part 1): train-only layers dropped, data layers as inputs, cuts with
``--inputs``/``--outputs``, one whole-net error with a suggested cut that converts, duplicate names, BVLC Crop."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import convertkit as ck
from convertkit.errors import FormatError, UnsupportedError

REPO = Path(__file__).resolve().parents[1]


def _with_fillers(src: Path, tmp_path: Path) -> str:
    """The net with an msra weight filler in every convolution_param (the files carry none; no caffemodel here),
    so the comparison below runs on non-zero values."""
    text = src.read_text()
    text = re.sub(
        r"convolution_param\s*\{(?![^{}]*weight_filler)", "convolution_param { weight_filler { type: 'msra' } ", text
    )
    out = tmp_path / src.name
    out.write_text(text)
    return str(out)


def _load(path: str, **options):
    notes: list[str] = []
    model = ck.load(path, warn=notes.append, **options)
    return model, notes


# FCN's conv1_1 pad 100 makes every input size work (and costs the same for all small ones): 16x16 keeps it fast.
# The other FCN val/test nets convert whole too: tests/test_real_nets.py runs each, with seeded weights, in
# OpenCV, the reference and onnxruntime at its own size and at another.
FCN = [
    pytest.param("fcn_voc-fcn32s_val.prototxt", (1, 3, 16, 16), {"score": (1, 21, 16, 16)}, id="fcn32s"),
]


@pytest.mark.parametrize(("name", "shape", "outputs"), FCN)
def test_fcn_val_and_test_nets_convert_whole(shared_caffe_dir, tmp_path, name, shape, outputs):
    model, notes = _load(_with_fillers(shared_caffe_dir / name, tmp_path), input_shapes={"data": shape})
    # the losses go with one note; `label` (read only by them) is no input; `score` is the output, as in deploy
    assert [n for n in notes if "dropped" in n] == [n for n in notes if "SoftmaxWithLoss" in n]
    assert len([n for n in notes if "dropped" in n]) == 1
    assert model.inputs == ("data",)
    assert {o: model.types[o].shape for o in model.outputs} == outputs
    report = ck.check(model)
    assert report.passed, report.format()
    outs = ck.run(model, backend="onnxruntime")  # fast; the check above compared it with the reference
    assert all(np.abs(v).max() > 0 for v in outs.values())


def test_fcn_data_layer_needs_a_shape(shared_caffe_dir):
    with pytest.raises(FormatError, match=r"layer 'data' \(Python\) at line 2.*--input-shape data=N,C,H,W"):
        _load(str(shared_caffe_dir / "fcn_voc-fcn32s_val.prototxt"))


def test_unknown_input_shape_lists_only_real_inputs(shared_caffe_dir):
    with pytest.raises(FormatError, match=r"names up, .*\(inputs here: data; an inner blob") as err:
        _load(str(shared_caffe_dir / "fcn_voc-fcn32s_val.prototxt"), input_shapes={"data": (1, 3, 64, 64), "up": (1,)})
    assert "label" not in str(err.value)


def test_hed_converts_whole_with_duplicate_names_and_fork_crop(shared_caffe_dir, tmp_path):
    model, notes = _load(
        _with_fillers(shared_caffe_dir / "hed_deploy.prototxt", tmp_path), input_shapes={"data": (1, 3, 64, 64)}
    )
    dup = [n for n in notes if "more than once" in n]
    assert len(dup) == 1 and "crop x5" in dup[0]
    crops = [n for n in notes if "no crop_param" in n]
    # detected as the HED fork's Crop: offsets from coordinate maps (tests/test_coord_map.py), with a warning
    assert len(crops) == 5 and "read as the FCN-era Caffe fork's Crop" in crops[0] and "[34, 34]" in crops[0]
    assert [layer.offset for layer in model.layers if layer.kind == "Crop"] == [(o, o) for o in (34, 35, 36, 38, 42)]
    names = [layer.name for layer in model.layers]
    assert len(names) == len(set(names))
    assert {"crop", "crop_2", "crop_3", "crop_4", "crop_5"} <= set(names)
    assert model.outputs == tuple(f"sigmoid-dsn{i}" for i in range(1, 6)) + ("sigmoid-fuse",)
    assert all(model.types[o].shape == (1, 1, 64, 64) for o in model.outputs)
    report = ck.check(model)
    assert report.passed, report.format()
    onnx_model = ck.to_onnx(model)
    node_names = [n.name for n in onnx_model.graph.node]
    assert len(node_names) == len(set(node_names))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # (PSPNet-50/101, SegNet and ENet convert whole since the fork BN and max-unpooling read)
        (
            "refinedet_vgg16_320x320_deploy.prototxt",
            [r"Permute x16: conv4_3_norm_mbox_loc_perm \(line 1167\)", r"PriorBox x4"],
        ),
        ("crfasrnn_TVG_CRFRNN_COCO_VOC.prototxt", [r"1 layer\(s\).*MultiStageMeanfield x1: inference1 \(line 131\)"]),
    ],
)
def test_one_whole_net_error_lists_types_names_and_lines(shared_caffe_dir, name, expected):
    options = {"input_shapes": {"data": (1, 3, 360, 480)}} if name.startswith("segnet") else {}
    with pytest.raises(UnsupportedError) as err:
        _load(str(shared_caffe_dir / name), **options)
    message = str(err.value)
    for pattern in expected:
        assert re.search(pattern, message), (pattern, message[:500])
    assert "--inputs" in message and "--outputs" in message


def _suggested(message: str) -> tuple[dict[str, tuple[int, ...] | None], list[str]]:
    m = re.search(r"converts with --inputs (.*?) --outputs (.*?)(?: \(give|$)", message)
    assert m, message
    inputs: dict[str, tuple[int, ...] | None] = {}
    for item in m.group(1).split():
        name, _, dims = item.partition("=")
        inputs[name] = tuple(int(d) for d in dims.split(",")) if dims else None
    return inputs, m.group(2).split()


@pytest.mark.parametrize(
    "name",
    [
        "crfasrnn_TVG_CRFRNN_COCO_VOC.prototxt",
        "crfasrnn_TVG_CRFRNN_new_deploy.prototxt",
        # cut inputs behind SSD's Normalize: their shapes follow (the layer keeps its shape)
        "refinedet_vgg16_320x320_deploy.prototxt",
        "pvanet_example_train_test.prototxt",
    ],
)
def test_the_suggested_cut_converts(shared_caffe_dir, name):
    path = str(shared_caffe_dir / name)
    with pytest.raises(UnsupportedError) as err:
        _load(path)
    inputs, outputs = _suggested(str(err.value))
    assert all(shape is None for shape in inputs.values())  # runnable as suggested: no shape to guess
    model, _ = _load(path, inputs=inputs, outputs=outputs)
    assert len(model.outputs) == len(outputs)  # `blob@layer` names come back as the IR's value names
    assert any(getattr(layer, "upsamples", False) for layer in model.layers)


def test_cut_prototxt_infers_an_inner_input_shape(shared_caffe_dir):
    path = str(shared_caffe_dir / "fcn_voc-fcn16s_val.prototxt")
    model, _ = _load(path, input_shapes={"data": (1, 3, 64, 64)}, inputs=["pool4"], outputs=["upscore2"])
    # pool4 of a 64x64 input after conv1_1's pad 100: 262 -> ... -> 17
    assert model.inputs == ("pool4",)
    assert model.types["pool4"].shape == (1, 512, 17, 17)
    assert model.outputs == ("upscore2",)
    assert not any(layer.name.startswith("conv1") for layer in model.layers)


def test_cut_ignores_unsupported_layers_outside(shared_caffe_dir):
    # PSPNet's pyramid head past conv5_4 converts with a given shape.
    path = str(shared_caffe_dir / "pspnet50_ADE20K_473.prototxt")
    model, _ = _load(path, inputs={"conv5_4": (1, 512, 60, 60)}, outputs=["conv6_interp"])
    assert model.types["conv6_interp"].shape == (1, 150, 473, 473)
    # without one, the shape follows from the data input
    inferred, _ = _load(path, inputs=["conv5_4"], outputs=["conv6_interp"])
    assert inferred.types[inferred.inputs[0]].shape == (1, 512, 60, 60)
    # SegNet's unpooling Upsample (MaxUnpool) upstream says its shape too: pool1_D follows from the data input
    segnet = str(shared_caffe_dir / "segnet_segnet_inference.prototxt")
    shapes = {"data": (1, 3, 360, 480)}
    part, _ = _load(segnet, inputs=["pool1_D"], outputs=["conv1_2_D@conv1_2_D"], input_shapes=shapes)
    assert part.types[part.inputs[0]].shape == (1, 64, 360, 480)
    with pytest.raises(FormatError, match=r"'nope' is not a blob"):
        _load(path, inputs=["nope"], outputs=["conv6_interp"])


def test_cut_onnx_api(shared_caffe_dir, tmp_path):
    model, _ = _load(str(shared_caffe_dir / "fcn_voc-fcn16s_val.prototxt"), input_shapes={"data": (1, 3, 64, 64)})
    path = str(tmp_path / "fcn16s.onnx")
    ck.save(model, path)
    part = ck.load(path, inputs=["pool4"], outputs=["score"])
    assert part.inputs == ("pool4",) and part.types["pool4"].shape == (1, 512, 17, 17)
    assert part.outputs == ("score",)
    given = ck.load(path, inputs={"pool5": (1, 512, 9, 9)}, outputs=["score_fr"])
    assert given.types["score_fr"].shape == (1, 21, 3, 3)
    with pytest.raises(FormatError, match=r"--outputs names 'nope'"):
        ck.load(path, outputs=["nope"])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "convertkit", *args], capture_output=True, text=True, cwd=REPO, timeout=300
    )


@pytest.mark.slow
def test_cli_cut_prototxt_and_onnx(shared_caffe_dir, tmp_path):
    src = str(shared_caffe_dir / "fcn_voc-fcn16s_val.prototxt")
    out = str(tmp_path / "part.onnx")
    r = _cli("convert", src, "--input-shape", "data=1,3,64,64", "--inputs", "pool4", "--outputs", "upscore2", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "outputs: upscore2" in r.stdout and "dropped 1 layer(s)" in r.stderr
    r = _cli("check", out, "--inputs", "pool4=1,512,17,17", "--outputs", "upscore2")
    assert r.returncode == 0, r.stdout + r.stderr
    r = _cli("run", out, "--inputs", "pool4", "--outputs", "upscore2")
    # pool4 17x17 -> pool5 9 -> fc6 (k7) 3 -> upscore2 (k4 s2): (3 - 1) * 2 + 4 = 8
    assert r.returncode == 0 and "upscore2: 1x21x8x8" in r.stdout, r.stdout + r.stderr


@pytest.mark.slow
def test_cli_validate_takes_the_convert_options(shared_caffe_dir):
    src = str(shared_caffe_dir / "fcn_voc-fcn32s_val.prototxt")
    r = _cli("validate", src)
    assert r.returncode != 0 and "--input-shape data=N,C,H,W" in r.stderr
    r = _cli("validate", src, "--input-shape", "data=1,3,64,64")
    assert r.returncode == 0 and "valid" in r.stdout, r.stderr
    r = _cli("validate", src, "--input-shape", "data=1,3,64,64", "--inputs", "pool5", "--outputs", "score_fr")
    assert r.returncode == 0 and "score_fr" in r.stdout, r.stderr


def _net(tmp_path, text: str) -> str:
    path = tmp_path / "net.prototxt"
    path.write_text(text)
    return str(path)


def test_train_only_layers_go_and_their_blobs_become_outputs(tmp_path):
    text = """
    layer { name: "data" type: "DenseImageData" top: "data" top: "label" }
    layer { name: "up" type: "Deconvolution" bottom: "data" top: "up"
            convolution_param { num_output: 2 kernel_size: 2 stride: 2 weight_filler { type: "msra" } } }
    layer { name: "relu" type: "ReLU" bottom: "up" top: "up" }
    layer { name: "loss" type: "SigmoidCrossEntropyLoss" bottom: "up" bottom: "label" top: "loss" }
    layer { name: "acc" type: "Accuracy" bottom: "up" bottom: "label" top: "acc" }
    layer { name: "e" type: "EuclideanLoss" bottom: "up" bottom: "label" top: "e" }
    """
    with pytest.raises(FormatError, match=r"layer 'data' \(DenseImageData\) at line 2.*top 'data'.*data=N,C,H,W"):
        _load(_net(tmp_path, text))
    model, notes = _load(_net(tmp_path, text), input_shapes={"data": (1, 1, 3, 3)})
    assert notes == [
        f"{tmp_path / 'net.prototxt'}: dropped 3 layer(s) that only train or score a net, for inference: "
        "loss (SigmoidCrossEntropyLoss), acc (Accuracy), e (EuclideanLoss)"
    ]
    assert model.inputs == ("data",)
    assert model.outputs == ("up@relu",)  # the in-place ReLU's value of `up`, which only the losses read
    assert model.types["up@relu"].shape == (1, 2, 6, 6)
    # `up` names the blob's last value; `up@up` the value the Deconvolution writes
    assert _load(_net(tmp_path, text), input_shapes={"data": (1, 1, 3, 3)}, outputs=["up@up"])[0].outputs == ("up",)


def test_a_python_layer_with_bottoms_is_no_data_layer(tmp_path):
    text = """
    input: "x" input_shape { dim: 1 dim: 1 dim: 2 dim: 2 }
    layer { name: "py" type: "Python" bottom: "x" top: "y" }
    layer { name: "fork" type: "ForkOp" bottom: "y" top: "z" }
    """
    with pytest.raises(UnsupportedError, match=r"2 layer\(s\).*ForkOp x1: fork \(line 4\); Python x1: py \(line 3\)"):
        _load(_net(tmp_path, text))


def test_v1_fork_enums_are_all_reported(tmp_path):
    text = """
    input: "x" input_dim: 1 input_dim: 1 input_dim: 4 input_dim: 4
    layers { name: "a" type: FORK_ONE bottom: "x" top: "a" }
    layers { name: "b" type: RELU bottom: "a" top: "b" }
    layers { type: OTHER_FORK name: "c" bottom: "b" top: "c" }
    """
    with pytest.raises(UnsupportedError, match=r"ForkOne x1: a \(line 3\); OtherFork x1: c \(line 5\)"):
        _load(_net(tmp_path, text))
    # the supported middle converts as the error's cut would say, here given by hand
    model, _ = _load(_net(tmp_path, text), inputs={"a": (1, 1, 4, 4)}, outputs=["b"])
    assert [layer.name for layer in model.layers] == ["a", "b"]
