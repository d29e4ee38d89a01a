"""Models made by a real exporter: PyTorch's ``torch.onnx.export`` (TorchScript exporter) of transposed
convolutions and upsampling, imported into convertkit.

For every row: PyTorch's own output is the oracle for the reference (import -> NumPy) and for the export
(import -> ONNX -> onnxruntime); the export also equals onnxruntime on PyTorch's ONNX file bit for bit, whenever
onnxruntime accepts that file.  Skipped when torch is not installed (it is an optional dependency).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

import convertkit as ck  # noqa: E402
from convertkit.formats.onnx_import import OnnxImportWarning, from_onnx  # noqa: E402
from convertkit.reference.interpreter import run_model  # noqa: E402
from convertkit.runtime import run_onnx  # noqa: E402

nn = torch.nn
F = torch.nn.functional


class Interpolate(nn.Module):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        self.kwargs = kwargs

    def forward(self, x: Any) -> Any:
        return F.interpolate(x, **self.kwargs)


@dataclass(frozen=True)
class Row:
    id: str
    make: Any  # () -> nn.Module, seeded inside
    x: tuple[int, ...]
    opsets: tuple[int, ...] = (11, 13, 17)
    ort_rejects_original: bool = False  # onnxruntime refuses PyTorch's file; the export still runs
    #: The OnnxImportWarning (regex) the import gives at opsets 9 and 10, where sizes travel as float32 scales.
    warns_before_opset11: str | None = None


ROWS = [
    Row(
        "convtranspose1d-output_padding",
        lambda: nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1, output_padding=1),
        (2, 3, 7),
        (9, 13, 17),
    ),
    Row(
        "convtranspose1d-groups-dilation",
        lambda: nn.ConvTranspose1d(4, 6, 5, stride=3, groups=2, dilation=2, bias=False),
        (1, 4, 6),
    ),
    Row(
        "convtranspose2d-groups-output_padding",
        lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
        (1, 4, 5, 6),
        (9, 13, 17),
    ),
    Row(
        "convtranspose2d-rectangular-dilation",
        lambda: nn.ConvTranspose2d(3, 5, (3, 4), stride=(2, 3), padding=(1, 2), output_padding=(1, 2), dilation=(2, 1)),
        (1, 3, 4, 5),
    ),
    Row(
        "convtranspose2d-depthwise",
        lambda: nn.ConvTranspose2d(4, 4, 4, stride=2, padding=1, groups=4, bias=False),
        (1, 4, 5, 5),
    ),
    Row(
        "convtranspose3d-output_padding",
        lambda: nn.ConvTranspose3d(2, 4, 3, stride=2, padding=1, output_padding=1),
        (1, 2, 3, 4, 3),
    ),
    Row(
        "convtranspose3d-groups-dilation",
        lambda: nn.ConvTranspose3d(2, 4, (2, 3, 3), stride=(1, 2, 2), dilation=(2, 1, 1), groups=2),
        (1, 2, 3, 3, 4),
    ),
    Row(
        "convtranspose2d-output_padding-below-dilation",
        lambda: nn.ConvTranspose2d(2, 3, 3, stride=1, dilation=2, output_padding=1),
        (1, 2, 4, 4),
        (13, 17),
        ort_rejects_original=True,
    ),
    Row("upsample-nearest-x2", lambda: nn.Upsample(scale_factor=2, mode="nearest"), (1, 3, 4, 5), (9, 10, 11, 13, 17)),
    Row(
        "upsample-nearest-2x3", lambda: nn.Upsample(scale_factor=(2, 3), mode="nearest"), (1, 2, 3, 4), (9, 10, 11, 17)
    ),
    Row("upsample-bilinear-x2", lambda: nn.Upsample(scale_factor=2, mode="bilinear"), (1, 3, 4, 5), (11, 13, 17)),
    Row(
        "upsample-bilinear-align_corners",
        lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
        (1, 3, 4, 5),
    ),
    Row(
        "interpolate-nearest-size",
        lambda: Interpolate(size=(7, 9), mode="nearest"),
        (1, 2, 3, 4),
        (9, 10, 11, 13, 17),
        warns_before_opset11=r"gives 7 rows in onnxruntime .* imported as sizes \[7, 9\]",
    ),
    Row(
        "interpolate-bilinear-size-align_corners",
        lambda: Interpolate(size=(7, 9), mode="bilinear", align_corners=True),
        (1, 2, 3, 4),
    ),
    Row("interpolate-bilinear-x1.5", lambda: Interpolate(scale_factor=1.5, mode="bilinear"), (1, 2, 4, 6)),
    Row("interpolate-bicubic-x2", lambda: Interpolate(scale_factor=2, mode="bicubic"), (1, 2, 4, 5), (11, 13, 18, 20)),
    Row(
        "interpolate-bicubic-size-align_corners",
        lambda: Interpolate(size=(7, 9), mode="bicubic", align_corners=True),
        (1, 2, 4, 5),
    ),
    Row("interpolate-bilinear-down", lambda: Interpolate(scale_factor=0.5, mode="bilinear"), (1, 2, 8, 6)),
    Row("interpolate-linear-1d", lambda: Interpolate(scale_factor=3, mode="linear"), (1, 2, 5)),
    Row("interpolate-trilinear-3d", lambda: Interpolate(size=(4, 6, 5), mode="trilinear"), (1, 2, 2, 3, 5)),
    Row("interpolate-nearest-3d", lambda: Interpolate(scale_factor=2, mode="nearest"), (1, 2, 2, 3, 2)),
]

CASES = [(row, opset) for row in ROWS for opset in row.opsets]


@contextlib.contextmanager
def quiet_torchscript_exporter() -> Iterator[None]:
    """Ignore the two deprecation notices torch (2.9+) gives on every ``dynamo=False`` export, which these rows
    use on purpose (it is the exporter older PyTorch code runs): the exporter's own notice, and the one its
    internals raise calling their own deprecated helpers (``exporter_context``).  Neither is ours to fix; any
    other warning from the export still fails the test (warnings are errors, see pyproject)."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="You are using the legacy TorchScript-based ONNX export", category=DeprecationWarning
        )
        warnings.filterwarnings(
            "ignore",
            message="The feature will be removed. Please remove usage of this function",
            category=DeprecationWarning,
            module=r"torch\.onnx\.",
        )
        yield


