"""storage_account: a storage account whose containers hold blobs (``core.blobs``).

Always holds: the id is derived from the configuration, so it is known at plan time; the
name is Azure's (3-24 lowercase letters and digits) and unique in the fabric: another
account holding it, on the platform or planned in this run, is a plan error at ``name``'s
file:line; as in azurerm, a new ``account_kind`` replaces the account except ``Storage`` to
``StorageV2`` (an upgrade in place), and a new ``account_tier`` replaces it; destroying an
account that holds containers is a plan warning naming its containers and blobs; the
inventory row holds the arguments, the core the account's settings and where its blobs live
(``blob_endpoint``). Beside the type, its declaration for ``bcdr platform``.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from providers.platform.attributes import arguments, common_attributes, state_from, tags_and_id
from providers.platform.frame import PlatformSession, ResourceType, known, where
from providers.platform.registry import Core, Declaration, Listed
from providers.platform.storage import examples
from providers.platform.storage.common import (
    ACCOUNT_TYPE,
    account_facts,
    accounts,
    blob_endpoint,
    count,
)
from sdk import ApplyRequest, Attribute, PlanRequest, PlanResponse, Progress, Schema
from sdk.diagnostics import error, warning

KINDS = ("StorageV2", "BlobStorage", "Storage")
TIERS = ("Standard", "Premium")
# the one change of kind Azure makes in place (azurerm: no replacement)
_UPGRADES = {("Storage", "StorageV2")}


def _account_name(value: Any) -> str | None:
    from core.blobs import account_problem

    return account_problem(value)


def _contents(c: Any, id: str) -> tuple[int, int]:
    """(containers, blobs) of the account ``id``; (0, 0) when it has none or is gone."""
    from core.errors import NotFound

    with suppress(NotFound):
        usage = c.usage(id)
        return len(usage), sum(usage.values())
    return 0, 0


def _listed(c: Core) -> list[Listed]:
    from core.blobs import StorageAccounts

    return [(a.id, a.region, {"name": a.name}) for a in StorageAccounts(c.fabric).list()]


def _show(c: Core, id: str) -> dict[str, Any]:
    from core.blobs import StorageAccounts

    store = StorageAccounts(c.fabric)
    a = store.find(id)
    if a is None:
        return {}
    return {
        "storage_account": {
            "region": a.region,
            "kind": a.kind,
            "tier": a.tier,
            "blob_endpoint": store.endpoint_of(a),
            "containers": store.usage(a.id),
        }
    }


def _delete(c: Core, id: str, row: dict | None, progress: Progress | None):
    from core.blobs import StorageAccounts

    store = StorageAccounts(c.fabric)
    prefix = id.lower() + "/"
    rows = [r["id"] for r in c.fabric.list_resources() if r["id"].lower().startswith(prefix)]
    store.delete(id)
    return rows, 0


def _find(c: Core, id: str) -> str:
    from core.blobs import StorageAccounts

    return StorageAccounts(c.fabric).get(id).id


STORAGE_ACCOUNT = Declaration(
    "storage_account",
    ACCOUNT_TYPE,
    ("account",),
    facts=account_facts,
    find=_find,
    listed=_listed,
    summary=lambda props: "",
    show=_show,
    delete=_delete,
)


class StorageAccount(ResourceType):
    type_name = STORAGE_ACCOUNT.type_name
    declaration = STORAGE_ACCOUNT
    id_type = ACCOUNT_TYPE
    schema = Schema(
        attributes={
            **common_attributes(
                Attribute(
                    required=True,
                    force_new=True,
                    validators=(_account_name,),
                    description="the account's name: 3-24 lowercase letters and digits, "
                    "unique in the fabric",
                )
            ),
            "account_kind": Attribute(
                optional=True,
                default="StorageV2",
                allowed=KINDS,
                description="the kind; a change replaces the account, except Storage to "
                "StorageV2 (an upgrade in place)",
            ),
            "account_tier": Attribute(
                optional=True, default="Standard", allowed=TIERS, force_new=True
            ),
            "public_network_access": Attribute(
                type="bool",
                optional=True,
                default=True,
                description="whether the account answers from public networks",
            ),
            "trusted_services": Attribute(
                type="list(string)",
                optional=True,
                description="the services let through when public network access is off "
                "(resource types such as Microsoft.DataProtection/backupVaults)",
            ),
            **tags_and_id(),
            "blob_endpoint": Attribute(
                computed=True,
                description="the account's blob endpoint: a blob's URL is it, the container "
                "and the blob's name",
            ),
        },
        description="A storage account: containers of blobs, in the fabric's folders or on "
        "the provider's Azure Blob endpoint.",
        example=examples.ACCOUNT,
    )

    def plan(self, s: PlatformSession, req: PlanRequest) -> PlanResponse:
        resp = super().plan(s, req)
        prior = req.prior_state
        if req.proposed is None and prior is not None and prior.get("id"):
            boxes, blobs = _contents(accounts(s), prior["id"])
            if boxes:
                held = count(boxes, "container") + (f" and {count(blobs, 'blob')}" if blobs else "")
                resp.diagnostics.append(
                    warning(
                        f"Destroying {req.address} deletes {held}",
                        f"storage account {prior.get('name')} holds {count(boxes, 'container')} "
                        f"with {count(blobs, 'blob')}: destroying it deletes them for good. "
                        "Copy out what you need first (bcdr platform blob get)",
                        address=req.address,
                    )
                )
        return resp

    def complete_plan(
        self, s: PlatformSession, req: PlanRequest, resp: PlanResponse, planned: dict[str, Any]
    ) -> None:
        prior = req.prior_state
        if prior is not None and known(planned.get("account_kind")):
            change = (prior.get("account_kind"), planned["account_kind"])
            if change[0] != change[1] and change not in _UPGRADES:
                resp.requires_replace = sorted({*resp.requires_replace, "account_kind"})
        name, id = planned.get("name"), planned.get("id")
        if prior is None or resp.requires_replace:
            planned["blob_endpoint"] = (
                _endpoint(s, name) if known(name) else planned.get("blob_endpoint")
            )
        if not (known(name) and known(id)):
            return
        taken = self._holder(s, name, id)
        if taken is not None:
            resp.diagnostics.append(
                error(
                    f"Storage account name {name!r} is taken",
                    f"{req.address}: storage account names are unique in the fabric and "
                    f"{taken} holds it; choose another name",
                    where(req, "name"),
                    address=req.address,
                )
            )

    @staticmethod
    def _holder(s: PlatformSession, name: str, id: str) -> str | None:
        """The id of another account named ``name``, on the platform or planned in this run."""
        from providers.platform.registry import TypedId

        found = accounts(s).named(name)
        if found is not None and found.id.lower() != id.lower():
            return found.id
        for key, other in s.planned.items():
            if key != id.lower() and TypedId.of(key, ACCOUNT_TYPE) is not None:
                if str(other.get("name", "")).lower() == name.lower():
                    return str(other.get("id") or key)
        return None

    def destroys(self, s: PlatformSession, prior: dict[str, Any]) -> str | None:
        boxes, blobs = _contents(accounts(s), prior.get("id") or "")
        if not boxes:
            return None
        return f"its {count(boxes, 'container')} with {count(blobs, 'blob')}"

    def _put(self, s: PlatformSession, p: dict[str, Any]) -> dict[str, Any]:
        region = s.fabric.check_region(p["location"])
        s.fabric.put_resource(p["id"], ACCOUNT_TYPE, region, arguments(self.schema, p))
        return self._state(s, p["id"])  # type: ignore[return-value]

    @staticmethod
    def _settings(p: dict[str, Any]) -> dict[str, Any]:
        return {
            "kind": p["account_kind"],
            "tier": p["account_tier"],
            "public_network_access": bool(p["public_network_access"]),
            "trusted_services": tuple(p.get("trusted_services") or ()),
        }

    def create(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        accounts(s).create(
            p["id"],
            p["name"],
            p["location"],
            p["subscription"],
            endpoint=blob_endpoint(s),
            **self._settings(p),
        )
        return self._put(s, p)

    def update(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        accounts(s).update(p["id"], **self._settings(p))
        return self._put(s, p)

    def _state(self, s: PlatformSession, id: str) -> dict[str, Any] | None:
        store = accounts(s)
        a = store.find(id)
        row = s.fabric.get_resource(id)
        if a is None or row is None or row["type"] != ACCOUNT_TYPE:
            return None
        props = row["properties"]
        return state_from(
            self.schema,
            props,
            id=a.id,
            account_kind=a.kind,
            account_tier=a.tier,
            public_network_access=a.public_network_access,
            trusted_services=list(a.trusted_services) or props.get("trusted_services"),
            blob_endpoint=store.endpoint_of(a),
        )

    def read(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any] | None:
        return self._state(s, state.get("id") or "")

    def delete(self, s: PlatformSession, state: dict[str, Any], progress: Progress | None) -> None:
        s.fabric.delete_resource(state["id"])
        accounts(s).delete(state["id"])


def _endpoint(s: PlatformSession, name: str) -> str:
    """The blob endpoint a new account ``name`` gets from where the session puts accounts."""
    from core.blobs import open_blob_service

    return open_blob_service(s.fabric, blob_endpoint(s)).endpoint_of(name)


TYPES: list[ResourceType] = [StorageAccount()]
DECLARATIONS = [STORAGE_ACCOUNT]
