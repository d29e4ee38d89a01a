"""The spec format (JSON or YAML): load with schema validation, save, and the JSON Schema itself.

The schema is generated from the layer kinds (:func:`json_schema`); ``schemas/convertkit.schema.json`` is that
output, and a test keeps the two identical.  Each spec error is reported with its JSON path
(``$.layers[1].strides[0]: -1 is less than the minimum of 1``).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from typing import Any

from ..codec.files import read_text, write_atomically
from ..errors import ConvertkitError, FormatError, SpecError
from ..ir import LAYER_KINDS, Layer, Meta, Model

__all__ = ["SPEC_VERSION", "SPEC_SUFFIXES", "json_schema", "load_spec", "save_spec", "model_from_spec", "model_to_spec"]

SPEC_VERSION = 1
SPEC_SUFFIXES = (".json", ".yaml", ".yml")
SCHEMA_ID = "https://convertkit.invalid/schemas/convertkit.schema.json"


#: ``meta`` in a spec: provenance entries that are plain data (the ones a kind owns, such as Caffe training
#: parameters, are written under the kind's own keys instead).
META_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [
            {"type": ["string", "number", "boolean", "null"]},
            {"type": "array", "items": {"type": ["string", "number", "boolean", "null"]}},
        ]
    },
}
_PLAIN = (str, int, float, bool, type(None))


def _plain(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(isinstance(v, _PLAIN) for v in value)
    return isinstance(value, _PLAIN)


def _meta_to_spec(layer: Layer) -> dict[str, Any]:
    """The layer's plain-data provenance not already in its own spec keys."""
    owned = type(layer).spec_meta_keys
    return {k: list(v) if isinstance(v, tuple) else v for k, v in layer.meta.items() if k not in owned and _plain(v)}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a spec, built from every registered layer kind's ``spec_schema``."""
    from .. import layers  # noqa: F401  (registers the kinds)

    return _document_schema({kind: _kind_schema(kind) for kind in sorted(LAYER_KINDS)})


def _kind_schema(kind: str) -> dict[str, Any]:
    schema = LAYER_KINDS[kind].spec_schema()
    schema["properties"]["meta"] = META_SCHEMA
    return schema


def _document_schema(defined: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The spec schema with the definitions (and the ``type`` dispatch) of the kinds in ``defined`` only; every
    registered kind's name is still a valid ``type``.  With every kind defined it is :func:`json_schema`."""
    kinds = sorted(LAYER_KINDS)
    defs: dict[str, Any] = {
        "nested_numbers": {
            "oneOf": [
                {"type": "number"},
                {"type": "array", "items": {"$ref": "#/$defs/nested_numbers"}, "minItems": 1},
            ]
        }
    }
    dispatch = []
    for kind in sorted(defined):
        defs[kind] = defined[kind]
        dispatch.append(
            {
                "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
                "then": {"$ref": f"#/$defs/{kind}"},
            }
        )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "convertkit model spec",
        "type": "object",
        "properties": {
            "version": {"const": SPEC_VERSION},
            "name": {"type": "string", "minLength": 1},
            "layers": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {"type": {"enum": kinds}},
                    "required": ["type"],
                    "allOf": dispatch,
                },
            },
            "outputs": {"type": "array", "items": {"type": "string", "minLength": 1}},
        },
        "required": ["layers"],
        "additionalProperties": False,
        "$defs": defs,
    }


def _json_path(path: Any) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


#: Inline ``values`` lists with more numbers than this are checked by :func:`_nested_numbers` instead of the
#: JSON-schema validator (which took 128 s on the 1.8 M values of FCN-32s's upscore).
_LONG_VALUES = 256


def _nested_numbers(value: Any) -> bool:
    """Whether ``value`` is what the schema's ``nested_numbers`` accepts: a number (not a boolean) or a non-empty
    list of nested numbers.  One pass per nesting level over plain lists."""
    level = [value]
    while level:
        deeper = []
        for item in level:
            kind = type(item)
            if kind is list:
                if not item:
                    return False
                deeper.extend(item)
            elif kind is not int and kind is not float:
                return False
        level = deeper
    return True


def _count_at_least(value: Any, count: int) -> bool:
    """Whether a nested list holds at least ``count`` items on its first levels (cheap: stops once it does)."""
    level, seen = [value], 0
    while level and seen < count:
        level = [v for item in level if isinstance(item, list) for v in item]
        seen = max(seen, len(level))
    return seen >= count


def _without_long_values(data: Any) -> Any:
    """``data`` with every long, well-formed inline ``values`` list replaced by ``[0]`` for the schema validator.

    A long list that is not well-formed is left in place, for the validator to report with its JSON path.  Only
    the containers on the way to a replaced list are copied.
    """
    if isinstance(data, dict):
        values = data.get("values")
        if set(data) == {"values"} and isinstance(values, list) and _count_at_least(values, _LONG_VALUES):
            return {"values": [0]} if _nested_numbers(data["values"]) else data
        changed = {k: _without_long_values(v) for k, v in data.items()}
        return changed if any(changed[k] is not data[k] for k in data) else data
    if isinstance(data, list):
        items = [_without_long_values(v) for v in data]
        return items if any(a is not b for a, b in zip(items, data, strict=True)) else data
    return data


