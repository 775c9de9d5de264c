"""Which recovery points a backup policy keeps, and by which of its rules.

Azure Backup keeps each recovery point for a duration set by the rules it falls under ("the
backup taken every day is retained for 30 days; the one taken on Sunday for 12 weeks; on the
first Sunday of the month for 24 months"), keeps it as long as the longest of them, counts
time rather than backups (a month without backups still counts), and applies a changed
duration to existing points too. bcdr does the same by calendar periods in the policy's zone
(docs/retention.md sets it beside restic's ``forget`` and borg's ``prune``):

- A scheduled point's **day** is the local date of the last backup time (``backup.time``, the
  hourly window's start) at or before it: a backup day runs from one backup time to the next,
  so an hourly window past midnight, or a late run just after it, belongs to the day it
  started. The first scheduled point of a day is that day's point (later ones of the day, as
  hourly backups make, are kept by ``instant`` only).
- ``daily`` (count N) keeps the day's point of day D until the policy's backup time on D + N
  days; ``weekly`` the day's point of a listed weekday until the backup time on D + 7N days;
  ``monthly`` the day's point of a listed day of the month (the First Sunday, the 15th, the
  last day) until the same day of the month N months later; ``yearly`` likewise in the listed
  months, N years later. So each rule keeps exactly N of its days' points while backups run
  on schedule, each point until the one that replaces it is due.
- ``instant`` (separate: the snapshot tier) holds every point for
  ``instant_restore_retention_days`` days of wall-clock time from the point's time.
- An ad-hoc point (``retain_until`` set: an on-demand backup) is kept by ``adhoc`` until then
  and by no policy rule.

Always holds: a verdict depends on ``now`` only through ``now < expiry``, so a point kept by a
rule stays kept until that rule's expiry; the expiries depend only on a point's backup day
and the policy, so pruning what is not kept and judging again prunes nothing more.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from core.problems import enforce
from core.protection.policy import (
    WEEKS,
    BackupPolicy,
    RetentionMonthly,
    RetentionYearly,
    month_number,
    weekday_number,
)
from core.protection.rules import policy_problems
from core.protection.schedule import local_to_utc

RULES = ("daily", "weekly", "monthly", "yearly")
ADHOC = "adhoc"


@dataclass(frozen=True)
class RecoveryPoint:
    id: str
    time: datetime  # when the backup was taken (its scheduled start), timezone-aware
    retain_until: datetime | None = None  # an on-demand backup's own expiry


@dataclass(frozen=True)
class Verdict:
    """The policy's word on one point at ``now``."""

    point: RecoveryPoint
    kept_by: frozenset[str]  # the rules keeping it now ("daily", …, "adhoc")
    instant: bool  # its snapshot is still in the instant-restore tier
    expires: dict[str, datetime] = field(default_factory=dict)  # each rule's expiry (UTC)
    instant_until: datetime | None = None

    @property
    def kept(self) -> bool:
        return bool(self.kept_by)

    @property
    def pruned(self) -> bool:
        """Neither a rule nor the instant tier holds it: delete it."""
        return not self.kept_by and not self.instant

    @property
    def expires_at(self) -> datetime | None:
        """When the last rule that keeps it stops (``None`` when no rule keeps it)."""
        live = [self.expires[r] for r in self.kept_by]
        return max(live) if live else None


def _selections(block: RetentionMonthly | RetentionYearly, day: date) -> list[tuple]:
    """The ways ``day`` is one of ``block``'s days of the month: ("week", n, weekday) with n
    0-3 (First-Fourth) or 4 (Last), ("day", d) or ("last",)."""
    found: list[tuple] = []
    length = calendar.monthrange(day.year, day.month)[1]
    if day.weekday() in {weekday_number(w) for w in block.weekdays}:
        for week in block.weeks:
            n = WEEKS.index(week)
            if (n < 4 and (day.day - 1) // 7 == n) or (n == 4 and day.day > length - 7):
                found.append(("week", n, day.weekday()))
    if day.day in block.days:
        found.append(("day", day.day))
    if block.include_last_days and day.day == length:
        found.append(("last",))
    return found


def _occurrence(year: int, month: int, selection: tuple) -> date:
    """The date of ``selection`` in the given month."""
    length = calendar.monthrange(year, month)[1]
    kind = selection[0]
    if kind == "day":
        return date(year, month, selection[1])
    if kind == "last":
        return date(year, month, length)
    _, n, weekday = selection
    if n == 4:
        last = date(year, month, length)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * n)


