"""The schema of ``fabric.db`` in one place: every table of every core service, versioned.

The version is SQLite's ``user_version``. A fabric made before the schema had a version
(tables present, version 0) is stamped by migration 1, whose statements are all ``IF NOT
EXISTS`` and which adds the column such a fabric may lack. Always holds: ``check`` reads the
file without writing it and refuses a newer or foreign file before anything else touches
it; ``migrate`` runs every pending migration and sets the version in one transaction, so a
failing migration leaves the file as it was; services never create tables themselves.
A new table or column is a new entry at the end of ``MIGRATIONS``, never an edit of one
that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from core.errors import CoreError

_BASELINE = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS secrets (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY, seed TEXT NOT NULL, created_at REAL NOT NULL, name TEXT);
CREATE TABLE IF NOT EXISTS resources (
    id TEXT PRIMARY KEY COLLATE NOCASE, type TEXT NOT NULL, region TEXT NOT NULL,
    properties TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS resources_type ON resources(type);

CREATE TABLE IF NOT EXISTS disks (
    id TEXT PRIMARY KEY COLLATE NOCASE, name TEXT NOT NULL, region TEXT NOT NULL,
    subscription TEXT NOT NULL, resource_group TEXT NOT NULL, path TEXT NOT NULL,
    size_bytes INTEGER NOT NULL, sku TEXT NOT NULL, shared INTEGER NOT NULL,
    ephemeral INTEGER NOT NULL, encryption_set_id TEXT, created_at REAL NOT NULL);

CREATE TABLE IF NOT EXISTS rp_collections (
    id TEXT PRIMARY KEY COLLATE NOCASE, name TEXT NOT NULL, region TEXT NOT NULL,
    subscription TEXT NOT NULL, source_vm_id TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS restore_points (
    id TEXT PRIMARY KEY COLLATE NOCASE, collection_id TEXT NOT NULL, name TEXT NOT NULL,
    region TEXT NOT NULL, subscription TEXT NOT NULL, created_at REAL NOT NULL,
    consistency_mode TEXT NOT NULL, consistency_achieved TEXT NOT NULL, warnings TEXT NOT NULL,
    source_metadata TEXT NOT NULL, copied_from TEXT);
CREATE TABLE IF NOT EXISTS disk_restore_points (
    id TEXT PRIMARY KEY COLLATE NOCASE, restore_point_id TEXT NOT NULL, disk_id TEXT NOT NULL,
    disk_name TEXT NOT NULL, size_bytes INTEGER NOT NULL, manifest TEXT NOT NULL,
    bytes_stored INTEGER NOT NULL, bytes_changed INTEGER NOT NULL,
    blocks_total INTEGER NOT NULL, blocks_new INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS drp_by_rp ON disk_restore_points(restore_point_id);
CREATE INDEX IF NOT EXISTS drp_by_disk ON disk_restore_points(disk_id);
CREATE TABLE IF NOT EXISTS cbt_bases (
    disk_id TEXT PRIMARY KEY COLLATE NOCASE, disk_restore_point_id TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS sas_grants (
    id TEXT PRIMARY KEY, disk_restore_point_id TEXT NOT NULL, starts_at INTEGER NOT NULL,
    signed_expiry INTEGER NOT NULL, expires_at REAL NOT NULL, revoked_at REAL,
    created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sas_grants_drp ON sas_grants(disk_restore_point_id);

CREATE TABLE IF NOT EXISTS kv_principals (
    object_id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS kv_vaults (
    id TEXT PRIMARY KEY COLLATE NOCASE, name TEXT NOT NULL COLLATE NOCASE, region TEXT NOT NULL,
    subscription TEXT NOT NULL, retention_days INTEGER NOT NULL, purge_protection INTEGER NOT NULL,
    policies TEXT NOT NULL, deleted_at REAL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS kv_items (
    id TEXT PRIMARY KEY COLLATE NOCASE, vault_id TEXT NOT NULL COLLATE NOCASE,
    kind TEXT NOT NULL, name TEXT NOT NULL, enabled INTEGER NOT NULL, deleted_at REAL,
    created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS kv_versions (
    item_id TEXT NOT NULL COLLATE NOCASE, version TEXT NOT NULL, key_type TEXT,
    key_size INTEGER, wrapped BLOB NOT NULL, created_at REAL NOT NULL,
    PRIMARY KEY (item_id, version));
CREATE TABLE IF NOT EXISTS kv_grants (
    source TEXT NOT NULL COLLATE NOCASE, object_id TEXT NOT NULL, item_id TEXT NOT NULL
    COLLATE NOCASE, permissions TEXT NOT NULL, PRIMARY KEY (source, object_id, item_id));
CREATE TABLE IF NOT EXISTS kv_des (
    id TEXT PRIMARY KEY COLLATE NOCASE, key_id TEXT NOT NULL, principal_id TEXT NOT NULL,
    region TEXT NOT NULL, created_at REAL NOT NULL);

CREATE TABLE IF NOT EXISTS envelope_keys (
    disk_id TEXT PRIMARY KEY COLLATE NOCASE, des_id TEXT NOT NULL, key_id TEXT NOT NULL,
    key_version TEXT NOT NULL, wrapped BLOB NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS drp_envelopes (
    disk_restore_point_id TEXT PRIMARY KEY COLLATE NOCASE, disk_id TEXT NOT NULL,
    des_id TEXT NOT NULL, key_id TEXT NOT NULL, key_version TEXT NOT NULL,
    wrapped BLOB NOT NULL);
"""


