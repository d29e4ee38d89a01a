"""schemas/caffe.proto: the generated module is current, and field numbers/defaults are Caffe's own.

The numbers are checked against ../shared/caffe/FIELDS.md (facts taken from BVLC's caffe.proto), an independent
source: a .caffemodel goes by field numbers, so one wrong number would silently lose weights.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from convertkit.codec.caffe import pb

REPO = Path(__file__).resolve().parents[1]
FIELDS_MD = REPO.parent / "shared" / "caffe" / "FIELDS.md"
sys.path.insert(0, str(REPO / "tools"))
import gen_caffe_proto  # noqa: E402

# Messages whose every BVLC field we define; for the layer messages we keep a subset of the parameters.
COMPLETE = {
    "NetParameter",
    "BlobProto",
    "BlobShape",
    "BlobProtoVector",
    "ParamSpec",
    "ConvolutionParameter",
    "FillerParameter",
    "InputParameter",
    "CropParameter",
    "ConcatParameter",
    "SliceParameter",
    "NetStateRule",
    "NetState",
    "EltwiseParameter",
    "PoolingParameter",
    "ReLUParameter",
    "DropoutParameter",
    "BatchNormParameter",
    "ScaleParameter",
    "PReLUParameter",
    "PowerParameter",
}


def test_generated_module_matches_the_proto_it_came_from() -> None:
    text = (REPO / "convertkit" / "codec" / "caffe_pb2.py").read_text()
    assert text.startswith(gen_caffe_proto.header(gen_caffe_proto.proto_digest())), (
        "caffe_pb2.py was generated from another schemas/caffe.proto: run python tools/gen_caffe_proto.py"
    )


@pytest.mark.slow
def test_generated_module_is_what_the_pinned_generator_emits() -> None:
    try:
        version = metadata.version("grpcio-tools")
    except metadata.PackageNotFoundError:
        pytest.skip(f"grpcio-tools=={gen_caffe_proto.PINNED} is not installed")
    if version != gen_caffe_proto.PINNED:
        pytest.skip(f"grpcio-tools {version} is installed, not the pinned {gen_caffe_proto.PINNED}")
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "gen_caffe_proto.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def _fields_md() -> dict[str, dict[str, tuple[int, str, str]]]:
    if not FIELDS_MD.is_file():
        pytest.skip("../shared/caffe/FIELDS.md is not beside the checkout")
    tables: dict[str, dict[str, tuple[int, str, str]]] = {}
    current = None
    for line in FIELDS_MD.read_text().splitlines():
        heading = re.match(r"### (\w+)$", line)
        if heading:
            current = tables.setdefault(heading.group(1), {})
            continue
        row = re.match(r"\| (\w+) \| (\d+) \| ([\w ]+) \| ([^|]+) \| ([^|]*) \|$", line)
        if row and current is not None and row.group(1) != "field":
            current[row.group(1)] = (int(row.group(2)), row.group(3).strip(), row.group(5).strip())
    return tables


def test_field_numbers_labels_and_defaults_are_caffes() -> None:
    tables = _fields_md()
    checked = 0
    for message_name, fields in tables.items():
        descriptor = pb.DESCRIPTOR.message_types_by_name.get(message_name)
        if descriptor is None:
            continue
        for name, (number, label, default) in fields.items():
            field = descriptor.fields_by_name.get(name)
            if field is None:
                assert message_name not in COMPLETE, f"{message_name}.{name} is missing from schemas/caffe.proto"
                continue
            assert field.number == number, f"{message_name}.{name} is {field.number}, Caffe says {number}"
            ours = ("repeated" if field.is_repeated else "optional") + (" packed" if field.is_packed else "")
            assert ours == label, f"{message_name}.{name} is {ours}, Caffe says {label}"
            if default:
                mine = field.default_value
                if isinstance(mine, float):
                    assert mine == pytest.approx(float(default)), (message_name, name, mine, default)
                elif isinstance(mine, bool):
                    assert str(mine) == default, (message_name, name, mine, default)
                elif field.enum_type is not None:
                    assert field.enum_type.values_by_number[mine].name == default, (message_name, name)
                else:
                    assert str(mine) == default, (message_name, name, mine, default)
            checked += 1
    assert checked >= 140  # every field of the messages we define


def test_v1_layer_types_are_caffes() -> None:
    if not FIELDS_MD.is_file():
        pytest.skip("../shared/caffe/FIELDS.md is not beside the checkout")
    line = next(x for x in FIELDS_MD.read_text().splitlines() if x.startswith("enum V1LayerParameter.LayerType:"))
    expected = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", line))
    ours = {v.name: v.number for v in pb.V1LayerParameter.DESCRIPTOR.enum_types_by_name["LayerType"].values}
    assert ours == expected


def test_fork_interp_param_does_not_take_input_params_number() -> None:
    layer = pb.LayerParameter.DESCRIPTOR
    assert layer.fields_by_name["input_param"].number == 143
    assert layer.fields_by_name["interp_param"].number != 143
