"""The key store's keys and secrets as records: versions, soft delete, copies; and secrets.

Always holds: a key or secret has one or more versions, the latest (by creation) being the
one used; a deleted one is soft-deleted, recoverable for its vault's retention, and cannot
be created again until recovered or purged; a copy into another vault keeps every version,
re-sealed under the new id; a secret's value is read or written only by a principal the
vault's access policies allow.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from core.errors import AlreadyExists, CoreError, NotFound
from core.fabric.home import Fabric
from core.keystore.access import Access
from core.keystore.model import item_id, new_version, vault_of
from core.keystore.vaults import Sealer, Vaults, drop_item


def kind_of(item: str) -> str:
    """``key`` or ``secret``, from an item's id."""
    return "key" if "/keys/" in item.lower() else "secret"


class Items:
    """The key and secret rows of the vaults and their sealed versions."""

    def __init__(
        self, fabric: Fabric, clock: Callable[[], float], vaults: Vaults, sealer: Sealer
    ) -> None:
        self.fabric = fabric
        self.clock = clock
        self.vaults = vaults
        self.sealer = sealer

    def row(self, item: str, kind: str, deleted_ok: bool = False) -> sqlite3.Row:
        """The item's row; NotFound when it (or its vault) is missing, or is deleted and
        ``deleted_ok`` is not set."""
        try:
            self.vaults.get(vault_of(item))
        except NotFound as err:  # name the key or secret, not only its vault
            raise NotFound(f"{kind} {item.rsplit('/', 1)[-1]} ({item}): {err}") from None
        row = (
            self.fabric.db()
            .execute("SELECT * FROM kv_items WHERE id = ? AND kind = ?", (item, kind))
            .fetchone()
        )
        if row is None:
            raise NotFound(f"{kind} {item} does not exist")
        if row["deleted_at"] is not None and not deleted_ok:
            raise NotFound(
                f"{kind} {row['name']} ({item}) is deleted: recover it with "
                f"`bcdr platform recover {item}`"
            )
        return row

    def latest(self, item: str) -> sqlite3.Row:
        """The item's latest version row."""
        return (
            self.fabric.db()
            .execute(
                "SELECT * FROM kv_versions WHERE item_id = ? ORDER BY created_at DESC, rowid DESC "
                "LIMIT 1",
                (item,),
            )
            .fetchone()
        )

    def version(self, item: str, version: str) -> sqlite3.Row | None:
        """One version row of the item; None when there is no such version."""
        return (
            self.fabric.db()
            .execute("SELECT * FROM kv_versions WHERE item_id = ? AND version = ?", (item, version))
            .fetchone()
        )

    def deleted_at(self, item: str) -> float | None:
        """When the item was soft-deleted; None when live or when there is none."""
        row = (
            self.fabric.db()
            .execute("SELECT deleted_at FROM kv_items WHERE id = ?", (item,))
            .fetchone()
        )
        return None if row is None else row["deleted_at"]

    def add_version(
        self, item: str, kind: str, material: bytes, kt: str | None, ks: int | None
    ) -> str:
        """Seal ``material`` as a new version of the item (made when missing); its version."""
        name = item.rsplit("/", 1)[-1]
        version = new_version()
        sealed = self.sealer.seal(item, version, material)
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

    def delete(self, item: str) -> None:
        """Soft-delete a key or secret (recoverable for the vault's retention)."""
        row = self.row(item, kind_of(item))
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE kv_items SET deleted_at = ? WHERE id = ?", (self.clock(), row[0]))

    def recover(self, item: str) -> None:
        row = self.row(item, kind_of(item), deleted_ok=True)
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE kv_items SET deleted_at = NULL WHERE id = ?", (row[0],))

    def purge(self, item: str) -> None:
        kind = kind_of(item)
        row = self.row(item, kind, deleted_ok=True)
        if row["deleted_at"] is None:
            raise CoreError(f"{kind} {item} is not deleted: delete it before purging it")
        self.vaults.check_purge(
            self.vaults.get(vault_of(item)), row["deleted_at"], f"{kind} {item}"
        )
        with self.fabric.transaction() as conn:
            drop_item(conn, row["id"])

    def state(self, item: str) -> str:
        """``live``, ``disabled``, ``deleted`` (soft) or ``gone`` (also when its vault is)."""
        v = self.vaults.find(vault_of(item))
        row = self.fabric.db().execute("SELECT * FROM kv_items WHERE id = ?", (item,)).fetchone()
        if v is None or row is None:
            return "gone"
        if v.deleted_at is not None or row["deleted_at"] is not None:
            return "deleted"
        return "live" if row["enabled"] else "disabled"

    def list(self, vault_id: str, kind: str) -> list[str]:
        rows = self.fabric.db().execute(
            "SELECT id FROM kv_items WHERE vault_id = ? AND kind = ? AND deleted_at IS NULL "
            "ORDER BY id",
            (vault_id, kind),
        )
        return [r[0] for r in rows.fetchall()]

    def copy(self, item: str, target_vault_id: str) -> str:
        """Copy a key or secret with all its versions into another vault (a restore of its
        backup, done by the platform); the new item's id."""
        kind = kind_of(item)
        row = self.row(item, kind)
        self.vaults.get(target_vault_id)
        new = item_id(target_vault_id, kind, row["name"])
        versions = (
            self.fabric.db()
            .execute(
                "SELECT * FROM kv_versions WHERE item_id = ? ORDER BY created_at, rowid", (item,)
            )
            .fetchall()
        )
        with self.fabric.transaction() as conn:
            if conn.execute("SELECT 1 FROM kv_items WHERE id = ?", (new,)).fetchone():
                raise AlreadyExists(f"{kind} {new} exists already")
            conn.execute(
                "INSERT INTO kv_items VALUES (?, ?, ?, ?, ?, NULL, ?)",
                (new, target_vault_id, kind, row["name"], row["enabled"], self.clock()),
            )
            for ver in versions:
                plain = self.sealer.open(item, ver["version"], ver["wrapped"])
                conn.execute(
                    "INSERT INTO kv_versions VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        new,
                        ver["version"],
                        ver["key_type"],
                        ver["key_size"],
                        self.sealer.seal(new, ver["version"], plain),
                        ver["created_at"],
                    ),
                )
        return new


