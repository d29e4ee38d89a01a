"""A small FCN-8s (the real decoder: score_fr -> upscore2 -> crop + score_pool4 -> upscore_pool4 -> crop +
score_pool3 -> upscore8 -> crop; a narrow 5-pool encoder) as a Caffe prototxt + caffemodel with FCN's surgery
weights (diagonal bilinear 21x21 deconvolutions) and seeded gaussian convolutions, and as caffe2onnx writes it."""

from __future__ import annotations

import dataclasses
import os
import subprocess

import numpy as np

C2O_PYTHON = "/work/venv-c2o/bin/python"
N = 21


def _conv(name, bottom, num, k=3, pad=1):
    return f"""layer {{ name: "{name}" type: "Convolution" bottom: "{bottom}" top: "{name}"
  convolution_param {{ num_output: {num} kernel_size: {k} pad: {pad}
    weight_filler {{ type: "gaussian" std: 0.1 }} bias_filler {{ type: "gaussian" std: 0.1 }} }} }}
"""


def _relu_pool(i, bottom):
    return f"""layer {{ name: "relu{i}" type: "ReLU" bottom: "{bottom}" top: "{bottom}" }}
layer {{ name: "pool{i}" type: "Pooling" bottom: "{bottom}" top: "pool{i}"
  pooling_param {{ pool: MAX kernel_size: 2 stride: 2 }} }}
"""


def _deconv(name, bottom, k, s):
    return f"""layer {{ name: "{name}" type: "Deconvolution" bottom: "{bottom}" top: "{name}"
  param {{ lr_mult: 0 }} convolution_param {{ num_output: {N} bias_term: false kernel_size: {k} stride: {s}
    weight_filler {{ type: "constant" value: 0 }} }} }}
"""


def _crop(name, bottom, like, offset):
    return f"""layer {{ name: "{name}" type: "Crop" bottom: "{bottom}" bottom: "{like}" top: "{name}"
  crop_param {{ axis: 2 offset: {offset} }} }}
"""


def _sum(name, a, b):
    return f"""layer {{ name: "{name}" type: "Eltwise" bottom: "{a}" bottom: "{b}" top: "{name}"
  eltwise_param {{ operation: SUM }} }}
"""


def prototxt(size: int = 192) -> str:
    text = f'name: "fcn8s_small"\ninput: "data"\ninput_shape {{ dim: 1 dim: 3 dim: {size} dim: {size} }}\n'
    bottom = "data"
    for i, width in enumerate((8, 16, 16, 16, 32), start=1):
        text += _conv(f"conv{i}", bottom, width) + _relu_pool(i, f"conv{i}")
        bottom = f"pool{i}"
    text += _conv("score_fr", "pool5", N, 1, 0) + _deconv("upscore2", "score_fr", 4, 2)
    text += _conv("score_pool4", "pool4", N, 1, 0) + _crop("upscore2c", "upscore2", "score_pool4", 1)
    text += _sum("fuse_pool4", "upscore2c", "score_pool4") + _deconv("upscore_pool4", "fuse_pool4", 4, 2)
    text += _conv("score_pool3", "pool3", N, 1, 0) + _crop("upscore_pool4c", "upscore_pool4", "score_pool3", 1)
    text += _sum("fuse_pool3", "upscore_pool4c", "score_pool3") + _deconv("upscore8", "fuse_pool3", 16, 8)
    text += _crop("score", "upscore8", "data", 4)
    return text


def write_caffe(folder: str, size: int = 192) -> tuple[str, str]:
    """``(prototxt, caffemodel)``: gaussian convolutions (seed 0), diagonal bilinear deconvolutions."""
    from convertkit.fillers import Values, bilinear_kernel
    from convertkit.formats.caffe import load_caffe, save_caffe
    from convertkit.ir import Model
    from convertkit.layers.deconvolution import Deconvolution

    src = os.path.join(folder, "fcn8s_small_fillers.prototxt")
    with open(src, "w") as f:
        f.write(prototxt(size))
    model = load_caffe(src, seed=0)
    layers = []
    for layer in model.layers:
        if isinstance(layer, Deconvolution):
            w = np.zeros((N, N, *layer.kernel_shape), np.float32)
            w[np.arange(N), np.arange(N)] = bilinear_kernel(layer.kernel_shape)
            layer = dataclasses.replace(layer, weight=Values(array=w))
        layers.append(layer)
    out = os.path.join(folder, "fcn8s_small.prototxt")
    save_caffe(Model(layers, model.outputs, model.name), out)
    return out, out.removesuffix(".prototxt") + ".caffemodel"


C2O = """
import sys
from caffe2onnx.src.load_save_model import loadcaffemodel, saveonnxmodel
from caffe2onnx.src.caffe2onnx import Caffe2Onnx
prototxt, caffemodel, onnx_path = sys.argv[1:4]
graph, params = loadcaffemodel(prototxt, caffemodel)
saveonnxmodel(Caffe2Onnx(graph, params, onnx_path).createOnnxModel(), onnx_path)
"""


def write_caffe2onnx(folder: str, size: int = 192, python: str = C2O_PYTHON) -> str | None:
    """The small FCN-8s as caffe2onnx writes it (None when no Python with caffe2onnx is there)."""
    if not os.path.exists(python):
        return None
    proto, weights = write_caffe(folder, size)
    out = os.path.join(folder, "fcn8s_small_caffe2onnx.onnx")
    subprocess.run([python, "-c", C2O, proto, weights, out], check=True, capture_output=True, cwd=folder)
    return out
