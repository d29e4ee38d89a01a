"""The compiled yes/no schema check (the fast path of spec validation) agrees with jsonschema.

Spec validation skips jsonschema when :mod:`convertkit.formats.schema_check` says a spec is valid, so that check
must never say yes where jsonschema says no.  Here the two answer on every single-node mutation of one valid spec
per layer kind and of the examples (each value replaced by each of a pool of awkward values, each key dropped, a
key added, each list shortened and lengthened), on random multi-node mutations (hypothesis, seeded), and on the
bad-input corpus; the answers must be equal (a spurious no would only cost time, but equal is what the closures
implement, so any difference is a bug).  The quick runs check every yes and a sample of the noes; the slow test
compares every answer.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cases import CASES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convertkit.formats import spec as spec_format
from convertkit.formats.schema_check import Unsupported, compile_schema
from convertkit.formats.spec import _without_long_values, json_schema, model_to_spec

REPO = Path(__file__).resolve().parents[1]

SCHEMA = json_schema()
FAST = compile_schema(SCHEMA)
SLOW = jsonschema.Draft202012Validator(SCHEMA)

POOL: list[Any] = [
    None, True, False, 0, 1, -1, 2, 3, 1.0, 2.0, 0.5, -0.5, 1e300, -1e300, math.nan, math.inf, -math.inf, 2**70,
    "", "x", "Deconvolution", "Input", "constant", "bilinear", "nearest", "zeros", "float32",
    [], [0], [1], [1, 1], [2, 2], [0, 1, 1, 0], [True], [1.5], [[1]], [[]], ["x"], [None],
    {}, {"x": 1}, {"type": "constant", "value": 1.0}, {"values": [1.0]}, {"values": []}, {"path": "w.npy"},
]  # fmt: skip


def _corpus() -> list[tuple[str, Any]]:
    """One valid spec per layer kind (the first row of each in tests/cases.py that builds), and the examples."""
    out: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for case in CASES:
        if case.kind in seen or case.slow:
            continue
        try:
            data = json.loads(json.dumps(model_to_spec(case.build())))
        except Exception:  # noqa: BLE001  (a row whose build is refused has no spec)
            continue
        if SLOW.is_valid(_without_long_values(data)):
            seen.add(case.kind)
            out.append((case.id, data))
    for path in sorted((REPO / "examples").glob("*.json")):
        out.append((path.name, json.loads(path.read_text())))
    return out


CORPUS = _corpus()


def _paths(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data[:3]):  # a long numbers list: its first items stand for the rest
            yield from _paths(v, (*path, i))


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        data = data[p]
    return data


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(data)
    if not path:
        return value
    _get(out, path[:-1])[path[-1]] = value
    return out


def _mutations(data: Any, per_node: int = len(POOL)) -> Iterator[Any]:
    """Single-node mutations of ``data``: ``per_node`` values of the pool at each node (rotating, so that the
    whole pool is tried along the nodes), and the node's own edits."""
    for n, path in enumerate(_paths(data)):
        node = _get(data, path)
        for i in range(per_node):
            yield _set(data, path, POOL[(n * per_node + i) % len(POOL)])
        if isinstance(node, dict):
            yield _set(data, path, {**node, "extra": 1})
            for k in node:
                yield _set(data, path, {kk: vv for kk, vv in node.items() if kk != k})
        if isinstance(node, list):
            yield _set(data, path, node[:-1])
            yield _set(data, path, [*node, *node[-1:]])
        if isinstance(node, str):
            yield _set(data, path, node + "_")
        if isinstance(node, (int, float)) and not isinstance(node, bool):
            for value in (node + 1, node - 1, -node, float(node), node + 0.5):
                yield _set(data, path, value)


def _agree(data: Any, *, every_no: bool = True) -> bool:
    """Assert that jsonschema validates ``data`` wherever the compiled check says yes (the fast path's safety),
    and rejects it where the check says no (``every_no`` False: the caller samples those, jsonschema being ~10x
    slower)."""
    checked = _without_long_values(data)
    yes = spec_format._fast_valid(checked)  # compiled from the schema of the kinds ``data`` names
    assert FAST(checked) == yes  # ... which answers as the whole schema does
    if yes or every_no:
        assert yes == SLOW.is_valid(checked), json.dumps(data)[:2000]
    return yes


def test_the_spec_schema_compiles_so_valid_specs_skip_jsonschema():
    assert len(CORPUS) >= 20, [name for name, _ in CORPUS]
    for _name, data in CORPUS:
        assert FAST(_without_long_values(data)) and spec_format._fast_valid(_without_long_values(data))
    assert None not in spec_format._FAST_CHECKS.values()


@pytest.mark.parametrize("name, data", CORPUS, ids=[name for name, _ in CORPUS])
def test_single_mutations_get_jsonschemas_answer(name: str, data: Any):
    # every yes is checked; every 8th no (the full comparison is the slow test below)
    for i, mutated in enumerate(_mutations(data, per_node=3)):
        _agree(mutated, every_no=i % 8 == 0)


@pytest.mark.slow
@pytest.mark.parametrize("name, data", CORPUS, ids=[name for name, _ in CORPUS])
def test_every_single_mutation_gets_jsonschemas_answer(name: str, data: Any):
    for mutated in _mutations(data):
        _agree(mutated)


def test_the_bad_input_specs_get_jsonschemas_answer():
    for path in sorted((REPO / "tests" / "bad_inputs" / "spec").glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError:
            continue
        _agree(data)


@st.composite
def _mutated(draw: st.DrawFn) -> Any:
    _, data = draw(st.sampled_from(CORPUS))
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(data))
        path = draw(st.sampled_from(paths))
        data = _set(data, path, draw(st.sampled_from(POOL)))
    return data


@settings(max_examples=100, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_random_multi_mutations_get_jsonschemas_answer(data: Any):
    _agree(data)


@pytest.mark.parametrize(
    "schema",
    [
        {"prefixItems": [{"type": "number"}]},
        {"patternProperties": {"^a": {}}, "additionalProperties": False},
        {"type": "integer", "multipleOf": 2},
        {"$ref": "https://example.invalid/other.json"},
        {"type": "decimal"},
    ],
)
def test_a_keyword_it_does_not_implement_is_refused_not_ignored(schema: dict[str, Any]):
    with pytest.raises(Unsupported):
        compile_schema(schema)


def test_booleans_are_not_numbers_and_integral_floats_are_integers():
    check = compile_schema({"type": "array", "items": {"type": "integer", "minimum": 1}})
    assert check([1, 2.0]) and not check([True]) and not check([1.5]) and not check([0])
    assert compile_schema({"enum": [1]})(1.0) and not compile_schema({"enum": [1]})(True)
    assert not compile_schema({"const": [0]})([False])
    one_of = compile_schema({"oneOf": [{"type": "integer"}, {"minimum": 0}]})
    assert one_of(-1) and one_of(0.5) and not one_of(1)
    assert compile_schema({"if": {"const": 1}, "then": {"type": "integer"}, "else": False})(1)
    assert not compile_schema({"if": {"const": 1}, "then": {"type": "integer"}, "else": False})(2)
