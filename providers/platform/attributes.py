"""The attributes every platform schema composes, and the inventory row helpers.

``common_attributes`` puts the shared attributes (name, resource_group, location,
subscription, tags, id) around a type's own, in one order; ``arguments`` and ``state_from``
turn a state into an inventory row's properties and back. Always holds: these are plain
schema data and pure functions; the core is imported on first use (the region names), never
at module load.
"""

from __future__ import annotations

import re
from typing import Any

from sdk import Attribute, Schema

_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,80}$")


def _name_ok(value: Any) -> str | None:
    if isinstance(value, str) and _NAME_RE.match(value) and value not in (".", ".."):
        return None
    return "use 1-80 letters, digits, '.', '_' or '-'"


def name_attribute(what: str) -> Attribute:
    return Attribute(
        required=True, force_new=True, validators=(_name_ok,), description=f"the {what}'s name"
    )


def location_attribute(
    description: str = "the region, e.g. eastus", *, required: bool = True, computed: bool = False
) -> Attribute:
    """A region argument: one of Azure's region names, checked by the schema (did-you-mean),
    compared as Azure does (``core.fabric.region_key``)."""
    from core.fabric import REGIONS, region_key

    return Attribute(
        required=required,
        optional=not required,
        computed=computed,
        force_new=True,
        allowed=tuple(sorted(REGIONS)),
        normalize=region_key,
        description=description,
    )


RESOURCE_GROUP = Attribute(required=True, force_new=True, description="the resource group's name")
SUBSCRIPTION = Attribute(
    optional=True,
    computed=True,
    force_new=True,
    description="the subscription (default: the provider's subscription)",
)
TAGS = Attribute(type="map(string)", optional=True, description="tags (updatable in place)")
ID = Attribute(computed=True, description="the Azure-style resource id")


def common_attributes(
    name: str | Attribute,
    *,
    placed: bool = True,
    in_group: bool = True,
    location: Attribute | None = None,
) -> dict[str, Attribute]:
    """The common attributes a schema starts with: ``name`` (a ``name_attribute`` of the words
    given, or an attribute), then for a type ``placed`` by name in a subscription
    ``resource_group`` (when ``in_group``), ``location`` (``location_attribute()`` unless
    given) and ``subscription``. A placed type is planned in its place by the frame
    (``ResourceType.place``). Merged into the schema's attributes: ``{**common_attributes(
    "disk"), ...its own arguments, **tags_and_id(), ...its computed attributes}``."""
    out = {"name": name_attribute(name) if isinstance(name, str) else name}
    if placed:
        if in_group:
            out["resource_group"] = RESOURCE_GROUP
        out["location"] = location or location_attribute()
        out["subscription"] = SUBSCRIPTION
    return out


def tags_and_id(id: Attribute = ID) -> dict[str, Attribute]:
    """The common attributes that follow a type's own arguments: ``tags`` and ``id``."""
    return {"tags": TAGS, "id": id}


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
