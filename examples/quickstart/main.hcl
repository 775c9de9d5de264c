# The quickstart: a Linux VM with an OS disk and two data disks, and its first restore point.
# Run `python make_images.py` first: the disks are imported from the images it writes.

variable "location" {
  type        = string
  default     = "eastus"
  description = "the region everything is created in"
}

variable "serve_url" {
  type        = string
  default     = "http://127.0.0.1:8443"
  description = "where `bcdr serve` listens: SAS URLs point there"
}

provider "platform" {
  serve_url = var.serve_url
}

resource "resource_group" "demo" {
  name     = "quickstart"
  location = var.location
}

resource "managed_disk" "os" {
  name           = "web-os"
  resource_group = resource_group.demo.name
  location       = var.location
  sku            = "Premium_LRS"
  create_option  = "Import"
  source_uri     = "images/os.img"
}

resource "managed_disk" "data1" {
  name           = "web-data1"
  resource_group = resource_group.demo.name
  location       = var.location
  sku            = "Premium_LRS"
  create_option  = "Import"
  source_uri     = "images/data1.img"
  tags = {
    role = "database"
  }
}

resource "managed_disk" "data2" {
  name           = "web-data2"
  resource_group = resource_group.demo.name
  location       = var.location
  create_option  = "Import"
  source_uri     = "images/data2.img"
  tags = {
    role = "logs"
  }
}

resource "virtual_machine" "web" {
  name           = "web"
  resource_group = resource_group.demo.name
  location       = var.location
  os_type        = "linux"
  os_distro      = "ubuntu-22.04"
  power_state    = "running"
  os_disk_id     = managed_disk.os.id
  data_disk_ids  = [managed_disk.data1.id, managed_disk.data2.id]

  guest_hooks {
    pre_snapshot    = "sync"
    timeout_seconds = 30
  }

  tags = {
    app = "web"
  }
}

resource "restore_point_collection" "web" {
  name           = "web-restore-points"
  resource_group = resource_group.demo.name
  location       = var.location
  source_vm_id   = virtual_machine.web.id
}

resource "restore_point" "first" {
  name             = "first"
  collection_id    = restore_point_collection.web.id
  consistency_mode = "ApplicationConsistent"
}

output "vm_id" {
  value = virtual_machine.web.id
}

output "os_disk_id" {
  value = managed_disk.os.id
}

output "data1_disk_id" {
  value = managed_disk.data1.id
}

output "data2_disk_id" {
  value = managed_disk.data2.id
}

output "first_disk_restore_point_ids" {
  description = "one disk restore point per disk of the VM"
  value       = [for d in restore_point.first.disk_restore_points : d.id]
}
