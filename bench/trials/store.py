"""The block store's families: flipped bytes and kill -9 during restore point creation.

The trials themselves are ``bench/faults_store.py``'s (``flip_trials``,
``kill_capture_trials``), which work on the core directly; this turns their counts into
outcomes: the counts ``MUST_BE_ZERO`` names are the failures, the rest are figures.
"""

from __future__ import annotations

from pathlib import Path

from faults_store import MUST_BE_ZERO, flip_trials, kill_capture_trials

from .cli import Outcome


def _outcome(name: str, kind: str, counts: dict) -> Outcome:
    out = Outcome(name, counts["trials"], {k: counts[k] for k in MUST_BE_ZERO[kind]})
    for key, value in counts.items():
        if key not in MUST_BE_ZERO[kind] and key not in ("trials", "errors"):
            out.figures[key] = value if not isinstance(value, dict) else str(value)
    out.examples.extend(str(e) for e in counts.get("errors", [])[:5])
    return out


def flips(n: int, seed: int, tmp: Path) -> Outcome:
    """One flipped byte anywhere in the store, ``n`` times: verify names it, no wrong byte."""
    return _outcome("flipped bytes in the store", "flip", flip_trials(n, seed))


def kill_capture(n: int, seed: int, tmp: Path) -> Outcome:
    """kill -9 during restore point creation, ``n`` times: nothing wrong, nothing left."""
    return _outcome("kill -9 of restore point creation", "kill", kill_capture_trials(n, seed))
