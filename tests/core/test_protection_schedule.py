"""Due backup times of a policy, in UTC, from its local schedule: daylight-saving changes in
Europe/Berlin and America/New_York (a time in the spring-forward gap runs at the first valid
time after it; a time in the fall-back overlap runs once, at its first occurrence), Windows
zone names, hourly windows, weekly days, and the one slot a late scheduler runs."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.protection import (
    Backup,
    BackupPolicy,
    RetentionDaily,
    RetentionWeekly,
    catch_up,
    due_times,
    local_to_utc,
    next_due,
)


def daily(time: str, zone: str) -> BackupPolicy:
    return BackupPolicy(Backup("Daily", time), timezone=zone, retention_daily=RetentionDaily(7))


def hourly(time: str, interval: int, duration: int, zone: str = "UTC") -> BackupPolicy:
    backup = Backup("Hourly", time, hour_interval=interval, hour_duration=duration)
    return BackupPolicy(backup, "V2", zone, retention_daily=RetentionDaily(7))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def iso(times: list[datetime]) -> list[str]:
    return [t.strftime("%m-%d %H:%M") for t in times]


def test_berlin_spring_forward_runs_at_the_end_of_the_gap() -> None:
    # 2025-03-30 02:00 CET -> 03:00 CEST: 02:30 does not exist and runs at 03:00 CEST (01:00Z)
    due = due_times(daily("02:30", "Europe/Berlin"), utc(2025, 3, 28), utc(2025, 4, 1))
    assert iso(due) == ["03-28 01:30", "03-29 01:30", "03-30 01:00", "03-31 00:30"]


def test_berlin_fall_back_runs_once_at_the_first_occurrence() -> None:
    # 2025-10-26 03:00 CEST -> 02:00 CET: 02:30 happens twice; it runs at 02:30 CEST (00:30Z)
    due = due_times(daily("02:30", "Europe/Berlin"), utc(2025, 10, 24), utc(2025, 10, 28))
    assert iso(due) == ["10-24 00:30", "10-25 00:30", "10-26 00:30", "10-27 01:30"]


def test_new_york_spring_forward() -> None:
    # 2025-03-09 02:00 EST -> 03:00 EDT
    due = due_times(daily("02:30", "America/New_York"), utc(2025, 3, 8), utc(2025, 3, 11))
    assert iso(due) == ["03-08 07:30", "03-09 07:00", "03-10 06:30"]


def test_new_york_fall_back_runs_an_ambiguous_time_once() -> None:
    # 2025-11-02 02:00 EDT -> 01:00 EST: 01:30 happens twice, the first (EDT, 05:30Z) runs
    due = due_times(daily("01:30", "America/New_York"), utc(2025, 11, 1), utc(2025, 11, 4))
    assert iso(due) == ["11-01 05:30", "11-02 05:30", "11-03 06:30"]


@pytest.mark.parametrize(
    ("windows", "iana"),
    [("W. Europe Standard Time", "Europe/Berlin"), ("Eastern Standard Time", "America/New_York")],
)
def test_windows_names_schedule_as_their_iana_zone(windows: str, iana: str) -> None:
    after, until = utc(2025, 1, 1), utc(2026, 1, 1)
    by_windows = due_times(daily("02:30", windows), after, until)
    assert len(by_windows) == 365
    assert by_windows == due_times(daily("02:30", iana), after, until)


def test_utc_has_no_shift() -> None:
    due = due_times(daily("23:30", "UTC"), utc(2025, 3, 29), utc(2025, 3, 31))
    assert iso(due) == ["03-29 23:30", "03-30 23:30"]


def test_the_interval_is_half_open() -> None:
    policy = daily("02:00", "UTC")
    assert iso(due_times(policy, utc(2025, 1, 1, 2), utc(2025, 1, 2, 2))) == ["01-02 02:00"]
    assert due_times(policy, utc(2025, 1, 1, 2), utc(2025, 1, 1, 2)) == []


def test_hourly_slots_fill_the_window_from_its_start() -> None:
    due = due_times(hourly("08:00", 4, 12), utc(2025, 6, 1), utc(2025, 6, 2))
    assert iso(due) == ["06-01 08:00", "06-01 12:00", "06-01 16:00"]
    day = due_times(hourly("00:00", 4, 24), utc(2025, 5, 31, 23), utc(2025, 6, 1, 23))
    assert iso(day) == [f"06-01 {h:02d}:00" for h in (0, 4, 8, 12, 16, 20)]


def test_an_hourly_window_runs_past_midnight() -> None:
    due = due_times(hourly("22:00", 4, 8), utc(2025, 6, 1, 12), utc(2025, 6, 2, 12))
    assert iso(due) == ["06-01 22:00", "06-02 02:00"]


def test_hourly_slot_in_the_gap_moves_to_its_end() -> None:
    policy = hourly("02:00", 12, 24, "Europe/Berlin")
    due = due_times(policy, utc(2025, 3, 29, 12), utc(2025, 3, 31))
    # 03-29 14:00 CET, 03-30 02:00 (gap -> 03:00 CEST = 01:00Z), 14:00 CEST, 03-31 02:00 CEST
    assert iso(due) == ["03-29 13:00", "03-30 01:00", "03-30 12:00", "03-31 00:00"]


def test_weekly_backups_run_on_their_days_only() -> None:
    policy = BackupPolicy(
        Backup("Weekly", "23:00", weekdays=("Saturday", "Sunday")),
        timezone="Europe/Berlin",
        retention_weekly=RetentionWeekly(4, ("Sunday",)),
    )
    due = due_times(policy, utc(2025, 10, 20), utc(2025, 11, 3))
    # Saturday 25th and Sunday 26th (CEST -> CET that night), then 1st and 2nd November (CET)
    assert iso(due) == ["10-25 21:00", "10-26 22:00", "11-01 22:00", "11-02 22:00"]


def test_missed_slots_run_once_the_latest() -> None:
    policy = daily("02:30", "Europe/Berlin")
    late = catch_up(policy, utc(2025, 1, 6, 1, 30), utc(2025, 1, 10, 9))
    assert late.slot == utc(2025, 1, 10, 1, 30)
    assert late.missed == 3
    assert iso(list(late.missed_slots)) == ["01-07 01:30", "01-08 01:30", "01-09 01:30"]
    again = catch_up(policy, late.slot, utc(2025, 1, 10, 9))
    assert (again.slot, again.missed) == (None, 0)


def test_next_due_is_the_first_slot_after() -> None:
    policy = daily("02:30", "Europe/Berlin")
    assert next_due(policy, utc(2025, 3, 29, 1, 30)) == utc(2025, 3, 30, 1)


def test_naive_times_are_a_bug() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_times(daily("02:00", "UTC"), datetime(2025, 1, 1), utc(2025, 1, 2))


POLICIES = st.one_of(
    st.builds(
        daily,
        st.sampled_from(["00:00", "01:30", "02:30", "03:00", "23:30"]),
        st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"]),
    ),
    st.builds(
        hourly,
        st.sampled_from(["00:00", "02:30", "21:00"]),
        st.sampled_from([4, 6, 8, 12]),
        st.just(24),
        st.sampled_from(["Europe/Berlin", "America/New_York"]),
    ),
)
MOMENTS = st.datetimes(datetime(2024, 1, 1), datetime(2026, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@settings(max_examples=60, deadline=None)
@given(POLICIES, MOMENTS, st.integers(0, 40 * 24), st.integers(0, 40 * 24))
def test_splitting_an_interval_splits_its_slots(
    policy: BackupPolicy, a: datetime, h1: int, h2: int
) -> None:
    b, c = a + timedelta(hours=h1), a + timedelta(hours=h1 + h2)
    whole = due_times(policy, a, c)
    assert whole == due_times(policy, a, b) + due_times(policy, b, c)
    assert all(x < y for x, y in zip(whole, whole[1:], strict=False))
    assert all(a < t <= c and t.tzinfo is UTC for t in whole)


@settings(max_examples=40, deadline=None)
@given(POLICIES, MOMENTS)
def test_each_local_day_has_each_of_its_slots_once(policy: BackupPolicy, a: datetime) -> None:
    # 30 local days (midnight to midnight in the policy's zone, DST changes included)
    zone = policy.zone()
    first = a.astimezone(zone).date()
    start = local_to_utc(datetime.combine(first, time()), zone) - timedelta(microseconds=1)
    end = local_to_utc(datetime.combine(first + timedelta(days=30), time()), zone)
    per_day = (policy.backup.hour_duration or 24) // (policy.backup.hour_interval or 24)
    assert len(due_times(policy, start, end - timedelta(microseconds=1))) == 30 * per_day
