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


def save_spec(model: Model, path: str) -> None:
    """Write ``model`` as JSON or YAML (by suffix); .npy weights from outside the spec's folder are copied in."""
    copies: dict[str, bytes] = {}
    data = _relative_npy_paths(model_to_spec(model), os.path.dirname(os.path.abspath(path)), copies)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SPEC_SUFFIXES:
        raise FormatError(f"{path!r}: a spec file ends in {', '.join(SPEC_SUFFIXES)}")
    if suffix == ".json":
        text = json.dumps(data, indent=2) + "\n"
    else:
        import yaml

        text = yaml.safe_dump(data, sort_keys=False)
    write_atomically({path: text, **copies})
