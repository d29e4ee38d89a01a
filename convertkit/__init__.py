"""convertkit: exact conversion of deconvolution and upsample layers between specs, ONNX and Caffe.

Build a model in Python or load a spec, export it, and prove the export by running it::

    import convertkit as ck
    model = ck.Model([
        ck.Input(name="x", shape=(1, 21, 32, 32)),
        ck.Upsample(name="up", input="x", mode="linear", scales=(2, 2), semantics="deconvolution"),
    ])
    proto = ck.to_onnx(model)
    report = ck.check(model)
    assert report.passed
"""

from __future__ import annotations

import sys as _sys
import types as _types
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # the names resolve lazily (``__getattr__`` below), so that ``convertkit --help`` stays instant
    from collections.abc import Mapping

    import numpy as np

    from .check import CheckReport
    from .ir import Model

__version__ = "0.1.0"

#: Where each public name lives, besides the layer kinds (``convertkit.layers.__all__``) and the errors
#: (``convertkit.errors.__all__``), which are looked up there.  Nothing is imported until a name is first used:
#: ``import convertkit`` costs no numpy, onnx or protobuf import (the command line's ``--help`` relies on it).
_NAMES = {
    "Model": "ir",
    "TensorType": "ir",
    "Layer": "ir",
    "LAYER_KINDS": "ir",
    "Filler": "fillers",
    "Values": "fillers",
    "bilinear_kernel": "fillers",
    "CheckReport": "check",
    "OutputReport": "check",
    "OnnxImportWarning": "errors",
    "CaffeWarning": "errors",
}
_FUNCTIONS = ("load", "save", "to_onnx", "to_caffe", "run", "check")


def _public_names() -> list[str]:
    from . import errors, layers

    return [
        # model building: the IR, every layer kind and its parts (convertkit.layers.__all__), weights
        "Model",
        "TensorType",
        "Layer",
        "LAYER_KINDS",
        *layers.__all__,
        "Filler",
        "Values",
        "bilinear_kernel",
        # files
        "load",
        "save",
        "to_onnx",
        "to_caffe",
        # running and checking
        "run",
        "check",
        "CheckReport",
        "OutputReport",
        # errors (convertkit.errors.__all__) and warnings
        *errors.__all__,
        "OnnxImportWarning",
        "CaffeWarning",
    ]


def __getattr__(name: str) -> Any:
    import importlib
    import importlib.util

    if name == "__all__":
        value: Any = _public_names()
    elif name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    elif importlib.util.find_spec(f"{__name__}.{name}") is not None:
        # ``from convertkit import shapes`` asks here before it imports the submodule: import it, nothing else
        return importlib.import_module(f".{name}", __name__)
    elif name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    else:
        errors = importlib.import_module(".errors", __name__)
        if name in errors.__all__:
            value = getattr(errors, name)
        else:
            layers = importlib.import_module(".layers", __name__)
            if name not in layers.__all__:
                raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
            value = getattr(layers, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_public_names()))


