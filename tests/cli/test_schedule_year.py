"""A simulated year of ``bcdr schedule tick --at``: retention keeps exactly the hand-worked
table (``tests/core/test_protection_retention.py``'s ``YEAR_END``: 2025, daily 7, weekly 4
on Sunday, monthly 3 and yearly 1 on the First Sunday), through the real CLI and state.

730 CLI runs (each time twice: the second does nothing), about 40 s: marked slow, so
``pytest -m "not slow"`` leaves it out; ``make test`` runs it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.cli.protection_world import ADDRESS, build, utc
from tests.core.test_protection_retention import SMALL, YEAR_END


@pytest.mark.slow
def test_a_year_of_cli_ticks_keeps_the_hand_worked_table(workdir) -> None:
    w = build(workdir, SMALL, since=utc(2024, 12, 31, 12))
    at, jobs = utc(2025, 1, 1, 2), 0
    while at <= utc(2025, 12, 31, 2):
        report = w.tick(at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        assert [j["status"] for j in report["jobs"]] == ["Succeeded"], report
        jobs += 1
        again = w.tick(at.strftime("%Y-%m-%dT%H:%M:%SZ"))  # the same time twice: nothing
        assert again["jobs"] == [], again
        at += timedelta(days=1)
    assert jobs == 365
    points = w.json("backup", "list", ADDRESS, "-at", "2025-12-31T12:00:00Z")
    assert {p["time"][:10]: set(p["kept_by"]) for p in points} == YEAR_END
    assert [p["time"][5:10] for p in points if p["tier"] == "Snapshot"] == ["12-31", "12-30"]
