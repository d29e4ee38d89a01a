"""A real Caffe runtime as peer: OpenCV's dnn module runs every emitted Caffe model with onnxruntime's numbers.

One table of configurations (a seeded sweep of deconvolutions plus hand-picked upsample rows); every row is
exported to ONNX (run by onnxruntime) and to prototxt + caffemodel (run by OpenCV's Caffe reader), on the same
seeded input.  Known OpenCV gaps are xfail rows with the reason.  Skipped when opencv-python-headless (4.x; 5.x
dropped the Caffe reader) is absent.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

import convertkit as ck
from convertkit.formats.caffe import save_caffe
from convertkit.runtime import run_onnx

cv2 = pytest.importorskip("cv2")
if not hasattr(cv2, "dnn") or not hasattr(cv2.dnn, "readNetFromCaffe"):
    pytest.skip("this OpenCV has no Caffe reader (opencv-python-headless<5 has)", allow_module_level=True)


def _deconv_sweep(count: int, seed: int) -> list[tuple[str, dict, str | None]]:
    """Seeded random 2-D deconvolutions: asymmetric pads, output_padding (also past the extent), groups, bias."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        group = int(rng.choice([1, 1, 2, 3]))
        c = group * int(rng.integers(1, 3))
        m = group * int(rng.integers(1, 3))
        k = tuple(int(v) for v in rng.integers(1, 5, size=2))
        s = tuple(int(v) for v in rng.integers(1, 4, size=2))
        d = tuple(int(v) for v in rng.choice([1, 1, 1, 2], size=2))
        pads = tuple(int(rng.integers(0, kk)) for kk in k) + tuple(int(rng.integers(0, kk)) for kk in k)
        op = tuple(int(rng.integers(0, max(ss, dd))) for ss, dd in zip(s, d, strict=True))
        bias = bool(rng.integers(0, 2))
        spatial = tuple(int(v) for v in rng.integers(2, 6, size=2))
        cfg = dict(
            shape=(1, c, *spatial),
            out_channels=m,
            kernel_shape=k,
            strides=s,
            dilations=d,
            pads=pads,
            output_padding=op,
            group=group,
            bias_term=bias,
        )
        # Dilated rows pass in OpenCV (which ignores Caffe's dilation) because the writer densifies every dilated
        # axis into zero taps and never emits ``dilation``.
        rows.append(
            (f"deconv{i}-c{c}m{m}g{group}-k{k[0]}x{k[1]}-s{s[0]}x{s[1]}-d{d[0]}x{d[1]}-p{pads}-op{op}", cfg, None)
        )
    return rows


HAND_DECONV = [
    ("seed-5x5", dict(shape=(1, 1, 2, 2), out_channels=1, kernel_shape=(3, 3), strides=(2, 2)), None),
    ("caffe-test-2x3x6x4", dict(shape=(2, 3, 6, 4), out_channels=4, kernel_shape=(3, 3), strides=(2, 2)), None),
    ("caffe-test-group3", dict(shape=(2, 3, 6, 4), out_channels=3, kernel_shape=(3, 3), strides=(2, 2), group=3), None),
    (
        "pad-begin-only",
        dict(shape=(1, 2, 4, 4), out_channels=2, kernel_shape=(4, 4), strides=(2, 2), pads=(1, 1, 0, 0)),
        None,
    ),
    (
        "output-padding-past-extent",
        dict(
            shape=(1, 2, 3, 3),
            out_channels=3,
            kernel_shape=(1, 1),
            strides=(3, 3),
            output_padding=(2, 1),
            bias_term=True,
        ),
        None,
    ),
    (
        "square-dilated-symmetric",
        dict(
            shape=(1, 2, 4, 4), out_channels=2, kernel_shape=(3, 3), strides=(2, 2), dilations=(2, 2), pads=(1, 1, 1, 1)
        ),
        None,
    ),
    (
        "dilated-k2-d2-1x1x3x3",
        dict(shape=(1, 1, 3, 3), out_channels=1, kernel_shape=(2, 2), dilations=(2, 2)),
        None,
    ),
    (
        "dilated-asymmetric-densified",
        dict(
            shape=(1, 2, 4, 4), out_channels=2, kernel_shape=(3, 3), strides=(2, 2), dilations=(2, 2), pads=(0, 1, 2, 0)
        ),
        None,
    ),
]

