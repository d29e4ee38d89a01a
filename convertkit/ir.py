"""The graph IR: named values, layers in topological order, and the layer-kind registry.

A :class:`Model` is an immutable list of layers.  Constructing it checks names, wiring and every layer's shape
rule, so a ``Model`` that exists is a model whose shapes are known (``model.types``).  Layer kinds live in
``convertkit/layers/`` (one package each) and register themselves through :mod:`convertkit.registry`, which
fills :data:`LAYER_KINDS`; format plumbing finds a kind's facets through that registry only.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from . import specfields
from .errors import ConvertkitError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from .coord_map import CoordMap

__all__ = ["TensorType", "Layer", "UnaryLayer", "Meta", "Model", "LAYER_KINDS", "DTYPES", "UNSET"]

DTYPES: tuple[str, ...] = ("float32", "float64")


@dataclass(frozen=True, slots=True)
class TensorType:
    """The static type of a value: element type and a fully known shape."""

    shape: tuple[int, ...]
    dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValidationError(f"dtype must be one of {', '.join(DTYPES)}, not {self.dtype!r}")
        if any((not isinstance(d, int)) or d < 1 for d in self.shape):
            raise ValidationError(f"shape dimensions must be positive integers, got {list(self.shape)}")

    def __str__(self) -> str:
        return f"{self.dtype}[{'x'.join(str(d) for d in self.shape)}]"


class Meta(Mapping[str, Any]):
    """A layer's format provenance: an immutable mapping that readers fill and writers consult.

    Keys are namespaced by format (``caffe.training``, ``caffe.interp``...); values must be immutable and
    comparable.  None of it changes what the layer computes, so no shape rule or reference reads it.
    """

    __slots__ = ("_items",)
    _items: tuple[tuple[str, Any], ...]

    def __init__(self, items: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        object.__setattr__(self, "_items", tuple(sorted(dict(pairs).items())))

    def __getitem__(self, key: str) -> Any:
        for k, v in self._items:
            if k == key:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Meta):
            return self._items == other._items
        return isinstance(other, Mapping) and dict(self._items) == dict(other)

    def __hash__(self) -> int:
        return hash(self._items)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Meta is immutable; use with_ / without")

    def __repr__(self) -> str:
        return f"Meta({dict(self._items)!r})"

    def with_(self, key: str, value: Any) -> Meta:
        """A copy with ``key`` set to ``value``."""
        return Meta({**dict(self._items), key: value})

    def without(self, key: str) -> Meta:
        """A copy without ``key``."""
        return Meta((k, v) for k, v in self._items if k != key)


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: Default of the compatibility keywords that set a :class:`Meta` entry (``training=``, ``caffe_interp=``): not
#: given means "keep what ``meta`` says"; None means "no entry".
UNSET: Any = _Unset()


def set_meta(layer: Layer, key: str, value: Any) -> None:
    """In ``__post_init__``: apply a compatibility keyword (``UNSET`` keeps, None removes, else sets)."""
    if value is UNSET:
        return
    meta = layer.meta.without(key) if value is None else layer.meta.with_(key, value)
    object.__setattr__(layer, "meta", meta)


@dataclass(frozen=True, slots=True, kw_only=True)
class Layer(abc.ABC):
    """Base of every layer kind.

    Subclasses are frozen dataclasses with at least ``name``; they say which values they read and write through
    :attr:`inputs` / :attr:`outputs`, and implement :meth:`infer` (the shape rule, raising
    :class:`ValidationError` on bad input), :meth:`reference` and the spec form.  Each format's facet sits in a
    sibling module of the kind's package and is registered with it (:class:`convertkit.registry.LayerKind`).
    """

    kind: ClassVar[str] = ""
    #: Whether the layer stands for a graph input (it reads nothing; its value is fed).
    graph_input: ClassVar[bool] = False
    #: Whether the kind upsamples (deconvolution, interpolation): readers centre suggested cuts on such layers.
    upsamples: ClassVar[bool] = False
    #: ``meta`` keys the kind writes in its own spec form (``to_spec``), so the spec's generic ``meta`` omits them.
    spec_meta_keys: ClassVar[tuple[str, ...]] = ()
    #: Whether each spatial position of the output is computed at the same position of the inputs (elementwise
    #: layers): the kind's coordinate map (:meth:`coord_map`) is then the identity.
    spatially_pointwise: ClassVar[bool] = False
    name: str
    #: Format provenance (readers fill it, writers consult it); see :class:`Meta`.
    meta: Meta = field(default_factory=Meta)

    @property
    @abc.abstractmethod
    def inputs(self) -> tuple[str, ...]:
        """Names of the values the layer reads."""

    @property
    @abc.abstractmethod
    def outputs(self) -> tuple[str, ...]:
        """Names of the values the layer writes."""

    @abc.abstractmethod
    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        """Shape rule: output types from input types (raises :class:`ValidationError`)."""

    @abc.abstractmethod
    def reference(self, inputs: list[np.ndarray], types: list[TensorType]) -> list[np.ndarray]:
        """Run the layer on the NumPy reference; ``types`` are the input types."""

    def parameter_shapes(self, inputs: list[TensorType]) -> list[tuple[int, ...]]:
        """The shapes of the parameter arrays the layer materialises for ``inputs`` (weights, bias, slopes...).

        The memory budget (:mod:`convertkit.budget`) adds them up before anything is allocated; a kind with a
        weight source must say them (a test checks every such kind overrides this).
        """
        return []

    def coord_map(self, inputs: list[TensorType]) -> CoordMap | None:
        """Where the output sits on the first input's grid, per spatial axis (:mod:`convertkit.coord_map`), for
        ``inputs`` of these types; None: the kind has none (the identity if :attr:`spatially_pointwise`)."""
        from .coord_map import IDENTITY

        return IDENTITY if self.spatially_pointwise else None

    def reference_workspace(self, inputs: list[TensorType]) -> int:
        """Bytes the NumPy reference allocates for this layer beyond its outputs and parameters, where that can
        be large (the memory budget adds it); 0 for kernels whose temporaries stay near their outputs' size."""
        return 0

    def to_spec(self) -> dict[str, Any]:
        """The layer as a spec dict (JSON/YAML), keeping the conventions the user wrote; derived from the fields
        (:mod:`convertkit.specfields`) unless the kind needs its own form."""
        return specfields.spec_of(self)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], base_dir: str) -> Layer:
        """Build the layer from a schema-valid spec dict; ``base_dir`` resolves relative ``.npy`` paths."""
        layer: Layer = specfields.from_fields(cls, spec, base_dir)
        return layer

    @classmethod
    def spec_schema(cls) -> dict[str, Any]:
        """JSON Schema of this kind's spec dict (derived from the fields unless the kind needs its own)."""
        return specfields.schema_of(cls)

    def _normalise_meta(self) -> None:
        """Kinds call this first in ``__post_init__``: ``meta`` may be given as any mapping."""
        if isinstance(self.meta, Meta):
            return
        if not isinstance(self.meta, Mapping) or not all(isinstance(k, str) for k in self.meta):
            raise self.error(f"meta must map strings to values, got {self.meta!r}")
        object.__setattr__(self, "meta", Meta(self.meta))

    def error(self, message: str, cls: type[ConvertkitError] = ValidationError) -> ConvertkitError:
        """An error about this layer: ``layer 'NAME' (Kind): message``."""
        return cls(f"layer {self.name!r} ({self.kind}): {message}")


