"""Real networks from ../shared/data/caffe/ converted whole, with seeded weights, run in three runtimes.

For each net: a seeded caffemodel is made for the original prototxt (blob shapes from convertkit's reading of the
net; the values are seeded He-normal draws written here with the raw protobuf, so the weights are independent of
convertkit's fillers).  Then, on the same input:

- OpenCV's Caffe reader runs the *original* net (its train-only layers — the Python data layer, SoftmaxWithLoss —
  removed here by editing the parsed prototxt, as a user writes a deploy.prototxt) with that caffemodel;
- convertkit reads the original prototxt + caffemodel and runs its NumPy reference;
- convertkit's ONNX export of it runs in onnxruntime.

All three must agree, at the net's own size and at an odd, non-square one (the fixed crop offsets must still
line up).  A net whose original OpenCV cannot read as its authors' Caffe did (HED's fork Crop, RCF's AutoCrop:
offsets from coordinate maps) runs in OpenCV as convertkit's stock export (Crop with crop_param) instead.
FCN-8s deploy at 75x61 is the quick row; the others are marked slow (CI runs them all).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import convertkit
from convertkit.codec.caffe import parse_prototxt, pb

cv2 = pytest.importorskip("cv2")
pytest.importorskip("onnxruntime")

#: Layer types a deploy.prototxt leaves out: data layers and the train-only heads.
TRAIN_ONLY = {"Python", "Data", "SoftmaxWithLoss", "Accuracy", "DenseImageData"}


@dataclass(frozen=True)
class Net:
    file: str
    full: tuple[int, int]  # the input size the net's authors used (H, W)
    #: the warnings reading it must give (regexes), besides the note on dropped train-only layers
    warns: tuple[str, ...] = ()
    #: the Caffe dialect it is read with (None: detected)
    dialect: str | None = None
    #: OpenCV runs convertkit's stock export, not the original: the original's layers mean something else to
    #: OpenCV's BVLC reader (the fork's Crop without crop_param) or nothing at all (RCF's AutoCrop)
    opencv_on_export: bool = False

    @property
    def id(self) -> str:
        return self.file.removesuffix(".prototxt")


NETS = [
    Net("fcn_voc-fcn8s_deploy.prototxt", (500, 500)),
    Net("fcn_voc-fcn32s_val.prototxt", (500, 500)),
    Net("fcn_voc-fcn16s_val.prototxt", (500, 500)),
    Net("fcn_voc-fcn8s-atonce_val.prototxt", (500, 500)),
    Net("fcn_voc-fcn-alexnet_val.prototxt", (500, 500)),
    Net("fcn_nyud-fcn32s-color_test.prototxt", (425, 560)),
    Net("fcn_pascalcontext-fcn8s_val.prototxt", (500, 500)),
    Net("fcn_siftflow-fcn16s_test.prototxt", (256, 256)),
    # five `crop` layers of one name and no crop_param: detected as the HED fork's coordinate-map Crop (offsets
    # 34, 35, 36, 38, 42, with a warning); OpenCV would read them as BVLC's (offset 0), so it runs the export
    Net(
        "hed_deploy.prototxt",
        (500, 500),
        (r"layer 'crop' \(Crop\): no crop_param; read as the FCN-era Caffe fork's Crop", r"crop x5; the later ones"),
        opencv_on_export=True,
    ),
    # RCF's AutoCrop: the same coordinate-map Crop under its own name (offsets 1, 2, 4, 0)
    Net("rcf_test_vgg16.prototxt", (224, 224), dialect="fcn", opencv_on_export=True),
]
#: The other size: odd and not square (the crop offsets, fixed in the prototxt, must still line up).
SMALL = (75, 61)


def deploy_text(source: Path, shape: tuple[int, ...]) -> str:
    """The net as its deploy.prototxt would be: an ``input`` of ``shape`` and no train-only layers (TEST phase)."""
    from google.protobuf import text_format

    net = parse_prototxt(source.read_text(), str(source))
    kept = []
    for lp in net.layer:
        if lp.type in TRAIN_ONLY or any(rule.phase == pb.TRAIN for rule in lp.include):
            continue
        kept.append(lp)
    out = pb.NetParameter()
    out.name = net.name
    data = out.layer.add()
    data.name, data.type = "data", "Input"
    data.top.append("data")
    data.input_param.shape.add().dim.extend(shape)
    for lp in kept:
        if lp.type == "Input":
            continue
        out.layer.add().CopyFrom(lp)
    return text_format.MessageToString(out)


def net_outputs(text: str) -> list[tuple[str, str]]:
    """``(blob, layer)`` for each blob no layer reads, with the last layer writing it (OpenCV asks by layer)."""
    net = parse_prototxt(text, "deploy")
    read = {b for lp in net.layer for b in lp.bottom}
    writer: dict[str, str] = {}
    order: list[str] = []
    for lp in net.layer:
        for top in lp.top:
            writer[top] = lp.name
            if top not in order:
                order.append(top)
    return [(b, writer[b]) for b in order if b not in read]


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _blob_parts(values: np.ndarray) -> list[bytes | memoryview]:
    """A BlobProto's encoding, in pieces: shape = 7 (BlobShape: dim = 1, packed int64), data = 5 (packed float) —
    Caffe's caffe.proto.  The data piece is the array's own buffer (no copy)."""
    dims = b"".join(_varint(int(d)) for d in values.shape)
    data = memoryview(np.ascontiguousarray(values, dtype="<f4")).cast("B")
    return [_field(7, _field(1, dims)), _varint(5 << 3 | 2) + _varint(data.nbytes), data]


def _length_delimited(number: int, parts: list[bytes | memoryview]) -> list[bytes | memoryview]:
    """``_field(number, b"".join(parts))`` in pieces: the header, then the parts uncopied."""
    return [_varint(number << 3 | 2) + _varint(sum(len(p) for p in parts)), *parts]


def seeded_caffemodel(prototxt: Path, shape: tuple[int, ...], out: Path, seed: int = 0) -> None:
    """A caffemodel for ``prototxt`` with seeded He-normal weights and small seeded biases / statistics.

    The blob shapes come from convertkit's export of the net; the file is encoded here, field by field, so a
    fault in convertkit's caffemodel writer cannot hide behind it.  The pieces are written as they are made
    (a full-size FCN's 538 MB of weights used to be concatenated several times over: half of a real-net row's
    time).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no weights and no weight_filler": the zeros are replaced below
        model = convertkit.load(str(prototxt), input_shapes={"data": shape})
        blob_layers = convertkit.to_caffe(model).blob_layers  # (name, type, zero arrays of the blob shapes)
    rng = np.random.default_rng(seed)
    with open(out, "wb") as f:
        for name, kind, blobs in blob_layers:
            parts: list[bytes | memoryview] = [_field(1, name.encode()), _field(2, kind.encode())]
            for i, blob in enumerate(blobs):
                dims = tuple(int(d) for d in blob.shape)
                if kind == "BatchNorm":
                    # mean, variance (positive), scale factor (Caffe divides the statistics by it)
                    values = [rng.standard_normal(dims), rng.uniform(0.5, 1.5, dims), np.full(dims, 2.0)][i]
                elif i == 0 and len(dims) >= 2:
                    values = rng.standard_normal(dims, dtype=np.float32)
                    values *= np.float32(np.sqrt(2.0 / np.prod(dims[1:])))
                else:
                    values = rng.standard_normal(dims, dtype=np.float32) * np.float32(0.1)
                parts += _length_delimited(7, _blob_parts(values))
            # LayerParameter: name = 1, type = 2, blobs = 7; NetParameter: layer = 100
            f.writelines(_length_delimited(100, parts))


