"""The portability matrix: every example and a seeded sweep of layer configurations exported for the ``portable``
target and run in every installed runtime (onnxruntime, OpenVINO, OpenCV's ONNX importer, onnx2torch), compared
with the NumPy reference.  A row that hits a known runtime defect (``convertkit.portability.DEFECTS``) is a strict
expected failure with its reason, so a fixed runtime shows; a runtime not installed skips its rows.

Also: the FSRCNN tail re-exports as PyTorch wrote it (symmetric pads + output_padding), every target's export of a
random deconvolution imports back with the same values, and the output_shape-past-the-scatter form round-trips.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import random
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convertkit as ck
from convertkit.check import random_inputs
from convertkit.formats.onnx_import import from_onnx
from convertkit.formats.spec import model_to_spec
from convertkit.portability import DEFECTS, RUNTIME_TARGETS, RUNTIMES, defects_hit
from convertkit.reference.interpreter import run_model
from convertkit.runtime import RUNNERS
from tests.cases import CASES, Works

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def _examples() -> list[tuple[str, ck.Model, int | None]]:
    out = []
    for path in sorted(glob.glob(os.path.join(EXAMPLES, "*"))):
        if not path.endswith((".json", ".yaml", ".onnx", ".prototxt")):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a prototxt without weights says so
            model = ck.load(path)
        if max(int(np.prod(t.shape)) for t in model.types.values()) <= 200_000:  # fcn_head is full-size
            out.append((os.path.basename(path), model, None))
    return out


def _small(model: ck.Model) -> bool:
    return all(t.dtype == "float32" and np.prod(t.shape) < 20_000 for t in model.types.values())


def _sweep(count: int = 14, seed: int = 13) -> list[tuple[str, ck.Model, int | None]]:
    """A seeded sample of the small Deconvolution / Upsample rows of the case table that export."""
    rows = [
        c
        for c in CASES
        if c.kind in ("Deconvolution", "Upsample")
        and isinstance(c.expect("onnxruntime"), Works)
        and isinstance(c.expect("onnx"), Works)
        and c.expect("onnx").warns is None
        and not c.slow
        and c.opset is None
    ]
    picked = random.Random(seed).sample(rows, min(count, len(rows)))
    out = []
    for case in sorted(picked, key=lambda c: c.id):
        model = case.build()
        if _small(model):
            out.append((case.id, model, None))
    return out


#: Rows per kind of the other kinds' sweep; every Pooling row (ceil_mode, pads, count_include_pad, global, ...).
PER_KIND, EVERY_ROW = 3, ("Pooling",)


def _kinds_sweep(seed: int = 13) -> list[tuple[str, ck.Model, int | None]]:
    """A seeded sample of at most :data:`PER_KIND` small rows of every other kind that run in onnxruntime (the
    lone-import gaps of Pad / Tile included: the matrix exports, it does not import), at the row's opset."""
    by_kind: dict[str, list] = {}
    for c in CASES:
        expect = c.expect("onnxruntime")
        if c.kind in ("Deconvolution", "Upsample") or c.slow or not isinstance(expect, Works) or expect.warns:
            continue
        by_kind.setdefault(c.kind, []).append(c)
    rng = random.Random(seed)
    out = []
    for kind in sorted(by_kind):
        rows = by_kind[kind]
        picked = rows if kind in EVERY_ROW else rng.sample(rows, min(PER_KIND, len(rows)))
        for case in sorted(picked, key=lambda c: c.id):
            model = case.build()
            if _small(model):
                out.append((case.id, model, case.opset))
    return out


MODELS = _examples() + _sweep() + _kinds_sweep()


