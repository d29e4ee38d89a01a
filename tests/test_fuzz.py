"""Fuzzing every reader: mutated valid files must load or be refused with convertkit's own errors — never another
exception, a hang or a huge allocation.

Seeded and bounded so CI stays fast (``derandomize=True``, a few hundred examples per reader).  For a longer
local run: ``CONVERTKIT_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz.py``.  A failure found here is
fixed and its reproducer added to the corpus in tests/bad_inputs/.
"""

from __future__ import annotations

import json
import os
import signal
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convertkit as ck
from convertkit.budget import memory_budget
from convertkit.errors import ConvertkitError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
N = int(os.environ.get("CONVERTKIT_FUZZ_EXAMPLES", "150"))
SETTINGS = settings(
    max_examples=N,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
#: Seconds one example may take (reading, and a reference run under a small budget).
HANG = 20


@contextmanager
def bounded(seconds: int = HANG) -> Iterator[None]:
    def hang(signum: int, frame: Any) -> None:
        raise AssertionError(f"the reader took more than {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def load_or_refuse(path: Path, **options: Any) -> None:
    """Load ``path``; if it loads, summarise it, export it and run the reference, all under a 16 MB budget."""
    with bounded(), memory_budget("16M"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the readers' own warnings (exact but ambiguous forms) are fine here
        try:
            model = ck.load(str(path), **options)
            model.summary()
            ck.to_onnx(model)
            ck.run(model)
        except ConvertkitError as exc:
            # a refusal, unless an allocation failed on its way: the budget must refuse before that
            assert "allocate" not in str(exc) and "MemoryError" not in str(exc), exc
        except MemoryError as exc:
            raise AssertionError(f"an allocation the memory budget did not refuse first: {exc}") from exc


# -- spec ------------------------------------------------------------------------------------------------------
SPEC_SOURCES = [json.loads((EXAMPLES / name).read_text()) for name in ("seed_5x5.json", "bilinear_x2_21ch.json")]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=8,
)


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*prefix, i))
    return out


def _set(data: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    data[head] = _set(data[head], tuple(rest), value)
    return data


@SETTINGS
@given(st.data())
def test_fuzz_spec_loader(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    spec = json.loads(json.dumps(data.draw(st.sampled_from(SPEC_SOURCES))))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(spec)))
        replacement = data.draw(
            json_values | st.integers(-3, 70) | st.sampled_from(["caffe", "explicit", "bilinear", "Input", ""])
        )
        spec = _set(spec, path, replacement)
    folder = tmp_path_factory.mktemp("spec")
    target = folder / "m.json"
    target.write_text(json.dumps(spec))
    load_or_refuse(target)


@SETTINGS
@given(st.data())
def test_fuzz_spec_text(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    text = data.draw(
        st.sampled_from([(EXAMPLES / "seed_5x5.json").read_text(), (EXAMPLES / "upsample_resize.yaml").read_text()])
    )
    suffix = ".json" if text.lstrip().startswith("{") else ".yaml"
    text = _mutate_text(data, text)
    target = tmp_path_factory.mktemp("spec") / f"m{suffix}"
    target.write_text(text, encoding="utf-8", errors="surrogatepass")
    load_or_refuse(target)


def _mutate_text(data: st.DataObject, text: str) -> str:
    for _ in range(data.draw(st.integers(1, 4))):
        if not text:
            break
        at = data.draw(st.integers(0, len(text) - 1))
        op = data.draw(st.sampled_from(["delete", "insert", "number", "truncate", "duplicate"]))
        if op == "delete":
            text = text[:at] + text[at + data.draw(st.integers(1, 20)) :]
        elif op == "insert":
            text = text[:at] + data.draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=6)) + text[at:]
        elif op == "number":
            number = str(data.draw(st.sampled_from([0, -1, 1, 2, 3, 65536, 2**31, 2**63, -(2**31)])))
            text = text[:at] + number + text[at:]
        elif op == "truncate":
            text = text[:at]
        else:
            end = min(len(text), at + data.draw(st.integers(1, 200)))
            text = text[:end] + text[at:end] + text[end:]
    return text


# -- prototxt --------------------------------------------------------------------------------------------------
PROTOTXT = (EXAMPLES / "fcn_head.prototxt").read_text()


