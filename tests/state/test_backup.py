"""Reading without writing, the backup beside the state, and a damaged state file.

Real SQLite files in tmp_path: a snapshot (what plan and drift read) leaves the file's
bytes as they were, even with a WAL a killed writer left; the backup is a whole state
taken with SQLite's online backup, sealed values still sealed; a truncated or overwritten
state is a StateError naming the file and ``bcdr state restore-backup``, which puts the
backup back and keeps the damaged file.
"""

from __future__ import annotations

import hashlib

import pytest

from state import StateError, StateStore, backup_path, restore_backup
from tests.state import python, rec
from tests.state.test_crypto import KEY_A, SECRET, raw_bytes, secret_rec


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_snapshot_of_a_missing_state_is_empty_bound_to_no_state_and_creates_nothing(tmp_path):
    path = tmp_path / ".bcdr" / "state.db"
    with StateStore.open(path, read_only=True) as store:
        assert (store.lineage, store.serial) == (None, 0)
        assert store.instances() == [] and store.outputs() == {}
        with pytest.raises(RuntimeError, match="read-only"):
            store.put(rec(1))
    assert not (tmp_path / ".bcdr").exists()


def test_snapshot_writes_nothing_even_with_a_wal_left_by_a_killed_writer(tmp_path):
    path = tmp_path / "state.db"
    with StateStore.open(path) as store:
        store.put(rec(1))
        lineage = store.lineage
    killed = python(
        "import os, sys\n"
        "from pathlib import Path\n"
        "from state import StateStore\n"
        "from tests.state import rec\n"
        "store = StateStore.open(Path(sys.argv[1]))\n"
        "store.put(rec(2))\n"
        "os._exit(0)\n",
        str(path),
    )
    killed.communicate(timeout=60)
    wal = tmp_path / "state.db-wal"
    assert wal.stat().st_size > 0  # committed, not yet checkpointed into state.db
    before = (sha(path), sha(wal))
    with StateStore.open(path, read_only=True) as store:
        assert [r.address for r in store.instances()] == ["bcdr_data.a[1]", "bcdr_data.a[2]"]
        assert store.lineage == lineage and store.serial == 2
    # (state.db-shm is SQLite's index of the WAL, rebuilt by any reader)
    assert (sha(path), sha(wal)) == before


def test_snapshot_of_a_clean_state_leaves_no_side_files(tmp_path):
    path = tmp_path / "state.db"
    StateStore.open(path).close()
    before = {p.name: sha(p) for p in tmp_path.iterdir()}
    with StateStore.open(path, read_only=True):
        pass
    assert {p.name: sha(p) for p in tmp_path.iterdir()} == before


def test_backup_is_a_whole_state_with_sealed_values_still_sealed(tmp_path):
    path = tmp_path / ".bcdr" / "state.db"
    with StateStore.open(path, keys=KEY_A) as store:
        store.put(secret_rec())
        store.set_outputs({"pw": (SECRET, True)})
        written = store.backup()
        lineage, serial = store.lineage, store.serial
    assert written == backup_path(path) == tmp_path / ".bcdr" / "state.db.backup"
    assert SECRET.encode() not in raw_bytes(written)
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.db", "state.db.backup"]
    with StateStore.open(written, keys=KEY_A, read_only=True) as copy:
        assert (copy.lineage, copy.serial) == (lineage, serial)
        assert copy.get("bcdr_data.a").attributes == secret_rec().attributes
        assert copy.outputs() == {"pw": (SECRET, True)}


@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_damaged_state_names_the_file_and_the_restore_command(tmp_path, damage):
    path = tmp_path / ".bcdr" / "state.db"
    with StateStore.open(path) as store:
        with store.transaction():
            for i in range(200):
                store.put(rec(i, attributes={"input": i, "output": "x" * 400}))
        store.backup()
        lineage, serial = store.lineage, store.serial
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(data[:8192] + b"\xff" * 4096 + data[8192 + 4096 :])
    damaged_bytes = path.read_bytes()
    for read_only in (False, True):
        with pytest.raises(StateError) as caught:
            StateStore.open(path, read_only=read_only)
        text = str(caught.value)
        assert f"The state file {path} is damaged" in text
        assert "bcdr state restore-backup" in text and str(backup_path(path)) in text
    assert path.read_bytes() == damaged_bytes  # left untouched
    got_lineage, got_serial, kept = restore_backup(path)
    assert (got_lineage, got_serial) == (lineage, serial)
    assert kept is not None and kept.read_bytes() == damaged_bytes
    with StateStore.open(path) as store:
        assert len(store.instances()) == 200 and store.lineage == lineage


def test_damaged_state_without_backup_says_so(tmp_path):
    path = tmp_path / "state.db"
    StateStore.open(path).close()
    path.write_bytes(path.read_bytes()[:1024])
    with pytest.raises(StateError, match="There is no backup"):
        StateStore.open(path)
    with pytest.raises(StateError, match="There is no backup of the state"):
        restore_backup(path)


def test_state_whose_header_is_overwritten_points_at_the_backup(tmp_path):
    path = tmp_path / "state.db"
    with StateStore.open(path) as store:
        store.backup()
    path.write_bytes(b"\x00" * 100 + path.read_bytes()[100:])
    with pytest.raises(StateError) as caught:
        StateStore.open(path)
    assert "not a bcdr state" in str(caught.value)
    assert "bcdr state restore-backup" in str(caught.value)
