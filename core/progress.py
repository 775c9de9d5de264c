"""The progress callback the core reports long work through.

The core never draws anything: callers pass ``progress(description, done, total)`` with
``done`` and ``total`` in bytes (or items when bytes make no sense) and decide how to show it.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]


def no_progress(description: str, done: int, total: int) -> None:
    """The default: report nothing."""
