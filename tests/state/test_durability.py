"""What survives: SIGKILL mid-apply, foreign files, newer formats, old formats, size."""

from __future__ import annotations

import signal
import sqlite3
import time

import pytest
from sqlite_utils import Database

from state import FORMAT_VERSION, StateError, StateStore
from state import migrations as formats
from tests.state import python, rec

WRITER = """
import sys
from pathlib import Path
from state import InstanceRecord, StateStore
store = StateStore.open(Path(sys.argv[1]))
group = sys.argv[2] == "group"
def put(i):
    store.put(InstanceRecord(
        address=f"bcdr_data.a[{i}]", type="bcdr_data", name="a", index_key=i,
        provider="builtin", id=str(i), attributes={"payload": "x" * 2000, "i": i},
        dependencies=[f"bcdr_data.a[{i - 1}]"] if i else []))
if group:
    with store.transaction():
        for i in range(100000):
            put(i)
            if i == 300:
                print(i, flush=True)
else:
    for i in range(100000):
        put(i)
        print(i, flush=True)
"""


def kill_writer_after(path, mode: str, lines: int) -> int:
    proc = python(WRITER, str(path), mode)
    last = -1
    try:
        for _ in range(lines):
            text = proc.stdout.readline()
            assert text, proc.stderr.read()
            last = int(text)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return last


def test_sigkill_between_puts_leaves_a_consistent_prefix(tmp_path):
    path = tmp_path / "state.db"
    last = kill_writer_after(path, "each", 150)
    with StateStore.open(path) as store:
        ks = sorted(r.index_key for r in store.instances())
        assert ks == list(range(len(ks))), "the surviving writes are a prefix"
        assert len(ks) >= last + 1, "every reported (committed) put survived"
        assert store.serial == len(ks), "serial and rows committed together"
        assert all(r.attributes["i"] == r.index_key for r in store.instances())
        store.put(rec(0, name="after"))  # the state is writable again


def test_sigkill_inside_a_transaction_keeps_none_of_it(tmp_path):
    path = tmp_path / "state.db"
    kill_writer_after(path, "group", 1)
    with StateStore.open(path) as store:
        assert store.instances() == []
        assert store.serial == 0


def snapshot(directory) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"hello, I am a text file\n" * 10,
        b"\x00" * 4096,
        b"SQLite format 3\x00" + b"\x01" * 200,
    ],
    ids=["empty", "text", "zeros", "fake-header"],
)
def test_garbage_file_is_refused_and_left_untouched(tmp_path, content):
    path = tmp_path / "state.db"
    path.write_bytes(content)
    before = snapshot(tmp_path)
    with pytest.raises(StateError, match="not a bcdr state"):
        StateStore.open(path)
    assert snapshot(tmp_path) == before


def test_other_sqlite_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "state.db"
    with Database(path) as db:
        db["meta"].insert({"id": 1, "serial": 5})
        db["instances"].insert({"address": "x"})
    before = snapshot(tmp_path)
    with pytest.raises(StateError, match="SQLite database but not a bcdr state"):
        StateStore.open(path)
    assert snapshot(tmp_path) == before


def test_directory_in_place_of_the_file_is_refused(tmp_path):
    (tmp_path / "state.db").mkdir()
    with pytest.raises(StateError, match="is a directory"):
        StateStore.open(tmp_path / "state.db")


def test_state_from_a_newer_bcdr_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "state.db"
    StateStore.open(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE meta SET format_version = ?", [FORMAT_VERSION + 1])
    conn.close()
    before = snapshot(tmp_path)
    with pytest.raises(StateError, match="newer bcdr.*Upgrade bcdr"):
        StateStore.open(path)
    assert snapshot(tmp_path) == before


def make_format_1_state(path) -> str:
    """A state as the first format wrote it: core tables only, one instance."""
    conn = formats.connect(path)
    conn.execute(f"PRAGMA application_id = {formats.APPLICATION_ID}")
    conn.execute("PRAGMA journal_mode = WAL")
    db = Database(conn)
    formats.migrations.apply(db, stop_before="0002_lock_and_history")
    db.execute(
        "INSERT INTO instances (address, type, name, index_key, provider, id, attributes, "
        "status, dependencies, schema_version, created_at, updated_at) VALUES "
        "('bcdr_data.old', 'bcdr_data', 'old', 'null', 'builtin', 'i-1', '{\"v\":1}', "
        "'ready', '[]', 0, '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')"
    )
    db.execute("UPDATE meta SET serial = 7")
    lineage = db.execute("SELECT lineage FROM meta").fetchone()[0]
    conn.close()
    return lineage


def test_migrates_a_format_1_state_keeping_its_data(tmp_path):
    path = tmp_path / "state.db"
    lineage = make_format_1_state(path)
    with StateStore.open(path) as store:
        assert store.format_version == FORMAT_VERSION
        assert (store.lineage, store.serial) == (lineage, 7)
        assert store.get("bcdr_data.old").attributes == {"v": 1}
        with store.lock("apply"):  # tables from later migrations work
            store.record_history("apply", "s", "f", "ok", {"add": 0})
        indexes = {i.name for i in store._db["instances"].indexes}
        assert "instances_type_name" in indexes
    with Database(path) as db:
        assert len(formats.migrations.applied(db)) == FORMAT_VERSION


def test_migrations_each_set_the_format_version_they_produce(tmp_path):
    with Database(memory=True) as empty:
        names = [m.name for m in formats.migrations.pending(empty)]
    assert len(names) == FORMAT_VERSION
    for i, stop in enumerate(names[1:], start=1):
        path = tmp_path / f"v{i}.db"
        conn = formats.connect(path)
        conn.execute(f"PRAGMA application_id = {formats.APPLICATION_ID}")
        formats.migrations.apply(Database(conn), stop_before=stop)
        assert formats.check_format(Database(conn), path) == i
        conn.close()


def test_reading_10000_instances_is_one_fast_query(tmp_path, capsys):
    path = tmp_path / "state.db"
    with StateStore.open(path) as store:
        started = time.perf_counter()
        with store.transaction():
            for i in range(10_000):
                store.put(
                    rec(
                        i,
                        attributes={"input": {"n": i, "s": "v" * 40}, "output": list(range(5))},
                        dependencies=[f"bcdr_data.a[{i - 1}]"] if i else [],
                    )
                )
        write_s = time.perf_counter() - started
    with StateStore.open(path) as store:
        queries: list[str] = []
        started = time.perf_counter()
        with store._db.tracer(lambda sql, params: queries.append(sql)):
            records = store.instances()
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        store.put(rec(5000, attributes={"changed": True}))
        one_put_s = time.perf_counter() - started
    assert len(records) == 10_000
    assert len(queries) == 1
    with capsys.disabled():
        print(
            f"\n[state] 10,000 instances: read {read_s * 1000:.0f} ms, "
            f"write (one transaction) {write_s * 1000:.0f} ms, "
            f"one put into the full state {one_put_s * 1000:.1f} ms"
        )
