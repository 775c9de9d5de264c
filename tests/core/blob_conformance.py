"""The conformance suite every blob service must pass (``core.blobs.service.BlobService``).

A test file subclasses ``BlobConformance`` and provides three fixtures: ``service`` (a fresh
service), ``account`` (the name of an account made in it) and ``advance`` (a function that
lets that many seconds go by for the service's leases: the local service's clock is moved,
Azurite's is waited for).
"""

from __future__ import annotations

import pytest

from core.blobs import LeaseConflict
from core.errors import CoreError, NotFound


class BlobConformance:
    @pytest.fixture
    def box(self, service, account):
        c = service.container(account, "box")
        assert c.create() is True
        return c

    # ----------------------------------------------------------------------- containers
    def test_containers_are_made_listed_and_deleted_with_their_blobs(
        self, service, account
    ) -> None:
        a, b = service.container(account, "alpha"), service.container(account, "beta-1")
        assert (a.exists(), service.containers(account)) == (False, [])
        assert a.create() is True and a.create() is False
        b.create()
        assert service.containers(account) == ["alpha", "beta-1"]
        a.put("x", b"1")
        a.put("d/y", b"2")
        b.put("z", b"3")
        assert a.delete() == 2
        assert (a.exists(), service.containers(account)) == (False, ["beta-1"])
        assert [i.name for i in b.list()] == ["z"]
        with pytest.raises(NotFound, match="'alpha'"):
            a.get("x")
        assert a.create() is True and list(a.list()) == []  # a new container is empty

    def test_deleting_the_account_deletes_its_containers(self, service, account) -> None:
        c = service.container(account, "gone")
        c.create()
        c.put("a", b"1")
        c.put("b", b"2")
        assert service.delete_account(account) == 2
        assert service.containers(account) == []
        with pytest.raises(NotFound):
            c.get("a")

    def test_a_container_needs_its_account(self, service) -> None:
        with pytest.raises(NotFound, match="nosuchaccount"):
            service.container("nosuchaccount", "box").create()

    def test_a_missing_container_is_named(self, service, account) -> None:
        c = service.container(account, "missing")
        for call in (lambda: c.put("a", b"x"), lambda: c.get("a"), lambda: list(c.list())):
            with pytest.raises(NotFound, match="container 'missing'") as err:
                call()
            assert account in str(err.value)

    @pytest.mark.parametrize("name", ["ab", "A" * 3, "with_underscore", "x" * 25, "a-b"])
    def test_bad_account_names_are_refused(self, service, name) -> None:
        with pytest.raises(CoreError, match="3-24 lowercase letters and digits"):
            service.create_account(name)

    @pytest.mark.parametrize("name", ["ab", "-ab", "ab-", "a--b", "Abc", "a_b", "x" * 64])
    def test_bad_container_names_are_refused(self, service, account, name) -> None:
        with pytest.raises(CoreError, match="3-63 lowercase letters"):
            service.container(account, name)

    # ---------------------------------------------------------------------------- blobs
    def test_put_get_and_ranged_get(self, box) -> None:
        info = box.put("a/x", bytes(range(100)), metadata={"Kind": "test"})
        assert (info.name, info.size, info.metadata) == ("a/x", 100, {"kind": "test"})
        assert box.get("a/x") == bytes(range(100))
        assert box.get("a/x", 10, 5) == bytes(range(10, 15))
        assert box.get("a/x", 95) == bytes(range(95, 100))
        assert box.get("a/x", 98, 10) == bytes([98, 99])
        assert box.get("a/x", 200) == b""
        assert box.get("a/x", 0, 0) == b""

    def test_put_replaces_bytes_and_metadata_together(self, box) -> None:
        first = box.put("o", b"a much longer first version", metadata={"v": "1"})
        second = box.put("o", b"short")
        assert box.get("o") == b"short"
        got = box.info("o")
        assert (got.size, got.metadata, got.etag) == (5, {}, second.etag)
        assert first.etag != second.etag

    def test_empty_blob(self, box) -> None:
        box.put("e", b"")
        assert (box.get("e"), box.info("e").size) == (b"", 0)

    def test_list_by_prefix_in_name_order_with_metadata(self, box) -> None:
        for name in ["b/2", "b/1", "a", "b-c", "c/d/e"]:
            box.put(name, b"x", metadata={"n": name.replace("/", "_")})
        assert [i.name for i in box.list()] == ["a", "b-c", "b/1", "b/2", "c/d/e"]
        listed = list(box.list("b/"))
        assert [(i.name, i.metadata) for i in listed] == [
            ("b/1", {"n": "b_1"}),
            ("b/2", {"n": "b_2"}),
        ]
        assert list(box.list("none/")) == []

    def test_delete_and_missing_blobs_are_named(self, box, account) -> None:
        box.put("d", b"1")
        box.delete_blob("d")
        for call in (lambda: box.get("d"), lambda: box.info("d"), lambda: box.delete_blob("d")):
            with pytest.raises(NotFound, match="blob 'd'") as err:
                call()
            assert "'box'" in str(err.value) and account in str(err.value)
        assert list(box.list()) == []

    def test_set_metadata_keeps_the_bytes(self, box) -> None:
        box.put("m", b"bytes", metadata={"a": "1"})
        box.set_metadata("m", {"b": "2"})
        assert (box.get("m"), box.info("m").metadata) == (b"bytes", {"b": "2"})

    def test_a_failed_put_leaves_nothing_visible(self, box) -> None:
        class Boom:
            def __buffer__(self, flags):
                raise RuntimeError("torn write")

        with pytest.raises((RuntimeError, TypeError)):
            box.put("half", Boom())
        with pytest.raises(NotFound):
            box.info("half")
        assert list(box.list()) == []

    @pytest.mark.parametrize("name", ["", "/a", "a/", "a//b", ".hidden", "a/.b", "a b", "é"])
    def test_bad_blob_names_are_refused(self, box, name) -> None:
        with pytest.raises(CoreError, match="blob name"):
            box.put(name, b"x")

    @pytest.mark.parametrize("meta", [{"1a": "x"}, {"a-b": "x"}, {"a": "é"}, {"a": "x\ny"}])
    def test_bad_metadata_is_refused(self, box, meta) -> None:
        with pytest.raises(CoreError, match="metadata"):
            box.put("m", b"x", metadata=meta)
        with pytest.raises(NotFound):
            box.info("m")

    # ---------------------------------------------------------------------------- leases
    def test_a_lease_refuses_other_writers(self, box) -> None:
        box.put("l", b"1")
        lease = box.acquire_lease("l", 15)
        info = box.info("l")
        assert (info.leased, info.lease_state, info.lease_duration) == (True, "leased", "fixed")
        with pytest.raises(LeaseConflict, match="blob 'l'"):
            box.put("l", b"2")
        with pytest.raises(LeaseConflict):
            box.delete_blob("l")
        with pytest.raises(LeaseConflict):
            box.set_metadata("l", {"a": "b"})
        with pytest.raises(LeaseConflict):
            box.acquire_lease("l", 15)
        assert box.get("l") == b"1"  # reads need no lease
        box.put("l", b"2", lease=lease)
        assert box.get("l", lease=lease) == b"2"
        box.release_lease("l", lease)
        assert box.info("l").lease_state == "available"
        box.put("l", b"3")
        box.delete_blob("l")

    def test_a_lease_id_without_a_lease_is_refused(self, box) -> None:
        box.put("n", b"1")
        with pytest.raises(LeaseConflict):
            box.put("n", b"2", lease="7b2c9a43-55d0-4d3e-9f55-3c1e8b0f6a21")
        assert box.get("n") == b"1"

    def test_acquire_with_a_proposed_id_and_renew(self, box) -> None:
        box.put("p", b"1")
        mine = "0f8fad5b-d9cb-469f-a165-70867728950e"
        assert box.acquire_lease("p", 20, mine) == mine
        box.renew_lease("p", mine)
        with pytest.raises(LeaseConflict):
            box.renew_lease("p", "11111111-2222-3333-4444-555555555555")
        with pytest.raises(LeaseConflict):
            box.release_lease("p", "11111111-2222-3333-4444-555555555555")
        box.release_lease("p", mine)

    def test_an_infinite_lease_is_broken_by_anyone(self, box) -> None:
        box.put("i", b"1")
        box.acquire_lease("i", -1)
        assert box.info("i").lease_duration == "infinite"
        box.break_lease("i")
        assert box.info("i").lease_state == "broken"
        box.put("i", b"2")  # a broken lease holds nothing
        fresh = box.acquire_lease("i", 15)
        box.release_lease("i", fresh)

    def test_a_lease_expires_by_time(self, box, advance) -> None:
        box.put("t", b"1")
        old = box.acquire_lease("t", 15)
        advance(16)
        assert box.info("t").lease_state == "expired"
        box.put("t", b"2")  # no lease holds it now
        new = box.acquire_lease("t", 15)
        assert new != old
        box.release_lease("t", new)

    @pytest.mark.parametrize("seconds", [0, 14, 61, 3600])
    def test_lease_lengths_outside_azures_are_refused(self, box, seconds) -> None:
        box.put("s", b"1")
        with pytest.raises(CoreError, match="15-60 seconds"):
            box.acquire_lease("s", seconds)

    def test_a_lease_on_a_missing_blob_is_not_found(self, box) -> None:
        with pytest.raises(NotFound, match="blob 'nope'"):
            box.acquire_lease("nope", 15)