class _Package(_types.ModuleType):
    """The package's module type: importing a submodule that shares a public function's name (``convertkit.check``)
    does not rebind that name to the submodule, as it would once the import is lazy."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FUNCTIONS and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


def load(path: str, **options: Any) -> Model:
    """Load a model by suffix: a spec (``.json``, ``.yaml``, ``.yml``), an ONNX model or a Caffe prototxt.

    ONNX (``.onnx``) options: ``input_shapes={name: (N, C, H, W)}`` for graph inputs with symbolic dimensions, and
    ``constants={name: array}`` for graph inputs that nodes read as constants (weights, Resize scales or sizes).
    Conversions that are exact but follow onnxruntime where ONNX readers disagree emit
    :class:`OnnxImportWarning`; unsupported ops raise one :class:`UnsupportedError`
    listing every op type with its nodes.

    Caffe (``.prototxt``) options: ``weights="net.caffemodel"``, ``input_shapes``, ``fill_missing="zeros"`` or
    ``"bilinear"`` (a Deconvolution with neither weights nor filler), ``seed`` (random fillers), ``compact=True``
    (diagonal full deconvolutions become grouped ones).

    Both: ``inputs=[name, ...]`` (or ``{name: shape or None}``) and ``outputs=[name, ...]`` cut out the part
    between those values (Caffe blobs, ONNX values); layers outside it are not read.  An inner input without a
    shape gets the one the layers upstream of it compute, when convertkit reads them.  Options that do not apply to
    the suffix raise :class:`FormatError`.
    """
    from .formats import load_model

    return load_model(path, **options)


def save(model: Model, path: str, *, opset: int | None = None, **options: Any) -> None:
    """Save ``model`` by suffix: ``.json``/``.yaml``/``.yml`` spec, ``.onnx`` (at ``opset``) or ``.prototxt``.

    Caffe (``.prototxt``) options: ``with_weights=True`` writes the ``.caffemodel`` beside it, ``dialect="bvlc"``
    (stock layers), ``"pspnet"`` (also the fork's ``Interp``; a batch norm read from PSPNet's ``BN`` written back
    as that ``BN``) or ``"segnet"`` (one read from SegNet's ``BN`` written back so).  Options that do not apply to
    the suffix raise :class:`FormatError`.
    """
    from .formats import save_model

    save_model(model, path, opset=opset, **options)


def to_onnx(model: Model, opset: int | None = None, *, target: str = "portable") -> Any:
    """Export ``model`` as a checked ``onnx.ModelProto`` (explicit pads, shapes in value_info) for ``target``
    (``portable``, the default, runs in every runtime; or ``onnxruntime``, ``openvino``, ``opencv``, ``torch``)."""
    from .formats.onnx import to_onnx as _to_onnx

    return _to_onnx(model, opset, target=target)


def to_caffe(model: Model, *, dialect: str = "bvlc", with_weights: bool = True) -> Any:
    """Export ``model`` as a Caffe net (``.net`` NetParameter, ``.weights`` with the blobs), exactly or not at all.

    ``dialect="pspnet"`` may also use the fork's ``Interp`` layer; ``"pspnet"`` / ``"segnet"`` write a batch norm
    read from that fork's ``BN`` back as that ``BN`` (``"bvlc"``: BatchNorm + Scale).  ``save(model, "x.prototxt")``
    writes both files.
    """
    from .errors import FormatError
    from .formats.caffe import to_caffe as _to_caffe
    from .ir import Model

    if not isinstance(model, Model):
        raise FormatError(f"to_caffe exports a convertkit Model, got {type(model).__name__}")
    return _to_caffe(model, dialect=dialect, with_weights=with_weights)  # type: ignore[arg-type]


def run(
    model: Model,
    inputs: Mapping[str, np.ndarray] | None = None,
    *,
    backend: Literal["reference", "onnxruntime"] = "reference",
    seed: int = 0,
    opset: int | None = None,
) -> dict[str, np.ndarray]:
    """Run ``model`` on the NumPy reference or on onnxruntime (after ONNX export).

    Without ``inputs``, seeded standard-normal inputs of the declared shapes are used.
    """
    from .check import random_inputs
    from .errors import ValidationError
    from .reference.interpreter import check_inputs, run_model

    feeds = check_inputs(model, random_inputs(model, seed) if inputs is None else inputs)
    if backend == "reference":
        return run_model(model, feeds)
    if backend == "onnxruntime":
        from .runtime import run_onnx

        return run_onnx(to_onnx(model, opset), feeds)
    raise ValidationError(f"backend must be 'reference' or 'onnxruntime', got {backend!r}")


def check(
    model: Model,
    inputs: Mapping[str, np.ndarray] | None = None,
    *,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    seed: int = 0,
    opset: int | None = None,
    target: str = "portable",
) -> CheckReport:
    """Export to ONNX for ``target``, run onnxruntime and the reference on the same inputs, and compare every
    output; a :class:`PortabilityWarning` names each known defect of ``target``'s runtimes the export hits."""
    from .check import check_model

    return check_model(model, inputs, atol=atol, rtol=rtol, seed=seed, opset=opset, target=target)


_sys.modules[__name__].__class__ = _Package
