"""The compute family's examples, each built on the one before (for the reference docs).

Each resource type's schema carries a complete configuration that uses it (``Schema.example``;
``tests/cli/test_resource_docs.py`` validates every one): a resource group, then a VM with
its disks, its restore point collection, a restore point, and what is made from one.
"""

from __future__ import annotations

_GROUP = """\
resource "resource_group" "example" {
  name     = "example"
  location = "eastus"
}
"""

_OS_DISK = """\
resource "managed_disk" "os" {
  name           = "example-os"
  resource_group = resource_group.example.name
  location       = resource_group.example.location
  size_gb        = 1
}
"""

_SMALL_VM = """\
resource "virtual_machine" "example" {
  name           = "example"
  resource_group = resource_group.example.name
  location       = resource_group.example.location
  os_disk_id     = managed_disk.os.id
}
"""

_COLLECTION = """\
resource "restore_point_collection" "example" {
  name           = "example-rpc"
  resource_group = resource_group.example.name
  location       = resource_group.example.location
  source_vm_id   = virtual_machine.example.id
}
"""

_RESTORE_POINT = """\
resource "restore_point" "daily" {
  name          = "daily"
  collection_id = restore_point_collection.example.id
}
"""

#: a resource group with tags
GROUP = """\
resource "resource_group" "example" {
  name     = "example"
  location = "eastus"

  tags = {
    env = "demo"
  }
}
"""

#: a managed disk
DISK = (
    _GROUP
    + "\n"
    + """\
resource "managed_disk" "data" {
  name           = "example-data"
  resource_group = resource_group.example.name
  location       = resource_group.example.location
  sku            = "Premium_LRS"
  create_option  = "Empty"
  size_gb        = 1
}
"""
)

#: a Linux VM with an OS disk, a data disk and guest hooks
VM = (
    _GROUP
    + "\n"
    + """\
resource "managed_disk" "os" {
  name           = "example-os"
  resource_group = resource_group.example.name
  location       = resource_group.example.location
  size_gb        = 1
}

resource "managed_disk" "data" {
  name           = "example-data"
  resource_group = resource_group.example.name
  location       = resource_group.example.location
  size_gb        = 1
}

resource "virtual_machine" "example" {
  name           = "example"
  resource_group = resource_group.example.name
  location       = resource_group.example.location
  os_type        = "linux"
  os_distro      = "ubuntu-22.04"
  os_disk_id     = managed_disk.os.id
  data_disk_ids  = [managed_disk.data.id]

  guest_hooks {
    pre_snapshot    = "sync"
    timeout_seconds = 30
  }
}
"""
)

#: the restore point collection of a VM with one disk
COLLECTION = _GROUP + "\n" + _OS_DISK + "\n" + _SMALL_VM + "\n" + _COLLECTION

#: an application-consistent restore point that leaves the data disk out
RESTORE_POINT = (
    VM
    + "\n"
    + _COLLECTION
    + "\n"
    + """\
resource "restore_point" "daily" {
  name             = "daily"
  collection_id    = restore_point_collection.example.id
  consistency_mode = "ApplicationConsistent"
  exclude_disk_ids = [managed_disk.data.id] # RP-5: no disk restore point is made of it
}
"""
)

#: read access to a disk restore point, as a SAS URL
DISK_ACCESS = (
    COLLECTION
    + "\n"
    + _RESTORE_POINT
    + "\n"
    + """\
resource "disk_access" "os" {
  disk_restore_point_id = "${restore_point.daily.id}/diskRestorePoints/${managed_disk.os.name}"
  duration_seconds      = 3600
}

output "sas_url" {
  value     = disk_access.os.sas_url
  sensitive = true
}
"""
)

#: a VM restored from a restore point in the paired region
VM_RESTORE = (
    COLLECTION
    + "\n"
    + _RESTORE_POINT
    + "\n"
    + """\
resource "resource_group" "dr" {
  name     = "example-dr"
  location = "westus" # eastus's paired region (RP-9)
}

resource "vm_restore" "example" {
  restore_point_id      = restore_point.daily.id
  name                  = "example-restored"
  target_resource_group = resource_group.dr.name
  target_location       = resource_group.dr.location
}
"""
)