UPSAMPLE = [
    (f"{mode}-{ctm}-x{f}", dict(mode=mode, coordinate_transformation_mode=ctm, scales=f, shape=(1, 3, *hw)), None)
    for (mode, ctm), f, hw in itertools.product(
        [
            ("nearest", "half_pixel"),
            ("nearest", "asymmetric"),
            ("linear", "half_pixel"),
            ("linear", "pytorch_half_pixel"),
        ],
        [(2, 2), (3, 2), (4, 1)],
        [(5, 4), (1, 2)],
    )
    if not (ctm == "asymmetric")
] + [
    (
        "nearest-asymmetric-floor-x3",
        dict(
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
            scales=(3, 3),
            shape=(1, 2, 3, 4),
        ),
        None,
    ),
    (
        "nearest-asymmetric-round-x2",  # x = i / 2 rounds half down: row i // 2, a ones kernel is exact
        dict(mode="nearest", coordinate_transformation_mode="asymmetric", scales=(2, 2), shape=(1, 2, 3, 4)),
        None,
    ),
    ("recipe-linear-x2", dict(mode="linear", scales=(2, 2), semantics="deconvolution", shape=(1, 3, 5, 4)), None),
    ("recipe-linear-x3", dict(mode="linear", scales=(3, 3), semantics="deconvolution", shape=(1, 2, 4, 4)), None),
    ("recipe-linear-x4x2", dict(mode="linear", scales=(4, 2), semantics="deconvolution", shape=(1, 2, 3, 4)), None),
    ("recipe-nearest-x2", dict(mode="nearest", scales=(2, 2), semantics="deconvolution", shape=(1, 2, 3, 3)), None),
    (
        "align-corners-zoom3",
        dict(mode="linear", coordinate_transformation_mode="align_corners", sizes=(13, 10), shape=(1, 2, 5, 4)),
        None,
    ),
    (
        "align-corners-zoom2x5",
        dict(mode="linear", coordinate_transformation_mode="align_corners", sizes=(9, 16), shape=(1, 2, 5, 4)),
        None,
    ),
]


