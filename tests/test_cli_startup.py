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
