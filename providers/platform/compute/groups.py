"""resource_group: a named group of platform resources in one subscription and location.

Beside the type, its declaration for ``bcdr platform`` (list, show its members, delete it
when empty) and the ARM types the compute types share. Always holds: a group's id is
``/subscriptions/{sub}/resourceGroups/{name}``, known at plan time; its inventory row
(``Microsoft.Resources/resourceGroups``) holds every argument, so ``read`` and ``import``
rebuild the whole state from it and a change made outside bcdr shows as drift.
"""

from __future__ import annotations

from typing import Any

from providers.platform.attributes import arguments, common_attributes, state_from, tags_and_id
from providers.platform.compute import examples
from providers.platform.frame import PlatformSession, ResourceType
from providers.platform.registry import GROUP_ARM, Core, Declaration, group_id
from sdk import ApplyRequest, Progress, Schema

DISK_TYPE = "Microsoft.Compute/disks"
VM_TYPE = "Microsoft.Compute/virtualMachines"


def subscription_of(resource_id: str) -> str | None:
    """The subscription named in an id, or None when it is no resource id."""
    parts = resource_id.split("/") if isinstance(resource_id, str) else []
    if len(parts) >= 3 and parts[0] == "" and parts[1].lower() == "subscriptions" and parts[2]:
        return parts[2]
    return None


def group_members(c: Core, id: str) -> list[str]:
    """The ids of everything in resource group ``id``."""
    prefix = id.lower() + "/"
    ids = [r["id"] for r in c.fabric.list_resources()]
    ids += [d.id for d in c.disks.list()]
    ids += [r[0] for r in c.fabric.db().execute("SELECT id FROM rp_collections").fetchall()]
    return sorted({i for i in ids if i.lower().startswith(prefix)})


def _delete_group(c: Core, id: str, row: dict | None, progress: Progress | None):
    from providers.platform.inventory import fail

    inside = group_members(c, id)
    if inside:
        more = f" and {len(inside) - 3} more" if len(inside) > 3 else ""
        raise fail(
            f"resource group {id} is not empty",
            f"It holds {', '.join(inside[:3])}{more}: delete those first.",
        )
    return [], 0


RESOURCE_GROUP = Declaration(
    "resource_group",
    GROUP_ARM,
    ("group",),
    show=lambda c, id: {"resources": group_members(c, id)},
    delete=_delete_group,
)


class ResourceGroup(ResourceType):
    type_name = RESOURCE_GROUP.type_name
    declaration = RESOURCE_GROUP
    schema = Schema(
        attributes={**common_attributes("resource group", in_group=False), **tags_and_id()},
        description="A named group of platform resources in one subscription and location.",
        example=examples.GROUP,
    )

    # planned by the frame alone: its subscription is checked and its id made (``place``)

    def _put(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any]:
        region = s.fabric.check_region(state["location"])
        s.fabric.check_subscription(state["subscription"])
        state["id"] = group_id(state["subscription"], state["name"])
        s.fabric.put_resource(state["id"], GROUP_ARM, region, arguments(self.schema, state))
        return state

    def create(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        return self._put(s, dict(req.planned_state))

    def update(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        return self._put(s, dict(req.planned_state))

    def read(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any] | None:
        row = s.fabric.get_resource(state.get("id") or "")
        if row is None or row["type"] != GROUP_ARM:
            return None
        return state_from(self.schema, row["properties"], id=row["id"])

    def delete(self, s: PlatformSession, state: dict[str, Any], progress: Progress | None) -> None:
        s.fabric.delete_resource(state["id"])


TYPES: list[ResourceType] = [ResourceGroup()]
DECLARATIONS = [RESOURCE_GROUP]
