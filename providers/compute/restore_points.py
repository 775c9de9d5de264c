"""restore_point: incremental restore points, cross-region copies (RP-10, RP-11)."""

from __future__ import annotations

from providers.resource import ResourceType

TYPES: list[ResourceType] = []
