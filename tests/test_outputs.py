"""Outputs never destroy a source, replace an existing file only atomically, and leave nothing behind on failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import convertkit as ck
from convertkit.cli import main
from convertkit.codec.files import write_atomically

REPO = Path(__file__).resolve().parents[1]


def _net(tmp_path: Path) -> Path:
    src = tmp_path / "net.prototxt"
    src.write_text((REPO / "examples" / "fcn_head.prototxt").read_text())
    return src


def _digest(paths: list[Path]) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in paths if p.exists()}


def test_an_output_that_is_a_source_is_refused_and_the_sources_stay(tmp_path, capsys):
    src = _net(tmp_path)
    assert main(["convert", str(src), "--fill-missing", "bilinear", "-o", str(tmp_path / "again.prototxt")]) == 0
    pair = [tmp_path / "again.prototxt", tmp_path / "again.caffemodel"]
    before = _digest(pair)
    capsys.readouterr()
    rc = main(["convert", str(pair[0]), "--weights", str(pair[1]), "-o", str(pair[0])])
    err = capsys.readouterr().err
    assert rc == 2 and "refusing to write" in err and "is the source" in err, err
    assert _digest(pair) == before
    # the caffemodel beside a .prototxt output counts too
    rc = main(["convert", str(src), "--weights", str(pair[1]), "-o", str(tmp_path / "again.prototxt")])
    assert rc == 2 and _digest(pair) == before


def test_no_clobber_refuses_an_existing_output(tmp_path, capsys):
    src = _net(tmp_path)
    out = tmp_path / "net.onnx"
    out.write_bytes(b"keep me")
    rc = main(["convert", str(src), "--fill-missing", "bilinear", "-o", str(out), "--no-clobber"])
    assert rc == 2 and "--no-clobber" in capsys.readouterr().err
    assert out.read_bytes() == b"keep me"
    assert main(["convert", str(src), "--fill-missing", "bilinear", "-o", str(out)]) == 0
    assert out.read_bytes() != b"keep me"


def test_a_failed_export_leaves_nothing_at_the_output_and_no_temporaries(tmp_path):
    model = ck.Model([ck.Input(name="x", shape=(1, 2, 3, 3)), ck.Pad(name="p", input="x", pads=(1, 1, 1, 1), value=2)])
    with pytest.raises(ck.UnsupportedError, match="no stock Caffe form"):
        ck.save(model, str(tmp_path / "m.prototxt"))
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()], ids=["error", "interrupt"])
def test_an_interrupted_write_replaces_no_file_and_removes_its_temporaries(tmp_path, monkeypatch, failure):
    first, second = tmp_path / "net.prototxt", tmp_path / "net.caffemodel"
    first.write_text("old")
    real_replace = os.replace

    def replace(src: str, dst: str) -> None:
        if dst.endswith(".caffemodel"):
            raise failure
        real_replace(src, dst)

    # the failure comes before any rename when the first rename is the one that fails: order them so
    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises((ck.FormatError, KeyboardInterrupt)):
        write_atomically({str(second): b"new blobs", str(first): "new net"})
    assert first.read_text() == "old" and not second.exists()
    assert sorted(os.listdir(tmp_path)) == ["net.prototxt"]


def test_writing_into_a_missing_folder_names_the_target(tmp_path):
    target = tmp_path / "missing" / "m.onnx"
    with pytest.raises(ck.FormatError, match=r"cannot write '.*missing/m\.onnx'"):
        write_atomically({str(target): b"x"})
