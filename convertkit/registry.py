"""The layer-kind registry: one typed :class:`LayerKind` record per kind, checked when it is registered.

A kind is a package under ``convertkit/layers/``: ``core.py`` holds the frozen dataclass (fields, validation, shape
rule, reference call, spec form), and one sibling module per format holds that format's facet (``onnx.py``,
``caffe.py``, ``keras.py``, each with a ``FACET``).  The package's ``__init__`` registers the core with the names
of its facet modules::

    KIND = register(LayerKind(layer=Deconvolution, package=__name__, facets=("onnx", "caffe", "keras")))

The facets are imported on first use (the first ``record.onnx`` of any kind imports and checks every kind's ONNX
facet), so reading and validating a spec imports no format's codec: a facet module must define ``FACET`` as the
format's facet type, and the checks of a registered facet (hooks that go together, Caffe types read twice, ...)
run then, as they run at registration for a facet given directly (``LayerKind(layer=..., onnx=OnnxFacet(...))``).

Format plumbing (the ONNX and Caffe readers and writers, the OpenCV runner, check) reaches kinds only through the
functions below and names none; the facets are typed against the contexts in :mod:`convertkit.codec`, which sit
below the kinds, so nothing here imports a format's plumbing.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from .errors import ConvertkitError, FormatError, UnsupportedError
from .ir import LAYER_KINDS, Layer, Model, TensorType

if TYPE_CHECKING:  # the facets' contexts; imported where a format's facets run, not to validate a spec
    import numpy as np

    from .codec.caffe import CaffeEmitter, CaffeLayer, CaffeReader
    from .codec.keras import KerasLayer
    from .codec.onnx import OnnxEmitter, OnnxNode

__all__ = [
    "LayerKind",
    "OnnxFacet",
    "CaffeFacet",
    "register",
    "kinds",
    "kind_of",
    "onnx_readers",
    "onnx_graph_input",
    "caffe_readers",
    "caffe_facet_for_type",
    "KerasFacet",
    "keras_readers",
    "keras_layout",
    "support_table",
    "write_layers",
    "FORMATS",
]

L = TypeVar("L", bound=Layer)

#: The formats a kind can support, with their directions.
FORMATS: tuple[str, ...] = ("spec", "onnx", "caffe")


@dataclass(frozen=True, kw_only=True)
class OnnxFacet(Generic[L]):
    """How a kind reads and writes ONNX.

    ``write(layer, ctx, input_types)`` appends the layer's nodes; ``read(node)`` builds the layer from a node of
    one of ``op_types``, or declines (None: not a form of this kind; the node is listed as unsupported);
    ``read_alone`` False keeps what ``read`` built only where a fusion (:mod:`convertkit.passes`) absorbs it;
    ``graph_input(name, type)`` is the kind that stands for a graph input (one kind has it).  Multi-node forms
    are IR passes, not facets.
    """

    write: Callable[[L, OnnxEmitter, list[TensorType]], None] | None = None
    op_types: tuple[str, ...] = ()
    read: Callable[[OnnxNode], Layer | None] | None = None
    read_alone: bool = True
    graph_input: Callable[[str, TensorType], Layer] | None = None


@dataclass(frozen=True, kw_only=True)
class CaffeFacet(Generic[L]):
    """How a kind reads and writes Caffe.

    ``write(layer, ctx, input_types)`` appends the layer's Caffe layers; ``read(layer, ctx)`` builds IR layers
    from a Caffe layer of one of ``types``; ``blobs(layer, caffe_layer)`` gives the parameter blobs a prototxt
    layer of this kind needs, from the IR layer read from it (run in OpenCV without a caffemodel); and
    ``opencv_refusal(caffe_layer, rank)`` says why OpenCV's Caffe reader cannot run that valid layer (None: it
    can), ``rank`` being the rank of its first bottom when known.
    """

    write: Callable[[L, CaffeEmitter, list[TensorType]], None] | None = None
    types: tuple[str, ...] = ()
    read: Callable[[CaffeLayer, CaffeReader], list[Layer]] | None = None
    blobs: Callable[[L, CaffeLayer], list[np.ndarray]] | None = None
    opencv_refusal: Callable[[CaffeLayer, int | None], str | None] | None = None


@dataclass(frozen=True, kw_only=True)
class KerasFacet(Generic[L]):
    """How a kind reads Keras (read only: convertkit writes no Keras files).

    ``read(layer)`` builds the IR layers (channels-first) of a Keras layer whose ``class_name`` is one of
    ``class_names`` (a conv with ``activation`` is the kind's layer and an Activation after it); ``layout(name,
    input, output, perm)`` is the kind that turns a tensor's axes around at a channels_last model's boundary
    (``--keep-layout nhwc``; one kind has it).
    """

    class_names: tuple[str, ...] = ()
    read: Callable[[KerasLayer], list[Layer]] | None = None
    layout: Callable[[str, str, str, tuple[int, ...]], Layer] | None = None


#: The facet type of each format a kind's package may hold a module for (``<package>.<format>.FACET``).
_FACET_TYPES: dict[str, type[Any]] = {"onnx": OnnxFacet, "caffe": CaffeFacet, "keras": KerasFacet}


class LayerKind(Generic[L]):
    """One layer kind: its IR class and its format facets.

    The spec facet is the class itself (``to_spec``/``from_spec``/``spec_schema``, required by :class:`Layer`).
    The format facets are given directly (``onnx=OnnxFacet(...)``) or named as modules of the kind's ``package``
    (``facets=("onnx", "caffe")``: ``<package>.onnx.FACET`` ...), imported and checked on first use; a format
    neither given nor named is the empty facet (the kind has no form there).
    """

    __slots__ = ("layer", "package", "facets", "_given", "_facets")

    def __init__(
        self,
        *,
        layer: type[L],
        onnx: OnnxFacet[L] | None = None,
        caffe: CaffeFacet[L] | None = None,
        keras: KerasFacet[L] | None = None,
        package: str = "",
        facets: tuple[str, ...] = (),
    ) -> None:
        self.layer = layer
        self.package = package
        self.facets = tuple(facets)
        given = {"onnx": onnx, "caffe": caffe, "keras": keras}
        self._given: dict[str, Any] = {f: v for f, v in given.items() if v is not None}
        self._facets: dict[str, Any] = dict(self._given)  # format -> facet, as given or loaded

    def __repr__(self) -> str:
        return f"LayerKind({getattr(self.layer, '__name__', self.layer)!r}, facets={self.facets!r})"

    @property
    def name(self) -> str:
        return self.layer.kind

    @property
    def onnx(self) -> OnnxFacet[L]:
        return cast("OnnxFacet[L]", _facet(self, "onnx"))

    @property
    def caffe(self) -> CaffeFacet[L]:
        return cast("CaffeFacet[L]", _facet(self, "caffe"))

    @property
    def keras(self) -> KerasFacet[L]:
        return cast("KerasFacet[L]", _facet(self, "keras"))

    def supports(self) -> dict[str, tuple[bool, bool]]:
        """Per format: ``(reads, writes)``."""
        return {
            "spec": (True, True),
            "onnx": (self.onnx.read is not None or self.onnx.graph_input is not None, self.onnx.write is not None),
            "caffe": (self.caffe.read is not None, self.caffe.write is not None),
        }


_KINDS: dict[str, LayerKind[Layer]] = {}


def write_layers(model: Model, ctx: OnnxEmitter | CaffeEmitter) -> None:
    """Write every layer of ``model`` through its kind's facet for ``ctx``'s format (ONNX or Caffe)."""
    from .codec.onnx import OnnxEmitter

    for layer in model.layers:
        record, types = kind_of(layer), model.input_types(layer)
        call: Callable[[], None] | None
        if isinstance(ctx, OnnxEmitter):
            fmt, onnx_write = "ONNX", record.onnx.write
            call = None if onnx_write is None else functools.partial(onnx_write, layer, ctx, types)
        else:
            fmt, caffe_write = "Caffe", record.caffe.write
            call = None if caffe_write is None else functools.partial(caffe_write, layer, ctx, types)
        if call is None:
            raise layer.error(f"has no {fmt} form", UnsupportedError)
        try:
            call()
        except ConvertkitError:
            raise
        except (ValueError, TypeError) as exc:
            raise layer.error(f"{fmt} export failed: {exc}", FormatError) from exc


def _where(record: LayerKind[Any]) -> str:
    return f"layer kind {getattr(record.layer, '__name__', record.layer)}"


def _check(record: LayerKind[L]) -> None:
    cls = record.layer
    where = _where(record)
    if not isinstance(cls, type) or not issubclass(cls, Layer):
        raise TypeError(f"{where}: LayerKind.layer must be a Layer subclass")
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    if missing:
        raise TypeError(f"{where} lacks methods: {', '.join(missing)}")
    if not cls.kind:
        raise TypeError(f"{where} has no `kind` name")
    if cls.kind in _KINDS:
        raise TypeError(f"{where}: kind {cls.kind!r} is registered twice")
    unknown = sorted(set(record.facets) - set(_FACET_TYPES))
    if unknown:
        raise TypeError(f"{where}: no format {unknown} (facets are {', '.join(_FACET_TYPES)})")
    both = sorted(set(record.facets) & set(record._given))
    if both:
        raise TypeError(f"{where}: the {both} facets are given and named as modules; give each once")
    if record.facets and not record.package:
        raise TypeError(f"{where}: facets named as modules need the kind's package (package=__name__)")
    for fmt, facet in record._given.items():
        # A facet given directly is checked now, against every registered kind's facet of its format.
        _check_facet(record, fmt, facet, [(_facet(k, fmt), k.name) for k in _KINDS.values()])


def _check_facet(record: LayerKind[Any], fmt: str, facet: Any, others: list[tuple[Any, str]]) -> None:
    """Check ``record``'s ``fmt`` facet alone and against ``others`` (the facets of that format of the kinds
    registered before it)."""
    where = _where(record)
    if not isinstance(facet, _FACET_TYPES[fmt]):
        raise TypeError(f"{where}: its {fmt} facet is a {type(facet).__name__}, not a {_FACET_TYPES[fmt].__name__}")
    if fmt == "onnx":
        if bool(facet.op_types) != (facet.read is not None):
            raise TypeError(f"{where}: ONNX op_types and read go together")
        # Several kinds may read one ONNX op type (an Add of a per-channel constant is a Bias, of two run-time
        # tensors an Eltwise): each declines what is not its form, and the first that reads the node wins.
        for other, name in others:
            if facet.graph_input is not None and other.graph_input is not None:
                raise TypeError(f"{where}: {name} already stands for ONNX graph inputs")
    elif fmt == "caffe":
        if bool(facet.types) != (facet.read is not None):
            raise TypeError(f"{where}: Caffe types and read go together")
        for other, name in others:
            clash = set(other.types) & set(facet.types)
            if clash:
                raise TypeError(f"{where}: Caffe types {sorted(clash)} are already read by {name}")
    else:
        for other, name in others:
            keras_clash = set(other.class_names) & set(facet.class_names)
            if keras_clash:
                raise TypeError(f"{where}: Keras layers {sorted(keras_clash)} are already read by {name}")
            if facet.layout is not None and other.layout is not None:
                raise TypeError(f"{where}: {name} already turns Keras layouts around")
        if bool(facet.class_names) != (facet.read is not None):
            raise TypeError(f"{where}: Keras class_names and read go together")


def _facet(record: LayerKind[Any], fmt: str) -> Any:
    """``record``'s ``fmt`` facet: given, or imported from its module on first use, together with every registered
    kind's facet of that format, each checked against the kinds registered before it."""
    if fmt not in record._facets:
        registered = list(_KINDS.values())
        earlier: list[tuple[Any, str]] = []
        for k in registered if record in registered else [*registered, record]:
            if fmt not in k._facets:
                facet = _import_facet(k, fmt)
                _check_facet(k, fmt, facet, earlier)
                k._facets[fmt] = facet
            earlier.append((k._facets[fmt], k.name))
    return record._facets[fmt]


