"""The key vault family's examples, each built on the one before (for the reference docs).

Each resource type's schema carries a complete configuration that uses it (``Schema.example``;
``tests/cli/test_resource_docs.py`` validates every one): a vault, then a key or a secret in
it, then a disk encryption set over the key and a disk it encrypts.
"""

from __future__ import annotations

#: a key vault with purge protection and an access policy for the current user
VAULT = """\
resource "resource_group" "example" {
  name     = "example"
  location = "eastus"
}

resource "key_vault" "example" {
  name                       = "kv-example"
  resource_group             = resource_group.example.name
  location                   = resource_group.example.location
  soft_delete_retention_days = 30
  purge_protection           = true

  access_policy {
    object_id          = "current-user"
    key_permissions    = ["get", "list", "wrapKey", "unwrapKey"]
    secret_permissions = ["get", "list", "set"]
  }
}
"""

#: an RSA key in the vault
KEY = (
    VAULT
    + "\n"
    + """\
resource "key_vault_key" "example" {
  name         = "disk-kek"
  key_vault_id = key_vault.example.id
  key_type     = "RSA"
  key_size     = 3072
}
"""
)

#: a secret in the vault, from a sensitive variable
SECRET = (
    VAULT
    + "\n"
    + """\
variable "db_password" {
  type      = string
  sensitive = true
}

resource "key_vault_secret" "example" {
  name         = "db-password"
  key_vault_id = key_vault.example.id
  value        = var.db_password
  content_type = "text/plain"
}
"""
)

#: a disk encryption set over the key, and a disk it encrypts
DISK_ENCRYPTION_SET = (
    KEY
    + "\n"
    + """\
resource "disk_encryption_set" "example" {
  name             = "des-example"
  resource_group   = resource_group.example.name
  location         = resource_group.example.location
  key_vault_key_id = key_vault_key.example.id
}

resource "managed_disk" "encrypted" {
  name                   = "example-encrypted"
  resource_group         = resource_group.example.name
  location               = resource_group.example.location
  size_gb                = 1
  disk_encryption_set_id = disk_encryption_set.example.id
}
"""
)
