"""Keras files read without TensorFlow, checked against TensorFlow itself (skipped where tensorflow is absent).

The oracle is Keras on the TensorFlow backend: a decoder (Conv2DTranspose same/valid with output_padding,
UpSampling2D nearest and bilinear, Conv2D, BatchNormalization with trained-looking statistics, Concatenate) saved
as ``.keras`` and legacy ``.h5`` is read by convertkit, run on the reference, exported to ONNX (onnxruntime) and
Caffe (OpenCV), and every output equals TensorFlow's.  Small seeded sweeps compare the reference with
``tf.nn.conv2d_transpose`` and ``tf.image.resize``; the seed's 2x2 -> 5x5 example goes through a Keras file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
pytest.importorskip("h5py")

import convertkit as ck  # noqa: E402
from convertkit.errors import UnsupportedError  # noqa: E402
from convertkit.formats.caffe.opencv import run_opencv  # noqa: E402
from convertkit.runtime import run_onnx  # noqa: E402

L = keras.layers
# TensorFlow's variables and Keras's HDF5 writer warn about their own NumPy 2 and legacy-format use.
pytestmark = [
    pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file:UserWarning"),
]
TOL = 2e-5
SEED_5X5 = np.array(
    [[1, 1, 3, 2, 2], [1, 1, 3, 2, 2], [4, 4, 10, 6, 6], [3, 3, 7, 4, 4], [3, 3, 7, 4, 4]], dtype=np.float32
)


def _decoder(channels_last: bool = True) -> keras.Model:
    keras.utils.set_random_seed(0)
    fmt = "channels_last" if channels_last else "channels_first"
    shape = (5, 6, 3) if channels_last else (3, 5, 6)
    axis = -1 if channels_last else 1
    x = keras.Input(shape, batch_size=1, name="image")
    a = L.Conv2D(4, 3, padding="same", activation="relu", data_format=fmt, name="enc")(x)
    b = L.BatchNormalization(axis=axis, epsilon=1e-3, name="bn")(a)
    up1 = L.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1, data_format=fmt, name="up_same")(b)
    up2 = L.Conv2DTranspose(3, 4, strides=2, padding="valid", output_padding=1, data_format=fmt, name="up_valid")(b)
    up2 = L.Cropping2D(((1, 2), (1, 2)), data_format=fmt, name="crop")(up2)
    near = L.UpSampling2D(2, interpolation="nearest", data_format=fmt, name="near")(b)
    lin = L.UpSampling2D(2, interpolation="bilinear", data_format=fmt, name="lin")(b)
    near = L.Conv2D(3, 1, data_format=fmt, name="near_proj")(near)
    cat = L.Concatenate(axis=axis, name="cat")([up1, up2, near, lin])
    out = L.Conv2D(2, 3, padding="same", data_format=fmt, name="head")(L.ZeroPadding2D(1, data_format=fmt)(cat))
    model = keras.Model(x, out)
    rng = np.random.default_rng(1)
    bn = model.get_layer("bn")
    gamma, beta, mean, var = bn.get_weights()
    bn.set_weights(
        [
            rng.uniform(0.5, 1.5, gamma.shape).astype(np.float32),
            rng.normal(size=beta.shape).astype(np.float32),
            rng.normal(size=mean.shape).astype(np.float32),
            rng.uniform(0.5, 2.0, var.shape).astype(np.float32),
        ]
    )
    for name in ("up_same", "up_valid"):
        layer = model.get_layer(name)
        k, bias = layer.get_weights()
        layer.set_weights([k, rng.normal(size=bias.shape).astype(np.float32)])
    return model


@pytest.fixture(scope="module")
def decoder_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("keras")
    model = _decoder()
    x = np.random.default_rng(2).standard_normal((1, 5, 6, 3)).astype(np.float32)
    paths = {"keras": str(root / "decoder.keras"), "h5": str(root / "decoder.h5")}
    model.save(paths["keras"])
    model.save(paths["h5"])
    return {"paths": paths, "x": x, "y": model(x).numpy(), "root": root}


def _nchw(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(a, -1, 1))


@pytest.mark.parametrize("kind", ["keras", "h5"])
def test_decoder_equals_tensorflow_in_reference_onnxruntime_and_opencv(decoder_files, kind, tmp_path: Path) -> None:
    x, y = decoder_files["x"], decoder_files["y"]
    model = ck.load(decoder_files["paths"][kind])
    assert model.inputs == ("image",) and model.types["image"].shape == (1, 3, 5, 6)
    feeds = {"image": _nchw(x)}
    (out,) = model.outputs
    ref = ck.run(model, feeds)[out]
    np.testing.assert_allclose(ref, _nchw(y), atol=TOL, rtol=TOL)
    ort = run_onnx(ck.to_onnx(model), feeds)[out]
    np.testing.assert_allclose(ort, _nchw(y), atol=TOL, rtol=TOL)
    if kind == "keras":
        prototxt = str(tmp_path / "decoder.prototxt")
        ck.save(model, prototxt)
        cv = run_opencv(prototxt, str(tmp_path / "decoder.caffemodel"), feeds, [out])[out]
        np.testing.assert_allclose(cv, _nchw(y), atol=1e-4, rtol=1e-4)


def test_keep_layout_nhwc_keeps_the_keras_interface(decoder_files) -> None:
    x, y = decoder_files["x"], decoder_files["y"]
    model = ck.load(decoder_files["paths"]["keras"], keep_layout="nhwc")
    assert model.types["image"].shape == (1, 5, 6, 3)
    assert [layer.kind for layer in model.layers].count("Transpose") == 2
    (out,) = model.outputs
    ort = run_onnx(ck.to_onnx(model), {"image": x})[out]
    np.testing.assert_allclose(ort, y, atol=TOL, rtol=TOL)
    with pytest.raises(UnsupportedError, match="Transpose"):
        ck.to_caffe(model)


def test_channels_first_decoder(tmp_path: Path) -> None:
    model = _decoder(channels_last=False)
    path = str(tmp_path / "cf.keras")
    model.save(path)
    x = np.random.default_rng(3).standard_normal((1, 3, 5, 6)).astype(np.float32)
    try:
        y = model(x).numpy()
    except Exception as exc:  # TensorFlow's CPU kernels lack some NCHW convolutions
        pytest.skip(f"TensorFlow cannot run this channels_first model on CPU: {type(exc).__name__}")
    got = ck.load(path)
    np.testing.assert_allclose(ck.run(got, {"image": x})[got.outputs[0]], y, atol=TOL, rtol=TOL)


def test_seed_example_through_a_keras_file(tmp_path: Path) -> None:
    x = keras.Input((2, 2, 1), batch_size=1, name="X")
    y = L.Conv2DTranspose(1, 3, strides=2, padding="valid", use_bias=False, kernel_initializer="ones")(x)
    path = str(tmp_path / "seed.keras")
    keras.Model(x, y).save(path)
    model = ck.load(path)
    out = ck.run(model, {"X": np.array([[[[1, 2], [3, 4]]]], np.float32)})[model.outputs[0]]
    np.testing.assert_array_equal(out[0, 0], SEED_5X5)


def test_unsupported_layers_are_listed_in_one_error(tmp_path: Path) -> None:
    x = keras.Input((4, 4, 2), batch_size=1)
    y = L.Dense(3, name="dense")(L.Flatten(name="flat")(L.Conv2D(2, 3, name="conv")(x)))
    path = str(tmp_path / "bad.keras")
    keras.Model(x, y).save(path)
    with pytest.raises(UnsupportedError, match=r"2 Keras layer\(s\).*Flatten \(flat\); Dense \(dense\)"):
        ck.load(path)


def test_unknown_spatial_size_asks_for_a_shape(tmp_path: Path) -> None:
    x = keras.Input((None, None, 2), name="inp")
    path = str(tmp_path / "dyn.keras")
    keras.Model(x, L.Conv2DTranspose(2, 3, strides=2, padding="same")(x)).save(path)
    with pytest.raises(UnsupportedError, match="--input-shape"):
        ck.load(path)
    model = ck.load(path, input_shapes={"inp": (1, 3, 5, 2)})
    assert model.types[model.outputs[0]].shape == (1, 2, 6, 10)


@pytest.mark.parametrize("ndim", [1, 3])
def test_1d_and_3d_layers(tmp_path: Path, ndim: int) -> None:
    keras.utils.set_random_seed(4)
    shape = (7, 2) if ndim == 1 else (3, 4, 3, 2)
    x = keras.Input(shape, batch_size=1)
    conv_t = L.Conv1DTranspose if ndim == 1 else L.Conv3DTranspose
    conv = L.Conv1D if ndim == 1 else L.Conv3D
    up = L.UpSampling1D(3) if ndim == 1 else L.UpSampling3D((2, 1, 2))
    h = conv_t(3, 3, strides=2, padding="valid", output_padding=1)(x)
    h = conv(2, 2, padding="same", activation="tanh")(up(h))
    path = str(tmp_path / f"d{ndim}.keras")
    m = keras.Model(x, h)
    m.save(path)
    data = np.random.default_rng(5).standard_normal((1, *shape)).astype(np.float32)
    model = ck.load(path)
    got = ck.run(model, {model.inputs[0]: _nchw(data)})[model.outputs[0]]
    np.testing.assert_allclose(got, _nchw(m(data).numpy()), atol=TOL, rtol=TOL)


def test_resizing_and_activations(tmp_path: Path) -> None:
    x = keras.Input((5, 7, 2), batch_size=1)
    outs = [L.Resizing(9, 4, interpolation=method, name=f"resize_{method}")(x) for method in ("bilinear", "nearest")]
    outs.append(L.LeakyReLU(negative_slope=0.1)(x))
    outs.append(L.ELU(alpha=0.5)(x))
    outs.append(L.Activation("sigmoid")(x))
    m = keras.Model(x, outs)
    path = str(tmp_path / "resize.keras")
    m.save(path)
    data = np.random.default_rng(6).standard_normal((1, 5, 7, 2)).astype(np.float32)
    want = [t.numpy() for t in m(data)]
    model = ck.load(path)
    got = ck.run(model, {model.inputs[0]: _nchw(data)})
    for name, w in zip(model.outputs, want, strict=True):
        np.testing.assert_allclose(got[name], _nchw(w), atol=1e-5, rtol=1e-5, err_msg=name)


CONV_T_SWEEP = [
    # (input size, kernel, stride, padding, output size)
    (2, 3, 2, "VALID", 5),
    (2, 3, 2, "VALID", 6),
    (3, 3, 2, "SAME", 6),
    (3, 3, 2, "SAME", 5),
    (3, 4, 3, "VALID", 11),
    (2, 4, 3, "VALID", 9),
    (4, 2, 3, "SAME", 12),
    (4, 5, 3, "SAME", 10),
]


@pytest.mark.parametrize("i, k, s, padding, o", CONV_T_SWEEP)
def test_reference_equals_tf_nn_conv2d_transpose(i: int, k: int, s: int, padding: str, o: int) -> None:
    rng = np.random.default_rng(i * 100 + k * 10 + s)
    x = rng.standard_normal((1, i, i + 1, 2)).astype(np.float32)
    w = rng.standard_normal((k, k, 3, 2)).astype(np.float32)  # TF: (k, k, out, in)
    ow = (i + 1) * s + (max(k - s, 0) if padding == "VALID" else 0)  # TF's default width; the height is o
    o2 = tf.nn.conv2d_transpose(x, w, (1, o, ow, 3), s, padding).numpy()
    layer = ck.Deconvolution(
        name="d",
        input="x",
        out_channels=3,
        kernel_shape=(k, k),
        strides=(s, s),
        padding=ck.Padding(convention="tensorflow", auto_pad=padding, output_shape=o2.shape[1:3]),
        bias_term=False,
        weight=ck.Values(array=np.transpose(w, (3, 2, 0, 1)).copy()),
    )
    model = ck.Model([ck.Input(name="x", shape=(1, 2, i, i + 1)), layer])
    got = ck.run(model, {"x": _nchw(x)})["d"]
    np.testing.assert_allclose(got, _nchw(o2), atol=1e-5, rtol=1e-5)
    ort = run_onnx(ck.to_onnx(model), {"x": _nchw(x)})["d"]
    np.testing.assert_allclose(ort, _nchw(o2), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("method", ["bilinear", "nearest"])
@pytest.mark.parametrize("size", [(7, 3), (10, 12), (4, 6)])
def test_reference_equals_tf_image_resize(method: str, size: tuple[int, int]) -> None:
    x = np.random.default_rng(7).standard_normal((1, 4, 6, 2)).astype(np.float32)
    want = tf.image.resize(x, size, method=method).numpy()
    from convertkit.layers.upsample.keras import _RESIZE

    layer = ck.Upsample(name="u", input="x", sizes=size, **_RESIZE[method])
    model = ck.Model([ck.Input(name="x", shape=(1, 2, 4, 6)), layer])
    np.testing.assert_allclose(ck.run(model, {"x": _nchw(x)})["u"], _nchw(want), atol=1e-5, rtol=1e-5)


def test_bicubic_is_refused_naming_the_measured_difference(tmp_path: Path) -> None:
    x = keras.Input((4, 4, 1), batch_size=1)
    path = str(tmp_path / "bicubic.keras")
    keras.Model(x, L.UpSampling2D(2, interpolation="bicubic")(x)).save(path)
    with pytest.raises(UnsupportedError, match="bicubic.*7e-4"):
        ck.load(path)


def test_cli_converts_a_keras_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from convertkit.cli import main

    x = keras.Input((4, 4, 2), batch_size=1, name="image")
    path = str(tmp_path / "m.keras")
    keras.Model(x, L.Conv2DTranspose(2, 3, strides=2, padding="same", name="up")(x)).save(path)
    out = str(tmp_path / "m.onnx")
    assert main(["convert", path, "-o", out]) == 0
    assert "wrote" in capsys.readouterr().out
    assert ck.load(out).types["up"].shape == (1, 2, 8, 8)
    assert main(["convert", path, "--keep-layout", "nhwc", "-o", out]) == 0
    assert ck.load(out).types["up"].shape == (1, 8, 8, 2)
    assert main(["convert", path, "--inputs", "image", "-o", out]) == 2