@pytest.fixture(scope="module")
def exports() -> dict[str, tuple[ck.Model, object, dict, dict]]:
    out = {}
    for name, model, opset in MODELS:
        proto = ck.to_onnx(model, opset)
        feeds = random_inputs(model, 0)
        out[name] = (model, proto, feeds, run_model(model, feeds))
    return out


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("name", [n for n, _, _ in MODELS])
def test_matrix(exports, name, runtime, request):
    why = RUNNERS[runtime].missing()
    if why is not None:
        pytest.skip(why)
    model, proto, feeds, expected = exports[name]
    known = defects_hit(proto, runtime)
    if known:
        reasons = "; ".join(sorted({f"{d.name}: {d.reason}" for _, d in known}))
        request.applymarker(pytest.mark.xfail(strict=True, reason=reasons))
    got = RUNNERS[runtime].run(proto, feeds, model)
    for out in model.outputs:
        assert got[out].shape == expected[out].shape, f"{runtime}: shape {got[out].shape} != {expected[out].shape}"
        np.testing.assert_allclose(got[out], expected[out], atol=1e-4, rtol=1e-4, err_msg=f"{runtime} on {name}")


def test_every_defect_is_for_a_known_runtime_and_documented():
    from convertkit.portability import defects_table, forms_table

    with open(os.path.join(os.path.dirname(EXAMPLES), "README.md"), encoding="utf-8") as f:
        readme = f.read()

    assert {d.runtime for d in DEFECTS} <= set(RUNTIMES)
    assert defects_table() in readme
    assert forms_table() in readme


# -- forms -----------------------------------------------------------------------------------------------------------


def _attrs(proto, op="ConvTranspose"):
    import onnx

    (node,) = [n for n in proto.graph.node if n.op_type == op]
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _fsrcnn_tail() -> ck.Model:
    # PyTorch's FSRCNN tail: ConvTranspose2d(k 9, stride 3, padding 4, output_padding 2) -> pads [4,4,4,4], op 2.
    return ck.Model(
        [
            ck.Input(name="x", shape=(1, 4, 5, 5)),
            ck.Deconvolution(
                name="tail",
                input="x",
                out_channels=1,
                kernel_shape=(9, 9),
                strides=(3, 3),
                padding=ck.Padding(pads=(4, 4, 4, 4)),
                output_padding=(2, 2),
                weight=ck.Filler(type="gaussian", std=0.1, seed=1),
            ),
        ]
    )


def test_fsrcnn_tail_keeps_symmetric_pads_and_output_padding_and_runs_everywhere():
    model = _fsrcnn_tail()
    proto = ck.to_onnx(model)
    attrs = _attrs(proto)
    assert attrs["pads"] == [4, 4, 4, 4] and attrs["output_padding"] == [2, 2]
    assert defects_hit(proto, "portable") == []
    feeds = random_inputs(model, 0)
    expected = run_model(model, feeds)["tail"]
    for runtime in RUNTIMES:
        if RUNNERS[runtime].missing() is None:
            got = RUNNERS[runtime].run(proto, feeds, model)["tail"]
            np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=runtime)


def _dilated_asymmetric() -> ck.Model:
    return ck.Model(
        [
            ck.Input(name="x", shape=(1, 2, 5, 6)),
            ck.Deconvolution(
                name="d",
                input="x",
                out_channels=4,
                kernel_shape=(3, 3),
                strides=(2, 2),
                dilations=(2, 2),
                padding=ck.Padding(pads=(1, 0, 0, 1)),
                weight=ck.Filler(type="msra", seed=1),
                bias=ck.Filler(type="uniform", min=-1, max=1, seed=2),
            ),
        ]
    )


