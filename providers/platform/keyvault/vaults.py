"""key_vault: a vault of keys and secrets behind access policies, with soft delete.

Always holds: the id is derived from the configuration (``vault_id``), so it is known at plan
time, and vault names are unique across the fabric (a soft-deleted vault still holds its
name); ``purge_protection`` cannot go from true to false (a plan error); destroying a vault
soft-deletes it (recoverable for its retention), and applying the same resource again
recovers it; the inventory row holds the arguments, the key store the vault itself. Beside
the type, its declaration for ``bcdr platform`` (list soft-deleted vaults too, show them).
"""

from __future__ import annotations

import re
import time
from contextlib import suppress
from typing import Any

from providers.platform.attributes import arguments, common_attributes, state_from, tags_and_id
from providers.platform.frame import PlatformSession, ResourceType, known, where
from providers.platform.keyvault import examples
from providers.platform.keyvault.common import VAULT_TYPE, keystore, vault_facts
from providers.platform.registry import Core, Declaration, Listed
from sdk import ApplyRequest, Attribute, PlanRequest, PlanResponse, Progress, Schema
from sdk.diagnostics import error

_VAULT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$")


def _vault_name(value: Any) -> str | None:
    if isinstance(value, str) and _VAULT_NAME.match(value) and "--" not in value:
        return None
    return "use 3-24 letters, digits and '-', starting with a letter (no '--')"


def _retention(value: Any) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 7 <= value <= 90
    return None if ok else "soft delete keeps deleted objects 7 to 90 days: give 7 to 90"


POLICY = Schema(
    attributes={
        "object_id": Attribute(
            required=True,
            description="a principal's object id (`bcdr platform whoami`), or current-user",
        ),
        "key_permissions": Attribute(
            type="list(string)",
            optional=True,
            allowed=("get", "list", "wrapKey", "unwrapKey", "encrypt", "decrypt", "sign", "all"),
            normalize=str.lower,
        ),
        "secret_permissions": Attribute(
            type="list(string)",
            optional=True,
            allowed=("get", "list", "set", "delete", "all"),
            normalize=str.lower,
        ),
    }
)


def vault(c: Core, id: str) -> Any:
    """The core's key vault ``id``, soft-deleted or not; NotFound when there is none."""
    from core.errors import NotFound
    from core.keystore import KeyStore

    found = KeyStore(c.fabric).vaults.find(id)
    if found is None:
        raise NotFound(f"key vault {id} does not exist")
    return found


def _listed(c: Core) -> list[Listed]:
    from core.keystore import KeyStore

    ks = KeyStore(c.fabric)
    found = [(v, {}) for v in ks.vaults.list()]
    found += [(v, {"deleted_at": v.deleted_at}) for v in ks.vaults.list(deleted=True)]
    return [(v.id, v.region, facts) for v, facts in found]


def _show(c: Core, id: str) -> dict[str, Any]:
    from core.errors import NotFound
    from providers.platform.inventory import iso

    with suppress(NotFound):
        v = vault(c, id)
        return {
            "key_vault": {
                "region": v.region,
                "subscription": v.subscription,
                "retention_days": v.retention_days,
                "purge_protection": v.purge_protection,
                "deleted_at": iso(v.deleted_at),
            }
        }
    return {}


def _summary(props: dict[str, Any]) -> str:
    from providers.platform.inventory import iso

    if props.get("deleted_at") is None:
        return ""
    return f"soft-deleted {iso(props['deleted_at'])} (bcdr platform recover ID)"


KEY_VAULT = Declaration(
    "key_vault",
    VAULT_TYPE,
    ("vault",),
    facts=vault_facts,
    find=lambda c, id: vault(c, id).id,
    listed=_listed,
    summary=_summary,
    show=_show,
)


