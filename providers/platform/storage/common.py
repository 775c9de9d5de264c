"""What the storage types share: the ARM types, the session's storage accounts, the typed
facts of an account (planned in this run, else on the platform) and a container id's parts.

Always holds: one ``core.blobs.StorageAccounts`` per opened fabric and session; new accounts
go where the fabric's placement (``blob_endpoint``) says (none: the fabric's folders), and
an account's blobs stay where it was made; a container's id is ``{account id}/blobServices/default/
containers/{name}``, parsed only through ``TypedId``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from providers.platform.frame import PlatformSession
from sdk.values import UNKNOWN

ACCOUNT_TYPE = "Microsoft.Storage/storageAccounts"
SERVICE_TYPE = "Microsoft.Storage/storageAccounts/blobServices"
CONTAINER_TYPE = f"{SERVICE_TYPE}/containers"


def accounts(s: PlatformSession) -> Any:
    """The session's storage accounts (one ``StorageAccounts`` per opened fabric)."""
    from core.blobs import StorageAccounts

    cached = s.__dict__.get("_storage_accounts")
    if cached is None or cached.fabric is not s.fabric:
        cached = StorageAccounts(s.fabric)
        s.__dict__["_storage_accounts"] = cached
    return cached


def blob_endpoint(s: PlatformSession) -> str | None:
    """Where new accounts keep their blobs: the fabric's placement (the provider block's
    ``blob_endpoint``, an Azure Blob endpoint), None for the fabric's own folders."""
    return s.fabric.placement.blob_endpoint or None


def services_of(container_id: str) -> tuple[str, str] | None:
    """(account id, container name) of a container's id, None when it is not one."""
    from providers.platform.registry import TypedId

    typed = TypedId.of(container_id, CONTAINER_TYPE)
    if typed is None or typed.rid is None:
        return None
    (_svc, default), (_c, name) = typed.rid.children
    if default.lower() != "default":
        return None
    return container_id.rsplit("/", 4)[0], name


@dataclass(frozen=True)
class AccountFacts:
    """A storage account as its containers' plans (and other accounts') see it; None where
    not known yet."""

    id: str
    name: str | None
    location: str | None
    subscription: str | None


def account_facts(s: PlatformSession, id: str) -> AccountFacts | None:
    """An account's facts: planned in this run, else on the platform; None when neither."""
    from providers.platform.registry import TypedId

    if TypedId.of(id, ACCOUNT_TYPE) is None:
        return None
    p = s.lookup(id)
    if p is not None:
        return AccountFacts(
            _known(p.get("id")) or id,
            _known(p.get("name")),
            _known(p.get("location")),
            _known(p.get("subscription")),
        )
    a = accounts(s).find(id)
    if a is None:
        return None
    return AccountFacts(a.id, a.name, a.region, a.subscription)


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _known(value: Any) -> Any:
    return None if value is UNKNOWN else value
