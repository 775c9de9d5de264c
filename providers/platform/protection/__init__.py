"""recovery_services_vault, backup_policy_vm, backup_protected_vm: scheduled VM protection as
resources (``core.protection``'s vaults, policies and protected items).

Each type keeps an inventory row (its arguments and tags) beside the core's own rows
(``bk_vaults``, ``bk_policies``, ``bk_items``). Always holds: ids are derived from the
configuration, so they are known at plan time (a vault is
``.../providers/Microsoft.RecoveryServices/vaults/{name}``, a policy
``{vault id}/backupPolicies/{name}``, a protected VM azurerm's protected item id of the vault
and the VM); every combination the core refuses (the pure rules ``vault_problems``,
``policy_problems``, ``item_problems``) is a plan error at the argument's file:line with the
fix, and apply enforces the same functions; a protected VM's destroy stops protection and
keeps its recovery points unless ``retain_data_on_destroy = false`` (refused by an
immutable vault); recovery points are data, listed newest first in the protected VM's
computed ``recovery_points`` and by ``bcdr backup list``; backups are taken by ``bcdr
schedule tick|run`` and ``bcdr backup now``, never by apply.

The types live one a module: ``vaults`` (recovery_services_vault), ``policies``
(backup_policy_vm), ``protected_vms`` (backup_protected_vm), and what they share in
``common``; each is one line of ``providers.platform.types``.
"""
