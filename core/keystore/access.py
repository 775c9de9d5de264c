"""The key store's access checks and disk encryption sets (a part of ``KeyStore``).

Always holds: a principal may use a key or secret only when one of the vault's access
policies lists the permission for it (or ``all``), or a grant made for a disk encryption set
does; a refusal is ``Forbidden`` naming the vault, the principal and the permission. A disk
encryption set needs a vault with purge protection, and its identity is granted exactly
get, wrapKey and unwrapKey on its key (its older grants are revoked first).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from core.errors import CoreError, Forbidden, NotFound
from core.fabric.home import Fabric
from core.keystore.model import des_principal, vault_of


class AccessPart:
    """Access policies, grants and disk encryption sets of ``KeyStore``."""

    fabric: Fabric
    clock: Callable[[], float]

    # -- access ------------------------------------------------------------------------------
    def allowed(self, item: str, principal: str, kind: str, permission: str) -> bool:
        v = self.get_vault(vault_of(item))
        want = permission.lower()
        field_name = f"{kind}_permissions"
        for policy in v.policies:
            if self.resolve(str(policy.get("object_id") or "")) != principal:
                continue
            granted = {str(p).lower() for p in policy.get(field_name) or []}
            if want in granted or "all" in granted:
                return True
        rows = self._db.execute(
            "SELECT permissions FROM kv_grants WHERE object_id = ? AND item_id IN (?, ?)",
            (principal, item, v.id),
        )
        return any(want in {p.lower() for p in json.loads(r[0])} for r in rows.fetchall())

    def _require(self, item: str, principal: str, kind: str, permission: str) -> None:
        if not self.allowed(item, principal, kind, permission):
            v = self.get_vault(vault_of(item))
            raise Forbidden(
                f"key vault {v.name}: principal {principal} ({self.principal_name(principal)}) "
                f"lacks {kind} permission {permission!r} for {item.rsplit('/', 1)[-1]}; an "
                f"access_policy of the vault for object_id {principal} must list "
                f"{permission!r} in {kind}_permissions"
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

    # -- disk encryption sets ----------------------------------------------------------------
    def create_des(self, des_id: str, key_id: str, region: str) -> str:
        """Record a disk encryption set on ``key_id`` and grant its identity wrapKey,
        unwrapKey and get on the key; its principal id."""
        info = self.key_info(key_id)
        v = self.get_vault(info.vault_id)
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
        self.revoke(des_id)
        self.grant(des_id, principal, key_id, ["get", "wrapKey", "unwrapKey"])
        return principal

    def des_key(self, des_id: str) -> str:
        """The key id a disk encryption set uses."""
        row = self._db.execute("SELECT key_id FROM kv_des WHERE id = ?", (des_id,)).fetchone()
        if row is None:
            raise NotFound(f"disk encryption set {des_id} does not exist")
        return row[0]

    def get_des(self, des_id: str) -> dict | None:
        row = self._db.execute("SELECT * FROM kv_des WHERE id = ?", (des_id,)).fetchone()
        return dict(row) if row else None

    def delete_des(self, des_id: str) -> None:
        self.revoke(des_id)
        with self.fabric.transaction() as conn:
            conn.execute("DELETE FROM kv_des WHERE id = ?", (des_id,))
