"""Shared fixtures for the core's tests: a real fabric in tmp_path and its disks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.disks import Disks
from core.fabric import Fabric


@pytest.fixture
def fabric(tmp_path: Path) -> Iterator[Fabric]:
    fab = Fabric.open(tmp_path / "fabric")
    try:
        yield fab
    finally:
        fab.close()


@pytest.fixture
def disks(fabric: Fabric) -> Disks:
    return Disks(fabric)
