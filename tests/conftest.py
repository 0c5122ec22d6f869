"""Shared fixtures.  Tests that need ../shared/data skip with a clear reason when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MEDGAUGE_SHARED", REPO.parent / "shared"))
DATA = SHARED / "data"
BENCH = SHARED / "bench"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"needs {path} (the shared benchmark data beside the checkout); absent here")
    return path


@pytest.fixture
def shared_data() -> Path:
    return _need(DATA)


@pytest.fixture
def shared_bench() -> Path:
    return _need(BENCH)
