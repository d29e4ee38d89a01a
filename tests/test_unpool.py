"""Max-unpooling: Pooling's argmax mask (``indices``) and ``MaxUnpool``, every facet.

Oracles: hand-computed values; onnxruntime (the ONNX export); OpenCV's Caffe reader (the stock Caffe form); PyTorch
(``MaxPool2d(return_indices=True)`` + ``MaxUnpool2d``).  The fork layers (SegNet / ENet ``Upsample``, DeconvNet
``UNPOOLING``) have no runtime here: their read rule is checked against the forks' size rules by hand and the
result run in onnxruntime and, through the stock form, in OpenCV.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
import onnx.helper as oh
import pytest

import convertkit as ck
from convertkit.formats.caffe import load_caffe, save_caffe
from convertkit.formats.caffe.opencv import run_opencv
from convertkit.formats.caffe.writer import caffemodel_path
from convertkit.formats.onnx_import import from_onnx
from convertkit.reference import run_model
from convertkit.runtime import run_onnx

INPUT = (
    'layer {{ name: "data" type: "Input" top: "data" '
    "input_param {{ shape {{ dim: {n} dim: {c} dim: {h} dim: {w} }} }} }}\n"
)
POOL = (
    'layer {{ name: "pool" type: "Pooling" bottom: "data" top: "pool" top: "mask" '
    "pooling_param {{ pool: MAX kernel_size: {k} stride: {k} }} }}\n"
)


def _caffe(tmp_path: Path, shape: tuple[int, ...], unpool: str, k: int = 2, v1: bool = False) -> ck.Model:
    n, c, h, w = shape
    path = tmp_path / "net.prototxt"
    if v1:
        text = (
            f'input: "data" input_dim: {n} input_dim: {c} input_dim: {h} input_dim: {w}\n'
            f'layers {{ name: "pool" type: POOLING bottom: "data" top: "pool" top: "mask" '
            f"pooling_param {{ pool: MAX kernel_size: {k} stride: {k} }} }}\n" + unpool
        )
    else:
        text = INPUT.format(n=n, c=c, h=h, w=w) + POOL.format(k=k) + unpool
    path.write_text(text)
    return load_caffe(str(path))


def _upsample(param: str, bottoms: str = 'bottom: "pool" bottom: "mask"') -> str:
    return f'layer {{ name: "up" type: "Upsample" {bottoms} top: "up" upsample_param {{ {param} }} }}\n'


def _ints(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-4, 5, size=shape).astype(np.float32)  # small integers: many ties


# -- hand-computed values ---------------------------------------------------------------------------------------


def _pool_mask(x: np.ndarray, **fields) -> tuple[np.ndarray, np.ndarray]:
    model = ck.Model(
        [ck.Input(name="x", shape=x.shape), ck.Pooling(name="p", input="x", indices="m", **fields)], ["p", "m"]
    )
    out = run_model(model, {"x": x})
    return out["p"], out["m"]


def test_mask_ties_keep_the_first_cell_in_scan_order():
    x = np.array([[[[3, 5, 5, 1], [5, 2, 0, 5]]]], dtype=np.float32)
    pooled, mask = _pool_mask(x, kernel_shape=(2, 2), strides=(2, 2))
    np.testing.assert_array_equal(pooled, [[[[5, 5]]]])
    np.testing.assert_array_equal(mask, [[[[1, 2]]]])  # (0, 1) before (1, 0); (0, 2) before (1, 3)
    assert mask.dtype == np.float32  # Caffe's top holds the index as a float


def test_mask_of_odd_sizes_with_ceil_and_of_padded_windows_indexes_the_unpadded_plane():
    x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    _, mask = _pool_mask(x, kernel_shape=(2, 2), strides=(2, 2), ceil_mode=True)
    np.testing.assert_array_equal(mask, [[[[4, 5], [7, 8]]]])
    _, mask = _pool_mask(x, kernel_shape=(3, 3), strides=(2, 2), pads=(1, 1, 1, 1))
    np.testing.assert_array_equal(mask, [[[[4, 5], [7, 8]]]])


def test_unpool_hand_computed_explicit_size_and_last_write_wins():
    data = np.array([[[[10, 20], [30, 40]]]], dtype=np.float32)
    mask = np.array([[[[4, 5], [7, 8]]]], dtype=np.float32)
    layer = ck.MaxUnpool(name="u", input="x", mask="m", kernel_shape=(2, 2), strides=(2, 2), output_shape=(3, 3))
    t = ck.TensorType((1, 1, 2, 2))
    assert layer.infer([t, t]) == [ck.TensorType((1, 1, 3, 3))]
    (out,) = layer.reference([data, mask], [t, t])
    np.testing.assert_array_equal(out, [[[[0, 0, 0], [0, 10, 20], [0, 30, 40]]]])
    # without output_shape: ONNX's (in - 1) * stride + kernel
    assert ck.MaxUnpool(name="u", input="x", mask="m", kernel_shape=(2, 2), strides=(2, 2)).infer([t, t])[0].shape == (
        1,
        1,
        4,
        4,
    )
    # two cells pointing at one place (overlapping windows): the later one in row-major order wins
    one = ck.MaxUnpool(name="u", input="x", mask="m", kernel_shape=(1, 2), output_shape=(1, 3))
    t2 = ck.TensorType((1, 1, 1, 2))
    (out,) = one.reference([np.array([[[[1, 2]]]], np.float32), np.array([[[[1, 1]]]], np.float32)], [t2, t2])
    np.testing.assert_array_equal(out, [[[[0, 2, 0]]]])


def test_field_rules_are_refused_by_name():
    with pytest.raises(ck.ValidationError, match=r"indices \(the argmax mask\) needs method max"):
        ck.Pooling(name="p", input="x", method="average", kernel_shape=(2, 2), indices="m")
    with pytest.raises(ck.ValidationError, match=r"indices with global_pooling"):
        ck.Pooling(name="p", input="x", global_pooling=True, indices="m")
    t, other = ck.TensorType((1, 1, 2, 2)), ck.TensorType((1, 1, 2, 3))
    with pytest.raises(ck.ValidationError, match=r"mask 'm' has shape \[1, 1, 2, 3\], the input \[1, 1, 2, 2\]"):
        ck.MaxUnpool(name="u", input="x", mask="m", kernel_shape=(2, 2)).infer([t, other])
    bad = ck.MaxUnpool(name="u", input="x", mask="m", kernel_shape=(2, 2), output_shape=(2, 2))
    with pytest.raises(ck.ValidationError, match=r"mask values must lie in \[0, 4\)"):
        bad.reference([np.ones((1, 1, 2, 2), np.float32), np.full((1, 1, 2, 2), 9, np.float32)], [t, t])


# -- Caffe: the forks' layers read, the fork's Upsample and the stock form written --------------------------------


@pytest.mark.parametrize(
    ("shape", "param", "out"),
    [
        ((1, 2, 23, 30), "scale: 2 upsample_h: 23 upsample_w: 30", (23, 30)),  # SegNet's explicit sizes
        ((1, 2, 24, 30), "scale: 2", (24, 30)),  # ENet: in * scale
        ((1, 2, 23, 30), "scale: 2 pad_out_h: true", (23, 30)),  # the deprecated form: 12 * 2 - 1
        ((1, 2, 12, 18), "scale_h: 3 scale_w: 3", (12, 18)),
    ],
)
def test_segnet_upsample_is_read_with_the_forks_size_rule(tmp_path, shape, param, out):
    k = 3 if "scale_h: 3" in param else 2
    model = _caffe(tmp_path, shape, _upsample(param), k=k)
    up = model.layer("up")
    assert isinstance(up, ck.MaxUnpool) and up.kernel_shape == up.strides == (k, k)
    assert model.types["up"].shape == (*shape[:2], *out)


@pytest.mark.parametrize(
    ("param", "bottoms", "match"),
    [
        ("scale: 2", 'bottom: "pool"', r"has one bottom: that is the nearest-neighbour Upsample"),
        ("scale: 1", 'bottom: "pool" bottom: "mask"', r"scale \[1, 1\] must be > 1"),
        ("scale: 3 pad_out_h: true", 'bottom: "pool" bottom: "mask"', r"pad_out_h needs scale_h 2"),
        ("scale: 2 scale_h: 2 scale_w: 2", 'bottom: "pool" bottom: "mask"', r"not with scale"),
    ],
)
def test_segnet_upsample_refusals(tmp_path, param, bottoms, match):
    with pytest.raises(ck.ConvertkitError, match=match):
        _caffe(tmp_path, (1, 2, 4, 4), _upsample(param, bottoms))


def test_deconvnet_v1_unpooling_is_read_with_its_size_rule(tmp_path):
    unpool = (
        'layers {{ name: "up" type: UNPOOLING bottom: "pool" bottom: "mask" top: "up" '
        "unpooling_param {{ unpool: MAX kernel_size: 2 stride: 2 {size} }} }}\n"
    )
    sized = _caffe(tmp_path, (1, 2, 14, 14), unpool.format(size="unpool_size: 14"), v1=True)
    assert sized.types["up"].shape == (1, 2, 14, 14)
    # unpooling_layer.cpp without a size: max((7 - 1) * 2 + 2, 7 * 2 + 1) = 15
    model = _caffe(tmp_path, (1, 2, 14, 14), unpool.format(size=""), v1=True)
    assert model.types["up"].shape == (1, 2, 15, 15)
    x = _ints(np.random.default_rng(3), (1, 2, 14, 14))
    exact = run_model(sized, {"data": x})["up"]
    np.testing.assert_array_equal(exact.max(axis=(2, 3)), x.max(axis=(2, 3)))
    # the fork's own quirk, kept: the mask indexes 14-wide rows, the 15-wide plane takes them as its flat index
    out = run_model(model, {"data": x})["up"].reshape(1, 2, -1)
    np.testing.assert_array_equal(out[..., : 14 * 14], exact.reshape(1, 2, -1))
    assert not out[..., 14 * 14 :].any()


def _stock_and_onnx(model: ck.Model, x: np.ndarray, tmp_path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference, onnxruntime on the ONNX export, OpenCV on the stock Caffe export."""
    ref = run_model(model, {"data": x})["up"]
    ort = run_onnx(ck.to_onnx(model), {"data": x})["up"]
    prototxt = str(tmp_path / "stock.prototxt")
    save_caffe(model, prototxt)
    text = Path(prototxt).read_text()
    assert "Upsample" not in text and "Unpooling" not in text  # stock layers only
    cv = run_opencv(prototxt, caffemodel_path(prototxt), {"data": x}, ["up"])["up"]
    return ref, ort, cv


