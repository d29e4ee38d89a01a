"""The bad-input corpus (tests/bad_inputs/CASES.yaml): each file is refused with one clear line and exit code 2,
naming the file, the place and the rule, and a refused convert leaves nothing behind (no output, no temporary)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from convertkit.cli import main

CORPUS = Path(__file__).parent / "bad_inputs"
CASES = yaml.safe_load((CORPUS / "CASES.yaml").read_text(encoding="utf-8"))
ROWS = [
    pytest.param(case, command, id=f"{case['file']}-{command}")
    for case in CASES
    for command in case.get("commands", ["validate", "convert"])
]


def _listing(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("case", "command"), ROWS)
def test_bad_input_is_refused_in_one_line(
    case: dict, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "corpus"
    shutil.copytree(CORPUS, root)
    before = _listing(root)
    source = root / case["file"]
    argv = [command, str(source), *(a.format(root=root) for a in case.get("args", []))]
    if command == "convert":
        argv += ["-o", str(source.parent / "out.onnx")]
    rc = main(argv)
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if not line.startswith(f"convertkit {command}: warning:")]
    assert rc == 2, err
    assert len(errors) == 1, f"want one error line, got:\n{err}"
    prefix = f"convertkit {command}: error: "
    assert errors[0].startswith(prefix), errors[0]
    assert re.search(case["expect"], errors[0][len(prefix) :]), errors[0]
    assert "Traceback" not in err
    assert _listing(root) == before, "the refused run left files behind or changed one"


def test_every_corpus_file_is_a_case_or_its_data() -> None:
    named = {case["file"] for case in CASES}
    for path in sorted(CORPUS.rglob("*")):
        if (
            path.is_file()
            and path.name != "CASES.yaml"
            and path.suffix in (".json", ".yaml", ".prototxt", ".onnx", ".caffemodel")
        ):
            rel = str(path.relative_to(CORPUS))
            assert rel in named or rel.endswith(".weights.caffemodel"), f"{rel} is in the corpus but no case runs it"
