"""Real PyTorch decoders exported by ``torch.onnx.export`` and converted ONNX -> prototxt + caffemodel.

Each net is what super-resolution and GAN code really holds: a DCGAN generator (ConvTranspose2d + BatchNorm2d +
ReLU, Tanh), a U-Net decoder (Conv2d + ReLU, MaxPool2d, ConvTranspose2d skips joined by torch.cat, BatchNorm2d),
and FSRCNN (Conv2d + PReLU, the ConvTranspose2d k9 s3 p4 output_padding 2 tail).  Oracles: PyTorch's own output,
onnxruntime on PyTorch's ONNX file, and OpenCV's Caffe reader on convertkit's prototxt + caffemodel — all equal.
Both exporters are covered: the TorchScript one (``dynamo=False``, what older code runs) and, where it
installs, the dynamo one.  Skipped without torch.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
cv2 = pytest.importorskip("cv2")
ort = pytest.importorskip("onnxruntime")

from test_torch_export import quiet_torchscript_exporter  # noqa: E402

import convertkit as ck  # noqa: E402
from convertkit.formats.onnx_import import from_onnx  # noqa: E402

nn = torch.nn


def _randomise_bn(module: Any) -> Any:
    """Batch statistics and affine parameters a trained net would have (fresh ones are 0/1: they say nothing)."""
    g = torch.Generator().manual_seed(7)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.2)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.randn(m.num_features, generator=g) * 0.3 + 1)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    return module


def dcgan_generator() -> Any:
    # The DCGAN reference generator (pytorch/examples dcgan), at a small width: z 16 -> 3x32x32.
    nz, ngf = 16, 8
    return nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
        nn.BatchNorm2d(ngf * 4),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ngf * 2),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ngf),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False),
        nn.Tanh(),
    )


class UNet(nn.Module):
    """A two-level U-Net: conv blocks with BatchNorm, max-pool down, ConvTranspose2d up, skips by torch.cat."""

    def __init__(self, c: int = 3, w: int = 8, classes: int = 4) -> None:
        super().__init__()

        def block(i: int, o: int) -> Any:
            return nn.Sequential(
                nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.Conv2d(o, o, 3, padding=1), nn.ReLU()
            )

        self.enc1, self.enc2, self.mid = block(c, w), block(w, 2 * w), block(2 * w, 4 * w)
        self.pool = nn.MaxPool2d(2)
        self.up2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)
        self.dec2 = block(4 * w, 2 * w)
        self.up1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2)
        self.dec1 = block(2 * w, w)
        self.head = nn.Conv2d(w, classes, 1)

    def forward(self, x: Any) -> Any:
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        m = self.mid(self.pool(e2))
        d2 = self.dec2(torch.cat([self.up2(m), e2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
        return self.head(d1)


def fsrcnn(scale: int = 3, d: int = 16, s: int = 8, m: int = 2) -> Any:
    # FSRCNN (Dong et al. 2016) as PyTorch ports write it: feature extraction, shrink, m mapping layers, expand,
    # then a k9 ConvTranspose2d with stride = scale, padding 4 and output_padding scale - 1.
    layers: list[Any] = [nn.Conv2d(1, d, 5, padding=2), nn.PReLU(d), nn.Conv2d(d, s, 1), nn.PReLU(s)]
    for _ in range(m):
        layers += [nn.Conv2d(s, s, 3, padding=1), nn.PReLU(s)]
    layers += [nn.Conv2d(s, d, 1), nn.PReLU(d)]
    layers.append(nn.ConvTranspose2d(d, 1, 9, stride=scale, padding=4, output_padding=scale - 1))
    return nn.Sequential(*layers)


NETS = {
    "dcgan-generator": (dcgan_generator, (1, 16, 1, 1)),
    "unet": (UNet, (1, 3, 24, 20)),
    "fsrcnn-x3": (fsrcnn, (1, 1, 13, 11)),
}


def _export(make: Any, shape: tuple[int, ...], opset: int) -> tuple[bytes, np.ndarray, np.ndarray]:
    torch.manual_seed(0)
    module = _randomise_bn(make()).eval()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    buffer = io.BytesIO()
    with quiet_torchscript_exporter():
        torch.onnx.export(
            module,
            (torch.from_numpy(x),),
            buffer,
            dynamo=False,
            opset_version=opset,
            input_names=["x"],
            output_names=["y"],
        )
    return buffer.getvalue(), x, expected


@pytest.mark.parametrize("opset", [11, 17])
@pytest.mark.parametrize("name", list(NETS))
def test_torch_decoder_to_caffe_runs_in_opencv(name: str, opset: int, tmp_path: Path) -> None:
    make, shape = NETS[name]
    data, x, expected = _export(make, shape, opset)
    (tmp_path / "net.onnx").write_bytes(data)
    # onnxruntime on PyTorch's own file is the first oracle
    (theirs,) = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, {"x": x})
    np.testing.assert_allclose(theirs, expected, rtol=1e-4, atol=1e-5)

    model = from_onnx(onnx.load_from_string(data))
    ck.save(model, str(tmp_path / "net.prototxt"))
    net = cv2.dnn.readNetFromCaffe(str(tmp_path / "net.prototxt"), str(tmp_path / "net.caffemodel"))
    net.setInput(x, model.inputs[0])
    exported = ck.to_caffe(model)
    # OpenCV names some layers by their top (a Convolution, 4.x): ask by whichever name it knows
    layer = exported.output_layers[model.outputs[0]]
    known = set(net.getLayerNames())
    got = net.forward(layer if layer in known else model.outputs[0])
    assert got.shape == expected.shape
    scale = float(np.abs(expected).max())
    np.testing.assert_allclose(got, theirs, rtol=1e-4, atol=1e-5 * max(scale, 1.0))
    # and the prototxt reads back into the same model
    back = ck.load(str(tmp_path / "net.prototxt"), weights=str(tmp_path / "net.caffemodel"))
    np.testing.assert_allclose(ck.run(back, {back.inputs[0]: x})[back.outputs[0]], theirs, rtol=1e-4, atol=1e-5)
