"""The exception tree of convertkit.

Every error a user can cause is a :class:`ConvertkitError`; the CLI prints its message on one line and exits 2.
Messages say the layer, the rule, the values and, where there is one, the way out.
"""

from __future__ import annotations

__all__ = [
    "ConvertkitError",
    "SpecError",
    "ValidationError",
    "UnsupportedError",
    "FormatError",
    "CheckFailed",
    "MemoryBudgetError",
]


class ConvertkitError(Exception):
    """Base class of every error convertkit raises on purpose."""


class SpecError(ConvertkitError):
    """A spec file does not follow the schema (the message carries the JSON path)."""


class ValidationError(ConvertkitError):
    """A layer breaks a rule of its kind (group divides channels, output_padding < stride, ...)."""


class UnsupportedError(ConvertkitError):
    """A valid layer that the requested target cannot express exactly."""


class FormatError(ConvertkitError):
    """A model file (ONNX, Caffe, npy) cannot be read or written."""


class CheckFailed(ConvertkitError):
    """A numeric comparison between two backends failed."""


class MemoryBudgetError(ConvertkitError):
    """The tensors a step needs exceed the memory budget (:mod:`convertkit.budget`)."""


def layer_error(cls: type[ConvertkitError], layer: str, message: str) -> ConvertkitError:
    """Build ``cls`` with the conventional ``layer 'NAME': ...`` prefix."""
    return cls(f"layer {layer!r}: {message}")


# ----------------------------------------------------------------------------------------------------------------
# Warnings (defined here, with no dependencies, so that the command line can filter them without importing the
# codecs; re-exported by convertkit.codec.caffe, convertkit.codec.onnx and convertkit.budget)
# ----------------------------------------------------------------------------------------------------------------


class CaffeWarning(UserWarning):
    """Something the user should know about a Caffe conversion (zero-filled layers, weights left out...)."""


class OnnxImportWarning(UserWarning):
    """An exact conversion that follows onnxruntime where the ONNX text, its shape inference or runtimes differ."""


class MemoryBudgetWarning(UserWarning):
    """A converted model's declared shapes need more memory to run than the budget allows here."""