def _row(row_id: str) -> Row:
    return next(row for row in ROWS if row.id == row_id)


def _export(row: Row, opset: int) -> tuple[Any, np.ndarray, np.ndarray]:
    torch.manual_seed(0)
    module = row.make().eval()
    x = torch.from_numpy(np.random.default_rng(0).standard_normal(row.x).astype(np.float32))
    with torch.no_grad():
        expected = module(x).numpy()
    buffer = io.BytesIO()
    # Before opset 11 the exporter warns that its Upsample-9 / Resize-10 may not match PyTorch (the rows check
    # that convertkit's import does).
    old_upsample = opset < 11 and any(isinstance(m, (nn.Upsample, Interpolate)) for m in module.modules())
    notice = (
        pytest.warns(UserWarning, match=rf"export the model with onnx:(Upsample|Resize) for ONNX opset version {opset}")
        if old_upsample
        else contextlib.nullcontext()
    )
    with notice, quiet_torchscript_exporter():
        torch.onnx.export(
            module, (x,), buffer, dynamo=False, opset_version=opset, input_names=["x"], output_names=["y"]
        )
    return onnx.load_from_string(buffer.getvalue()), x.numpy(), expected


def _import(proto: Any) -> ck.Model:
    # No row's import warns (warnings are errors, see pyproject): a new OnnxImportWarning fails its row.
    return from_onnx(proto)


@pytest.mark.parametrize("row,opset", CASES, ids=[f"{r.id}-opset{o}" for r, o in CASES])
def test_pytorch_export_imports_exactly(row: Row, opset: int):
    proto, x, expected = _export(row, opset)
    if opset < 11 and row.warns_before_opset11:
        with pytest.warns(OnnxImportWarning, match=row.warns_before_opset11):
            model = _import(proto)
    else:
        model = _import(proto)
    assert model.types["y"].shape == expected.shape
    np.testing.assert_allclose(run_model(model, {"x": x})["y"], expected, rtol=1e-5, atol=1e-5)
    exported = run_onnx(ck.to_onnx(model), {"x": x})["y"]
    np.testing.assert_allclose(exported, expected, rtol=1e-5, atol=1e-5)
    if row.ort_rejects_original:
        with pytest.raises(ck.ConvertkitError):
            run_onnx(proto, {"x": x})
    else:
        np.testing.assert_array_equal(exported, run_onnx(proto, {"x": x})["y"])


def test_pytorch_sizes_from_shape_arithmetic_fold_to_constants():
    # At opset >= 11 the exporter computes Resize's sizes as Concat(Slice(Shape(x)), [7, 9]).
    proto, _, _ = _export(_row("interpolate-nearest-size"), 13)
    assert {"Shape", "Slice", "Concat"} <= {n.op_type for n in proto.graph.node}
    model = _import(proto)
    assert [layer.kind for layer in model.layers] == ["Input", "Upsample"]
    assert model.layers[1].sizes == (7, 9)


@pytest.mark.parametrize("opset", [9, 10])
def test_pytorch_opset9_10_size_export_becomes_sizes(opset: int):
    # Upsample-9 / Resize-10 take scales only: PyTorch writes size 7 from 3 rows as the float32 scale 7/3.
    # onnxruntime multiplies in float32 (3 * 2.3333333 = 7 rows), onnx shape inference exactly (6 rows); the
    # import keeps onnxruntime's 7 as sizes (7 / 3 in float32 is the same scale) and says so.
    proto, x, expected = _export(_row("interpolate-nearest-size"), opset)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", OnnxImportWarning)
        model = from_onnx(proto)
    assert any("imported as sizes [7, 9]" in str(w.message) for w in caught)
    assert model.layers[1].sizes == (7, 9) and model.types["y"].shape == expected.shape


def test_initializers_listed_as_inputs_and_unfolded_constants_import():
    # Older exporters list weights among the graph inputs; without constant folding the exporter may route them
    # through Identity/Constant nodes.  Both stay constants.
    torch.manual_seed(0)
    module = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1).eval()
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 3, 4, 5)).astype(np.float32))
    buffer = io.BytesIO()
    with quiet_torchscript_exporter():
        torch.onnx.export(
            module,
            (x,),
            buffer,
            dynamo=False,
            opset_version=11,
            input_names=["x"],
            output_names=["y"],
            keep_initializers_as_inputs=True,
            do_constant_folding=False,
        )
    proto = onnx.load_from_string(buffer.getvalue())
    assert len(proto.graph.input) > 1
    model = _import(proto)
    assert model.inputs == ("x",)
    with torch.no_grad():
        expected = module(x).numpy()
    np.testing.assert_allclose(run_model(model, {"x": x.numpy()})["y"], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(
        run_onnx(ck.to_onnx(model), {"x": x.numpy()})["y"], run_onnx(proto, {"x": x.numpy()})["y"]
    )
