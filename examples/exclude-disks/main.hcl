# A VM with a scratch ultra disk. Restore points do not support ultra disks (rule RP-6), so
# the restore point leaves it out with exclude_disk_ids (rule RP-5). Remove the exclusion
# and `bcdr plan` refuses the spec, naming the disk and the rule.

variable "location" {
  type    = string
  default = "eastus"
}

resource "resource_group" "rg" {
  name     = "exclude-disks"
  location = var.location
}

resource "managed_disk" "os" {
  name           = "db-os"
  resource_group = resource_group.rg.name
  location       = var.location
  create_option  = "Empty"
  size_gb        = 0.03125 # 32 MiB
}

resource "managed_disk" "data" {
  name           = "db-data"
  resource_group = resource_group.rg.name
  location       = var.location
  sku            = "Premium_LRS"
  create_option  = "Empty"
  size_gb        = 0.015625 # 16 MiB
}

resource "managed_disk" "scratch" {
  name           = "db-scratch"
  resource_group = resource_group.rg.name
  location       = var.location
  sku            = "UltraSSD_LRS"
  create_option  = "Empty"
  size_gb        = 0.015625
}

resource "virtual_machine" "db" {
  name           = "db"
  resource_group = resource_group.rg.name
  location       = var.location
  os_disk_id     = managed_disk.os.id
  data_disk_ids  = [managed_disk.data.id, managed_disk.scratch.id]
}

resource "restore_point_collection" "db" {
  name           = "db-rpc"
  resource_group = resource_group.rg.name
  location       = var.location
  source_vm_id   = virtual_machine.db.id
}

resource "restore_point" "nightly" {
  name             = "nightly"
  collection_id    = restore_point_collection.db.id
  exclude_disk_ids = [managed_disk.scratch.id]
}

output "captured_disk_ids" {
  description = "the disks the restore point holds: db-os and db-data, not db-scratch"
  value       = [for d in restore_point.nightly.disk_restore_points : d.disk_id]
}
