"""The key store's keys and secrets as records: versions, soft delete, secrets, copies.

A part of ``KeyStore`` (``core/keystore/store.py``). Always holds: a key or secret has one or more
versions, the latest (by creation) being the one used; a deleted one is soft-deleted,
recoverable for its vault's retention, and cannot be created again until recovered or
purged; a copy into another vault keeps every version, re-sealed under the new id.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from core.errors import AlreadyExists, CoreError, NotFound
from core.fabric.home import Fabric
from core.keystore.model import KeyInfo, check_key_spec, generate, item_id, new_version, vault_of


class ItemPart:
    """Key and secret lifecycle and secrets of ``KeyStore``."""

    fabric: Fabric
    clock: Callable[[], float]

    # -- keys and secrets: lifecycle ---------------------------------------------------------
    def _item_row(self, item: str, kind: str, deleted_ok: bool = False) -> sqlite3.Row:
        try:
            self.get_vault(vault_of(item))
        except NotFound as err:  # name the key or secret, not only its vault
            raise NotFound(f"{kind} {item.rsplit('/', 1)[-1]} ({item}): {err}") from None
        row = self._db.execute(
            "SELECT * FROM kv_items WHERE id = ? AND kind = ?", (item, kind)
        ).fetchone()
        if row is None:
            raise NotFound(f"{kind} {item} does not exist")
        if row["deleted_at"] is not None and not deleted_ok:
            raise NotFound(
                f"{kind} {row['name']} ({item}) is deleted: recover it with "
                f"`bcdr platform recover {item}`"
            )
        return row

    def _latest(self, item: str) -> sqlite3.Row:
        return self._db.execute(
            "SELECT * FROM kv_versions WHERE item_id = ? ORDER BY created_at DESC, rowid DESC "
            "LIMIT 1",
            (item,),
        ).fetchone()

    def _add_version(self, item: str, kind: str, material: bytes, kt: str | None, ks: int | None):
        name = item.rsplit("/", 1)[-1]
        version = new_version()
        sealed = self._seal(item, version, material)
        with self.fabric.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO kv_items VALUES (?, ?, ?, ?, 1, NULL, ?)",
                (item, vault_of(item), kind, name, self.clock()),
            )
            conn.execute(
                "INSERT INTO kv_versions VALUES (?, ?, ?, ?, ?, ?)",
                (item, version, kt, ks, sealed, self.clock()),
            )
        return version

    def create_key(
        self, key_id: str, key_type: str = "RSA", key_size: int | None = None
    ) -> KeyInfo:
        """A new key, or a new version of an existing one (the latest is the one used)."""
        kt, ks = check_key_spec(key_type, key_size)
        self.get_vault(vault_of(key_id))
        old = self._db.execute("SELECT deleted_at FROM kv_items WHERE id = ?", (key_id,)).fetchone()
        if old is not None and old["deleted_at"] is not None:
            raise AlreadyExists(f"key {key_id} is soft-deleted: recover it instead")
        self._add_version(key_id, "key", generate(kt, ks), kt, ks)
        return self.key_info(key_id)

    def rotate_key(self, key_id: str) -> KeyInfo:
        """A new version of a live key, of the same type and size; it becomes the latest
        (new wraps use it) while the older versions keep unwrapping what they wrapped."""
        self._item_row(key_id, "key")
        latest = self._latest(key_id)
        kt, ks = latest["key_type"], latest["key_size"]
        self._add_version(key_id, "key", generate(kt, ks), kt, ks)
        return self.key_info(key_id)

    def key_versions(self, key_id: str) -> list[str]:
        """A live key's versions, oldest first."""
        self._item_row(key_id, "key")
        rows = self._db.execute(
            "SELECT version FROM kv_versions WHERE item_id = ? ORDER BY created_at, rowid",
            (key_id,),
        )
        return [r[0] for r in rows.fetchall()]

    def key_info(self, key_id: str) -> KeyInfo:
        """A key's facts (the platform's view, no principal); NotFound when deleted."""
        row = self._item_row(key_id, "key")
        ver = self._latest(key_id)
        return KeyInfo(
            row["id"],
            row["vault_id"],
            row["name"],
            ver["key_type"],
            ver["key_size"],
            ver["version"],
            bool(row["enabled"]),
        )

    def set_key_enabled(self, key_id: str, enabled: bool) -> KeyInfo:
        row = self._item_row(key_id, "key")
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE kv_items SET enabled = ? WHERE id = ?", (int(enabled), row["id"]))
        return self.key_info(key_id)

    def delete_item(self, item: str) -> None:
        """Soft-delete a key or secret (recoverable for the vault's retention)."""
        kind = "key" if "/keys/" in item.lower() else "secret"
        row = self._item_row(item, kind)
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE kv_items SET deleted_at = ? WHERE id = ?", (self.clock(), row[0]))

    def recover_item(self, item: str) -> None:
        kind = "key" if "/keys/" in item.lower() else "secret"
        row = self._item_row(item, kind, deleted_ok=True)
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE kv_items SET deleted_at = NULL WHERE id = ?", (row[0],))

    def purge_item(self, item: str) -> None:
        kind = "key" if "/keys/" in item.lower() else "secret"
        row = self._item_row(item, kind, deleted_ok=True)
        if row["deleted_at"] is None:
            raise CoreError(f"{kind} {item} is not deleted: delete it before purging it")
        self._check_purge(self.get_vault(vault_of(item)), row["deleted_at"], f"{kind} {item}")
        with self.fabric.transaction() as conn:
            self._drop_item(conn, row["id"])

    def item_state(self, item: str) -> str:
        """``live``, ``disabled``, ``deleted`` (soft) or ``gone`` (also when its vault is)."""
        v = self.find_vault(vault_of(item))
        row = self._db.execute("SELECT * FROM kv_items WHERE id = ?", (item,)).fetchone()
        if v is None or row is None:
            return "gone"
        if v.deleted_at is not None or row["deleted_at"] is not None:
            return "deleted"
        return "live" if row["enabled"] else "disabled"

    def list_items(self, vault_id: str, kind: str) -> list[str]:
        rows = self._db.execute(
            "SELECT id FROM kv_items WHERE vault_id = ? AND kind = ? AND deleted_at IS NULL "
            "ORDER BY id",
            (vault_id, kind),
        )
        return [r[0] for r in rows.fetchall()]

    # -- secrets -----------------------------------------------------------------------------
    def set_secret(self, secret_id: str, value: str, principal: str) -> str:
        """Store a new version of the secret (permission ``set``); its version."""
        self.get_vault(vault_of(secret_id))
        self._require(secret_id, principal, "secret", "set")
        old = self._db.execute(
            "SELECT deleted_at FROM kv_items WHERE id = ?", (secret_id,)
        ).fetchone()
        if old is not None and old["deleted_at"] is not None:
            raise AlreadyExists(f"secret {secret_id} is soft-deleted: recover it instead")
        return self._add_version(secret_id, "secret", value.encode(), None, None)

    def get_secret(self, secret_id: str, principal: str) -> str:
        self._item_row(secret_id, "secret")
        self._require(secret_id, principal, "secret", "get")
        ver = self._latest(secret_id)
        return self._open(secret_id, ver["version"], ver["wrapped"]).decode()

    def secret_version(self, secret_id: str) -> str:
        self._item_row(secret_id, "secret")
        return self._latest(secret_id)["version"]

    def list_secrets(self, vault_id: str, principal: str) -> list[str]:
        self._require(vault_id + "/secrets/*", principal, "secret", "list")
        return self.list_items(vault_id, "secret")

    def delete_secret(self, secret_id: str, principal: str) -> None:
        self._require(secret_id, principal, "secret", "delete")
        self.delete_item(secret_id)

    def copy_item(self, item: str, target_vault_id: str) -> str:
        """Copy a key or secret with all its versions into another vault (a restore of its
        backup, done by the platform); the new item's id."""
        kind = "key" if "/keys/" in item.lower() else "secret"
        row = self._item_row(item, kind)
        self.get_vault(target_vault_id)
        new = item_id(target_vault_id, kind, row["name"])
        versions = self._db.execute(
            "SELECT * FROM kv_versions WHERE item_id = ? ORDER BY created_at, rowid", (item,)
        ).fetchall()
        with self.fabric.transaction() as conn:
            if conn.execute("SELECT 1 FROM kv_items WHERE id = ?", (new,)).fetchone():
                raise AlreadyExists(f"{kind} {new} exists already")
            conn.execute(
                "INSERT INTO kv_items VALUES (?, ?, ?, ?, ?, NULL, ?)",
                (new, target_vault_id, kind, row["name"], row["enabled"], self.clock()),
            )
            for ver in versions:
                plain = self._open(item, ver["version"], ver["wrapped"])
                conn.execute(
                    "INSERT INTO kv_versions VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        new,
                        ver["version"],
                        ver["key_type"],
                        ver["key_size"],
                        self._seal(new, ver["version"], plain),
                        ver["created_at"],
                    ),
                )
        return new
