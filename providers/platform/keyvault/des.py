"""disk_encryption_set: encrypts managed disks with a customer-managed key from a key vault.

Always holds: the id is ``.../providers/Microsoft.Compute/diskEncryptionSets/{name}`` and its
``principal_id`` is fixed by that id, both known at plan time; the key must be in a vault with
purge protection, in the set's own region (plan errors otherwise); the key store keeps which
key the set uses, the inventory row its arguments.
"""

from __future__ import annotations

from typing import Any

from providers.platform.attributes import arguments, common_attributes, state_from, tags_and_id
from providers.platform.frame import PlatformSession, ResourceType, known, where
from providers.platform.keyvault import examples
from providers.platform.keyvault.common import (
    DES_KINDS,
    DES_TYPE,
    KEY_TYPE,
    des_facts,
    keystore,
    missing,
    vault_facts,
)
from providers.platform.registry import Declaration
from sdk import ApplyRequest, Attribute, PlanRequest, PlanResponse, Progress, Schema
from sdk.diagnostics import error

DISK_ENCRYPTION_SET = Declaration("disk_encryption_set", DES_TYPE, ("des",), facts=des_facts)


class DiskEncryptionSet(ResourceType):
    type_name = DISK_ENCRYPTION_SET.type_name
    declaration = DISK_ENCRYPTION_SET
    schema = Schema(
        attributes={
            **common_attributes("disk encryption set"),
            "key_vault_key_id": Attribute(required=True, description="a key_vault_key's id"),
            "encryption_type": Attribute(
                optional=True,
                force_new=True,
                default="EncryptionAtRestWithCustomerKey",
                allowed=DES_KINDS,
            ),
            **tags_and_id(),
            "principal_id": Attribute(computed=True, description="its managed identity"),
        },
        description="Encrypts managed disks with a customer-managed key from a key vault.",
        example=examples.DISK_ENCRYPTION_SET,
    )

    def complete_plan(
        self, s: PlatformSession, req: PlanRequest, resp: PlanResponse, planned: dict[str, Any]
    ) -> None:
        from core.keystore import des_principal
        from providers.platform.registry import TypedId

        name, sub, rg = planned.get("name"), planned["subscription"], planned.get("resource_group")
        if all(known(x) for x in (name, sub, rg)):
            planned["principal_id"] = des_principal(planned["id"])
        key = planned.get("key_vault_key_id")
        if not known(key):
            return
        typed = TypedId.of(key, KEY_TYPE)
        if typed is None or typed.parent is None:
            missing(req, resp, "key_vault_key_id", "Key", key)
            return
        vid = typed.parent.text
        vault = vault_facts(s, vid)
        key_known = s.lookup(key) is not None or keystore(s).items.state(key) in (
            "live",
            "disabled",
        )
        if vault is None or not key_known:
            missing(req, resp, "key_vault_key_id", "Key", key)
            return
        if vault.purge_protection is False:
            resp.diagnostics.append(
                error(
                    f"Key vault {vault.name} has no purge protection",
                    f"{req.address}: a disk encryption set needs a key in a vault with soft "
                    f"delete and purge protection, and vault {vid} has purge_protection = "
                    "false; set purge_protection = true on that key_vault",
                    where(req, "key_vault_key_id"),
                    address=req.address,
                )
            )
        loc, vloc = planned.get("location"), vault.location
        if known(loc) and known(vloc) and s.fabric.check_region(loc) != s.fabric.check_region(vloc):
            resp.diagnostics.append(
                error(
                    f"Key vault {vault.name} is in {vloc}, not {loc}",
                    f"{req.address}: a disk encryption set uses a key vault of its own region; "
                    f"use a key from a vault in {loc}",
                    where(req, "key_vault_key_id"),
                    address=req.address,
                )
            )

    def _put(self, s: PlatformSession, p: dict[str, Any]) -> dict[str, Any]:
        region = s.fabric.check_region(p["location"])
        p["principal_id"] = keystore(s).encryption_sets.create(
            p["id"], p["key_vault_key_id"], region
        )
        s.fabric.put_resource(p["id"], DES_TYPE, region, arguments(self.schema, p))
        return p

    def create(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        return self._put(s, dict(req.planned_state))

    def update(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        return self._put(s, dict(req.planned_state))

    def read(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any] | None:
        from core.keystore import des_principal

        row = s.fabric.get_resource(state.get("id") or "")
        des = keystore(s).encryption_sets.get(state.get("id") or "")
        if row is None or row["type"] != DES_TYPE or des is None:
            return None
        return state_from(
            self.schema,
            row["properties"],
            id=row["id"],
            key_vault_key_id=des.key_id,
            principal_id=des_principal(row["id"]),
        )

    def delete(self, s: PlatformSession, state: dict[str, Any], progress: Progress | None) -> None:
        keystore(s).encryption_sets.delete(state["id"])
        s.fabric.delete_resource(state["id"])


TYPES: list[ResourceType] = [DiskEncryptionSet()]
DECLARATIONS = [DISK_ENCRYPTION_SET]
