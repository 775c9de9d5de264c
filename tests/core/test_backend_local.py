"""LocalBackend runs the shared backend conformance suite, plus its on-disk specifics."""

from __future__ import annotations

import os

import pytest

from core.blocks import LocalBackend
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


def test_remove_leftovers_deletes_the_temp_files_of_interrupted_puts(tmp_path) -> None:
    """Issue 8.6: a put killed before its rename leaves ``.tmp-*``; the sweep (run by gc under
    the store's exclusive lock) deletes those and only those, and says how much."""
    backend = LocalBackend(tmp_path)
    backend.put("packs/a", b"1")
    (tmp_path / "packs" / ".tmp-deadbeef").write_bytes(b"half a pack")
    (tmp_path / ".tmp-cafe").write_bytes(b"xy")
    assert backend.remove_leftovers() == (2, 13)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["a"]
    assert backend.get("packs/a") == b"1"


def test_objects_are_private_files(tmp_path) -> None:
    backend = LocalBackend(tmp_path)
    backend.put("a", b"1")
    assert os.stat(tmp_path / "a").st_mode & 0o077 == 0
