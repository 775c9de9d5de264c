"""key_vault, key_vault_key, key_vault_secret, disk_encryption_set: the key store as resources.

Each type keeps an inventory row (its arguments and tags, never a secret value) beside the
key store's own records (``core.crypto.KeyStore``: wrapped key material, versions, access
policies, soft delete). Always holds: ids are derived from the configuration, so they are
known at plan time (a key is ``{vault id}/keys/{name}``, a secret ``{vault id}/secrets/{name}``,
a disk encryption set's ``principal_id`` is fixed by its id); the provider acts as the
fabric's current user (``bcdr platform whoami``), so a secret is set only when the vault's
access policy lets that user ``set``; destroying a vault, key or secret soft-deletes it
(recoverable for the vault's retention, and applying the same resource again recovers it);
``purge_protection`` cannot go from true to false (a plan error); a disk encryption set needs
a key in a vault with purge protection, in its own region (a plan error otherwise). A key
disabled or deleted outside bcdr, or a vault deleted, is drift that the next apply puts back.
"""

from __future__ import annotations

import re
import time
from typing import Any

from engine.diagnostics import error
from engine.values import UNKNOWN
from providers.base import ApplyRequest, Attribute, PlanRequest, PlanResponse, Progress, Schema
from providers.compute.groups import (
    ID,
    SUBSCRIPTION,
    TAGS,
    arguments,
    check_group,
    known,
    name_attribute,
    plan_common,
    state_from,
)
from providers.resource import ResourceType, Session, where

VAULT_TYPE = "Microsoft.KeyVault/vaults"
KEY_TYPE = "Microsoft.KeyVault/vaults/keys"
SECRET_TYPE = "Microsoft.KeyVault/vaults/secrets"
DES_TYPE = "Microsoft.Compute/diskEncryptionSets"
DES_KINDS = (
    "EncryptionAtRestWithCustomerKey",
    "EncryptionAtRestWithPlatformAndCustomerKeys",
    "ConfidentialVmEncryptedWithCustomerKey",
)
_VAULT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$")
_ITEM_NAME = re.compile(r"^[A-Za-z0-9-]{1,127}$")


def keystore(s: Session) -> Any:
    """The session's key store (one per opened fabric)."""
    from core.crypto import KeyStore

    cached = s.__dict__.get("_keystore")
    if cached is None or cached.fabric is not s.fabric:
        cached = KeyStore(s.fabric)
        s.__dict__["_keystore"] = cached
    return cached


def _vault_name(value: Any) -> str | None:
    if isinstance(value, str) and _VAULT_NAME.match(value) and "--" not in value:
        return None
    return "use 3-24 letters, digits and '-', starting with a letter (no '--')"


def _item_name(value: Any) -> str | None:
    ok = isinstance(value, str) and _ITEM_NAME.match(value)
    return None if ok else "use 1-127 letters, digits and '-'"


def _retention(value: Any) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 7 <= value <= 90
    return None if ok else "soft delete keeps deleted objects 7 to 90 days: give 7 to 90"


def _perms(allowed: tuple[str, ...]) -> Any:
    lowered = {p.lower() for p in allowed} | {"all"}

    def check(value: Any) -> str | None:
        bad = [p for p in value or [] if str(p).lower() not in lowered]
        return None if not bad else f"unknown permission {bad[0]!r}: use {', '.join(allowed)}"

    return check


def _one_of(*choices: str) -> Any:
    def check(value: Any) -> str | None:
        return None if value in choices else f"use one of {', '.join(choices)}"

    return check


def vault_id(subscription: str, resource_group: str, name: str) -> str:
    from core.fabric import ResourceId

    return str(ResourceId(subscription, resource_group, "Microsoft.KeyVault", "vaults", name))


def vault_facts(s: Session, id: str) -> dict[str, Any] | None:
    """A vault's location, subscription, purge protection: planned in this run, else live."""
    planned = s.lookup(id)
    if planned is not None and "/microsoft.keyvault/vaults/" in id.lower():
        return planned
    v = keystore(s).find_vault(id) if isinstance(id, str) else None
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


