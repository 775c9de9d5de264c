"""The rules a VM backup policy must meet (POL-1 … POL-17): one test per refusal, each naming
its rule, on policies alone; a valid policy has no problem, and every problem is reported at
once with the attribute it is about and a fix."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

import core.protection.rules as rules
from core.errors import CoreError
from core.protection import (
    Backup,
    BackupPolicy,
    RetentionDaily,
    RetentionMonthly,
    RetentionWeekly,
    RetentionYearly,
    due_times,
    policy_problems,
)

DAILY = BackupPolicy(
    backup=Backup("Daily", "02:30"),
    timezone="W. Europe Standard Time",
    retention_daily=RetentionDaily(30),
    retention_weekly=RetentionWeekly(12, ("Sunday",)),
    retention_monthly=RetentionMonthly(24, weekdays=("Sunday",), weeks=("First",)),
    retention_yearly=RetentionYearly(
        5, months=("January",), weekdays=("Sunday",), weeks=("First",)
    ),
)
HOURLY = BackupPolicy(
    backup=Backup("Hourly", "08:00", hour_interval=4, hour_duration=12),
    policy_type="V2",
    retention_daily=RetentionDaily(7),
)
WEEKLY = BackupPolicy(
    backup=Backup("Weekly", "23:00", weekdays=("Saturday", "Sunday")),
    instant_restore_retention_days=5,
    retention_weekly=RetentionWeekly(8, ("Sunday",)),
)


def found(policy: BackupPolicy) -> list[tuple[str, str]]:
    return [(p.rule, p.about) for p in policy_problems(policy)]


def only(policy: BackupPolicy, rule: str, about: str) -> str:
    problems = policy_problems(policy)
    assert [(p.rule, p.about) for p in problems] == [(rule, about)], problems
    assert not problems[0].cited
    return problems[0].message()


@pytest.mark.parametrize("policy", [DAILY, HOURLY, WEEKLY])
def test_valid_policies_have_no_problem(policy: BackupPolicy) -> None:
    assert policy_problems(policy) == []


def test_pol1_policy_type_is_v1_or_v2() -> None:
    assert '"V2"' in only(replace(DAILY, policy_type="V3"), "POL-1", "policy_type")


@pytest.mark.parametrize("name", ["Mars/Olympus", "Central Mars Standard Time", "", "../etc"])
def test_pol2_unknown_timezone(name: str) -> None:
    assert "IANA" in only(replace(DAILY, timezone=name), "POL-2", "timezone")


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "Eastern Standard Time", "utc"])
def test_pol2_iana_and_windows_names_are_accepted(name: str) -> None:
    assert policy_problems(replace(DAILY, timezone=name)) == []


def test_pol3_frequency_is_hourly_daily_or_weekly() -> None:
    policy = replace(DAILY, backup=Backup("Monthly", "02:00"))
    assert "Hourly, Daily, Weekly" in only(policy, "POL-3", "backup.frequency")


@pytest.mark.parametrize("time", ["2:30", "24:00", "02:15", "02:30:00", "noon"])
def test_pol4_time_is_on_the_hour_or_half_hour(time: str) -> None:
    policy = replace(DAILY, backup=Backup("Daily", time))
    assert '"HH:30"' in only(policy, "POL-4", "backup.time")


def test_pol5_hourly_backups_need_v2() -> None:
    assert 'policy_type = "V2"' in only(
        replace(HOURLY, policy_type="V1"), "POL-5", "backup.frequency"
    )


def test_pol6_hourly_needs_an_interval() -> None:
    policy = replace(HOURLY, backup=Backup("Hourly", "08:00", hour_duration=12))
    assert "4, 6, 8, 12" in only(policy, "POL-6", "backup.hour_interval")


def test_pol6_interval_is_4_6_8_or_12() -> None:
    policy = replace(HOURLY, backup=Backup("Hourly", "08:00", hour_interval=5, hour_duration=10))
    assert found(policy) == [("POL-6", "backup.hour_interval")]


def test_pol6_interval_only_for_hourly() -> None:
    policy = replace(DAILY, backup=Backup("Daily", "02:00", hour_interval=4))
    assert "remove hour_interval" in only(policy, "POL-6", "backup.hour_interval")


def test_pol7_hourly_needs_a_window() -> None:
    policy = replace(HOURLY, backup=Backup("Hourly", "08:00", hour_interval=4))
    assert only(policy, "POL-7", "backup.hour_duration")


@pytest.mark.parametrize("hours", [0, 2, 28])
def test_pol7_window_is_4_to_24_hours(hours: int) -> None:
    policy = replace(HOURLY, backup=Backup("Hourly", "08:00", hour_interval=4, hour_duration=hours))
    assert "4 to 24" in only(policy, "POL-7", "backup.hour_duration")


def test_pol7_window_is_a_multiple_of_the_interval() -> None:
    policy = replace(HOURLY, backup=Backup("Hourly", "08:00", hour_interval=6, hour_duration=16))
    assert "12 or 18" in only(policy, "POL-7", "backup.hour_duration")


def test_pol7_window_only_for_hourly() -> None:
    policy = replace(DAILY, backup=Backup("Daily", "02:00", hour_duration=12))
    assert found(policy) == [("POL-7", "backup.hour_duration")]


def test_pol8_weekly_backups_need_weekdays() -> None:
    policy = replace(WEEKLY, backup=Backup("Weekly", "23:00"))
    assert "Sunday" in only(policy, "POL-8", "backup.weekdays")


def test_pol8_weekdays_only_for_weekly_backups() -> None:
    policy = replace(DAILY, backup=Backup("Daily", "02:00", weekdays=("Monday",)))
    assert found(policy) == [("POL-8", "backup.weekdays")]


def test_pol8_weekdays_are_day_names() -> None:
    policy = replace(WEEKLY, backup=Backup("Weekly", "23:00", weekdays=("Sunday", "Sun")))
    assert found(policy) == [("POL-8", "backup.weekdays")]


@pytest.mark.parametrize(("kind", "days"), [("V1", 0), ("V1", 6), ("V2", 31)])
def test_pol9_instant_restore_days_in_range(kind: str, days: int) -> None:
    policy = replace(DAILY, policy_type=kind, instant_restore_retention_days=days)
    assert only(policy, "POL-9", "instant_restore_retention_days")


def test_pol9_v2_allows_up_to_30_instant_restore_days() -> None:
    assert policy_problems(replace(HOURLY, instant_restore_retention_days=30)) == []


def test_pol9_weekly_backups_keep_snapshots_5_days_or_more() -> None:
    policy = replace(WEEKLY, instant_restore_retention_days=2)
    assert "5 or more" in only(policy, "POL-9", "instant_restore_retention_days")


@pytest.mark.parametrize("policy", [DAILY, HOURLY])
def test_pol10_daily_and_hourly_backups_need_daily_retention(policy: BackupPolicy) -> None:
    assert "count = 7" in only(replace(policy, retention_daily=None), "POL-10", "retention_daily")


def test_pol10_weekly_backups_cannot_have_daily_retention() -> None:
    policy = replace(WEEKLY, retention_daily=RetentionDaily(7))
    assert only(policy, "POL-10", "retention_daily")


def test_pol11_weekly_backups_need_weekly_retention() -> None:
    message = only(replace(WEEKLY, retention_weekly=None), "POL-11", "retention_weekly")
    assert '["Saturday", "Sunday"]' in message


@pytest.mark.parametrize(
    ("block", "value"),
    [
        ("retention_daily", RetentionDaily(6)),
        ("retention_daily", RetentionDaily(10000)),
        ("retention_weekly", RetentionWeekly(0, ("Sunday",))),
        ("retention_weekly", RetentionWeekly(5164, ("Sunday",))),
        ("retention_monthly", RetentionMonthly(10000, days=(1,))),
        ("retention_yearly", RetentionYearly(100, months=("May",), days=(1,))),
    ],
)
def test_pol12_counts_in_range(block: str, value: object) -> None:
    assert "write" in only(replace(DAILY, **{block: value}), "POL-12", f"{block}.count")


def test_pol13_retention_weekdays_are_day_names() -> None:
    policy = replace(DAILY, retention_weekly=RetentionWeekly(4, ("Sonntag",)))
    assert found(policy) == [("POL-13", "retention_weekly.weekdays")]


def test_pol13_weekly_retention_needs_weekdays() -> None:
    policy = replace(DAILY, retention_weekly=RetentionWeekly(4))
    assert found(policy) == [("POL-13", "retention_weekly.weekdays")]


def test_pol14_weekly_backups_keep_only_days_they_run_on() -> None:
    policy = replace(WEEKLY, retention_weekly=RetentionWeekly(4, ("Monday",)))
    message = only(policy, "POL-14", "retention_weekly.weekdays")
    assert "Saturday, Sunday" in message and "['Monday']" in message


def test_pol14_also_for_monthly_and_yearly_retention() -> None:
    policy = replace(
        WEEKLY,
        retention_monthly=RetentionMonthly(6, weekdays=("Friday",), weeks=("Last",)),
        retention_yearly=RetentionYearly(
            2, months=("June",), weekdays=("Friday",), weeks=("Last",)
        ),
    )
    assert found(policy) == [
        ("POL-14", "retention_monthly.weekdays"),
        ("POL-14", "retention_yearly.weekdays"),
    ]


def test_pol15_weeks_and_days_are_exclusive() -> None:
    policy = replace(
        DAILY,
        retention_monthly=RetentionMonthly(3, weekdays=("Sunday",), weeks=("First",), days=(1,)),
    )
    assert only(policy, "POL-15", "retention_monthly.days")


def test_pol15_some_day_of_the_month_is_named() -> None:
    policy = replace(DAILY, retention_monthly=RetentionMonthly(3))
    assert only(policy, "POL-15", "retention_monthly")


def test_pol15_weekdays_need_weeks() -> None:
    policy = replace(DAILY, retention_monthly=RetentionMonthly(3, weekdays=("Sunday",)))
    assert found(policy) == [("POL-15", "retention_monthly.weeks")]


def test_pol15_weeks_are_first_to_fourth_or_last() -> None:
    policy = replace(
        DAILY, retention_monthly=RetentionMonthly(3, weekdays=("Sunday",), weeks=("Fifth",))
    )
    assert found(policy) == [("POL-15", "retention_monthly.weeks")]


@pytest.mark.parametrize("day", [0, 29, 31])
def test_pol15_days_of_the_month_are_1_to_28(day: int) -> None:
    policy = replace(DAILY, retention_monthly=RetentionMonthly(3, days=(1, day)))
    assert "include_last_days" in only(policy, "POL-15", "retention_monthly.days")


def test_pol15_last_day_of_the_month_alone_is_enough() -> None:
    policy = replace(DAILY, retention_monthly=RetentionMonthly(3, include_last_days=True))
    assert policy_problems(policy) == []


def test_pol16_yearly_retention_needs_months() -> None:
    policy = replace(DAILY, retention_yearly=RetentionYearly(1, days=(1,)))
    assert only(policy, "POL-16", "retention_yearly.months")


def test_pol16_months_are_month_names() -> None:
    policy = replace(DAILY, retention_yearly=RetentionYearly(1, months=("Janvier",), days=(1,)))
    assert found(policy) == [("POL-16", "retention_yearly.months")]


def test_pol17_days_of_the_month_need_daily_backups() -> None:
    policy = replace(WEEKLY, retention_monthly=RetentionMonthly(3, days=(1,)))
    assert "back up daily" in only(policy, "POL-17", "retention_monthly.days")


def test_every_problem_is_reported_at_once() -> None:
    policy = BackupPolicy(
        backup=Backup("Hourly", "25:00", hour_interval=5),
        policy_type="V1",
        timezone="Nowhere",
        instant_restore_retention_days=9,
        retention_weekly=RetentionWeekly(0),
    )
    assert found(policy) == [
        ("POL-2", "timezone"),
        ("POL-4", "backup.time"),
        ("POL-5", "backup.frequency"),
        ("POL-6", "backup.hour_interval"),
        ("POL-7", "backup.hour_duration"),
        ("POL-9", "instant_restore_retention_days"),
        ("POL-10", "retention_daily"),
        ("POL-12", "retention_weekly.count"),
        ("POL-13", "retention_weekly.weekdays"),
    ]


def test_the_schedule_refuses_a_policy_with_problems() -> None:
    policy = replace(HOURLY, policy_type="V1")
    with pytest.raises(CoreError, match="hourly backups need an enhanced policy"):
        due_times(policy, datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC))


def test_each_rule_is_tagged_once_in_the_core() -> None:
    text = Path(rules.__file__).read_text()
    for n in range(1, 18):
        assert text.count(f"# rule POL-{n}:") == 1, n