class KeyVault(ResourceType):
    type_name = KEY_VAULT.type_name
    declaration = KEY_VAULT
    schema = Schema(
        attributes={
            **common_attributes(
                Attribute(required=True, force_new=True, validators=(_vault_name,))
            ),
            "soft_delete_retention_days": Attribute(
                type="number", optional=True, default=90, validators=(_retention,)
            ),
            "purge_protection": Attribute(type="bool", optional=True, default=False),
            "access_policy": Attribute(block=POLICY, nesting="list", optional=True),
            **tags_and_id(),
            "vault_uri": Attribute(computed=True),
        },
        description="A key vault: keys and secrets behind access policies, with soft delete.",
        example=examples.VAULT,
    )

    def complete_plan(
        self, s: PlatformSession, req: PlanRequest, resp: PlanResponse, planned: dict[str, Any]
    ) -> None:
        from core.keystore import vault_uri

        prior = req.prior_state or {}
        if prior.get("purge_protection") is True and planned.get("purge_protection") is False:
            resp.diagnostics.append(
                error(
                    "Purge protection cannot be turned off",
                    f"{req.address}: key vault {prior.get('name')} has purge protection, and "
                    "once on it stays on; set purge_protection = true again. To be rid of the "
                    "vault, destroy it: it stays soft-deleted for its retention days, then goes",
                    where(req, "purge_protection"),
                    address=req.address,
                )
            )
        name, sub, rg = planned.get("name"), planned["subscription"], planned.get("resource_group")
        if not all(known(x) for x in (name, sub, rg)):
            return
        planned["vault_uri"] = vault_uri(name)
        twin = keystore(s).vaults.named(name)
        if twin is not None and twin.id.lower() != planned["id"].lower():
            gone = " (soft-deleted, until purged)" if twin.deleted_at is not None else ""
            resp.diagnostics.append(
                error(
                    f"Key vault name {name!r} is taken",
                    f"{req.address}: vault names are unique and {twin.id}{gone} holds it; "
                    "choose another name",
                    where(req, "name"),
                    address=req.address,
                )
            )
        if req.prior_state is None:
            found = keystore(s).vaults.find(planned["id"])
            days = planned.get("soft_delete_retention_days")
            if found is not None and found.deleted_at is not None:
                resp.notes.append(f"a soft-deleted key vault {name} has this id: apply recovers it")
            resp.notes.append(
                f"destroying this vault soft-deletes it: recoverable for {days} days "
                f"(bcdr platform recover {planned['id']})"
            )

    def _put(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any]:
        region = s.fabric.check_region(state["location"])
        s.fabric.put_resource(state["id"], VAULT_TYPE, region, arguments(self.schema, state))
        return self._state(s, state["id"])

    def create(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        ks = keystore(s)
        region = s.fabric.check_region(p["location"])
        found = ks.vaults.find(p["id"])
        if found is not None and found.deleted_at is not None:
            ks.vaults.recover(p["id"])
        if found is None:
            ks.vaults.create(
                p["id"],
                name=p["name"],
                region=region,
                subscription=p["subscription"],
                retention_days=int(p["soft_delete_retention_days"]),
                purge_protection=bool(p["purge_protection"]),
                policies=list(p.get("access_policy") or []),
            )
        else:
            self._settings(s, p)
        return self._put(s, p)

    def _settings(self, s: PlatformSession, p: dict[str, Any]) -> None:
        keystore(s).vaults.update(
            p["id"],
            retention_days=int(p["soft_delete_retention_days"]),
            purge_protection=bool(p["purge_protection"]),
            policies=list(p.get("access_policy") or []),
        )

    def update(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        self._settings(s, p)
        return self._put(s, p)

    def _state(self, s: PlatformSession, id: str) -> dict[str, Any] | None:
        v = keystore(s).vaults.find(id)
        row = s.fabric.get_resource(id)
        if v is None or v.deleted_at is not None or row is None or row["type"] != VAULT_TYPE:
            return None
        return state_from(
            self.schema,
            row["properties"],
            id=v.id,
            vault_uri=v.uri,
            soft_delete_retention_days=v.retention_days,
            purge_protection=v.purge_protection,
            access_policy=list(v.policies),
        )

    def read(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any] | None:
        return self._state(s, state.get("id") or "")

    def delete(
        self, s: PlatformSession, state: dict[str, Any], progress: Progress | None
    ) -> str | None:
        """Soft-delete the vault; the returned note says until when it can be recovered."""
        ks = keystore(s)
        v = ks.vaults.find(state["id"])
        s.fabric.delete_resource(state["id"])
        if v is None or v.deleted_at is not None:
            return None
        v = ks.vaults.delete(state["id"])  # soft delete: recoverable for its retention
        until = time.strftime(
            "%Y-%m-%d", time.gmtime((v.deleted_at or 0) + v.retention_days * 86400)
        )
        purge = (
            "purge protection refuses a purge until then"
            if v.purge_protection
            else "`bcdr platform purge` removes it for good"
        )
        return (
            f"key vault {v.name} is soft-deleted: recoverable until {until} with "
            f"`bcdr platform recover {v.id}` (or by applying it again); {purge}"
        )


TYPES: list[ResourceType] = [KeyVault()]
DECLARATIONS = [KEY_VAULT]
