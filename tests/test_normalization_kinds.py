"""BatchNorm, Scale, Bias (Caffe) and LRN: hand-computed values, the reference against onnxruntime and OpenCV's
Caffe reader (which runs Caffe's semantics) on seeded sweeps, round trips, the BatchNorm + Scale <-> one ONNX
BatchNormalization forms, snippets in the style of the real nets, and the refusals.

The OpenCV checks write the prototxt and caffemodel by hand (``_caffe``), in the real nets' style (in-place tops,
``param { lr_mult: 0 }``), and run ``cv2.dnn.readNetFromCaffe`` directly, so the oracle is not convertkit's writer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import convertkit as ck
from convertkit.codec.caffe import array_to_blob, pb
from convertkit.formats.caffe import caffemodel_path, load_caffe, save_caffe, to_caffe
from convertkit.formats.onnx_import import from_onnx
from convertkit.runtime import run_onnx

cv2 = pytest.importorskip("cv2")

RNG_SEED = 20261202


def _caffe(tmp_path: Path, text: str, blobs: dict[str, list[np.ndarray]]) -> tuple[str, str]:
    """Write ``text`` as a prototxt and ``blobs`` (layer -> arrays) as its caffemodel."""
    proto, model = tmp_path / "net.prototxt", tmp_path / "net.caffemodel"
    proto.write_text(text)
    net = pb.NetParameter()
    for name, arrays in blobs.items():
        layer = net.layer.add()
        layer.name = name
        for a in arrays:
            layer.blobs.append(array_to_blob(np.asarray(a, np.float32)))
    model.write_bytes(net.SerializeToString())
    return str(proto), str(model)


def _opencv(prototxt: str, caffemodel: str, feeds: dict[str, np.ndarray], output: str) -> np.ndarray:
    net = cv2.dnn.readNetFromCaffe(prototxt, caffemodel)
    for name, value in feeds.items():
        net.setInput(value, name)
    return np.asarray(net.forward(output))


def _input(name: str, shape: tuple[int, ...]) -> str:
    return f'input: "{name}"\ninput_shape {{ {" ".join(f"dim: {d}" for d in shape)} }}\n'


def _three_ways(prototxt: str, caffemodel: str, feeds: dict[str, np.ndarray], layer: str, atol: float = 2e-5):
    """The reference of the read model against OpenCV's Caffe (the output of ``layer``) and onnxruntime on the
    ONNX export; the model's one output is ``layer``'s top (in place: under a fresh value name)."""
    model = load_caffe(prototxt, weights=caffemodel)
    (output,) = model.outputs
    want = ck.run(model, feeds)[output]
    np.testing.assert_allclose(_opencv(prototxt, caffemodel, feeds, layer), want, atol=atol, rtol=1e-4)
    np.testing.assert_allclose(run_onnx(ck.to_onnx(model), feeds)[output], want, atol=atol, rtol=1e-4)
    return model, want


# -- hand-computed values -------------------------------------------------------------------------------------------


def test_batch_norm_by_hand_with_caffe_factor_and_its_zero():
    x = np.array([1.0, 5.0, -3.0, 9.0], np.float32).reshape(1, 2, 2, 1)  # channel 0: 1, 5; channel 1: -3, 9
    mean = ck.Values(array=np.array([2.0, 6.0], np.float32))  # stored sums; divided by the factor 2: 1, 3
    variance = ck.Values(array=np.array([6.0, 16.0], np.float32))  # / 2: 3, 8 -> + eps 1: 4, 9 -> roots 2, 3
    bn = ck.BatchNorm(name="bn", input="x", mean=mean, variance=variance, scale_factor=2.0, eps=1.0)
    got = ck.run(ck.Model([ck.Input(name="x", shape=x.shape), bn]), {"x": x})["bn"]
    np.testing.assert_array_equal(got.reshape(-1), [0.0, 2.0, -2.0, 2.0])
    # factor 0: Caffe uses 0, not 1 / 0 -> mean 0, variance 0, y = x / sqrt(eps)
    zero = ck.BatchNorm(name="bn", input="x", mean=mean, variance=variance, scale_factor=0.0, eps=4.0)
    got = ck.run(ck.Model([ck.Input(name="x", shape=x.shape), zero]), {"x": x})["bn"]
    np.testing.assert_array_equal(got.reshape(-1), x.reshape(-1) / 2)


def test_scale_by_hand_axis_num_axes_and_bias():
    x = np.arange(12, dtype=np.float32).reshape(1, 2, 2, 3)
    s = ck.Scale(
        name="s",
        input_names=("x",),
        axis=-1,
        num_axes=1,
        scale=ck.Values(array=np.array([1.0, 10.0, 100.0], np.float32)),
        bias=ck.Values(array=np.array([0.5, 0.0, -1.0], np.float32)),
    )
    got = ck.run(ck.Model([ck.Input(name="x", shape=x.shape), s]), {"x": x})["s"]
    np.testing.assert_array_equal(got[0, 1, 1], [9 * 1 + 0.5, 10 * 10, 11 * 100 - 1])


def test_lrn_by_hand_across_and_within_give_the_same_numbers_here():
    # across: x = (1, 2, 3) on channels, size 3, alpha 3: sums 5, 14, 13 -> 1 + 1 * sum -> y = 1/6, 2/15, 3/14
    across = ck.LRN(name="n", input="x", size=3, alpha=3.0, beta=1.0)
    x = np.array([1, 2, 3], np.float32).reshape(1, 3, 1, 1)
    got = ck.run(ck.Model([ck.Input(name="x", shape=x.shape), across]), {"x": x})["n"]
    np.testing.assert_allclose(got.reshape(-1), [1 / 6, 2 / 15, 3 / 14], rtol=1e-6)
    # within: x = (1, 2, 3) along W, 3x3 windows padded by 1, divisor 9 everywhere (borders too), alpha 9: the
    # same sums 5, 14, 13 -> the same values; k (bias) is not used within the channel.
    within = ck.LRN(name="n", input="x", size=3, alpha=9.0, beta=1.0, bias=7.0, norm_region="within_channel")
    x = x.reshape(1, 1, 1, 3)
    got = ck.run(ck.Model([ck.Input(name="x", shape=x.shape), within]), {"x": x})["n"]
    np.testing.assert_allclose(got.reshape(-1), [1 / 6, 2 / 15, 3 / 14], rtol=1e-6)


# -- OpenCV's Caffe and onnxruntime against the reference, seeded sweeps --------------------------------------------

LRN_SWEEP = [
    (region, size, shape)
    for region, sizes in (("ACROSS_CHANNELS", (1, 3, 5, 7)), ("WITHIN_CHANNEL", (1, 3, 5)))
    for size in sizes
    for shape in ((1, 3, 4, 5), (2, 8, 2, 3), (1, 6, 7, 1))
]


@pytest.mark.parametrize(("region", "size", "shape"), LRN_SWEEP, ids=lambda v: str(v))
def test_lrn_reference_opencv_onnxruntime(tmp_path: Path, region: str, size: int, shape: tuple[int, ...]):
    rng = np.random.default_rng([RNG_SEED, size, *shape])
    alpha, beta = float(np.float32(rng.uniform(0.1, 2.0))), float(np.float32(rng.uniform(0.5, 1.0)))
    text = _input("data", shape) + (
        f'layer {{ name: "norm" type: "LRN" bottom: "data" top: "norm"\n'
        f"  lrn_param {{ local_size: {size} alpha: {alpha} beta: {beta} norm_region: {region} }} }}\n"
    )
    proto, weights = _caffe(tmp_path, text, {})
    x = rng.standard_normal(shape).astype(np.float32) * 2
    model, _ = _three_ways(proto, weights, {"data": x}, "norm")
    (layer,) = [la for la in model.layers if la.kind == "LRN"]
    assert layer.norm_region == region.lower() and layer.size == size


@pytest.mark.parametrize("factor", [0.0, 1.0, 999.982, 0.25])
def test_batch_norm_in_place_then_scale_reference_opencv_onnxruntime(tmp_path: Path, factor: float):
    rng = np.random.default_rng([RNG_SEED, int(factor * 1000)])
    c = 4
    text = (
        _input("data", (2, c, 3, 5))
        + 'layer { name: "conv/bn" type: "BatchNorm" bottom: "data" top: "conv"\n'
        + "  param { lr_mult: 0 decay_mult: 0 } param { lr_mult: 0 decay_mult: 0 } param { lr_mult: 0 decay_mult: 0 }\n"
        + "  batch_norm_param { use_global_stats: true } }\n"
        + 'layer { name: "conv/scale" type: "Scale" bottom: "conv" top: "conv"\n'
        + "  param { lr_mult: 0.1 decay_mult: 0 } param { lr_mult: 0.2 decay_mult: 0 }\n"
        + "  scale_param { bias_term: true } }\n"
    )
    blobs = {
        "conv/bn": [rng.standard_normal(c) * 3, rng.uniform(0.5, 4.0, c) * 3, np.array([factor])],
        "conv/scale": [rng.standard_normal(c), rng.standard_normal(c)],
    }
    proto, weights = _caffe(tmp_path, text, blobs)
    x = rng.standard_normal((2, c, 3, 5)).astype(np.float32)
    model, want = _three_ways(proto, weights, {"data": x}, "conv/scale", atol=1e-4)
    assert [la.kind for la in model.layers] == ["Input", "BatchNorm", "Scale"]
    # the pair is one BatchNormalization in ONNX
    exported = ck.to_onnx(model)
    assert [n.op_type for n in exported.graph.node] == ["BatchNormalization"]
    # and by Caffe's own formula (float64)
    m, v = blobs["conv/bn"][0], blobs["conv/bn"][1]
    k = 0.0 if factor == 0 else 1 / np.float32(factor)
    sh = (1, c, 1, 1)
    by_formula = (x - (m * k).reshape(sh)) / np.sqrt((v * k).reshape(sh) + 1e-5) * blobs["conv/scale"][0].reshape(
        sh
    ) + blobs["conv/scale"][1].reshape(sh)
    np.testing.assert_allclose(want, by_formula, atol=1e-3, rtol=1e-4)


SCALE_SWEEP = [
    # (input shape, axis, num_axes, bias_term)
    ((2, 3, 4, 5), 1, 1, False),
    ((2, 3, 4, 5), 1, 1, True),
    ((2, 3, 4, 5), 0, 2, True),
    ((2, 3, 4, 5), 2, -1, False),
    ((2, 3, 4, 5), 1, -1, True),
    ((2, 3, 4, 5), 3, 1, True),
    ((3, 6), 1, 1, True),
]


@pytest.mark.parametrize(("shape", "axis", "num_axes", "bias"), SCALE_SWEEP, ids=lambda v: str(v))
def test_scale_reference_opencv_onnxruntime(tmp_path: Path, shape, axis, num_axes, bias):
    rng = np.random.default_rng([RNG_SEED, axis, num_axes + 1, len(shape)])
    first = axis % len(shape)
    blob_shape = shape[first:] if num_axes == -1 else shape[first : first + num_axes]
    text = _input("data", shape) + (
        f'layer {{ name: "sc" type: "Scale" bottom: "data" top: "sc"\n'
        f"  scale_param {{ axis: {axis} num_axes: {num_axes} bias_term: {str(bias).lower()} }} }}\n"
    )
    blobs = {"sc": [rng.standard_normal(blob_shape)] + ([rng.standard_normal(blob_shape)] if bias else [])}
    proto, weights = _caffe(tmp_path, text, blobs)
    x = rng.standard_normal(shape).astype(np.float32)
    _three_ways(proto, weights, {"data": x}, "sc")


@pytest.mark.parametrize(("scale_shape", "axis"), [((3,), 1), ((3, 4), 1), ((4, 5), 2), ((2, 3, 4, 5), 0)])
def test_scale_two_bottoms_reference_opencv_onnxruntime(tmp_path: Path, scale_shape, axis):
    rng = np.random.default_rng([RNG_SEED, len(scale_shape), axis])
    shape = (2, 3, 4, 5)
    text = (
        _input("data", shape)
        + _input("s", scale_shape)
        + f'layer {{ name: "sc" type: "Scale" bottom: "data" bottom: "s" top: "sc" scale_param {{ axis: {axis} }} }}\n'
    )
    proto, weights = _caffe(tmp_path, text, {})
    feeds = {
        "data": rng.standard_normal(shape).astype(np.float32),
        "s": rng.standard_normal(scale_shape).astype(np.float32),
    }
    model = load_caffe(proto, weights=weights)
    want = ck.run(model, feeds)["sc"]
    full = (1,) * axis + scale_shape + (1,) * (4 - axis - len(scale_shape))
    np.testing.assert_array_equal(want, feeds["data"] * feeds["s"].reshape(full))
    np.testing.assert_allclose(_opencv(proto, weights, feeds, "sc"), want, atol=1e-6)
    np.testing.assert_allclose(run_onnx(ck.to_onnx(model), feeds)["sc"], want, atol=1e-6)


def test_opencv_ignores_lrn_k_across_channels_which_is_why_check_caffe_refuses_it(tmp_path: Path):
    text = _input("data", (1, 4, 3, 3)) + (
        'layer { name: "n" type: "LRN" bottom: "data" top: "n" lrn_param { local_size: 3 alpha: 0.5 k: 2 } }\n'
    )
    proto, weights = _caffe(tmp_path, text, {})
    x = np.random.default_rng(RNG_SEED).standard_normal((1, 4, 3, 3)).astype(np.float32)
    model = load_caffe(proto, weights=weights)
    want = ck.run(model, {"data": x})["n"]
    np.testing.assert_allclose(run_onnx(ck.to_onnx(model), {"data": x})["n"], want, atol=1e-6)
    with_k1 = ck.run(model.replace([model.layers[0], _with(model.layers[1], bias=1.0)]), {"data": x})["n"]
    np.testing.assert_allclose(_opencv(proto, weights, {"data": x}, "n"), with_k1, atol=1e-6)  # OpenCV: k = 1
    assert not np.allclose(with_k1, want)


def _with(layer: Any, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(layer, **changes)


# -- round trips ----------------------------------------------------------------------------------------------------

SNIPPET = (
    _input("data", (1, 4, 6, 6))
    # pvanet: BatchNorm in place with frozen statistics, then Scale with bias in place
    + 'layer { name: "conv2_1/2/bn" type: "BatchNorm" bottom: "data" top: "conv2_1/2/pre"\n'
    + "  param { lr_mult: 0 decay_mult: 0 } param { lr_mult: 0 decay_mult: 0 } param { lr_mult: 0 decay_mult: 0 }\n"
    + "  batch_norm_param { use_global_stats: true } }\n"
    + 'layer { name: "conv2_1/2/bn_scale" type: "Scale" bottom: "conv2_1/2/pre" top: "conv2_1/2/pre"\n'
    + "  param { lr_mult: 0.1 decay_mult: 0 } param { lr_mult: 0.1 decay_mult: 0 } scale_param { bias_term: true } }\n"
    # FCN-8s at-once: a frozen constant Scale
    + 'layer { name: "scale_pool4" type: "Scale" bottom: "conv2_1/2/pre" top: "scale_pool4" param { lr_mult: 0 }\n'
    + '  scale_param { filler { type: "constant" value: 0.01 } } }\n'
    # FCN-AlexNet's norm1
    + 'layer { name: "norm1" type: "LRN" bottom: "scale_pool4" top: "norm1"\n'
    + "  lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 } }\n"
    + 'layer { name: "b" type: "Bias" bottom: "norm1" top: "b" }\n'
)


def test_real_net_style_snippet_round_trips_and_runs(tmp_path: Path):
    rng = np.random.default_rng(RNG_SEED)
    blobs = {
        "conv2_1/2/bn": [rng.standard_normal(4), rng.uniform(0.5, 2, 4), [0.999]],
        "conv2_1/2/bn_scale": [rng.standard_normal(4), rng.standard_normal(4)],
        "scale_pool4": [np.full(4, 0.01)],
        "b": [rng.standard_normal(4)],
    }
    proto, weights = _caffe(tmp_path, SNIPPET, blobs)
    model = load_caffe(proto, weights=weights)
    assert [la.kind for la in model.layers] == ["Input", "BatchNorm", "Scale", "Scale", "LRN", "Bias"]
    bn = model.layers[1]
    assert bn.scale_factor == float(np.float32(0.999)) and bn.meta["caffe.use_global_stats"] is True
    # prototxt -> IR -> prototxt: written again, the net and every blob are the same bytes
    first, second = tmp_path / "first.prototxt", tmp_path / "second.prototxt"
    save_caffe(model, str(first))
    again = load_caffe(str(first), weights=caffemodel_path(str(first)))
    assert again == model
    save_caffe(again, str(second))
    assert second.read_text() == first.read_text()
    assert Path(caffemodel_path(str(second))).read_bytes() == Path(caffemodel_path(str(first))).read_bytes()
    text = first.read_text()
    assert text.count("lr_mult: 0.0\n") == 4 and "use_global_stats: true" in text and "bias_term: true" in text
    # ONNX: BatchNormalization (the pair), Mul (scale_pool4), LRN, Add (the Bias)
    exported = ck.to_onnx(model)
    assert [n.op_type for n in exported.graph.node] == ["BatchNormalization", "Mul", "LRN", "Add"]
    x = rng.standard_normal((1, 4, 6, 6)).astype(np.float32)
    want = ck.run(model, {"data": x})["b"]
    np.testing.assert_allclose(run_onnx(exported, {"data": x})["b"], want, atol=1e-6, rtol=1e-5)
    # OpenCV has no Bias layer: it runs the snippet without it
    (tmp_path / "cv").mkdir()
    cv_proto, cv_weights = _caffe(tmp_path / "cv", SNIPPET[: SNIPPET.index('layer { name: "b"')], blobs)
    np.testing.assert_allclose(
        _opencv(cv_proto, cv_weights, {"data": x}, "norm1"),
        ck.run(load_caffe(cv_proto, weights=cv_weights), {"data": x})["norm1"],
        atol=1e-6,
        rtol=1e-5,
    )
    # the spec keeps everything, training parameters and use_global_stats included
    ck.save(model, str(tmp_path / "snippet.json"))
    assert ck.load(str(tmp_path / "snippet.json")) == model
    # ONNX -> IR -> ONNX bit for bit
    assert ck.to_onnx(from_onnx(exported)).SerializeToString() == exported.SerializeToString()


def _onnx_model(nodes, inits, x_shape=(1, 3, 4, 4), opset=17):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in inits.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def test_one_batchnormalization_is_batchnorm_plus_scale_in_caffe_and_back(tmp_path: Path):
    rng = np.random.default_rng(RNG_SEED)
    inits = {
        "s": rng.standard_normal(3),
        "b": rng.standard_normal(3),
        "m": rng.standard_normal(3),
        "v": rng.uniform(1, 2, 3),
    }
    proto = _onnx_model(
        [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn", epsilon=1e-3)], inits
    )
    model = from_onnx(proto)
    assert [la.kind for la in model.layers] == ["Input", "BatchNorm"]
    net = to_caffe(model).net
    assert [(la.type, list(la.bottom), list(la.top)) for la in net.layer][1:] == [
        ("BatchNorm", ["x"], ["bn.normalised"]),
        ("Scale", ["bn.normalised"], ["y"]),
    ]
    save_caffe(model, str(tmp_path / "bn.prototxt"))
    read = load_caffe(str(tmp_path / "bn.prototxt"), weights=caffemodel_path(str(tmp_path / "bn.prototxt")))
    x = rng.standard_normal((1, 3, 4, 4)).astype(np.float32)
    want = run_onnx(proto, {"x": x})["y"]
    got = _opencv(str(tmp_path / "bn.prototxt"), caffemodel_path(str(tmp_path / "bn.prototxt")), {"x": x}, "bn_scale")
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(ck.run(read, {"x": x})["y"], want, atol=1e-5)
    # and back to ONNX: one node again, the same bytes as the model read first
    assert [n.op_type for n in ck.to_onnx(read).graph.node] == ["BatchNormalization"]
    assert ck.to_onnx(model).SerializeToString() == ck.to_onnx(from_onnx(ck.to_onnx(model))).SerializeToString()


def test_mul_and_add_of_per_channel_constants_import_as_one_scale_and_scalars_are_declined():
    rng = np.random.default_rng(RNG_SEED)
    proto = _onnx_model(
        [
            helper.make_node("Mul", ["x", "s"], ["t"], name="mul"),
            helper.make_node("Add", ["t", "b"], ["y"], name="add"),
        ],
        {"s": rng.standard_normal((3, 1, 1)), "b": rng.standard_normal((1, 3, 1, 1))},
    )
    model = from_onnx(proto)
    assert [la.kind for la in model.layers] == ["Input", "Scale"]
    scale = model.layers[1]
    assert (scale.axis, scale.num_axes, scale.bias is not None) == (1, 1, True)
    x = rng.standard_normal((1, 3, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(ck.run(model, {"x": x})["y"], run_onnx(proto, {"x": x})["y"], atol=1e-6)
    # one element: not Scale's or Bias's (the Power kind's), so unsupported here
    for op in ("Mul", "Add"):
        scalar = _onnx_model([helper.make_node(op, ["x", "k"], ["y"], name="k")], {"k": np.array([2.0])})
        with pytest.raises(ck.UnsupportedError, match=rf"cannot import: {op} \(node 'k'\)"):
            from_onnx(scalar)
    # a constant broadcast inside its run of axes is no Scale either
    inside = _onnx_model([helper.make_node("Mul", ["x", "k"], ["y"], name="k")], {"k": np.ones((3, 1, 4))})
    with pytest.raises(ck.UnsupportedError, match=r"cannot import: Mul"):
        from_onnx(inside)


def test_lrn_within_channel_onnx_form_is_explicit_and_exact():
    layer = ck.LRN(name="n", input="x", size=5, alpha=0.3, norm_region="within_channel")
    model = ck.Model([ck.Input(name="x", shape=(1, 2, 3, 4)), layer])
    proto = ck.to_onnx(model)
    ops = [n.op_type for n in proto.graph.node]
    assert ops == ["Mul", "AveragePool", "Mul", "Add", "Pow", "Mul"]
    pool = proto.graph.node[1]
    attrs = {a.name: helper.get_attribute_value(a) for a in pool.attribute}
    assert attrs["pads"] == [2, 2, 2, 2] and attrs["count_include_pad"] == 1 and "auto_pad" not in attrs
    x = np.random.default_rng(RNG_SEED).standard_normal((1, 2, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(run_onnx(proto, {"x": x})["n"], ck.run(model, {"x": x})["n"], atol=1e-6)


def test_a_lone_per_channel_add_after_a_folded_pad_reads_as_bias():
    from tests.test_onnx_roundtrip import END_PADS, B, conv_pad_model, reimport

    model = reimport(conv_pad_model({"pads": END_PADS}, bias=B.reshape(1, 3, 1, 1), extra_output="p"))
    assert [la.kind for la in model.layers][-1] == "Bias"


# -- refusals -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "error", "match"),
    [
        (
            'layer { name: "bn" type: "BatchNorm" bottom: "data" top: "bn"'
            " batch_norm_param { use_global_stats: false } }",
            ck.UnsupportedError,
            r"layer 'bn' \(BatchNorm\): use_global_stats: false .* remove the field .* or set it true",
        ),
        (
            'layer { name: "bn" type: "BatchNorm" bottom: "data" top: "bn" param { lr_mult: 1 } }',
            ck.FormatError,
            r"non-zero \(or missing\) lr_mult; Caffe refuses it .* give lr_mult: 0",
        ),
        (
            'layer { name: "n" type: "LRN" bottom: "data" top: "n" lrn_param { local_size: 4 } }',
            ck.FormatError,
            r"layer 'n' \(LRN\): local_size 4 is even; Caffe refuses it .* use an odd size",
        ),
        (
            'layer { name: "s" type: "Scale" bottom: "data" top: "s" scale_param { axis: 2 num_axes: 3 } }',
            ck.ValidationError,
            r"num_axes 3 from axis 2 reaches axis 4, past the input's rank 4",
        ),
        (
            'layer { name: "s" type: "Scale" bottom: "data" top: "s" scale_param { num_axes: -2 } }',
            ck.ValidationError,
            r"num_axes must be >= -1",
        ),
        (
            'layer { name: "b" type: "Bias" bottom: "data" top: "b" bias_param { axis: 2 } }',
            ck.UnsupportedError,
            r"axis 2 num_axes 1 .* one value per channel .* write it as a Scale with bias_term",
        ),
    ],
    ids=["bn-batch-statistics", "bn-learned-statistics", "lrn-even", "scale-past-rank", "scale-num-axes", "bias-axis"],
)
def test_caffe_refusals_name_layer_rule_and_way_out(tmp_path: Path, layer: str, error: type, match: str):
    proto, _ = _caffe(tmp_path, _input("data", (1, 3, 4, 5)) + layer + "\n", {})
    with pytest.raises(error, match=match):
        load_caffe(proto)


def test_caffe_blob_shape_mismatch_and_missing_statistics_warn(tmp_path: Path):
    text = _input("data", (1, 3, 4, 5)) + 'layer { name: "bn" type: "BatchNorm" bottom: "data" top: "data" }\n'
    proto, weights = _caffe(tmp_path, text, {"bn": [np.zeros(2), np.zeros(2), [1.0]]})
    with pytest.raises(ck.FormatError, match=r"BatchNorm needs mean \(3\), variance \(3\) and the factor"):
        load_caffe(proto, weights=weights)
    with pytest.warns(ck.CaffeWarning, match=r"Caffe's initial zeros apply: .* y = x / sqrt\(eps\)"):
        model = load_caffe(proto)
    x = np.ones((1, 3, 4, 5), np.float32)
    np.testing.assert_allclose(ck.run(model, {"data": x})[model.outputs[0]], x / np.sqrt(np.float32(1e-5)), rtol=1e-6)


def test_ir_and_onnx_refusals():
    with pytest.raises(ck.ValidationError, match=r"size 4 within channel: .* use an odd size"):
        ck.LRN(name="n", input="x", size=4, norm_region="within_channel")
    with pytest.raises(ck.ValidationError, match=r"with two inputs the second input is the scale; drop the scale"):
        ck.Scale(name="s", input_names=("x", "y"), scale=ck.Filler(type="constant", value=1.0))
    with pytest.raises(ck.ValidationError, match=r"the scale input 'y' has shape \[4\]; .* needs \[3\]"):
        ck.Model(
            [
                ck.Input(name="x", shape=(1, 3, 2, 2)),
                ck.Input(name="y", shape=(4,)),
                ck.Scale(name="s", input_names=("x", "y")),
            ]
        )
    with pytest.raises(ck.UnsupportedError, match=r"Caffe's LRN takes odd local_size only .* keep it in ONNX"):
        to_caffe(ck.Model([ck.Input(name="x", shape=(1, 4, 2, 2)), ck.LRN(name="n", input="x", size=2)]))
    inits = {k: np.ones(3) for k in "sbmv"}
    training = _onnx_model(
        [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn", training_mode=1)], inits
    )
    with pytest.raises(ck.UnsupportedError, match=r"training_mode=1 .* export the model in eval mode"):
        from_onnx(training)


# -- the real nets' layers, each on its own ---------------------------------------------------------------------------

REAL_NETS = ("fcn_voc-fcn8s-atonce_val", "fcn_voc-fcn-alexnet_val", "pvanet_example_train_test")
OURS = ("BatchNorm", "Scale", "LRN", "Bias")


def _real_layers(shared: Path) -> list[tuple[str, Any]]:
    """Every distinct one-bottom BatchNorm / Scale / LRN / Bias configuration of the real nets, as written."""
    from convertkit.codec.caffe import parse_prototxt

    seen, out = set(), []
    for name in REAL_NETS:
        net = parse_prototxt((shared / f"{name}.prototxt").read_text(), name)
        for layer in net.layer:
            if layer.type not in OURS or len(layer.bottom) != 1:
                continue
            config = pb.LayerParameter()
            config.CopyFrom(layer)
            config.ClearField("bottom")
            config.ClearField("top")
            config.ClearField("name")
            key = config.SerializeToString()
            if key not in seen:
                seen.add(key)
                out.append((f"{name}:{layer.name}", layer))
    return out


def test_every_distinct_layer_of_the_real_nets_reads_and_matches_opencv_and_onnxruntime(
    tmp_path: Path, shared_caffe_dir: Path
):
    from convertkit.codec.caffe import format_prototxt

    layers = _real_layers(shared_caffe_dir)
    assert {layer.type for _, layer in layers} == {"BatchNorm", "Scale", "LRN"}, [w for w, _ in layers]
    rng = np.random.default_rng(RNG_SEED)
    c, shape = 6, (1, 6, 5, 5)
    for k, (where, layer) in enumerate(layers):
        single = pb.NetParameter()
        single.input.append("data")
        single.input_shape.add().dim.extend(shape)
        copy = single.layer.add()
        copy.CopyFrom(layer)
        copy.name = "l"
        del copy.bottom[:], copy.top[:]
        copy.bottom.append("data")
        copy.top.append("out")
        blobs = {
            "BatchNorm": [rng.standard_normal(c), rng.uniform(0.5, 2, c), [rng.uniform(0.5, 1000)]],
            "Scale": [rng.standard_normal(c)] + ([rng.standard_normal(c)] if layer.scale_param.bias_term else []),
            "LRN": [],
        }[layer.type]
        (tmp_path / str(k)).mkdir()
        proto, weights = _caffe(tmp_path / str(k), format_prototxt(single), {"l": blobs})
        x = rng.standard_normal(shape).astype(np.float32)
        try:
            _three_ways(proto, weights, {"data": x}, "l", atol=1e-4)
        except AssertionError as exc:
            raise AssertionError(f"{where}: {exc}") from exc
