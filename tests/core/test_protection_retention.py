"""Retention by a policy's rules: a simulated year of daily backups compared with a
hand-worked table, ad-hoc and hourly points, time zones, and the properties that hold for
any policy (a rule keeps a point until its own expiry; never more points than the counts
allow; pruning twice prunes nothing more)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.protection import (
    Backup,
    BackupPolicy,
    RecoveryPoint,
    RetentionDaily,
    RetentionMonthly,
    RetentionWeekly,
    RetentionYearly,
    due_times,
    judge,
    prune,
)
from core.protection.policy import MONTHS, WEEKDAYS, WEEKS

SMALL = BackupPolicy(
    backup=Backup("Daily", "02:00"),
    retention_daily=RetentionDaily(7),
    retention_weekly=RetentionWeekly(4, ("Sunday",)),
    retention_monthly=RetentionMonthly(3, weekdays=("Sunday",), weeks=("First",)),
    retention_yearly=RetentionYearly(
        1, months=("January",), weekdays=("Sunday",), weeks=("First",)
    ),
)

# Worked by hand from a 2025 calendar (1 January 2025 is a Wednesday), judged on
# 2025-12-31 at 12:00 UTC:
#   daily 7    -> the last 7 days: 25 … 31 December
#   weekly 4   -> Sundays whose day + 28 is after today: 7, 14, 21, 28 December
#   monthly 3  -> First Sundays whose First Sunday 3 months on is after today:
#                 5 Oct (-> 4 Jan 2026), 2 Nov (-> 1 Feb), 7 Dec (-> 1 Mar); not 7 Sep (-> 7 Dec)
#   yearly 1   -> the First Sunday of January 2025 (5 Jan), kept until 4 Jan 2026
#   instant 2  -> points younger than 2 days: 30 and 31 December
YEAR_END = {
    "2025-01-05": {"yearly"},
    "2025-10-05": {"monthly"},
    "2025-11-02": {"monthly"},
    "2025-12-07": {"monthly", "weekly"},
    "2025-12-14": {"weekly"},
    "2025-12-21": {"weekly"},
    "2025-12-25": {"daily"},
    "2025-12-26": {"daily"},
    "2025-12-27": {"daily"},
    "2025-12-28": {"daily", "weekly"},
    "2025-12-29": {"daily"},
    "2025-12-30": {"daily"},
    "2025-12-31": {"daily"},
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def scheduled(policy: BackupPolicy, after: datetime, until: datetime) -> list[RecoveryPoint]:
    return [RecoveryPoint(f"rp-{t:%Y%m%d%H%M}", t) for t in due_times(policy, after, until)]


def table(verdicts: list) -> dict[str, set[str]]:
    return {f"{v.point.time:%Y-%m-%d}": set(v.kept_by) for v in verdicts if not v.pruned}


def test_a_year_of_daily_ticks_keeps_the_hand_worked_table() -> None:
    held: list[RecoveryPoint] = []
    tick = utc(2025, 1, 1, 2)
    while tick <= utc(2025, 12, 31, 2):  # one tick a day, as `schedule tick --at` would
        held.append(RecoveryPoint(f"rp-{tick:%Y%m%d}", tick))
        held, _ = prune(SMALL, held, tick)
        tick += timedelta(days=1)
    now = utc(2025, 12, 31, 12)
    verdicts = judge(SMALL, held, now)
    assert table(verdicts) == YEAR_END
    assert [f"{v.point.time:%m-%d}" for v in verdicts if v.instant] == ["12-30", "12-31"]
    # the year pruned tick by tick keeps what one judgement over the whole year keeps
    everything = scheduled(SMALL, utc(2024, 12, 31, 12), utc(2025, 12, 31, 2))
    assert len(everything) == 365
    assert table(judge(SMALL, everything, now)) == YEAR_END


def test_expiry_is_when_the_replacement_is_due() -> None:
    points = scheduled(SMALL, utc(2024, 12, 31), utc(2025, 12, 31, 2))
    by_day = {f"{v.point.time:%Y-%m-%d}": v for v in judge(SMALL, points, utc(2025, 12, 31, 12))}
    assert by_day["2025-12-25"].expires_at == utc(2026, 1, 1, 2)
    assert by_day["2025-12-07"].expires == {
        "daily": utc(2025, 12, 14, 2),
        "weekly": utc(2026, 1, 4, 2),
        "monthly": utc(2026, 3, 1, 2),
    }
    assert by_day["2025-01-05"].expires_at == utc(2026, 1, 4, 2)


def test_an_empty_month_still_counts() -> None:
    # Backups stopped at the end of June; by 5 September only June's First Sunday is left of
    # the monthly points: the empty months count (restic would keep April, May and June).
    points = scheduled(SMALL, utc(2024, 12, 31), utc(2025, 6, 30, 2))
    kept = table(judge(SMALL, points, utc(2025, 9, 5)))
    assert kept == {"2025-01-05": {"yearly"}, "2025-06-01": {"monthly"}}


def test_adhoc_points_are_kept_until_their_date_and_by_no_rule() -> None:
    points = [
        RecoveryPoint("adhoc", utc(2025, 3, 2, 1), retain_until=utc(2025, 6, 1)),
        RecoveryPoint("sched", utc(2025, 3, 2, 2)),  # First Sunday of March: the day's point
    ]
    early = {v.point.id: v for v in judge(SMALL, points, utc(2025, 5, 31))}
    assert early["adhoc"].kept_by == {"adhoc"}
    assert early["sched"].kept_by == {"monthly"}
    late = {v.point.id: v for v in judge(SMALL, points, utc(2025, 6, 1))}
    assert late["adhoc"].pruned and late["sched"].kept_by == {"monthly"}


def test_hourly_points_after_the_first_are_kept_by_the_instant_tier_only() -> None:
    policy = BackupPolicy(
        Backup("Hourly", "22:00", hour_interval=4, hour_duration=8),
        "V2",
        "Europe/Berlin",
        instant_restore_retention_days=2,
        retention_daily=RetentionDaily(7),
    )
    points = scheduled(policy, utc(2025, 6, 1), utc(2025, 6, 4))
    # 22:00 and 02:00 local: the 02:00 backup belongs to the backup day that began at 22:00
    first = judge(policy, points, utc(2025, 6, 4))
    assert [(f"{v.point.time:%d %H}", v.kept, v.instant) for v in first] == [
        ("01 20", True, False),
        ("02 00", False, False),
        ("02 20", True, True),
        ("03 00", False, True),
        ("03 20", True, True),
        ("04 00", False, True),
    ]
    kept, gone = prune(policy, points, utc(2025, 6, 4))
    assert [p.time for p in gone] == [utc(2025, 6, 2, 0)]


def test_days_are_counted_in_the_policy_zone() -> None:
    # 23:30 UTC on Saturday 4 January is 00:30 on Sunday 5 January in Berlin
    policy = BackupPolicy(
        Backup("Daily", "00:30"),
        timezone="W. Europe Standard Time",
        retention_daily=RetentionDaily(7),
        retention_weekly=RetentionWeekly(2, ("Sunday",)),
    )
    point = RecoveryPoint("p", utc(2025, 1, 4, 23, 30))
    (verdict,) = judge(policy, [point], utc(2025, 1, 12))
    assert verdict.kept_by == {"weekly"}
    assert verdict.expires["weekly"] == utc(2025, 1, 18, 23, 30)


def test_month_days_and_the_last_day() -> None:
    policy = BackupPolicy(
        Backup("Daily", "02:00"),
        retention_daily=RetentionDaily(7),
        retention_monthly=RetentionMonthly(2, days=(15,), include_last_days=True),
        retention_yearly=RetentionYearly(
            2, months=("February",), weekdays=("Friday",), weeks=("Last",)
        ),
    )
    points = scheduled(policy, utc(2024, 12, 31), utc(2025, 4, 10, 2))
    kept = table(judge(policy, points, utc(2025, 4, 10, 12)))
    assert kept == {
        "2025-02-15": {"monthly"},  # kept until 15 April
        "2025-02-28": {"monthly", "yearly"},  # last day of February, and its Last Friday
        "2025-03-15": {"monthly"},
        "2025-03-31": {"monthly"},
        **{f"2025-04-{d:02d}": {"daily"} for d in range(4, 11)},
    }


# --- properties --------------------------------------------------------------------------

ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Tokyo Standard Time"])
DAYS = st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=2, unique=True)


@st.composite
def policies(draw: st.DrawFn) -> BackupPolicy:
    time = draw(st.sampled_from(["00:00", "02:30", "23:30"]))
    monthly = draw(
        st.one_of(
            st.none(),
            st.builds(
                lambda n, d, w: RetentionMonthly(n, weekdays=tuple(d), weeks=(w,)),
                st.integers(1, 4),
                DAYS,
                st.sampled_from(WEEKS),
            ),
            st.builds(
                lambda n, d, last: RetentionMonthly(n, days=(d,), include_last_days=last),
                st.integers(1, 4),
                st.integers(1, 28),
                st.booleans(),
            ),
        )
    )
    yearly = draw(
        st.one_of(
            st.none(),
            st.builds(
                lambda n, m, d: RetentionYearly(n, months=(m,), days=(d,)),
                st.integers(1, 2),
                st.sampled_from(MONTHS),
                st.integers(1, 28),
            ),
        )
    )
    hourly = draw(st.booleans())
    backup = (
        Backup("Hourly", time, hour_interval=draw(st.sampled_from([6, 12])), hour_duration=12)
        if hourly
        else Backup("Daily", time)
    )
    return BackupPolicy(
        backup,
        "V2" if hourly else "V1",
        draw(ZONES),
        instant_restore_retention_days=draw(st.integers(1, 5)),
        retention_daily=RetentionDaily(draw(st.integers(7, 12))),
        retention_weekly=draw(
            st.one_of(
                st.none(),
                st.builds(lambda n, d: RetentionWeekly(n, tuple(d)), st.integers(1, 5), DAYS),
            )
        ),
        retention_monthly=monthly,
        retention_yearly=yearly,
    )


def capacity(policy: BackupPolicy) -> int:
    """The most points the rules may keep at once: count × the days each period selects."""
    total = policy.retention_daily.count
    if policy.retention_weekly:
        total += policy.retention_weekly.count * len(policy.retention_weekly.weekdays)
    for block, periods in ((policy.retention_monthly, 1), (policy.retention_yearly, None)):
        if block is None:
            continue
        per = len(block.weekdays) * len(block.weeks) + len(block.days) + block.include_last_days
        months = 1 if periods else len(block.months)
        total += block.count * per * months
    return total


STARTS = st.datetimes(datetime(2024, 1, 1), datetime(2025, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@st.composite
def histories(draw: st.DrawFn) -> tuple[BackupPolicy, list[RecoveryPoint], datetime]:
    policy = draw(policies())
    start = draw(STARTS)
    now = start + timedelta(hours=draw(st.integers(1, 500 * 24)))
    points = scheduled(policy, start, now)
    drop = draw(st.sets(st.integers(0, max(0, len(points) - 1)), max_size=20))
    points = [p for i, p in enumerate(points) if i not in drop]  # failed backups
    for i in range(draw(st.integers(0, 3))):
        at = start + timedelta(
            hours=draw(st.integers(0, int((now - start).total_seconds() // 3600)))
        )
        until = at + timedelta(days=draw(st.integers(1, 400)))
        points.append(RecoveryPoint(f"adhoc-{i}", at, retain_until=until))
    return policy, points, now


@settings(max_examples=60, deadline=None)
@given(histories(), st.integers(0, 400 * 24))
def test_a_rule_keeps_a_point_until_its_expiry_and_no_longer(history, later: int) -> None:
    policy, points, now = history
    before = judge(policy, points, now)
    after = judge(policy, points, now + timedelta(hours=later))
    for a, b in zip(before, after, strict=True):
        assert a.expires == b.expires  # expiries do not depend on when one asks
        assert a.kept_by == {r for r, end in a.expires.items() if now < end}
        assert b.kept_by <= a.kept_by  # once a rule lets go, it never takes the point back


@settings(max_examples=80, deadline=None)
@given(histories())
def test_never_more_than_the_counts_allow_plus_adhoc(history) -> None:
    policy, points, now = history
    verdicts = judge(policy, points, now)
    by_rules = [v for v in verdicts if v.kept_by - {"adhoc"}]
    adhoc = [v for v in verdicts if v.point.retain_until is not None]
    assert len(by_rules) <= capacity(policy)
    assert len([v for v in verdicts if v.kept]) <= capacity(policy) + len(adhoc)
    for rule in ("daily",):
        assert sum(rule in v.kept_by for v in verdicts) <= policy.retention_daily.count


@settings(max_examples=60, deadline=None)
@given(histories())
def test_pruning_is_idempotent(history) -> None:
    policy, points, now = history
    kept, gone = prune(policy, points, now)
    again, more = prune(policy, kept, now)
    assert more == [] and again == kept
    assert {v.point.id: v.kept_by for v in judge(policy, kept, now)} == {
        v.point.id: v.kept_by for v in judge(policy, points, now) if not v.pruned
    }


def test_the_bound_is_reached_on_schedule() -> None:
    # with every backup taken, each rule holds exactly its count
    points = scheduled(SMALL, utc(2023, 12, 31), utc(2025, 12, 31, 2))
    verdicts = judge(SMALL, points, utc(2025, 12, 31, 12))
    counts = {
        r: sum(r in v.kept_by for v in verdicts) for r in ("daily", "weekly", "monthly", "yearly")
    }
    assert counts == {"daily": 7, "weekly": 4, "monthly": 3, "yearly": 1}
    assert date(2025, 1, 5).isoformat() in table(verdicts)
