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

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from . import errors as _errors
from . import layers as _layers
from .check import CheckReport, OutputReport
from .codec.caffe import CaffeWarning
from .codec.onnx import OnnxImportWarning

# re-exported: __all__ below lists them through the modules' own __all__
from .errors import (  # noqa: F401
    CheckFailed,
    ConvertkitError,
    FormatError,
    SpecError,
    UnsupportedError,
    ValidationError,
)
from .fillers import Filler, Values, bilinear_kernel
from .ir import LAYER_KINDS, Layer, Model, TensorType
from .layers import (  # noqa: F401
    LRN,
    Activation,
    BatchNorm,
    Bias,
    BlobTraining,
    Concat,
    Convolution,
    Crop,
    Deconvolution,
    Eltwise,
    Exp,
    Flatten,
    Geometry,
    Identity,
    InnerProduct,
    Input,
    InterpForm,
    Log,
    Pad,
    Padding,
    Pooling,
    Power,
    PReLU,
    Reshape,
    Scale,
    Slice,
    Softmax,
    Tile,
    Transpose,
    Upsample,
)

__version__ = "0.1.0"

__all__ = [
    # model building: the IR, every layer kind and its parts (convertkit.layers.__all__), weights
    "Model",
    "TensorType",
    "Layer",
    "LAYER_KINDS",
    *(name for name in _layers.__all__),
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
    *(name for name in _errors.__all__),
    "OnnxImportWarning",
    "CaffeWarning",
]


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
    (stock layers) or ``"pspnet"`` (also the fork's ``Interp``).  Options that do not apply to the suffix raise
    :class:`FormatError`.
    """
    from .formats import save_model

    save_model(model, path, opset=opset, **options)


def to_onnx(model: Model, opset: int | None = None) -> Any:
    """Export ``model`` as a checked ``onnx.ModelProto`` (explicit pads, shapes in value_info)."""
    from .formats.onnx import to_onnx as _to_onnx

    return _to_onnx(model, opset)


def to_caffe(model: Model, *, dialect: str = "bvlc", with_weights: bool = True) -> Any:
    """Export ``model`` as a Caffe net (``.net`` NetParameter, ``.weights`` with the blobs), exactly or not at all.

    ``dialect="pspnet"`` may also use the fork's ``Interp`` layer.  ``save(model, "x.prototxt")`` writes both files.
    """
    from .formats.caffe import to_caffe as _to_caffe

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
) -> CheckReport:
    """Export to ONNX, run onnxruntime and the reference on the same inputs, and compare every output."""
    from .check import check_model

    return check_model(model, inputs, atol=atol, rtol=rtol, seed=seed, opset=opset)