def _import_facet(record: LayerKind[Any], fmt: str) -> Any:
    if fmt not in record.facets:
        return _FACET_TYPES[fmt]()
    module = importlib.import_module(f"{record.package}.{fmt}")
    facet = getattr(module, "FACET", None)
    if facet is None:
        raise TypeError(f"{_where(record)}: {module.__name__} defines no FACET")
    return facet


def register(record: LayerKind[L]) -> LayerKind[L]:
    """Add ``record`` to the registry after checking it; returns it."""
    _check(record)
    _KINDS[record.name] = record  # type: ignore[assignment]
    LAYER_KINDS[record.name] = record.layer
    return record


def _loaded() -> dict[str, LayerKind[Layer]]:
    # The kinds register themselves when their package is imported; plumbing imports convertkit.layers first.
    return _KINDS


def kinds() -> Iterator[LayerKind[Layer]]:
    """Every registered kind, in registration order."""
    return iter(_loaded().values())


def kind_of(layer: Layer | type[Layer]) -> LayerKind[Layer]:
    """The record of ``layer``'s kind."""
    name = layer.kind
    record = _loaded().get(name)
    if record is None:
        raise KeyError(f"layer kind {name!r} is not registered")
    return record


def onnx_readers() -> dict[str, list[LayerKind[Layer]]]:
    """ONNX op type -> the kinds whose ``read`` may convert it, in registration order (each may decline)."""
    table: dict[str, list[LayerKind[Layer]]] = {}
    for k in kinds():
        for op in k.onnx.op_types:
            table.setdefault(op, []).append(k)
    return table


