"""BlobBackend (block store objects on Azure Blob) runs the shared backend conformance suite
against a real Azurite, plus the store lock made of blob leases (``LeaseLock``)."""

from __future__ import annotations

import threading
import time

import pytest

from azblob import Container, Credential
from core.blocks.remote import BlobBackend, BlobPlace, LeaseLock
from core.errors import CoreError
from tests.azurite import ACCOUNT, KEY
from tests.core.backend_conformance import BackendConformance


@pytest.fixture
def place(azurite, container_name) -> BlobPlace:
    box = Container(azurite.endpoint, container_name, Credential(ACCOUNT, KEY))
    return BlobPlace(box, "regions/westeurope/sub/store/")


class TestBlobBackend(BackendConformance):
    @pytest.fixture
    def backend(self, place):
        return BlobBackend(place)


def test_objects_live_under_the_prefix_and_leave_the_rest_alone(place) -> None:
    place.container.create()
    place.container.put("other/x", b"not ours")
    backend = BlobBackend(place)
    backend.put("packs/a", b"1")
    assert list(backend.list()) == ["packs/a"]
    assert {i.name for i in place.container.list()} == {
        "other/x",
        "regions/westeurope/sub/store/packs/a",
    }


def test_gc_waits_for_a_writer_on_another_machine(place) -> None:
    """Two LeaseLocks share nothing but the container, as on two machines."""
    writer, gc = LeaseLock(place), LeaseLock(place)
    order: list[str] = []

    def collect() -> None:
        with gc.hold(exclusive=True):
            order.append("gc")

    with writer.hold(exclusive=False):
        t = threading.Thread(target=collect)
        t.start()
        time.sleep(1.0)
        order.append("writer done")
    t.join(timeout=10)
    assert order == ["writer done", "gc"]


def test_writers_share_the_lock(place) -> None:
    a, b = LeaseLock(place), LeaseLock(place)
    with a.hold(exclusive=False), b.hold(exclusive=False):
        leased = [i for i in place.container.list(place.prefix + "locks/") if i.leased]
        assert len(leased) == 2


def test_a_holder_that_lost_its_lease_stops_writing(place) -> None:
    lock = LeaseLock(place)
    backend = BlobBackend(place, guard=lock)
    with lock.hold(exclusive=False):
        backend.put("packs/a", b"1")
        mine = next(i.name for i in place.container.list(place.prefix + "locks/shared-"))
        place.container.break_lease(mine)  # what another machine's force or an expiry does
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                lock.check()
            except CoreError:
                break
            time.sleep(0.2)
        with pytest.raises(CoreError, match="lost"):
            backend.put("packs/b", b"2")
    assert not backend.has("packs/b")