@pytest.mark.parametrize(
    "target, dilations, pads",
    [
        ("portable", [1, 1], [1, 1, 1, 1]),
        ("opencv", [1, 1], [1, 1, 1, 1]),
        ("torch", [2, 1], [1, 1, 1, 1]),  # axis 1 needs zero taps, so a dense kernel; axis 0 takes output_padding
        ("onnxruntime", [2, 2], [1, 0, 1, 1]),  # axis 0 symmetric with output_padding 1, axis 1 asymmetric
        ("openvino", [2, 2], [1, 0, 1, 1]),
    ],
)
def test_target_decides_dense_dilations_and_symmetric_pads(target, dilations, pads):
    model = _dilated_asymmetric()
    proto = ck.to_onnx(model, target=target)
    attrs = _attrs(proto)
    assert attrs["dilations"] == dilations and attrs["pads"] == pads
    assert defects_hit(proto, target) == []
    feeds = random_inputs(model, 0)
    np.testing.assert_allclose(run_model(from_onnx(proto), feeds)["d"], run_model(model, feeds)["d"], atol=1e-6)


def test_torch_target_takes_the_lowest_opset_and_onnx_keeps_the_source_opset():
    model = ck.load(os.path.join(EXAMPLES, "upsample_resize.yaml"))
    assert ck.to_onnx(model, target="torch").opset_import[0].version == 13
    assert ck.to_onnx(model).opset_import[0].version == 13  # portable: the lowest opset too
    assert ck.to_onnx(model, target="onnxruntime").opset_import[0].version == 19
    again = from_onnx(ck.to_onnx(model, 17))
    assert again.meta["onnx_opset"] == 17
    assert ck.to_onnx(again).opset_import[0].version == 17
    assert ck.to_onnx(again, 19).opset_import[0].version == 19


def test_unknown_target_is_refused():
    with pytest.raises(ck.ValidationError, match="target must be one of"):
        ck.to_onnx(_fsrcnn_tail(), target="tensorrt")


def test_absent_peer_is_a_clear_error(monkeypatch):
    from convertkit import runtime

    monkeypatch.setitem(
        runtime.RUNNERS, "openvino", dataclasses.replace(runtime.RUNNERS["openvino"], missing=lambda: "no openvino")
    )
    with pytest.raises(ck.UnsupportedError, match="openvino backend .* cannot run here: no openvino"):
        runtime.run_backend("openvino", ck.to_onnx(_fsrcnn_tail()), {})


# -- round trips -----------------------------------------------------------------------------------------------------


def test_output_shape_past_the_scatter_round_trips():
    spec_padding = ck.Padding(convention="onnx_output_shape", output_shape=(12, 12))
    model = ck.Model(
        [
            ck.Input(name="x", shape=(1, 2, 4, 4)),
            ck.Deconvolution(
                name="y",
                input="x",
                out_channels=2,
                kernel_shape=(3, 3),
                strides=(2, 2),
                padding=spec_padding,
                weight=ck.Filler(type="msra", seed=1),
                bias=ck.Filler(type="uniform", min=-1, max=1, seed=2),
            ),
        ]
    )
    proto = ck.to_onnx(model)
    assert [n.op_type for n in proto.graph.node] == ["ConvTranspose", "Pad", "Add"]
    again = from_onnx(proto)
    assert again.layer("y").padding == spec_padding and again.layer("y").output_padding == (0, 0)
    feeds = random_inputs(model, 0)
    np.testing.assert_array_equal(run_model(again, feeds)["y"], run_model(model, feeds)["y"])


@st.composite
def deconvolutions(draw):
    n = draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 4)) for _ in range(n))
    s = tuple(draw(st.integers(1, 3)) for _ in range(n))
    d = tuple(draw(st.integers(1, 2)) for _ in range(n))
    op = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d, strict=True))
    pads = tuple(draw(st.integers(0, 2)) for _ in range(2 * n))
    spatial = tuple(draw(st.integers(2, 5)) for _ in range(n))
    try:
        return _model(n, k, s, d, op, pads, spatial, draw(st.integers(0, 99)), draw(st.booleans()))
    except ck.ConvertkitError:
        assume(False)