def _add_months(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


class _Clock:
    """The policy's slot instant on a local date (the expiry of a rule's point)."""

    def __init__(self, policy: BackupPolicy) -> None:
        self.zone = policy.zone()
        self.at = policy.backup_time()

    def day(self, local: datetime) -> date:
        """The backup day of a local time: the date of the last backup time at or before it."""
        since = timedelta(hours=self.at.hour, minutes=self.at.minute)
        return (local.replace(tzinfo=None) - since).date()

    def slot(self, day: date) -> datetime:
        return local_to_utc(datetime.combine(day, self.at), self.zone)


def _rule_expiries(policy: BackupPolicy, clock: _Clock, day: date) -> dict[str, datetime]:
    """Each rule that keeps the day's point of ``day``, with the instant it stops."""
    out: dict[str, datetime] = {}
    if policy.retention_daily is not None:
        out["daily"] = clock.slot(day + timedelta(days=policy.retention_daily.count))
    weekly = policy.retention_weekly
    if weekly is not None and day.weekday() in {weekday_number(w) for w in weekly.weekdays}:
        out["weekly"] = clock.slot(day + timedelta(weeks=weekly.count))
    monthly = policy.retention_monthly
    if monthly is not None:
        ends = [_occurrence(*_add_months(day, monthly.count), s) for s in _selections(monthly, day)]
        if ends:
            out["monthly"] = clock.slot(max(ends))
    yearly = policy.retention_yearly
    if yearly is not None and day.month in {month_number(m) for m in yearly.months}:
        selections = _selections(yearly, day)
        if selections:
            end = max(_occurrence(day.year + yearly.count, day.month, s) for s in selections)
            out["yearly"] = clock.slot(end)
    return out


def judge(policy: BackupPolicy, points: Iterable[RecoveryPoint], now: datetime) -> list[Verdict]:
    """The verdict on each of ``points`` at ``now``, oldest first (pure)."""
    enforce(policy_problems(policy), "backup policy")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    now = now.astimezone(UTC)
    clock = _Clock(policy)
    instant = timedelta(days=policy.instant_days())
    ordered = sorted(points, key=lambda p: (p.time.astimezone(UTC), p.id))
    seen_days: set[date] = set()
    verdicts = []
    for point in ordered:
        if point.time.tzinfo is None:
            raise ValueError(f"recovery point {point.id}: time must be timezone-aware")
        local = point.time.astimezone(clock.zone)
        expires: dict[str, datetime] = {}
        if point.retain_until is not None:
            expires[ADHOC] = point.retain_until.astimezone(UTC)
        else:
            day = clock.day(local)
            if day not in seen_days:
                seen_days.add(day)
                expires = _rule_expiries(policy, clock, day)
        until = local_to_utc(local.replace(tzinfo=None) + instant, clock.zone)
        kept_by = frozenset(rule for rule, end in expires.items() if now < end)
        verdicts.append(Verdict(point, kept_by, now < until, expires, until))
    return verdicts


def prune(
    policy: BackupPolicy, points: Sequence[RecoveryPoint], now: datetime
) -> tuple[list[RecoveryPoint], list[RecoveryPoint]]:
    """``(kept, pruned)``: the points a rule or the instant tier still holds, and the rest."""
    verdicts = judge(policy, points, now)
    kept = [v.point for v in verdicts if not v.pruned]
    gone = [v.point for v in verdicts if v.pruned]
    return kept, gone
