"""The block store's fault trials at small n (issue 8's harness): a flipped byte anywhere in
the store is found by verify naming what it affects, and never restored as wrong bytes; a
restore point creation killed at a random moment leaves no bad block, no visible restore
point with missing blocks, and nothing that gc does not remove."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from faults_store import MUST_BE_ZERO, flip_trials, kill_capture_trials  # noqa: E402


def test_flipped_bytes_are_detected_and_never_restored() -> None:
    counts = flip_trials(20, seed=8)
    assert {k: counts[k] for k in MUST_BE_ZERO["flip"]} == dict.fromkeys(MUST_BE_ZERO["flip"], 0), (
        counts
    )
    assert counts["detected_named"] + counts["harmless"] == counts["trials"] == 20
    assert counts["harmless"] <= counts["by_region"]["index"]  # only SQLite's free space
    assert counts["restore_refused"] >= counts["detected_named"] - counts["by_region"]["index"]


def test_killed_captures_leave_nothing_wrong_or_left_over() -> None:
    counts = kill_capture_trials(5, seed=8)
    assert {k: counts[k] for k in MUST_BE_ZERO["kill"]} == dict.fromkeys(MUST_BE_ZERO["kill"], 0), (
        counts
    )
    assert counts["killed_before_commit"] + counts["killed_after_commit"] == 5
