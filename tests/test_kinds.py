"""Every suite over the one case table (``tests/cases.py``), by layer kind.

(a) the ONNX export runs in onnxruntime with the reference's numbers (``convertkit.check``);
(b) spec -> JSON/YAML -> spec gives the same model, bit for bit;
(c) ONNX -> IR -> ONNX gives the same serialized model, bit for bit;
(d) Caffe: model -> prototxt + caffemodel -> IR -> prototxt keeps the net and every blob, and OpenCV's Caffe
    reader runs the export with the reference's numbers.

What a row expects of each path is in the row (``Works`` / ``Refused`` / ``Gap``), not in the suites: a refusal is
asserted with its message, a known gap is a strict xfail.  Warnings are errors (pyproject), so a path that warns
unexpectedly fails, and a row that expects a warning asserts it.
"""

from __future__ import annotations

import contextlib
import difflib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnx.printer
import pytest
from cases import CASES, Case, Expect, Refused, Works, params
from google.protobuf.json_format import MessageToDict

import convertkit as ck
from convertkit import registry
from convertkit.comparison import random_inputs
from convertkit.formats.caffe import caffemodel_path, check_caffe, load_caffe, save_caffe, to_caffe
from convertkit.formats.onnx_import import from_onnx
from convertkit.formats.spec import model_from_spec, model_to_spec
from convertkit.reference.interpreter import run_model


def refuses(expect: Expect, call: Callable[[], Any]) -> bool:
    """If the row expects a refusal here, assert ``call`` raises it (type and message) and return True."""
    if not isinstance(expect, Refused):
        return False
    with pytest.raises(expect.error, match=expect.match):
        call()
    return True


@contextlib.contextmanager
def warns_as_expected(expect: Expect) -> Iterator[None]:
    """The warning the row expects on this path (any other warning is an error, see pyproject)."""
    if isinstance(expect, Works) and expect.warns is not None:
        with pytest.warns(expect.category, match=expect.warns):
            yield
    else:
        yield


def assert_outputs_close(got: dict[str, np.ndarray], want: dict[str, np.ndarray], case: Case) -> None:
    assert set(got) >= set(want), (sorted(got), sorted(want))
    for name, value in want.items():
        np.testing.assert_allclose(got[name], value, atol=case.atol, rtol=case.rtol, err_msg=f"{case.id}: {name}")


# -- the table itself -----------------------------------------------------------------------------------------------


def test_every_registered_kind_has_rows():
    registered = [k.name for k in registry.kinds()]
    rows = Counter(case.kind for case in CASES)
    assert not set(registered) - set(rows), f"kinds without a row in tests/cases.py: {set(registered) - set(rows)}"
    assert not set(rows) - set(registered), f"rows name kinds that are not registered: {set(rows) - set(registered)}"


def test_case_ids_are_unique_and_name_their_kind():
    ids = Counter(case.id for case in CASES)
    assert not [i for i, n in ids.items() if n > 1], "duplicate case ids"
    for case in CASES:
        assert case.id.startswith(case.kind.lower() + "-"), case.id


@pytest.mark.parametrize("case", params("spec"))
def test_each_row_builds_a_model_with_its_kind(case: Case):
    built = case.build()
    assert isinstance(built, ck.Model)
    assert case.kind in {layer.kind for layer in built.layers}, case.id


# -- (a) reference vs onnxruntime ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", params("onnxruntime"))
def test_reference_matches_onnxruntime(case: Case):
    model = case.build()
    expect = case.expect("onnxruntime")
    if refuses(expect, lambda: ck.check(model, opset=case.opset)):
        return
    with warns_as_expected(expect):
        report = ck.check(model, atol=case.atol, rtol=case.rtol, opset=case.opset)
    assert report.passed, report.format()


# -- (b) spec ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", params("spec"))
def test_spec_round_trip_is_bit_for_bit(case: Case, tmp_path: Path):
    model = case.build()
    if refuses(case.expect("spec"), lambda: model_from_spec(json.loads(json.dumps(model_to_spec(model))))):
        return
    spec = model_to_spec(model)
    again = model_from_spec(json.loads(json.dumps(spec)))
    assert model_to_spec(again) == spec
    assert again == model
    for suffix in (".json", ".yaml"):
        path = tmp_path / f"model{suffix}"
        ck.save(model, str(path))
        assert ck.load(str(path)) == model, suffix
    feeds = random_inputs(model, 0)
    want = run_model(model, feeds)
    for name, value in run_model(again, feeds).items():
        np.testing.assert_array_equal(value, want[name], err_msg=name)


