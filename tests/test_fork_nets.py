"""The forks' whole nets (issue 9): SegNet, ENet, PSPNet-50 and PSPNet-101 from ../shared/data/caffe/ convert whole.

Each net gets a seeded caffemodel in the fork's own layout (``BN`` with the fork's blobs), encoded field by field
here (not by convertkit's caffemodel writer).  The model read from the original prototxt runs in onnxruntime (its
ONNX export) and in the reference; OpenCV, which has none of the fork layers, runs convertkit's stock Caffe export
(BatchNorm + Scale, the stock max-unpooling form) where the net is small enough to be worth it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from test_real_nets import _blob_parts, _field, _length_delimited

import convertkit

cv2 = pytest.importorskip("cv2")


@dataclass(frozen=True)
class ForkNet:
    file: str
    shape: tuple[int, int]  # H, W the test runs at
    dialect: str  # the fork the BN layers are written back in
    opencv: bool  # also run convertkit's stock export in OpenCV
    flips: float = 0.0  # the fraction of output elements a flipped max-pooling argmax may move (see _close)

    @property
    def id(self) -> str:
        return self.file.removesuffix(".prototxt")


NETS = [
    # SegNet's unpooling layers give explicit sizes (23x30, 45x60): only its own 360x480 input fits them
    # OpenCV's convolution sums round differently enough that flipped argmaxes cascade through SegNet's five
    # unpoolings (16% of the output moved, measured); its stock unpooling form is checked bit-exact on SegNet's own
    # pool -> unpool spans in tests/test_unpool.py instead
    ForkNet("segnet_segnet_inference.prototxt", (360, 480), "segnet", opencv=False, flips=0.005),
    # ENet (512x1024 in the deploy file) is fully convolutional: a multiple of 8 is enough
    ForkNet("enet_enet_deploy_final.prototxt", (64, 96), "segnet", opencv=True),
    # PSPNet's pyramid pools (kernels 60/30/20/10) and Interps (60x60) fix its input at 473x473
    ForkNet("pspnet50_ADE20K_473.prototxt", (473, 473), "pspnet", opencv=False),
    # PSPNet-101 at its 713x713 (pools 90/45/30/15): 81 s and 1.9 GB peak on the 2-core machine, one xdist worker
    ForkNet("pspnet_pspnet101_cityscapes_713.prototxt", (713, 713), "pspnet", opencv=False),
]


def seeded_fork_caffemodel(prototxt: Path, shape: tuple[int, ...], dialect: str, out: Path, seed: int = 0) -> None:
    """He-normal weights, small biases and positive BN scales / variances, in the fork's own blob layout."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fillers' zeros and initial statistics are replaced below
        model = convertkit.load(str(prototxt), input_shapes={"data": shape})
        blob_layers = convertkit.to_caffe(model, dialect=dialect).blob_layers
    rng = np.random.default_rng(seed)
    with open(out, "wb") as f:
        for name, kind, blobs in blob_layers:
            parts: list[bytes | memoryview] = [_field(1, name.encode()), _field(2, kind.encode())]
            for i, blob in enumerate(blobs):
                dims = tuple(int(d) for d in blob.shape)
                if kind == "BN" and len(blobs) == 4:  # PSPNet: slope, bias, mean, variance
                    values = [
                        rng.uniform(0.5, 1.5, dims),
                        0.1 * rng.standard_normal(dims),
                        0.1 * rng.standard_normal(dims),
                        rng.uniform(0.5, 1.5, dims),
                    ][i]
                elif kind == "BN":  # SegNet/ENet INFERENCE: scale, shift
                    values = [rng.uniform(0.5, 1.5, dims), 0.1 * rng.standard_normal(dims)][i]
                elif i == 0 and len(dims) >= 2:
                    values = rng.standard_normal(dims) * np.sqrt(2.0 / np.prod(dims[1:]))
                else:
                    values = 0.1 * rng.standard_normal(dims)
                parts += _length_delimited(7, _blob_parts(np.asarray(values, dtype=np.float32)))
            f.writelines(_length_delimited(100, parts))  # NetParameter.layer = 100


def _close(name: str, got: np.ndarray, want: np.ndarray, flips: float) -> None:
    """Equal within float32 tolerance, except on at most a fraction ``flips`` of the elements.

    A max pooling keeps the first of its window's largest values and the unpooling puts it back there.  Where two
    values of a window are within float32 rounding of each other, onnxruntime's, OpenCV's and the reference's own
    convolution sums (each in its order) can pick different ones, and the unpooled value then lands one pixel over:
    SegNet at 360x480 shows ~0.1% of its output so moved (its cut spans of pool -> unpool in tests/test_unpool.py
    are bit-exact, so are ENet's whole outputs here).  Nets without unpooling get ``flips=0``.
    """
    scale = float(np.abs(want).max()) or 1.0
    assert got.shape == want.shape, (name, got.shape, want.shape)
    bad = ~np.isclose(got, want, rtol=1e-3, atol=1e-4 * scale)
    assert bad.mean() <= flips, f"{name}: {bad.sum()} of {bad.size} elements differ ({bad.mean():.3%})"


@pytest.mark.slow
@pytest.mark.parametrize("net", NETS, ids=lambda n: n.id)
def test_fork_net_converts_whole_and_runs_equal(net: ForkNet, tmp_path: Path, shared_caffe_dir: Path) -> None:
    source = shared_caffe_dir / net.file
    shape = (1, 3, *net.shape)
    weights = tmp_path / f"{net.id}.caffemodel"
    seeded_fork_caffemodel(source, shape, net.dialect, weights)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = convertkit.load(str(source), weights=str(weights), input_shapes={"data": shape})
    # every blob has its values: no filler or initial-statistics warning
    assert not [str(w.message) for w in caught if "no weights" in str(w.message) or "no statistics" in str(w.message)]
    kinds = {layer.kind for layer in model.layers}
    assert "BatchNorm" in kinds
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    reference = convertkit.run(model, {model.inputs[0]: x})
    onnxruntime = convertkit.run(model, {model.inputs[0]: x}, backend="onnxruntime")
    for blob, want in reference.items():
        assert float(np.abs(want).max()) > 1e-3, f"{blob}: all but zero; the seeded weights say nothing"
        _close(f"onnxruntime vs reference: {blob}", onnxruntime[blob], want, net.flips)
    if net.opencv:
        stock = tmp_path / f"{net.id}.stock.prototxt"
        convertkit.save(model, str(stock))  # bvlc: BatchNorm + Scale, the stock max-unpooling form
        text = stock.read_text()
        assert 'type: "BN"' not in text and 'type: "Upsample"' not in text
        cvnet = cv2.dnn.readNetFromCaffe(str(stock), str(stock.with_suffix(".caffemodel")))
        cvnet.setInput(x, model.inputs[0])
        for blob, want in reference.items():
            _close(f"OpenCV (stock export) vs reference: {blob}", cvnet.forward(blob), want, net.flips)
        # and the fork's own dialect writes the fork's layers back
        fork = tmp_path / f"{net.id}.fork.prototxt"
        convertkit.save(model, str(fork), dialect=net.dialect)
        assert 'type: "BN"' in fork.read_text()