@pytest.mark.parametrize(
    ("shape", "param"),
    [((1, 3, 23, 30), "scale: 2 upsample_h: 23 upsample_w: 30"), ((2, 2, 9, 12), "scale: 3")],
)
def test_stock_caffe_form_in_opencv_equals_onnxruntime(tmp_path, shape, param):
    k = 3 if "scale: 3" in param else 2
    model = _caffe(tmp_path, shape, _upsample(param), k=k)
    x = _ints(np.random.default_rng(0), shape)
    ref, ort, cv = _stock_and_onnx(model, x, tmp_path)
    np.testing.assert_array_equal(ort, ref)
    np.testing.assert_array_equal(cv, ort)
    assert np.count_nonzero(ort) > 0


def test_segnet_dialect_writes_the_forks_upsample_back(tmp_path):
    model = _caffe(tmp_path, (1, 2, 23, 30), _upsample("scale: 2 upsample_h: 23 upsample_w: 30"))
    prototxt = tmp_path / "segnet.prototxt"
    save_caffe(model, str(prototxt), dialect="segnet")
    text = prototxt.read_text()
    assert 'type: "Upsample"' in text and "upsample_h: 23" in text and "upsample_w: 30" in text
    assert 'top: "mask"' in text
    back = load_caffe(str(prototxt), weights=caffemodel_path(str(prototxt)))
    assert [layer.kind for layer in back.layers] == [layer.kind for layer in model.layers]
    x = _ints(np.random.default_rng(1), (1, 2, 23, 30))
    np.testing.assert_array_equal(run_model(back, {"data": x})["up"], run_model(model, {"data": x})["up"])