def onnx_graph_input(name: str, t: TensorType) -> Layer:
    """The layer that stands for an ONNX graph input."""
    for k in kinds():
        if k.onnx.graph_input is not None:
            return k.onnx.graph_input(name, t)
    raise KeyError("no layer kind stands for ONNX graph inputs")


def caffe_readers() -> dict[str, LayerKind[Layer]]:
    """Caffe layer type -> the kind whose ``read`` converts it."""
    return {t: k for k in kinds() for t in k.caffe.types}


def keras_readers() -> dict[str, LayerKind[Layer]]:
    """Keras layer class name -> the kind whose Keras facet reads it."""
    return {c: k for k in kinds() for c in k.keras.class_names}


def keras_layout(name: str, input: str, output: str, perm: tuple[int, ...]) -> Layer:
    """The layer that permutes ``input``'s axes by ``perm`` at a Keras model's boundary."""
    for k in kinds():
        if k.keras.layout is not None:
            return k.keras.layout(name, input, output, perm)
    raise KeyError("no layer kind permutes axes")


def caffe_facet_for_type(caffe_type: str) -> CaffeFacet[Layer] | None:
    """The Caffe facet of the kind that reads ``caffe_type`` (None: no kind does)."""
    record = caffe_readers().get(caffe_type)
    return None if record is None else record.caffe


def support_table() -> str:
    """A Markdown table: per kind, what each format reads and writes (the README shows it)."""
    names = {"spec": "spec", "onnx": "ONNX", "caffe": "Caffe"}
    lines = [
        "| kind | " + " | ".join(names[f] for f in FORMATS) + " | ONNX ops read | Caffe types read |",
        "|---|" + "---|" * len(FORMATS) + "---|---|",
    ]
    for k in sorted(kinds(), key=lambda k: k.name):
        cells = []
        for f in FORMATS:
            reads, writes = k.supports()[f]
            cells.append(
                {(True, True): "read, write", (True, False): "read", (False, True): "write"}.get((reads, writes), "—")
            )
        ops = ", ".join(k.onnx.op_types) or ("graph input" if k.onnx.graph_input else "—")  # each may decline
        if k.onnx.op_types and not k.onnx.read_alone:
            ops += " (inside a fusion)"
        caffe_types = ", ".join(k.caffe.types) or "—"
        lines.append(f"| {k.name} | " + " | ".join(cells) + f" | {ops} | {caffe_types} |")
    return "\n".join(lines)
