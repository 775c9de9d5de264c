"""Quantities as people read them, the same in a provider's words and the engine's output.

Always holds: ``human_bytes`` is exact below 1 KiB and shows one decimal above, in binary
units; cost phrases fill ``{bytes}`` with ``human_bytes`` and ``{count}`` with the number.
"""

from __future__ import annotations


def human_bytes(n: int | float) -> str:
    """1536 → ``1.5 KiB``; exact below 1 KiB."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def cost_words(template: str, n: int | float) -> str:
    """A provider's phrase for one cost item: ``"{bytes} to snapshot"`` with 2048 → ``2.0 KiB
    to snapshot``, ``"{count} blocks to restore"`` with 3 → ``3 blocks to restore``."""
    return template.format(bytes=human_bytes(n), count=n)
