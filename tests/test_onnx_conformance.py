"""ONNX's own backend node cases for ConvTranspose, Resize and Upsample, as the exam for the ONNX importer.

The generators in ``onnx.backend.test.case.node`` ship with the onnx package; each case is a one-node model, its
inputs and the expected outputs.  The node tests feed weights and scales/sizes/roi as graph inputs; convertkit
binds them as constants (``constants=``), which is what they are in a deployed model.

Every case runs two paths:

* import -> NumPy reference, compared with the expected output;
* import -> ONNX export (explicit pads, Resize-19) -> onnxruntime, compared with the expected output and, bit for
  bit, with onnxruntime running the original model.

One table, :data:`EXPECTATIONS`, says what is not a plain pass: cases convertkit refuses (with the reason and a
fragment of the error message) and known disagreements between ONNX's expected outputs and onnxruntime (xfail
with the reason).  A case missing from the table must pass.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np
import pytest

import convertkit as ck
from convertkit.formats.onnx_import import from_onnx
from convertkit.reference.interpreter import run_model
from convertkit.runtime import run_onnx

OPS = ("ConvTranspose", "Resize", "Upsample")


@dataclass(frozen=True)
class Expect:
    """What a case does instead of passing both paths.

    ``refused``: the importer raises UnsupportedError containing ``message``.  ``xfail_ort``: the onnxruntime path
    (original and exported alike) disagrees with ONNX's expected output; the bit-for-bit round trip still holds.
    """

    reason: str
    refused: str | None = None
    xfail_ort: bool = False
    xfail_reference: bool = False


_ALIGN_CORNERS_DOWN = Expect(
    "ONNX's expected output takes align_corners' resized length as input * scale (2.4, not the 2 output "
    "columns); onnxruntime uses the integer output length, and so do the reference and the export",
    xfail_ort=True,
    xfail_reference=True,
)

EXPECTATIONS: dict[str, Expect] = {
    "test_resize_downsample_scales_linear_align_corners": _ALIGN_CORNERS_DOWN,
    "test_resize_downsample_scales_cubic_align_corners": _ALIGN_CORNERS_DOWN,
}


@dataclass(frozen=True)
class NodeCase:
    name: str
    model: object
    inputs: dict[str, np.ndarray]
    constants: dict[str, np.ndarray]
    expected: dict[str, np.ndarray]
    rtol: float
    atol: float


def _collect() -> list[NodeCase]:
    import onnx.backend.test.case.node as node_cases

    # Importing a generator module runs its cases into the package's list (fast: three modules).  Should onnx
    # rename that private list, fall back to the public collector (every op, a few seconds).
    for module in ("convtranspose", "resize", "upsample"):
        importlib.import_module(f"onnx.backend.test.case.node.{module}")
    collected = getattr(node_cases, "_NodeTestCases", None)
    if collected is None:
        collected = node_cases.collect_testcases(None)
    out = []
    for case in collected:
        graph = case.model.graph
        if len(graph.node) != 1 or graph.node[0].op_type not in OPS:
            continue
        ((inputs, outputs),) = case.data_sets
        names = [vi.name for vi in graph.input]
        out.append(
            NodeCase(
                name=case.name,
                model=case.model,
                inputs={names[0]: np.asarray(inputs[0])},
                constants={n: np.asarray(a) for n, a in zip(names[1:], inputs[1:], strict=True)},
                expected={vi.name: np.asarray(a) for vi, a in zip(graph.output, outputs, strict=True)},
                rtol=case.rtol,
                atol=case.atol,
            )
        )
    return out


CASES = _collect()
CASE_IDS = [c.name for c in CASES]


def _import(case: NodeCase) -> ck.Model:
    # No backend node case warns on import; warnings are errors (pyproject), so one that starts to fails its case.
    return from_onnx(case.model, constants=case.constants)


def _original_onnxruntime(case: NodeCase) -> dict[str, np.ndarray]:
    return run_onnx(case.model, {**case.inputs, **case.constants})


def _close(got: np.ndarray, expected: np.ndarray, case: NodeCase) -> bool:
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=case.rtol, atol=case.atol))


def test_every_op_has_cases():
    ops = {c.model.graph.node[0].op_type for c in CASES}
    assert ops == set(OPS), f"collected node cases cover {sorted(ops)}"
    assert len(CASES) >= 50
    assert set(EXPECTATIONS) <= set(CASE_IDS), sorted(set(EXPECTATIONS) - set(CASE_IDS))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_import_then_reference(case: NodeCase):
    expect = EXPECTATIONS.get(case.name)
    if expect and expect.refused:
        with pytest.raises(ck.UnsupportedError, match=expect.refused) as info:
            _import(case)
        assert "ONNX node" in str(info.value)
        return
    model = _import(case)
    got = run_model(model, case.inputs)
    for name, expected in case.expected.items():
        if expect and expect.xfail_reference:
            assert not _close(got[name], expected, case), f"{case.name} now passes; drop its xfail row"
            pytest.xfail(expect.reason)
        np.testing.assert_allclose(got[name], expected, rtol=case.rtol, atol=case.atol, err_msg=case.name)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_import_export_onnxruntime(case: NodeCase):
    expect = EXPECTATIONS.get(case.name)
    if expect and expect.refused:
        pytest.skip(f"refused at import: {expect.reason}")
    model = _import(case)
    exported = run_onnx(ck.to_onnx(model), case.inputs)
    original = _original_onnxruntime(case)
    for name, expected in case.expected.items():
        # Round trip: the exported model computes exactly what onnxruntime computes for the original.
        np.testing.assert_array_equal(exported[name], original[name], err_msg=f"{case.name}: round trip")
        if expect and expect.xfail_ort:
            assert not _close(exported[name], expected, case), f"{case.name} now passes; drop its xfail row"
            pytest.xfail(expect.reason)
        np.testing.assert_allclose(exported[name], expected, rtol=case.rtol, atol=case.atol, err_msg=case.name)


def _outcome(case: NodeCase) -> tuple[str, str]:
    """(reference path, onnxruntime path) outcome of one case: pass, FAIL, refused or xfail."""
    expect = EXPECTATIONS.get(case.name)
    try:
        model = _import(case)
    except ck.UnsupportedError:
        return ("refused", "refused") if expect and expect.refused else ("FAIL", "FAIL")
    try:
        ref = run_model(model, case.inputs)
        ref_ok = all(_close(ref[n], e, case) for n, e in case.expected.items())
    except Exception:  # counted as a failure below; the per-case test shows the traceback
        ref_ok = False
    exported = run_onnx(ck.to_onnx(model), case.inputs)
    original = _original_onnxruntime(case)
    bitwise = all(np.array_equal(exported[n], original[n]) for n in case.expected)
    ort_ok = bitwise and all(_close(exported[n], e, case) for n, e in case.expected.items())
    ref_state = "pass" if ref_ok else ("xfail" if expect and expect.xfail_reference else "FAIL")
    ort_state = "pass" if ort_ok else ("xfail" if expect and expect.xfail_ort and bitwise else "FAIL")
    return ref_state, ort_state


def test_conformance_summary(capsys):
    """Print the pass counts per path; every case is a pass, a documented refusal or a documented xfail."""
    rows = {c.name: _outcome(c) for c in CASES}
    count = {
        path: {state: sum(1 for r in rows.values() if r[i] == state) for state in ("pass", "refused", "xfail", "FAIL")}
        for i, path in enumerate(("import->reference", "import->export->onnxruntime"))
    }
    with capsys.disabled():
        print(f"\nONNX backend node cases ({', '.join(OPS)}): {len(CASES)} collected")
        for path, c in count.items():
            print(f"  {path}: {c['pass']} passed, {c['refused']} refused, {c['xfail']} xfail, {c['FAIL']} failed")
        for name, (ref, ort) in rows.items():
            if (ref, ort) != ("pass", "pass"):
                why = EXPECTATIONS[name].reason if name in EXPECTATIONS else "unexpected"
                print(f"    {name}: reference {ref}, onnxruntime {ort} — {why}")
        older = [_older_outcome(c, o) for c, o in OLDER]
        print(
            f"  the Resize cases in opset 11/13/18 forms: {sum(older)} of {len(older)} pass both paths "
            "(reference vs expected; export bit-exact with onnxruntime on the rewritten node)"
        )
    failed = [name for name, r in rows.items() if "FAIL" in r]
    assert not failed, f"cases neither passing nor documented: {failed}"
    assert all(older)


def _older_outcome(case: NodeCase, opset: int) -> bool:
    try:
        test_resize_cases_in_older_opset_forms(case, opset)
    except (AssertionError, ck.ConvertkitError):
        return False
    return True


# -- the same Resize cases in their older opset forms --------------------------------------------------------------

_NEEDS_OPSET = {"antialias": 18, "axes": 18, "keep_aspect_ratio_policy": 18}


def _older_form(case: NodeCase, opset: int) -> tuple[object, dict[str, np.ndarray]] | None:
    """The case's Resize-19 node rewritten for ``opset`` (11: roi and scales inputs required), or None if the
    node uses something that opset lacks."""
    import onnx
    from onnx import helper, numpy_helper

    graph = case.model.graph
    node = graph.node[0]
    if node.op_type != "Resize":
        return None
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if any(opset < _NEEDS_OPSET.get(name, 0) for name in attrs):
        return None
    if attrs.get("coordinate_transformation_mode") == b"half_pixel_symmetric" and opset < 19:
        return None
    constants = dict(case.constants)
    inputs = list(node.input) + [""] * (4 - len(node.input))
    initializers = []
    if opset < 13:
        for index, name in ((1, "roi_empty"), (2, "scales_empty")):
            if inputs[index] == "":
                initializers.append(numpy_helper.from_array(np.zeros((0,), np.float32), name))
                inputs[index] = name
    while inputs and inputs[-1] == "":
        inputs.pop()
    new_node = helper.make_node("Resize", inputs, list(node.output), name=node.name, **attrs)
    new_graph = helper.make_graph(
        [new_node], graph.name, list(graph.input), list(graph.output), initializer=initializers
    )
    model = helper.make_model(new_graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model, constants


OLDER = [
    (case, opset)
    for case in CASES
    for opset in (11, 13, 18)
    if case.name not in EXPECTATIONS and _older_form(case, opset) is not None
]


@pytest.mark.parametrize("case,opset", OLDER, ids=[f"{c.name}-opset{o}" for c, o in OLDER])
def test_resize_cases_in_older_opset_forms(case: NodeCase, opset: int):
    model_proto, constants = _older_form(case, opset)
    model = from_onnx(model_proto, constants=constants)
    ((name, expected),) = case.expected.items()
    np.testing.assert_allclose(run_model(model, case.inputs)[name], expected, rtol=case.rtol, atol=case.atol)
    original = run_onnx(model_proto, {**case.inputs, **constants})[name]
    exported = run_onnx(ck.to_onnx(model), case.inputs)[name]
    np.testing.assert_array_equal(exported, original)
    np.testing.assert_allclose(exported, expected, rtol=case.rtol, atol=case.atol)


def test_older_opset_forms_cover_every_opset():
    assert {opset for _, opset in OLDER} == {11, 13, 18}
    assert len(OLDER) >= 60
