"""The VMSnapshot extension (rule EXT-2): an inventory row of the VM it is installed on.

The first backup of a VM (scheduled or on demand) installs ``VMSnapshot`` (publisher
``Microsoft.Azure.RecoveryServices``, typeHandlerVersion ``1.9``) as the resource
``{vm_id}/extensions/VMSnapshot`` of type ``Microsoft.Compute/virtualMachines/extensions``;
its ``state`` is the last job's outcome (``Succeeded`` or ``Failed``).

Always holds: the row holds only the extension's public facts (never protected settings);
an extension is installed only on a VM that exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.fabric.home import Fabric
from core.protection.items import utc

EXTENSION_TYPE = "Microsoft.Compute/virtualMachines/extensions"
NAME = "VMSnapshot"
PUBLISHER = "Microsoft.Azure.RecoveryServices"
HANDLER_VERSION = "1.9"


@dataclass(frozen=True)
class Extension:
    name: str
    publisher: str
    type: str
    type_handler_version: str
    state: str
    installed_at: datetime


def extension_id(vm_id: str) -> str:
    return f"{vm_id}/extensions/{NAME}"


def ensure_installed(fabric: Fabric, vm_id: str, region: str, at: float) -> bool:
    """Install the extension on the VM unless it is there; True when this installed it."""
    if fabric.get_resource(extension_id(vm_id)) is not None:
        return False
    fabric.put_resource(
        extension_id(vm_id),
        EXTENSION_TYPE,
        region,
        {
            "name": NAME,
            "publisher": PUBLISHER,
            "type": NAME,
            "type_handler_version": HANDLER_VERSION,
            "auto_upgrade_minor_version": True,
            "state": "Creating",
            "installed_at": at,
        },
    )
    return True


def set_state(fabric: Fabric, vm_id: str, state: str) -> None:
    """Record the last job's outcome on the extension (nothing when it is not installed)."""
    row = fabric.get_resource(extension_id(vm_id))
    if row is not None:
        fabric.put_resource(
            row["id"], EXTENSION_TYPE, row["region"], {**row["properties"], "state": state}
        )


def extensions(fabric: Fabric, vm_id: str) -> list[Extension]:
    """The extensions installed on a VM."""
    prefix = f"{vm_id}/extensions/".lower()
    out = []
    for row in fabric.list_resources(EXTENSION_TYPE):
        if row["id"].lower().startswith(prefix):
            p = row["properties"]
            out.append(
                Extension(
                    p["name"],
                    p["publisher"],
                    p["type"],
                    p["type_handler_version"],
                    p["state"],
                    utc(p["installed_at"]),  # type: ignore[arg-type]
                )
            )
    return out
