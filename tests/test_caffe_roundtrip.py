"""prototxt -> IR -> prototxt keeps the user's fields: per-blob training (``param { }``) and the fork's ``Interp``.

One table of synthetic layers, then every Deconvolution / Interp of the real prototxts in ../shared/data/caffe,
each cut out with its input: the layer written back must parse to the same ``LayerParameter`` as the user's.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from google.protobuf.json_format import MessageToDict

import convertkit as ck
from convertkit.codec.caffe import array_to_blob, parse_prototxt, pb, read_caffemodel
from convertkit.errors import ValidationError
from convertkit.fillers import bilinear_kernel
from convertkit.formats.caffe import CaffeWarning, load_caffe, to_caffe
from convertkit.formats.spec import json_schema, model_from_spec, model_to_spec

INPUT = 'layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 1 dim: 2 dim: 5 dim: 4 } } }\n'
CONV = "convolution_param { num_output: 2 kernel_size: 4 stride: 2 pad: 1 %s weight_filler { type: 'xavier' } }"


def _deconv(params: str, bias_term: bool = True) -> str:
    conv = CONV % ("" if bias_term else "bias_term: false")
    return f'layer {{ name: "up" type: "Deconvolution" bottom: "x" top: "up" {params} {conv} }}'


def _interp(param: str, bottom_shape: tuple[int, ...] = (1, 2, 5, 4)) -> str:
    dims = " ".join(f"dim: {d}" for d in bottom_shape)
    return (
        f'layer {{ name: "x" type: "Input" top: "x" input_param {{ shape {{ {dims} }} }} }}\n'
        f'layer {{ name: "up" type: "Interp" bottom: "x" top: "up" interp_param {{ {param} }} }}'
    )


def _layer_dicts(text: str) -> dict[str, dict]:
    return {layer.name: MessageToDict(layer) for layer in parse_prototxt(text).layer}


def _round_trip(text: str, tmp_path: Path, **load: object) -> tuple[ck.Model, str]:
    src = tmp_path / "user.prototxt"
    src.write_text(text)
    model = load_caffe(str(src), **load)  # type: ignore[arg-type]
    return model, to_caffe(model).prototxt()


# id, layer text, expected (frozen, training)
CASES = [
    ("none", _deconv(""), False, ()),
    (
        "fcn-pvanet-conv",
        _deconv("param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }"),
        False,
        (ck.BlobTraining(lr_mult=1.0, decay_mult=1.0), ck.BlobTraining(lr_mult=2.0, decay_mult=0.0)),
    ),
    ("fcn-upscore", _deconv("param { lr_mult: 0 }", bias_term=False), True, (ck.BlobTraining(lr_mult=0.0),)),
    ("pvanet-upsample", _deconv("param { lr_mult: 0 decay_mult: 0 }", bias_term=False), True, ()),
    (
        "weights-frozen-bias-trained",
        _deconv("param { lr_mult: 0 decay_mult: 0 }"),
        False,
        (ck.BlobTraining(lr_mult=0.0, decay_mult=0.0),),
    ),
    (
        "both-frozen-with-bias",
        _deconv("param { lr_mult: 0 decay_mult: 0 } param { lr_mult: 0 decay_mult: 0 }"),
        True,
        (),
    ),
    (
        "shared-names-and-fractions",
        _deconv('param { name: "w_shared" lr_mult: 0.1 } param { name: "b_shared" decay_mult: 0.5 }'),
        False,
        (ck.BlobTraining(lr_mult=0.1, name="w_shared"), ck.BlobTraining(decay_mult=0.5, name="b_shared")),
    ),
]


@pytest.mark.parametrize("layer_text, frozen, training", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_training_params_round_trip(tmp_path: Path, layer_text: str, frozen: bool, training: tuple) -> None:
    text = INPUT + layer_text
    model, again = _round_trip(text, tmp_path)
    layer = model.layer("up")
    assert (layer.frozen, layer.training) == (frozen, training)
    assert _layer_dicts(again) == _layer_dicts(text)
    # Through the spec (JSON) too: the schema takes the fields and the prototxt comes out the same.
    spec = json.loads(json.dumps(model_to_spec(model)))
    jsonschema.validate(spec, json_schema())
    from_spec = model_from_spec(spec)
    assert from_spec.layer("up") == layer
    assert _layer_dicts(to_caffe(from_spec).prototxt()) == _layer_dicts(text)


def test_frozen_and_training_agree() -> None:
    base = dict(name="up", input="x", out_channels=2, kernel_shape=(2, 2), weight=ck.Filler(type="bilinear"))
    # frozen alone is written as lr_mult 0 decay_mult 0 per blob: the same layer as training saying exactly that.
    assert ck.Deconvolution(**base, frozen=True) == ck.Deconvolution(
        **base, training=(ck.BlobTraining(lr_mult=0, decay_mult=0),) * 2
    )
    assert ck.Deconvolution(**base, training=(ck.BlobTraining(lr_mult=0),) * 2).frozen
    # A blob without an entry trains with lr_mult 1.
    assert not ck.Deconvolution(**base, training=(ck.BlobTraining(lr_mult=0),)).frozen
    with pytest.raises(ValidationError, match=r"layer 'up' \(Deconvolution\): frozen means no blob is trained.*bias"):
        ck.Deconvolution(**base, frozen=True, training=(ck.BlobTraining(lr_mult=0),))
    with pytest.raises(ValidationError, match=r"frozen means no blob is trained.*weights"):
        ck.Deconvolution(**base, frozen=True, training=(ck.BlobTraining(lr_mult=1), ck.BlobTraining(lr_mult=0)))
    with pytest.raises(ValidationError, match=r"training lists 2 blobs, the layer has 1 \(weights\)"):
        ck.Deconvolution(**base, bias_term=False, training=(ck.BlobTraining(),) * 2)
    with pytest.raises(ValidationError, match=r"weights blob: lr_mult must be a finite number"):
        ck.Deconvolution(**base, training=(ck.BlobTraining(lr_mult=float("nan")),))
    with pytest.raises(ValidationError, match=r"name \(for weight sharing\) must be a non-empty string"):
        ck.Deconvolution(**base, training=(ck.BlobTraining(name=""),))


def test_recipe_deconvolutions_stay_frozen() -> None:
    up = ck.Upsample(name="up", input="x", mode="linear", scales=(2, 2), semantics="deconvolution")
    deconv = up.as_deconvolution(3, (4, 5))
    assert deconv.frozen and deconv.training == () and deconv.is_bilinear_frozen
    for kw in (dict(semantics="deconvolution"), dict(coordinate_transformation_mode="half_pixel")):
        model = ck.Model(
            [
                ck.Input(name="x", shape=(1, 3, 4, 5)),
                ck.Upsample(name="up", input="x", mode="linear", scales=(2, 2), **kw),
            ]
        )  # type: ignore[arg-type]
        written = [layer for layer in to_caffe(model).net.layer if layer.type == "Deconvolution"]
        assert [[(p.lr_mult, p.decay_mult) for p in layer.param] for layer in written] == [[(0, 0)]]


def test_too_many_params_are_dropped_with_a_warning(tmp_path: Path) -> None:
    text = INPUT + _deconv("param { lr_mult: 0 } param { lr_mult: 0 }", bias_term=False)
    with pytest.warns(CaffeWarning, match=r"2 param \{ \} entries for 1 blob\(s\).*dropped"):
        model, again = _round_trip(text, tmp_path)
    assert model.layer("up").training == (ck.BlobTraining(lr_mult=0.0),)
    assert [MessageToDict(p) for p in parse_prototxt(again).layer[1].param] == [{"lrMult": 0.0}]


# id, interp_param, bottom shape, expected sizes
INTERP_CASES = [
    ("zoom", "zoom_factor: 8", (1, 2, 5, 4), (33, 25)),
    ("shrink", "shrink_factor: 2", (1, 2, 9, 6), (5, 3)),
    ("shrink-then-zoom", "shrink_factor: 2 zoom_factor: 3", (1, 2, 9, 6), (13, 7)),
    ("size-stock-fits", "height: 9 width: 7", (1, 2, 5, 4), (9, 7)),
    ("size", "height: 11 width: 6", (1, 2, 5, 4), (11, 6)),
    ("size-from-1x1", "height: 6 width: 6", (1, 2, 1, 1), (6, 6)),
]


@pytest.mark.parametrize("dialect", ["bvlc", "pspnet"])
@pytest.mark.parametrize("param, shape, sizes", [c[1:] for c in INTERP_CASES], ids=[c[0] for c in INTERP_CASES])
def test_interp_round_trips_as_interp(tmp_path: Path, param: str, shape: tuple, sizes: tuple, dialect: str) -> None:
    text = _interp(param, shape)
    src = tmp_path / "psp.prototxt"
    src.write_text(text)
    model = load_caffe(str(src))
    up = model.layer("up")
    assert (up.mode, up.coordinate_transformation_mode, up.sizes) == ("linear", "align_corners", sizes)
    again = to_caffe(model, dialect=dialect).prototxt()  # type: ignore[arg-type]
    assert _layer_dicts(again) == _layer_dicts(text)
    spec = json.loads(json.dumps(model_to_spec(model)))
    jsonschema.validate(spec, json_schema())
    assert model_from_spec(spec).layer("up") == up
    # The ONNX export does not see where the layer came from.
    plain = ck.Model([model.layers[0], dataclasses.replace(up, caffe_interp=None)])
    assert ck.to_onnx(model).graph == ck.to_onnx(plain).graph


def test_interp_factor_wins_over_height_width(tmp_path: Path) -> None:
    # The fork's Interp::Reshape checks shrink/zoom before height/width.
    text = _interp("zoom_factor: 2 height: 100 width: 100")
    src = tmp_path / "psp.prototxt"
    src.write_text(text)
    with pytest.warns(CaffeWarning, match="height/width are ignored"):
        model = load_caffe(str(src))
    assert model.layer("up").sizes == (9, 7)
    assert MessageToDict(to_caffe(model).net.layer[1].interp_param) == {"zoomFactor": 2}


def test_interp_factors_that_no_longer_fit_fall_back_to_height_width() -> None:
    # A spec edited to another input size: zoom 8 gives 33 x 25 for 5 x 4 only.
    up = ck.Upsample(
        name="up",
        input="x",
        mode="linear",
        sizes=(33, 25),
        coordinate_transformation_mode="align_corners",
        caffe_interp=ck.InterpForm(zoom_factor=8),
    )
    model = ck.Model([ck.Input(name="x", shape=(1, 2, 6, 4)), up])
    with pytest.warns(CaffeWarning, match=r"height/width \[33, 25\]: its factors \{'zoom_factor': 8\} give \[41, 25\]"):
        written = to_caffe(model).net.layer[1]
    assert written.type == "Interp"
    assert MessageToDict(written.interp_param) == {"height": 33, "width": 25}


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(mode="nearest"), "mode nearest"),
        (dict(coordinate_transformation_mode="half_pixel"), "coordinate_transformation_mode half_pixel"),
        (dict(sizes=None, scales=(2.0, 2.0)), "scales"),
        (dict(sizes=(4, 4, 4)), "3 spatial axes"),
    ],
    ids=["nearest", "half_pixel", "scales", "3d"],
)
def test_caffe_interp_needs_what_interp_computes(kw: dict, match: str) -> None:
    fields = dict(
        name="up",
        input="x",
        mode="linear",
        sizes=(9, 7),
        coordinate_transformation_mode="align_corners",
        caffe_interp=ck.InterpForm(),
    )
    fields.update(kw)
    with pytest.raises(
        ValidationError, match=rf"caffe_interp records a Caffe Interp layer .*{match}.*drop caffe_interp"
    ):
        ck.Upsample(**fields)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"zoom_factor must be an integer >= 1"):
        ck.InterpForm(zoom_factor=0).check("layer 'up' (Upsample)")


# Every Deconvolution / Interp of the real prototxts, with the shape of its input (channels from the nets).
REAL_LAYERS = [
    ("fcn_voc-fcn-alexnet_val", "upscore", (1, 21, 7, 7)),
    ("fcn_voc-fcn32s_val", "upscore", (1, 21, 7, 7)),
    ("fcn_voc-fcn8s_deploy", "upscore2", (1, 21, 7, 7)),
    ("fcn_voc-fcn8s_deploy", "upscore_pool4", (1, 21, 16, 16)),
    ("fcn_voc-fcn8s_deploy", "upscore8", (1, 21, 34, 34)),
    ("pspnet50_ADE20K_473", "conv5_3_pool1_interp", (1, 512, 1, 1)),
    ("pspnet50_ADE20K_473", "conv5_3_pool2_interp", (1, 512, 2, 2)),
    ("pspnet50_ADE20K_473", "conv5_3_pool3_interp", (1, 512, 3, 3)),
    ("pspnet50_ADE20K_473", "conv5_3_pool6_interp", (1, 512, 6, 6)),
    ("pspnet50_ADE20K_473", "conv6_interp", (1, 150, 60, 60)),
    ("pvanet_example_train_test", "upsample", (1, 384, 20, 33)),
]


def _cut_out(shared_caffe_dir: Path, net_name: str, layer_name: str, shape: tuple) -> tuple[str, object]:
    net = parse_prototxt((shared_caffe_dir / f"{net_name}.prototxt").read_text(), net_name)
    (layer,) = [lp for lp in net.layer if lp.name == layer_name]
    cut = pb.NetParameter()
    cut.input.append(layer.bottom[0])
    cut.input_shape.add().dim.extend(shape)
    cut.layer.add().CopyFrom(layer)
    return str(cut), layer


def _fcn_surgery_caffemodel(tmp_path: Path, layer: object, channels: int) -> str:
    """FCN's surgery.interp: Caffe's bilinear kernel on the channel diagonal of a full deconvolution."""
    k = layer.convolution_param.kernel_size[0]  # type: ignore[attr-defined]
    w = np.zeros((channels, channels, k, k), dtype=np.float32)
    w[np.arange(channels), np.arange(channels)] = bilinear_kernel((k, k))
    weights = pb.NetParameter()
    entry = weights.layer.add()
    entry.name = layer.name  # type: ignore[attr-defined]
    entry.blobs.append(array_to_blob(w))
    path = tmp_path / "net.caffemodel"
    path.write_bytes(weights.SerializeToString())
    return str(path)


@pytest.mark.parametrize(
    "net_name, layer_name, shape", REAL_LAYERS, ids=[f"{net}:{layer}" for net, layer, _ in REAL_LAYERS]
)
def test_real_layers_round_trip(
    shared_caffe_dir: Path, tmp_path: Path, net_name: str, layer_name: str, shape: tuple
) -> None:
    text, layer = _cut_out(shared_caffe_dir, net_name, layer_name, shape)
    user = MessageToDict(layer)  # type: ignore[arg-type]
    if net_name.startswith("fcn"):
        # FCN's upscore layers have neither weight_filler nor (here) weights: Caffe's default filler, constant 0,
        # comes back written out; with the net's weights (surgery bilinear), the layer comes back as written.
        with pytest.warns(CaffeWarning, match="all zeros"):
            _, again = _round_trip(text, tmp_path)
        written = _layer_dicts(again)[layer_name]
        assert written["convolutionParam"].pop("weightFiller") == {"type": "constant"}
        assert written == user
        weights = _fcn_surgery_caffemodel(tmp_path, layer, shape[1])
        with pytest.warns(CaffeWarning, match="FCN surgery"):
            model, again = _round_trip(text, tmp_path, weights=weights)
        assert model.layer(layer_name).frozen
        (blob,) = to_caffe(model).weights.layer[0].blobs
        assert blob == read_caffemodel(weights).layer[0].blobs[0]
    else:
        model, again = _round_trip(text, tmp_path)
    assert _layer_dicts(again)[layer_name] == user


@pytest.mark.parametrize("value", [1e40, -3.5e38])
def test_training_values_must_fit_float32(value: float) -> None:
    # Caffe stores lr_mult/decay_mult as float32: 1e40 would be written as `lr_mult: inf`, which no reader takes.
    with pytest.raises(ck.errors.ValidationError, match="does not fit float32"):
        ck.BlobTraining(lr_mult=value)
    with pytest.raises(ck.errors.ValidationError, match="decay_mult .* does not fit float32"):
        ck.BlobTraining(decay_mult=value)


def test_training_spec_value_overflowing_float32_is_refused_naming_the_layer(tmp_path: Path) -> None:
    spec = {
        "layers": [
            {"type": "Input", "name": "x", "shape": [1, 1, 2, 2]},
            {
                "type": "Deconvolution",
                "name": "d",
                "input": "x",
                "out_channels": 1,
                "kernel_shape": [2, 2],
                "weight": {"filler": "gaussian"},
                "training": [{"lr_mult": 1e40}],
            },
        ]
    }
    with pytest.raises(ck.errors.ValidationError, match=r"layers\[1\].*lr_mult 1e\+40 does not fit float32"):
        ck.formats.spec.model_from_spec(spec)


def test_training_values_are_rounded_to_float32_in_caffe(tmp_path: Path) -> None:
    # Documented rounding: the prototxt holds float32, so 0.123456789 comes back as 0.12345679.
    model = ck.Model(
        [
            ck.Input(name="x", shape=(1, 1, 2, 2)),
            ck.Deconvolution(
                name="d",
                input="x",
                out_channels=1,
                kernel_shape=(2, 2),
                bias_term=False,
                weight=ck.Filler(type="constant", value=1.0),
                training=(ck.BlobTraining(lr_mult=0.123456789, decay_mult=3.4028235e38),),
            ),
        ]
    )
    path = tmp_path / "t.prototxt"
    ck.formats.caffe.save_caffe(model, str(path), with_weights=False)
    (layer,) = [la for la in load_caffe(str(path)).layers if la.name == "d"]
    assert layer.training == (ck.BlobTraining(lr_mult=0.12345679, decay_mult=3.4028235e38),)


def _glue_model(outputs: list[str]) -> ck.Model:
    from convertkit.layers import Concat, Crop, Slice

    return ck.Model(
        [
            ck.Input(name="x", shape=(1, 4, 5, 5)),
            Slice(name="s", input="x", output_names=("a", "b", "c"), axis=1, slice_points=(1, 3)),
            ck.Deconvolution(
                name="up",
                input="b",
                out_channels=2,
                kernel_shape=(4, 4),
                strides=(2, 2),
                padding=ck.Padding(pads=(1, 1, 1, 1)),
                group=2,
                bias_term=False,
                weight=ck.Filler(type="bilinear"),
                frozen=True,
            ),
            Crop(name="cr", input="up", shape_like="x", offset=(1, 2)),
            Concat(name="cat", input_names=("a", "cr", "c"), axis=1),
        ],
        outputs,
    )


@pytest.mark.parametrize(
    "outputs", [["cat", "a", "c"], ["a", "cat"], ["c", "cat", "b"], ["cat", "x"], ["x", "up"]], ids="-".join
)
def test_declared_outputs_survive_a_prototxt_round_trip(tmp_path: Path, outputs: list[str]) -> None:
    # Outputs another layer reads, net inputs and non-first tops are written with a Split copy `X.out`, which the
    # reader takes for output X (it lost them: a Split top was only an alias).
    model = _glue_model(outputs)
    path = tmp_path / "g.prototxt"
    exported = ck.formats.caffe.save_caffe(model, str(path))
    assert list(exported.output_layers) == outputs
    back = load_caffe(str(path), weights=str(tmp_path / "g.caffemodel"))
    assert list(back.outputs) == outputs
    feeds = {"x": np.random.default_rng(1).standard_normal((1, 4, 5, 5)).astype(np.float32)}
    want, got = ck.run(model, feeds), ck.run(back, feeds)
    for name in outputs:
        np.testing.assert_array_equal(got[name], want[name])


def test_graph_input_that_is_an_output_survives_a_round_trip(tmp_path: Path) -> None:
    model = ck.Model([ck.Input(name="x", shape=(1, 2, 3, 3))])
    assert model.outputs == ("x",)
    path = tmp_path / "i.prototxt"
    ck.formats.caffe.save_caffe(model, str(path))
    assert load_caffe(str(path)).outputs == ("x",)


def test_a_users_unread_split_top_is_a_net_output_under_its_name(tmp_path: Path) -> None:
    from convertkit.layers import Concat

    text = """
    input: "x" input_shape { dim: 1 dim: 2 dim: 3 dim: 3 }
    layer { name: "sp" type: "Split" bottom: "x" top: "x1" top: "x2" }
    layer { name: "d" type: "Deconvolution" bottom: "x2" top: "d"
            convolution_param { num_output: 2 kernel_size: 2 stride: 2 weight_filler { type: "gaussian" } } }
    """
    path = tmp_path / "s.prototxt"
    path.write_text(text)
    model = load_caffe(str(path))
    assert model.outputs == ("x1", "d")
    (copy,) = [layer for layer in model.layers if isinstance(layer, Concat)]
    assert (copy.name, copy.input_names, copy.output) == ("sp", ("x",), "x1")
    again = tmp_path / "again.prototxt"
    ck.formats.caffe.save_caffe(model, str(again))
    written = parse_prototxt(again.read_text())
    assert [(la.name, la.type, list(la.bottom), list(la.top)) for la in written.layer if la.name == "sp"] == [
        ("sp", "Split", ["x"], ["x1"])
    ]
    assert load_caffe(str(again), weights=str(tmp_path / "again.caffemodel")).outputs == ("x1", "d")
