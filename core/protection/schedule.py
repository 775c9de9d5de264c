"""When a backup policy's backups are due, in UTC, from its local schedule.

A policy's times are wall-clock times in its zone, so a 02:30 backup stays at 02:30 local
across daylight-saving changes. Two local times need a choice, and bcdr makes this one:
- a time that does not exist (the spring-forward gap: 02:30 in Berlin on the last Sunday of
  March) runs at the first valid local time after the gap (03:00 local, the instant of the
  change);
- a time that exists twice (the fall-back overlap: 02:30 on the last Sunday of October) runs
  once, at its first occurrence (02:30 summer time).
Hourly backups run every ``hour_interval`` hours from ``backup.time`` for ``hour_duration``
hours each day: the slots are ``time + k * interval`` for k = 0 … duration/interval - 1 (a
24-hour window every 4 hours from 00:00 gives 00, 04, 08, 12, 16, 20), counted on the wall
clock. Weekly backups run at ``backup.time`` on ``backup.weekdays``.

Always holds: ``due_times`` returns strictly increasing, timezone-aware UTC instants in the
half-open interval (after, until], one per local slot, and the same slots for any split of
an interval (due over (a, c] is due over (a, b] then (b, c]).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.problems import enforce
from core.protection.policy import BackupPolicy, weekday_number
from core.protection.rules import policy_problems


def local_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of the naive local ``wall`` time in ``zone``, by the choices above."""
    if wall.tzinfo is not None:
        raise ValueError("local_to_utc takes a naive wall-clock time")
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    u0 = first.astimezone(UTC)
    u1 = second.astimezone(UTC)
    if u0.astimezone(zone).replace(tzinfo=None) == wall:
        return min(u0, u1) if u1.astimezone(zone).replace(tzinfo=None) == wall else u0
    if u1.astimezone(zone).replace(tzinfo=None) == wall:
        return u1
    # In a gap: the change happens at one instant between the two readings; find it (to the
    # second) and run then, when the clock shows the first valid time after the gap.
    low, high = sorted((u0, u1))
    before = low.astimezone(zone).utcoffset()
    lo, hi = 0, int((high - low).total_seconds())
    while lo < hi:
        mid = (lo + hi) // 2
        if (low + timedelta(seconds=mid)).astimezone(zone).utcoffset() == before:
            lo = mid + 1
        else:
            hi = mid
    return low + timedelta(seconds=lo)


def _walls(policy: BackupPolicy, day: date) -> list[datetime]:
    """The local slots that start on ``day`` (an hourly window may run past midnight)."""
    start = datetime.combine(day, policy.backup_time())
    b = policy.backup
    if b.frequency == "Hourly":
        interval = b.hour_interval or 24
        slots = (b.hour_duration or 24) // interval
        return [start + timedelta(hours=k * interval) for k in range(slots)]
    if b.frequency == "Weekly" and day.weekday() not in {weekday_number(d) for d in b.weekdays}:
        return []
    return [start]


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC)")
    return moment.astimezone(UTC)


def due_times(policy: BackupPolicy, after: datetime, until: datetime) -> list[datetime]:
    """The UTC instants in (after, until] when ``policy`` has a backup due."""
    enforce(policy_problems(policy), "backup policy")
    after, until = _utc(after, "after"), _utc(until, "until")
    if until <= after:
        return []
    zone = policy.zone()
    # Slots of a day may fall up to a day after it (hourly windows), and the local date of
    # an instant is within a day of its UTC date: widen by two days and filter.
    day = after.astimezone(zone).date() - timedelta(days=2)
    last = until.astimezone(zone).date() + timedelta(days=1)
    due: set[datetime] = set()
    while day <= last:
        for wall in _walls(policy, day):
            moment = local_to_utc(wall, zone)
            if after < moment <= until:
                due.add(moment)
        day += timedelta(days=1)
    return sorted(due)


def next_due(policy: BackupPolicy, after: datetime) -> datetime:
    """The first instant after ``after`` when a backup is due (within the next eight days)."""
    after = _utc(after, "after")
    found = due_times(policy, after, after + timedelta(days=8))
    if not found:  # a valid policy backs up at least weekly
        raise AssertionError("a valid policy has a backup due within eight days")
    return found[0]


@dataclass(frozen=True)
class CatchUp:
    """What a scheduler that last ran at ``last_run`` does ``now``: run ``slot`` (the latest
    due, ``None`` when nothing is due) once; ``missed`` earlier slots are reported, not run."""

    slot: datetime | None
    missed: int
    missed_slots: tuple[datetime, ...] = ()


def catch_up(policy: BackupPolicy, last_run: datetime, now: datetime) -> CatchUp:
    """The one slot to run now, after the scheduler last ran at ``last_run`` (pure).

    A second call with ``last_run`` set to the slot it returned finds nothing due, so a tick
    repeated for the same ``now`` runs nothing twice.
    """
    due = due_times(policy, last_run, now)
    if not due:
        return CatchUp(None, 0)
    return CatchUp(due[-1], len(due) - 1, tuple(due[:-1]))