def _missing(req: PlanRequest, resp: PlanResponse, attr: str, what: str, id: str) -> None:
    resp.diagnostics.append(
        error(
            f"{what} {id} does not exist",
            f"{req.address}: {attr} names no {what.lower()} planned in this run or on the "
            "platform; check the id, or declare it and refer to its id",
            where(req, attr),
            address=req.address,
        )
    )


POLICY = Schema(
    attributes={
        "object_id": Attribute(
            required=True,
            description="a principal's object id (`bcdr platform whoami`), or current-user",
        ),
        "key_permissions": Attribute(
            type="list(string)",
            optional=True,
            validators=(
                _perms(("get", "list", "wrapKey", "unwrapKey", "encrypt", "decrypt", "sign")),
            ),
        ),
        "secret_permissions": Attribute(
            type="list(string)",
            optional=True,
            validators=(_perms(("get", "list", "set", "delete")),),
        ),
    }
)


class KeyVault(ResourceType):
    type_name = "key_vault"
    schema = Schema(
        attributes={
            "name": Attribute(required=True, force_new=True, validators=(_vault_name,)),
            "resource_group": Attribute(required=True, force_new=True),
            "location": Attribute(required=True, force_new=True),
            "subscription": SUBSCRIPTION,
            "soft_delete_retention_days": Attribute(
                type="number", optional=True, default=90, validators=(_retention,)
            ),
            "purge_protection": Attribute(type="bool", optional=True, default=False),
            "access_policy": Attribute(block=POLICY, nesting="list", optional=True),
            "tags": TAGS,
            "id": ID,
            "vault_uri": Attribute(computed=True),
        },
        description="A key vault: keys and secrets behind access policies, with soft delete.",
    )

    def complete_plan(self, s: Session, req: PlanRequest, resp: PlanResponse) -> None:
        from core.crypto import vault_uri

        planned = resp.planned_state
        assert planned is not None
        if not plan_common(s, req, resp):
            return
        check_group(s, req, resp)
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
        planned["id"] = vault_id(sub, rg, name)
        planned["vault_uri"] = vault_uri(name)
        twin = keystore(s).vault_named(name)
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
            found = keystore(s).find_vault(planned["id"])
            days = planned.get("soft_delete_retention_days")
            if found is not None and found.deleted_at is not None:
                resp.notes.append(f"a soft-deleted key vault {name} has this id: apply recovers it")
            resp.notes.append(
                f"destroying this vault soft-deletes it: recoverable for {days} days "
                f"(bcdr platform recover {planned['id']})"
            )

    def _put(self, s: Session, state: dict[str, Any]) -> dict[str, Any]:
        region = s.fabric.check_region(state["location"])
        s.fabric.put_resource(state["id"], VAULT_TYPE, region, arguments(self.schema, state))
        return self._state(s, state["id"])

    def create(self, s: Session, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        ks = keystore(s)
        region = s.fabric.check_region(p["location"])
        found = ks.find_vault(p["id"])
        if found is not None and found.deleted_at is not None:
            ks.recover_vault(p["id"])
        if found is None:
            ks.create_vault(
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

    def _settings(self, s: Session, p: dict[str, Any]) -> None:
        keystore(s).update_vault(
            p["id"],
            retention_days=int(p["soft_delete_retention_days"]),
            purge_protection=bool(p["purge_protection"]),
            policies=list(p.get("access_policy") or []),
        )

    def update(self, s: Session, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        self._settings(s, p)
        return self._put(s, p)

    def _state(self, s: Session, id: str) -> dict[str, Any] | None:
        v = keystore(s).find_vault(id)
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

    def read(self, s: Session, state: dict[str, Any]) -> dict[str, Any] | None:
        return self._state(s, state.get("id") or "")

    def delete(self, s: Session, state: dict[str, Any], progress: Progress | None) -> str | None:
        """Soft-delete the vault; the returned note says until when it can be recovered."""
        ks = keystore(s)
        v = ks.find_vault(state["id"])
        s.fabric.delete_resource(state["id"])
        if v is None or v.deleted_at is not None:
            return None
        v = ks.delete_vault(state["id"])  # soft delete: recoverable for its retention
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


class KeyVaultKey(ResourceType):
    type_name = "key_vault_key"
    schema = Schema(
        attributes={
            "name": Attribute(required=True, force_new=True, validators=(_item_name,)),
            "key_vault_id": Attribute(required=True, force_new=True),
            "key_type": Attribute(
                optional=True,
                force_new=True,
                default="RSA",
                validators=(_one_of("RSA", "EC", "oct"),),
            ),
            "key_size": Attribute(
                type="number",
                optional=True,
                computed=True,
                force_new=True,
                description="RSA 2048/3072/4096 (default 2048); EC 256/384; oct 128/192/256",
            ),
            "enabled": Attribute(type="bool", optional=True, default=True),
            "tags": TAGS,
            "id": ID,
            "version": Attribute(computed=True, description="the current version"),
        },
        description="A key in a key vault (generated by the platform; never exported).",
    )

    def complete_plan(self, s: Session, req: PlanRequest, resp: PlanResponse) -> None:
        from core.crypto import KEY_SIZES, check_key_spec, item_id
        from core.errors import CoreError

        planned = resp.planned_state
        assert planned is not None
        kt = planned.get("key_type")
        if (req.proposed or {}).get("key_size") is None and known(kt) and kt in KEY_SIZES:
            if not (req.prior_state and req.prior_state.get("key_type") == kt):
                planned["key_size"] = KEY_SIZES[kt][0] if kt != "oct" else 256
        if known(kt) and known(planned.get("key_size")):
            try:
                check_key_spec(kt, int(planned["key_size"]))
            except CoreError as err:
                resp.diagnostics.append(
                    error(str(err), req.address, where(req, "key_size"), address=req.address)
                )
        vid, name = planned.get("key_vault_id"), planned.get("name")
        if known(vid) and vault_facts(s, vid) is None:
            _missing(req, resp, "key_vault_id", "Key vault", vid)
        if known(vid) and known(name):
            planned["id"] = item_id(vid, "key", name)

    def create(self, s: Session, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        ks = keystore(s)
        state = ks.item_state(p["id"])
        if state == "deleted":
            ks.recover_item(p["id"])
            info = ks.key_info(p["id"])
            if (info.key_type, info.key_size) != (p["key_type"], int(p["key_size"])):
                ks.create_key(p["id"], p["key_type"], int(p["key_size"]))
        elif state == "gone":
            ks.create_key(p["id"], p["key_type"], int(p["key_size"]))
        return self._put(s, p)

    def _put(self, s: Session, p: dict[str, Any]) -> dict[str, Any]:
        ks = keystore(s)
        ks.set_key_enabled(p["id"], bool(p["enabled"]))
        v = ks.get_vault(p["key_vault_id"])
        s.fabric.put_resource(p["id"], KEY_TYPE, v.region, arguments(self.schema, p))
        return self._state(s, p["id"])  # type: ignore[return-value]

    def update(self, s: Session, req: ApplyRequest) -> dict[str, Any]:
        return self._put(s, dict(req.planned_state))

    def _state(self, s: Session, id: str) -> dict[str, Any] | None:
        ks = keystore(s)
        row = s.fabric.get_resource(id)
        if ks.item_state(id) in ("gone", "deleted") or row is None or row["type"] != KEY_TYPE:
            return None
        info = ks.key_info(id)
        return state_from(
            self.schema,
            row["properties"],
            id=info.id,
            key_type=info.key_type,
            key_size=info.key_size,
            enabled=info.enabled,
            version=info.version,
        )

    def read(self, s: Session, state: dict[str, Any]) -> dict[str, Any] | None:
        return self._state(s, state.get("id") or "")

    def delete(self, s: Session, state: dict[str, Any], progress: Progress | None) -> None:
        ks = keystore(s)
        if ks.item_state(state["id"]) in ("live", "disabled"):
            ks.delete_item(state["id"])
        s.fabric.delete_resource(state["id"])


class KeyVaultSecret(ResourceType):
    type_name = "key_vault_secret"
    schema = Schema(
        attributes={
            "name": Attribute(required=True, force_new=True, validators=(_item_name,)),
            "key_vault_id": Attribute(required=True, force_new=True),
            "value": Attribute(required=True, sensitive=True),
            "content_type": Attribute(optional=True),
            "tags": TAGS,
            "id": ID,
            "version": Attribute(computed=True),
        },
        description="A secret in a key vault; set as the current user (needs 'set').",
    )

    def complete_plan(self, s: Session, req: PlanRequest, resp: PlanResponse) -> None:
        from core.crypto import item_id

        planned = resp.planned_state
        assert planned is not None
        vid, name = planned.get("key_vault_id"), planned.get("name")
        if known(vid) and vault_facts(s, vid) is None:
            _missing(req, resp, "key_vault_id", "Key vault", vid)
        if known(vid) and known(name):
            planned["id"] = item_id(vid, "secret", name)
        prior = req.prior_state or {}
        if prior and planned.get("value") != prior.get("value"):
            planned["version"] = UNKNOWN

    def _put(self, s: Session, p: dict[str, Any], new_value: bool) -> dict[str, Any]:
        ks = keystore(s)
        if new_value:
            p["version"] = ks.set_secret(p["id"], str(p["value"]), ks.user_principal())
        else:
            p["version"] = ks.secret_version(p["id"])
        v = ks.get_vault(p["key_vault_id"])
        props = {k: v_ for k, v_ in arguments(self.schema, p).items() if k != "value"}
        s.fabric.put_resource(p["id"], SECRET_TYPE, v.region, props)
        return dict(p)

    def create(self, s: Session, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        ks = keystore(s)
        if ks.item_state(p["id"]) == "deleted":
            ks.recover_item(p["id"])
        return self._put(s, p, True)

    def update(self, s: Session, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        return self._put(s, p, p.get("value") != (req.prior_state or {}).get("value"))

    def read(self, s: Session, state: dict[str, Any]) -> dict[str, Any] | None:
        ks = keystore(s)
        id = state.get("id") or ""
        row = s.fabric.get_resource(id)
        if ks.item_state(id) in ("gone", "deleted") or row is None or row["type"] != SECRET_TYPE:
            return None
        out = state_from(self.schema, row["properties"], id=row["id"])
        out["version"] = ks.secret_version(id)
        out["value"] = state.get("value")
        me = ks.user_principal()
        if out["version"] != state.get("version") and ks.allowed(id, me, "secret", "get"):
            out["value"] = ks.get_secret(id, me)  # set outside bcdr: drift
        return out

    def import_state(self, s: Session, id: str) -> dict[str, Any] | None:
        ks = keystore(s)
        out = self.read(s, {"id": id})
        if out is not None and ks.allowed(id, ks.user_principal(), "secret", "get"):
            out["value"] = ks.get_secret(id, ks.user_principal())
        return out

    def delete(self, s: Session, state: dict[str, Any], progress: Progress | None) -> None:
        ks = keystore(s)
        if ks.item_state(state["id"]) == "live":
            ks.delete_secret(state["id"], ks.user_principal())
        s.fabric.delete_resource(state["id"])


class DiskEncryptionSet(ResourceType):
    type_name = "disk_encryption_set"
    schema = Schema(
        attributes={
            "name": name_attribute("disk encryption set"),
            "resource_group": Attribute(required=True, force_new=True),
            "location": Attribute(required=True, force_new=True),
            "subscription": SUBSCRIPTION,
            "key_vault_key_id": Attribute(required=True, description="a key_vault_key's id"),
            "encryption_type": Attribute(
                optional=True,
                force_new=True,
                default="EncryptionAtRestWithCustomerKey",
                validators=(_one_of(*DES_KINDS),),
            ),
            "tags": TAGS,
            "id": ID,
            "principal_id": Attribute(computed=True, description="its managed identity"),
        },
        description="Encrypts managed disks with a customer-managed key from a key vault.",
    )

    def complete_plan(self, s: Session, req: PlanRequest, resp: PlanResponse) -> None:
        from core.crypto import des_principal, vault_of
        from core.fabric import ResourceId

        planned = resp.planned_state
        assert planned is not None
        if not plan_common(s, req, resp):
            return
        check_group(s, req, resp)
        name, sub, rg = planned.get("name"), planned["subscription"], planned.get("resource_group")
        if all(known(x) for x in (name, sub, rg)):
            planned["id"] = str(
                ResourceId(sub, rg, "Microsoft.Compute", "diskEncryptionSets", name)
            )
            planned["principal_id"] = des_principal(planned["id"])
        key = planned.get("key_vault_key_id")
        if not known(key):
            return
        if "/keys/" not in key.lower():
            _missing(req, resp, "key_vault_key_id", "Key", key)
            return
        vid = vault_of(key)
        vault = vault_facts(s, vid)
        key_known = s.lookup(key) is not None or keystore(s).item_state(key) in ("live", "disabled")
        if vault is None or not key_known:
            _missing(req, resp, "key_vault_key_id", "Key", key)
            return
        if vault.get("purge_protection") is False:
            resp.diagnostics.append(
                error(
                    f"Key vault {vault.get('name')} has no purge protection",
                    f"{req.address}: a disk encryption set needs a key in a vault with soft "
                    f"delete and purge protection, and vault {vid} has purge_protection = "
                    "false; set purge_protection = true on that key_vault",
                    where(req, "key_vault_key_id"),
                    address=req.address,
                )
            )
        loc, vloc = planned.get("location"), vault.get("location")
        if known(loc) and known(vloc) and s.fabric.check_region(loc) != s.fabric.check_region(vloc):
            resp.diagnostics.append(
                error(
                    f"Key vault {vault.get('name')} is in {vloc}, not {loc}",
                    f"{req.address}: a disk encryption set uses a key vault of its own region; "
                    f"use a key from a vault in {loc}",
                    where(req, "key_vault_key_id"),
                    address=req.address,
                )
            )

    def _put(self, s: Session, p: dict[str, Any]) -> dict[str, Any]:
        region = s.fabric.check_region(p["location"])
        p["principal_id"] = keystore(s).create_des(p["id"], p["key_vault_key_id"], region)
        s.fabric.put_resource(p["id"], DES_TYPE, region, arguments(self.schema, p))
        return p

    def create(self, s: Session, req: ApplyRequest) -> dict[str, Any]:
        return self._put(s, dict(req.planned_state))

    def update(self, s: Session, req: ApplyRequest) -> dict[str, Any]:
        return self._put(s, dict(req.planned_state))

    def read(self, s: Session, state: dict[str, Any]) -> dict[str, Any] | None:
        from core.crypto import des_principal

        row = s.fabric.get_resource(state.get("id") or "")
        des = keystore(s).get_des(state.get("id") or "")
        if row is None or row["type"] != DES_TYPE or des is None:
            return None
        return state_from(
            self.schema,
            row["properties"],
            id=row["id"],
            key_vault_key_id=des["key_id"],
            principal_id=des_principal(row["id"]),
        )

    def delete(self, s: Session, state: dict[str, Any], progress: Progress | None) -> None:
        keystore(s).delete_des(state["id"])
        s.fabric.delete_resource(state["id"])


def des_facts(s: Session, id: str) -> dict[str, Any] | None:
    """A disk encryption set's location, subscription and key: planned, else live."""
    planned = s.lookup(id)
    if planned is not None and "/diskencryptionsets/" in id.lower():
        return planned
    row = s.fabric.get_resource(id) if isinstance(id, str) else None
    if row is None or row["type"] != DES_TYPE:
        return None
    return dict(row["properties"], id=row["id"])


TYPES: list[ResourceType] = [KeyVault(), KeyVaultKey(), KeyVaultSecret(), DiskEncryptionSet()]