#: net id -> its seeded caffemodel (the blob shapes of these fully convolutional nets do not depend on the size)
_SEEDED: dict[str, Path] = {}


def run_three(net: Net, shape: tuple[int, ...], tmp: Path, shared_caffe_dir: Path) -> None:
    source = shared_caffe_dir / net.file
    if net.id not in _SEEDED:
        seeded_caffemodel(source, shape, tmp / f"{net.id}.caffemodel")
        _SEEDED[net.id] = tmp / f"{net.id}.caffemodel"
    caffemodel = _SEEDED[net.id]
    deploy = tmp / f"{net.id}.deploy.prototxt"
    text = deploy_text(source, shape)
    deploy.write_text(text)

    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = convertkit.load(str(source), weights=str(caffemodel), input_shapes={"data": shape}, dialect=net.dialect)
    cv_weights = caffemodel
    if net.opencv_on_export:
        deploy = tmp / f"{net.id}.export.prototxt"
        convertkit.save(model, str(deploy))
        text, cv_weights = deploy.read_text(), deploy.with_suffix(".caffemodel")
    cvnet = cv2.dnn.readNetFromCaffe(str(deploy), str(cv_weights))
    cvnet.setInput(x, "data")
    outputs = net_outputs(text)
    opencv = dict(zip([b for b, _ in outputs], cvnet.forward([layer for _, layer in outputs]), strict=True))
    notes = [str(w.message) for w in caught]
    train_only = [lp.name for lp in parse_prototxt(source.read_text(), str(source)).layer if lp.type.endswith("Loss")]
    # the one note naming the train-only layers it dropped and the net's own warnings, nothing else (every blob has
    # its weights)
    patterns = [*net.warns, *([rf"dropped {len(train_only)} layer\(s\) that only train"] if train_only else [])]
    assert all(any(re.search(p, n) for p in patterns) for n in notes), notes
    assert all(any(re.search(p, n) for n in notes) for p in patterns), (patterns, notes)
    assert sorted(model.outputs) == sorted(opencv), (model.outputs, list(opencv))
    reference = convertkit.run(model, {model.inputs[0]: x})
    onnxruntime = convertkit.run(model, {model.inputs[0]: x}, backend="onnxruntime")
    for blob, want in opencv.items():
        scale = float(np.abs(want).max()) or 1.0
        assert scale > 1e-3, f"{blob}: OpenCV's output is all but zero; the seeded weights say nothing"
        for name, got in (("reference", reference[blob]), ("onnxruntime", onnxruntime[blob])):
            assert got.shape == want.shape, (name, blob)
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=2e-5 * scale, err_msg=f"{name} vs OpenCV: {blob}")


@pytest.mark.parametrize(
    "net", [pytest.param(n, marks=[] if i == 0 else [pytest.mark.slow], id=n.id) for i, n in enumerate(NETS)]
)
def test_real_net_three_runtimes(net: Net, tmp_path_factory: pytest.TempPathFactory, shared_caffe_dir: Path) -> None:
    run_three(net, (1, 3, *SMALL), tmp_path_factory.mktemp(net.id), shared_caffe_dir)


@pytest.mark.slow
@pytest.mark.parametrize("net", NETS, ids=lambda n: n.id)
def test_real_net_full_size(net: Net, tmp_path_factory: pytest.TempPathFactory, shared_caffe_dir: Path) -> None:
    run_three(net, (1, 3, *net.full), tmp_path_factory.mktemp(net.id), shared_caffe_dir)
