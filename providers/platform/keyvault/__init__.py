"""key_vault, key_vault_key, key_vault_secret, disk_encryption_set: the key store as resources.

Each type keeps an inventory row (its arguments and tags, never a secret value) beside the
key store's own records (``core.keystore.store.KeyStore``: wrapped key material, versions, access
policies, soft delete). Always holds: ids are derived from the configuration, so they are
known at plan time (a key is ``{vault id}/keys/{name}``, a secret ``{vault id}/secrets/{name}``,
a disk encryption set's ``principal_id`` is fixed by its id); the provider acts as the
fabric's current user (``bcdr platform whoami``), so a secret is set only when the vault's
access policy lets that user ``set``; destroying a vault, key or secret soft-deletes it
(recoverable for the vault's retention, and applying the same resource again recovers it);
``purge_protection`` cannot go from true to false (a plan error); a disk encryption set needs
a key in a vault with purge protection, in its own region (a plan error otherwise). A key
disabled or deleted outside bcdr, or a vault deleted, is drift that the next apply puts back.

The types live one family a module: ``vaults`` (key_vault), ``items`` (key_vault_key,
key_vault_secret), ``des`` (disk_encryption_set), and what they share in ``common``; each
is one line of ``providers.platform.types``; the compute types import what they need of
key vaults from ``common``.
"""
