"""The command line starts without its heavy dependencies: ``--help`` of the tool and of every command imports
neither numpy, onnx, onnxruntime, protobuf nor OpenCV (not a timed test: benchmarks/bench_cli.py prints the times);
the lazy package still hands out every public name."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO

HEAVY = ("numpy", "onnx", "onnxruntime", "google.protobuf", "cv2", "yaml", "jsonschema")


def test_help_of_every_command_imports_no_heavy_module():
    code = (
        "import sys\n"
        "from convertkit.cli import _COMMANDS, main\n"
        "for argv in (['--help'], ['--version'], *([c, '--help'] for c in _COMMANDS)):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m in {HEAVY!r})\n"
        "assert not heavy, heavy\n"
        "assert len(_COMMANDS) >= 6\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr


def test_import_convertkit_is_lazy_and_complete():
    code = (
        "import sys\n"
        "import convertkit as ck\n"
        "assert 'numpy' not in sys.modules and 'convertkit.layers' not in sys.modules\n"
        "from convertkit import *  # noqa: F403\n"
        "assert Upsample is ck.Upsample and ValidationError is ck.errors.ValidationError\n"
        "missing = [n for n in ck.__all__ if not hasattr(ck, n)]\n"
        "assert not missing, missing\n"
        "import convertkit.check\n"
        "assert callable(ck.check) and not isinstance(ck.check, type(sys)), ck.check\n"
        "assert ck.check.__module__ == 'convertkit'\n"
        "assert set(ck.__all__) <= set(dir(ck))\n"
        "try:\n"
        "    ck.NoSuchName\n"
        "except AttributeError as exc:\n"
        "    assert 'NoSuchName' in str(exc)\n"
        "else:\n"
        "    raise AssertionError('no AttributeError')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr


#: What ``validate`` of a small JSON spec must not import: the formats' runtimes and codecs, YAML, jsonschema (a
#: valid spec passes the compiled schema check), the kinds' format facets, and the kernels the spec does not run
#: (numpy it needs: a spec holds arrays).
NOT_FOR_VALIDATE = (
    *(m for m in HEAVY if m != "numpy"),
    "convertkit.codec.onnx",
    "convertkit.codec.caffe",
    "convertkit.codec.caffe_pb2",
    "convertkit.codec.keras",
    "convertkit.formats.onnx",
    "convertkit.formats.caffe",
    "convertkit.reference.convolution",
    "convertkit.reference.pooling",
    "convertkit.reference.normalization",
)


def test_validate_of_a_small_spec_imports_no_format_codec_facet_or_jsonschema():
    code = (
        "import re, sys\n"
        "from convertkit.cli import main\n"
        "assert main(['validate', 'examples/seed_5x5.json']) == 0\n"
        f"bad = {NOT_FOR_VALIDATE!r}\n"
        "hits = sorted(m for m in sys.modules if any(m == b or m.startswith(b + '.') for b in bad))\n"
        "facet = re.compile(r'convertkit\\.layers\\.\\w+\\.(onnx|caffe|keras|fork)')\n"
        "hits += sorted(m for m in sys.modules if facet.fullmatch(m))\n"
        "assert not hits, hits\n"
        "kinds = [m for m in sys.modules if re.fullmatch(r'convertkit\\.layers\\.\\w+\\.core', m)]\n"
        "assert len(kinds) >= 20, kinds  # the kinds' cores are there (the schema is built from them)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert "valid (2 layers)" in r.stdout


def test_an_invalid_spec_is_still_reported_by_jsonschema(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"layers": [{"type": "Input", "name": "x", "shape": [1, -2]}]}')
    code = (
        "import sys\n"
        "from convertkit.cli import main\n"
        f"assert main(['validate', {str(bad)!r}]) == 2\n"
        "assert 'jsonschema' in sys.modules\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert "$.layers[0].shape[1]: -2 is less than the minimum of 1" in r.stderr, r.stderr
