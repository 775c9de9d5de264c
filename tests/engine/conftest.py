"""Fixtures shared by the engine tests: ``ws``, a spec folder with a real state file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.testprovider import Workspace


@pytest.fixture
def ws(tmp_path: Path):
    w = Workspace(tmp_path)
    yield w
    w.state.close()
