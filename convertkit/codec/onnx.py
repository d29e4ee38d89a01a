"""ONNX helpers below the layer kinds: the export context, the import view of one node, node parsing.

- :class:`OnnxEmitter`: what a kind's ONNX writer appends nodes and initializers to.
- :class:`OnnxNode`: one ONNX node as a kind's ONNX reader sees it (attributes decoded, inputs typed or constant).
- :func:`pad_amounts`, :func:`pad_value`, :func:`slice_bounds`, :func:`channel_bias`: reading Pad, Slice and
  bias-Add nodes.

Nothing here knows a layer kind; ``onnx`` is imported only when a model is built or read.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConvertkitError, FormatError, UnsupportedError, ValidationError
from ..ir import TensorType
from .names import NameAllocator

__all__ = [
    "ELEMENT_TYPES",
    "OnnxEmitter",
    "OnnxNode",
    "OnnxImportWarning",
    "attribute_value",
    "declared_type",
    "kernel_inputs",
    "pad_amounts",
    "pad_value",
    "slice_bounds",
    "channel_bias",
]

#: IR dtype -> onnx.TensorProto element type (FLOAT / DOUBLE).
ELEMENT_TYPES = {"float32": 1, "float64": 11}


#: Initializers of at least this many bytes keep their values in NumPy until written (ONNX's own external-data
#: threshold is 1024 bytes too): a 500 MB model is never copied into a ``ModelProto`` to be saved.
BIG_TENSOR_BYTES = 1024


class OnnxEmitter:
    """Collects nodes, initializers and value types while layers emit themselves."""

    def __init__(self, opset: int) -> None:
        import onnx

        self._onnx = onnx
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        #: initializer name -> its values, for the initializers kept without data (see add_initializer)
        self.big: dict[str, np.ndarray] = {}
        self.inputs: list[Any] = []
        #: model value -> the ONNX element type it has where that is not its IR dtype's (a MaxPool's int64 Indices)
        self.element_types: dict[str, int] = {}
        self._names = NameAllocator()
        self._claim = self._names.fresh

    def reserve(self, names: list[str]) -> None:
        """Mark the model's own value names as taken, so helper values never collide with them."""
        self._names.reserve(names)

    def fresh(self, hint: str) -> str:
        """A new value name not used anywhere in the model."""
        return self._names.fresh(hint)

    def add_initializer(self, hint: str, array: np.ndarray) -> str:
        """Store ``array`` as an initializer; return its (unique) name."""
        name = self._claim(hint)
        array = np.ascontiguousarray(array)
        if array.nbytes >= BIG_TENSOR_BYTES and array.dtype.kind in "fiub":
            # a weight: its values stay in NumPy (``big``) until the model is written, streamed from the array
            tensor = self._onnx.TensorProto(name=name, dims=list(array.shape))
            tensor.data_type = self._onnx.helper.np_dtype_to_tensor_dtype(array.dtype)
            self.big[name] = array
            self.initializers.append(tensor)
        else:
            self.initializers.append(self._onnx.numpy_helper.from_array(array, name))
        return name

    def add_node(self, op_type: str, inputs: list[str], outputs: list[str], *, name: str, **attrs: Any) -> None:
        """Append a node (default domain) with ``attrs``."""
        node_name = self._claim(f"node:{name}")[len("node:") :]
        self.nodes.append(self._onnx.helper.make_node(op_type, inputs, outputs, name=node_name, **attrs))

    def add_slice(
        self,
        value: str,
        output: str,
        *,
        name: str,
        starts: list[int],
        ends: list[int],
        axes: list[int],
        prefix: str | None = None,
    ) -> None:
        """Append a ``Slice`` of ``value`` with constant ``starts``/``ends``/``axes`` initializers, named
        ``PREFIXstarts``... (``prefix`` defaults to ``NAME.``)."""
        prefix = f"{name}." if prefix is None else prefix
        self.add_node(
            "Slice",
            [
                value,
                self.add_initializer(f"{prefix}starts", np.array(starts, dtype=np.int64)),
                self.add_initializer(f"{prefix}ends", np.array(ends, dtype=np.int64)),
                self.add_initializer(f"{prefix}axes", np.array(axes, dtype=np.int64)),
            ],
            [output],
            name=name,
        )

    def add_graph_input(self, name: str, t: TensorType) -> None:
        self.inputs.append(self._onnx.helper.make_tensor_value_info(name, ELEMENT_TYPES[t.dtype], list(t.shape)))