def test_stock_form_refuses_a_mask_of_other_windows(tmp_path):
    model = ck.Model(
        [
            ck.Input(name="data", shape=(1, 1, 4, 4)),
            ck.Input(name="mask", shape=(1, 1, 2, 2)),
            ck.Pooling(name="pool", input="data", kernel_shape=(2, 2), strides=(2, 2)),
            ck.MaxUnpool(name="up", input="pool", mask="mask", kernel_shape=(2, 2), strides=(2, 2)),
        ]
    )
    with pytest.raises(ck.UnsupportedError, match=r"its mask 'mask' comes from a graph input or another layer"):
        ck.to_caffe(model)
    with pytest.raises(ck.UnsupportedError, match=r"its mask 'mask' is not a max Pooling's indices"):
        ck.to_onnx(model)
    assert 'type: "Upsample"' in ck.to_caffe(model, dialect="segnet").prototxt()


# -- ONNX: MaxPool Indices <-> the per-plane mask ---------------------------------------------------------------


def _onnx_graph(nodes, shape, out_shape, *, outputs=("y",), inits=()):
    graph = oh.make_graph(
        nodes,
        "g",
        [oh.make_tensor_value_info("x", onnx.TensorProto.FLOAT, list(shape))],
        [oh.make_tensor_value_info(o, onnx.TensorProto.FLOAT, None) for o in outputs],
        list(inits),
    )
    return oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)])