@SETTINGS
@given(st.data())
def test_fuzz_prototxt_reader(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    text = _mutate_text(data, PROTOTXT)
    target = tmp_path_factory.mktemp("proto") / "net.prototxt"
    target.write_text(text, encoding="utf-8", errors="surrogatepass")
    load_or_refuse(target, fill_missing=data.draw(st.sampled_from(["zeros", "bilinear"])))


# -- caffemodel ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def caffemodel_bytes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    # small blobs, so that the mutations land in the structure rather than in megabytes of floats
    folder = tmp_path_factory.mktemp("caffemodel")
    ck.save(ck.load(str(EXAMPLES / "seed_5x5.json")), str(folder / "net.prototxt"))
    return folder / "net.prototxt", (folder / "net.caffemodel").read_bytes()


@SETTINGS
@given(st.data())
def test_fuzz_caffemodel_reader(
    tmp_path_factory: pytest.TempPathFactory, caffemodel_bytes: tuple[Path, bytes], data: st.DataObject
) -> None:
    prototxt, blob = caffemodel_bytes
    target = tmp_path_factory.mktemp("weights") / "net.caffemodel"
    target.write_bytes(_mutate_bytes(data, blob))
    load_or_refuse(prototxt, weights=str(target))


def _mutate_bytes(data: st.DataObject, blob: bytes) -> bytes:
    b = bytearray(blob)
    # half the mutations hit the first 400 bytes: the headers (names, shapes, field tags) are where a mutation says
    # something, while the float payload is most of the bytes
    for _ in range(data.draw(st.integers(1, 6))):
        if not b:
            break
        op = data.draw(st.sampled_from(["flip", "set", "truncate", "insert"]))
        hot = min(len(b), 400)
        near_head = data.draw(st.booleans())
        where = data.draw(st.integers(0, (hot if near_head else len(b)) - 1))
        if op == "flip":
            b[where] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "set":
            b[where] = data.draw(st.sampled_from([0, 0x7F, 0x80, 0xFF, 0x08, 0x0A, 0x12, 0x3A]))
        elif op == "truncate":
            del b[where:]
        else:
            b[where:where] = data.draw(st.binary(max_size=6))
    return bytes(b)


# -- ONNX ------------------------------------------------------------------------------------------------------
def _onnx_sources() -> list[bytes]:
    onnx = pytest.importorskip("onnx")
    sources = [(EXAMPLES / "same_upper_head.onnx").read_bytes()]
    for name in ("seed_5x5.json", "upsample_resize.yaml", "deconv3d_asymmetric.json"):
        sources.append(ck.to_onnx(ck.load(str(EXAMPLES / name)), 13).SerializeToString())
    assert all(onnx.load_from_string(s).graph.node for s in sources)
    return sources


@pytest.fixture(scope="module")
def onnx_sources() -> list[bytes]:
    return _onnx_sources()


@SETTINGS
@given(st.data())
def test_fuzz_onnx_bytes(
    tmp_path_factory: pytest.TempPathFactory, onnx_sources: list[bytes], data: st.DataObject
) -> None:
    target = tmp_path_factory.mktemp("onnx") / "m.onnx"
    target.write_bytes(_mutate_bytes(data, data.draw(st.sampled_from(onnx_sources))))
    load_or_refuse(target)


@SETTINGS
@given(st.data())
def test_fuzz_onnx_attributes(
    tmp_path_factory: pytest.TempPathFactory, onnx_sources: list[bytes], data: st.DataObject
) -> None:
    onnx = pytest.importorskip("onnx")
    model = onnx.load_from_string(data.draw(st.sampled_from(onnx_sources)))
    nodes = list(model.graph.node)
    node = data.draw(st.sampled_from(nodes))
    ints = st.integers(-3, 9) | st.sampled_from([2**31, -(2**31), 10**6])
    for attr in node.attribute:
        if not data.draw(st.booleans()):
            continue
        if attr.type == onnx.AttributeProto.INTS:
            values = data.draw(st.lists(ints, max_size=len(attr.ints) + 2))
            del attr.ints[:]
            attr.ints.extend(values)
        elif attr.type == onnx.AttributeProto.INT:
            attr.i = data.draw(ints)
        elif attr.type == onnx.AttributeProto.FLOAT:
            attr.f = data.draw(st.floats(allow_nan=True, allow_infinity=True, width=32))
        elif attr.type == onnx.AttributeProto.STRING:
            attr.s = data.draw(
                st.sampled_from([b"", b"SAME_UPPER", b"VALID", b"linear", b"cubic", b"half_pixel", b"x"])
            )
    if data.draw(st.booleans()) and model.graph.initializer:
        init = data.draw(st.sampled_from(list(model.graph.initializer)))
        if init.data_type == onnx.TensorProto.FLOAT and init.raw_data:
            arr = np.frombuffer(init.raw_data, np.float32).copy()
            arr[data.draw(st.integers(0, arr.size - 1))] = data.draw(st.floats(width=32))
            init.raw_data = arr.tobytes()
        elif init.data_type == onnx.TensorProto.INT64 and init.raw_data:
            arr = np.frombuffer(init.raw_data, np.int64).copy()
            arr[data.draw(st.integers(0, arr.size - 1))] = data.draw(st.integers(-(2**40), 2**40))
            init.raw_data = arr.tobytes()
    target = tmp_path_factory.mktemp("onnx") / "m.onnx"
    target.write_bytes(model.SerializeToString())
    load_or_refuse(target)
