"""The command line: every command on the bundled examples, exit codes 0/1/2, no traceback, fast start."""

from __future__ import annotations

import json
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
    feeds = {"data": np.load(repro / "input_data.npy")}
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


def test_options_that_do_not_apply_are_refused(tmp_path):
    import convertkit as ck

    with pytest.raises(ck.FormatError, match="do not apply to reading .onnx"):
        ck.load(str(EX / "same_upper_head.onnx"), weights="x.caffemodel")
    with pytest.raises(ck.FormatError, match="do not apply to writing .onnx"):
        ck.save(ck.load(str(EX / "seed_5x5.json")), str(tmp_path / "m.onnx"), dialect="pspnet")
    r = _cli("convert", str(EX / "seed_5x5.json"), "-o", str(tmp_path / "m.onnx"), "--no-weights")
    assert r.returncode == 2 and "apply to a .prototxt output only" in r.stderr
