"""restore_point_collection: the restore points of one source VM in one location (RP-1)."""

from __future__ import annotations

from providers.resource import ResourceType

TYPES: list[ResourceType] = []