def _statements(script: str) -> list[str]:
    return [s for s in (part.strip() for part in script.split(";")) if s]


def _baseline(conn: sqlite3.Connection) -> None:
    """Version 1: the tables as the services made them before the schema had a version."""
    for statement in _statements(_BASELINE):
        conn.execute(statement)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(subscriptions)")}
    if "name" not in columns:  # a fabric made before subscriptions had names
        conn.execute("ALTER TABLE subscriptions ADD COLUMN name TEXT")


_STORAGE_ACCOUNTS = """
CREATE TABLE IF NOT EXISTS storage_accounts (
    id TEXT PRIMARY KEY COLLATE NOCASE, name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    region TEXT NOT NULL, subscription TEXT NOT NULL, kind TEXT NOT NULL, tier TEXT NOT NULL,
    public_network_access INTEGER NOT NULL, trusted_services TEXT NOT NULL, endpoint TEXT,
    created_at REAL NOT NULL)
"""


def _storage_accounts(conn: sqlite3.Connection) -> None:
    """Version 2: storage accounts (``core.blobs``), their names unique in the fabric and
    each with the endpoint its blobs live on (NULL: the fabric's own folders)."""
    conn.execute(_STORAGE_ACCOUNTS)


_PROTECTION = """
CREATE TABLE IF NOT EXISTS bk_vaults (
    id TEXT PRIMARY KEY COLLATE NOCASE, name TEXT NOT NULL, region TEXT NOT NULL,
    subscription TEXT NOT NULL, resource_group TEXT NOT NULL, settings TEXT NOT NULL,
    has_points INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS bk_policies (
    id TEXT PRIMARY KEY COLLATE NOCASE, vault_id TEXT NOT NULL COLLATE NOCASE,
    policy TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS bk_items (
    id TEXT PRIMARY KEY COLLATE NOCASE, vault_id TEXT NOT NULL COLLATE NOCASE,
    vm_id TEXT NOT NULL COLLATE NOCASE, policy_id TEXT NOT NULL COLLATE NOCASE,
    exclude_luns TEXT NOT NULL, include_luns TEXT NOT NULL, state TEXT NOT NULL,
    collection_id TEXT NOT NULL COLLATE NOCASE, job_count INTEGER NOT NULL DEFAULT 0,
    job_guid TEXT NOT NULL, last_slot REAL, last_backup_at REAL, created_at REAL NOT NULL,
    stopped_at REAL);
CREATE TABLE IF NOT EXISTS bk_points (
    id TEXT PRIMARY KEY COLLATE NOCASE, item_id TEXT NOT NULL COLLATE NOCASE,
    vault_id TEXT NOT NULL COLLATE NOCASE, time REAL NOT NULL, retain_until REAL,
    deleted_at REAL, tier TEXT NOT NULL, tier_at REAL NOT NULL, locked_until REAL,
    consistency TEXT NOT NULL, created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS bk_points_item ON bk_points(item_id);
CREATE TABLE IF NOT EXISTS bk_slots (
    item_id TEXT NOT NULL COLLATE NOCASE, slot REAL NOT NULL, task_id TEXT,
    PRIMARY KEY (item_id, slot));
CREATE TABLE IF NOT EXISTS bk_jobs (
    task_id TEXT PRIMARY KEY, item_id TEXT NOT NULL COLLATE NOCASE,
    vault_id TEXT NOT NULL COLLATE NOCASE, kind TEXT NOT NULL, scheduled_start REAL NOT NULL,
    scheduled_start_ticks INTEGER NOT NULL, started_at REAL, finished_at REAL,
    status TEXT NOT NULL, consistency TEXT, bytes_stored INTEGER NOT NULL DEFAULT 0,
    recovery_point_id TEXT, error TEXT, warnings TEXT NOT NULL, acknowledged INTEGER NOT NULL,
    settings TEXT NOT NULL, sealed BLOB);
CREATE INDEX IF NOT EXISTS bk_jobs_item ON bk_jobs(item_id)
"""