class Secrets:
    """Secret values, each read or written by a principal the access policies allow."""

    def __init__(self, vaults: Vaults, items: Items, access: Access, sealer: Sealer) -> None:
        self.vaults = vaults
        self.items = items
        self.access = access
        self.sealer = sealer

    def set(self, secret_id: str, value: str, principal: str) -> str:
        """Store a new version of the secret (permission ``set``); its version."""
        self.vaults.get(vault_of(secret_id))
        self.access.require(secret_id, principal, "secret", "set")
        if self.items.deleted_at(secret_id) is not None:
            raise AlreadyExists(f"secret {secret_id} is soft-deleted: recover it instead")
        return self.items.add_version(secret_id, "secret", value.encode(), None, None)

    def get(self, secret_id: str, principal: str) -> str:
        self.items.row(secret_id, "secret")
        self.access.require(secret_id, principal, "secret", "get")
        ver = self.items.latest(secret_id)
        return self.sealer.open(secret_id, ver["version"], ver["wrapped"]).decode()

    def version(self, secret_id: str) -> str:
        self.items.row(secret_id, "secret")
        return self.items.latest(secret_id)["version"]

    def list(self, vault_id: str, principal: str) -> list[str]:
        self.access.require(vault_id + "/secrets/*", principal, "secret", "list")
        return self.items.list(vault_id, "secret")

    def delete(self, secret_id: str, principal: str) -> None:
        self.access.require(secret_id, principal, "secret", "delete")
        self.items.delete(secret_id)
