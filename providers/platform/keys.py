"""``bcdr platform whoami``, ``subscription create|list`` and the key vault verbs: enable or
disable a key; soft-delete, recover or purge a key vault, key or secret, acting on the core's
key store directly.

Always holds: subscriptions are made only through ``Fabric.create_subscription`` (a uuid
id, never a duplicate); the verbs act as the fabric's current user, through
``core.keystore.store.KeyStore``
(whose rules on retention, purge protection and access policies apply unchanged); an id that
is not a key vault, key or secret, an unknown action, or enable/disable of anything but a key
is a user mistake (``fail``), never a traceback; no key material or secret value is returned.
"""

from __future__ import annotations

from typing import Any

from core.fabric import Fabric
from providers.platform.inventory import fail, iso
from providers.platform.registry import TypedId

KEY_VAULT_TYPES = (
    "Microsoft.KeyVault/vaults",
    "Microsoft.KeyVault/vaults/keys",
    "Microsoft.KeyVault/vaults/secrets",
)
KEY_VAULT_ACTIONS = ("enable", "disable", "delete", "recover", "purge")


def _subscription(sub: Any) -> dict[str, Any]:
    return {
        "id": sub.id,
        "name": sub.name or ("default" if sub.is_default else None),
        "created_at": iso(sub.created_at),
        "is_default": sub.is_default,
    }


def whoami(fabric: Fabric) -> dict[str, Any]:
    """The tenant with its subscriptions, the current user's object id, the default
    subscription and the restore service's principal."""
    from core.keystore import KeyStore

    ks = KeyStore(fabric)
    return {
        "tenant_id": fabric.tenant_id,
        "object_id": ks.principals.user(),
        "subscription": fabric.default_subscription,
        "subscriptions": [_subscription(s) for s in fabric.list_subscriptions()],
        "restore_service_principal": ks.principals.service(),
    }


def subscription_create(fabric: Fabric, id: str | None, name: str | None) -> dict[str, Any]:
    """A new subscription of the tenant (a uuid made up when ``id`` is None)."""
    return _subscription(fabric.create_subscription(id, name)) | {"tenant_id": fabric.tenant_id}


def subscription_list(fabric: Fabric) -> list[dict[str, Any]]:
    """The tenant's subscriptions, the default one first."""
    return [_subscription(s) for s in fabric.list_subscriptions()]


def key_vault_action(fabric: Fabric, action: str, id: str) -> dict[str, Any]:
    """Enable or disable a key; delete (soft), recover or purge a vault, key or secret."""
    from core.keystore import KeyStore

    if action not in KEY_VAULT_ACTIONS:
        raise fail(f"unknown action {action!r}", "Give one of: " + ", ".join(KEY_VAULT_ACTIONS))
    ks = KeyStore(fabric)
    typed = TypedId.parse(id)
    kind = next((t for t in KEY_VAULT_TYPES if typed is not None and typed.is_a(t)), None)
    is_vault = kind == KEY_VAULT_TYPES[0]
    if kind is None:
        raise fail(
            f"{id} is not a key vault, key or secret",
            "Give an id from `bcdr platform list --type key_vault` or a key's "
            "id (<vault id>/keys/<name>).",
        )
    if action in ("enable", "disable"):
        if kind != KEY_VAULT_TYPES[1]:
            raise fail(f"{id} is not a key", "Only keys are enabled or disabled.")
        info = ks.keys.set_enabled(id, action == "enable")
        return {"id": info.id, "action": action, "enabled": info.enabled}
    out: dict[str, Any] = {"id": id, "action": action}
    if is_vault:
        vault = {"delete": ks.vaults.delete, "recover": ks.vaults.recover}.get(action)
        if vault is not None:
            v = vault(id)
            out["retention_days"] = v.retention_days
            out["purge_protection"] = v.purge_protection
        else:
            ks.vaults.purge(id)
    else:
        {"delete": ks.items.delete, "recover": ks.items.recover, "purge": ks.items.purge}[action](
            id
        )
    return out
