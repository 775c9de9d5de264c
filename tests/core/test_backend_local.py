"""LocalBackend runs the shared backend conformance suite, plus its on-disk specifics."""

from __future__ import annotations

import os

import pytest

from core.blockstore import LocalBackend
from tests.core.backend_conformance import BackendConformance


class TestLocalBackend(BackendConformance):
    @pytest.fixture
    def backend(self, tmp_path):
        return LocalBackend(tmp_path / "objects")


def test_temp_files_are_not_listed(tmp_path) -> None:
    backend = LocalBackend(tmp_path)
    backend.put("packs/a", b"1")
    (tmp_path / "packs" / ".tmp-deadbeef").write_bytes(b"half")
    assert list(backend.list()) == ["packs/a"]


def test_objects_are_private_files(tmp_path) -> None:
    backend = LocalBackend(tmp_path)
    backend.put("a", b"1")
    assert os.stat(tmp_path / "a").st_mode & 0o077 == 0