@dataclass(frozen=True, slots=True, kw_only=True)
class UnaryLayer(Layer):
    """A layer that reads one value, ``input``, and writes one, ``output`` (the layer's name when not given)."""

    input: str
    output: str = ""

    def _check_io(self) -> None:
        """Kinds call this first in ``__post_init__``: meta, the names, and the default output."""
        self._normalise_meta()
        for what, value in (("name", self.name), ("input", self.input)):
            if not isinstance(value, str) or not value:
                raise ValidationError(f"{self.kind} layer needs a non-empty string {what}, got {value!r}")
        if not isinstance(self.output, str):
            raise self.error(f"output must be a value name (a string), got {self.output!r}")
        if not self.output:
            object.__setattr__(self, "output", self.name)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.output,)

    def spatial_input(self, inputs: list[TensorType], n: int, needs: str) -> TensorType:
        """The one input type, checked to be ``(N, C, n spatial...)``; ``needs`` says which field needs it."""
        (x,) = inputs
        if len(x.shape) != n + 2:
            raise self.error(
                f"input {self.input!r} has rank {len(x.shape)} {list(x.shape)}, but {needs} rank {n + 2} "
                f"(N, C, {n} spatial)"
            )
        return x


#: Kind name -> IR class of every registered kind (filled by :func:`convertkit.registry.register`).
LAYER_KINDS: dict[str, type[Layer]] = {}