def _upsample_sweep(count: int, seed: int) -> list[tuple[str, dict, str | None]]:
    """Seeded integer-factor upsamples in every mode with an exact stock Caffe form."""
    rng = np.random.default_rng(seed)
    forms = [
        dict(mode="nearest"),
        dict(mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
        dict(mode="nearest", coordinate_transformation_mode="tf_half_pixel_for_nn", nearest_mode="floor"),
        dict(mode="linear"),
        dict(mode="linear", coordinate_transformation_mode="half_pixel_symmetric"),
        dict(mode="linear", coordinate_transformation_mode="pytorch_half_pixel"),
        dict(mode="linear", semantics="deconvolution"),
        dict(mode="nearest", semantics="deconvolution"),
    ]
    rows = []
    for i in range(count):
        form = dict(forms[i % len(forms)])
        hw = tuple(int(v) for v in rng.integers(1, 7, size=2))
        f = tuple(int(v) for v in rng.integers(1, 6, size=2))
        if rng.integers(0, 2):
            form["sizes"] = tuple(a * b for a, b in zip(hw, f, strict=True))
        else:
            form["scales"] = f
        form["shape"] = (1, int(rng.integers(1, 4)), *hw)
        name = "-".join(str(v) for v in form.values() if isinstance(v, str))
        rows.append((f"sweep{i}-{name}-{hw[0]}x{hw[1]}-f{f[0]}x{f[1]}", form, None))
    return rows


INTERP = [
    (
        "interp-zoom",
        dict(mode="linear", coordinate_transformation_mode="align_corners", sizes=(9, 7), shape=(1, 2, 5, 4)),
    ),
    (
        "interp-any-size",
        dict(mode="linear", coordinate_transformation_mode="align_corners", sizes=(11, 6), shape=(1, 2, 5, 4)),
    ),
]


def _deconv_model(cfg: dict) -> ck.Model:
    rng = np.random.default_rng(7)
    cfg = dict(cfg)
    shape = cfg.pop("shape")
    pads = cfg.pop("pads", None)
    k, g, m = cfg["kernel_shape"], cfg.get("group", 1), cfg["out_channels"]
    weight = rng.standard_normal((shape[1], m // g, *k)).astype(np.float32)
    bias_term = cfg.pop("bias_term", False)
    bias = ck.Values(array=rng.standard_normal(m).astype(np.float32)) if bias_term else None
    layer = ck.Deconvolution(
        name="deconv",
        input="data",
        padding=ck.Padding(pads=pads) if pads else ck.Padding(pads=None),
        weight=ck.Values(array=weight),
        bias=bias,
        bias_term=bias_term,
        **cfg,
    )
    return ck.Model([ck.Input(name="data", shape=shape), layer])


def _upsample_model(cfg: dict) -> ck.Model:
    cfg = dict(cfg)
    shape = cfg.pop("shape")
    return ck.Model([ck.Input(name="data", shape=shape), ck.Upsample(name="up", input="data", **cfg)])


def _compare(model: ck.Model, tmp_path: Path, **caffe_options) -> None:
    prototxt = tmp_path / "net.prototxt"
    exported = save_caffe(model, str(prototxt), **caffe_options)
    net = cv2.dnn.readNetFromCaffe(str(prototxt), str(tmp_path / "net.caffemodel"))
    rng = np.random.default_rng(0)
    feeds = {n: rng.standard_normal(model.types[n].shape).astype(np.float32) for n in model.inputs}
    for name, value in feeds.items():
        net.setInput(value, name)
    got = net.forward([exported.output_layers[o] for o in model.outputs])
    expected = run_onnx(ck.to_onnx(model), feeds)
    for name, value in zip(model.outputs, got, strict=True):
        assert value.shape == expected[name].shape, (
            f"OpenCV gives shape {value.shape}, onnxruntime {expected[name].shape}; reproduce: "
            f"{prototxt} (+ .caffemodel), input seed 0"
        )
        np.testing.assert_allclose(
            value, expected[name], atol=1e-5, rtol=1e-4, err_msg=f"reproduce: {prototxt} (+ .caffemodel), input seed 0"
        )


def _param(rows):
    return [
        pytest.param(cfg, id=name, marks=pytest.mark.xfail(reason=reason, strict=True) if reason else ())
        for name, cfg, reason in rows
    ]


@pytest.mark.parametrize("cfg", _param(HAND_DECONV + _deconv_sweep(40, seed=2024)))
def test_deconvolution_opencv_equals_onnxruntime(cfg: dict, tmp_path: Path) -> None:
    _compare(_deconv_model(cfg), tmp_path)


@pytest.mark.parametrize("cfg", _param(UPSAMPLE + _upsample_sweep(24, seed=7)))
def test_upsample_opencv_equals_onnxruntime(cfg: dict, tmp_path: Path) -> None:
    _compare(_upsample_model(cfg), tmp_path)


@pytest.mark.parametrize("cfg", [pytest.param(cfg, id=name) for name, cfg in INTERP])
def test_interp_dialect_opencv_equals_onnxruntime(cfg: dict, tmp_path: Path) -> None:
    model = _upsample_model(cfg)
    exported = ck.formats.caffe.to_caffe(model, dialect="pspnet")
    assert [layer.type for layer in exported.net.layer] == ["Input", "Interp"]
    _compare(model, tmp_path, dialect="pspnet")


def test_crop_against_a_reference_blob_runs_in_opencv(tmp_path: Path) -> None:
    from convertkit.layers import Crop

    rng = np.random.default_rng(3)
    model = ck.Model(
        [
            ck.Input(name="data", shape=(1, 2, 9, 11)),
            ck.Input(name="score", shape=(1, 2, 6, 7)),
            ck.Deconvolution(
                name="upscore",
                input="score",
                out_channels=2,
                kernel_shape=(4, 4),
                strides=(2, 2),
                weight=ck.Values(array=rng.standard_normal((2, 2, 4, 4)).astype(np.float32)),
            ),
            Crop(name="crop", input="upscore", shape_like="data", offset=(3, 1)),
        ]
    )
    _compare(model, tmp_path)


OPENCV_2D_ONLY = "OpenCV's Caffe Deconvolution is 2-D only (stock Caffe runs N-D; test_caffe_writer reads these back)"
N_D = [
    ("deconv-1d", dict(shape=(1, 2, 5), out_channels=2, kernel_shape=(3,), strides=(2,), pads=(1, 0))),
    ("deconv-3d", dict(shape=(1, 2, 3, 4, 3), out_channels=2, kernel_shape=(3, 2, 2), strides=(2, 1, 2))),
]


@pytest.mark.parametrize(
    "cfg",
    [
        pytest.param(cfg, id=name, marks=pytest.mark.xfail(reason=OPENCV_2D_ONLY, raises=cv2.error, strict=True))
        for name, cfg in N_D
    ],
)
def test_n_d_deconvolution_in_opencv(cfg: dict, tmp_path: Path) -> None:
    _compare(_deconv_model(cfg), tmp_path)


@pytest.mark.slow
def test_cli_runs_a_prototxt_in_opencv_with_onnxruntimes_numbers(tmp_path: Path) -> None:
    import subprocess
    import sys

    model = _deconv_model(
        dict(
            shape=(1, 2, 4, 4),
            out_channels=3,
            kernel_shape=(3, 3),
            strides=(2, 2),
            pads=(0, 1, 1, 0),
            output_padding=(1, 0),
            bias_term=True,
        )
    )
    save_caffe(model, str(tmp_path / "net.prototxt"))
    x = np.random.default_rng(4).standard_normal((1, 2, 4, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    outs = {}
    for backend in ("opencv", "onnxruntime"):
        r = subprocess.run(
            [
                sys.executable,
                "-m",
                "convertkit",
                "run",
                "net.prototxt",
                "--weights",
                "net.caffemodel",
                "--backend",
                backend,
                "--input",
                "data=x.npy",
                "-o",
                f"{backend}.npz",
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert r.returncode == 0, r.stderr
        outs[backend] = np.load(tmp_path / f"{backend}.npz")["deconv"]
    np.testing.assert_allclose(outs["opencv"], outs["onnxruntime"], atol=1e-5, rtol=1e-4)
    # an .onnx runs in OpenCV's ONNX importer since issue 13 (tests/test_portability.py); a missing one is one line
    r = subprocess.run(
        [sys.executable, "-m", "convertkit", "run", "x.onnx", "--backend", "opencv"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "cannot read ONNX model 'x.onnx'" in r.stderr


def test_pvanet_upsample_cut_out_runs_in_opencv(shared_caffe_dir: Path, tmp_path: Path) -> None:
    from test_caffe_reader import _cut_out

    from convertkit.formats.caffe import load_caffe

    block = _cut_out((shared_caffe_dir / "pvanet_example_train_test.prototxt").read_text(), "upsample")
    (tmp_path / "cut.prototxt").write_text(
        'input: "conv5_4"\ninput_shape { dim: 1 dim: 384 dim: 20 dim: 33 }\n' + block
    )
    model = load_caffe(str(tmp_path / "cut.prototxt"))
    _compare(model, tmp_path)


def test_second_piece_of_a_slice_is_reachable_through_a_split_copy(tmp_path: Path) -> None:
    from convertkit.layers import Concat, Slice

    model = ck.Model(
        [
            ck.Input(name="data", shape=(1, 4, 3, 5)),
            Slice(name="s", input="data", output_names=("a", "b", "c"), axis=3, slice_points=(1, 3)),
            Concat(name="cat", input_names=("c", "a"), axis=3),
        ]
    )
    assert model.outputs == ("b", "cat")
    _compare(model, tmp_path)


@pytest.mark.slow
def test_cli_check_caffe_runs_the_export_in_opencv(tmp_path: Path) -> None:
    import subprocess
    import sys

    spec = tmp_path / "m.json"
    ck.save(_upsample_model(dict(mode="linear", scales=(3, 2), shape=(1, 2, 4, 5))), str(spec))
    r = subprocess.run(
        [sys.executable, "-m", "convertkit", "check", str(spec), "--caffe"], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "opencv (Caffe) vs reference" in r.stdout and r.stdout.count("PASS") == 4
    ck.save(
        _upsample_model(
            dict(mode="linear", scales=(2, 2), coordinate_transformation_mode="asymmetric", shape=(1, 2, 4, 5))
        ),
        str(spec),
    )
    r = subprocess.run(
        [sys.executable, "-m", "convertkit", "check", str(spec), "--caffe"], capture_output=True, text=True
    )
    assert r.returncode == 2 and "layer 'up' (Upsample)" in r.stderr and "Traceback" not in r.stderr
    assert "onnxruntime vs reference" in r.stdout


def _run_cli(*args: str, cwd: Path):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "convertkit", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.slow
@pytest.mark.parametrize("extra", [(), ("--fill-missing", "bilinear"), ("--fill-missing", "bilinear", "--compact")])
def test_cli_runs_a_prototxt_without_weights_in_opencv(extra: tuple, tmp_path: Path) -> None:
    # OpenCV segfaulted on a Deconvolution without blobs: the materialised blobs go in a temporary caffemodel.
    examples = Path(__file__).resolve().parents[1] / "examples"
    r = _run_cli("convert", str(examples / "bilinear_x2_21ch.json"), "-o", "up.prototxt", "--no-weights", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for prototxt, flags in (("up.prototxt", ()), (str(examples / "fcn_head.prototxt"), extra)):
        outs = {}
        for backend in ("opencv", "reference"):
            r = _run_cli("run", prototxt, "--backend", backend, *flags, "-o", f"{backend}.npz", cwd=tmp_path)
            assert r.returncode == 0, r.stderr
            (outs[backend],) = np.load(tmp_path / f"{backend}.npz").values()
        np.testing.assert_allclose(outs["opencv"], outs["reference"], atol=1e-5, rtol=1e-4)


def test_run_opencv_fills_in_blobs_a_caffemodel_lacks(tmp_path: Path) -> None:
    from convertkit.formats.caffe import load_caffe, run_opencv

    text = """
    input: "x" input_shape { dim: 1 dim: 2 dim: 3 dim: 3 }
    layer { name: "a" type: "Deconvolution" bottom: "x" top: "a"
            convolution_param { num_output: 2 kernel_size: 2 stride: 2 weight_filler { type: "gaussian" }
                                bias_filler { type: "constant" value: 0.5 } } }
    layer { name: "b" type: "Deconvolution" bottom: "a" top: "b"
            convolution_param { num_output: 1 kernel_size: 3 bias_term: false weight_filler { type: "xavier" } } }
    """
    (tmp_path / "n.prototxt").write_text(text)
    model = load_caffe(str(tmp_path / "n.prototxt"))
    save_caffe(model, str(tmp_path / "full.prototxt"))
    weights = ck.codec.caffe.read_caffemodel(str(tmp_path / "full.caffemodel"))
    del weights.layer[1:]  # blobs of 'a' only
    (tmp_path / "part.caffemodel").write_bytes(weights.SerializeToString())
    x = {"x": np.random.default_rng(0).standard_normal((1, 2, 3, 3)).astype(np.float32)}
    with pytest.warns(ck.formats.caffe.CaffeWarning, match="no blobs for this layer"):
        partial = load_caffe(str(tmp_path / "n.prototxt"), weights=str(tmp_path / "part.caffemodel"))
    for weights_path, reference in ((None, model), (str(tmp_path / "part.caffemodel"), partial)):
        got = run_opencv(str(tmp_path / "n.prototxt"), weights_path, x, ["b"], model=reference)
        np.testing.assert_allclose(got["b"], ck.run(reference, x)["b"], atol=1e-5, rtol=1e-4)
    got = run_opencv(str(tmp_path / "n.prototxt"), None, x, ["b"])  # the model read here, with the same fillers
    np.testing.assert_allclose(got["b"], ck.run(model, x)["b"], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kind", ["concat", "slice"])
def test_single_input_concat_and_single_output_slice_are_written_as_split(kind: str, tmp_path: Path) -> None:
    # OpenCV returned garbage for a one-bottom Concat and crashed on a one-top Slice; both are copies: Split.
    from convertkit.layers import Concat, Slice

    copy = (
        Concat(name="c", input_names=("x",), axis=1)
        if kind == "concat"
        else Slice(name="c", input="x", output_names=("c",), axis=1)
    )
    model = ck.Model(
        [
            ck.Input(name="x", shape=(1, 2, 3, 3)),
            copy,
            ck.Deconvolution(name="d", input="c", out_channels=2, kernel_shape=(2, 2), weight=ck.Filler(value=0.5)),
        ],
        ["c", "d"],
    )
    exported = ck.formats.caffe.to_caffe(model)
    assert [(la.name, la.type) for la in exported.net.layer][:2] == [("x", "Input"), ("c", "Split")]
    _compare(model, tmp_path)
    report = ck.formats.caffe.check_caffe(model)
    assert report.passed


@pytest.mark.parametrize("name, cfg", N_D, ids=[n for n, _ in N_D])
def test_check_caffe_refuses_n_d_deconvolution_up_front(name: str, cfg: dict) -> None:
    with pytest.raises(ck.errors.UnsupportedError, match=r"layer 'deconv' \(Deconvolution\): OpenCV's Caffe "):
        ck.formats.caffe.check_caffe(_deconv_model(cfg))


@pytest.mark.slow
def test_cli_refuses_what_opencv_cannot_run_in_one_line(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[1] / "examples"
    r = _run_cli("check", str(examples / "deconv3d_asymmetric.json"), "--caffe", cwd=tmp_path)
    # one error line, after the ONNX export's one warning that OpenCV's ONNX importer has no 3-D ConvTranspose either
    lines = r.stderr.splitlines()
    assert r.returncode == 2 and lines[-1].startswith("convertkit check: error: "), r.stderr
    assert all(line.startswith("convertkit check: warning: ") and "known opencv defect" in line for line in lines[:-1])
    assert "OpenCV's Caffe Deconvolution is 2-D only, this one is 3-D; the prototxt is valid Caffe" in r.stderr
    # PSPNet's Interp with shrink_factor: the prototxt keeps it (what the fork runs), OpenCV is refused
    (tmp_path / "interp.prototxt").write_text(
        'input: "x" input_dim: 1 input_dim: 2 input_dim: 5 input_dim: 6\n'
        'layer { name: "i" type: "Interp" bottom: "x" top: "y" interp_param { shrink_factor: 2 zoom_factor: 3 } }\n'
    )
    for args in (("check", "interp.prototxt", "--caffe"), ("run", "interp.prototxt", "--backend", "opencv")):
        r = _run_cli(*args, cwd=tmp_path)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert "layer 'i' (Interp): OpenCV's Interp implements zoom_factor/height/width only" in r.stderr
    r = _run_cli("convert", "interp.prototxt", "-o", "again.prototxt", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    again = ck.codec.caffe.read_prototxt(str(tmp_path / "again.prototxt"))
    p = again.layer[-1].interp_param
    assert (p.shrink_factor, p.zoom_factor) == (2, 3)
    # OpenCV's own error logging is silenced: a user's one-top Slice fails in OpenCV with one line from us
    (tmp_path / "slice.prototxt").write_text(
        'input: "x" input_dim: 1 input_dim: 2 input_dim: 3 input_dim: 3\n'
        'layer { name: "s" type: "Slice" bottom: "x" top: "a" slice_param { axis: 1 } }\n'
    )
    r = _run_cli("run", "slice.prototxt", "--backend", "opencv", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "[ERROR" not in r.stderr, r.stderr
    assert "OpenCV cannot run slice.prototxt" in r.stderr
