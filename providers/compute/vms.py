"""virtual_machine: a VM of the embedded platform, its disks, power state and guest hooks."""

from __future__ import annotations

from providers.resource import ResourceType

TYPES: list[ResourceType] = []
