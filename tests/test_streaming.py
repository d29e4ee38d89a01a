"""Big models stream: the caffemodel is read and written one layer at a time (codec/caffemodel.py), ONNX
weights can go to external data; each must give exactly what the whole-message protobuf path gives.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

import convertkit as ck
from convertkit.codec.caffe import blob_to_array, pb, read_caffemodel
from convertkit.codec.caffemodel import write_caffemodel
from convertkit.formats.caffe import read_weights, save_caffe, to_caffe


def _model() -> ck.Model:
    rng = np.random.default_rng(11)
    return ck.Model(
        [
            ck.Input(name="x", shape=(1, 3, 8, 8)),
            ck.Convolution(
                name="conv",
                input="x",
                out_channels=8,
                kernel_shape=(5, 5),
                weight=ck.Values(array=rng.standard_normal((8, 3, 5, 5)).astype(np.float32)),
                bias=ck.Values(array=rng.standard_normal(8).astype(np.float32)),
            ),
            ck.Deconvolution(
                name="up",
                input="conv",
                out_channels=2,
                kernel_shape=(4, 4),
                strides=(2, 2),
                weight=ck.Values(array=rng.standard_normal((8, 2, 4, 4)).astype(np.float32)),
            ),
        ]
    )


def test_streamed_caffemodel_is_the_bytes_protobuf_writes(tmp_path: Path):
    exported = to_caffe(_model())
    streamed = io.BytesIO()
    exported.write_caffemodel(streamed)
    assert streamed.getvalue() == exported.weights.SerializeToString()
    save_caffe(_model(), str(tmp_path / "net.prototxt"))
    assert (tmp_path / "net.caffemodel").read_bytes() == exported.weights.SerializeToString()


def _whole_message_weights(path: str) -> dict[str, list[np.ndarray]]:
    """The reader before streaming: parse the whole NetParameter, then copy each blob."""
    net = read_caffemodel(path)
    return {lp.name: [blob_to_array(b, lp.name) for b in lp.blobs] for lp in net.layer if len(lp.blobs)}


def _assert_same(got: dict, want: dict) -> None:
    assert list(got) == list(want)
    for name in want:
        assert len(got[name]) == len(want[name])
        for a, b in zip(got[name], want[name], strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape
            assert a.tobytes() == b.tobytes(), name


def test_streamed_reader_gives_the_whole_message_readers_blobs(tmp_path: Path):
    save_caffe(_model(), str(tmp_path / "net.prototxt"))
    path = str(tmp_path / "net.caffemodel")
    _assert_same(read_weights(path), _whole_message_weights(path))


def test_streamed_reader_on_legacy_blobs_v1_layers_double_data_and_unpacked_fields(tmp_path: Path):
    net = pb.NetParameter()
    net.name = "legacy"
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 3, 1, 2)).astype(np.float32)
    lp = net.layer.add()
    lp.name, lp.type = "legacy4d", "Convolution"
    blob = lp.blobs.add()
    blob.num, blob.channels, blob.height, blob.width = a.shape
    blob.data.extend(a.ravel().tolist())
    blob.diff.extend([1.0] * a.size)  # skipped
    lp2 = net.layer.add()
    lp2.name, lp2.type, lp2.bottom[:] = "doubles", "Bias", ["x"]
    blob = lp2.blobs.add()
    blob.shape.dim.extend([5])
    blob.double_data.extend(rng.standard_normal(5).tolist())
    v1 = net.layers.add()
    v1.name = "v1conv"
    v1.type = pb.V1LayerParameter.CONVOLUTION
    blob = v1.blobs.add()
    blob.shape.dim.extend([2, 2])
    blob.data.extend([1.5, -2.0, 3.25, 0.0])
    no_blobs = net.layer.add()
    no_blobs.name, no_blobs.type = "relu", "ReLU"
    path = tmp_path / "legacy.caffemodel"
    data = net.SerializeToString()
    # an unpacked float field (old writers): key 0x2d (field 5, fixed32) per value, in a layer's blob
    extra = pb.NetParameter()
    e = extra.layer.add()
    e.name, e.type = "unpacked", "Scale"
    inner = pb.BlobProto()
    inner.shape.dim.extend([2])
    blob_bytes = inner.SerializeToString() + b"".join(b"\x2d" + np.float32(v).tobytes() for v in (0.5, -1.0))
    layer_bytes = e.SerializeToString() + b"\x3a" + bytes([len(blob_bytes)]) + blob_bytes
    data += b"\xa2\x06" + bytes([len(layer_bytes)]) + layer_bytes  # field 100, length-delimited
    path.write_bytes(data)
    got = read_weights(str(path))
    want = _whole_message_weights(str(path))
    assert sorted(got) == sorted(want) == ["doubles", "legacy4d", "unpacked", "v1conv"]
    for name in want:
        for x, y in zip(got[name], want[name], strict=True):
            assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), name
    np.testing.assert_array_equal(got["legacy4d"][0], a)
    np.testing.assert_array_equal(got["unpacked"][0], [0.5, -1.0])


def test_streamed_reader_errors_are_one_line_format_errors(tmp_path: Path):
    bad = tmp_path / "bad.caffemodel"
    bad.write_bytes(b"\xa2\x06\xff\x01abc")  # a layer of 255 bytes in a 7-byte file
    with pytest.raises(ck.FormatError, match=r"is not a binary Caffe NetParameter \(\.caffemodel\)"):
        read_weights(str(bad))
    net = pb.NetParameter()
    lp = net.layer.add()
    lp.name = "w"
    blob = lp.blobs.add()
    blob.shape.dim.extend([2, 2])
    blob.data.extend([1.0, 2.0, 3.0])
    bad.write_bytes(net.SerializeToString())
    with pytest.raises(ck.FormatError, match=r"layer 'w' blob 0: blob has 3 values, its shape \[2, 2\] needs 4"):
        read_weights(str(bad))


def test_write_caffemodel_round_trips_through_protobuf():
    arrays = [np.arange(6, dtype=np.float32).reshape(2, 3), np.float32([7.0])]
    f = io.BytesIO()
    write_caffemodel(f, "n", [("a", "InnerProduct", arrays), ("empty", "Bias", [np.zeros(0, np.float32)])])
    net = pb.NetParameter()
    net.ParseFromString(f.getvalue())
    assert net.name == "n" and [lp.name for lp in net.layer] == ["a", "empty"]
    np.testing.assert_array_equal(blob_to_array(net.layer[0].blobs[0], "a"), arrays[0])
    assert list(net.layer[1].blobs[0].shape.dim) == [0]


def test_streamed_inline_onnx_is_the_model_to_onnx_gives(tmp_path: Path):
    import onnx

    from convertkit.formats.onnx import save_onnx, to_onnx

    path = tmp_path / "net.onnx"
    assert save_onnx(_model(), str(path)) is False
    assert not (tmp_path / "net.onnx.data").exists()
    written = onnx.load(str(path))
    assert written == to_onnx(_model())  # same message (fields in another order on the wire)
    onnx.checker.check_model(str(path), full_check=True)


def test_external_data_onnx_written_atomically_and_read_back(tmp_path: Path):
    import onnx

    from convertkit.formats.onnx import save_onnx, to_onnx
    from convertkit.runtime import run_onnx

    path = tmp_path / "net.onnx"
    assert save_onnx(_model(), str(path), threshold=1000) is True  # forced: 3424 weight bytes > 1000
    data = tmp_path / "net.onnx.data"
    assert data.exists() and data.stat().st_size == (8 * 3 * 5 * 5 + 8 * 2 * 4 * 4) * 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.onnx", "net.onnx.data"]  # no temporaries
    header = onnx.load(str(path), load_external_data=False)
    external = [t.name for t in header.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    assert len(external) == 2 and path.stat().st_size < 2000
    onnx.checker.check_model(str(path), full_check=True)
    back = ck.load(str(path))
    x = np.random.default_rng(2).standard_normal((1, 3, 8, 8)).astype(np.float32)
    want = ck.run(_model(), {"x": x})
    got = ck.run(back, {"x": x})
    np.testing.assert_array_equal(got["up"], want["up"])
    np.testing.assert_array_equal(back.layer("conv").weight.array, _model().layer("conv").weight.array)
    ort = run_onnx(to_onnx(back), {"x": x})
    np.testing.assert_allclose(ort["up"], want["up"], rtol=1e-4, atol=1e-4 * float(np.abs(want["up"]).max()))
    assert save_onnx(_model(), str(path), external_data=False) is False  # forced inline


def test_external_data_outside_the_models_folder_is_refused(tmp_path: Path):
    import onnx

    from convertkit.formats.onnx import save_onnx

    path = tmp_path / "net.onnx"
    save_onnx(_model(), str(path), external_data=True)
    header = onnx.load(str(path), load_external_data=False)
    for t in header.graph.initializer:
        for entry in t.external_data:
            if entry.key == "location":
                entry.value = "../outside.data"
    (tmp_path.parent / "outside.data").write_bytes((tmp_path / "net.onnx.data").read_bytes())
    evil = tmp_path / "evil.onnx"
    evil.write_bytes(header.SerializeToString())
    with pytest.raises(ck.FormatError, match="evil.onnx"):
        ck.load(str(evil))


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_and_not_quiet(monkeypatch):
    from convertkit import progress

    monkeypatch.setenv("TERM", "xterm")
    try:
        assert progress.configure(quiet=False, stream=io.StringIO()) is False  # not a TTY
        with progress.bar(10**9, "writing x") as update:
            assert update is None
        assert progress.configure(quiet=True, stream=_Tty()) is False
        tty = _Tty()
        assert progress.configure(quiet=False, stream=tty) is True
        monkeypatch.setattr(progress, "DELAY", 0)
        with progress.bar(2048, "writing net.caffemodel") as update:
            assert update is not None
            update(1024)
            update(1024)
        assert "writing net.caffemodel" in tty.getvalue()
    finally:
        progress.configure(quiet=True, stream=None)


@pytest.mark.slow
def test_cli_convert_is_quiet_when_stderr_is_not_a_terminal_and_help_does_not_import_tqdm(tmp_path: Path):
    import subprocess
    import sys

    save_caffe(_model(), str(tmp_path / "net.prototxt"))
    r = subprocess.run(
        [sys.executable, "-m", "convertkit", "convert", "net.prototxt", "--weights", "net.caffemodel"]
        + ["-o", "net.onnx", "--external-data"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr == "" and "net.onnx.data" in r.stdout
    assert (tmp_path / "net.onnx.data").exists()
    code = (
        "import sys, convertkit.cli as c\ntry: c.main(['--help'])\nexcept SystemExit: pass\n"
        "print('tqdm' in sys.modules)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip().endswith("False"), r.stdout + r.stderr


@pytest.mark.parametrize("external", [False, True])
def test_streamed_onnx_reader_gives_onnx_loads_arrays(tmp_path: Path, external: bool):
    import onnx
    from onnx import numpy_helper

    from convertkit.formats.onnx import read_onnx_streamed, save_onnx

    path = tmp_path / "net.onnx"
    save_onnx(_model(), str(path), external_data=external)
    want = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}
    proto, arrays = read_onnx_streamed(str(path))
    assert len(arrays) == 2  # the two weights; the bias (32 bytes) stays in the message
    for t in proto.graph.initializer:
        got = arrays[t.name] if t.name in arrays else numpy_helper.to_array(t)
        assert got.dtype == want[t.name].dtype and got.tobytes() == want[t.name].tobytes()
    if external:
        header = onnx.load(str(path), load_external_data=False)
        for t in header.graph.initializer:
            for entry in t.external_data:
                if entry.key == "length":
                    entry.value = str(10**9)
        path.write_bytes(header.SerializeToString())
        with pytest.raises(ck.FormatError, match=r"external data offset \d+ length 1000000000 lie outside"):
            read_onnx_streamed(str(path))
