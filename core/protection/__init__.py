"""Scheduled VM protection: backup policies, their rules, due times and retention (pure), and
the service over them (``Protection``): vaults, protected items, recovery points, jobs, ticks.

Its API is the names below (``core.exports`` says how they load).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.exports import lazy_exports

if TYPE_CHECKING:
    from core.protection.extensions import Extension
    from core.protection.items import ProtectedItem, item_problems, protected_item_id
    from core.protection.jobs import Job, dotnet_ticks
    from core.protection.points import RecoveryPointInfo
    from core.protection.policy import (
        Backup,
        BackupPolicy,
        RetentionDaily,
        RetentionMonthly,
        RetentionWeekly,
        RetentionYearly,
    )
    from core.protection.retention import RecoveryPoint, Verdict, judge, prune
    from core.protection.rules import policy_problems
    from core.protection.schedule import CatchUp, catch_up, due_times, local_to_utc, next_due
    from core.protection.scheduler import TickReport
    from core.protection.service import Protection
    from core.protection.timezones import WINDOWS_ZONES, zone
    from core.protection.vault_rules import vault_problems
    from core.protection.vaults import Vault, VaultSettings

_WHERE = {
    "Backup": "core.protection.policy",
    "BackupPolicy": "core.protection.policy",
    "CatchUp": "core.protection.schedule",
    "Extension": "core.protection.extensions",
    "Job": "core.protection.jobs",
    "ProtectedItem": "core.protection.items",
    "Protection": "core.protection.service",
    "RecoveryPoint": "core.protection.retention",
    "RecoveryPointInfo": "core.protection.points",
    "RetentionDaily": "core.protection.policy",
    "RetentionMonthly": "core.protection.policy",
    "RetentionWeekly": "core.protection.policy",
    "RetentionYearly": "core.protection.policy",
    "TickReport": "core.protection.scheduler",
    "Vault": "core.protection.vaults",
    "VaultSettings": "core.protection.vaults",
    "Verdict": "core.protection.retention",
    "WINDOWS_ZONES": "core.protection.timezones",
    "catch_up": "core.protection.schedule",
    "dotnet_ticks": "core.protection.jobs",
    "due_times": "core.protection.schedule",
    "item_problems": "core.protection.items",
    "judge": "core.protection.retention",
    "local_to_utc": "core.protection.schedule",
    "next_due": "core.protection.schedule",
    "policy_problems": "core.protection.rules",
    "protected_item_id": "core.protection.items",
    "prune": "core.protection.retention",
    "vault_problems": "core.protection.vault_rules",
    "zone": "core.protection.timezones",
}


__getattr__ = lazy_exports(__name__, _WHERE)


__all__ = [
    "Backup",
    "BackupPolicy",
    "CatchUp",
    "Extension",
    "Job",
    "ProtectedItem",
    "Protection",
    "RecoveryPoint",
    "RecoveryPointInfo",
    "RetentionDaily",
    "RetentionMonthly",
    "RetentionWeekly",
    "RetentionYearly",
    "TickReport",
    "Vault",
    "VaultSettings",
    "Verdict",
    "WINDOWS_ZONES",
    "catch_up",
    "dotnet_ticks",
    "due_times",
    "item_problems",
    "judge",
    "local_to_utc",
    "next_due",
    "policy_problems",
    "protected_item_id",
    "prune",
    "vault_problems",
    "zone",
]
