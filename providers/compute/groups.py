"""resource_group: a named group of platform resources in one subscription and location."""

from __future__ import annotations

from providers.resource import ResourceType

TYPES: list[ResourceType] = []
