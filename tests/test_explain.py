"""``convertkit explain``: the symbolic matrix against the reference, the size table against convertkit.shapes,
onnxruntime, onnx shape inference and PyTorch, the Caffe/ONNX forms against the exporters, the CLI and the picture."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

import convertkit as ck
from convertkit import shapes
from convertkit.cli import main
from convertkit.explain import (
    MAX_MATRIX_SIDE,
    deconvolution_model,
    eval_arithmetic,
    explain,
    size_table,
    symbolic_matrix,
)
from convertkit.reference import conv_transpose

REPO = Path(__file__).resolve().parents[1]
EX = REPO / "examples"

# The seed's 2x2 -> 5x5 (kernel 3, stride 2), with its middle row corrected: the centre has all four inputs and the
# last two cells of the row read b and d (the seed drops d*w1 in the centre and writes d*w1, d*w2 after it).
SEED_MATRIX = [
    ["a*w1", "a*w2", "a*w3+b*w1", "b*w2", "b*w3"],
    ["a*w4", "a*w5", "a*w6+b*w4", "b*w5", "b*w6"],
    ["a*w7+c*w1", "a*w8+c*w2", "a*w9+b*w7+c*w3+d*w1", "b*w8+d*w2", "b*w9+d*w3"],
    ["c*w4", "c*w5", "c*w6+d*w4", "d*w5", "d*w6"],
    ["c*w7", "c*w8", "c*w9+d*w7", "d*w8", "d*w9"],
]
# The seed's numeric example: ones kernel, input [[1, 2], [3, 4]].
SEED_NUMERIC = [[1, 1, 3, 2, 2], [1, 1, 3, 2, 2], [4, 4, 10, 6, 6], [3, 3, 7, 4, 4], [3, 3, 7, 4, 4]]


def _substitute(cell: str, x: np.ndarray, w: np.ndarray) -> float:
    """Value of a symbolic cell ``a*w3+b*w1`` (or ``0``) for input cells ``x`` and taps ``w`` (both row-major)."""
    if cell == "0":
        return 0.0
    total = 0.0
    for term in cell.split("+"):
        m = re.fullmatch(r"([a-z])\*w(\d+)", term)
        assert m, f"malformed term {term!r} in {cell!r}"
        total += x.ravel()[ord(m.group(1)) - ord("a")] * w.ravel()[int(m.group(2)) - 1]
    return total


def _evaluate(matrix: list[list[str]], x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.array([[_substitute(c, x, w) for c in row] for row in matrix])


# ----------------------------------------------------------------------------------------------------------------
# The symbolic matrix
# ----------------------------------------------------------------------------------------------------------------


def test_seed_matrix_row_by_row():
    data = explain(deconvolution_model("2x2", "3", stride="2")).data
    m = data["matrix"]
    assert m["input"] == [["a", "b"], ["c", "d"]]
    assert m["kernel"] == [["w1", "w2", "w3"], ["w4", "w5", "w6"], ["w7", "w8", "w9"]]
    for got, want in zip(m["output"], SEED_MATRIX, strict=True):
        assert got == want
    assert m["cells"] == m["output"]  # no pads: nothing cropped
    assert m["overlaps"][2] == [2, 2, 4, 2, 2]
    assert all(r["status"] == "output" for r in m["rows"] + m["columns"])
    # The seed's numbers confirm the corrected row: centre 1 + 2 + 3 + 4 = 10.
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    numeric = _evaluate(m["output"], x, np.ones(9))
    np.testing.assert_array_equal(numeric, SEED_NUMERIC)
    np.testing.assert_array_equal(numeric, conv_transpose(x[None, None], np.ones((1, 1, 3, 3)), strides=[2, 2])[0, 0])


def test_matrix_marks_crops_and_output_padding():
    # H: pads (1 begin, 0 end), op 1 -> scatter row 0 cropped, row 5 (past the 5-row scatter) is output_padding.
    # W: pads (0 begin, 2 end), op 0 -> the last two columns are cropped.
    m = explain(deconvolution_model("2x2", "3", stride="2", pad="1,0,0,2", output_padding="1x0")).data["matrix"]
    assert [r["status"] for r in m["rows"]] == ["cropped", "output", "output", "output", "output", "output_padding"]
    assert [r["output"] for r in m["rows"]] == [None, 0, 1, 2, 3, 4]
    assert [c["status"] for c in m["columns"]] == ["output"] * 3 + ["cropped"] * 2
    assert m["cells"][5] == ["0"] * 5 and m["overlaps"][5] == [0] * 5
    assert m["output"] == [row[:3] for row in SEED_MATRIX[1:]] + [["0", "0", "0"]]


def test_matrix_1d_dilated():
    m = explain(deconvolution_model("3", "2", stride="2", dilation="3")).data["matrix"]
    # input x lands on 2x + 3t: rows 0 a*w1, 2 b*w1, 3 a*w2, 4 c*w1, 5 b*w2, 7 c*w2; 1 and 6 receive nothing.
    assert m["output"] == [["a*w1", "0", "b*w1", "a*w2", "c*w1", "b*w2", "0", "c*w2"]]
    assert m["input"] == [["a", "b", "c"]] and m["kernel"] == [["w1", "w2"]]


@st.composite
def _geometries(draw):
    n = draw(st.sampled_from([1, 2]))
    axes = []
    for _ in range(n):
        i, k, s, d = (draw(st.integers(1, 3)) for _ in range(4))
        op = draw(st.integers(0, max(s, d) - 1))
        full = shapes.conv_transpose_full_size(i, k, s, d) + op
        pb = draw(st.integers(0, min(2, full - 1)))
        pe = draw(st.integers(0, min(2, full - 1 - pb)))
        axes.append((i, k, s, d, pb, pe, op))
    return axes


@settings(
    max_examples=120, derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(_geometries(), st.integers(0, 2**32 - 1))
def test_substituted_matrix_is_the_reference(axes, seed):
    i, k, s, d, pb, pe, op = (tuple(a[j] for a in axes) for j in range(7))
    m = symbolic_matrix(i, k, s, d, pb + pe, op)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(i)
    w = rng.standard_normal(k)
    want = conv_transpose(
        x[None, None], w[None, None], strides=list(s), pads=list(pb + pe), dilations=list(d), output_padding=list(op)
    )[0, 0]
    got = _evaluate(m["output"], x, w)
    np.testing.assert_allclose(got, want.reshape(got.shape), rtol=1e-12, atol=1e-12)
    counts = np.array(m["overlaps"])
    assert counts.sum() == x.size * w.size  # every product lands once, cropped or not


def test_matrix_limits():
    data = explain(deconvolution_model("6x6", "3", stride="2")).data  # 36 input cells > 26
    assert data["matrix"] is None and "26 input cells" in data["matrix_note"] and "sizes above" in data["matrix_note"]
    with pytest.raises(ck.UnsupportedError, match=f"{MAX_MATRIX_SIDE} scatter rows"):
        explain(deconvolution_model("2", "20"), require_matrix=True)
    with pytest.raises(ck.UnsupportedError, match="1-D and 2-D"):
        explain(deconvolution_model("2x2x2", "2"), require_matrix=True)


def test_group_is_explained_per_channel_pair():
    data = explain(deconvolution_model("2x2", "3", stride="2", group=2, channels=4, out_channels=6)).data
    assert data["matrix"]["output"] == SEED_MATRIX
    assert (
        "group 2: output channel m adds this matrix over the 2 input channel(s)"
        in explain(deconvolution_model("2x2", "3", stride="2", group=2, channels=4, out_channels=6)).format()
    )


# ----------------------------------------------------------------------------------------------------------------
# Sizes per convention
# ----------------------------------------------------------------------------------------------------------------

# (input, kernel, stride, dilation, pads begin..end, output_padding); op < stride (onnxruntime refuses more).
SIZE_CASES = {
    "seed": ((2, 2), (3, 3), (2, 2), (1, 1), (0, 0, 0, 0), (0, 0)),
    "pads_op": ((4, 3), (3, 2), (2, 3), (1, 1), (1, 0, 1, 0), (1, 2)),
    "kernel_shorter_than_stride": ((3,), (1,), (3,), (1,), (0, 0), (1,)),
    "dilated": ((3, 2), (2, 3), (2, 1), (2, 2), (1, 1, 1, 1), (1, 0)),
    "fcn": ((16,), (64,), (32,), (1,), (16, 16), (0,)),
}


def _run_conv_transpose(in_spatial, kernel, *, run=True, **attrs):
    """onnxruntime's output spatial size (None unless ``run``) and onnx shape inference's, for one ConvTranspose."""
    n = len(in_spatial)
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, *in_spatial])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [helper.make_tensor("w", TensorProto.FLOAT, [1, 1, *kernel], np.ones(int(np.prod(kernel)), np.float32))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    dims = [d.dim_value for d in inferred.graph.output[0].type.tensor_type.shape.dim][2:]
    if not run:
        return None, dims
    options = ort.SessionOptions()
    options.log_severity_level = 3  # onnxruntime warns where shape inference disagrees; that is the point here
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    y = session.run(None, {"x": np.ones((1, 1, *in_spatial), np.float32)})[0]
    assert y.shape[:2] == (1, 1) and len(y.shape) == n + 2
    return list(y.shape[2:]), dims


@pytest.mark.parametrize("case", SIZE_CASES.values(), ids=SIZE_CASES.keys())
def test_size_table_agrees_with_shapes_and_onnxruntime(case):
    i, k, s, d, pads, op = case
    n = len(i)
    rows = {row["convention"]: row for row in size_table(i, k, s, d, pads, op)}
    assert list(rows) == [
        "caffe",
        "onnx_pads",
        "onnx_valid",
        "onnx_same_upper",
        "onnx_same_lower",
        "tensorflow_same",
        "tensorflow_valid",
        "pytorch",
    ]

    def sizes(conv):
        return [a["size"] for a in rows[conv]["axes"]]

    for row in rows.values():
        for axis in row["axes"]:
            if axis["size"] is not None:
                assert eval_arithmetic(axis["expression"]) == axis["size"]
                assert eval(axis["expression"], {"__builtins__": {}, "max": max}) == axis["size"]
    common = {"strides": list(s), "dilations": list(d), "kernel_shape": list(k)}
    # explicit pads
    want = [shapes.conv_transpose_output_size(i[a], k[a], s[a], pads[a], pads[n + a], d[a], op[a]) for a in range(n)]
    assert sizes("onnx_pads") == want
    assert _run_conv_transpose(i, k, pads=list(pads), output_padding=list(op), **common)[0] == want
    # Caffe: symmetric pads only, no output_padding
    for a in range(n):
        axis = rows["caffe"]["axes"][a]
        if pads[a] == pads[n + a]:
            assert axis["size"] == shapes.caffe_deconv_output_size(i[a], k[a], s[a], pads[a], d[a])
        else:
            assert axis["size"] is None and "asymmetric" in axis["note"]
    if pads[:n] == pads[n:]:
        assert _run_conv_transpose(i, k, pads=list(pads), **common)[0] == sizes("caffe")
    # auto_pad: onnxruntime's size, and what onnx shape inference says
    for auto_pad in ("VALID", "SAME_UPPER", "SAME_LOWER"):
        got, inferred = _run_conv_transpose(i, k, auto_pad=auto_pad, output_padding=list(op), **common)
        row = rows[f"onnx_{auto_pad.lower()}"]
        assert sizes(f"onnx_{auto_pad.lower()}") == got
        assert [
            shapes.conv_transpose_output_size(i[a], k[a], s[a], *row["axes"][a]["pads"], d[a], op[a]) for a in range(n)
        ] == got
        if auto_pad != "VALID":
            assert [a["onnx_shape_inference"] for a in row["axes"]] == inferred
            for a, axis in enumerate(row["axes"]):
                assert (axis["onnx_shape_inference_note"] is not None) == (inferred[a] != got[a])
    # TensorFlow: the output_shape it uses, run as ONNX output_shape (SAME: odd pad at the end) and as the pads
    for padding, auto_pad in (("SAME", "SAME_UPPER"), ("VALID", "NOTSET")):
        row = rows[f"tensorflow_{padding.lower()}"]
        o = [shapes.tf_conv_transpose_output_size(i[a], k[a], s[a], d[a], padding) for a in range(n)]
        assert sizes(f"tensorflow_{padding.lower()}") == o
        assert _run_conv_transpose(i, k, output_shape=o, auto_pad=auto_pad, **common)[0] == o
        tf_pads = [a["pads"][0] for a in row["axes"]] + [a["pads"][1] for a in row["axes"]]
        tf_op = [a["output_padding"] for a in row["axes"]]
        if all(p < stride for p, stride in zip(tf_op, s, strict=True)):
            assert _run_conv_transpose(i, k, pads=tf_pads, output_padding=tf_op, **common)[0] == o
        if padding == "VALID":
            assert o == [i[a] * s[a] + max(d[a] * (k[a] - 1) + 1 - s[a], 0) for a in range(n)]
        else:
            assert o == [i[a] * s[a] for a in range(n)]


@pytest.mark.parametrize("case", SIZE_CASES.values(), ids=SIZE_CASES.keys())
def test_pytorch_row_agrees_with_torch(case):
    torch = pytest.importorskip("torch")
    i, k, s, d, pads, op = case
    n = len(i)
    row = next(r for r in size_table(i, k, s, d, pads, op) if r["convention"] == "pytorch")
    if pads[:n] != pads[n:]:
        assert all(a["size"] is None and "PyTorch" in a["note"] for a in row["axes"])
        return
    fn = {1: torch.nn.functional.conv_transpose1d, 2: torch.nn.functional.conv_transpose2d}[n]
    y = fn(
        torch.ones((1, 1, *i)),
        torch.ones((1, 1, *k)),
        stride=s,
        padding=pads[:n],
        output_padding=op,
        dilation=d,
    )
    assert [a["size"] for a in row["axes"]] == list(y.shape[2:])


def test_onnx_inferred_auto_pad_size_is_onnx_shape_inference():
    # The new shapes function against onnx itself, over a grid that covers op > 0 and k_eff < s.
    for i, k, s, d in [(i, k, s, d) for i in (1, 2, 3) for k in (1, 2, 3) for s in (1, 2, 3) for d in (1, 2)]:
        for op in range(s):
            _, inferred = _run_conv_transpose(
                (i,), (k,), run=False, auto_pad="SAME_UPPER", strides=[s], dilations=[d], output_padding=[op]
            )
            assert inferred == [shapes.onnx_inferred_auto_pad_size(i, k, s, d, op)], (i, k, s, d, op)


# ----------------------------------------------------------------------------------------------------------------
# Caffe and ONNX forms are the exporters' own
# ----------------------------------------------------------------------------------------------------------------


def test_caffe_and_onnx_forms_are_what_the_exporters_write():
    model = deconvolution_model("2x2", "3", stride="2", pad="0,1,1,0", output_padding="1x0")
    data = explain(model).data
    net = ck.to_caffe(model)
    assert data["caffe"]["prototxt"] in net.prototxt() and 'type: "Input"' not in data["caffe"]["prototxt"]
    assert data["caffe"]["blobs"] == {"deconv": [[1, 1, 3, 4]]}  # zero-extended on W for the asymmetric pads
    assert any(note.startswith("stock form:") and "3x4" in note for note in data["caffe"]["notes"])
    proto = ck.to_onnx(model)
    (node,) = data["onnx"]["nodes"]
    assert node["op_type"] == "ConvTranspose" and node["inputs"] == list(proto.graph.node[0].input)
    assert node["attributes"] == {a.name: helper.get_attribute_value(a) for a in proto.graph.node[0].attribute}


def test_caffe_refusal_is_shown():
    model = ck.load(str(EX / "upsample_resize.yaml"))
    data = explain(model, "nearest_to_100x120").data
    assert data["caffe"]["prototxt"] is None and "the factors are not integers" in data["caffe"]["error"]
    assert data["onnx"]["nodes"][0]["op_type"] == "Resize"


# ----------------------------------------------------------------------------------------------------------------
# Upsampling
# ----------------------------------------------------------------------------------------------------------------


def test_upsample_filler_and_where_the_variants_differ():
    data = explain(ck.load(str(EX / "upsample_resize.yaml")), "bilinear_x2").data
    up = data["upsample"]
    assert up["kernel"]["per_axis"][0]["values"] == [0.25, 0.75, 0.75, 0.25]
    np.testing.assert_array_equal(up["kernel"]["values"], ck.bilinear_kernel((4, 4)))
    assert [r["factor"] for r in up["recipe"]] == [2, 2]
    h = up["comparison"][0]
    assert (h["axis"], h["input"], h["output"]) == ("H", 24, 48)
    pairs = {(p["first"], p["second"]): p for p in h["pairs"]}
    # The recipe's zero border shows in the first and last f/2 = 1 rows only; its interior is half_pixel.
    recipe_vs_half = pairs[("Caffe recipe", "Resize half_pixel")]
    assert recipe_vs_half["rows"] == [0, 47]
    assert recipe_vs_half["max_abs"] == pytest.approx(24 * 0.25)  # the last row misses 0.25 of the ramp's 24
    half_vs_corners = pairs[("Resize half_pixel", "Resize align_corners")]
    assert half_vs_corners["rows"] and 0 not in half_vs_corners["rows"] and 47 not in half_vs_corners["rows"]
    text = explain(ck.load(str(EX / "upsample_resize.yaml")), "bilinear_x2").format()
    assert "Caffe recipe vs Resize half_pixel: differ at rows 0, 47" in text


def test_bilinear_frozen_deconvolution_gets_the_upsample_section():
    data = explain(ck.load(str(EX / "bilinear_x2_21ch.json"))).data
    assert data["upsample"]["recipe"][0] == {"axis": "H", "factor": 2, "kernel": 4, "stride": 2, "pad": 1}
    assert explain(deconvolution_model("2x2", "3", stride="2")).data["upsample"] is None


# ----------------------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------------------


def test_cli_from_flags_prints_the_seed(capsys):
    assert main(["explain", "--input", "2x2", "--kernel", "3", "--stride", "2"]) == 0
    out = capsys.readouterr().out
    assert "a*w7+c*w1  a*w8+c*w2  a*w9+b*w7+c*w3+d*w1  b*w8+d*w2  b*w9+d*w3" in out
    assert "H, W: 2*(2-1) + 3 - 2*0 = 5" in out
    assert "kernel_size: 3" in out and "ConvTranspose 'deconv'" in out


def test_cli_json_has_the_same_content(capsys):
    args = [
        "explain",
        "--input",
        "3x2",
        "--kernel",
        "3x2",
        "--stride",
        "2",
        "--pad",
        "1,0,0,1",
        "--output-padding",
        "1",
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    expected = explain(
        deconvolution_model("3x2", "3x2", stride="2", pad="1,0,0,1", output_padding="1"),
        source="from flags, a ones kernel for the weights",
    ).data
    assert data == json.loads(json.dumps(expected))
    for row in data["sizes"]:
        assert row["label"] in text and row["formula"] in text
        for axis in row["axes"]:
            assert (f"{axis['expression']} = {axis['size']}" if axis["size"] is not None else axis["note"]) in text
    for cells in data["matrix"]["cells"]:
        assert re.search(r"\s+".join(re.escape(c) for c in cells), text)
    assert data["caffe"]["prototxt"] in text.replace("\n  ", "\n")
    for node in data["onnx"]["nodes"]:
        assert all(f"{k}={v}" in text for k, v in node["attributes"].items())


@pytest.mark.parametrize(
    "args, expect",
    [
        ([str(EX / "bilinear_x2_21ch.json")], ["2*(32-1) + 4 - 2*1 = 64", "Caffe's recipe for factor 2"]),
        ([str(EX / "fcn_head.prototxt")], ["32*(16-1) + 64 - 2*0 = 544", "symbolic output: not shown"]),
        (
            [str(EX / "fcn_head.prototxt"), "--input-shape", "score_fr=1,21,2,2"],
            ["input 1x21x2x2 -> output 1x21x96x96"],
        ),
        ([str(EX / "same_upper_head.onnx"), "--layer", "up1"], ["onnx shape inference says 33", "pads=[1, 1, 1, 1]"]),
        ([str(EX / "same_upper_head.onnx"), "--layer", "up2"], ["Resize 'up2'", "Caffe recipe vs Resize half_pixel"]),
        ([str(EX / "seed_5x5.json")], ["a*w9+b*w7+c*w3+d*w1"]),
    ],
)
def test_cli_from_model_files(args, expect, capsys):
    assert main(["explain", *args]) == 0
    out = capsys.readouterr().out
    for text in expect:
        assert text in out


def test_cli_passes_weights(tmp_path, capsys):
    prototxt = tmp_path / "seed.prototxt"
    model = ck.load(str(EX / "seed_5x5.json"))
    ck.save(model, str(prototxt))
    assert main(["explain", str(prototxt), "--weights", str(tmp_path / "seed.caffemodel")]) == 0
    assert "a*w9+b*w7+c*w3+d*w1" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give MODEL, or at least --input HxW and --kernel K"),
        (["--input", "2x2"], "at least --input HxW and --kernel K"),
        (["--input", "2xa", "--kernel", "3"], "--input takes integers >= 1"),
        (["--input", "2x2", "--kernel", "3", "--pad", "0,1"], "4 values for 2 spatial axes"),
        (["--input", "2x2", "--kernel", "3x3x3"], "gives 3 values, but the input has 2 spatial axes"),
        (["--input", "2x2", "--kernel", "3", "--output-padding", "2"], "output_padding must be smaller than stride"),
        (["--input", "2x2", "--kernel", "3", "--group", "2", "--channels", "3"], "--group 2 must divide --channels 3"),
        (["--input", "2x2", "--kernel", "3", "--layer", "x"], "--layer apply to a MODEL file"),
        ([str(EX / "seed_5x5.json"), "--kernel", "3"], "not both: --kernel"),
        ([str(EX / "upsample_resize.yaml")], "bilinear_x2 (Upsample), nearest_to_100x120 (Upsample)"),
        ([str(EX / "upsample_resize.yaml"), "--layer", "nope"], "no layer 'nope'; its Deconvolution/Upsample layers"),
        ([str(EX / "seed_5x5.json"), "--layer", "data"], "layer 'data' (Input) is not a Deconvolution or Upsample"),
        ([str(EX / "seed_5x5.json"), "--weights", "x.caffemodel"], "apply to a .prototxt source only"),
        ([str(EX / "fcn_head.prototxt"), "--matrix"], "limited to 26 input cells (a..z) and 16 scatter rows"),
        (["--input", "2x2x2", "--kernel", "2", "--svg", "x.svg"], "the picture covers 1-D and 2-D layers"),
    ],
)
def test_cli_user_errors_are_one_line_exit_2(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["explain", *args]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "warning:" not in line and line.strip()]
    errors = [line for line in err if line.startswith("convertkit explain: error:")]
    assert len(errors) == 1 and message in errors[0], err
    assert not [line for line in err if not line.startswith(("usage:", "convertkit explain: error:"))], err


def test_cli_missing_matplotlib_is_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert main(["explain", "--input", "2x2", "--kernel", "3", "--png", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "convertkit explain: error: drawing the scatter (--png / --svg) needs matplotlib, which is not installed: "
        "pip install 'convertkit[plot]'"
    ]
    assert not (tmp_path / "x.png").exists()


@pytest.mark.slow
def test_cli_subprocess_exit_codes(tmp_path):
    run = [sys.executable, "-m", "convertkit", "explain"]
    r = subprocess.run(
        [*run, "--input", "2x2", "--kernel", "3", "--stride", "2", "--json"], capture_output=True, text=True, cwd=REPO
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["matrix"]["output"] == SEED_MATRIX
    r = subprocess.run([*run, "--input", "0x2", "--kernel", "3"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr


# ----------------------------------------------------------------------------------------------------------------
# Picture
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "flags, formats",
    [
        (["--input", "2x2", "--kernel", "3", "--stride", "2"], ("png", "svg")),
        (
            ["--input", "3x2", "--kernel", "2x3", "--stride", "2", "--pad", "1,0,0,1", "--dilation", "1x2"]
            + ["--output-padding", "1"],
            ("png",),
        ),
        (["--input", "4", "--kernel", "3", "--stride", "2", "--pad", "1"], ("svg",)),
    ],
    ids=["seed", "crop_dilation_op", "1d"],
)
def test_png_and_svg_are_written(flags, formats, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    paths = {fmt: tmp_path / f"scatter.{fmt}" for fmt in formats}
    assert main(["explain", *flags, *(arg for fmt, p in paths.items() for arg in (f"--{fmt}", str(p)))]) == 0
    if "png" in paths:
        assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths["png"].stat().st_size > 10_000
    if "svg" in paths:
        text = paths["svg"].read_text()
        assert text.lstrip().startswith("<?xml") and "<svg" in text and "scatter" in text
    capsys.readouterr()


# ----------------------------------------------------------------------------------------------------------------
# README
# ----------------------------------------------------------------------------------------------------------------


def test_readme_explain_example_is_current(capsys):
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Explain one layer") :]
    start = section.index("```\n$ convertkit explain") + 4
    block = section[start : section.index("\n```", start)]
    command, _, shown = block.partition("\n")
    assert main(command.split()[2:]) == 0
    assert capsys.readouterr().out.rstrip("\n") == shown.rstrip("\n")
