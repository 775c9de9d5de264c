"""managed_disk: raw-image disks created empty, imported from an image, or restored (RP-8)."""

from __future__ import annotations

from providers.resource import ResourceType

TYPES: list[ResourceType] = []
