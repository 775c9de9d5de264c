"""The rules a backup vault's settings and a protected item must meet, as pure functions.

These are the platform's own rules (Azure Backup's, as Terraform's
``azurerm_recovery_services_vault`` and ``azurerm_backup_protected_vm`` document them), named
``VLT-n``; none has an id in the source documents, so the problems are not ``cited``. Each
problem's ``about`` is the attribute it is about and its ``fix`` says what to write instead:
- VLT-1 ``storage_mode`` is ``LocallyRedundant`` or ``GeoRedundant``;
- VLT-2 cross-region restore needs ``GeoRedundant`` storage;
- VLT-3 cross-region restore, once on, cannot be turned off;
- VLT-4 ``immutability`` is ``Disabled``, ``Unlocked`` or ``Locked``;
- VLT-5 ``Locked`` immutability is final;
- VLT-6 the storage mode cannot change once the vault holds recovery points;
- VLT-7 ``notify_command``, when given, is not empty;
- VLT-8 a protected item's state is ``Protected``, ``ProtectionStopped`` or ``BackupsSuspended``;
- VLT-9 ``BackupsSuspended`` needs an immutable vault;
- VLT-10 ``exclude_disk_luns`` and ``include_disk_luns`` exclude each other;
- VLT-11 a LUN is a whole number 0-63, listed once.
VLT-8 to VLT-11 are ``core.protection.items.item_problems``'s (a protected item's rules).
The service adds the refusals that need stored facts (VLT-12: an immutable vault refuses to
delete recovery points; VLT-13: a soft-deleted point is recoverable for 14 days only).

Always holds: each function returns every problem at once, in rule order, and an empty list
exactly when the settings can be applied.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.problems import Problem

if TYPE_CHECKING:
    from core.protection.vaults import VaultSettings

STORAGE_MODES = ("LocallyRedundant", "GeoRedundant")
IMMUTABILITY = ("Disabled", "Unlocked", "Locked")
ITEM_STATES = ("Protected", "ProtectionStopped", "BackupsSuspended")
MAX_LUN = 63


def problem(rule: str, about: str, summary: str, fix: str) -> Problem:
    return Problem(rule, summary, fix, about=about, cited=False)


def vault_problems(
    new: VaultSettings, old: VaultSettings | None, *, holds_points: bool = False
) -> list[Problem]:
    """What is wrong with ``new`` settings of a vault that had ``old`` ones (None: a new
    vault); ``holds_points``: the vault holds recovery points already."""
    out: list[Problem] = []
    # rule VLT-1: the storage mode is LocallyRedundant or GeoRedundant
    if new.storage_mode not in STORAGE_MODES:
        out.append(
            problem(
                "VLT-1",
                "storage_mode_type",
                f"storage_mode_type {new.storage_mode!r} is not a vault storage mode",
                f"use one of {', '.join(STORAGE_MODES)}",
            )
        )
    # rule VLT-2: cross-region restore needs GeoRedundant storage
    if new.cross_region_restore and new.storage_mode != "GeoRedundant":
        out.append(
            problem(
                "VLT-2",
                "cross_region_restore_enabled",
                "cross-region restore needs geo-redundant storage",
                'set storage_mode_type = "GeoRedundant", or cross_region_restore_enabled = false',
            )
        )
    # rule VLT-3: cross-region restore cannot be turned off
    if old is not None and old.cross_region_restore and not new.cross_region_restore:
        out.append(
            problem(
                "VLT-3",
                "cross_region_restore_enabled",
                "cross-region restore cannot be turned off once it is on",
                "keep cross_region_restore_enabled = true (or make a new vault)",
            )
        )
    # rule VLT-4: immutability is Disabled, Unlocked or Locked
    if new.immutability not in IMMUTABILITY:
        out.append(
            problem(
                "VLT-4",
                "immutability",
                f"immutability {new.immutability!r} is not an immutability state",
                f"use one of {', '.join(IMMUTABILITY)}",
            )
        )
    # rule VLT-5: Locked immutability is final
    if old is not None and old.immutability == "Locked" and new.immutability != "Locked":
        out.append(
            problem(
                "VLT-5",
                "immutability",
                "the vault's immutability is Locked, which cannot be undone",
                'keep immutability = "Locked"',
            )
        )
    # rule VLT-6: the storage mode is fixed once the vault holds points
    if holds_points and old is not None and old.storage_mode != new.storage_mode:
        out.append(
            problem(
                "VLT-6",
                "storage_mode_type",
                f"storage_mode_type cannot change from {old.storage_mode} to "
                f"{new.storage_mode}: the vault holds recovery points",
                f'keep storage_mode_type = "{old.storage_mode}", or use a new vault',
            )
        )
    # rule VLT-7: notify_command is not empty
    if new.notify_command is not None and not new.notify_command.strip():
        out.append(
            problem(
                "VLT-7",
                "notify_command",
                "notify_command is empty",
                "give a shell command to run for a failed job, or leave notify_command out",
            )
        )
    return out
