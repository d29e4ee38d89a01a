"""File formats, chosen by suffix: spec (.json/.yaml/.yml) and ONNX (.onnx)."""

from __future__ import annotations

import os
from typing import Any

from ..errors import FormatError
from ..ir import Model

__all__ = ["load_model", "save_model", "suffix_of", "MODEL_SUFFIXES", "OUTPUT_SUFFIXES"]

MODEL_SUFFIXES = (".json", ".yaml", ".yml", ".onnx", ".prototxt")
OUTPUT_SUFFIXES = (".json", ".yaml", ".yml", ".onnx", ".prototxt")


def suffix_of(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def load_model(path: str, **options: Any) -> Model:
    """Read ``path`` into a checked :class:`Model`, by suffix."""
    suffix = suffix_of(path)
    if suffix in (".json", ".yaml", ".yml"):
        from .spec import load_spec

        return load_spec(path)
    if suffix == ".onnx":
        from .onnx_import import load_onnx

        return load_onnx(path, input_shapes=options.get("input_shapes"), constants=options.get("constants"))
    if suffix == ".prototxt":
        from .caffe import load_caffe

        caffe_options = ("weights", "input_shapes", "fill_missing", "seed", "compact", "warn")
        return load_caffe(path, **{k: v for k, v in options.items() if k in caffe_options and v is not None})
    raise FormatError(
        f"{path!r}: cannot read {suffix or 'suffix-less'} files; convertkit reads {', '.join(MODEL_SUFFIXES)}"
    )


def save_model(model: Model, path: str, *, opset: int | None = None, **options: Any) -> None:
    """Write ``model`` to ``path``, by suffix."""
    suffix = suffix_of(path)
    if suffix in (".json", ".yaml", ".yml"):
        from .spec import save_spec

        save_spec(model, path)
    elif suffix == ".onnx":
        from .onnx import save_onnx

        save_onnx(model, path, opset)
    elif suffix == ".prototxt":
        from .caffe import save_caffe

        caffe_options = ("with_weights", "dialect", "warn")
        save_caffe(model, path, **{k: v for k, v in options.items() if k in caffe_options and v is not None})
    else:
        raise FormatError(
            f"{path!r}: cannot write {suffix or 'suffix-less'} files; convertkit writes {', '.join(OUTPUT_SUFFIXES)}"
        )
