"""The protection family's examples, each built on the one before (for the reference docs).

A vault, then a daily policy in it, then a VM protected by the policy, and a disk restored
from the VM's latest recovery point.
"""

from __future__ import annotations

#: a locally redundant vault with soft delete
VAULT = """\
resource "resource_group" "example" {
  name     = "example"
  location = "eastus"
}

resource "recovery_services_vault" "example" {
  name                = "example-vault"
  resource_group      = resource_group.example.name
  location            = resource_group.example.location
  storage_mode_type   = "LocallyRedundant"
  soft_delete_enabled = true
  immutability        = "Disabled"
}
"""

#: every day at 23:00 Berlin time: 7 daily, 4 weekly, 12 monthly and 2 yearly backups kept
POLICY = (
    VAULT
    + "\n"
    + """\
resource "backup_policy_vm" "daily" {
  name     = "daily"
  vault_id = recovery_services_vault.example.id
  timezone = "Europe/Berlin"

  backup {
    frequency = "Daily"
    time      = "23:00"
  }

  instant_restore_retention_days = 2

  retention_daily {
    count = 7
  }

  retention_weekly {
    count    = 4
    weekdays = ["Sunday"]
  }

  retention_monthly {
    count    = 12
    weekdays = ["Sunday"]
    weeks    = ["First"]
  }

  retention_yearly {
    count  = 2
    months = ["January"]
    days   = [1]
  }
}
"""
)

#: a VM protected by the policy; `bcdr schedule tick` takes its backups
PROTECTED_VM = (
    POLICY
    + "\n"
    + """\
resource "managed_disk" "os" {
  name           = "web-os"
  resource_group = resource_group.example.name
  location       = resource_group.example.location
  size_gb        = 1
}

resource "virtual_machine" "web" {
  name           = "web"
  resource_group = resource_group.example.name
  location       = resource_group.example.location
  os_disk_id     = managed_disk.os.id
}

resource "backup_protected_vm" "web" {
  vault_id         = recovery_services_vault.example.id
  source_vm_id     = virtual_machine.web.id
  backup_policy_id = backup_policy_vm.daily.id
}
"""
)