def _model(n, k, s, d, op, pads, spatial, seed, bias):
    return ck.Model(
        [
            ck.Input(name="x", shape=(1, 2, *spatial)),
            ck.Deconvolution(
                name="d",
                input="x",
                out_channels=2,
                kernel_shape=k,
                strides=s,
                dilations=d,
                padding=ck.Padding(pads=pads),
                output_padding=op,
                weight=ck.Filler(type="gaussian", seed=seed),
                bias=ck.Filler(type="uniform", min=-1, max=1, seed=5) if bias else None,
            ),
        ]
    )


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(deconvolutions())
def test_every_target_export_imports_back_as_the_layer_it_was(model):
    feeds = random_inputs(model, 0)
    expected = run_model(model, feeds)["d"]
    layer = model.layer("d")
    weight = layer.weight_array(2)
    for target in RUNTIME_TARGETS:
        try:
            proto = ck.to_onnx(model, target=target)
        except ck.ConvertkitError:
            continue  # an empty output or a size onnx refuses: not a portability question
        again = from_onnx(proto)
        assert [layer.kind for layer in again.layers] == [layer.kind for layer in model.layers]
        np.testing.assert_allclose(run_model(again, feeds)["d"], expected, atol=1e-5, err_msg=target)
        back = again.layer("d")
        # a dense / zero-extended kernel folds back (its doc_string names the layer): same kernel, same dilations
        assert (back.kernel_shape, back.dilations) == (layer.kernel_shape, layer.dilations), target
        np.testing.assert_array_equal(back.weight_array(2), weight, err_msg=target)
        # and again: the same layer, up to the form of its pads
        assert model_to_spec(from_onnx(ck.to_onnx(again, target=target))) == model_to_spec(again)


def test_a_portable_form_folds_back_only_when_its_zero_taps_verify():
    import onnx

    model = _dilated_asymmetric()
    proto = ck.to_onnx(model)
    assert from_onnx(proto).layer("d").dilations == (2, 2)
    (weight,) = [t for t in proto.graph.initializer if t.name.endswith("weight")]
    w = onnx.numpy_helper.to_array(weight).copy()
    assert w[0, 0, 1, 1] == 0  # a zero tap of the dilation
    w[0, 0, 1, 1] = 0.5
    weight.CopyFrom(onnx.numpy_helper.from_array(w, weight.name))
    again = from_onnx(proto)  # not the form convertkit wrote: the dense layer as it is, with its values
    assert again.layer("d").dilations == (1, 1)
    np.testing.assert_array_equal(again.layer("d").weight_array(2), w)
    proto.graph.node[0].doc_string = "convertkit portable form of: {not json"
    assert from_onnx(proto).layer("d").dilations == (1, 1)


# -- the command line ------------------------------------------------------------------------------------------------


def _cli(*argv):
    from convertkit.cli import main

    return main([str(a) for a in argv])


def test_check_backends_all_prints_one_row_per_runtime_and_names_known_defects(tmp_path, capsys):
    spec = tmp_path / "d.json"
    ck.save(_dilated_asymmetric(), str(spec))
    assert _cli("check", spec, "--target", "onnxruntime", "--backends", "all") == 0
    out, err = capsys.readouterr()
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ") and ":" not in line.split()[0]}
    assert set(rows) == set(RUNTIMES)
    assert "PASS" in rows["onnxruntime"]
    for runtime in ("opencv", "torch"):
        assert "not installed" in rows[runtime] or "known defect: asymmetric ConvTranspose pads" in rows[runtime]
    assert "" == err  # target onnxruntime: no defect of onnxruntime's
    assert _cli("check", spec, "--backends", "all") == 0  # portable: every row passes
    out, err = capsys.readouterr()
    assert "known defect" not in out and "FAIL" not in out and "ERROR" not in out