@dataclass(frozen=True, slots=True)
class Model:
    """A checked graph of layers.

    ``layers`` are in topological order; ``outputs`` default to the values no layer consumes.  Construction
    infers every value's :class:`TensorType` into :attr:`types` and raises on the first inconsistency.
    """

    layers: tuple[Layer, ...]
    outputs: tuple[str, ...] = ()
    name: str = "convertkit"
    types: Mapping[str, TensorType] = field(init=False, repr=False, compare=False)
    #: Facts about the source a reader keeps for the writers (``onnx_opset``: the ONNX model's opset, which an
    #: ONNX export keeps unless told otherwise); not part of the model's identity.
    meta: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __init__(
        self,
        layers: Iterable[Layer],
        outputs: Iterable[str] | None = None,
        name: str = "convertkit",
        meta: Mapping[str, Any] | None = None,
    ):
        layers = tuple(layers)
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "meta", dict(meta or {}))
        types: dict[str, TensorType] = {}
        names: set[str] = set()
        consumed: set[str] = set()
        if not layers:
            raise ValidationError("model has no layers")
        for layer in layers:
            if not isinstance(layer, Layer):
                raise ValidationError(f"model layers must be Layer objects, got {type(layer).__name__}")
            if layer.name in names:
                raise ValidationError(f"layer name {layer.name!r} is used twice; layer names must be unique")
            names.add(layer.name)
            for value in layer.inputs:
                if value not in types:
                    raise layer.error(
                        f"reads value {value!r}, which no earlier layer produces "
                        f"(known values: {', '.join(sorted(types)) or 'none'})"
                    )
                consumed.add(value)
            try:
                out_types = layer.infer([types[v] for v in layer.inputs])
            except ConvertkitError:
                raise
            except (ValueError, ArithmeticError) as exc:
                raise layer.error(str(exc)) from exc
            for value, t in zip(layer.outputs, out_types, strict=True):
                if value in types:
                    raise layer.error(f"writes value {value!r}, which another layer already produces")
                types[value] = t
        if isinstance(outputs, str):
            raise ValidationError(f"model outputs must be a list of value names, got the string {outputs!r}")
        if outputs is None or not tuple(outputs):
            outs = tuple(v for v in types if v not in consumed)
        else:
            outs = tuple(outputs)
            for v in outs:
                if v not in types:
                    raise ValidationError(f"model output {v!r} is not a value of the model")
        object.__setattr__(self, "outputs", outs)
        object.__setattr__(self, "types", types)

    @property
    def inputs(self) -> tuple[str, ...]:
        """Names of the graph inputs (the values of graph-input layers, ``Input``)."""
        return tuple(v for layer in self.layers if layer.graph_input for v in layer.outputs)

    def layer(self, name: str) -> Layer:
        """The layer called ``name``."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValidationError(f"model has no layer {name!r}")

    def input_types(self, layer: Layer) -> list[TensorType]:
        """Types of the values ``layer`` reads."""
        return [self.types[v] for v in layer.inputs]

    def replace(self, layers: Iterable[Layer], outputs: Iterable[str] | None = None) -> Model:
        """A new checked model with other layers (and the same outputs unless given)."""
        return Model(layers, self.outputs if outputs is None else outputs, self.name, self.meta)

    def summary(self) -> str:
        """One line per layer: name, kind, inputs -> outputs with their types."""
        lines = []
        for layer in self.layers:
            ins = ", ".join(f"{v}:{self.types[v]}" for v in layer.inputs)
            outs = ", ".join(f"{v}:{self.types[v]}" for v in layer.outputs)
            lines.append(f"{layer.name} ({layer.kind}): {ins or '(graph input)'} -> {outs}")
        return "\n".join(lines)
