"""The key store's access checks and disk encryption sets.

Always holds: a principal may use a key or secret only when one of the vault's access
policies lists the permission for it (or ``all``), or a grant made for a disk encryption set
does; a refusal is ``Forbidden`` naming the vault, the principal and the permission. A disk
encryption set needs a vault with purge protection, and its identity is granted exactly
get, wrapKey and unwrapKey on its key (its older grants are revoked first).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from core.errors import CoreError, Forbidden, NotFound
from core.fabric.home import Fabric
from core.keystore.model import EncryptionSet, des_principal, vault_of
from core.keystore.vaults import Principals, Vaults

if TYPE_CHECKING:
    from core.keystore.keys import Keys


class Access:
    """Access policies and grants: who may use which key or secret."""

    def __init__(self, fabric: Fabric, vaults: Vaults, principals: Principals) -> None:
        self.fabric = fabric
        self.vaults = vaults
        self.principals = principals

    def allowed(self, item: str, principal: str, kind: str, permission: str) -> bool:
        v = self.vaults.get(vault_of(item))
        want = permission.lower()
        field_name = f"{kind}_permissions"
        for policy in v.policies:
            if self.principals.resolve(str(policy.get("object_id") or "")) != principal:
                continue
            granted = {str(p).lower() for p in policy.get(field_name) or []}
            if want in granted or "all" in granted:
                return True
        rows = self.fabric.db().execute(
            "SELECT permissions FROM kv_grants WHERE object_id = ? AND item_id IN (?, ?)",
            (principal, item, v.id),
        )
        return any(want in {p.lower() for p in json.loads(r[0])} for r in rows.fetchall())

    def require(self, item: str, principal: str, kind: str, permission: str) -> None:
        """``Forbidden`` (naming the vault, principal and permission) unless ``allowed``."""
        if not self.allowed(item, principal, kind, permission):
            v = self.vaults.get(vault_of(item))
            raise Forbidden(
                f"key vault {v.name}: principal {principal} "
                f"({self.principals.name_of(principal)}) lacks {kind} permission "
                f"{permission!r} for {item.rsplit('/', 1)[-1]}; an access_policy of the vault "
                f"for object_id {principal} must list {permission!r} in {kind}_permissions"
            )

    def grant(self, source: str, object_id: str, item: str, permissions: list[str]) -> None:
        """Give ``object_id`` ``permissions`` on a key (or a whole vault), on behalf of
        ``source`` (a disk encryption set), outside the vault's access policies."""
        with self.fabric.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO kv_grants VALUES (?, ?, ?, ?)",
                (source, object_id, item, json.dumps(permissions)),
            )

    def revoke(self, source: str) -> None:
        with self.fabric.transaction() as conn:
            conn.execute("DELETE FROM kv_grants WHERE source = ?", (source,))


class EncryptionSets:
    """Disk encryption sets: a key and a managed identity granted its use."""

    def __init__(
        self,
        fabric: Fabric,
        clock: Callable[[], float],
        vaults: Vaults,
        access: Access,
        keys: Keys,
    ) -> None:
        self.fabric = fabric
        self.clock = clock
        self.vaults = vaults
        self.access = access
        self.keys = keys

    def create(self, des_id: str, key_id: str, region: str) -> str:
        """Record a disk encryption set on ``key_id`` and grant its identity wrapKey,
        unwrapKey and get on the key; its principal id."""
        info = self.keys.info(key_id)
        v = self.vaults.get(info.vault_id)
        if not v.purge_protection:
            raise CoreError(
                f"key vault {v.name} has no purge protection: a disk encryption set needs a "
                "vault with soft delete and purge protection; set purge_protection = true"
            )
        principal = des_principal(des_id)
        with self.fabric.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO kv_des VALUES (?, ?, ?, ?, ?)",
                (des_id, key_id, principal, region, self.clock()),
            )
        self.access.revoke(des_id)
        self.access.grant(des_id, principal, key_id, ["get", "wrapKey", "unwrapKey"])
        return principal

    def key_of(self, des_id: str) -> str:
        """The key id a disk encryption set uses."""
        db = self.fabric.db()
        row = db.execute("SELECT key_id FROM kv_des WHERE id = ?", (des_id,)).fetchone()
        if row is None:
            raise NotFound(f"disk encryption set {des_id} does not exist")
        return row[0]

    def get(self, des_id: str) -> EncryptionSet | None:
        row = self.fabric.db().execute("SELECT * FROM kv_des WHERE id = ?", (des_id,)).fetchone()
        if row is None:
            return None
        return EncryptionSet(
            row["id"], row["key_id"], row["principal_id"], row["region"], row["created_at"]
        )

    def delete(self, des_id: str) -> None:
        self.access.revoke(des_id)
        with self.fabric.transaction() as conn:
            conn.execute("DELETE FROM kv_des WHERE id = ?", (des_id,))
