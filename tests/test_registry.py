"""The layer-kind registry: what each registered kind supports, written out here, and what ``register`` refuses.

:data:`EXPECTED` is the support table by hand.  Adding a kind (or dropping a facet) without updating it fails
``test_registered_kinds_are_the_expected_ones`` / ``test_kind_supports_what_the_table_says``, loudly and by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

import convertkit as ck
from convertkit import registry
from convertkit.formats.spec import json_schema
from convertkit.ir import LAYER_KINDS, Layer, TensorType
from convertkit.registry import CaffeFacet, LayerKind, OnnxFacet

RW = (True, True)  # (reads, writes)


@dataclass(frozen=True)
class Facets:
    """What one kind supports: ``(reads, writes)`` per format, and what it reads in each."""

    spec: tuple[bool, bool] = RW
    onnx: tuple[bool, bool] = RW
    caffe: tuple[bool, bool] = RW
    onnx_ops: tuple[str, ...] = ()
    #: Whether a node it reads is kept on its own (False: only inside a fusion of :mod:`convertkit.passes`).
    onnx_alone: bool = True
    onnx_graph_input: bool = False
    caffe_types: tuple[str, ...] = ()
    #: Materialises its parameter blobs for OpenCV when a prototxt comes without a caffemodel.
    caffe_blobs: bool = False
    #: Says which valid Caffe layers of its types OpenCV cannot run.
    opencv_refusal: bool = False


EXPECTED: dict[str, Facets] = {
    "Input": Facets(onnx_graph_input=True, caffe_types=("Input",)),
    "Deconvolution": Facets(
        onnx_ops=("ConvTranspose",),
        caffe_types=("Deconvolution",),
        caffe_blobs=True,
        opencv_refusal=True,  # 2-D only
    ),
    "Upsample": Facets(
        onnx_ops=("Resize", "Upsample"),
        caffe_types=("Interp",),
        opencv_refusal=True,  # Interp with shrink_factor
    ),
    "Convolution": Facets(
        onnx_ops=("Conv",),
        caffe_types=("Convolution",),
        caffe_blobs=True,
        opencv_refusal=True,  # past 2-D, a lone kernel_size / stride / pad / dilation
    ),
    "Crop": Facets(onnx_ops=("Slice",), caffe_types=("Crop", "AutoCrop")),
    "Slice": Facets(onnx_ops=("Split",), caffe_types=("Slice",)),
    "Concat": Facets(onnx_ops=("Concat",), caffe_types=("Concat",)),
    "Pooling": Facets(
        onnx_ops=("MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool"),
        caffe_types=("Pooling",),
        opencv_refusal=True,  # round_mode FLOOR, empty windows, Caffe's drop rule on an unpadded axis
    ),
    # A piece of the passes' multi-node forms: Caffe has no Pad layer to read (Pad writes stock forms).
    "Pad": Facets(caffe=(False, True), onnx_ops=("Pad",), onnx_alone=False),
    # A per-channel Add reads alone since Caffe's Bias layer says it; OpenCV has no Bias layer.
    "Bias": Facets(onnx_ops=("Add",), caffe_types=("Bias",), opencv_refusal=True),
    "Activation": Facets(
        onnx_ops=("Relu", "LeakyRelu", "Sigmoid", "Tanh", "Elu", "Abs"),
        caffe_types=("ReLU", "Sigmoid", "TanH", "ELU", "AbsVal"),
    ),
    "PReLU": Facets(onnx_ops=("PRelu",), caffe_types=("PReLU",)),
    # An Add or Mul of a constant is another kind's (Bias, Power); Eltwise reads two run-time tensors.
    "Eltwise": Facets(onnx_ops=("Sum", "Sub", "Add", "Mul", "Max"), caffe_types=("Eltwise",)),
    "Softmax": Facets(onnx_ops=("Softmax",), caffe_types=("Softmax",)),
    # A Dropout at inference, in both formats.
    "Identity": Facets(onnx_ops=("Dropout",), caffe_types=("Dropout",)),
    "BatchNorm": Facets(
        onnx_ops=("BatchNormalization",), caffe_types=("BatchNorm", "BN"), caffe_blobs=True, opencv_refusal=True
    ),
    # A Mul by a constant of more than one element (Eltwise reads two run-time tensors, Power one element).
    "Scale": Facets(onnx_ops=("Mul",), caffe_types=("Scale",), caffe_blobs=True, opencv_refusal=True),
    "LRN": Facets(onnx_ops=("LRN",), caffe_types=("LRN",), opencv_refusal=True),  # OpenCV ignores k
    # Scalar steps, one node each (a one-element constant); passes/arithmetic folds the chains.
    "Power": Facets(onnx_ops=("Mul", "Add", "Sub", "Div", "Pow", "Neg"), caffe_types=("Power",)),
    "Exp": Facets(onnx_ops=("Exp",), caffe_types=("Exp",)),
    "Log": Facets(onnx_ops=("Log",), caffe_types=("Log",), opencv_refusal=True),  # OpenCV ignores log_param
    "Flatten": Facets(onnx_ops=("Flatten",), caffe_types=("Flatten",), opencv_refusal=True),  # 1-D results
    "Reshape": Facets(
        onnx_ops=("Reshape", "Squeeze", "Unsqueeze"), caffe_types=("Reshape",), opencv_refusal=True
    ),  # negative axis
    "InnerProduct": Facets(
        onnx_ops=("Gemm", "MatMul"), caffe_types=("InnerProduct",), caffe_blobs=True, opencv_refusal=True
    ),  # OpenCV ignores transpose
    "MaxUnpool": Facets(
        onnx_ops=("MaxUnpool",), caffe_types=("Upsample", "Unpooling"), opencv_refusal=True
    ),  # OpenCV has neither fork layer
    # Caffe has no such layer: written as one-hot Deconvolution / Convolution, recognised back by a fusion.
    "DepthToSpace": Facets(caffe=(False, True), onnx_ops=("DepthToSpace", "SpaceToDepth")),
    # A layout change at a channels-last boundary (Keras keep_layout nhwc, tf2onnx's NHWC graphs); stock Caffe has none.
    "Transpose": Facets(caffe=(False, False), onnx_ops=("Transpose",)),
    # Only inside TensorFlow's nearest-upsampling repeat form (passes/layout).
    "Tile": Facets(caffe=(False, False), onnx_ops=("Tile",), onnx_alone=False),
}

SUPPORT_TABLE = """\
| kind | spec | ONNX | Caffe | ONNX ops read | Caffe types read |
|---|---|---|---|---|---|
| Activation | read, write | read, write | read, write | Relu, LeakyRelu, Sigmoid, Tanh, Elu, Abs | ReLU, Sigmoid, TanH, ELU, AbsVal |
| BatchNorm | read, write | read, write | read, write | BatchNormalization | BatchNorm, BN |
| Bias | read, write | read, write | read, write | Add | Bias |
| Concat | read, write | read, write | read, write | Concat | Concat |
| Convolution | read, write | read, write | read, write | Conv | Convolution |
| Crop | read, write | read, write | read, write | Slice | Crop, AutoCrop |
| Deconvolution | read, write | read, write | read, write | ConvTranspose | Deconvolution |
| DepthToSpace | read, write | read, write | write | DepthToSpace, SpaceToDepth | — |
| Eltwise | read, write | read, write | read, write | Sum, Sub, Add, Mul, Max | Eltwise |
| Exp | read, write | read, write | read, write | Exp | Exp |
| Flatten | read, write | read, write | read, write | Flatten | Flatten |
| Identity | read, write | read, write | read, write | Dropout | Dropout |
| InnerProduct | read, write | read, write | read, write | Gemm, MatMul | InnerProduct |
| Input | read, write | read, write | read, write | graph input | Input |
| LRN | read, write | read, write | read, write | LRN | LRN |
| Log | read, write | read, write | read, write | Log | Log |
| MaxUnpool | read, write | read, write | read, write | MaxUnpool | Upsample, Unpooling |
| PReLU | read, write | read, write | read, write | PRelu | PReLU |
| Pad | read, write | read, write | write | Pad (inside a fusion) | — |
| Pooling | read, write | read, write | read, write | MaxPool, AveragePool, GlobalMaxPool, GlobalAveragePool | Pooling |
| Power | read, write | read, write | read, write | Mul, Add, Sub, Div, Pow, Neg | Power |
| Reshape | read, write | read, write | read, write | Reshape, Squeeze, Unsqueeze | Reshape |
| Scale | read, write | read, write | read, write | Mul | Scale |
| Slice | read, write | read, write | read, write | Split | Slice |
| Softmax | read, write | read, write | read, write | Softmax | Softmax |
| Tile | read, write | read, write | — | Tile (inside a fusion) | — |
| Transpose | read, write | read, write | — | Transpose | — |
| Upsample | read, write | read, write | read, write | Resize, Upsample | Interp |"""  # noqa: E501


def unexpected_kinds() -> tuple[set[str], set[str]]:
    """``(registered but not in EXPECTED, in EXPECTED but not registered)``."""
    registered = {k.name for k in registry.kinds()}
    return registered - set(EXPECTED), set(EXPECTED) - registered


def test_registered_kinds_are_the_expected_ones():
    added, gone = unexpected_kinds()
    assert not added, f"kinds registered without a row in EXPECTED (state their facets there): {sorted(added)}"
    assert not gone, f"kinds in EXPECTED that are no longer registered: {sorted(gone)}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_kind_supports_what_the_table_says(name: str):
    record = registry.kind_of(LAYER_KINDS[name])
    want = EXPECTED[name]
    assert record.name == name and record.layer.kind == name
    assert record.supports() == {"spec": want.spec, "onnx": want.onnx, "caffe": want.caffe}
    assert record.onnx.op_types == want.onnx_ops
    assert record.onnx.read_alone == want.onnx_alone
    assert (record.onnx.graph_input is not None) == want.onnx_graph_input
    assert record.caffe.types == want.caffe_types
    assert (record.caffe.blobs is not None) == want.caffe_blobs
    assert (record.caffe.opencv_refusal is not None) == want.opencv_refusal


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_kind_is_public_and_has_a_spec_schema(name: str):
    cls = LAYER_KINDS[name]
    assert getattr(ck, name) is cls
    schema = cls.spec_schema()
    schema["properties"]["meta"] = json_schema()["$defs"][name]["properties"]["meta"]  # added for every kind
    assert json_schema()["$defs"][name] == schema


def test_lookups_follow_the_records():
    records = {k.name: k for k in registry.kinds()}
    assert LAYER_KINDS == {name: k.layer for name, k in records.items()}
    readers: dict[str, list] = {}
    for n, f in EXPECTED.items():
        for op in f.onnx_ops:
            readers.setdefault(op, []).append(records[n])
    assert {op: sorted(k.name for k in ks) for op, ks in registry.onnx_readers().items()} == {
        op: sorted(k.name for k in ks) for op, ks in readers.items()
    }
    assert registry.caffe_readers() == {t: records[n] for n, f in EXPECTED.items() for t in f.caffe_types}
    for name, facets in EXPECTED.items():
        for caffe_type in facets.caffe_types:
            assert registry.caffe_facet_for_type(caffe_type) is records[name].caffe
    assert registry.caffe_facet_for_type("SoftmaxWithLoss") is None
    graph_input = registry.onnx_graph_input("x", TensorType((1, 2, 3)))
    assert isinstance(graph_input, ck.Input) and graph_input.shape == (1, 2, 3)


def test_kind_of_an_instance_and_of_an_unregistered_class():
    layer = ck.Input(name="x", shape=(1, 2))
    assert registry.kind_of(layer) is registry.kind_of(ck.Input)
    with pytest.raises(KeyError, match="'Probe' is not registered"):
        registry.kind_of(Probe)


def test_support_table():
    assert registry.support_table() == SUPPORT_TABLE


# -- register refuses a malformed record ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Probe(Layer):
    """A complete layer kind that is not registered: the base of the malformed records below."""

    kind: ClassVar[str] = "Probe"
    name: str
    input: str = "x"

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.input,)

    @property
    def outputs(self) -> tuple[str, ...]:
        return (self.name,)

    def infer(self, inputs: list[TensorType]) -> list[TensorType]:
        return list(inputs)

    def reference(self, inputs: list[Any], types: list[TensorType]) -> list[Any]:
        return list(inputs)

    def to_spec(self) -> dict[str, Any]:
        return {"type": self.kind, "name": self.name, "input": self.input}

    @classmethod
    def from_spec(cls, spec: dict[str, Any], base_dir: str) -> Probe:
        return cls(name=spec["name"], input=spec["input"])

    @classmethod
    def spec_schema(cls) -> dict[str, Any]:
        return {"type": "object"}


class Incomplete(Layer):
    """Lacks the shape rule and the reference."""

    kind: ClassVar[str] = "Incomplete"

    @property
    def inputs(self) -> tuple[str, ...]:
        return ()

    @property
    def outputs(self) -> tuple[str, ...]:
        return ()

    def to_spec(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_spec(cls, spec: dict[str, Any], base_dir: str) -> Incomplete:
        return cls()

    @classmethod
    def spec_schema(cls) -> dict[str, Any]:
        return {}


class Nameless(Probe):
    kind: ClassVar[str] = ""


class SecondDeconvolution(Probe):
    kind: ClassVar[str] = "Deconvolution"


def _read(*_: Any) -> Any:
    raise AssertionError("a refused record is never called")


@dataclass(frozen=True)
class Malformed:
    id: str
    record: Callable[[], LayerKind[Any]]
    message: str


MALFORMED = [
    Malformed("not-a-layer", lambda: LayerKind(layer=dict), r"LayerKind.layer must be a Layer subclass"),  # type: ignore[arg-type]
    Malformed("missing-methods", lambda: LayerKind(layer=Incomplete), r"Incomplete lacks methods: infer, reference"),
    Malformed("no-kind-name", lambda: LayerKind(layer=Nameless), r"has no `kind` name"),
    Malformed("kind-registered-twice", lambda: LayerKind(layer=SecondDeconvolution), r"'Deconvolution' is registered"),
    Malformed(
        "onnx-op-types-without-read",
        lambda: LayerKind(layer=Probe, onnx=OnnxFacet(op_types=("Probe",))),
        r"ONNX op_types and read go together",
    ),
    Malformed(
        "onnx-read-without-op-types",
        lambda: LayerKind(layer=Probe, onnx=OnnxFacet(read=_read)),
        r"ONNX op_types and read go together",
    ),
    Malformed(
        "caffe-types-without-read",
        lambda: LayerKind(layer=Probe, caffe=CaffeFacet(types=("Probe",))),
        r"Caffe types and read go together",
    ),
    Malformed(
        "duplicate-caffe-type",
        lambda: LayerKind(layer=Probe, caffe=CaffeFacet(types=("Interp",), read=_read)),
        r"Caffe types \['Interp'\] are already read by Upsample",
    ),
    Malformed(
        "second-graph-input",
        lambda: LayerKind(layer=Probe, onnx=OnnxFacet(graph_input=_read)),
        r"Input already stands for ONNX graph inputs",
    ),
]


@pytest.fixture
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registration goes to copies of the tables, so nothing a test registers outlives it."""
    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))
    monkeypatch.setattr(registry, "LAYER_KINDS", dict(registry.LAYER_KINDS))


