"""vm_restore: a VM and its disks created from a restore point (RP-9)."""

from __future__ import annotations

from providers.resource import ResourceType

TYPES: list[ResourceType] = []
