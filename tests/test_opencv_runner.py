"""The OpenCV runner (formats/caffe/opencv.py): OpenCV runs in a child process, so its crashes and hangs are
errors naming OpenCV, the net and the signal; and a whole net (FCN-8s deploy) runs with OpenCV's numbers equal to
convertkit's reference and onnxruntime's.
"""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pytest

import convertkit as ck
from convertkit.codec.caffe import format_prototxt, read_prototxt
from convertkit.formats.caffe import load_caffe, run_opencv, save_caffe
from convertkit.formats.caffe.opencv import CRASH_HOOK
from convertkit.runtime import run_onnx

cv2 = pytest.importorskip("cv2")
if not hasattr(cv2, "dnn") or not hasattr(cv2.dnn, "readNetFromCaffe"):
    pytest.skip("this OpenCV has no Caffe reader (opencv-python-headless<5 has)", allow_module_level=True)

FCN8S = Path("/work/shared/data/caffe/fcn_voc-fcn8s_deploy.prototxt")


def _small_net(tmp_path: Path) -> tuple[str, str, dict[str, np.ndarray]]:
    model = ck.Model(
        [
            ck.Input(name="x", shape=(1, 2, 4, 4)),
            ck.Upsample(name="up", input="x", scales=(2, 2), mode="nearest"),
        ]
    )
    prototxt = str(tmp_path / "net.prototxt")
    save_caffe(model, prototxt)
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4)).astype(np.float32)
    return prototxt, str(tmp_path / "net.caffemodel"), {"x": x}


def test_a_crash_in_the_child_is_one_error_naming_opencv_the_net_and_the_signal(tmp_path, monkeypatch):
    prototxt, caffemodel, feeds = _small_net(tmp_path)
    monkeypatch.setenv(CRASH_HOOK, str(int(signal.SIGSEGV)))
    with pytest.raises(ck.ConvertkitError) as info:
        run_opencv(prototxt, caffemodel, feeds, ["up"])
    message = str(info.value)
    assert message.startswith("OpenCV crashed running "), message
    assert prototxt in message and "signal 11 (SIGSEGV)" in message, message
    monkeypatch.delenv(CRASH_HOOK)
    # the next run starts a fresh child
    (got,) = run_opencv(prototxt, caffemodel, feeds, ["up"]).values()
    np.testing.assert_array_equal(got, feeds["x"].repeat(2, axis=2).repeat(2, axis=3))


def test_a_hang_is_stopped_and_named(tmp_path, monkeypatch):
    prototxt, caffemodel, feeds = _small_net(tmp_path)
    monkeypatch.setenv(CRASH_HOOK, str(int(signal.SIGSTOP)))  # the child stops itself: a hang
    with pytest.raises(ck.ConvertkitError, match=r"OpenCV did not finish running .*net\.prototxt.* within 0\.5 s"):
        run_opencv(prototxt, caffemodel, feeds, ["up"], timeout=0.5)
    monkeypatch.delenv(CRASH_HOOK)
    assert run_opencv(prototxt, caffemodel, feeds, ["up"])["up"].shape == (1, 2, 8, 8)


def test_an_opencv_error_is_named_and_the_child_keeps_serving(tmp_path):
    prototxt, caffemodel, feeds = _small_net(tmp_path)
    # valid Caffe (the axis split among the tops) that OpenCV 4.x fails on ('out_port < out.size()')
    (tmp_path / "slice.prototxt").write_text(
        'layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 1 dim: 2 dim: 4 dim: 4 } } }\n'
        'layer { name: "s" type: "Slice" bottom: "x" top: "a" top: "b" top: "c" slice_param { axis: 2 } }\n'
    )
    x = np.zeros((1, 2, 6, 4), np.float32)
    with pytest.raises(ck.ConvertkitError, match=r"OpenCV cannot run .*slice\.prototxt: OpenCV\(4"):
        run_opencv(str(tmp_path / "slice.prototxt"), None, {"x": x}, ["a"])
    assert run_opencv(prototxt, caffemodel, feeds, ["up"])["up"].shape == (1, 2, 8, 8)


def _seeded_fcn8s(tmp_path: Path) -> Path:
    """FCN-8s deploy with seeded fillers (msra weights, gaussian biases; deconvolutions gaussian): every blob
    non-trivial, so a misaddressed output or a mis-read blob shows."""
    net = read_prototxt(str(FCN8S))
    for lp in net.layer:
        if lp.type in ("Convolution", "Deconvolution"):
            cp = lp.convolution_param
            cp.weight_filler.type = "msra" if lp.type == "Convolution" else "gaussian"
            cp.weight_filler.std = 0.1
            cp.bias_filler.type = "gaussian"
            cp.bias_filler.std = 0.1
    path = tmp_path / "fcn8s_filled.prototxt"
    path.write_text(format_prototxt(net))
    return path


@pytest.mark.slow
@pytest.mark.skipif(not FCN8S.exists(), reason="needs /work/shared/data/caffe/fcn_voc-fcn8s_deploy.prototxt")
def test_whole_fcn8s_deploy_opencv_equals_reference_equals_onnxruntime(tmp_path):
    shape = (1, 3, 64, 64)  # pad 100 in conv1_1 makes a small input valid
    filled = load_caffe(str(_seeded_fcn8s(tmp_path)), input_shapes={"data": shape}, seed=3)
    save_caffe(filled, str(tmp_path / "seeded.prototxt"))  # convertkit's writer makes the caffemodel
    caffemodel = str(tmp_path / "seeded.caffemodel")
    del filled
    model = load_caffe(str(FCN8S), weights=caffemodel, input_shapes={"data": shape})
    x = np.random.default_rng(5).uniform(-1, 1, shape).astype(np.float32)
    got = run_opencv(str(FCN8S), caffemodel, {"data": x}, ["score"], model=model)["score"]
    reference = ck.run(model, {"data": x}, backend="reference")["score"]
    ort = run_onnx(ck.to_onnx(model), {"data": x})["score"]
    assert got.shape == reference.shape == ort.shape == (1, 21, 64, 64)
    scale = float(np.abs(reference).max())
    assert scale > 1e-3 and float(reference.std()) > 1e-4 * scale  # not a net of zeros
    np.testing.assert_allclose(got, reference, rtol=1e-3, atol=1e-4 * scale)
    np.testing.assert_allclose(ort, reference, rtol=1e-3, atol=1e-4 * scale)
