"""Which ONNX forms each runtime runs: the export targets, their form choices, and the known runtime defects.

Two tables, each the one place its facts live:

- :data:`FORMS`: for each export form convertkit can choose, the targets (``--target``) that need it.  The
  ``portable`` target (the default) takes every form any runtime needs, so what it writes runs everywhere that
  runtime defects (below) allow.
- :data:`DEFECTS`: runtime defects convertkit cannot write around (or that only a named target writes around),
  each with the runtime, a reason and a test on one ONNX node.  ``check`` warns when an export hits one for the
  chosen target; ``tests/test_portability.py`` runs them as strict expected failures, so a fixed runtime shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "PortabilityWarning",
    "RUNTIME_TARGETS",
    "RUNTIMES",
    "FORMS",
    "DEFECTS",
    "Defect",
    "needs_form",
    "defects_hit",
    "check_target",
]


class PortabilityWarning(UserWarning):
    """An export hits a known defect of a runtime its target includes (:data:`DEFECTS`)."""


#: The runtimes convertkit runs ONNX models in (``--backend``; ``reference`` is convertkit's NumPy interpreter).
RUNTIMES: tuple[str, ...] = ("onnxruntime", "openvino", "opencv", "torch")
#: ``--target`` values: a runtime, or ``portable`` (every runtime).
RUNTIME_TARGETS: tuple[str, ...] = ("portable", *RUNTIMES)

#: form -> (targets that need it, what it is).  A target not listed keeps the compact form.
FORMS: dict[str, tuple[tuple[str, ...], str]] = {
    "symmetric_pads": (
        ("portable", "opencv", "torch"),
        "ConvTranspose pads made symmetric (+ output_padding below the stride) by zero-extending the kernel where "
        "symmetric pads + output_padding alone are not exact (OpenCV: 'Unsupported asymmetric padding in "
        "deconvolution layer'; onnx2torch: 'non symmetrical padding is not implemented')",
    ),
    "dense_dilations": (
        ("portable", "opencv"),
        "a dilated ConvTranspose written with its dilation as zero taps (dilation 1): OpenCV sizes a dilated "
        "ConvTranspose as if undilated, silently",
    ),
    "low_opset": (
        ("portable", "torch"),
        "the default opset is the lowest (13..19) the model exports at: onnx2torch 1.5.15 has no Resize-18/19, "
        "Pad-18/19, AveragePool-19 or Split-18 converter",
    ),
}


def check_target(target: str) -> str:
    from .errors import ValidationError

    if target not in RUNTIME_TARGETS:
        raise ValidationError(f"target must be one of {', '.join(RUNTIME_TARGETS)}, got {target!r}")
    return target


def needs_form(target: str, form: str) -> bool:
    """Whether exports for ``target`` take ``form`` (:data:`FORMS`)."""
    return target in FORMS[form][0]


@dataclass(frozen=True)
class Node:
    """What a defect test sees of one ONNX node: op type, attributes, input ranks, constant inputs, opset."""

    op_type: str
    attrs: dict[str, Any]
    ranks: list[int | None]
    constants: list[Any]
    opset: int

    def attr(self, name: str, default: Any = None) -> Any:
        return self.attrs.get(name, default)


@dataclass(frozen=True)
class Defect:
    runtime: str
    name: str
    reason: str
    hits: Callable[[Node], bool]


def _asymmetric(node: Node) -> bool:
    pads = list(node.attr("pads", []))
    n = len(pads) // 2
    return pads[:n] != pads[n:]


def _resize_mode(node: Node) -> str:
    mode = node.attr("mode", "nearest")
    return mode.decode() if isinstance(mode, bytes) else str(mode)


def _ctm(node: Node) -> str:
    mode = node.attr("coordinate_transformation_mode", "half_pixel")
    return mode.decode() if isinstance(mode, bytes) else str(mode)


def _since(node: Node) -> int:
    import onnx

    try:
        return int(onnx.defs.get_schema(node.op_type, node.opset).since_version)
    except Exception:  # an op onnx does not know: no version to test
        return 0


#: onnx2torch 1.5.15's converters of the ops convertkit writes whose newer versions it lacks (op: versions).
_ONNX2TORCH_VERSIONS: dict[str, tuple[int, ...]] = {
    "Resize": (10, 11, 13),
    "Pad": (2, 11, 13),
    "AveragePool": (7, 10, 11),
    "Split": (2, 11, 13),
    "MaxPool": (8, 10, 11, 12),
    "Softmax": (1, 11, 13),
    "ReduceMean": (1, 11, 13),
}

#: The known runtime defects, one row each (the portability matrix's expected failures).
DEFECTS: tuple[Defect, ...] = (
    Defect(
        "opencv",
        "dilated ConvTranspose",
        "OpenCV 4.x sizes a dilated ConvTranspose as if undilated (a wrong output shape, no error)",
        lambda n: n.op_type == "ConvTranspose" and any(d != 1 for d in n.attr("dilations", [])),
    ),
    Defect(
        "opencv",
        "asymmetric ConvTranspose pads",
        "OpenCV 4.x refuses asymmetric ConvTranspose pads ('Unsupported asymmetric padding')",
        lambda n: n.op_type == "ConvTranspose" and _asymmetric(n),
    ),
    Defect(
        "opencv",
        "1-D / 3-D ConvTranspose",
        "OpenCV 4.x's ONNX ConvTranspose is 2-D only",
        lambda n: n.op_type == "ConvTranspose" and n.ranks[:1] != [4],
    ),
    Defect(
        "opencv",
        "cubic, 1-D or 3-D Resize",
        "OpenCV 4.x's ONNX importer has no cubic Resize and resizes 2-D images only",
        lambda n: n.op_type in ("Resize", "Upsample") and (_resize_mode(n) == "cubic" or n.ranks[:1] != [4]),
    ),
    Defect(
        "opencv",
        "antialias Resize",
        "OpenCV 4.x ignores Resize's antialias (a downsampling differs by up to 0.6, no error)",
        lambda n: n.op_type == "Resize" and bool(n.attr("antialias", 0)),
    ),
    Defect(
        "opencv",
        "tf_crop_and_resize",
        "OpenCV 4.x's ONNX importer refuses coordinate_transformation_mode tf_crop_and_resize",
        lambda n: n.op_type == "Resize" and _ctm(n) == "tf_crop_and_resize",
    ),
    Defect(
        "openvino",
        "tf_crop_and_resize",
        "OpenVINO 2026.x's ONNX frontend refuses coordinate_transformation_mode tf_crop_and_resize",
        lambda n: n.op_type == "Resize" and _ctm(n) == "tf_crop_and_resize",
    ),
    Defect(
        "openvino",
        "antialias Resize",
        "OpenVINO 2026.x computes an antialiased downsampling Resize differently (off by up to 0.6)",
        lambda n: n.op_type == "Resize" and bool(n.attr("antialias", 0)),
    ),
    Defect(
        "torch",
        "asymmetric ConvTranspose pads",
        "onnx2torch 1.5.15: 'ConvTranspose with non symmetrical padding is not implemented'",
        lambda n: n.op_type == "ConvTranspose" and _asymmetric(n),
    ),
    Defect(
        "torch",
        "op version without a converter",
        "onnx2torch 1.5.15 has no converter for this op at this opset (export at a lower opset: --target torch)",
        lambda n: n.op_type in _ONNX2TORCH_VERSIONS and _since(n) not in _ONNX2TORCH_VERSIONS[n.op_type],
    ),
    Defect(
        "torch",
        "cubic Resize",
        "onnx2torch 1.5.15 maps cubic Resize to torch's bicubic (a = -0.75, no exclude_outside), which differs "
        "from ONNX's cubic with another cubic_coeff_a or exclude_outside",
        lambda n: (
            n.op_type == "Resize"
            and _resize_mode(n) == "cubic"
            and (float(n.attr("cubic_coeff_a", -0.75)) != -0.75 or int(n.attr("exclude_outside", 0)) != 0)
        ),
    ),
    Defect(
        "torch",
        "tf_crop_and_resize Resize",
        "onnx2torch 1.5.15: 'roi logic is not implemented'",
        lambda n: n.op_type == "Resize" and _ctm(n) == "tf_crop_and_resize",
    ),
)


def _nodes(proto: Any) -> list[tuple[str, Node]]:
    import onnx
    from onnx import numpy_helper

    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    ranks: dict[str, int] = {}
    for vi in [*proto.graph.input, *proto.graph.value_info, *proto.graph.output]:
        if vi.type.HasField("tensor_type") and vi.type.tensor_type.HasField("shape"):
            ranks[vi.name] = len(vi.type.tensor_type.shape.dim)
    inits = {}
    for t in proto.graph.initializer:
        ranks[t.name] = len(t.dims)
        inits[t.name] = t
    out = []
    for node in proto.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        constants = []
        for name in node.input:
            t = inits.get(name)
            constants.append(numpy_helper.to_array(t) if t is not None and len(t.dims) <= 1 else None)
        out.append(
            (node.name or node.op_type, Node(node.op_type, attrs, [ranks.get(i) for i in node.input], constants, opset))
        )
    return out


def defects_hit(proto: Any, runtime: str) -> list[tuple[str, Defect]]:
    """The known defects of ``runtime`` (or, for ``portable``, of every runtime) that ``proto``'s nodes hit."""
    runtimes = RUNTIMES if runtime == "portable" else (runtime,)
    return [(name, d) for name, node in _nodes(proto) for d in DEFECTS if d.runtime in runtimes and d.hits(node)]


def forms_table() -> str:
    """The README's table of forms per target."""
    lines = ["| form | targets | why |", "| --- | --- | --- |"]
    for form, (targets, why) in FORMS.items():
        lines.append(f"| `{form}` | {', '.join(targets)} | {why} |")
    return "\n".join(lines)


def defects_table() -> str:
    """The README's table of known runtime defects (the portability matrix's expected failures)."""
    lines = ["| runtime | defect | reason |", "| --- | --- | --- |"]
    for d in DEFECTS:
        lines.append(f"| {d.runtime} | {d.name} | {d.reason} |")
    return "\n".join(lines)
