"""A VM backup policy (Terraform's ``azurerm_backup_policy_vm``) as plain, frozen data.

The model holds the values as the user wrote them (strings, ints, tuples), so that
``core.protection.rules.policy_problems`` can report every wrong value at once; the schedule
and retention take a policy only after it has no problems (they call ``enforce``). Always
holds: a ``BackupPolicy`` is immutable and hashable, and its helpers (``zone``,
``instant_days``, ``backup_time``) read it without judging it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

from core.protection.timezones import zone

POLICY_TYPES = ("V1", "V2")  # V2 is Azure's "Enhanced" policy
FREQUENCIES = ("Hourly", "Daily", "Weekly")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKS = ("First", "Second", "Third", "Fourth", "Last")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
HOUR_INTERVALS = (4, 6, 8, 12)

# Azure's defaults when instant_restore_retention_days is not given: 2 days on a standard (V1)
# policy, 7 on an enhanced (V2) one; weekly backups keep their snapshots 5 days.
DEFAULT_INSTANT_DAYS = {"V1": 2, "V2": 7}
WEEKLY_INSTANT_DAYS = 5


@dataclass(frozen=True)
class Backup:
    """When backups run: ``frequency`` at ``time`` (local, "HH:MM") on ``weekdays`` (Weekly),
    or every ``hour_interval`` hours for ``hour_duration`` hours from ``time`` (Hourly)."""

    frequency: str
    time: str
    hour_interval: int | None = None
    hour_duration: int | None = None
    weekdays: tuple[str, ...] = ()


@dataclass(frozen=True)
class RetentionDaily:
    count: int


@dataclass(frozen=True)
class RetentionWeekly:
    count: int
    weekdays: tuple[str, ...] = ()


@dataclass(frozen=True)
class RetentionMonthly:
    """Keeps the backups of ``weekdays`` in ``weeks`` of a month, or of the month's ``days``
    (1-28) and, with ``include_last_days``, its last day."""

    count: int
    weekdays: tuple[str, ...] = ()
    weeks: tuple[str, ...] = ()
    days: tuple[int, ...] = ()
    include_last_days: bool = False


@dataclass(frozen=True)
class RetentionYearly:
    """As ``RetentionMonthly``, in the ``months`` of the year only."""

    count: int
    months: tuple[str, ...] = ()
    weekdays: tuple[str, ...] = ()
    weeks: tuple[str, ...] = ()
    days: tuple[int, ...] = ()
    include_last_days: bool = False


@dataclass(frozen=True)
class BackupPolicy:
    backup: Backup
    policy_type: str = "V1"
    timezone: str = "UTC"
    instant_restore_retention_days: int | None = None
    retention_daily: RetentionDaily | None = None
    retention_weekly: RetentionWeekly | None = None
    retention_monthly: RetentionMonthly | None = None
    retention_yearly: RetentionYearly | None = None

    def zone(self) -> ZoneInfo:
        """The policy's zone; a policy with an unknown zone is a bug here (check it first)."""
        found = zone(self.timezone)
        if found is None:
            raise ValueError(f"unknown time zone {self.timezone!r}: check the policy first")
        return found

    def instant_days(self) -> int:
        """Days a backup's snapshot stays in the instant-restore tier."""
        if self.instant_restore_retention_days is not None:
            return self.instant_restore_retention_days
        if self.backup.frequency == "Weekly":
            return WEEKLY_INSTANT_DAYS
        return DEFAULT_INSTANT_DAYS.get(self.policy_type, DEFAULT_INSTANT_DAYS["V1"])

    def backup_time(self) -> time:
        """``backup.time`` as a wall-clock time (the window start for hourly backups)."""
        hours, minutes = self.backup.time.split(":")
        return time(int(hours), int(minutes))


def weekday_number(name: str) -> int:
    """Monday 0 … Sunday 6, as ``date.weekday()``."""
    return WEEKDAYS.index(name)


def month_number(name: str) -> int:
    """January 1 … December 12."""
    return MONTHS.index(name) + 1
