"""The command line: every command on the bundled examples, exit codes 0/1/2, no traceback, fast start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from convertkit.cli import main

REPO = Path(__file__).resolve().parents[1]
EX = REPO / "examples"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "convertkit", *args], capture_output=True, text=True, cwd=REPO)


@pytest.mark.slow
def test_help_and_validate_do_not_import_onnxruntime():
    code = (
        "import sys\n"
        "from convertkit.cli import main\n"
        f"rc = main(['validate', {str(EX / 'seed_5x5.json')!r}])\n"
        "assert rc == 0, rc\n"
        "bad = [m for m in ('onnxruntime', 'onnx') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\nfrom convertkit.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\nassert 'onnxruntime' not in sys.modules",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr


@pytest.mark.slow
def test_convert_run_check_seed(tmp_path):
    out = tmp_path / "seed.onnx"
    r = _cli("convert", str(EX / "seed_5x5.json"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    onnx.checker.check_model(onnx.load(str(out)), full_check=True)
    npz = tmp_path / "out.npz"
    r = _cli("run", str(EX / "seed_5x5.json"), "--input", f"data={EX / 'seed_input.npy'}", "-o", str(npz))
    assert r.returncode == 0, r.stderr
    assert "deconv: 1x1x5x5 float32" in r.stdout
    y = np.load(npz)["deconv"][0, 0]
    assert y[2, 2] == 10 and y[0].tolist() == [1, 1, 3, 2, 2]
    r = _cli("run", str(out), "--input", f"data={EX / 'seed_input.npy'}")  # the exported ONNX directly
    assert r.returncode == 0 and "max 10" in r.stdout, r.stderr
    r = _cli("check", str(EX / "seed_5x5.json"), "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["passed"] and report["outputs"][0]["max_abs"] == 0.0


@pytest.mark.parametrize("example", ["bilinear_x2_21ch.json", "deconv3d_asymmetric.json", "upsample_resize.yaml"])
def test_check_examples(example):
    assert main(["check", str(EX / example)]) == 0


def test_run_reference_backend_and_seed(capsys):
    assert main(["run", str(EX / "deconv3d_asymmetric.json"), "--backend", "reference", "--seed", "3"]) == 0
    first = capsys.readouterr().out
    assert main(["run", str(EX / "deconv3d_asymmetric.json"), "--backend", "reference", "--seed", "3"]) == 0
    assert capsys.readouterr().out == first
    # per axis 2 * (6 - 1) + 3 + output_padding - pads: 13 + 1 - 1, 13 + 1 - 1, 13 + 0 - 2
    assert "up3d: 1x4x13x13x11 float32" in first


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, message",
    [
        (["validate", "absent.json"], "cannot read"),
        (["convert", str(EX / "seed_5x5.json"), "-o", "x.txt"], "cannot write .txt"),
        (["convert", str(EX / "seed_5x5.json"), "-o", "x.onnx", "--opset", "7"], "outside the supported range"),
        (["run", str(EX / "seed_5x5.json"), "--input", "data"], "NAME=FILE.npy"),
        (["run", str(EX / "seed_5x5.json"), "--input", "nope=x.npy"], "cannot read input"),
        (
            [
                "run",
                str(EX / "seed_5x5.json"),
                "--input",
                f"data={EX / 'seed_input.npy'}",
                "--input",
                f"extra={EX / 'seed_input.npy'}",
            ],
            "unknown input",
        ),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_user_errors_exit_2_with_one_line(args, message, tmp_path):
    r = subprocess.run([sys.executable, "-m", "convertkit", *args], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_bad_spec_exit_2_with_json_path(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"layers": [{"type": "Input", "name": "x", "shape": [1, 0]}]}))
    r = _cli("validate", str(bad))
    assert r.returncode == 2 and "$.layers[0].shape[1]" in r.stderr and "Traceback" not in r.stderr


def test_check_failure_exits_1_and_leaves_a_reproduction(monkeypatch, capsys, tmp_path):
    import convertkit.runtime as runtime

    real = runtime.run_onnx

    def perturbed(proto, inputs):
        return {k: v + 1e-2 for k, v in real(proto, inputs).items()}

    monkeypatch.setattr(runtime, "run_onnx", perturbed)
    repro = tmp_path / "repro"
    src = str(EX / "seed_5x5.json")
    assert main(["check", src, "--input", f"data={EX / 'seed_input.npy'}", "--repro-dir", str(repro)]) == 1
    captured = capsys.readouterr()
    assert "FAIL" in captured.out and "max abs 0.01" in captured.out
    assert f"reproduction saved in {repro}/" in captured.err
    # The saved files reproduce the run: the unperturbed runtime on them gives the reference.
    monkeypatch.setattr(runtime, "run_onnx", real)
    feeds = {"data": np.load(repro / "input0_data.npy")}
    np.testing.assert_array_equal(feeds["data"], np.load(EX / "seed_input.npy"))
    got = real(onnx.load(str(repro / "model.onnx")), feeds)["deconv"]
    np.testing.assert_array_equal(got, np.load(repro / "reference.npz")["deconv"])
    assert np.load(repro / "reference.npz")["deconv"][0, 0, 2, 2] == 10


@pytest.mark.parametrize("opset", [13, 22])
def test_opset_range_ends(opset, tmp_path):
    for example in ("bilinear_x2_21ch.json", "upsample_resize.yaml", "deconv3d_asymmetric.json"):
        out = tmp_path / f"m{opset}.onnx"
        assert main(["convert", str(EX / example), "-o", str(out), "--opset", str(opset)]) == 0
        proto = onnx.load(str(out))
        assert proto.opset_import[0].version == opset
        assert main(["check", str(EX / example), "--opset", str(opset)]) == 0


@pytest.mark.slow
def test_options_that_do_not_apply_are_refused(tmp_path):
    import convertkit as ck

    with pytest.raises(ck.FormatError, match="do not apply to reading .onnx"):
        ck.load(str(EX / "same_upper_head.onnx"), weights="x.caffemodel")
    with pytest.raises(ck.FormatError, match="do not apply to writing .onnx"):
        ck.save(ck.load(str(EX / "seed_5x5.json")), str(tmp_path / "m.onnx"), dialect="pspnet")
    r = _cli("convert", str(EX / "seed_5x5.json"), "-o", str(tmp_path / "m.onnx"), "--no-weights")
    assert r.returncode == 2 and "applies to a .prototxt output only" in r.stderr


@pytest.mark.slow
def test_foreign_warnings_print_once_and_do_not_hang(tmp_path):
    # An input holding infinities makes numpy warn inside the reference; the CLI used to re-record its own
    # re-emitted warnings forever.
    a = np.ones((1, 1, 2, 2), np.float32)
    a[0, 0, 0, 0], a[0, 0, 1, 1] = np.inf, -np.inf
    np.save(tmp_path / "inf.npy", a)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "convertkit",
            "check",
            str(EX / "seed_5x5.json"),
            "--input",
            f"data={tmp_path / 'inf.npy'}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode in (0, 1), r.stderr
    warning_lines = [line for line in r.stderr.splitlines() if "warning" in line]
    assert len(warning_lines) == len(set(warning_lines))


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, message",
    [
        (["check", str(EX / "seed_5x5.json"), "--seed", "-1"], "non-negative integer"),
        (["check", str(EX / "seed_5x5.json"), "--atol", "nan"], "finite number >= 0"),
        (["check", str(EX / "seed_5x5.json"), "--rtol", "-5"], "finite number >= 0"),
        (["convert", str(EX / "seed_5x5.json"), "-o", "x.onnx", "--compact"], "--compact apply to a .prototxt"),
        (["convert", str(EX / "seed_5x5.json"), "-o", "x.onnx", "--seed", "3"], "--seed apply to a .prototxt"),
        (
            ["check", str(EX / "seed_5x5.json"), "--caffe-dialect", "pspnet"],
            "applies with --caffe or a .prototxt source",
        ),
        (["check", str(EX / "same_upper_head.onnx"), "--opset", "13"], "checked as it is"),
        (["run", str(EX / "same_upper_head.onnx"), "--opset", "13"], "runs as it is"),
    ],
)
def test_nonsense_options_are_user_errors(args, message, tmp_path):
    r = subprocess.run([sys.executable, "-m", "convertkit", *args], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr


@pytest.mark.slow
def test_npz_given_as_input_and_odd_output_names(tmp_path):
    np.savez(tmp_path / "in.npz", data=np.ones((1, 1, 2, 2), np.float32))
    r = _cli("run", str(EX / "seed_5x5.json"), "--input", f"data={tmp_path / 'in.npz'}")
    assert r.returncode == 2 and "is an .npz archive" in r.stderr
    # Output names that np.savez reserves ('file', 'allow_pickle') and a path without .npz are written as given.
    spec = json.loads((EX / "seed_5x5.json").read_text())
    spec["layers"][1]["name"] = "file"
    spec["outputs"] = ["file"]
    (tmp_path / "m.json").write_text(json.dumps(spec))
    out = tmp_path / "out.bin"
    r = _cli("run", str(tmp_path / "m.json"), "--input", f"data={EX / 'seed_input.npy'}", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert np.load(out)["file"][0, 0, 2, 2] == 10


def test_repro_dir_that_cannot_be_written(monkeypatch, tmp_path, capsys):
    import convertkit.runtime as runtime

    real = runtime.run_onnx
    monkeypatch.setattr(runtime, "run_onnx", lambda p, i: {k: v + 1 for k, v in real(p, i).items()})
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["check", str(EX / "seed_5x5.json"), "--repro-dir", str(blocker)]) == 2
    assert "reproduction cannot be saved" in capsys.readouterr().err


@pytest.mark.slow
def test_run_onnx_with_symbolic_input_on_onnxruntime(tmp_path):
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((2, 1, 2, 2), np.float32), "w")
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2], group=2)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [w],
    )
    path = tmp_path / "sym.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    r = _cli("run", str(path))
    assert r.returncode == 2 and "--input-shape x=N,C,H,W" in r.stderr
    r = _cli("run", str(path), "--input-shape", "x=1,2,3,4")
    assert r.returncode == 0 and "y: 1x2x6x8 float32" in r.stdout, r.stderr


@pytest.mark.slow
def test_non_utf8_spec(tmp_path):
    (tmp_path / "enc.json").write_bytes(b"\xff\xfe{}")
    r = _cli("validate", str(tmp_path / "enc.json"))
    assert r.returncode == 2 and "not a UTF-8 text file" in r.stderr


@pytest.mark.slow
def test_empty_or_garbage_onnx(tmp_path):
    (tmp_path / "empty.onnx").write_bytes(b"")
    (tmp_path / "garbage.onnx").write_bytes(b"garbage")
    r = _cli("check", str(tmp_path / "empty.onnx"))
    assert r.returncode == 2 and "is not an ONNX model" in r.stderr
    r = _cli("run", str(tmp_path / "garbage.onnx"))
    assert r.returncode == 2 and "cannot read ONNX model" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_run_onnx_feed_checked_against_declared_inputs(tmp_path):
    out = tmp_path / "seed.onnx"
    assert main(["convert", str(EX / "seed_5x5.json"), "-o", str(out)]) == 0
    np.save(tmp_path / "bad.npy", np.ones((1, 1, 3, 3), np.float32))
    r = _cli("run", str(out), "--input", f"data={tmp_path / 'bad.npy'}")
    assert r.returncode == 2 and "has shape [1, 1, 3, 3], the ONNX model declares [1, 1, 2, 2]" in r.stderr
    r = _cli("run", str(EX / "seed_5x5.json"), "-o", os.devnull)
    assert r.returncode == 0, r.stderr
