"""What the key vault types share: the ARM types, the session's key store, vault ids and the
typed facts of a vault or disk encryption set (planned in this run, else live; one loader
each), and the plan error for an id that names nothing.

Always holds: one ``KeyStore`` per opened fabric and session (``keystore``); a vault's id is
``/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{name}``,
known at plan time; the facts of a soft-deleted vault are None, as for one that never was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from providers.platform.frame import PlatformSession, where
from sdk import PlanRequest, PlanResponse
from sdk.diagnostics import error
from sdk.values import UNKNOWN

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


@dataclass(frozen=True)
class VaultFacts:
    """A key vault as the plans of its keys, secrets, encryption sets and VMs see it; None
    where not known yet."""

    id: str
    name: str | None
    location: str | None
    subscription: str | None
    purge_protection: bool | None


def vault_facts(s: PlatformSession, id: str) -> VaultFacts | None:
    """A live vault's facts: planned in this run, else on the platform (a soft-deleted vault
    has none)."""
    from providers.platform.registry import TypedId

    p = s.lookup(id) if TypedId.of(id, VAULT_TYPE) is not None else None
    if p is not None:
        return VaultFacts(
            _known(p.get("id")) or id,
            _known(p.get("name")),
            _known(p.get("location")),
            _known(p.get("subscription")),
            _known(p.get("purge_protection")),
        )
    v = keystore(s).vaults.find(id) if isinstance(id, str) else None
    if v is None or v.deleted_at is not None:
        return None
    return VaultFacts(v.id, v.name, v.region, v.subscription, v.purge_protection)


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


@dataclass(frozen=True)
class DesFacts:
    """A disk encryption set as the VM and restore plans see it; None where not known yet."""

    id: str
    location: str | None


def des_facts(s: PlatformSession, id: str) -> DesFacts | None:
    """A disk encryption set's facts: planned in this run, else its inventory row."""
    from providers.platform.registry import TypedId

    p = s.lookup(id) if TypedId.of(id, DES_TYPE) is not None else None
    if p is None:
        row = s.fabric.get_resource(id) if isinstance(id, str) else None
        if row is None or row["type"] != DES_TYPE:
            return None
        id, p = row["id"], row["properties"]
    return DesFacts(id, _known(p.get("location")))


def _known(value: Any) -> Any:
    """The value, or None when it is not known yet."""
    return None if value is UNKNOWN else value
