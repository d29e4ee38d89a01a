"""Lazy facets: a kind names its facet modules; the registry imports, type-checks and checks them on first use.

Registering a kind imports only its core; the first ``record.onnx`` (or ``.caffe``, ``.keras``) of any kind
imports that format's facet of every registered kind, and a facet module that defines no ``FACET``, the wrong
facet type, or a Caffe type another kind reads, is refused then with the message a directly given facet gets at
registration.
"""

from __future__ import annotations

import subprocess
import sys
import types
from typing import Any, ClassVar

import pytest
from conftest import REPO

import convertkit as ck  # noqa: F401  (the lazy package; the kinds register on first use)
from convertkit import layers as _layers  # noqa: F401  (registers the kinds)
from convertkit import registry
from convertkit.ir import Layer, TensorType
from convertkit.registry import CaffeFacet, LayerKind, OnnxFacet


class Lazy(Layer):
    """A complete layer kind whose facets sit in a fake package (``lazy_probe.<format>``)."""

    kind: ClassVar[str] = "LazyProbe"
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
    def from_spec(cls, spec: dict[str, Any], base_dir: str) -> Lazy:
        return cls(name=spec["name"], input=spec["input"])

    @classmethod
    def spec_schema(cls) -> dict[str, Any]:
        return {"type": "object", "properties": {}}


def _read(*_: Any) -> Any:
    raise AssertionError("never called")


@pytest.fixture
def scratch(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Registration goes to copies of the tables; ``put(format, FACET)`` installs ``lazy_probe.<format>``."""
    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))
    monkeypatch.setattr(registry, "LAYER_KINDS", dict(registry.LAYER_KINDS))

    def put(fmt: str, **attrs: Any) -> None:
        module = types.ModuleType(f"lazy_probe.{fmt}")
        module.__dict__.update(attrs)
        monkeypatch.setitem(sys.modules, f"lazy_probe.{fmt}", module)

    monkeypatch.setitem(sys.modules, "lazy_probe", types.ModuleType("lazy_probe"))
    return put


def test_a_named_facet_is_imported_on_first_use(scratch: Any):
    facet = OnnxFacet(op_types=("LazyOp",), read=_read)
    scratch("onnx", FACET=facet)
    record = registry.register(LayerKind(layer=Lazy, package="lazy_probe", facets=("onnx",)))
    assert record.onnx is facet and record.caffe == CaffeFacet()
    assert registry.onnx_readers()["LazyOp"] == [record]


@pytest.mark.parametrize(
    "fmt, attrs, message",
    [
        ("onnx", {}, r"lazy_probe.onnx defines no FACET"),
        ("onnx", {"FACET": CaffeFacet()}, r"its onnx facet is a CaffeFacet, not a OnnxFacet"),
        ("onnx", {"FACET": OnnxFacet(op_types=("LazyOp",))}, r"ONNX op_types and read go together"),
        ("caffe", {"FACET": CaffeFacet(types=("Interp",), read=_read)}, r"\['Interp'\] are already read by Upsample"),
    ],
)
def test_a_malformed_facet_module_is_refused_on_first_use(scratch: Any, fmt: str, attrs: Any, message: str):
    scratch(fmt, **attrs)
    record = registry.register(LayerKind(layer=Lazy, package="lazy_probe", facets=(fmt,)))
    with pytest.raises(TypeError, match=message):
        getattr(record, fmt)


@pytest.mark.parametrize(
    "record, message",
    [
        (lambda: LayerKind(layer=Lazy, package="lazy_probe", facets=("tflite",)), r"no format \['tflite'\]"),
        (lambda: LayerKind(layer=Lazy, facets=("onnx",)), r"need the kind's package"),
        (
            lambda: LayerKind(layer=Lazy, package="lazy_probe", facets=("onnx",), onnx=OnnxFacet()),
            r"given and named as modules",
        ),
    ],
)
def test_a_malformed_lazy_record_is_refused_at_registration(scratch: Any, record: Any, message: str):
    with pytest.raises(TypeError, match=message):
        registry.register(record())


def test_registering_the_kinds_imports_no_facet_and_one_use_imports_that_formats_facets():
    code = (
        "import re, sys\n"
        "import convertkit.layers\n"
        "facet = re.compile(r'convertkit\\.layers\\.\\w+\\.(onnx|caffe|keras)')\n"
        "facets = lambda: sorted(m for m in sys.modules if facet.fullmatch(m))\n"
        "assert facets() == [], facets()\n"
        "from convertkit import registry\n"
        "registry.kind_of(convertkit.layers.Deconvolution).caffe\n"
        "assert facets() and all(m.endswith('.caffe') for m in facets()), facets()\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
