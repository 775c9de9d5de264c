"""Scheduled VM protection's pure core: backup policies, their rules, due times and retention.

Its API is the names below (``core.exports`` says how they load).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.exports import lazy_exports

if TYPE_CHECKING:
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
    from core.protection.timezones import WINDOWS_ZONES, zone

_WHERE = {
    "Backup": "core.protection.policy",
    "BackupPolicy": "core.protection.policy",
    "CatchUp": "core.protection.schedule",
    "RecoveryPoint": "core.protection.retention",
    "RetentionDaily": "core.protection.policy",
    "RetentionMonthly": "core.protection.policy",
    "RetentionWeekly": "core.protection.policy",
    "RetentionYearly": "core.protection.policy",
    "Verdict": "core.protection.retention",
    "WINDOWS_ZONES": "core.protection.timezones",
    "catch_up": "core.protection.schedule",
    "due_times": "core.protection.schedule",
    "judge": "core.protection.retention",
    "local_to_utc": "core.protection.schedule",
    "next_due": "core.protection.schedule",
    "policy_problems": "core.protection.rules",
    "prune": "core.protection.retention",
    "zone": "core.protection.timezones",
}


__getattr__ = lazy_exports(__name__, _WHERE)


__all__ = [
    "Backup",
    "BackupPolicy",
    "CatchUp",
    "RecoveryPoint",
    "RetentionDaily",
    "RetentionMonthly",
    "RetentionWeekly",
    "RetentionYearly",
    "Verdict",
    "WINDOWS_ZONES",
    "catch_up",
    "due_times",
    "judge",
    "local_to_utc",
    "next_due",
    "policy_problems",
    "prune",
    "zone",
]
