"""Pooling beyond the case table: OpenCV on a seeded sweep of Caffe geometries, every ONNX op form imported and run
against onnxruntime, PyTorch exports, and the refusals with their messages."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import onnx
import onnx.helper as oh
import pytest

import convertkit as ck
from convertkit.formats.caffe import check_caffe, load_caffe
from convertkit.formats.onnx_import import from_onnx
from convertkit.reference.interpreter import run_model
from convertkit.reference.pooling import CaffePooling, caffe_pooling_as_onnx


def _caffe_sweep(
    count: int, seed: int
) -> list[tuple[tuple[int, int], str, tuple[int, int], tuple[int, int], tuple[int, int]]]:
    rng = np.random.default_rng(seed)
    rows = []
    while len(rows) < count:
        kernel = tuple(int(k) for k in rng.integers(1, 5, 2))
        strides = tuple(int(s) for s in rng.integers(1, 4, 2))
        pads = tuple(int(rng.integers(0, k)) for k in kernel)
        spatial = tuple(int(i) for i in rng.integers(max(kernel), 10, 2))
        rows.append((spatial, str(rng.choice(["max", "average"])), kernel, strides, pads))
    return rows


SWEEP = _caffe_sweep(24, 8)


@pytest.mark.parametrize(("spatial", "method", "kernel", "strides", "pads"), SWEEP)
def test_opencv_runs_the_exported_prototxt_as_the_reference(spatial, method, kernel, strides, pads):
    pytest.importorskip("cv2")
    layer = ck.Pooling(
        name="p",
        input="x",
        method=method,
        kernel_shape=kernel,
        strides=strides,
        pads=pads + pads,
        ceil_mode=True,
        count_include_pad=method == "average",
        convention="caffe",
    )
    model = ck.Model([ck.Input(name="x", shape=(2, 3, *spatial)), layer])
    try:
        report = check_caffe(model, atol=1e-5, rtol=1e-5)
    except ck.UnsupportedError as exc:  # a documented OpenCV difference, refused up front
        assert "OpenCV" in str(exc)
        return
    assert report.passed, report.format()


def test_caffe_pooling_needs_no_divisor_correction_with_ceil_mode():
    """Every ONNX form convertkit writes (opset >= 13 has ceil_mode) is exact alone: no Mul by a divisor map."""
    for i, k, s, p in itertools.product(range(1, 9), range(1, 5), range(1, 4), range(0, 4)):
        if p >= k or i + 2 * p < k:
            continue
        for pool in ("MAX", "AVE"):
            caffe = CaffePooling(pool=pool, kernel_shape=(k, k), strides=(s, s), pads=(p, p, p, p))
            try:
                form = caffe_pooling_as_onnx((i, i + 1), caffe, ceil_mode_allowed=True)
            except ck.UnsupportedError:  # an empty window: refused
                assert p == 0 and s > k
                continue
            assert form.exact, (i, k, s, p, pool)


# -- ONNX imports vs onnxruntime ------------------------------------------------------------------------------------


def _onnx_model(op: str, shape: tuple[int, ...], **attrs) -> onnx.ModelProto:
    node = oh.make_node(op, ["x"], ["y"], name="pool", **attrs)
    graph = oh.make_graph(
        [node],
        "g",
        [oh.make_tensor_value_info("x", onnx.TensorProto.FLOAT, list(shape))],
        [oh.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
    )
    return oh.make_model(graph, opset_imports=[oh.make_opsetid("", 19)])


ONNX_FORMS = [
    ("MaxPool", (1, 2, 9, 8), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 0, 1, 1], "ceil_mode": 1}),
    ("MaxPool", (1, 2, 9, 8), {"kernel_shape": [2, 3], "dilations": [2, 2], "pads": [1, 1, 0, 1]}),
    ("MaxPool", (1, 2, 7, 8), {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    ("MaxPool", (1, 2, 7, 8), {"kernel_shape": [2, 2], "strides": [2, 2], "auto_pad": "SAME_LOWER"}),
    ("MaxPool", (1, 2, 7, 8), {"kernel_shape": [3, 2], "auto_pad": "VALID", "storage_order": 1}),
    ("MaxPool", (1, 2, 11), {"kernel_shape": [3], "strides": [2], "pads": [1, 2], "ceil_mode": 1}),
    ("AveragePool", (1, 2, 7, 6), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1}),
    (
        "AveragePool",
        (1, 2, 7, 6),
        {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1, "count_include_pad": 1},
    ),
    ("AveragePool", (1, 2, 8, 8), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [0, 1, 2, 0]}),
    ("AveragePool", (1, 2, 8, 7), {"kernel_shape": [2, 2], "dilations": [2, 1], "count_include_pad": 1}),
    ("AveragePool", (1, 2, 4, 5, 6), {"kernel_shape": [2, 2, 3], "strides": [2, 1, 2], "auto_pad": "SAME_UPPER"}),
    ("GlobalMaxPool", (2, 3, 5, 4), {}),
    ("GlobalAveragePool", (2, 3, 5, 4, 3), {}),
]


@pytest.mark.parametrize(("op", "shape", "attrs"), ONNX_FORMS, ids=lambda v: v if isinstance(v, str) else None)
def test_onnx_pooling_imports_and_runs_as_onnxruntime(op, shape, attrs):
    import onnxruntime as ort

    proto = _onnx_model(op, shape, **attrs)
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    want = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    model = from_onnx(proto)
    got = run_model(model, {"x": x})["y"]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert ck.check(model).passed


def test_maxpool_indices_as_a_model_output_are_refused():
    node = oh.make_node("MaxPool", ["x"], ["y", "i"], name="pool", kernel_shape=[2, 2])
    graph = oh.make_graph(
        [node],
        "g",
        [oh.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 1, 4, 4])],
        [
            oh.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None),
            oh.make_tensor_value_info("i", onnx.TensorProto.INT64, None),
        ],
    )
    # ONNX's flat int64 indices are not the IR's per-plane float mask: only a MaxUnpool may read them
    with pytest.raises(ck.UnsupportedError, match=r"its mask 'i' is a model output"):
        from_onnx(oh.make_model(graph, opset_imports=[oh.make_opsetid("", 19)]))


# -- PyTorch exports ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda nn: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        lambda nn: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
        lambda nn: nn.AdaptiveAvgPool2d(1),
    ],
    ids=["MaxPool2d-ceil", "AvgPool2d-exclude-pad", "AdaptiveAvgPool2d-1"],
)
def test_pytorch_exports_import_and_run_equal(make, tmp_path):
    torch = pytest.importorskip("torch")
    module = make(torch.nn).eval()
    x = torch.randn(1, 3, 9, 8)
    path = tmp_path / "pool.onnx"
    with warnings.catch_warnings():  # torch's notices on the legacy exporter, used on purpose (test_torch_export)
        warnings.filterwarnings("ignore", message="You are using the legacy TorchScript", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="The feature will be removed", category=DeprecationWarning)
        torch.onnx.export(module, (x,), str(path), dynamo=False, input_names=["x"], output_names=["y"])
    model = ck.load(str(path))
    got = run_model(model, {"x": x.numpy()})["y"]
    np.testing.assert_allclose(got, module(x).detach().numpy(), rtol=1e-5, atol=1e-6)


# -- refusals -------------------------------------------------------------------------------------------------------


def _prototxt(tmp_path, pooling_param: str, tops: str = 'top: "p"') -> str:
    path = tmp_path / "net.prototxt"
    path.write_text(
        'layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 1 dim: 2 dim: 6 dim: 6 } } }\n'
        f'layer {{ name: "p" type: "Pooling" bottom: "x" {tops} pooling_param {{ {pooling_param} }} }}\n'
    )
    return str(path)


@pytest.mark.parametrize(
    ("param", "tops", "error", "match"),
    [
        ("pool: STOCHASTIC kernel_size: 2", 'top: "p"', ck.UnsupportedError, r"layer 'p' \(Pooling\): pool STOCHASTIC"),
        ("pool: AVE kernel_size: 2", 'top: "p" top: "mask"', ck.FormatError, r"only MAX pooling writes a mask"),
        ("global_pooling: true kernel_size: 2", 'top: "p"', ck.FormatError, r"global_pooling takes its kernel"),
        ("kernel_size: 2 pad: 2", 'top: "p"', ck.FormatError, r"pad \[2, 2\] must be smaller than the kernel"),
        ("kernel_h: 2", 'top: "p"', ck.FormatError, r"kernel_h and kernel_w go together"),
    ],
)
def test_caffe_reader_refusals(tmp_path, param, tops, error, match):
    with pytest.raises(error, match=match):
        load_caffe(_prototxt(tmp_path, param, tops))


def test_caffe_round_mode_floor_and_kernel_h_w_are_read(tmp_path):
    param = "pool: AVE kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 0 round_mode: FLOOR"
    (layer,) = [lay for lay in load_caffe(_prototxt(tmp_path, param)).layers if lay.kind == "Pooling"]
    assert (layer.kernel_shape, layer.strides, layer.pads) == ((3, 2), (2, 1), (1, 0, 1, 0))
    assert not layer.ceil_mode and layer.count_include_pad and layer.method == "average"


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"method": "stochastic", "kernel_shape": (2, 2)}, r"method must be one of max, average"),
        ({"kernel_shape": (2, 2), "pads": (2, 0, 0, 0)}, r"pads \[2, 0, 0, 0\] must each be smaller than the kernel"),
        ({"global_pooling": True, "kernel_shape": (2, 2)}, r"global_pooling takes its kernel from the input"),
        ({"kernel_shape": (2, 2), "count_include_pad": True}, r"count_include_pad applies to method average only"),
        ({"kernel_shape": (3, 3), "pads": (1, 0, 0, 1), "convention": "caffe"}, r"convention caffe pads symmetrically"),
    ],
)
def test_ir_validation_names_layer_rule_and_values(fields, match):
    with pytest.raises(ck.ValidationError, match=r"layer 'p' \(Pooling\): " + match):
        ck.Pooling(name="p", input="x", **fields)


def test_convention_is_normalised_to_one_value_per_meaning():
    padded = ck.Pooling(name="p", input="x", kernel_shape=(3, 3), pads=(1, 1, 1, 1), ceil_mode=True, convention="caffe")
    assert padded.convention == "onnx"
    kept = ck.Pooling(name="p", input="x", kernel_shape=(1, 1), strides=(2, 2), ceil_mode=True, convention="caffe")
    assert kept.convention == "caffe"
    unpadded = ck.Pooling(name="p", input="x", method="average", kernel_shape=(2, 2), count_include_pad=True)
    assert not unpadded.count_include_pad