@pytest.mark.usefixtures("scratch_registry")
@pytest.mark.parametrize("row", MALFORMED, ids=lambda r: r.id)
def test_register_refuses_a_malformed_record(row: Malformed):
    before = (dict(registry._KINDS), dict(registry.LAYER_KINDS))
    with pytest.raises(TypeError, match=row.message):
        registry.register(row.record())
    assert (registry._KINDS, registry.LAYER_KINDS) == before


@pytest.mark.usefixtures("scratch_registry")
def test_a_kind_registered_without_a_row_in_expected_is_reported():
    # The well-formed Probe registers; the expected table then names it, which is how the test above fails.
    record = registry.register(LayerKind(layer=Probe, caffe=CaffeFacet(types=("Probe",), read=_read)))
    assert registry.kind_of(Probe) is record and registry.LAYER_KINDS["Probe"] is Probe
    assert unexpected_kinds() == ({"Probe"}, set())
    assert "| Probe | read, write | — | read | — | Probe |" in registry.support_table()


@pytest.mark.usefixtures("scratch_registry")
def test_several_kinds_may_read_one_onnx_op_type_each_declining_what_is_not_its_form():
    # A second reader of ConvTranspose registers; import offers each node to the readers in order.
    record = registry.register(LayerKind(layer=Probe, onnx=OnnxFacet(op_types=("ConvTranspose",), read=_read)))
    assert [k.name for k in registry.onnx_readers()["ConvTranspose"]] == ["Deconvolution", "Probe"]
    assert record.onnx.read is _read
