# An encrypted VM and its restore into the paired region.
#
# The VM's disks are encrypted at rest with a customer-managed key (a disk encryption set on
# a key of the vault), and the VM uses disk encryption with the same vault (its volume key is
# a secret there, wrapped by the key). Restoring it into westus, in the same subscription,
# creates a new key vault there holding copies of the key and the secret (rule KV-2) that
# only the restore service principal may read (rule KV-3). The restored disks are encrypted
# with westus's own disk encryption set.

variable "source_location" {
  type    = string
  default = "eastus"
}

variable "target_location" {
  type    = string
  default = "westus" # eastus's paired region
}

resource "resource_group" "prod" {
  name     = "encrypted-prod"
  location = var.source_location
}

resource "resource_group" "dr" {
  name     = "encrypted-dr"
  location = var.target_location
}

# ---------------------------------------------------------------- keys in the source region
resource "key_vault" "prod" {
  name                       = "kv-encrypted-prod"
  resource_group             = resource_group.prod.name
  location                   = var.source_location
  soft_delete_retention_days = 30
  purge_protection           = true # a disk encryption set needs it; it cannot be undone

  access_policy {
    object_id          = "current-user" # you: `bcdr platform whoami` prints your object id
    key_permissions    = ["get", "list", "wrapKey", "unwrapKey"]
    secret_permissions = ["get", "list", "set", "delete"]
  }
}

resource "key_vault_key" "kek" {
  name         = "disk-kek"
  key_vault_id = key_vault.prod.id
  key_type     = "RSA"
  key_size     = 3072
}

resource "disk_encryption_set" "prod" {
  name             = "des-prod"
  resource_group   = resource_group.prod.name
  location         = var.source_location
  key_vault_key_id = key_vault_key.kek.id
}

# ---------------------------------------------------------------- the encrypted VM
resource "managed_disk" "os" {
  name                   = "app-os"
  resource_group         = resource_group.prod.name
  location               = var.source_location
  create_option          = "Empty"
  size_gb                = 0.03125 # 32 MiB
  disk_encryption_set_id = disk_encryption_set.prod.id
}

resource "managed_disk" "data" {
  name                   = "app-data"
  resource_group         = resource_group.prod.name
  location               = var.source_location
  create_option          = "Empty"
  size_gb                = 0.015625 # 16 MiB
  disk_encryption_set_id = disk_encryption_set.prod.id
}

resource "virtual_machine" "app" {
  name           = "app"
  resource_group = resource_group.prod.name
  location       = var.source_location
  os_disk_id     = managed_disk.os.id
  data_disk_ids  = [managed_disk.data.id]

  encryption {
    key_vault_id           = key_vault.prod.id
    key_id                 = key_vault_key.kek.id
    disk_encryption_set_id = disk_encryption_set.prod.id
  }
}

resource "restore_point_collection" "app" {
  name           = "app-rpc"
  resource_group = resource_group.prod.name
  location       = var.source_location
  source_vm_id   = virtual_machine.app.id
}

resource "restore_point" "first" {
  name          = "first"
  collection_id = restore_point_collection.app.id
}

# ---------------------------------------------------------------- the paired region
resource "key_vault" "dr" {
  name             = "kv-encrypted-dr"
  resource_group   = resource_group.dr.name
  location         = var.target_location
  purge_protection = true
}

resource "key_vault_key" "dr" {
  name         = "disk-kek"
  key_vault_id = key_vault.dr.id
}

resource "disk_encryption_set" "dr" {
  name             = "des-dr"
  resource_group   = resource_group.dr.name
  location         = var.target_location
  key_vault_key_id = key_vault_key.dr.id
}

resource "vm_restore" "app_dr" {
  restore_point_id       = restore_point.first.id
  name                   = "app-dr"
  target_resource_group  = resource_group.dr.name
  target_location        = var.target_location
  disk_encryption_set_id = disk_encryption_set.dr.id
}

output "restored_vm_id" {
  value = vm_restore.app_dr.id
}

output "restored_key_vault_id" {
  value = vm_restore.app_dr.key_vault_id
}