def _pool_unpool(shape, out_spatial, kernel=(2, 2), strides=(2, 2), pads=(0, 0, 0, 0)):
    shape_init = onnx.numpy_helper.from_array(np.array([*shape[:2], *out_spatial], np.int64), "shape")
    nodes = [
        oh.make_node("MaxPool", ["x"], ["p", "i"], name="pool", kernel_shape=list(kernel), strides=list(strides)),
        oh.make_node("Relu", ["p"], ["r"], name="relu"),
        oh.make_node(
            "MaxUnpool",
            ["r", "i", "shape"],
            ["y"],
            name="up",
            kernel_shape=list(kernel),
            strides=list(strides),
            pads=list(pads),
        ),
    ]
    return _onnx_graph(nodes, shape, None, inits=[shape_init])


def test_onnx_maxpool_indices_into_maxunpool_import_and_equal_onnxruntime():
    # SegNet's 23x30 <- 12x15: onnxruntime needs an end pad to accept an output below (12 - 1) * 2 + 2 = 24
    proto = _pool_unpool((2, 3, 23, 30), (23, 30), pads=(0, 0, 1, 0))
    model = from_onnx(proto)
    pool, up = model.layer("pool"), model.layer("up")
    assert isinstance(pool, ck.Pooling) and pool.indices == "i"
    assert isinstance(up, ck.MaxUnpool) and up.output_shape == (23, 30) and up.pads == (0, 0, 0, 0)
    x = _ints(np.random.default_rng(2), (2, 3, 23, 30))
    want = run_onnx(proto, {"x": x})["y"]
    np.testing.assert_array_equal(run_model(model, {"x": x})["y"], want)
    again = ck.to_onnx(model)  # written with the end pad onnxruntime needs, the indices wired straight through
    assert [n.op_type for n in again.graph.node] == ["MaxPool", "Relu", "MaxUnpool"]
    np.testing.assert_array_equal(run_onnx(again, {"x": x})["y"], want)


def test_onnx_flat_indices_onto_another_plane_size_are_refused():
    # 6x6 pooled to 3x3, unpooled onto 7x7: ONNX's flat indices (over 6x6 planes) would land in other planes
    with pytest.raises(ck.UnsupportedError, match=r"unpools onto \[7, 7\], but its mask indexes planes of \[6, 6\]"):
        from_onnx(_pool_unpool((1, 2, 6, 6), (7, 7)))
    from_onnx(_pool_unpool((1, 1, 6, 6), (7, 7)))  # one plane: the flat index is the plane index


