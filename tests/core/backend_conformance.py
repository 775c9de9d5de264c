"""The conformance suite every block store backend must pass.

A backend's test file subclasses ``BackendConformance`` and provides a ``backend`` fixture
that returns a fresh, empty backend; the tests here then run against it.
"""

from __future__ import annotations

import pytest

from core.errors import CoreError, NotFound


class BackendConformance:
    """put/get/ranged get/has/list/delete/size, overwrite, atomicity and name checks."""

    def test_put_get_roundtrip(self, backend) -> None:
        backend.put("packs/a.pack", b"hello world")
        assert backend.get("packs/a.pack") == b"hello world"
        assert backend.has("packs/a.pack")
        assert backend.size("packs/a.pack") == 11

    def test_put_accepts_bytearray_and_memoryview(self, backend) -> None:
        backend.put("x", bytearray(b"abc"))
        backend.put("y", memoryview(b"defg")[1:])
        assert backend.get("x") == b"abc"
        assert backend.get("y") == b"efg"

    def test_put_of_a_list_is_its_concatenation(self, backend) -> None:
        parts = [b"a" * 70000, b"", bytearray(b"bc"), memoryview(b"xdef")[1:]] * 700
        backend.put("l", parts)
        assert backend.get("l") == b"".join(bytes(p) for p in parts)

    def test_ranged_get(self, backend) -> None:
        backend.put("r", bytes(range(100)))
        assert backend.get("r", 10, 5) == bytes(range(10, 15))
        assert backend.get("r", 0, 3) == bytes(range(3))
        assert backend.get("r", 95) == bytes(range(95, 100))
        assert backend.get("r", 98, 10) == bytes([98, 99])

    def test_missing_object(self, backend) -> None:
        assert not backend.has("nope")
        with pytest.raises(NotFound, match="nope"):
            backend.get("nope")
        with pytest.raises(NotFound):
            backend.size("nope")
        with pytest.raises(NotFound):
            backend.delete("nope")

    def test_overwrite_replaces_whole_object(self, backend) -> None:
        backend.put("o", b"a much longer first version")
        backend.put("o", b"short")
        assert backend.get("o") == b"short"
        assert backend.size("o") == 5

    def test_list_prefix_sorted_and_no_temp_files(self, backend) -> None:
        for name in ["packs/b", "packs/a", "manifests/m1", "top"]:
            backend.put(name, b"x")
        assert sorted(backend.list()) == ["manifests/m1", "packs/a", "packs/b", "top"]
        assert sorted(backend.list("packs/")) == ["packs/a", "packs/b"]
        assert list(backend.list("none/")) == []

    def test_failed_put_leaves_nothing_visible(self, backend) -> None:
        class Boom:
            def __buffer__(self, flags):
                raise RuntimeError("torn write")

        with pytest.raises((RuntimeError, TypeError)):
            backend.put("half", Boom())
        assert not backend.has("half")
        assert list(backend.list()) == []

    def test_remove_leftovers_keeps_every_object(self, backend) -> None:
        for name in ["packs/a", "manifests/m", "top"]:
            backend.put(name, b"x")
        assert backend.remove_leftovers() == (0, 0)
        assert sorted(backend.list()) == ["manifests/m", "packs/a", "top"]

    def test_delete(self, backend) -> None:
        backend.put("d", b"1")
        backend.delete("d")
        assert not backend.has("d")
        assert list(backend.list()) == []

    def test_empty_object(self, backend) -> None:
        backend.put("e", b"")
        assert backend.get("e") == b""
        assert backend.size("e") == 0

    @pytest.mark.parametrize(
        "name", ["", "..", "../x", "a/../b", "/abs", "a//b", ".hidden", "a/.tmp-x", "a b", "a\\b"]
    )
    def test_bad_names_refused(self, backend, name) -> None:
        with pytest.raises(CoreError, match="invalid object name"):
            backend.put(name, b"x")
        with pytest.raises(CoreError, match="invalid object name"):
            backend.get(name)
