"""A yes/no JSON Schema check, compiled once, for the keywords the spec schema uses: the fast path of validation.

``jsonschema`` says precisely what is wrong with a spec (JSON path, the most specific sub-error), but importing it
(its format checkers, ``referencing``, ``rpds``, ``attrs``) costs more than the rest of ``convertkit validate`` of a
small spec.  :func:`compile_schema` turns the schema into nested closures that only answer "valid?"; the spec
reader runs jsonschema only when they answer no, so every error message is jsonschema's own, and a valid spec is
accepted without importing it.

The closures follow jsonschema's Draft 2020-12 validator keyword by keyword (``jsonschema/_keywords.py``,
``_types.py``: ``integer`` is an int or an integral float, never a bool; ``number`` is not a bool; ``enum`` and
``const`` compare with ``jsonschema._utils.equal``, where ``1 != True``).  A schema with any other keyword is not
compiled (:class:`Unsupported`, and the reader keeps running jsonschema on every spec); tests/test_schema_check.py
compares the two answers on mutated specs.  Answering no where jsonschema says yes only costs time (jsonschema
then finds nothing); answering yes where jsonschema says no would accept a bad spec, which the test guards.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["Unsupported", "compile_schema"]

Check = Callable[[Any], bool]

#: Keywords that never reject an instance (annotations, and ``$defs``, reached only through ``$ref``).
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples", "deprecated"}
)
#: Keywords whose meaning depends on a sibling (compiled with it).
_SIBLINGS = frozenset({"then", "else"})


class Unsupported(Exception):
    """The schema uses a keyword (or a form of one) this checker does not implement."""


def _is_type(instance: Any, name: str) -> bool:
    # jsonschema's draft202012_type_checker
    if name == "object":
        return isinstance(instance, dict)
    if name == "array":
        return isinstance(instance, list)
    if name == "string":
        return isinstance(instance, str)
    if name == "integer":
        if isinstance(instance, bool):
            return False
        return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())
    if name == "number":
        return not isinstance(instance, bool) and isinstance(instance, numbers.Number)
    if name == "boolean":
        return isinstance(instance, bool)
    if name == "null":
        return instance is None
    raise Unsupported(f"type {name!r}")


_TRUE, _FALSE = object(), object()


def _unbool(value: Any) -> Any:
    return _TRUE if value is True else _FALSE if value is False else value


def _equal(one: Any, two: Any) -> bool:
    """jsonschema's ``_utils.equal``: ``==`` that keeps booleans apart from numbers, also inside containers."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(k in two and _equal(v, two[k]) for k, v in one.items())
    return bool(_unbool(one) == _unbool(two))


def compile_schema(root: Mapping[str, Any]) -> Check:
    """A function answering whether an instance is valid under ``root`` (raises :class:`Unsupported`)."""
    refs: dict[str, Check] = {}

    def ref(pointer: str) -> Check:
        if pointer not in refs:
            parts = pointer.split("/")
            if len(parts) != 3 or parts[:2] != ["#", "$defs"] or parts[2] not in root.get("$defs", {}):
                raise Unsupported(f"$ref {pointer!r}")
            refs[pointer] = _never  # a placeholder while compiling a recursive definition
            compiled = build(root["$defs"][parts[2]])
            refs[pointer] = compiled
        slot = pointer
        return lambda x: refs[slot](x)

    def build(schema: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise Unsupported(f"schema {schema!r}")
        checks: list[Check] = []
        for key, value in schema.items():
            if key in _ANNOTATIONS or key in _SIBLINGS:
                continue
            checks.append(keyword(key, value, schema))
        if not checks:
            return _always
        if len(checks) == 1:
            return checks[0]
        return lambda x: all(c(x) for c in checks)

    def keyword(key: str, value: Any, schema: dict[str, Any]) -> Check:
        if key == "type":
            names = [value] if isinstance(value, str) else list(value)
            for n in names:
                _is_type(None, n)  # refuses an unknown type name now
            return lambda x: any(_is_type(x, n) for n in names)
        if key == "const":
            return lambda x: _equal(x, value)
        if key == "enum":
            options = list(value)
            return lambda x: any(_equal(o, x) for o in options)
        if key in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
            bound = value
            compare: Callable[[Any], bool] = {
                "minimum": lambda x: not x < bound,
                "exclusiveMinimum": lambda x: not x <= bound,
                "maximum": lambda x: not x > bound,
                "exclusiveMaximum": lambda x: not x >= bound,
            }[key]
            return lambda x: not _is_type(x, "number") or compare(x)
        if key == "minLength":
            return lambda x: not isinstance(x, str) or len(x) >= value
        if key == "maxLength":
            return lambda x: not isinstance(x, str) or len(x) <= value
        if key == "minItems":
            return lambda x: not isinstance(x, list) or len(x) >= value
        if key == "maxItems":
            return lambda x: not isinstance(x, list) or len(x) <= value
        if key == "items":
            if "prefixItems" in schema:
                raise Unsupported("prefixItems")
            item = build(value)
            return lambda x: not isinstance(x, list) or all(item(v) for v in x)
        if key == "required":
            names = list(value)
            return lambda x: not isinstance(x, dict) or all(n in x for n in names)
        if key == "properties":
            props = {name: build(sub) for name, sub in value.items()}
            return lambda x: not isinstance(x, dict) or all(c(x[n]) for n, c in props.items() if n in x)
        if key == "additionalProperties":
            if "patternProperties" in schema:
                raise Unsupported("patternProperties")
            known = set(schema.get("properties", {}))
            extra = build(value)
            return lambda x: not isinstance(x, dict) or all(extra(x[k]) for k in x if k not in known)
        if key == "allOf":
            subs = [build(s) for s in value]
            return lambda x: all(c(x) for c in subs)
        if key == "anyOf":
            subs = [build(s) for s in value]
            return lambda x: any(c(x) for c in subs)
        if key == "oneOf":
            subs = [build(s) for s in value]
            return lambda x: sum(1 for c in subs if c(x)) == 1
        if key == "not":
            sub = build(value)
            return lambda x: not sub(x)
        if key == "if":
            condition = build(value)
            then = build(schema.get("then", True))
            otherwise = build(schema.get("else", True))
            return lambda x: then(x) if condition(x) else otherwise(x)
        if key == "$ref":
            return ref(value)
        raise Unsupported(f"keyword {key!r}")

    return build(dict(root))


def _always(instance: Any) -> bool:
    return True


def _never(instance: Any) -> bool:
    return False
