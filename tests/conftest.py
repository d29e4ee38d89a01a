"""Shared fixtures: where the repository and ../shared live."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
EXAMPLES = REPO / "examples"


@pytest.fixture
def shared_caffe_dir() -> Path:
    path = SHARED / "data" / "caffe"
    if not path.is_dir():
        pytest.skip("../shared/data/caffe is not beside the checkout")
    return path
