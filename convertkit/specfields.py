"""A kind's spec form and JSON Schema, derived from its dataclass fields.

Every field of a layer kind (but ``meta``, which the spec writes generically) is a spec key of the same name:

- written when it differs from its default (``output`` when it differs from the layer's name), tuples as lists,
  weight sources as ``{"filler": ...}`` / ``{"values": ...}`` / ``{"npy": ...}``, nested values through their own
  ``to_spec``;
- read back by its type (lists to tuples, weight sources, nested ``from_spec``); a tuple field with
  ``metadata["per_axis_default"]`` is left out when every axis has that value;
- described by its type in the schema: ``str`` a non-empty name, ``int`` / ``float`` / ``bool``, ``tuple[...]`` an
  array of them, ``Literal[...]`` an enum, a weight source, a nested ``spec_schema``; ``X | None`` as ``X``.  A
  field's ``metadata["schema"]`` replaces or refines that (``{"minimum": 1}`` on an int array constrains its items;
  ``{"enum": [...]}`` on a str).  Fields without a default are required.

A kind with a field that needs another form overrides ``to_spec`` / ``from_spec`` / ``spec_schema`` itself.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from typing import Any, Literal, Union

from .fillers import Filler, Values, weight_source_from_spec, weight_source_schema, weight_source_to_spec

__all__ = ["spec_of", "from_fields", "schema_of", "NAME_SCHEMA", "layer_schema", "int_array_schema"]

NAME_SCHEMA: dict = {"type": "string", "minLength": 1}
_SKIPPED = ("name", "meta")


def int_array_schema(minimum: int, min_items: int = 1) -> dict:
    return {"type": "array", "items": {"type": "integer", "minimum": minimum}, "minItems": min_items}


def layer_schema(kind: str, properties: dict, required: list[str], **extra: Any) -> dict:
    """JSON Schema of one layer kind's spec dict: ``type`` and ``name`` plus the kind's own ``properties``.

    ``input``/``output`` properties given as ``True`` mean a value name (a non-empty string).
    """
    props: dict[str, Any] = {"type": {"const": kind}, "name": NAME_SCHEMA}
    for key, schema in properties.items():
        props[key] = NAME_SCHEMA if schema is True else schema
    return {
        "type": "object",
        "properties": props,
        "required": ["type", "name", *required],
        **extra,
        "additionalProperties": False,
    }


def _fields(cls: type) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(cls) if f.name not in _SKIPPED]


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _plain(value: Any) -> Any:
    if isinstance(value, (Filler, Values)):
        return weight_source_to_spec(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "to_spec"):
        return value.to_spec()
    return value


def spec_of(layer: Any) -> dict[str, Any]:
    """The spec dict of ``layer``: ``type``, ``name`` and every field that differs from its default."""
    out: dict[str, Any] = {"type": layer.kind, "name": layer.name}
    for f in _fields(type(layer)):
        value = getattr(layer, f.name)
        default = layer.name if f.name == "output" else _default(f)
        same_sign = (
            not isinstance(value, float)
            or not isinstance(default, (int, float))
            or math.copysign(1.0, value) == math.copysign(1.0, float(default))
        )
        if value is None or (default is not dataclasses.MISSING and value == default and same_sign):
            continue
        per_axis = f.metadata.get("per_axis_default")
        if per_axis is not None and isinstance(value, tuple) and all(v == per_axis for v in value):
            continue
        if isinstance(value, tuple) and not value and default is not dataclasses.MISSING:
            continue
        out[f.name] = _plain(value)
    return out


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    # Evaluating the string annotations is most of building the schema or reading a spec; a class's hints are fixed.
    return typing.get_type_hints(cls)


def _strip_none(hint: Any) -> Any:
    if typing.get_origin(hint) in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if set(args) == {Filler, Values}:
            return hint
        if len(args) == 1:
            return args[0]
    return hint


def _is_weight_source(hint: Any) -> bool:
    return typing.get_origin(hint) in (Union, types.UnionType) and set(typing.get_args(hint)) >= {Filler, Values}


def _value_from_spec(hint: Any, value: Any, base_dir: str) -> Any:
    hint = _strip_none(hint)
    if _is_weight_source(hint):
        return weight_source_from_spec(value, base_dir)
    if typing.get_origin(hint) is tuple:
        (item,) = typing.get_args(hint)[:1]
        return tuple(_value_from_spec(item, v, base_dir) for v in value)
    if isinstance(hint, type) and hasattr(hint, "from_spec"):
        return hint.from_spec(value)
    return value


def from_fields(cls: type, spec: dict[str, Any], base_dir: str, **extra: Any) -> Any:
    """Build ``cls`` from a schema-valid spec dict (keys absent keep the field defaults); ``extra`` are keyword
    arguments the kind computed from keys of its own."""
    hints = _hints(cls)
    kwargs: dict[str, Any] = {"name": spec["name"], **extra}
    for f in _fields(cls):
        if f.name in spec and f.name not in extra:
            kwargs[f.name] = _value_from_spec(hints[f.name], spec[f.name], base_dir)
    return cls(**kwargs)


def _schema_for(hint: Any) -> dict[str, Any]:
    hint = _strip_none(hint)
    if _is_weight_source(hint):
        return weight_source_schema()
    if hint is str:
        return dict(NAME_SCHEMA)
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return {"type": "number"}
    if typing.get_origin(hint) is Literal:
        return {"enum": list(typing.get_args(hint))}
    if typing.get_origin(hint) is tuple:
        return {"type": "array", "items": _schema_for(typing.get_args(hint)[0]), "minItems": 1}
    if isinstance(hint, type) and hasattr(hint, "spec_schema"):
        return hint.spec_schema()
    raise TypeError(f"no spec schema for a field of type {hint!r}: give it metadata['schema']")


def _refine(schema: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with ``extra``: keys of an array's items go to its items (``minimum``), the rest on the field."""
    out = dict(schema)
    for key, value in extra.items():
        if out.get("type") == "array" and key in ("minimum", "maximum", "exclusiveMinimum", "enum"):
            out["items"] = {**out["items"], key: value}
        elif key == "enum":
            out = {"enum": value}  # the values say the type
        else:
            out[key] = value
    return out


def schema_of(cls: Any) -> dict[str, Any]:
    """The JSON Schema of ``cls``'s spec dict, from its fields (and ``cls.spec_schema_extra``)."""
    hints = _hints(cls)
    properties: dict[str, Any] = {}
    required = []
    for f in _fields(cls):
        given = f.metadata.get("schema")
        properties[f.name] = _refine(_schema_for(hints[f.name]), given) if given else _schema_for(hints[f.name])
        if _default(f) is dataclasses.MISSING:
            required.append(f.name)
    return layer_schema(cls.kind, properties, required, **getattr(cls, "spec_schema_extra", {}))
