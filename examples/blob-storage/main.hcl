# A storage account and a container for backup logs, in the fabric's folders (or on an
# Azure Blob endpoint: see README.md).

resource "resource_group" "data" {
  name     = "data"
  location = "eastus"
}

resource "storage_account" "backups" {
  name                  = "examplebackups"
  resource_group        = resource_group.data.name
  location              = resource_group.data.location
  public_network_access = false
  trusted_services      = ["Microsoft.DataProtection/backupVaults"]
}

resource "storage_container" "logs" {
  name               = "backup-logs"
  storage_account_id = storage_account.backups.id
}

output "container_id" {
  value = storage_container.logs.id
}

output "blob_endpoint" {
  value = storage_account.backups.blob_endpoint
}
