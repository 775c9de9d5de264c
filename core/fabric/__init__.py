"""The fabric: tenant, subscriptions, regions and pairs, resource ids and the fabric.db file.

Its API is the names below (``core.exports`` says how they load).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.exports import lazy_exports

if TYPE_CHECKING:
    from core.fabric.home import Fabric, ResourceId, check_name
    from core.fabric.regions import REGIONS, paired_region, region_key

_WHERE = {
    "Fabric": "core.fabric.home",
    "REGIONS": "core.fabric.regions",
    "ResourceId": "core.fabric.home",
    "check_name": "core.fabric.home",
    "paired_region": "core.fabric.regions",
    "region_key": "core.fabric.regions",
}


__getattr__ = lazy_exports(__name__, _WHERE)


__all__ = [
    "Fabric",
    "REGIONS",
    "ResourceId",
    "check_name",
    "paired_region",
    "region_key",
]
