"""StateStore reads and writes: round trip, serial and lineage, transactions, outputs."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from state import StateError, StateStore
from tests.state import rec


@pytest.fixture
def store(tmp_path):
    s = StateStore.open(tmp_path / ".bcdr" / "state.db")
    yield s
    s.close()


def test_open_creates_folder_and_file(tmp_path):
    path = tmp_path / ".bcdr" / "state.db"
    assert not StateStore.exists(path)
    with StateStore.open(path) as s:
        assert s.path == path
        assert s.serial == 0
        assert s.instances() == []
    assert StateStore.exists(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.db"]


def test_open_without_create_refuses_missing_file(tmp_path):
    path = tmp_path / "nope" / "state.db"
    with pytest.raises(StateError, match="No state found"):
        StateStore.open(path, create=False)
    assert not path.parent.exists()


def test_round_trip_keeps_every_field(store, tmp_path):
    records = [
        rec(None, name="solo", dependencies=["bcdr_data.b[0]"], schema_version=2),
        rec(0, name="b"),
        rec('kéy "quoted" [x]', name="c", id=None, status="tainted"),
        rec(3, name="d", attributes={"nested": {"l": [1, 2.5, None, True, "s"]}, "e": {}}),
    ]
    for r in records:
        store.put(r)
    store.close()
    with StateStore.open(store.path) as again:
        listed = again.instances()
    assert [r.address for r in listed] == sorted(r.address for r in records)
    got = {r.address: r for r in listed}
    for r in records:
        g = got[r.address]
        assert (g.type, g.name, g.index_key, g.provider, g.id) == (
            r.type,
            r.name,
            r.index_key,
            r.provider,
            r.id,
        )
        assert g.attributes == r.attributes
        assert g.status == r.status
        assert g.dependencies == r.dependencies
        assert g.schema_version == r.schema_version
        assert g.created_at and g.updated_at


def test_instances_sorted_by_address_and_get(store):
    for i in (10, 2, 1):
        store.put(rec(i))
    assert [r.address for r in store.instances()] == [
        "bcdr_data.a[10]",
        "bcdr_data.a[1]",
        "bcdr_data.a[2]",
    ]
    assert store.get("bcdr_data.a[2]").index_key == 2
    assert store.get("bcdr_data.a[3]") is None


def test_serial_bumps_once_per_write(store):
    store.put(rec(0))
    store.put(rec(1))
    store.put(rec(0, attributes={"changed": True}))
    assert store.serial == 3
    store.set_status("bcdr_data.a[0]", "tainted")
    assert store.serial == 4
    store.move("bcdr_data.a[1]", "bcdr_data.b")
    assert store.serial == 5
    store.remove("bcdr_data.b")
    assert store.serial == 6
    store.set_outputs({"x": (1, False)})
    assert store.serial == 7


def test_lock_and_history_do_not_bump_serial(store):
    store.put(rec(0))
    with store.lock("apply"):
        pass
    store.record_history("apply", "t0", "t1", "ok", {"add": 1})
    assert store.serial == 1


def test_transaction_bumps_serial_once(store):
    with store.transaction():
        for i in range(5):
            store.put(rec(i))
        store.set_outputs({"n": (5, False)})
        with store.transaction():  # nested: still the same group
            store.remove("bcdr_data.a[4]")
    assert store.serial == 1
    assert len(store.instances()) == 4
    with store.transaction():
        pass
    assert store.serial == 1, "an empty group is not a write"


def test_failed_transaction_writes_nothing(store):
    store.put(rec(0))
    with pytest.raises(StateError):
        with store.transaction():
            store.put(rec(1))
            store.remove("bcdr_data.missing")
    assert store.serial == 1
    assert [r.address for r in store.instances()] == ["bcdr_data.a[0]"]
    with pytest.raises(KeyboardInterrupt):
        with store.transaction():
            store.put(rec(2))
            raise KeyboardInterrupt
    assert store.get("bcdr_data.a[2]") is None
    store.put(rec(3))
    assert store.serial == 2


def test_lineage_fixed_for_life_of_state(store):
    lineage = store.lineage
    assert len(lineage) == 36
    store.put(rec(0))
    store.close()
    with StateStore.open(store.path) as again:
        assert again.lineage == lineage
    with StateStore.open(store.path.parent / "other.db") as other:
        assert other.lineage != lineage


def test_wal_synchronous_full_and_foreign_keys_are_set(store):
    conn = store._db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    other = sqlite3.connect(store.path)  # WAL is a property of the file itself
    try:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        other.close()


def test_put_writes_only_its_own_row(store):
    for i in range(50):
        store.put(rec(i))
    before = {r.address: r.updated_at for r in store.instances()}
    changes = store._db.conn.total_changes
    store.put(rec(7, attributes={"new": 1}))
    assert store._db.conn.total_changes - changes == 2  # the instance row + the meta row
    after = {r.address: r.updated_at for r in store.instances()}
    assert {a for a in after if after[a] != before[a]} <= {"bcdr_data.a[7]"}


def test_put_keeps_created_at_and_stores_direct_dependencies(store):
    store.put(rec(0, dependencies=["bcdr_data.z", "bcdr_data.y", "bcdr_data.z"]))
    first = store.get("bcdr_data.a[0]")
    assert first.dependencies == ["bcdr_data.y", "bcdr_data.z"]
    store.put(rec(0, dependencies=[]))
    second = store.get("bcdr_data.a[0]")
    assert second.created_at == first.created_at
    assert second.updated_at >= first.updated_at
    assert second.dependencies == []


@pytest.mark.parametrize(
    "bad",
    [
        rec(0, address="bcdr_data.a[1]"),
        rec(0, index_key="0"),
        rec(0, status="broken"),
        rec(0, dependencies=["bcdr_data.a[0]"]),
        rec(0, index_key=True, address="bcdr_data.a[1]"),
        rec(0, address="not an address"),
    ],
)
def test_malformed_record_is_a_bug_and_writes_nothing(store, bad):
    with pytest.raises(ValueError):
        store.put(bad)
    assert store.serial == 0
    assert store.instances() == []


def test_remove_and_set_status_of_missing_address_say_what_to_do(store):
    with pytest.raises(StateError, match="bcdr state list"):
        store.remove("bcdr_data.ghost")
    with pytest.raises(StateError, match="not in the state"):
        store.set_status("bcdr_data.ghost", "tainted")
    assert store.serial == 0


def test_set_status_taints_and_clears(store):
    store.put(rec(0))
    store.set_status("bcdr_data.a[0]", "tainted")
    assert store.get("bcdr_data.a[0]").status == "tainted"
    store.set_status("bcdr_data.a[0]", "ready")
    assert store.get("bcdr_data.a[0]").status == "ready"


def test_move_renames_and_rewrites_direct_dependents(store):
    store.put(rec(0))
    store.put(rec(None, name="user", dependencies=["bcdr_data.a[0]", "bcdr_data.x"]))
    store.put(rec(None, name="bystander", dependencies=["bcdr_data.x"]))
    store.move("bcdr_data.a[0]", 'bcdr_data.b["k"]')
    moved = store.get('bcdr_data.b["k"]')
    assert (moved.name, moved.index_key, moved.id) == ("b", "k", "id-a-0")
    assert store.get("bcdr_data.a[0]") is None
    assert store.get("bcdr_data.user").dependencies == ['bcdr_data.b["k"]', "bcdr_data.x"]
    assert store.get("bcdr_data.bystander").dependencies == ["bcdr_data.x"]


def test_move_refuses_missing_source_existing_target_and_bad_address(store):
    store.put(rec(0))
    store.put(rec(1))
    with pytest.raises(StateError, match="not in the state"):
        store.move("bcdr_data.a[9]", "bcdr_data.b")
    with pytest.raises(StateError, match="already in the state"):
        store.move("bcdr_data.a[0]", "bcdr_data.a[1]")
    with pytest.raises(StateError, match="not a resource address"):
        store.move("bcdr_data.a[0]", "a b c")
    with pytest.raises(StateError, match="type differs"):
        store.move("bcdr_data.a[0]", "other_type.a")
    assert store.serial == 2


def test_outputs_replace_all(store):
    store.set_outputs({"a": ([1, 2], False), "secret": ("hunter2", True)})
    assert store.outputs() == {"a": ([1, 2], False), "secret": ("hunter2", True)}
    store.set_outputs({"b": ({"k": None}, False)})
    assert store.outputs() == {"b": ({"k": None}, False)}
    store.set_outputs({})
    assert store.outputs() == {}


def test_history_newest_first_with_limit(store):
    for i in range(5):
        store.record_history("apply", f"s{i}", f"f{i}", "ok", {"add": i, "errors": []})
    runs = store.history(limit=3)
    assert [r["summary"]["add"] for r in runs] == [4, 3, 2]
    assert runs[0]["operation"] == "apply" and runs[0]["finished_at"] == "f4"


def test_writes_from_many_threads_each_bump_serial(store):
    def worker(t: int) -> None:
        for i in range(25):
            store.put(rec(i, name=f"t{t}"))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.serial == 200
    assert len(store.instances()) == 200
