"""The rules a VM backup policy must meet, as pure functions of a ``BackupPolicy``.

These are the platform's own rules (Azure Backup's, as Terraform's ``azurerm_backup_policy_vm``
documents and enforces them), named ``POL-n``; none has an id in the source documents, so the
problems are not ``cited``. Each problem's ``about`` is the attribute path it is about
("backup.hour_interval", "retention_monthly.days") and its ``fix`` says what to write instead.
Where the rules come from (behaviour, as documented and reported):
- the ``azurerm_backup_policy_vm`` argument reference: the policy types, ``hour_interval`` of
  4/6/8/12 and ``hour_duration`` of 4-24 hours "a multiple of hour_interval", instant restore
  of 1-5 days on V1 and 1-30 on V2 and "must be 5 if the backup frequency is Weekly" (its
  documentation note, terraform-provider-azurerm pull request 24539), the retention counts
  (daily at least 7 since Azure stopped accepting fewer, pull request 7898; weekly up to 5163;
  yearly up to 99), weeks First-Fourth and Last, "either weekdays and weeks or days and
  include_last_days";
- the provider's plan-time refusals: daily retention "must be set" for daily and hourly
  backups and "must be not set" for weekly ones, weekly retention must be set for weekly
  backups, ``weekdays`` / ``hour_interval`` / ``hour_duration`` only with the frequency that
  uses them;
- Azure's own refusal of the rest (``BMSUserErrorInvalidPolicyInput``): retention weekdays
  that are not backup days (Azure PowerShell: "The DaysOfWeek specified for monthly and yearly
  retention policies should be a subset of the DaysOfWeek value specified in the backup
  schedule"), day-of-month retention for weekly backups, times off the hour or half hour,
  hourly backups on a standard policy.

Always holds: ``policy_problems`` returns every problem of a policy at once, in rule order, and
an empty list exactly when the schedule and retention can use the policy.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from core.problems import Problem
from core.protection.policy import (
    FREQUENCIES,
    HOUR_INTERVALS,
    MONTHS,
    POLICY_TYPES,
    WEEKDAYS,
    WEEKS,
    BackupPolicy,
    RetentionMonthly,
    RetentionYearly,
)
from core.protection.timezones import zone

# Retention counts Azure accepts (azurerm validates the same ranges at plan time).
COUNT_RANGES = {
    "retention_daily": (7, 9999),
    "retention_weekly": (1, 5163),
    "retention_monthly": (1, 9999),
    "retention_yearly": (1, 99),
}
INSTANT_DAYS_RANGE = {"V1": (1, 5), "V2": (1, 30)}
HOUR_DURATION_RANGE = (4, 24)
MONTH_DAYS_RANGE = (1, 28)
_TIME = re.compile(r"^([01][0-9]|2[0-3]):(00|30)$")


def _p(rule: str, about: str, summary: str, fix: str) -> Problem:
    return Problem(rule, summary, fix, about=about, cited=False)


def _listing(names: tuple[str, ...]) -> str:
    return ", ".join(names)


def _unknown(values: tuple[str, ...], allowed: tuple[str, ...]) -> list[str]:
    return [v for v in values if v not in allowed]


def policy_type_problems(policy: BackupPolicy) -> list[Problem]:
    # rule POL-1: policy_type is V1 (standard) or V2 (enhanced)
    if policy.policy_type in POLICY_TYPES:
        return []
    return [
        _p(
            "POL-1",
            "policy_type",
            f"policy_type = {policy.policy_type!r} is not a policy type",
            'write "V1" (standard) or "V2" (enhanced)',
        )
    ]


def timezone_problems(policy: BackupPolicy) -> list[Problem]:
    # rule POL-2: timezone is an IANA zone or a Windows zone name Azure knows
    if zone(policy.timezone) is not None:
        return []
    return [
        _p(
            "POL-2",
            "timezone",
            f"timezone = {policy.timezone!r} is not a known time zone",
            'give an IANA name ("Europe/Berlin") or a Windows name ("W. Europe Standard Time")',
        )
    ]


def schedule_problems(policy: BackupPolicy) -> list[Problem]:
    """Frequency and time of day (POL-3, POL-4); hourly backups need an enhanced policy (POL-5)."""
    b = policy.backup
    out: list[Problem] = []
    # rule POL-3: backup.frequency is Hourly, Daily or Weekly
    if b.frequency not in FREQUENCIES:
        out.append(
            _p(
                "POL-3",
                "backup.frequency",
                f"backup.frequency = {b.frequency!r} is not a backup frequency",
                f"write one of {_listing(FREQUENCIES)}",
            )
        )
    # rule POL-4: backup.time is "HH:MM" on the hour or half hour (Azure schedules no other)
    if not isinstance(b.time, str) or not _TIME.match(b.time):
        out.append(
            _p(
                "POL-4",
                "backup.time",
                f"backup.time = {b.time!r} is not a backup time",
                'write the local time as "HH:00" or "HH:30", 00:00 to 23:30 (e.g. "02:30")',
            )
        )
    # rule POL-5: hourly backups need an enhanced (V2) policy
    if b.frequency == "Hourly" and policy.policy_type == "V1":
        out.append(
            _p(
                "POL-5",
                "backup.frequency",
                "hourly backups need an enhanced policy",
                'set policy_type = "V2", or back up "Daily"',
            )
        )
    return out


def hourly_problems(policy: BackupPolicy) -> list[Problem]:
    """``hour_interval`` (POL-6) and ``hour_duration`` (POL-7): given for Hourly only."""
    b = policy.backup
    out: list[Problem] = []
    hourly = b.frequency == "Hourly"
    # rule POL-6: hour_interval is 4, 6, 8 or 12, for hourly backups and only for them
    if hourly and b.hour_interval is None:
        fix = f"give backup.hour_interval, one of {', '.join(map(str, HOUR_INTERVALS))} hours"
        out.append(_p("POL-6", "backup.hour_interval", "hourly backups need an interval", fix))
    elif hourly and b.hour_interval not in HOUR_INTERVALS:
        out.append(
            _p(
                "POL-6",
                "backup.hour_interval",
                f"backup.hour_interval = {b.hour_interval!r} is not allowed",
                f"write one of {', '.join(map(str, HOUR_INTERVALS))} hours",
            )
        )
    elif not hourly and b.hour_interval is not None:
        out.append(
            _p(
                "POL-6",
                "backup.hour_interval",
                f"backup.hour_interval is set but backups are {b.frequency}",
                'remove hour_interval, or set frequency = "Hourly"',
            )
        )
    # rule POL-7: hour_duration is 4-24 hours and a multiple of hour_interval (hourly only)
    low, high = HOUR_DURATION_RANGE
    d = b.hour_duration
    if hourly and d is None:
        fix = f"give backup.hour_duration, {low} to {high} hours, a multiple of hour_interval"
        out.append(_p("POL-7", "backup.hour_duration", "hourly backups need a window", fix))
    elif hourly and (not isinstance(d, int) or not low <= d <= high):
        out.append(
            _p(
                "POL-7",
                "backup.hour_duration",
                f"backup.hour_duration = {d!r} is out of range",
                f"write {low} to {high} hours",
            )
        )
    elif hourly and b.hour_interval in HOUR_INTERVALS and d % b.hour_interval:
        m = b.hour_interval
        near = sorted({max(m, d - d % m), min(high - high % m, d - d % m + m)})
        out.append(
            _p(
                "POL-7",
                "backup.hour_duration",
                f"backup.hour_duration = {d} is not a multiple of hour_interval = {m}",
                f"write a multiple of {m}, such as {' or '.join(map(str, near))}",
            )
        )
    elif not hourly and d is not None:
        out.append(
            _p(
                "POL-7",
                "backup.hour_duration",
                f"backup.hour_duration is set but backups are {b.frequency}",
                'remove hour_duration, or set frequency = "Hourly"',
            )
        )
    return out


def backup_weekday_problems(policy: BackupPolicy) -> list[Problem]:
    # rule POL-8: backup.weekdays are given for weekly backups only, and are day names
    b = policy.backup
    about = "backup.weekdays"
    if b.frequency == "Weekly" and not b.weekdays:
        fix = 'give backup.weekdays, e.g. ["Sunday"]'
        return [_p("POL-8", about, "weekly backups need the days to run on", fix)]
    if b.frequency in ("Daily", "Hourly") and b.weekdays:
        fix = 'remove backup.weekdays, or set frequency = "Weekly"'
        return [_p("POL-8", about, f"backup.weekdays is set but backups are {b.frequency}", fix)]
    bad = _unknown(b.weekdays, WEEKDAYS)
    if bad:
        fix = f"write day names: {_listing(WEEKDAYS)}"
        return [_p("POL-8", about, f"backup.weekdays has unknown days {bad}", fix)]
    return []


def instant_restore_problems(policy: BackupPolicy) -> list[Problem]:
    # rule POL-9: instant restore lasts 1-5 days (V1) or 1-30 (V2); weekly backups need 5 or more
    days = policy.instant_restore_retention_days
    if days is None or policy.policy_type not in INSTANT_DAYS_RANGE:
        return []
    low, high = INSTANT_DAYS_RANGE[policy.policy_type]
    about = "instant_restore_retention_days"
    if not isinstance(days, int) or not low <= days <= high:
        more = ' (set policy_type = "V2" for up to 30)' if policy.policy_type == "V1" else ""
        summary = f"{about} = {days!r} is out of range for a {policy.policy_type} policy"
        return [_p("POL-9", about, summary, f"write {low} to {high} days{more}")]
    if policy.backup.frequency == "Weekly" and days < 5:
        fix = f"write 5 or more (up to {high}): a weekly backup's snapshot must last until the next"
        return [_p("POL-9", about, f"{about} = {days} is too short for weekly backups", fix)]
    return []


def retention_presence_problems(policy: BackupPolicy) -> list[Problem]:
    """Which retention blocks a frequency needs (POL-10 daily, POL-11 weekly)."""
    f = policy.backup.frequency
    out: list[Problem] = []
    # rule POL-10: daily and hourly backups need retention_daily; weekly backups may not have it
    if f in ("Daily", "Hourly") and policy.retention_daily is None:
        fix = "add retention_daily { count = 7 } (7 to 9999 days)"
        summary = f"{f.lower()} backups need daily retention"
        out.append(_p("POL-10", "retention_daily", summary, fix))
    if f == "Weekly" and policy.retention_daily is not None:
        fix = "remove retention_daily and keep the backups with retention_weekly"
        summary = "weekly backups cannot have daily retention"
        out.append(_p("POL-10", "retention_daily", summary, fix))
    # rule POL-11: weekly backups need retention_weekly
    if f == "Weekly" and policy.retention_weekly is None:
        days = list(policy.backup.weekdays) or ["Sunday"]
        fix = f"add retention_weekly {{ count = 4, weekdays = {days} }}".replace("'", '"')
        out.append(_p("POL-11", "retention_weekly", "weekly backups need weekly retention", fix))
    return out


def count_problems(policy: BackupPolicy) -> list[Problem]:
    # rule POL-12: each retention count is in Azure's range
    out = []
    for block, (low, high) in COUNT_RANGES.items():
        rule = getattr(policy, block)
        if rule is None:
            continue
        c = rule.count
        if isinstance(c, bool) or not isinstance(c, int) or not low <= c <= high:
            summary = f"{block}.count = {c!r} is out of range"
            out.append(_p("POL-12", f"{block}.count", summary, f"write {low} to {high}"))
    return out


def _periodic(policy: BackupPolicy) -> list[tuple[str, RetentionMonthly | RetentionYearly]]:
    return [
        (name, block)
        for name, block in (
            ("retention_monthly", policy.retention_monthly),
            ("retention_yearly", policy.retention_yearly),
        )
        if block is not None
    ]


def retention_weekday_problems(policy: BackupPolicy) -> list[Problem]:
    """Day names of the retention blocks (POL-13) and, for weekly backups, that they are days
    backups run on (POL-14): a retention day without a backup would keep nothing."""
    out: list[Problem] = []
    blocks = [("retention_weekly", policy.retention_weekly), *_periodic(policy)]
    backup_days = set(policy.backup.weekdays)
    for name, block in blocks:
        if block is None:
            continue
        about = f"{name}.weekdays"
        # rule POL-13: retention weekdays are day names (and retention_weekly has at least one)
        bad = _unknown(block.weekdays, WEEKDAYS)
        if bad:
            fix = f"write day names: {_listing(WEEKDAYS)}"
            out.append(_p("POL-13", about, f"{about} has unknown days {bad}", fix))
        elif name == "retention_weekly" and not block.weekdays:
            fix = 'give the days whose backups to keep, e.g. ["Sunday"]'
            out.append(_p("POL-13", about, "weekly retention needs weekdays", fix))
        # rule POL-14: for weekly backups, retention weekdays are among backup.weekdays
        missing = [d for d in block.weekdays if d in WEEKDAYS and d not in backup_days]
        if policy.backup.frequency == "Weekly" and missing and backup_days:
            fix = f"keep only days backups run on ({_listing(policy.backup.weekdays)}), or add "
            fix += f"{missing} to backup.weekdays"
            summary = f"{about} names {missing}, when no backup runs"
            out.append(_p("POL-14", about, summary, fix))
    return out


def period_problems(policy: BackupPolicy) -> list[Problem]:
    """How monthly and yearly retention pick their day (POL-15), the months of yearly
    retention (POL-16), and day-of-month retention needing a backup every day (POL-17)."""
    out: list[Problem] = []
    for name, block in _periodic(policy):
        by_week = bool(block.weekdays or block.weeks)
        by_day = bool(block.days or block.include_last_days)
        # rule POL-15: a month's day is weekdays + weeks, or days (1-28) + include_last_days
        if by_week and by_day:
            fix = "keep weekdays and weeks (e.g. the First Sunday), or days, not both"
            out.append(_p("POL-15", f"{name}.days", f"{name} names weeks and days", fix))
        elif not by_week and not by_day:
            fix = 'give weekdays and weeks (weekdays = ["Sunday"], weeks = ["First"]) or days'
            out.append(_p("POL-15", name, f"{name} says no day of the month to keep", fix))
        elif by_week and not (block.weekdays and block.weeks):
            lacking = "weeks" if block.weekdays else "weekdays"
            fix = f'give {name}.{lacking} too (e.g. weeks = ["First"], weekdays = ["Sunday"])'
            summary = f"{name} needs both weekdays and weeks"
            out.append(_p("POL-15", f"{name}.{lacking}", summary, fix))
        bad_weeks = _unknown(block.weeks, WEEKS)
        if bad_weeks:
            fix = f"write weeks of the month: {_listing(WEEKS)}"
            out.append(_p("POL-15", f"{name}.weeks", f"{name}.weeks has {bad_weeks}", fix))
        low, high = MONTH_DAYS_RANGE
        bad_days = [d for d in block.days if isinstance(d, bool) or not isinstance(d, int)]
        bad_days += [d for d in block.days if isinstance(d, int) and not low <= d <= high]
        if bad_days:
            fix = f"write days {low} to {high}; for the month's end set include_last_days = true"
            out.append(_p("POL-15", f"{name}.days", f"{name}.days has {bad_days}", fix))
        # rule POL-17: retention by day of the month needs daily (or hourly) backups
        if by_day and policy.backup.frequency == "Weekly":
            fix = "keep by weekdays and weeks (e.g. the First Sunday), or back up daily"
            summary = f"{name} keeps days of the month, but backups are weekly"
            out.append(_p("POL-17", f"{name}.days", summary, fix))
    yearly = policy.retention_yearly
    if yearly is not None:
        # rule POL-16: yearly retention names its months
        if not yearly.months:
            fix = 'give months = ["January"] (the months whose backups to keep)'
            summary = "yearly retention needs months"
            out.append(_p("POL-16", "retention_yearly.months", summary, fix))
        elif _unknown(yearly.months, MONTHS):
            bad = _unknown(yearly.months, MONTHS)
            fix = f"write month names: {_listing(MONTHS)}"
            summary = f"retention_yearly.months has {bad}"
            out.append(_p("POL-16", "retention_yearly.months", summary, fix))
    return out


CHECKS: tuple[Callable[[BackupPolicy], list[Problem]], ...] = (
    policy_type_problems,
    timezone_problems,
    schedule_problems,
    hourly_problems,
    backup_weekday_problems,
    instant_restore_problems,
    retention_presence_problems,
    count_problems,
    retention_weekday_problems,
    period_problems,
)


def policy_problems(policy: BackupPolicy) -> list[Problem]:
    """Every problem of ``policy`` (pure): all the rules POL-1 to POL-17, at once."""
    return [problem for check in CHECKS for problem in check(policy)]