def test_check_warns_when_the_export_hits_a_defect_of_its_target(tmp_path, capsys):
    spec = tmp_path / "d.json"
    ck.save(_dilated_asymmetric(), str(spec))
    assert _cli("check", spec, "--target", "openvino") == 0
    assert capsys.readouterr().err == ""
    model = ck.load(os.path.join(EXAMPLES, "upsample_resize.yaml"))
    ck.save(model, str(tmp_path / "up.json"))
    assert _cli("check", tmp_path / "up.json", "--opset", "19") == 0
    err = capsys.readouterr().err
    assert "warning: node" in err and "known torch defect (op version without a converter)" in err


@pytest.mark.parametrize("backend", ["reference", "opencv", "openvino", "torch"])
def test_run_backend_on_an_onnx_file_and_on_a_spec(tmp_path, capsys, backend):
    if backend != "reference" and RUNNERS[backend].missing() is not None:
        pytest.skip(RUNNERS[backend].missing())
    model = _fsrcnn_tail()
    ck.save(model, str(tmp_path / "t.onnx"))
    ck.save(model, str(tmp_path / "t.json"))
    for src in ("t.onnx", "t.json"):
        assert _cli("run", tmp_path / src, "--backend", backend, "-o", tmp_path / "out.npz") == 0
        assert f"backend: {backend}" in capsys.readouterr().out
        got = np.load(tmp_path / "out.npz")["tail"]
        np.testing.assert_allclose(got, run_model(model, random_inputs(model, 0))["tail"], atol=1e-5)


def test_convert_onnx_to_onnx_keeps_the_source_opset(tmp_path):
    import onnx

    model = _fsrcnn_tail()
    ck.save(model, str(tmp_path / "a.onnx"), opset=17)
    assert _cli("convert", tmp_path / "a.onnx", "-o", tmp_path / "b.onnx") == 0
    assert onnx.load(str(tmp_path / "b.onnx")).opset_import[0].version == 17
    assert _cli("convert", tmp_path / "a.onnx", "-o", tmp_path / "c.onnx", "--opset", "19") == 0
    assert onnx.load(str(tmp_path / "c.onnx")).opset_import[0].version == 19


# -- output_padding past the stride on a dilated axis: dense for OpenCV ------------------------------------------


@pytest.mark.parametrize(
    "k, s, d, op, pads",
    [
        ((3, 2), (1, 2), (3, 3), (2, 1), (0, 0, 0, 0)),  # the case table's row: op 2 >= stride 1 on axis 0
        ((2, 3), (1, 1), (4, 2), (3, 1), (2, 0, 1, 0)),  # an end pad absorbs part of output_padding
        ((3, 3), (2, 1), (3, 2), (2, 1), (2, 1, 0, 3)),
    ],
)
def test_output_padding_past_the_stride_is_written_dense_for_opencv(k, s, d, op, pads):
    model = _model(2, k, s, d, op, pads, (4, 5), 3, True)
    feeds = random_inputs(model, 0)
    expected = run_model(model, feeds)["d"]
    compact = ck.to_onnx(model, target="onnxruntime")  # ConvTranspose (dilated) -> Pad -> Add: another oracle
    assert [n.op_type for n in compact.graph.node] == ["ConvTranspose", "Pad", "Add"]
    np.testing.assert_allclose(RUNNERS["onnxruntime"].run(compact, feeds, model)["d"], expected, atol=1e-5)
    for target in ("portable", "opencv"):
        proto = ck.to_onnx(model, target=target)
        assert [n.op_type for n in proto.graph.node] == ["ConvTranspose"]
        attrs = _attrs(proto)
        assert attrs["dilations"] == [1, 1] and all(
            o < st for o, st in zip(attrs.get("output_padding", [0, 0]), s, strict=True)
        )
        assert defects_hit(proto, target) == []
        for runtime in ("onnxruntime", "opencv"):
            if RUNNERS[runtime].missing() is None:
                got = RUNNERS[runtime].run(proto, feeds, model)["d"]
                np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=f"{target} in {runtime}")


# -- the API's check warns as the command line's does ----------------------------------------------------------------