#: Compiled yes/no checks (:mod:`.schema_check`) by (registered kinds, kinds a spec names); None: the schema uses
#: a keyword the checker does not implement, and jsonschema checks every spec.
_FAST_CHECKS: dict[tuple[Any, ...], Callable[[Any], bool] | None] = {}


def _fast_valid(data: Any) -> bool:
    """Whether the compiled check accepts ``data`` (False: jsonschema decides).

    The check is compiled from the schema restricted to the kinds ``data`` names (:func:`_document_schema`), which
    gives every instance naming only those kinds the full schema's answer: a layer's ``type`` dispatch reaches only
    its own kind's definition, and any other ``type`` fails the enum of every kind's name either way.  So a small
    spec builds the schemas of its own kinds only.
    """
    from .. import layers  # noqa: F401  (registers the kinds)

    items = data.get("layers") if isinstance(data, dict) else None
    named = [i.get("type") for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    present = tuple(sorted({k for k in named if isinstance(k, str) and k in LAYER_KINDS}))
    key = (tuple(LAYER_KINDS.items()), present)
    if key not in _FAST_CHECKS:
        from .schema_check import Unsupported, compile_schema

        try:
            _FAST_CHECKS[key] = compile_schema(_document_schema({k: _kind_schema(k) for k in present}))
        except Unsupported:
            _FAST_CHECKS[key] = None
    check = _FAST_CHECKS[key]
    try:
        return check is not None and check(data)
    except RecursionError:
        return False  # jsonschema decides (and reports the depth as it does)


def validate_spec(data: Any, source: str = "spec") -> None:
    """Raise :class:`SpecError` listing every schema violation with its JSON path.

    A spec the compiled check (:mod:`.schema_check`) accepts is valid without importing jsonschema; any other is
    validated by jsonschema, whose errors are the ones reported (the compiled check only ever says yes or no).
    """
    checked = _without_long_values(data)
    if _fast_valid(checked):
        return
    import jsonschema

    validator = jsonschema.Draft202012Validator(json_schema())
    found = validator.iter_errors(checked)
    errors = sorted(found, key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if not errors:
        return
    leaves: list[str] = []
    for err in errors:
        # A failed oneOf/if-then says little; its most specific sub-error says what is wrong.
        best = jsonschema.exceptions.best_match([err]) if err.context else err
        line = f"{_json_path(best.absolute_path)}: {best.message}"
        if line not in leaves:
            leaves.append(line)
    if len(leaves) == 1:
        raise SpecError(f"{source}: {leaves[0]}")
    raise SpecError(f"{source}: {len(leaves)} schema errors: " + "; ".join(leaves))


def _read(path: str) -> Any:
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SPEC_SUFFIXES:
        raise FormatError(f"{path!r}: a spec file ends in {', '.join(SPEC_SUFFIXES)}")
    text = read_text(
        path, lambda exc: SpecError(f"{path}: not a UTF-8 text file (byte {exc.start}); a spec is JSON or YAML text")
    )
    if suffix == ".json":
        try:
            return json.loads(text)
        except RecursionError as exc:
            raise SpecError(f"{path}: nested too deeply to read") from exc
        except json.JSONDecodeError as exc:
            raise SpecError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        context = getattr(exc, "context", None)
        raise SpecError(f"{path}: invalid YAML{where}: {problem}" + (f" ({context})" if context else "")) from exc


def model_from_spec(data: Any, base_dir: str = ".", source: str = "spec") -> Model:
    """Validate ``data`` against the schema and build the checked :class:`Model`."""
    from .. import layers  # noqa: F401  (registers the kinds)

    try:
        validate_spec(data, source)
    except RecursionError as exc:
        raise SpecError(f"{source}: nested too deeply to validate (a values array of very high rank?)") from exc
    built = []
    for i, spec in enumerate(data["layers"]):
        cls = LAYER_KINDS[spec["type"]]
        try:
            given = {k: v for k, v in spec.items() if k != "meta"}
            layer = cls.from_spec(given, base_dir)
            if spec.get("meta"):
                extra = {k: tuple(v) if isinstance(v, list) else v for k, v in spec["meta"].items()}
                layer = dataclasses.replace(layer, meta=Meta({**layer.meta, **extra}))
            built.append(layer)
        except ConvertkitError as exc:
            raise type(exc)(f"{source}: $.layers[{i}]: {exc}") from exc
    try:
        return Model(built, data.get("outputs"), data.get("name", "convertkit"))
    except ConvertkitError as exc:
        raise type(exc)(f"{source}: {exc}") from exc


def load_spec(path: str) -> Model:
    """Load a ``.json`` / ``.yaml`` / ``.yml`` spec; ``.npy`` paths in it are relative to the file."""
    return model_from_spec(_read(path), os.path.dirname(os.path.abspath(path)), source=path)


def model_to_spec(model: Model) -> dict[str, Any]:
    """The spec dict of ``model`` (valid against :func:`json_schema`)."""
    out: dict[str, Any] = {"version": SPEC_VERSION, "name": model.name}
    out["layers"] = []
    for layer in model.layers:
        spec = layer.to_spec()
        meta = _meta_to_spec(layer)
        if meta:
            spec["meta"] = meta
        out["layers"].append(spec)
    out["outputs"] = list(model.outputs)
    return out


def _relative_npy_paths(data: Any, base_dir: str, copies: dict[str, bytes]) -> Any:
    """``{"npy": ABSOLUTE}`` weight references rewritten relative to the directory the spec is saved in.

    A spec reads .npy files from its own folder only, so one outside it is copied beside the spec (``copies``:
    destination -> bytes, written with the spec).
    """
    if isinstance(data, dict):
        if set(data) == {"npy"} and os.path.isabs(data["npy"]):
            source = data["npy"]
            rel = os.path.relpath(source, base_dir)
            if rel == os.pardir or rel.startswith(os.pardir + os.sep):
                stem, ext = os.path.splitext(os.path.basename(source))
                rel, n = stem + ext, 1
                while os.path.join(base_dir, rel) in copies or os.path.exists(os.path.join(base_dir, rel)):
                    existing = copies.get(os.path.join(base_dir, rel))
                    if existing is not None and existing == _read_bytes(source):
                        break
                    rel, n = f"{stem}-{n}{ext}", n + 1
                copies[os.path.join(base_dir, rel)] = _read_bytes(source)
            return {"npy": rel}
        return {k: _relative_npy_paths(v, base_dir, copies) for k, v in data.items()}
    if isinstance(data, list):
        return [_relative_npy_paths(v, base_dir, copies) for v in data]
    return data


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise FormatError(f"cannot copy weights {path!r} beside the spec: {exc.strerror or exc}") from exc


class _PendingNpy:
    """A large weight array on its way to a ``.npy`` file beside the spec; named once the spec dict exists."""

    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text) or "weights"


def _name_pending(data: Any, stem: str, base_dir: str, copies: dict[str, bytes]) -> Any:
    """Every pending array becomes ``{"npy": "STEM.LAYER.FIELD.npy"}`` with its bytes in ``copies``."""
    import io

    import numpy as np

    def visit(node: Any, where: list[str]) -> Any:
        if isinstance(node, dict):
            if set(node) == {"npy"} and isinstance(node["npy"], _PendingNpy):
                array = node["npy"].array
                if array.dtype not in (np.float32, np.float64):
                    array = array.astype(np.float64)  # as inline values read back (exact for these integers)
                name, n = f"{stem}.{'.'.join(_safe_name(w) for w in where)}.npy", 1
                while os.path.join(base_dir, name) in copies:
                    name, n = f"{stem}.{'.'.join(_safe_name(w) for w in where)}-{n}.npy", n + 1
                buffer = io.BytesIO()
                np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
                copies[os.path.join(base_dir, name)] = buffer.getvalue()
                return {"npy": name}
            return {k: visit(v, [*where, str(k)]) for k, v in node.items()}
        if isinstance(node, list):
            return [visit(v, [*where, str(i)]) for i, v in enumerate(node)]
        return node

    layers = [visit(spec, [str(spec.get("name", i))]) for i, spec in enumerate(data["layers"])]
    return {**data, "layers": layers}


def save_spec(model: Model, path: str, *, inline_max: int | None = None) -> None:
    """Write ``model`` as JSON or YAML (by suffix); .npy weights from outside the spec's folder are copied in.

    Weights of more than ``inline_max`` values (default :data:`convertkit.fillers.INLINE_VALUES_MAX`, 64) are
    written to ``.npy`` files beside the spec (``STEM.LAYER.FIELD.npy``), all files atomically together; a
    negative ``inline_max`` writes every value inline.
    """
    from .. import fillers

    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SPEC_SUFFIXES:
        raise FormatError(f"{path!r}: a spec file ends in {', '.join(SPEC_SUFFIXES)}")
    base_dir = os.path.dirname(os.path.abspath(path))
    limit = fillers.INLINE_VALUES_MAX if inline_max is None else inline_max
    copies: dict[str, bytes] = {}

    def sink(array: Any) -> _PendingNpy | None:
        return _PendingNpy(array) if array.size > limit else None

    token = fillers.LARGE_VALUES_SINK.set(None if limit < 0 else sink)
    try:
        data = model_to_spec(model)
    finally:
        fillers.LARGE_VALUES_SINK.reset(token)
    data = _name_pending(data, os.path.splitext(os.path.basename(path))[0], base_dir, copies)
    data = _relative_npy_paths(data, base_dir, copies)
    if suffix == ".json":
        text = json.dumps(data, indent=2) + "\n"
    else:
        import yaml

        text = yaml.safe_dump(data, sort_keys=False)
    write_atomically({path: text, **copies})
