# A VM protected by a vault with a daily policy: `bcdr schedule tick` takes its backups,
# `bcdr backup list` lists them, and the protected VM's recovery_points name them (newest
# first) for a restore. See README.md.

resource "resource_group" "prod" {
  name     = "prod"
  location = "eastus"
}

resource "managed_disk" "os" {
  name           = "web-os"
  resource_group = resource_group.prod.name
  location       = resource_group.prod.location
  size_gb        = 0.0625
}

resource "virtual_machine" "web" {
  name           = "web"
  resource_group = resource_group.prod.name
  location       = resource_group.prod.location
  os_disk_id     = managed_disk.os.id
}

resource "recovery_services_vault" "backups" {
  name                = "backups"
  resource_group      = resource_group.prod.name
  location            = resource_group.prod.location
  storage_mode_type   = "LocallyRedundant"
  soft_delete_enabled = true
}

resource "backup_policy_vm" "nightly" {
  name     = "nightly"
  vault_id = recovery_services_vault.backups.id
  timezone = "Europe/Berlin"

  backup {
    frequency = "Daily"
    time      = "23:00"
  }

  retention_daily {
    count = 7
  }

  retention_weekly {
    count    = 4
    weekdays = ["Sunday"]
  }
}

resource "backup_protected_vm" "web" {
  vault_id         = recovery_services_vault.backups.id
  source_vm_id     = virtual_machine.web.id
  backup_policy_id = backup_policy_vm.nightly.id
}

output "protected_item_id" {
  value = backup_protected_vm.web.id
}
