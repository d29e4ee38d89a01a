"""tf2onnx graphs read exactly, TensorFlow the oracle (skipped where tensorflow or tf2onnx is absent).

The Keras decoder of tests/test_keras.py exported by tf2onnx in its default NHWC form and with both NCHW flags:
the NHWC Transposes fold away (one at each boundary remains, or none with ``keep_layout="nchw"``), the
``Unsqueeze -> Tile -> [Transpose] -> Reshape`` repeats of nearest ``UpSampling2D`` import as one Upsample, the
negative ConvTranspose pads tf2onnx writes for Keras valid + output_padding import with TensorFlow's meaning; the
result runs equal to TensorFlow in the reference, onnxruntime and OpenCV.  The seed's snippet (a Reshape of a flat
input, then ``tf.nn.conv2d_transpose`` VALID with ``output_shape [1, 5, 5, 1]``) gives the seed's 5x5.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
tf2onnx = pytest.importorskip("tf2onnx")
onnx = pytest.importorskip("onnx")

import convertkit as ck  # noqa: E402
from convertkit.codec.onnx import OnnxImportWarning  # noqa: E402
from convertkit.formats.caffe.opencv import run_opencv  # noqa: E402
from convertkit.runtime import run_onnx  # noqa: E402
from tests.test_keras import SEED_5X5, TOL, _decoder, _nchw  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:tf2onnx.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:tensorflow.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:keras.*"),
]


def _export(model: keras.Model, path: Path, nchw: bool, shape: tuple[int, ...], name: str = "image") -> str:
    spec = (tf.TensorSpec(shape, tf.float32, name=name),)
    outputs = [t._keras_history.operation.name for t in model.outputs]  # tf2onnx names outputs by layer
    flags = {"inputs_as_nchw": [name], "outputs_as_nchw": outputs} if nchw else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=17, **flags)
    onnx.save(proto, str(path))
    return str(path)


@pytest.fixture(scope="module")
def decoder(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("tf2onnx")
    model = _decoder()
    x = np.random.default_rng(2).standard_normal((1, 5, 6, 3)).astype(np.float32)
    return {
        "x": x,
        "y": model(x).numpy(),
        "nhwc": _export(model, root / "nhwc.onnx", False, (1, 5, 6, 3)),
        "nchw": _export(model, root / "nchw.onnx", True, (1, 5, 6, 3)),
    }


def _load(path: str, **options: object) -> ck.Model:
    with pytest.warns(OnnxImportWarning, match="negative pads"):
        return ck.load(path, **options)


@pytest.mark.parametrize("layout", ["nhwc", "nchw"])
def test_tf2onnx_decoder_equals_tensorflow(decoder, layout: str, tmp_path: Path) -> None:
    model = _load(decoder[layout])
    kinds = [layer.kind for layer in model.layers]
    assert "Tile" not in kinds and kinds.count("Upsample") == 2
    assert kinds.count("Transpose") == (2 if layout == "nhwc" else 0)
    x = decoder["x"] if layout == "nhwc" else _nchw(decoder["x"])
    y = decoder["y"] if layout == "nhwc" else _nchw(decoder["y"])
    (out,) = model.outputs
    np.testing.assert_allclose(ck.run(model, {"image": x})[out], y, atol=TOL, rtol=TOL)
    np.testing.assert_allclose(run_onnx(ck.to_onnx(model), {"image": x})[out], y, atol=TOL, rtol=TOL)
    # Caffe has no Transpose: the NHWC graph goes there with its interface turned around
    cf = _load(decoder[layout], keep_layout="nchw")
    assert "Transpose" not in [layer.kind for layer in cf.layers]
    prototxt = str(tmp_path / "decoder.prototxt")
    ck.save(cf, prototxt)
    got = run_opencv(prototxt, str(tmp_path / "decoder.caffemodel"), {"image": _nchw(decoder["x"])}, [out])[out]
    np.testing.assert_allclose(got, _nchw(decoder["y"]), atol=1e-4, rtol=1e-4)


def test_negative_pads_with_total_split_in_halves(tmp_path: Path) -> None:
    # Keras valid k4 s3 output_padding 2: tf2onnx writes pads (-1, -1) per axis; TensorFlow's two extra rows
    # are after the scatter
    keras.utils.set_random_seed(8)
    x = keras.Input((2, 3, 2), batch_size=1, name="image")
    m = keras.Model(x, keras.layers.Conv2DTranspose(2, 4, strides=3, padding="valid", output_padding=2)(x))
    path = _export(m, tmp_path / "neg.onnx", False, (1, 2, 3, 2))
    pads = [list(a.ints) for n in onnx.load(path).graph.node if n.op_type == "ConvTranspose" for a in n.attribute]
    assert any(p and min(p) < 0 for p in pads)
    data = np.random.default_rng(9).standard_normal((1, 2, 3, 2)).astype(np.float32)
    model = _load(path)
    want = m(data).numpy()
    np.testing.assert_allclose(ck.run(model, {"image": data})[model.outputs[0]], want, atol=TOL, rtol=TOL)
    ort = run_onnx(ck.to_onnx(model), {"image": data})[model.outputs[0]]
    np.testing.assert_allclose(ort, want, atol=TOL, rtol=TOL)


def test_seed_snippet_gives_the_seed_5x5(tmp_path: Path) -> None:
    kernel = tf.Variable(tf.ones((3, 3, 1, 1)), name="kernel1")  # the seed's get_variable

    @tf.function(input_signature=[tf.TensorSpec((None, 4), tf.float32, name="X")])
    def seed(x: object) -> object:
        x_mat = tf.reshape(x, (-1, 2, 2, 1))
        return tf.nn.conv2d_transpose(x_mat, kernel, output_shape=(1, 5, 5, 1), strides=(1, 2, 2, 1), padding="VALID")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proto, _ = tf2onnx.convert.from_function(seed, input_signature=seed.input_signature, opset=17)
    path = str(tmp_path / "seed.onnx")
    onnx.save(proto, path)
    model = ck.load(path, input_shapes={"X": (1, 4)})
    feeds = {"X": np.array([[1, 2, 3, 4]], np.float32)}
    (out,) = model.outputs
    np.testing.assert_array_equal(ck.run(model, feeds)[out].reshape(5, 5), SEED_5X5)
    np.testing.assert_array_equal(run_onnx(ck.to_onnx(model), feeds)[out].reshape(5, 5), SEED_5X5)
    # the same layer as a spec, in TensorFlow's own terms
    spec = ck.Model(
        [
            ck.Input(name="x", shape=(1, 1, 2, 2)),
            ck.Deconvolution(
                name="t_conv1",
                input="x",
                out_channels=1,
                kernel_shape=(3, 3),
                strides=(2, 2),
                padding=ck.Padding(convention="tensorflow", auto_pad="VALID", output_shape=(5, 5)),
                bias_term=False,
                weight=ck.Values(array=np.ones((1, 1, 3, 3), np.float32)),
            ),
        ]
    )
    spec_path = str(tmp_path / "seed.json")
    ck.save(spec, spec_path)
    again = ck.load(spec_path)
    got = ck.run(again, {"x": np.array([[[[1, 2], [3, 4]]]], np.float32)})["t_conv1"]
    np.testing.assert_array_equal(got[0, 0], SEED_5X5)


def test_conv2d_transpose_same_with_a_longer_output_on_one_axis(tmp_path: Path) -> None:
    # SAME, kernel 1x3, stride 2, input 3x3 -> output 6x6: the kernel-1 axis is one row short of the scatter
    # (tf2onnx: negative pads), the other is cropped (positive pads)
    rng = np.random.default_rng(10)
    w = tf.Variable(rng.standard_normal((1, 3, 2, 2)).astype(np.float32))  # frozen into an initializer

    @tf.function(input_signature=[tf.TensorSpec((1, 3, 3, 2), tf.float32, name="image")])
    def f(x: object) -> object:
        return tf.nn.conv2d_transpose(x, w, output_shape=(1, 6, 6, 2), strides=2, padding="SAME")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proto, _ = tf2onnx.convert.from_function(f, input_signature=f.input_signature, opset=17)
    path = str(tmp_path / "same.onnx")
    onnx.save(proto, path)
    data = rng.standard_normal((1, 3, 3, 2)).astype(np.float32)
    want = f(data).numpy()
    (node,) = [n for n in proto.graph.node if n.op_type == "ConvTranspose"]
    pads = [list(a.ints) for a in node.attribute if a.name == "pads"]
    if pads and min(pads[0]) < 0:
        model = _load(path)
    else:  # tf2onnx found another form (output_shape, a Pad)
        model = ck.load(path)
    (out,) = model.outputs
    np.testing.assert_allclose(ck.run(model, {"image": data})[out], want, atol=TOL, rtol=TOL)
    np.testing.assert_allclose(run_onnx(ck.to_onnx(model), {"image": data})[out], want, atol=TOL, rtol=TOL)
