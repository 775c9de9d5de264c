"""The embedded platform's resource types: one line a type module.

Each module listed holds its resource types (``TYPES``, what the engine plans and applies)
and, beside them, their declarations (``DECLARATIONS``, what ``bcdr platform`` knows of
them: ``providers.platform.registry``). The provider's types and the registry's
declarations both come from this one list, so a new type is its module plus one line here.
Always holds: the order here is the order of the provider's types and of the registry; a
module may declare a type without a resource type of its own (a disk restore point, beside
restore points) or a resource type without a declaration of its own (a VM restore makes
virtual machines). Imported on first use: its modules load the core.
"""

from __future__ import annotations

from providers.platform.compute import (
    access,
    collections,
    disks,
    groups,
    restore_points,
    vm_restore,
    vms,
)
from providers.platform.frame import ResourceType
from providers.platform.keyvault import des, items, vaults
from providers.platform.protection import policies, protected_vms
from providers.platform.protection import vaults as recovery_vaults
from providers.platform.registry import Declaration
from providers.platform.storage import accounts, containers

MODULES = (
    groups,
    disks,
    vms,
    collections,
    restore_points,
    access,
    vm_restore,
    vaults,
    items,
    des,
    accounts,
    containers,
    recovery_vaults,
    policies,
    protected_vms,
)


def resource_types() -> list[ResourceType]:
    """Every resource type of the modules, in their order."""
    return [t for module in MODULES for t in getattr(module, "TYPES", ())]


def declarations() -> list[Declaration]:
    """Every declaration of the modules, in their order."""
    return [decl for module in MODULES for decl in getattr(module, "DECLARATIONS", ())]
