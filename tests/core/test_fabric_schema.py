"""fabric.db's schema in one place (core/fabric/schema.py): versioned, migrated, never reset.

A fabric made before the schema had a version opens and keeps every row; a newer one or a
foreign SQLite file is refused and left byte for byte as it was; a failing migration leaves
the file as it was.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from core.access import Access
from core.disks import Disks
from core.errors import CoreError
from core.fabric import Fabric, schema
from core.keystore import KeyStore
from core.restorepoints import RestorePoints

# The tables as the services made them one by one before the schema had a version (a
# fabric of the previous release), subscriptions still without their name column.
_UNVERSIONED = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE secrets (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE subscriptions (id TEXT PRIMARY KEY, seed TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE resources (
    id TEXT PRIMARY KEY COLLATE NOCASE, type TEXT NOT NULL, region TEXT NOT NULL,
    properties TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE disks (
    id TEXT PRIMARY KEY COLLATE NOCASE, name TEXT NOT NULL, region TEXT NOT NULL,
    subscription TEXT NOT NULL, resource_group TEXT NOT NULL, path TEXT NOT NULL,
    size_bytes INTEGER NOT NULL, sku TEXT NOT NULL, shared INTEGER NOT NULL,
    ephemeral INTEGER NOT NULL, encryption_set_id TEXT, created_at REAL NOT NULL);
INSERT INTO meta VALUES ('tenant_id', 'tenant-1'), ('default_subscription', 'sub-1'),
    ('created_at', '1.0');
INSERT INTO secrets VALUES ('sas_key', 'aa');
INSERT INTO subscriptions VALUES ('sub-1', '1234', 1.0);
INSERT INTO resources VALUES ('/subscriptions/sub-1/resourceGroups/rg', 'rg', 'eastus',
    '{}', 1.0, 1.0);
"""


def _tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()


def _version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def test_a_new_fabric_has_every_table_at_the_latest_version(tmp_path: Path) -> None:
    with Fabric.open(tmp_path) as fabric:
        # the services create nothing: every table is there before any of them is made
        tables = _tables(tmp_path / "fabric.db")
        for service in (Disks(fabric), KeyStore(fabric)):
            assert service.fabric is fabric
    assert {"disks", "restore_points", "sas_grants", "kv_vaults", "envelope_keys"} <= tables
    assert _version(tmp_path / "fabric.db") == schema.LATEST


def test_an_unversioned_fabric_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "fabric.db"
    conn = sqlite3.connect(db)
    conn.executescript(_UNVERSIONED)
    conn.close()
    with Fabric.open(tmp_path) as fabric:
        assert fabric.tenant_id == "tenant-1"
        assert fabric.default_subscription == "sub-1"
        assert fabric.get_resource("/subscriptions/sub-1/resourceGroups/rg") is not None
        disks = Disks(fabric)
        points = RestorePoints(fabric, disks)
        Access(fabric, points)
        # the name column the old file lacked was added; the subscription kept its seed
        assert fabric.subscription("sub-1").id == "sub-1"
        assert fabric.subscription_seed("sub-1") == int("1234", 16)
    assert _version(db) == schema.LATEST
    assert {"restore_points", "sas_grants", "kv_items", "drp_envelopes"} <= _tables(db)


def test_a_newer_fabric_is_refused_untouched(tmp_path: Path) -> None:
    with Fabric.open(tmp_path):
        pass
    db = tmp_path / "fabric.db"
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {schema.LATEST + 1}")
    conn.close()
    before = db.read_bytes()
    with pytest.raises(CoreError, match="newer bcdr.*upgrade bcdr"):
        Fabric.open(tmp_path)
    assert db.read_bytes() == before


def test_a_foreign_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "fabric.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    conn.close()
    before = db.read_bytes()
    with pytest.raises(CoreError, match="is not a bcdr fabric"):
        Fabric.open(tmp_path)
    assert db.read_bytes() == before


def test_a_failing_migration_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "fabric.db"
    conn = sqlite3.connect(db)
    conn.executescript(_UNVERSIONED)
    conn.close()

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise sqlite3.OperationalError("disk I/O error")

    step = schema.LATEST + 1
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, (step, "broken", broken)])
    monkeypatch.setattr(schema, "LATEST", step)
    with pytest.raises(sqlite3.OperationalError):
        Fabric.open(tmp_path)
    # neither the baseline nor the broken step nor the version stayed: one transaction
    assert _version(db) == 0
    assert _tables(db) == {"meta", "secrets", "subscriptions", "resources", "disks"}


def test_the_cli_names_the_newer_fabric_without_a_traceback(tmp_path: Path) -> None:
    home = tmp_path / ".bcdr" / "fabric"
    with Fabric.open(home):
        pass
    conn = sqlite3.connect(home / "fabric.db")
    conn.execute(f"PRAGMA user_version = {schema.LATEST + 5}")
    conn.close()
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "-chdir", str(tmp_path), "platform", "list"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "written by a newer bcdr" in done.stderr
    assert "Traceback" not in done.stderr