def _protection(conn: sqlite3.Connection) -> None:
    """Version 3: scheduled VM protection (``core.protection``): vaults, policies, protected
    items, their recovery points, slots and jobs; and which block store a restore point's
    blocks are in (``restore_points.store``, NULL: its region's own store)."""
    for statement in _statements(_PROTECTION):
        conn.execute(statement)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(restore_points)")}
    if "store" not in columns:  # a fabric stamped again from version 0 has it already
        conn.execute("ALTER TABLE restore_points ADD COLUMN store TEXT")


MIGRATIONS: list[tuple[int, str, Callable[[sqlite3.Connection], None]]] = [
    (1, "baseline", _baseline),
    (2, "storage accounts", _storage_accounts),
    (3, "protection", _protection),
]
LATEST = MIGRATIONS[-1][0]

# the tables every bcdr fabric has had since its first version: a file with tables but none
# of these is some other program's database
_MARKERS = {"meta", "subscriptions"}


def _newer(where: str, version: int) -> CoreError:
    return CoreError(
        f"{where} was written by a newer bcdr (fabric schema version {version}; this one "
        f"knows up to {LATEST}); upgrade bcdr to use it. The file was not changed."
    )


def check(path: Path) -> int:
    """The schema version of the fabric at ``path`` (0: new or made before versions), read
    without writing; a newer or foreign file is refused with what to do."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise CoreError(
            f"{path} is not a bcdr fabric ({exc}); point the provider's home at another "
            "folder or move the file away"
        ) from exc
    if version > LATEST:
        raise _newer(str(path), version)
    if tables and not _MARKERS <= tables:
        raise CoreError(
            f"{path} is not a bcdr fabric (it has other tables); point the provider's home "
            "at another folder or move the file away. The file was not changed."
        )
    return version


def migrate(conn: sqlite3.Connection) -> int:
    """Run every pending migration and set the version, in one transaction (``conn`` in
    autocommit mode, as the fabric's connections are). Returns the version now."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > LATEST:  # made newer between check() and now; rolled back below
            raise _newer("fabric.db", version)
        for number, _name, step in MIGRATIONS:
            if number > version:
                step(conn)
        conn.execute(f"PRAGMA user_version = {LATEST}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return LATEST
