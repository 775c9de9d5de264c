"""disk_access: read access to a disk restore point as a SAS URL (RP-12)."""

from __future__ import annotations

from providers.resource import ResourceType

TYPES: list[ResourceType] = []
