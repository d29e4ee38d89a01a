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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "PortabilityWarning",
    "RUNTIME_TARGETS",
    "RUNTIMES",
    "FORMS",
    "DEFECTS",
    "Defect",
    "needs_form",
    "defects_hit",
    "warn_defects",
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
        "a dilated ConvTranspose written with its dilation as zero taps (dilation 1), and an output_padding past "
        "the stride (allowed below the dilation) as zero taps at the kernel's end: OpenCV sizes a dilated "
        "ConvTranspose as if undilated, silently",
    ),
    "nd_as_2d": (
        ("opencv",),
        "a 1-D ConvTranspose as a 2-D one with kernel (1, k) between Reshapes, a 3-D one as a 2-D one with the depth "
        "axis folded into the channels (weight (C*D, M/g*OD, kh, kw), bias repeated per output depth) between "
        "Reshapes: OpenCV 4.x's ONNX ConvTranspose is 2-D only (a larger, slower form: opencv only)",
    ),
    "explicit_pooling_pads": (
        ("portable", "opencv"),
        "an AveragePool with count_include_pad and pads written as a zero Pad before an AveragePool without pads "
        "(where the output size stays): OpenCV ignores count_include_pad",
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
    """What a defect test sees of one ONNX node: op type, attributes, input ranks, constant inputs, opset, and
    where it sits in the graph (its input and output names and static shapes, the graph's inputs and outputs).

    The graph itself is one more node of op type :data:`GRAPH` (no inputs), for the defects of a whole graph (an
    input no node reads, an input that is also an output)."""

    op_type: str
    attrs: dict[str, Any]
    ranks: list[int | None]
    constants: list[Any]
    opset: int
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    shapes: tuple[tuple[int, ...] | None, ...] = ()
    out_shapes: tuple[tuple[int, ...] | None, ...] = ()
    graph_inputs: frozenset[str] = frozenset()
    graph_outputs: tuple[str, ...] = ()

    def attr(self, name: str, default: Any = None) -> Any:
        return self.attrs.get(name, default)


#: The op type of the node that stands for the whole graph (:func:`_nodes`).
GRAPH = "(graph)"


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


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _resize_mode(node: Node) -> str:
    mode = node.attr("mode", "nearest")
    return mode.decode() if isinstance(mode, bytes) else str(mode)


def _ctm(node: Node) -> str:
    mode = node.attr("coordinate_transformation_mode", "half_pixel")
    return mode.decode() if isinstance(mode, bytes) else str(mode)


def _pool_geometry(node: Node) -> list[tuple[int, int, int, int, int, int]] | None:
    """Per spatial axis of a MaxPool / AveragePool ``(in, kernel extent, stride, pad begin, pad end, out)``, the
    output size by ONNX's rule (ceil_mode drops a last window that starts in the end pad); None without a static
    input shape."""
    shape = node.shapes[0] if node.shapes else None
    kernel = list(node.attr("kernel_shape", []))
    if shape is None or not kernel:
        return None
    n = len(kernel)
    spatial = shape[-n:]
    strides = list(node.attr("strides", [1] * n))
    dilations = list(node.attr("dilations", [1] * n))
    pads = list(node.attr("pads", [0] * 2 * n))
    out = []
    for a in range(n):
        size, k, s, pb, pe = spatial[a], (kernel[a] - 1) * dilations[a] + 1, strides[a], pads[a], pads[n + a]
        span = size + pb + pe - k
        count = (-(-span // s) if node.attr("ceil_mode", 0) else span // s) + 1
        if node.attr("ceil_mode", 0) and (count - 1) * s >= size + pb:
            count -= 1
        out.append((size, k, s, pb, pe, count))
    return out


def _pool_past_padded_input(node: Node) -> bool:
    """Whether a window of this pooling reaches past the padded input (ceil_mode's last window)."""
    geo = _pool_geometry(node)
    return geo is not None and any((o - 1) * s - pb + k > size + pe for size, k, s, pb, pe, o in geo)


def _pool_kernel_past_padded_input(node: Node) -> bool:
    """Whether this pooling's (dilated) kernel is larger than its padded input on some axis."""
    geo = _pool_geometry(node)
    return geo is not None and any(k > size + pb + pe for size, k, s, pb, pe, o in geo)


def _pool_window_reads_pad(node: Node) -> bool:
    """Whether a window of this pooling holds a pad cell (or a cell past the padded input)."""
    geo = _pool_geometry(node)
    return geo is not None and any(pb > 0 or (o - 1) * s - pb + k > size for size, k, s, pb, pe, o in geo)


def _pads_over_half_kernel(node: Node) -> bool:
    """torch's pooling check: every pad at most half the (dilated) kernel extent."""
    kernel = list(node.attr("kernel_shape", []))
    n = len(kernel)
    dilations = list(node.attr("dilations", [1] * n))
    pads = list(node.attr("pads", [0] * 2 * n))
    return any(2 * p > (kernel[a % n] - 1) * dilations[a % n] + 1 for a, p in enumerate(pads)) if n else False


def _conv1d_end_pad_ignored(node: Node) -> bool:
    """A 1-D Conv whose output size differs when its end pad is taken equal to its begin pad."""
    if node.op_type != "Conv" or node.ranks[:1] != [3] or not node.shapes or node.shapes[0] is None:
        return False
    (size,), (pb, pe) = node.shapes[0][2:], list(node.attr("pads", [0, 0]))
    kernel = list(node.attr("kernel_shape", []))
    if not kernel and len(node.shapes) > 1 and node.shapes[1] is not None:
        kernel = list(node.shapes[1][2:])
    if not kernel:
        return False
    k = (kernel[0] - 1) * list(node.attr("dilations", [1]))[0] + 1
    s = list(node.attr("strides", [1]))[0]
    return (size + pb + pe - k) // s != (size + 2 * pb - k) // s


def _nearest_maps(node: Node) -> list[tuple[np.ndarray, int, int, float | None]] | None:
    """Per resized axis of a nearest Resize: ``(ONNX's input index per output index, in, out, given scale)``,
    ONNX's map from convertkit's reference (run on an index ramp); None without static shapes or constants."""
    import numpy as np

    from .reference.resize import resize

    if node.op_type != "Resize" or _resize_mode(node) != "nearest" or not node.shapes or node.shapes[0] is None:
        return None
    shape = node.shapes[0]
    out_shape = node.out_shapes[0] if node.out_shapes else None
    if (
        out_shape is None
        or len(node.attr("axes", []) or [])
        or _text(node.attr("keep_aspect_ratio_policy", "stretch")) != "stretch"
    ):
        return None
    scales = node.constants[2] if len(node.constants) > 2 and node.constants[2] is not None else None
    sizes = node.constants[3] if len(node.constants) > 3 and node.constants[3] is not None else None
    if scales is not None and scales.size == 0:
        scales = None
    if (scales is None) == (sizes is None or sizes.size == 0):
        return None
    out = []
    for axis in range(2, len(shape)):
        if out_shape[axis] == shape[axis] and (scales is None or float(scales[axis]) == 1.0):
            continue
        ramp = np.arange(shape[axis], dtype=np.float32).reshape(
            [shape[axis] if a == axis else 1 for a in range(len(shape))]
        )
        try:
            picked = resize(
                ramp,
                scales=None
                if scales is None
                else [float(scales[axis]) if a == axis else 1.0 for a in range(len(shape))],
                sizes=None
                if scales is not None
                else [int(out_shape[axis]) if a == axis else 1 for a in range(len(shape))],
                mode="nearest",
                coordinate_transformation_mode=_ctm(node),
                nearest_mode=_text(node.attr("nearest_mode", "round_prefer_floor")),
            )
        except Exception:  # a Resize the reference refuses: nothing to compare
            return None
        given = None if scales is None else float(scales[axis])
        out.append((picked.reshape(-1).astype(np.int64), int(shape[axis]), int(out_shape[axis]), given))
    return out


def _resizes(node: Node) -> bool:
    """Whether this Resize changes the size of some axis (or its shapes are unknown)."""
    if not node.shapes or node.shapes[0] is None or not node.out_shapes or node.out_shapes[0] is None:
        return True
    return tuple(node.shapes[0]) != tuple(node.out_shapes[0])


def _opencv_nearest_differs(node: Node) -> bool:
    """OpenCV 4.x's nearest Resize (dnn/src/layers/resize_layer.cpp, measured): with ``scale = in / out``,
    ``floor((j + 0.5) * scale)`` for half_pixel / pytorch_half_pixel / tf_half_pixel_for_nn,
    ``floor(j * (in - 1) / (out - 1) + 0.5)`` for align_corners, ``floor(j * scale)`` for asymmetric; whatever
    nearest_mode says.  Hits where that picks another input index than ONNX."""
    import numpy as np

    maps = _nearest_maps(node)
    if not maps:
        return False
    ctm = _ctm(node)
    for onnx_map, size, out, _ in maps:
        j = np.arange(out, dtype=np.float64)
        if ctm in ("half_pixel", "pytorch_half_pixel", "tf_half_pixel_for_nn"):
            theirs = np.floor((j + 0.5) * size / out)
        elif ctm == "align_corners":
            theirs = np.floor(j * (size - 1) / max(out - 1, 1) + 0.5)
        elif ctm == "asymmetric":
            theirs = np.floor(j * size / out)
        else:
            return False
        if not np.array_equal(np.clip(theirs, 0, size - 1).astype(np.int64), onnx_map):
            return True
    return False


def _torch_nearest_differs(node: Node) -> bool:
    """onnx2torch 1.5.15 runs a nearest Resize as torch's ``interpolate(mode="nearest")`` whatever the
    coordinate_transformation_mode and nearest_mode: ``floor(j / scale)`` (``scale`` as given, else out / in).
    Hits where that picks another input index than ONNX."""
    import numpy as np

    maps = _nearest_maps(node)
    if not maps:
        return False
    for onnx_map, size, out, given in maps:
        j = np.arange(out, dtype=np.float64)
        theirs = np.floor(j * size / out) if given is None else np.floor(j / np.float32(given))
        if not np.array_equal(np.clip(theirs, 0, size - 1).astype(np.int64), onnx_map):
            return True
    return False


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
        "OpenCV 4.x's ONNX ConvTranspose is 2-D only (--target opencv writes around it: Reshapes around a 2-D "
        "ConvTranspose)",
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
    # -- the other kinds (measured with the sweep of tests/cases.py in tests/test_portability.py) ----------------
    Defect(
        "opencv",
        "AveragePool count_include_pad",
        "OpenCV 4.x ignores AveragePool's count_include_pad: its ONNX importer sets ave_pool_padded_area to "
        "(producer == 'pytorch'), so a window holding pad cells is divided by its input cells only (measured up to "
        "0.87 off)",
        # opencv modules/dnn/src/onnx/onnx_importer.cpp parseAveragePool:
        #   layerParams.set("ave_pool_padded_area", framework_name == "pytorch")
        lambda n: n.op_type == "AveragePool" and int(n.attr("count_include_pad", 0)) == 1 and _pool_window_reads_pad(n),
    ),
    Defect(
        "opencv",
        "dilated pooling",
        "OpenCV 4.x's ONNX pooling ignores dilations (a wrong output shape, e.g. 8x5 for 6x4, no error)",
        lambda n: n.op_type in ("MaxPool", "AveragePool") and any(d != 1 for d in n.attr("dilations", [])),
    ),
    Defect(
        "opencv",
        "pooling kernel larger than the padded input",
        "OpenCV 4.x sizes a pooling whose kernel is larger than its padded input as empty ('total(os[i]) > 0')",
        lambda n: n.op_type in ("MaxPool", "AveragePool") and _pool_kernel_past_padded_input(n),
    ),
    Defect(
        "opencv",
        "3-D global pooling",
        "OpenCV 4.x's global pooling is 1-D / 2-D only ('addedDims <= pads_begin.size()')",
        lambda n: n.op_type in ("GlobalMaxPool", "GlobalAveragePool") and n.ranks[:1] == [5],
    ),
    Defect(
        "opencv",
        "1-D Conv end pad",
        "OpenCV 4.x pads a 1-D Conv by its begin pad at both ends (pads [1, 0] on 9 -> 5 outputs, not 4)",
        _conv1d_end_pad_ignored,
    ),
    Defect(
        "opencv",
        "MaxUnpool pads or batch",
        "OpenCV 4.x's ONNX MaxUnpool takes no pads ('pads.size() == 2': it reads ONNX's 2-D pads as one pair) and "
        "a batch of one only ('input.size[0] == 1')",
        # opencv modules/dnn/src/onnx/onnx_importer.cpp parseMaxUnpool; layers/max_unpooling_layer.cpp forward
        lambda n: (
            n.op_type == "MaxUnpool"
            and (bool(n.attr("pads")) or (bool(n.shapes) and n.shapes[0] is not None and n.shapes[0][0] != 1))
        ),
    ),
    Defect(
        "opencv",
        "Concat of one input",
        "OpenCV 4.x's Concat of a single input outputs zeros (no error)",
        lambda n: n.op_type == "Concat" and len(n.inputs) == 1,
    ),
    Defect(
        "opencv",
        "1-D output",
        "OpenCV 4.x's Mat has two dimensions at least: a 1-D graph output comes out as (n, 1) (same values)",
        lambda n: any(
            o in n.graph_outputs and s is not None and len(s) == 1 for o, s in zip(n.outputs, n.out_shapes, strict=True)
        ),
    ),
    Defect(
        "opencv",
        "graph input no node reads",
        "OpenCV 4.x's importer drops a graph input no node reads; setting it then fails the forward pass "
        "('inputs.size() == requiredOutputs')",
        lambda n: n.op_type == GRAPH and bool(n.attr("unread_inputs")),
    ),
    Defect(
        "opencv",
        "nearest Resize index",
        "OpenCV 4.x's nearest Resize ignores nearest_mode and rounds its own way (floor((j + 0.5) * in / out) for "
        "the half-pixel modes, floor(j * in / out) for asymmetric): another input pixel where ONNX's rounding "
        "differs (a wrong value, no error)",
        _opencv_nearest_differs,
    ),
    Defect(
        "torch",
        "nearest Resize index",
        "onnx2torch 1.5.15 runs a nearest Resize as torch's interpolate(mode='nearest'), floor(j / scale), "
        "whatever its coordinate_transformation_mode and nearest_mode: another input pixel where ONNX's "
        "rounding differs (a wrong value, no error)",
        _torch_nearest_differs,
    ),
    Defect(
        "torch",
        "linear / cubic Resize coordinates",
        "onnx2torch 1.5.15 runs a linear or cubic Resize as torch's interpolate with align_corners = (mode == "
        "align_corners), i.e. half-pixel coordinates for every other mode (onnx2torch node_converters/resize.py): "
        "asymmetric and tf_half_pixel_for_nn differ (measured up to 0.72)",
        lambda n: (
            n.op_type == "Resize"
            and _resize_mode(n) in ("linear", "cubic")
            and _ctm(n) in ("asymmetric", "tf_half_pixel_for_nn")
            and _resizes(n)
        ),
    ),
    Defect(
        "openvino",
        "cubic Resize exclude_outside",
        "OpenVINO 2026.x's cubic Resize with exclude_outside 1 differs from ONNX's (measured up to 0.26; "
        "exclude_outside 0 is exact)",
        lambda n: n.op_type == "Resize" and _resize_mode(n) == "cubic" and int(n.attr("exclude_outside", 0)) == 1,
    ),
    Defect(
        "openvino",
        "half_pixel_symmetric Resize",
        "OpenVINO 2026.x's ONNX frontend refuses coordinate_transformation_mode half_pixel_symmetric",
        lambda n: n.op_type == "Resize" and _ctm(n) == "half_pixel_symmetric",
    ),
    Defect(
        "opencv",
        "linear half_pixel_symmetric Resize",
        "OpenCV 4.x runs a linear half_pixel_symmetric Resize as another mode (measured 0.79 off, no error)",
        lambda n: n.op_type == "Resize" and _ctm(n) == "half_pixel_symmetric" and _resize_mode(n) == "linear",
    ),
    Defect(
        "opencv",
        "keep_aspect_ratio_policy Resize",
        "OpenCV 4.x's ONNX importer refuses a Resize with keep_aspect_ratio_policy (and axes)",
        lambda n: n.op_type == "Resize" and _text(n.attr("keep_aspect_ratio_policy", "stretch")) != "stretch",
    ),
    Defect(
        "openvino",
        "keep_aspect_ratio_policy Resize",
        "OpenVINO 2026.x ignores Resize's keep_aspect_ratio_policy: sizes are stretched (9x9 for not_larger's 7x9)",
        lambda n: n.op_type == "Resize" and _text(n.attr("keep_aspect_ratio_policy", "stretch")) != "stretch",
    ),
    Defect(
        "openvino",
        "AveragePool count_include_pad past the padded input",
        "OpenVINO 2026.x divides an AveragePool (count_include_pad 1, ceil_mode) window that reaches past the "
        "padded input by the whole kernel, not by the cells inside input + pads (measured up to 0.14 off)",
        lambda n: (
            n.op_type == "AveragePool" and int(n.attr("count_include_pad", 0)) == 1 and _pool_past_padded_input(n)
        ),
    ),
    Defect(
        "openvino",
        "pooling kernel larger than the padded input",
        "OpenVINO 2026.x refuses a pooling kernel larger than its padded input ('Kernel after dilation has size "
        "larger than the data shape after padding')",
        lambda n: n.op_type in ("MaxPool", "AveragePool") and _pool_kernel_past_padded_input(n),
    ),
    Defect(
        "openvino",
        "MaxUnpool",
        "OpenVINO 2026.x's ONNX frontend has no MaxUnpool ('No conversion rule found for operations: MaxUnpool')",
        lambda n: n.op_type == "MaxUnpool",
    ),
    Defect(
        "openvino",
        "Dropout of a graph input",
        "OpenVINO 2026.x removes an inference Dropout of a graph input with the input's name ('Port for tensor "
        "name x was not found')",
        lambda n: n.op_type == "Dropout" and bool(n.inputs) and n.inputs[0] in n.graph_inputs,
    ),
    Defect(
        "torch",
        "op without a converter",
        "onnx2torch 1.5.15 has no GlobalMaxPool, MaxUnpool or SpaceToDepth converter, and DepthToSpace in CRD mode "
        "only",
        lambda n: (
            n.op_type in ("GlobalMaxPool", "MaxUnpool", "SpaceToDepth")
            or (n.op_type == "DepthToSpace" and str(_text(n.attr("mode", "DCR"))) != "CRD")
        ),
    ),
    Defect(
        "torch",
        "pooling pad over half the kernel",
        "torch's pooling takes pads of at most half the kernel ('pad should be at most half of effective kernel "
        "size'); onnx2torch 1.5.15 passes ONNX's symmetric pads to it",
        lambda n: n.op_type in ("MaxPool", "AveragePool") and not _asymmetric(n) and _pads_over_half_kernel(n),
    ),
    Defect(
        "torch",
        "asymmetric AveragePool pads",
        "onnx2torch 1.5.15: 'AvgPool with non symmetrical padding is not implemented'",
        # onnx2torch/node_converters/average_pool.py
        lambda n: n.op_type == "AveragePool" and _asymmetric(n),
    ),
    Defect(
        "torch",
        "Pad value input",
        "onnx2torch 1.5.15 passes Pad's constant_value input to torch's pad as a tensor ('argument value must be "
        "float, not Tensor')",
        # onnx2torch/node_converters/pad.py OnnxPadDynamic.forward
        lambda n: n.op_type == "Pad" and len(n.inputs) > 2 and bool(n.inputs[2]),
    ),
    Defect(
        "torch",
        "graph output of a multi-output node",
        "onnx2torch 1.5.15 returns a multi-output node's whole tuple for a graph output of it (one per node: "
        "'Create output nodes' in converter.py), so Split's second piece comes out as its first; right only when "
        "the graph's outputs are exactly that node's",
        lambda n: len(n.outputs) > 1 and any(o in n.graph_outputs for o in n.outputs) and n.graph_outputs != n.outputs,
    ),
    Defect(
        "torch",
        "graph input as output",
        "onnx2torch 1.5.15 looks a graph output up among node outputs only (KeyError on an input that is an output)",
        lambda n: n.op_type == GRAPH and bool(n.attr("inputs_as_outputs")),
    ),
)


def _nodes(proto: Any) -> list[tuple[str, Node]]:
    import onnx
    from onnx import numpy_helper

    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    shapes: dict[str, tuple[int, ...] | None] = {}
    ranks: dict[str, int] = {}
    try:  # the shapes of the values between nodes (convertkit writes those of the graph's inputs and outputs)
        inferred = onnx.shape_inference.infer_shapes(proto).graph.value_info
    except Exception:  # a model onnx cannot infer: the defects that need a shape do not test it
        inferred = []
    for vi in [*proto.graph.input, *inferred, *proto.graph.value_info, *proto.graph.output]:
        if vi.type.HasField("tensor_type") and vi.type.tensor_type.HasField("shape"):
            dims = vi.type.tensor_type.shape.dim
            static = all(d.HasField("dim_value") for d in dims)
            shapes[vi.name] = tuple(int(d.dim_value) for d in dims) if static else None
            ranks[vi.name] = len(dims)
    inits = {}
    for t in proto.graph.initializer:
        shapes[t.name] = tuple(int(d) for d in t.dims)
        ranks[t.name] = len(t.dims)
        inits[t.name] = t

    graph_inputs = frozenset(i.name for i in proto.graph.input if i.name not in inits)
    graph_outputs = tuple(o.name for o in proto.graph.output)
    out = []
    read: set[str] = set()
    for node in proto.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        constants = []
        for name in node.input:
            t = inits.get(name)
            constants.append(numpy_helper.to_array(t) if t is not None and len(t.dims) <= 1 else None)
        read.update(node.input)
        out.append(
            (
                node.name or node.op_type,
                Node(
                    node.op_type,
                    attrs,
                    [ranks.get(i) for i in node.input],
                    constants,
                    opset,
                    tuple(node.input),
                    tuple(node.output),
                    tuple(shapes.get(i) for i in node.input),
                    tuple(shapes.get(o) for o in node.output),
                    graph_inputs,
                    graph_outputs,
                ),
            )
        )
    facts = {
        "unread_inputs": sorted(graph_inputs - read),
        "inputs_as_outputs": sorted(graph_inputs & set(graph_outputs)),
    }
    out.append((GRAPH, Node(GRAPH, facts, [], [], opset, (), (), (), (), graph_inputs, graph_outputs)))
    return out


def defects_hit(proto: Any, runtime: str) -> list[tuple[str, Defect]]:
    """The known defects of ``runtime`` (or, for ``portable``, of every runtime) that ``proto``'s nodes hit."""
    runtimes = RUNTIMES if runtime == "portable" else (runtime,)
    return [(name, d) for name, node in _nodes(proto) for d in DEFECTS if d.runtime in runtimes and d.hits(node)]


def warn_defects(proto: Any, target: str, *, stacklevel: int = 2) -> list[tuple[str, Defect]]:
    """Warn (:class:`PortabilityWarning`) once per known defect of ``target``'s runtimes that ``proto`` hits; the
    one place ``check`` (the API's and the command line's) decides it.  Returns what :func:`defects_hit` found."""
    import warnings

    hits = defects_hit(proto, check_target(target))
    seen = set()
    for node, defect in hits:
        if (defect.runtime, defect.name) in seen:
            continue
        seen.add((defect.runtime, defect.name))
        warnings.warn(
            f"node {node!r} hits a known {defect.runtime} defect ({defect.name}): {defect.reason}; "
            f"target {defect.runtime} (--target / target=) may write a form it runs (README: targets)",
            PortabilityWarning,
            stacklevel=stacklevel + 1,
        )
    return hits


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