def declared_type(vi: Any) -> tuple[tuple[int | str, ...] | None, str]:
    """A graph input/output's declared type: its shape (an int per known dimension, the symbol's name — or ``?`` —
    per unknown one; None without a shape) and its numpy dtype name (``undefined`` when not set)."""
    import onnx

    tt = vi.type.tensor_type
    dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type)).name if tt.elem_type else "undefined"
    if not tt.HasField("shape"):
        return None, dtype
    dims = tuple(int(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?") for d in tt.shape.dim)
    return dims, dtype


from ..errors import OnnxImportWarning  # noqa: E402, F401  (defined without dependencies; this module re-exports it)


def attribute_value(attr: Any) -> Any:
    import onnx

    value = onnx.helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, onnx.TensorProto):
        return onnx.numpy_helper.to_array(value)
    if isinstance(value, list) and value and isinstance(value[0], bytes):
        return [v.decode("utf-8") for v in value]
    return value


@dataclass
class OnnxNode:
    """One ONNX node as a layer kind's ``from_onnx`` sees it: attributes decoded, inputs typed or constant.

    ``name`` is the node's name (or ``OpType_INDEX`` for unnamed nodes) and becomes the layer name; ``opset`` is
    the model's default-domain opset, which selects the op's version.
    """

    op_type: str
    name: str
    opset: int
    attributes: dict[str, Any]
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    _constants: Mapping[str, np.ndarray] = field(repr=False)
    _types: Mapping[str, TensorType] = field(repr=False)
    #: The node's doc_string (convertkit records there the layer a portable form was written for).
    doc_string: str = ""

    @property
    def where(self) -> str:
        return f"ONNX node {self.name!r} ({self.op_type}-{self.opset})"

    def error(self, message: str, cls: type[ConvertkitError] = UnsupportedError) -> ConvertkitError:
        """An error about this node: ``ONNX node 'NAME' (OpType-OPSET): message``."""
        return cls(f"{self.where}: {message}")

    def warn(self, message: str) -> None:
        """Report an exact-but-ambiguous conversion choice as an :class:`OnnxImportWarning`."""
        warnings.warn(OnnxImportWarning(f"{self.where}: {message}"), stacklevel=2)

    def attr(self, name: str, default: Any = None) -> Any:
        return self.attributes.get(name, default)

    def has_input(self, index: int) -> bool:
        """Whether optional input ``index`` is present (given and not the empty name)."""
        return index < len(self.input_names) and self.input_names[index] != ""

    def _input_name(self, index: int, what: str) -> str:
        if not self.has_input(index):
            raise self.error(
                f"{what} (input {index}) is missing; the node has inputs {list(self.input_names)}", FormatError
            )
        return self.input_names[index]

    def value(self, index: int) -> str:
        """Name of the run-time value read by input ``index`` (refused if it is a constant)."""
        name = self._input_name(index, "the data input")
        if name not in self._types:
            if name in self._constants:
                raise self.error(
                    f"input {index} ({name!r}) is a constant; convertkit needs a run-time tensor there "
                    "(a model input or another layer's output)"
                )
            raise self.error(
                f"input {index} ({name!r}) is not produced by any earlier node or graph input", FormatError
            )
        return name

    def input_type(self, index: int) -> TensorType:
        return self._types[self.value(index)]

    def is_constant(self, index: int) -> bool:
        """Whether input ``index`` is present and a constant (initializer, Constant node or bound graph input)."""
        return self.has_input(index) and self.input_names[index] in self._constants

    def constant(self, index: int, what: str) -> np.ndarray:
        """The constant value of input ``index`` (initializer, Constant node or bound graph input)."""
        name = self._input_name(index, what)
        if name in self._constants:
            return self._constants[name]
        if name in self._types:
            raise self.error(
                f"{what} (input {index}, {name!r}) is computed at run time; convertkit needs it as a constant "
                f"(an initializer or Constant node). If it is a graph input, bind it: "
                f"convertkit.load(path, constants={{{name!r}: array}})"
            )
        raise self.error(f"{what} (input {index}, {name!r}) is not defined in the graph", FormatError)

    def optional_constant(self, index: int, what: str) -> np.ndarray | None:
        """Like :meth:`constant`, but None when the input is absent or an empty tensor."""
        if not self.has_input(index):
            return None
        value = self.constant(index, what)
        return None if value.size == 0 else value


def channel_bias(b: np.ndarray, dtype: str, channels: int, rank: int) -> np.ndarray | None:
    """``b`` as a ``(channels,)`` bias when adding it broadcasts along the channel axis only, else None."""
    if b.dtype != np.dtype(dtype) or b.ndim > rank:
        return None
    shape = (1,) * (rank - b.ndim) + b.shape
    if shape[0] != 1 or any(d != 1 for d in shape[2:]) or shape[1] not in (1, channels):
        return None
    return np.ascontiguousarray(np.broadcast_to(b.reshape(-1), (channels,)))


def kernel_inputs(
    node: OnnxNode, weight_layout: str
) -> tuple[TensorType, np.ndarray, np.ndarray | None, tuple[int, ...]]:
    """``(X type, W, B or None, kernel_shape)`` of a Conv or ConvTranspose node, checked: constant float W of X's
    rank (``weight_layout`` says its axes, for the message) and a ``kernel_shape`` that agrees with W."""
    x = node.input_type(0)
    w = node.constant(1, "the weight W")
    b = node.optional_constant(2, "the bias B")
    n = len(x.shape) - 2
    if n < 1 or w.ndim != n + 2:
        raise node.error(
            f"input X has shape {list(x.shape)} and W {list(w.shape)}; {node.op_type} needs X (N, C, spatial...) "
            f"and W {weight_layout} of the same rank >= 3",
            ValidationError,
        )
    if w.dtype.kind != "f":
        raise node.error(f"W has element type {w.dtype}; convertkit takes float weights", ValidationError)
    kernel = tuple(int(k) for k in node.attr("kernel_shape", w.shape[2:]))
    if kernel != tuple(w.shape[2:]):
        raise node.error(
            f"kernel_shape {list(kernel)} disagrees with the weight's spatial shape {list(w.shape[2:])}; "
            "drop kernel_shape or fix W",
            ValidationError,
        )
    return x, w, b, kernel


def pad_amounts(node: OnnxNode, rank: int) -> tuple[list[int], list[int]] | None:
    """``(begin, end)`` pads per axis of an ONNX ``Pad`` node with constant, non-negative pads (attribute before
    opset 11, inputs ``pads`` and ``axes`` since), or None when they are something else."""
    if node.opset < 11:
        raw = np.asarray(node.attr("pads", []), dtype=np.int64)
        axes = list(range(rank))
    else:
        raw = np.asarray(node.constant(1, "pads")).astype(np.int64).ravel()
        given_axes = node.optional_constant(3, "axes") if node.has_input(3) else None
        axes = list(range(rank)) if given_axes is None else [int(a) % rank for a in np.asarray(given_axes).ravel()]
    if len(raw) != 2 * len(axes) or len(set(axes)) != len(axes) or np.any(raw < 0):
        return None
    begin, end = [0] * rank, [0] * rank
    for k, a in enumerate(axes):
        begin[a], end[a] = int(raw[k]), int(raw[len(axes) + k])
    return begin, end


def pad_value(node: OnnxNode) -> np.ndarray:
    """The constant an ONNX ``Pad`` in mode constant fills with (attribute before opset 11, input 2 since)."""
    if node.opset < 11:
        return np.asarray(node.attr("value", 0.0))
    given = node.optional_constant(2, "constant_value") if node.has_input(2) else None
    return np.asarray(0.0 if given is None else given)


def slice_bounds(node: OnnxNode, shape: tuple[int, ...]) -> dict[int, tuple[int, int]]:
    """``{axis: (start, end)}`` of an ONNX ``Slice`` with constant inputs (or Slice-1 attributes) on a tensor of
    ``shape``, clamped as ONNX says (negative values count from the end).

    Raises the node's error for steps other than 1, repeated or out-of-range axes and empty results.
    """
    rank = len(shape)
    if node.opset < 10:
        starts = np.asarray(node.attr("starts", []), dtype=np.int64)
        ends = np.asarray(node.attr("ends", []), dtype=np.int64)
        axes_attr = node.attr("axes")
        axes = np.arange(len(starts)) if axes_attr is None else np.asarray(axes_attr, dtype=np.int64)
        steps = np.ones(len(starts), dtype=np.int64)
    else:
        starts = np.asarray(node.constant(1, "starts")).astype(np.int64).ravel()
        ends = np.asarray(node.constant(2, "ends")).astype(np.int64).ravel()
        given_axes = node.optional_constant(3, "axes")
        axes = np.arange(len(starts)) if given_axes is None else np.asarray(given_axes).astype(np.int64).ravel()
        given_steps = node.optional_constant(4, "steps")
        steps = np.ones(len(starts), np.int64) if given_steps is None else np.asarray(given_steps).ravel()
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise node.error(
            f"starts {starts.tolist()}, ends {ends.tolist()}, axes {axes.tolist()} and steps {steps.tolist()} "
            "must have the same length",
            ValidationError,
        )
    if any(int(s) != 1 for s in steps):
        raise node.error(
            f"steps {steps.tolist()}: convertkit's Crop takes contiguous rows (steps 1); strided or reversed "
            "slices have no IR kind"
        )
    bounds: dict[int, tuple[int, int]] = {}
    for start, end, axis in zip(starts.tolist(), ends.tolist(), axes.tolist(), strict=True):
        if not -rank <= axis < rank:
            raise node.error(f"axis {axis} is out of range for input {list(shape)}", ValidationError)
        a = axis % rank
        if a in bounds:
            raise node.error(f"axis {a} is sliced twice (axes {axes.tolist()})", ValidationError)
        size = shape[a]
        lo = min(max(start + size if start < 0 else start, 0), size)
        hi = min(max(end + size if end < 0 else end, 0), size)
        if hi <= lo:
            raise node.error(
                f"on axis {a} (size {size}) the slice [{start}, {end}) is empty; convertkit values have no empty axes"
            )
        bounds[a] = (lo, hi)
    return bounds
