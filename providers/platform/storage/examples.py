"""The storage family's examples, each built on the one before (for the reference docs).

A storage account in a resource group, then a container in it.
"""

from __future__ import annotations

#: a storage account that trusts the backup service
ACCOUNT = """\
resource "resource_group" "example" {
  name     = "example"
  location = "eastus"
}

resource "storage_account" "example" {
  name             = "examplebackups"
  resource_group   = resource_group.example.name
  location         = resource_group.example.location
  account_kind     = "StorageV2"
  account_tier     = "Standard"
  trusted_services = ["Microsoft.DataProtection/backupVaults"]
}
"""

#: a container in the account
CONTAINER = (
    ACCOUNT
    + "\n"
    + """\
resource "storage_container" "example" {
  name               = "vm-backups"
  storage_account_id = storage_account.example.id
}
"""
)