def test_onnx_indices_read_by_another_op_or_column_major_are_refused():
    nodes = [
        oh.make_node("MaxPool", ["x"], ["p", "i"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        oh.make_node("Cast", ["i"], ["f"], name="cast", to=onnx.TensorProto.FLOAT),
        oh.make_node("Add", ["p", "f"], ["y"], name="add"),
    ]
    with pytest.raises(ck.UnsupportedError, match=r"Cast"):
        from_onnx(_onnx_graph(nodes, (1, 1, 4, 4), None))
    nodes = [oh.make_node("MaxPool", ["x"], ["y", "i"], name="pool", kernel_shape=[2, 2], storage_order=1)]
    with pytest.raises(ck.UnsupportedError, match=r"column-major Indices \(storage_order 1\)"):
        from_onnx(_onnx_graph(nodes, (1, 1, 4, 4), None))


def test_onnx_export_refuses_a_mask_read_by_another_layer():
    model = ck.Model(
        [
            ck.Input(name="x", shape=(1, 1, 4, 4)),
            ck.Pooling(name="p", input="x", kernel_shape=(2, 2), strides=(2, 2), indices="m"),
            ck.Eltwise(name="s", input_names=("p", "m")),
        ]
    )
    with pytest.raises(ck.UnsupportedError, match=r"layer 's' \(Eltwise\): reads 'm', the mask of 'p'"):
        ck.to_onnx(model)
    ck.to_caffe(model)  # Caffe's mask is the IR's: any layer may read it


# -- PyTorch ----------------------------------------------------------------------------------------------------


def _torch_export(tmp_path: Path, out_size: tuple[int, int], ceil_mode: bool, shape: tuple[int, ...]):
    torch = pytest.importorskip("torch")
    from torch.onnx import register_custom_op_symbolic, unregister_custom_op_symbolic
    from torch.onnx.symbolic_helper import parse_args

    # torch.onnx's TorchScript exporter has no max_unpool2d, and writes max_pool2d_with_indices as MaxPool minus a
    # second MaxPool's indices (per-plane int64); these symbolics write ONNX's own pair, flat indices throughout.
    @parse_args("v", "is", "is", "is", "is", "i")
    def max_pool(g, x, kernel, stride, pad, dilation, ceil):
        return g.op(
            "MaxPool",
            x,
            kernel_shape_i=kernel,
            strides_i=stride or kernel,
            pads_i=list(pad) * 2,
            dilations_i=dilation,
            ceil_mode_i=ceil,
            outputs=2,
        )

    pooled = [-(-d // 2) if ceil_mode else d // 2 for d in shape[2:]]
    end_pads = [max(0, 2 * p - o) for p, o in zip(pooled, out_size, strict=True)]  # onnxruntime's minimum size

    def max_unpool(g, x, indices, size):
        nc = g.op(
            "Slice",
            g.op("Shape", x),
            g.op("Constant", value_t=torch.tensor([0])),
            g.op("Constant", value_t=torch.tensor([2])),
        )
        shape_ = g.op("Concat", nc, g.op("Cast", size, to_i=onnx.TensorProto.INT64), axis_i=0)
        return g.op("MaxUnpool", x, indices, shape_, kernel_shape_i=[2, 2], strides_i=[2, 2], pads_i=[0, 0, *end_pads])

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pool = torch.nn.MaxPool2d(2, 2, return_indices=True, ceil_mode=ceil_mode)
            self.unpool = torch.nn.MaxUnpool2d(2, 2)

        def forward(self, x):
            y, i = self.pool(x)
            if torch.jit.is_tracing():  # MaxUnpool2d's output-size check does not trace; the op does
                return torch.ops.aten.max_unpool2d(torch.relu(y), i, list(out_size))
            return self.unpool(torch.relu(y), i, output_size=list(out_size))

    net = Net()
    x = torch.from_numpy(_ints(np.random.default_rng(5), shape))
    path = tmp_path / "net.onnx"
    register_custom_op_symbolic("aten::max_pool2d_with_indices", max_pool, 11)
    register_custom_op_symbolic("aten::max_unpool2d", max_unpool, 11)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(net, (x,), str(path), dynamo=False, opset_version=17)
    finally:
        unregister_custom_op_symbolic("aten::max_pool2d_with_indices", 11)
        unregister_custom_op_symbolic("aten::max_unpool2d", 11)
    with torch.no_grad():
        want = net(x).numpy()
    return path, x.numpy(), want


@pytest.mark.slow  # imports torch
@pytest.mark.parametrize(("shape", "ceil_mode"), [((1, 3, 5, 7), True), ((2, 2, 5, 7), False)])
def test_torch_export_imports_converts_to_stock_caffe_and_opencv_equals_onnxruntime(tmp_path, shape, ceil_mode):
    path, x, want = _torch_export(tmp_path, shape[2:], ceil_mode, shape)
    model = ck.load(str(path))
    assert any(isinstance(layer, ck.MaxUnpool) for layer in model.layers)
    (name,) = model.inputs
    (out,) = model.outputs
    ours = run_model(model, {name: x})[out]
    np.testing.assert_array_equal(ours, want)  # torch's own output
    np.testing.assert_array_equal(run_onnx(onnx.load(str(path)), {name: x})[out], want)
    prototxt = str(tmp_path / "stock.prototxt")
    if not ceil_mode:
        # floor pooling of 5x7 leaves a row and a column no window covers: Caffe needs round_mode FLOOR, which
        # OpenCV's Caffe proto cannot read; the stock form is still exact (the reference runs it)
        save_caffe(model, prototxt)
        back = load_caffe(prototxt, weights=caffemodel_path(prototxt))
        np.testing.assert_array_equal(run_model(back, {name: x})[out], want)
        return
    save_caffe(model, prototxt)
    cv = run_opencv(prototxt, caffemodel_path(prototxt), {name: x}, [out])[out]
    np.testing.assert_array_equal(cv, want)


# -- real nets: the pool -> unpool spans of SegNet and ENet without the forks' BN ---------------------------------


def test_segnet_pool5_to_upsample5_span_is_exact_in_onnxruntime_and_opencv(shared_caffe_dir, tmp_path):
    # conv5_3_bn -> relu5_3 -> pool5 (23x30 -> 12x15, mask) -> upsample5 (upsample_h 23, upsample_w 30)
    model = ck.load(
        str(shared_caffe_dir / "segnet_segnet_inference.prototxt"),
        inputs={"conv5_3@conv5_3_bn": (1, 512, 23, 30)},
        outputs=["pool5_D"],
    )
    assert [layer.kind for layer in model.layers] == ["Input", "Activation", "Pooling", "MaxUnpool"]
    (name,) = model.inputs
    x = np.random.default_rng(0).standard_normal((1, 512, 23, 30)).astype(np.float32)
    ref = run_model(model, {name: x})["pool5_D"]
    ort = run_onnx(ck.to_onnx(model), {name: x})["pool5_D"]
    prototxt = str(tmp_path / "stock.prototxt")
    save_caffe(model, prototxt)
    cv = run_opencv(prototxt, caffemodel_path(prototxt), {name: x}, ["pool5_D"])["pool5_D"]
    assert ort.shape == (1, 512, 23, 30) and np.count_nonzero(ort) > 0
    np.testing.assert_array_equal(ort, ref)
    np.testing.assert_array_equal(cv, ort)


@pytest.mark.slow  # a 64x256x512 pooling and a 128-channel 1x1 convolution
def test_enet_pool2_to_upsample4_span_is_exact_in_onnxruntime(shared_caffe_dir):
    # prelu1_4_4 -> pool2_0_4 (mask) ... conv4_0_4 (from prelu3_8_4) -> upsample4_0_4 (scale 2)
    model = ck.load(
        str(shared_caffe_dir / "enet_enet_deploy_final.prototxt"),
        inputs={"prelu1_4_4": (1, 64, 256, 512), "prelu3_8_4": (1, 128, 128, 256)},
        outputs=["upsample4_0_4"],
        seed=0,
    )
    assert sum(isinstance(layer, ck.MaxUnpool) for layer in model.layers) == 1
    rng = np.random.default_rng(1)
    feeds = {v: rng.standard_normal(model.types[v].shape).astype(np.float32) for v in model.inputs}
    ort = run_onnx(ck.to_onnx(model), feeds)["upsample4_0_4"]
    np.testing.assert_allclose(run_model(model, feeds)["upsample4_0_4"], ort, rtol=1e-5, atol=1e-5)