# -- (c) ONNX -> IR -> ONNX ----------------------------------------------------------------------------------------


def _onnx_diff(first: Any, second: Any) -> str:
    a, b = onnx.printer.to_text(first.graph), onnx.printer.to_text(second.graph)
    return "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), "export", "re-export", lineterm=""))


@pytest.mark.parametrize("case", params("onnx"))
def test_onnx_round_trip_is_bit_for_bit(case: Case):
    model = case.build()
    expect = case.expect("onnx")
    if refuses(expect, lambda: ck.to_onnx(model, case.opset)):
        return
    with warns_as_expected(expect):
        proto = ck.to_onnx(model, case.opset)
        imported = from_onnx(proto)
    again = ck.to_onnx(imported, case.opset)
    assert again.SerializeToString() == proto.SerializeToString(), _onnx_diff(proto, again)
    feeds = random_inputs(model, 0)
    assert_outputs_close(run_model(imported, feeds), run_model(model, feeds), case)


# -- (d) Caffe: prototxt -> IR -> prototxt, and OpenCV -------------------------------------------------------------


def _canonical_net(path: Path) -> tuple[list[dict], set[str]]:
    """The net as comparable data, up to the two things a read-back may change without changing the net.

    - ``weight_filler`` / ``bias_filler``: a net read with its caffemodel takes the blobs as values, so the second
      prototxt carries no filler; the blobs themselves are compared bit for bit separately.
    - ``Silence`` layers: the blobs a net leaves unread are silenced where the writer produces them the first
      time, and all in one ``Silence`` at the end once they are read back; what is silenced is the same.
    """
    from convertkit.codec.caffe import read_prototxt

    layers, silenced = [], set()
    for layer in read_prototxt(str(path)).layer:
        if layer.type == "Silence":
            silenced.update(layer.bottom)
            continue
        data = MessageToDict(layer, preserving_proto_field_name=True)
        data.get("convolution_param", {}).pop("weight_filler", None)
        data.get("convolution_param", {}).pop("bias_filler", None)
        layers.append(data)
    return layers, silenced


def _blobs(path: Path) -> dict[str, list[bytes]]:
    from convertkit.codec.caffe import read_caffemodel

    return {layer.name: [b.SerializeToString() for b in layer.blobs] for layer in read_caffemodel(str(path)).layer}


@pytest.mark.parametrize("case", params("caffe"))
def test_caffe_round_trip_keeps_the_net_and_every_blob(case: Case, tmp_path: Path):
    model = case.build()
    expect = case.expect("caffe")
    if refuses(expect, lambda: to_caffe(model, dialect=case.dialect)):  # type: ignore[arg-type]
        return
    first, second, third = (tmp_path / f"{n}.prototxt" for n in ("first", "second", "third"))
    with warns_as_expected(expect):
        save_caffe(model, str(first), dialect=case.dialect)  # type: ignore[arg-type]
    read = load_caffe(str(first), weights=caffemodel_path(str(first)))
    assert read.outputs == model.outputs
    save_caffe(read, str(second), dialect=case.dialect)  # type: ignore[arg-type]
    assert _canonical_net(second) == _canonical_net(first)
    assert _blobs(Path(caffemodel_path(str(second)))) == _blobs(Path(caffemodel_path(str(first))))
    # Read back once, the net is a fixed point: the same text and bytes again.
    save_caffe(load_caffe(str(second), weights=caffemodel_path(str(second))), str(third), dialect=case.dialect)  # type: ignore[arg-type]
    assert third.read_text() == second.read_text()
    assert Path(caffemodel_path(str(third))).read_bytes() == Path(caffemodel_path(str(second))).read_bytes()
    feeds = random_inputs(model, 0)
    assert_outputs_close(run_model(read, feeds), run_model(model, feeds), case)


@pytest.mark.parametrize("case", params("opencv"))
def test_opencv_matches_the_reference(case: Case):
    model = case.build()
    expect = case.expect("opencv")
    if refuses(expect, lambda: check_caffe(model, dialect=case.dialect)):
        return
    pytest.importorskip("cv2", reason="OpenCV's Caffe reader (opencv-python-headless<5) is the Caffe runtime peer")
    with warns_as_expected(expect):
        report = check_caffe(model, atol=case.atol, rtol=case.rtol, dialect=case.dialect)
    assert report.passed, report.format()
