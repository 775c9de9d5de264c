"""The rule on a SAS grant's duration (RP-12), as a pure function of the requested grant.

Called by the provider at plan time (``disk_access``) and by ``Access.grant`` at apply time.
Always holds: a grant lasts a whole number of seconds from 1 to ``MAX_DURATION_SECONDS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.problems import Problem

# The source document (seeds/000) shows a one-hour grant ("durationInSeconds": "3600") and
# states no maximum; bcdr caps a grant at one day so a leaked URL cannot stay valid for long.
MAX_DURATION_SECONDS = 24 * 3600


@dataclass(frozen=True)
class GrantFacts:
    duration_seconds: object  # as requested: a number, or anything a caller passed


def grant_problems(facts: GrantFacts) -> list[Problem]:
    """Every problem of granting read access for ``facts.duration_seconds`` (pure)."""
    d = facts.duration_seconds
    summary = f"duration_seconds = {d} is not allowed"
    span = f"a SAS grant lasts a whole number of seconds from 1 to {MAX_DURATION_SECONDS} (one day)"
    # rule RP-12: read access is granted for a duration of 1 s to one day
    if isinstance(d, bool) or not isinstance(d, int | float) or d != int(d):
        return [Problem("RP-12", summary, f"{span}: give a whole number of seconds")]
    if d <= 0:
        return [Problem("RP-12", summary, f"{span}: the duration must be positive")]
    if d > MAX_DURATION_SECONDS:
        fix = (
            f"{span}; give a shorter duration and extend it later by changing "
            "duration_seconds (the URL stays the same)"
        )
        return [Problem("RP-12", summary, fix)]
    return []
