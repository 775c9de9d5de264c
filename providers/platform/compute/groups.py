"""resource_group: a named group of platform resources in one subscription and location.

Also the helpers every compute type of this package shares: the common arguments
(``subscription``, ``tags``), the resource group id form, and the plan-time checks of a
location, a subscription and a group. Always holds: a group's id is
``/subscriptions/{sub}/resourceGroups/{name}``, known at plan time; its inventory row
(``Microsoft.Resources/resourceGroups``) holds every argument, so ``read`` and ``import``
rebuild the whole state from it and a change made outside bcdr shows as drift.
"""

from __future__ import annotations

import re
from typing import Any

from core.fabric import REGIONS
from providers.platform.frame import PlatformSession, ResourceType, where
from sdk import ApplyRequest, Attribute, PlanRequest, PlanResponse, Progress, Schema
from sdk.diagnostics import error
from sdk.values import UNKNOWN

GROUP_TYPE = "Microsoft.Resources/resourceGroups"
DISK_TYPE = "Microsoft.Compute/disks"
VM_TYPE = "Microsoft.Compute/virtualMachines"
_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,80}$")


def _name_ok(value: Any) -> str | None:
    if isinstance(value, str) and _NAME_RE.match(value) and value not in (".", ".."):
        return None
    return "use 1-80 letters, digits, '.', '_' or '-'"


def name_attribute(what: str) -> Attribute:
    return Attribute(
        required=True, force_new=True, validators=(_name_ok,), description=f"the {what}'s name"
    )


def region_key(name: str) -> str:
    """How Azure compares region names: without case or spaces ("East US" is eastus)."""
    return name.lower().replace(" ", "")


def location_attribute(
    description: str = "the region, e.g. eastus", *, required: bool = True, computed: bool = False
) -> Attribute:
    """A region argument: one of Azure's region names, checked by the schema (did-you-mean)."""
    return Attribute(
        required=required,
        optional=not required,
        computed=computed,
        force_new=True,
        allowed=tuple(sorted(REGIONS)),
        normalize=region_key,
        description=description,
    )


SUBSCRIPTION = Attribute(
    optional=True,
    computed=True,
    force_new=True,
    description="the subscription (default: the provider's subscription)",
)
TAGS = Attribute(type="map(string)", optional=True, description="tags (updatable in place)")
ID = Attribute(computed=True, description="the Azure-style resource id")


def known(value: Any) -> bool:
    """A value that is set and known at plan time."""
    return value is not None and value is not UNKNOWN


def group_id(subscription: str, name: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{name}"


def subscription_of(resource_id: str) -> str | None:
    """The subscription named in an id, or None when it is no resource id."""
    parts = resource_id.split("/") if isinstance(resource_id, str) else []
    if len(parts) >= 3 and parts[0] == "" and parts[1].lower() == "subscriptions" and parts[2]:
        return parts[2]
    return None


def plan_common(s: PlatformSession, req: PlanRequest, resp: PlanResponse) -> bool:
    """Fill ``subscription`` and check it; False when it is wrong."""
    from core.errors import CoreError

    planned = resp.planned_state
    assert planned is not None
    ok = True
    if (req.proposed or {}).get("subscription") is None and not known(planned.get("subscription")):
        planned["subscription"] = s.subscription
    if known(planned["subscription"]):
        try:
            s.fabric.check_subscription(planned["subscription"])
        except CoreError as err:
            resp.diagnostics.append(
                error(
                    f"Subscription {planned['subscription']!r} does not exist",
                    f"{req.address}: {err}, or leave subscription out for the default",
                    where(req, "subscription"),
                    address=req.address,
                )
            )
            ok = False
    return ok  # the location is one of Azure's regions: its schema says so (allowed)


def check_group(s: PlatformSession, req: PlanRequest, resp: PlanResponse) -> None:
    """The resource's group must be planned in this run or exist on the platform."""
    planned = resp.planned_state
    assert planned is not None
    name = planned.get("resource_group")
    if not known(name) or not known(planned.get("subscription")):
        return
    gid = group_id(planned["subscription"], name)
    if s.lookup(gid) is not None or s.fabric.get_resource(gid) is not None:
        return
    resp.diagnostics.append(
        error(
            f"Resource group {name!r} does not exist",
            f"{req.address}: no resource group {name!r} in subscription "
            f"{planned['subscription']} is planned or exists; declare it with a resource_group "
            "block and refer to it as resource_group.<label>.name",
            where(req, "resource_group"),
            address=req.address,
        )
    )


def plan_in_group(s: PlatformSession, req: PlanRequest, resp: PlanResponse) -> bool:
    """The plan checks of a resource in a resource group: ``plan_common``, then, when the
    subscription and location are right, ``check_group``. False when ``plan_common`` failed."""
    if not plan_common(s, req, resp):
        return False
    check_group(s, req, resp)
    return True


def arguments(schema: Schema, values: dict[str, Any]) -> dict[str, Any]:
    """The argument values (not the computed-only ones) of a state or plan."""
    return {
        k: values.get(k)
        for k, a in schema.attributes.items()
        if (a.required or a.optional) and k != "id"
    }


def state_from(schema: Schema, properties: dict[str, Any], **computed: Any) -> dict[str, Any]:
    """A full state: every attribute of the schema from an inventory row, then ``computed``."""
    out = {k: properties.get(k) for k in schema.attributes}
    out.update(computed)
    return out


EXAMPLE = """\
resource "resource_group" "example" {
  name     = "example"
  location = "eastus"

  tags = {
    env = "demo"
  }
}
"""


class ResourceGroup(ResourceType):
    type_name = "resource_group"
    schema = Schema(
        attributes={
            "name": name_attribute("resource group"),
            "location": location_attribute(),
            "subscription": SUBSCRIPTION,
            "tags": TAGS,
            "id": ID,
        },
        description="A named group of platform resources in one subscription and location.",
        example=EXAMPLE,
    )

    def complete_plan(self, s: PlatformSession, req: PlanRequest, resp: PlanResponse) -> None:
        planned = resp.planned_state
        assert planned is not None
        ok = plan_common(s, req, resp)
        if ok and known(planned.get("name")) and known(planned["subscription"]):
            planned["id"] = group_id(planned["subscription"], planned["name"])

    def _put(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any]:
        region = s.fabric.check_region(state["location"])
        s.fabric.check_subscription(state["subscription"])
        state["id"] = group_id(state["subscription"], state["name"])
        s.fabric.put_resource(state["id"], GROUP_TYPE, region, arguments(self.schema, state))
        return state

    def create(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        return self._put(s, dict(req.planned_state))

    def update(self, s: PlatformSession, req: ApplyRequest) -> dict[str, Any]:
        return self._put(s, dict(req.planned_state))

    def read(self, s: PlatformSession, state: dict[str, Any]) -> dict[str, Any] | None:
        row = s.fabric.get_resource(state.get("id") or "")
        if row is None or row["type"] != GROUP_TYPE:
            return None
        return state_from(self.schema, row["properties"], id=row["id"])

    def delete(self, s: PlatformSession, state: dict[str, Any], progress: Progress | None) -> None:
        s.fabric.delete_resource(state["id"])


TYPES: list[ResourceType] = [ResourceGroup()]