def test_api_check_warns_when_its_export_hits_a_defect_of_its_target():
    from convertkit.check import check_model
    from convertkit.portability import PortabilityWarning

    model = ck.load(os.path.join(EXAMPLES, "upsample_resize.yaml"))
    with pytest.warns(PortabilityWarning, match=r"known torch defect \(op version without a converter\)"):
        assert ck.check(model, opset=19).passed  # portable: torch's runtime is one of its runtimes
    with pytest.warns(PortabilityWarning, match="known torch defect"):
        assert ck.check(model, opset=19, target="torch").passed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ck.check(model, opset=19, target="onnxruntime").passed  # no onnxruntime defect
        assert ck.check(model).passed  # the portable default opset: no defect
        assert ck.check(_dilated_asymmetric(), target="opencv").passed  # opencv's form: dense, symmetric
    with warnings.catch_warnings(record=True) as caught:  # an ONNX model given: its defects, once each
        warnings.simplefilter("always")
        check_model(_dilated_asymmetric(), onnx_model=ck.to_onnx(_dilated_asymmetric(), target="onnxruntime"))
    assert [w.category for w in caught] == [PortabilityWarning] * 3
    assert {str(w.message).split(": ")[0] for w in caught} == {
        "node 'd' hits a known opencv defect (dilated ConvTranspose)",
        "node 'd' hits a known opencv defect (asymmetric ConvTranspose pads)",
        "node 'd' hits a known torch defect (asymmetric ConvTranspose pads)",
    }
    with pytest.raises(ck.ValidationError, match="target must be one of"):
        ck.check(model, target="tensorrt")


# -- explicit average-pooling pads: OpenCV ignores count_include_pad -----------------------------------------------


@pytest.mark.parametrize(
    "shape, fields, form",
    [
        ((1, 2, 7, 6), dict(kernel_shape=(3, 3), strides=(2, 2), pads=(1, 1, 1, 1), ceil_mode=True), "Pad"),
        ((1, 2, 6, 6), dict(kernel_shape=(3, 3), strides=(2, 2), pads=(0, 0, 1, 1)), "Pad"),  # asymmetric
        ((1, 2, 5, 5), dict(kernel_shape=(2, 2), strides=(2, 2), pads=(1, 1, 1, 1), ceil_mode=True), "Pad"),  # floor
        ((1, 2, 5, 5), dict(kernel_shape=(2, 2), strides=(2, 2), pads=(0, 0, 0, 0), ceil_mode=True), "none"),
    ],
)
def test_average_pooling_with_count_include_pad_is_written_with_an_explicit_pad(shape, fields, form):
    model = ck.Model(
        [
            ck.Input(name="x", shape=shape),
            ck.Pooling(name="p", input="x", method="average", count_include_pad=True, **fields),
        ]
    )
    proto = ck.to_onnx(model)
    ops = [n.op_type for n in proto.graph.node]
    assert ops == (["Pad", "AveragePool"] if form == "Pad" else ["AveragePool"])
    assert [n.op_type for n in ck.to_onnx(model, target="onnxruntime").graph.node] == ["AveragePool"]
    again = from_onnx(proto)
    assert [layer.kind for layer in again.layers] == ["Input", "Pooling"]
    assert again.layer("p").count_include_pad == (form == "Pad") and again.layer("p").pads == fields["pads"]
    assert ck.to_onnx(again).SerializeToString() == proto.SerializeToString()
    feeds = random_inputs(model, 0)
    expected = run_model(model, feeds)["p"]
    known = {d.runtime for _, d in defects_hit(proto, "portable")}
    for runtime in RUNTIMES:
        if RUNNERS[runtime].missing() is None and runtime not in known:
            got = RUNNERS[runtime].run(proto, feeds, model)["p"]
            np.testing.assert_allclose(got, expected, atol=1e-5, err_msg=runtime)
    assert not known
