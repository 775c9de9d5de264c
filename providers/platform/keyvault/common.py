"""What the key vault types share: the ARM types, the session's key store, vault ids and the
facts of a vault or disk encryption set (planned in this run, else live), and the plan error
for an id that names nothing.

Always holds: one ``KeyStore`` per opened fabric and session (``keystore``); a vault's id is
``/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{name}``,
known at plan time; the facts of a soft-deleted vault are None, as for one that never was.
"""

from __future__ import annotations

from typing import Any

from providers.platform.frame import PlatformSession, where
from sdk import PlanRequest, PlanResponse
from sdk.diagnostics import error

VAULT_TYPE = "Microsoft.KeyVault/vaults"
KEY_TYPE = "Microsoft.KeyVault/vaults/keys"
SECRET_TYPE = "Microsoft.KeyVault/vaults/secrets"
DES_TYPE = "Microsoft.Compute/diskEncryptionSets"
DES_KINDS = (
    "EncryptionAtRestWithCustomerKey",
    "EncryptionAtRestWithPlatformAndCustomerKeys",
    "ConfidentialVmEncryptedWithCustomerKey",
)


def keystore(s: PlatformSession) -> Any:
    """The session's key store (one per opened fabric)."""
    from core.keystore import KeyStore

    cached = s.__dict__.get("_keystore")
    if cached is None or cached.fabric is not s.fabric:
        cached = KeyStore(s.fabric)
        s.__dict__["_keystore"] = cached
    return cached


def vault_id(subscription: str, resource_group: str, name: str) -> str:
    """The id of vault ``name`` in ``resource_group``."""
    from core.fabric import ResourceId

    return str(ResourceId(subscription, resource_group, "Microsoft.KeyVault", "vaults", name))


def vault_facts(s: PlatformSession, id: str) -> dict[str, Any] | None:
    """A vault's location, subscription, purge protection: planned in this run, else live."""
    planned = s.lookup(id)
    if planned is not None and "/microsoft.keyvault/vaults/" in id.lower():
        return planned
    v = keystore(s).vaults.find(id) if isinstance(id, str) else None
    if v is None or v.deleted_at is not None:
        return None
    return {
        "id": v.id,
        "name": v.name,
        "location": v.region,
        "subscription": v.subscription,
        "purge_protection": v.purge_protection,
        "access_policy": v.policies,
    }


def missing(req: PlanRequest, resp: PlanResponse, attr: str, what: str, id: str) -> None:
    """A plan error: ``attr`` names a ``what`` (say, "Key vault") that does not exist."""
    resp.diagnostics.append(
        error(
            f"{what} {id} does not exist",
            f"{req.address}: {attr} names no {what.lower()} planned in this run or on the "
            "platform; check the id, or declare it and refer to its id",
            where(req, attr),
            address=req.address,
        )
    )


def des_facts(s: PlatformSession, id: str) -> dict[str, Any] | None:
    """A disk encryption set's location, subscription and key: planned, else live."""
    planned = s.lookup(id)
    if planned is not None and "/diskencryptionsets/" in id.lower():
        return planned
    row = s.fabric.get_resource(id) if isinstance(id, str) else None
    if row is None or row["type"] != DES_TYPE:
        return None
    return dict(row["properties"], id=row["id"])
