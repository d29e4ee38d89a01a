"""Keras facet of ``Activation``: ``Activation`` (relu, sigmoid, tanh, elu, linear), ``ReLU`` (with
``negative_slope``; ``max_value`` and ``threshold`` refused), ``LeakyReLU`` and ``ELU``, and the ``activation``
argument of the conv layers (:func:`after`)."""

from __future__ import annotations

from typing import Any

from ...codec.keras import KerasLayer
from ...ir import Layer
from ...registry import KerasFacet
from .core import Activation

CLASS_NAMES = ("Activation", "ReLU", "LeakyReLU", "ELU")
#: Keras activation name -> (function, alpha); ``linear`` is no layer.
NAMES: dict[str, tuple[str, float | None]] = {
    "relu": ("relu", None),
    "sigmoid": ("sigmoid", None),
    "tanh": ("tanh", None),
    "elu": ("elu", 1.0),
    "leaky_relu": ("relu", 0.2),  # keras.activations.leaky_relu's default negative_slope
}


def _name_of(value: Any) -> Any:
    # Keras 3 serialises a built-in activation as its name; older files may wrap it in a dict.
    if isinstance(value, dict):
        return value.get("config", value.get("class_name"))
    return value


def _function(layer: KerasLayer, act: str) -> tuple[str, float | None]:
    """The Activation ``function`` and ``alpha`` of Keras activation ``act``, or the error naming the supported."""
    if act not in NAMES:
        raise layer.error(f"activation {act!r} has no exact convertkit form (supported: linear, {', '.join(NAMES)})")
    return NAMES[act]


def after(layer: KerasLayer, name: str, value: str, output: str) -> list[Layer]:
    """The Activation that a layer's ``activation`` argument puts after it (nothing for linear/None).

    ``value`` is the producing layer's output; the activation writes ``output``.
    """
    act = _name_of(layer.get("activation"))
    if act in (None, "linear"):
        return []
    function, alpha = _function(layer, act)
    return [Activation(name=name, input=value, output=output, function=function, alpha=alpha)]


def activation_after(layer: KerasLayer) -> tuple[str, list[Layer]]:
    """For a layer with an ``activation`` argument: the value its own computation writes (the Keras output, or a
    fresh ``NAME.linear`` the Activation reads) and that Activation (none for linear)."""
    linear = layer.fresh(f"{layer.name}.linear")
    act = after(layer, layer.fresh(f"{layer.name}.activation"), linear, layer.output)
    return (linear if act else layer.output), act


def read(layer: KerasLayer) -> list[Layer]:
    x, _ = layer.only_input()
    if layer.class_name == "Activation":
        act = _name_of(layer.get("activation"))
        if act in (None, "linear"):
            raise layer.error("activation 'linear' is the identity; convertkit reads it as no layer")
        function, alpha = _function(layer, act)
    elif layer.class_name == "ReLU":
        layer.no_extra({"max_value": None, "threshold": 0.0})
        function, alpha = "relu", float(layer.get("negative_slope", 0.0) or 0.0)
    elif layer.class_name == "LeakyReLU":
        function, alpha = "relu", float(layer.get("negative_slope", layer.get("alpha", 0.3)))
    else:
        function, alpha = "elu", float(layer.get("alpha", 1.0))
    return [Activation(name=layer.name, input=x, output=layer.output, function=function, alpha=alpha or None)]


#: This kind's Keras facet, registered in the package's ``__init__``.
FACET: KerasFacet[Activation] = KerasFacet(class_names=CLASS_NAMES, read=read)
