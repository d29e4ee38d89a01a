"""The spec format (JSON or YAML): load with schema validation, save, and the JSON Schema itself.

The schema is generated from the layer kinds (:func:`json_schema`); ``schemas/convertkit.schema.json`` is that
output, and a test keeps the two identical.  Each spec error is reported with its JSON path
(``$.layers[1].strides[0]: -1 is less than the minimum of 1``).
"""

from __future__ import annotations

import dataclasses
import json
import os
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
    for kind in kinds:
        defs[kind] = LAYER_KINDS[kind].spec_schema()
        defs[kind]["properties"]["meta"] = META_SCHEMA
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


def validate_spec(data: Any, source: str = "spec") -> None:
    """Raise :class:`SpecError` listing every schema violation with its JSON path."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(json_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if not errors:
        return
    leaves: list[str] = []
    for err in errors:
        # A failed oneOf/if-then says little; its most specific sub-error says what is wrong.
        best = jsonschema.exceptions.best_match([err]) if err.context else err
        line = f"{_json_path(best.absolute_path)}: {best.message}"
        if line not in leaves:
            leaves.append(line)
    raise SpecError(f"{source}: {len(leaves)} schema error(s):\n  " + "\n  ".join(leaves))


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
        raise SpecError(f"{path}: invalid YAML: {exc}") from exc


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


def _relative_npy_paths(data: Any, base_dir: str) -> Any:
    """``{"npy": ABSOLUTE}`` weight references rewritten relative to the directory the spec is saved in."""
    if isinstance(data, dict):
        if set(data) == {"npy"} and os.path.isabs(data["npy"]):
            return {"npy": os.path.relpath(data["npy"], base_dir)}
        return {k: _relative_npy_paths(v, base_dir) for k, v in data.items()}
    if isinstance(data, list):
        return [_relative_npy_paths(v, base_dir) for v in data]
    return data


def save_spec(model: Model, path: str) -> None:
    """Write ``model`` as JSON or YAML (by suffix)."""
    data = _relative_npy_paths(model_to_spec(model), os.path.dirname(os.path.abspath(path)))
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SPEC_SUFFIXES:
        raise FormatError(f"{path!r}: a spec file ends in {', '.join(SPEC_SUFFIXES)}")
    if suffix == ".json":
        text = json.dumps(data, indent=2) + "\n"
    else:
        import yaml

        text = yaml.safe_dump(data, sort_keys=False)
    write_atomically({path: text})
