# Cross-region recovery: a restore point of a VM in eastus, copied to the paired region
# (westus, rule RP-10: only the blocks westus lacks are copied), and a disk restored there.
# Run `python ../quickstart/make_images.py` first: the OS disk is imported from images/os.img.

variable "primary" {
  type    = string
  default = "eastus"
}

variable "secondary" {
  type        = string
  default     = "westus"
  description = "the primary's paired region"
}

resource "resource_group" "primary" {
  name     = "app-primary"
  location = var.primary
}

resource "resource_group" "dr" {
  name     = "app-dr"
  location = var.secondary
}

resource "managed_disk" "os" {
  name           = "app-os"
  resource_group = resource_group.primary.name
  location       = var.primary
  create_option  = "Import"
  source_uri     = "images/os.img"
}

resource "virtual_machine" "app" {
  name           = "app"
  resource_group = resource_group.primary.name
  location       = var.primary
  os_type        = "linux"
  os_distro      = "ubuntu-22.04"
  os_disk_id     = managed_disk.os.id
}

resource "restore_point_collection" "primary" {
  name           = "app-rpc"
  resource_group = resource_group.primary.name
  location       = var.primary
  source_vm_id   = virtual_machine.app.id
}

resource "restore_point" "daily" {
  name          = "daily"
  collection_id = restore_point_collection.primary.id
}

# The collection in the paired region holds copies of the primary's restore points.
resource "restore_point_collection" "dr" {
  name           = "app-rpc-dr"
  resource_group = resource_group.dr.name
  location       = var.secondary
  source_vm_id   = virtual_machine.app.id
}

resource "restore_point" "daily_copy" {
  name                    = "daily"
  collection_id           = restore_point_collection.dr.id
  source_restore_point_id = restore_point.daily.id
}

# The OS disk as it was at "daily", restored in the paired region from the copy.
resource "managed_disk" "os_in_dr" {
  name               = "app-os-restored"
  resource_group     = resource_group.dr.name
  location           = var.secondary
  create_option      = "Restore"
  source_resource_id = "${restore_point.daily_copy.id}/diskRestorePoints/${managed_disk.os.name}"
}

output "copied_restore_point_id" {
  value = restore_point.daily_copy.id
}

output "restored_disk_id" {
  value = managed_disk.os_in_dr.id
}
