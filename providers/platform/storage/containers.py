"""storage_container: a container of blobs in a storage account.

Always holds: the id is ``{account id}/blobServices/default/containers/{name}``, known at plan
time; the name is Azure's (3-63 lowercase letters, digits and single hyphens, starting and
ending with a letter or digit: a plan error at ``name``'s file:line otherwise); the account
must be planned in this run or exist; the blobs in a container are data, not attributes, so
``bcdr platform blob put|delete`` is no drift, while the container deleted outside bcdr is;
destroying (or replacing) a container that holds blobs is a plan warning (a note) naming
how many go. Beside the type, its declaration for ``bcdr platform``, and that of the
account's blob service its id sits in (no resource type of its own).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from providers.platform.attributes import arguments, common_attributes, state_from
from providers.platform.frame import PlatformSession, ResourceType, known, where
from providers.platform.registry import Core, Declaration, Listed
from providers.platform.storage import examples
from providers.platform.storage.common import (
    ACCOUNT_TYPE,
    CONTAINER_TYPE,
    SERVICE_TYPE,
    account_facts,
    accounts,
    count,
    services_of,
)
from sdk import ApplyRequest, Attribute, PlanRequest, PlanResponse, Progress, Schema
from sdk.diagnostics import error, warning


def _container_name(value: Any) -> str | None:
    from core.blobs import container_problem

    return container_problem(value)


def container_id(account_id: str, name: str) -> str:
    """The id of container ``name`` in the account ``account_id``."""
    return STORAGE_CONTAINER.make_id(BLOB_SERVICE.make_id(account_id, "default"), name)


def open_container(store: Any, id: str) -> Any:
    """The core container an id names (NotFound when the id names no container of an
    account that exists)."""
    from core.errors import NotFound

    parts = services_of(id)
    if parts is None:
        raise NotFound(f"{id} is not a storage container id")
    return store.container(*parts)


def _blobs(store: Any, id: str) -> int:
    """How many blobs the container ``id`` holds (0 when it or its account is gone)."""
    from core.errors import NotFound

    with suppress(NotFound):
        return sum(1 for _ in open_container(store, id).list())
    return 0


def _listed(c: Core) -> list[Listed]:
    from core.blobs import StorageAccounts

    store = StorageAccounts(c.fabric)
    return [
        (container_id(a.id, name), a.region, {"blobs": n})
        for a in store.list()
        for name, n in store.usage(a.id).items()
    ]


def _find(c: Core, id: str) -> str:
    from core.blobs import StorageAccounts
    from core.errors import NotFound

    if not open_container(StorageAccounts(c.fabric), id).exists():
        raise NotFound(f"container {id} does not exist")
    return id


def _delete(c: Core, id: str, row: dict | None, progress: Progress | None):
    from core.blobs import StorageAccounts

    box = open_container(StorageAccounts(c.fabric), id)
    if box.exists():
        box.delete()
    return [], 0


# an account's one blob service (Azure's ``default``), the parent of its containers' ids; it
# has no resource type and is not selected on its own
BLOB_SERVICE = Declaration("blob_service", SERVICE_TYPE, selectable=False)

STORAGE_CONTAINER = Declaration(
    "storage_container",
    CONTAINER_TYPE,
    ("container",),
    find=_find,
    listed=_listed,
    summary=lambda facts: count(facts["blobs"], "blob") if "blobs" in facts else "",
    show=lambda c, id: {"blobs": [i.name for i in _open(c, id).list()]},
    delete=_delete,
)


def _open(c: Core, id: str) -> Any:
    from core.blobs import StorageAccounts

    return open_container(StorageAccounts(c.fabric), id)


class StorageContainer(ResourceType):
    type_name = STORAGE_CONTAINER.type_name
    declaration = STORAGE_CONTAINER
    schema = Schema(
        attributes={
            **common_attributes(
                Attribute(
                    required=True,
                    force_new=True,
                    validators=(_container_name,),
                    description="the container's name: 3-63 lowercase letters, digits and "
                    "single hyphens, starting and ending with a letter or digit",
                ),
                placed=False,
            ),
            "storage_account_id": Attribute(
                required=True, force_new=True, description="the storage account's id"
            ),
            "id": Attribute(computed=True, description="the Azure-style resource id"),
        },
        description="A container of blobs in a storage account.",
        example=examples.CONTAINER,
    )

    def plan(self, s: PlatformSession, req: PlanRequest) -> PlanResponse:
        resp = super().plan(s, req)
        prior = req.prior_state
        if req.proposed is None and prior is not None and prior.get("id"):
            blobs = _blobs(accounts(s), prior["id"])
            if blobs:
                resp.diagnostics.append(
                    warning(
                        f"Destroying {req.address} deletes {count(blobs, 'blob')}",
                        f"container {prior.get('name')} holds {count(blobs, 'blob')}: destroying "
                        "it deletes its blobs for good. Copy out what you need first "
                        "(bcdr platform blob get)",
                        address=req.address,
                    )
                )
        return resp

    def complete_plan(
        self, s: PlatformSession, req: PlanRequest, resp: PlanResponse, planned: dict[str, Any]
    ) -> None:
        from providers.platform.registry import TypedId

        aid, name = planned.get("storage_account_id"), planned.get("name")
        if not known(aid):
            return
        if TypedId.of(aid, ACCOUNT_TYPE) is None:
            resp.diagnostics.append(
                error(
                    "storage_account_id is not a storage account's id",
                    f"{req.address}: {aid!r} is no id of a storage account; refer to one as "
                    "storage_account.<label>.id",
                    where(req, "storage_account_id"),
                    address=req.address,
                )
            )
            return
        if account_facts(s, aid) is None:
            resp.diagnostics.append(
                error(
                    f"Storage account {aid} does not exist",
                    f"{req.address}: storage_account_id names no storage account planned in "
                    "this run or on the platform; check the id, or declare the account and "
                    "refer to its id",
                    where(req, "storage_account_id"),
                    address=req.address,
                )
            )
        if known(name):
            planned["id"] = container_id(aid, name)

    def destroys(self, s: PlatformSession, prior: dict[str, Any]) -> str | None:
        blobs = _blobs(accounts(s), prior.get("id") or "")
        return f"its {count(blobs, 'blob')}" if blobs else None

    def create(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        p = dict(req.planned_state)
        store = accounts(s)
        account = store.get(p["storage_account_id"])
        open_container(store, p["id"]).create()
        s.fabric.put_resource(p["id"], CONTAINER_TYPE, account.region, arguments(self.schema, p))
        return self._state(s, p["id"])  # type: ignore[return-value]

    def _state(self, s: PlatformSession, id: str) -> dict[str, Any] | None:
        from core.errors import NotFound

        row = s.fabric.get_resource(id)
        if row is None or row["type"] != CONTAINER_TYPE:
            return None
        try:
            if not open_container(accounts(s), id).exists():
                return None
        except NotFound:  # its account is gone
            return None
        return state_from(self.schema, row["properties"], id=row["id"])

    def read(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any] | None:
        return self._state(s, state.get("id") or "")

    def delete(self, s: PlatformSession, state: dict[str, Any], progress: Progress | None) -> None:
        from core.errors import NotFound

        s.fabric.delete_resource(state["id"])
        with suppress(NotFound):
            box = open_container(accounts(s), state["id"])
            if box.exists():
                box.delete()


TYPES: list[ResourceType] = [StorageContainer()]
DECLARATIONS = [BLOB_SERVICE, STORAGE_CONTAINER]
