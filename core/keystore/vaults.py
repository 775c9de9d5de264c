"""The key store's principals, master-key sealing and vaults.

Always holds: key material and secret values reach ``kv_versions`` only sealed by the
fabric's master key (``Sealer``: AES-256-GCM, the row's id and version bound as associated
data); a deleted vault is soft-deleted and recoverable for its retention (7-90 days), and
what was deleted longer ago than that is purged on the next look-up; purge protection, once
on, stays on and refuses purges before the retention ends.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import AlreadyExists, CoreError, NotFound
from core.fabric.home import Fabric
from core.keystore.model import DAY, SERVICE, USER, Vault, check_retention, recoverable_until


class Sealer:
    """Seals and opens key material and secret values with the fabric's master key."""

    def __init__(self, master_key: bytes) -> None:
        self._master = AESGCM(master_key)

    def seal(self, item: str, version: str, plain: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._master.encrypt(nonce, plain, f"{item.lower()}|{version}".encode())

    def open(self, item: str, version: str, sealed: bytes) -> bytes:
        aad = f"{item.lower()}|{version}".encode()
        return self._master.decrypt(sealed[:12], sealed[12:], aad)


class Principals:
    """The fabric's principals: its user, the restore service and managed identities."""

    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric

    def object_id(self, name: str) -> str:
        """The object id of the principal named ``name``."""
        row = self.fabric.db().execute(
            "SELECT object_id FROM kv_principals WHERE name = ?", (name,)
        )
        found = row.fetchone()
        if found is None:
            raise NotFound(f"no principal named {name!r}")
        return found[0]

    def user(self) -> str:
        """The object id of the fabric's current user (the subscription user)."""
        return self.object_id(USER)

    def service(self) -> str:
        """The object id of the backup/restore service's principal."""
        return self.object_id(SERVICE)

    def name_of(self, object_id: str) -> str:
        db = self.fabric.db()
        row = db.execute(
            "SELECT name FROM kv_principals WHERE object_id = ?", (object_id,)
        ).fetchone()
        if row is not None:
            return row[0]
        des = db.execute("SELECT id FROM kv_des WHERE principal_id = ?", (object_id,))
        hit = des.fetchone()
        return f"managed identity of {hit[0]}" if hit else "unknown principal"

    def resolve(self, object_id: str) -> str:
        """An access policy's object id: ``current-user`` stands for the fabric's user."""
        if isinstance(object_id, str) and object_id.lower() in ("current-user", "current_user"):
            return self.user()
        return object_id


def drop_item(conn: sqlite3.Connection, item: str) -> None:
    """Delete a key or secret for good: its versions, grants and row (in ``conn``'s
    transaction)."""
    conn.execute("DELETE FROM kv_versions WHERE item_id = ?", (item,))
    conn.execute("DELETE FROM kv_grants WHERE item_id = ?", (item,))
    conn.execute("DELETE FROM kv_items WHERE id = ?", (item,))


class Vaults:
    """The key vaults of one fabric: lifecycle, soft delete and purge."""

    def __init__(self, fabric: Fabric, clock: Callable[[], float]) -> None:
        self.fabric = fabric
        self.clock = clock

    def purge_expired(self) -> None:
        """Purge what was deleted longer ago than its vault's retention."""
        now = self.clock()
        pending = (
            self.fabric.db()
            .execute(
                "SELECT 1 FROM kv_vaults WHERE deleted_at IS NOT NULL UNION ALL "
                "SELECT 1 FROM kv_items WHERE deleted_at IS NOT NULL LIMIT 1"
            )
            .fetchone()
        )
        if pending is None:
            return
        with self.fabric.transaction() as conn:
            for v in conn.execute("SELECT * FROM kv_vaults WHERE deleted_at IS NOT NULL"):
                if v["deleted_at"] + v["retention_days"] * DAY <= now:
                    self._drop(conn, v["id"])
            rows = conn.execute(
                "SELECT i.id, i.deleted_at, v.retention_days FROM kv_items i JOIN kv_vaults v "
                "ON v.id = i.vault_id WHERE i.deleted_at IS NOT NULL"
            ).fetchall()
            for r in rows:
                if r["deleted_at"] + r["retention_days"] * DAY <= now:
                    drop_item(conn, r["id"])

    def create(
        self,
        vault_id: str,
        *,
        name: str,
        region: str,
        subscription: str,
        retention_days: int = 90,
        purge_protection: bool = False,
        policies: list[dict] | None = None,
    ) -> Vault:
        check_retention(retention_days)
        self.purge_expired()
        with self.fabric.transaction() as conn:
            old = conn.execute("SELECT * FROM kv_vaults WHERE id = ?", (vault_id,)).fetchone()
            if old is not None:
                what = "a soft-deleted" if old["deleted_at"] is not None else "a"
                raise AlreadyExists(
                    f"{what} key vault {vault_id} exists already: recover it "
                    "(bcdr platform recover ID) or, without purge protection, purge it"
                )
            twin = conn.execute(
                "SELECT id FROM kv_vaults WHERE name = ? AND id != ?", (name, vault_id)
            ).fetchone()
            if twin is not None:
                raise AlreadyExists(
                    f"key vault name {name!r} is taken by {twin[0]} (vault names are unique, "
                    "deleted ones included until purged): choose another name"
                )
            conn.execute(
                "INSERT INTO kv_vaults VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                (
                    vault_id,
                    name,
                    region,
                    subscription,
                    int(retention_days),
                    int(bool(purge_protection)),
                    json.dumps(policies or []),
                    self.clock(),
                ),
            )
        return self.get(vault_id)

    def update(
        self, vault_id: str, *, retention_days: int, purge_protection: bool, policies: list[dict]
    ) -> Vault:
        check_retention(retention_days)
        v = self.get(vault_id)
        if v.purge_protection and not purge_protection:
            raise CoreError(
                f"key vault {v.name}: purge protection cannot be turned off once on; keep "
                "purge_protection = true"
            )
        with self.fabric.transaction() as conn:
            conn.execute(
                "UPDATE kv_vaults SET retention_days = ?, purge_protection = ?, policies = ? "
                "WHERE id = ?",
                (int(retention_days), int(bool(purge_protection)), json.dumps(policies), v.id),
            )
        return self.get(vault_id)

    def find(self, vault_id: str) -> Vault | None:
        """The vault, deleted or not; None when there is none (or it was purged)."""
        self.purge_expired()
        db = self.fabric.db()
        row = db.execute("SELECT * FROM kv_vaults WHERE id = ?", (vault_id,)).fetchone()
        if row is None:
            return None
        return Vault(
            row["id"],
            row["name"],
            row["region"],
            row["subscription"],
            row["retention_days"],
            bool(row["purge_protection"]),
            json.loads(row["policies"]),
            row["deleted_at"],
        )

    def named(self, name: str) -> Vault | None:
        """The vault (deleted or not) that holds ``name``: vault names are unique."""
        self.purge_expired()
        db = self.fabric.db()
        row = db.execute("SELECT id FROM kv_vaults WHERE name = ?", (name,)).fetchone()
        return self.find(row[0]) if row else None

    def get(self, vault_id: str) -> Vault:
        """A live vault; NotFound (saying it can be recovered) when it is soft-deleted."""
        v = self.find(vault_id)
        if v is None:
            raise NotFound(f"key vault {vault_id} does not exist")
        if v.deleted_at is not None:
            until = recoverable_until(v, v.deleted_at)
            raise NotFound(
                f"key vault {v.name} is deleted (recoverable until {until}): "
                f"recover it with `bcdr platform recover {v.id}`"
            )
        return v

    def list(self, deleted: bool = False) -> list[Vault]:
        self.purge_expired()
        cond = "IS NOT NULL" if deleted else "IS NULL"
        rows = self.fabric.db().execute(
            f"SELECT id FROM kv_vaults WHERE deleted_at {cond} ORDER BY id"
        )
        return [v for r in rows.fetchall() if (v := self.find(r[0])) is not None]

    def delete(self, vault_id: str) -> Vault:
        """Soft-delete: recoverable for the vault's retention days."""
        v = self.get(vault_id)
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE kv_vaults SET deleted_at = ? WHERE id = ?", (self.clock(), v.id))
        return self.find(vault_id) or v

    def recover(self, vault_id: str) -> Vault:
        v = self.find(vault_id)
        if v is None:
            raise NotFound(f"key vault {vault_id} does not exist and cannot be recovered")
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE kv_vaults SET deleted_at = NULL WHERE id = ?", (v.id,))
        return self.get(vault_id)

    def purge(self, vault_id: str) -> None:
        """Delete a soft-deleted vault for good; refused while purge protection holds it."""
        v = self.find(vault_id)
        if v is None:
            raise NotFound(f"key vault {vault_id} does not exist")
        if v.deleted_at is None:
            raise CoreError(f"key vault {v.name} is not deleted: delete it before purging it")
        self.check_purge(v, v.deleted_at, f"key vault {v.name}")
        with self.fabric.transaction() as conn:
            self._drop(conn, v.id)

    def check_purge(self, v: Vault, deleted_at: float, what: str) -> None:
        """Refuse to purge ``what`` (of vault ``v``) while purge protection holds it."""
        if v.purge_protection and self.clock() < deleted_at + v.retention_days * DAY:
            until = recoverable_until(v, deleted_at)
            raise CoreError(
                f"{what} is protected from purge (purge protection) until {until}: "
                "it is purged then by itself; until then it can only be recovered"
            )

    def _drop(self, conn: sqlite3.Connection, vault_id: str) -> None:
        for r in conn.execute("SELECT id FROM kv_items WHERE vault_id = ?", (vault_id,)).fetchall():
            drop_item(conn, r[0])
        conn.execute("DELETE FROM kv_grants WHERE item_id = ?", (vault_id,))
        conn.execute("DELETE FROM kv_vaults WHERE id = ?", (vault_id,))
