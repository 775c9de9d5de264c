"""The progress callback the core reports long work through.

The core never draws anything: callers pass ``progress(description, done, total)`` with
``done`` and ``total`` in bytes and decide how to show it. Always holds: ``done`` never goes
back nor past ``total``, and work that ends reports ``done == total`` last (so a bar ends at
100 %, whatever holes or skipped blocks it did not have to read).
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]


def no_progress(description: str, done: int, total: int) -> None:
    """The default: report nothing."""
