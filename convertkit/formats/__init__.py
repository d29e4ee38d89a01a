"""File formats, chosen by suffix: spec (.json/.yaml/.yml), ONNX (.onnx), Caffe (.prototxt), Keras (.keras/.h5,
read only)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import FormatError
from ..ir import Model

__all__ = ["load_model", "save_model", "suffix_of", "MODEL_SUFFIXES", "OUTPUT_SUFFIXES"]

MODEL_SUFFIXES = (".json", ".yaml", ".yml", ".onnx", ".prototxt", ".keras", ".h5")
OUTPUT_SUFFIXES = (".json", ".yaml", ".yml", ".onnx", ".prototxt")


def suffix_of(path: str) -> str:
    return os.path.splitext(path)[1].lower()


_LOAD_OPTIONS = {
    ".json": (),
    ".yaml": (),
    ".yml": (),
    ".onnx": ("input_shapes", "constants", "inputs", "outputs", "keep_layout"),
    ".prototxt": ("weights", "input_shapes", "inputs", "outputs", "fill_missing", "seed", "compact", "warn", "dialect"),
    ".keras": ("input_shapes", "keep_layout"),
    ".h5": ("input_shapes", "keep_layout"),
}
_SAVE_OPTIONS = {
    ".json": ("inline_max",),
    ".yaml": ("inline_max",),
    ".yml": ("inline_max",),
    ".onnx": ("external_data", "target", "optimize"),
    ".prototxt": ("with_weights", "dialect", "warn"),
}


def _options_for(path: str, suffix: str, options: dict[str, Any], allowed: dict[str, tuple[str, ...]], verb: str):
    """Options that apply to ``suffix``; ``None`` means "not given"; anything else that does not apply is an error."""
    given = {k: v for k, v in options.items() if v is not None}
    wrong = sorted(set(given) - set(allowed.get(suffix, ())))
    if wrong:
        takes = ", ".join(allowed.get(suffix, ())) or "no options"
        raise FormatError(f"{path!r}: option(s) {', '.join(wrong)} do not apply to {verb} {suffix} files ({takes})")
    return given


def _checked_shapes(shapes: Any) -> dict[str, tuple[int, ...]]:
    """``input_shapes`` as ``{name: (positive ints...)}``, or a FormatError saying what is wrong."""
    from ..layers._fields import is_int

    if not isinstance(shapes, Mapping):
        raise FormatError(f"input_shapes must map input names to shapes, got {type(shapes).__name__}")
    out = {}
    for name, shape in shapes.items():
        if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence) or not shape:
            raise FormatError(f"input_shapes[{name!r}] must be a sequence of positive integers, got {shape!r}")
        if not all(is_int(d) and d > 0 for d in shape):
            raise FormatError(f"input_shapes[{name!r}] must be a sequence of positive integers, got {shape!r}")
        out[str(name)] = tuple(int(d) for d in shape)
    return out


def load_model(path: str, **options: Any) -> Model:
    """Read ``path`` into a checked :class:`Model`, by suffix."""
    suffix = suffix_of(path)
    given = _options_for(path, suffix, options, _LOAD_OPTIONS, "reading")
    if "input_shapes" in given:
        given["input_shapes"] = _checked_shapes(given["input_shapes"])
    if suffix in (".json", ".yaml", ".yml"):
        from .spec import load_spec

        return load_spec(path)
    if suffix == ".onnx":
        from ..errors import ConvertkitError
        from .onnx_import import load_onnx

        layout = given.pop("keep_layout", None)
        if layout not in (None, "nchw", "nhwc"):
            raise FormatError(f"keep_layout must be nchw or nhwc, got {layout!r}")
        try:
            model = load_onnx(path, **given)
            if layout == "nchw":
                # a tf2onnx graph's channels-last interface turned around (its boundary Transposes dropped)
                from ..passes.layout import channels_first_interface

                model = channels_first_interface(model)
            return model
        except ConvertkitError as exc:
            if path in str(exc):
                raise
            raise type(exc)(f"{path}: {exc}") from exc
    if suffix == ".prototxt":
        from .caffe import load_caffe

        return load_caffe(path, **given)
    if suffix in (".keras", ".h5"):
        from .keras import load_keras

        return load_keras(path, **given)
    raise FormatError(
        f"{path!r}: cannot read {suffix or 'suffix-less'} files; convertkit reads {', '.join(MODEL_SUFFIXES)}"
    )


def save_model(model: Model, path: str, *, opset: int | None = None, **options: Any) -> None:
    """Write ``model`` to ``path``, by suffix."""
    if not isinstance(model, Model):
        raise FormatError(f"save writes a convertkit Model, got {type(model).__name__}")
    suffix = suffix_of(path)
    given = _options_for(path, suffix, options, _SAVE_OPTIONS, "writing")
    if suffix in (".json", ".yaml", ".yml"):
        from .spec import save_spec

        save_spec(model, path, **given)
    elif suffix == ".onnx":
        from .onnx import save_onnx

        save_onnx(model, path, opset, **given)
    elif suffix == ".prototxt":
        from .caffe import save_caffe

        save_caffe(model, path, **given)
    else:
        raise FormatError(
            f"{path!r}: cannot write {suffix or 'suffix-less'} files; convertkit writes {', '.join(OUTPUT_SUFFIXES)}"
        )
