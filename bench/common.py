"""Shared helpers of the benchmarks: sizes, timing of child processes, peak RSS, tables.

Every figure a bench prints comes from here. Always holds: a measured command runs in its
own child process, reaped with ``os.wait4`` so its peak RSS is that child's alone (never
the bench's own memory); times are wall-clock seconds from ``time.perf_counter``; a
median is taken over the repeats and the raw samples are kept for ``--json``.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1 << 10,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1 << 20,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1 << 30,
}


def parse_size(text: str) -> int:
    """``"256MiB"`` → 268435456. Decimal units (MB, GB) are powers of 1000, binary of 1024."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text)
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"size {text!r} is not understood: write it like 256MiB, 4GiB or 1GB")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def human_bytes(n: float | None) -> str:
    """Bytes in binary units with three significant figures; '-' for unknown."""
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} TiB"


@dataclass
class Run:
    """One finished child process: wall seconds, peak RSS in bytes, exit code, output."""

    seconds: float
    peak_rss: int
    returncode: int
    stdout: str
    stderr: str


class CommandFailed(RuntimeError):
    """A measured command exited non-zero; the message carries its stderr tail."""


def run_measured(
    argv: Sequence[str | os.PathLike],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdout_to_devnull: bool = False,
    check: bool = True,
) -> Run:
    """Run ``argv`` in a child, timing it and reading its own peak RSS via ``wait4``.

    The child runs as users run bcdr, with bytecode caching: ``PYTHONDONTWRITEBYTECODE``
    (which some shells set) is dropped from its environment, or every run would compile
    its sources again.
    """
    base = os.environ if env is None else env
    env = {k: v for k, v in base.items() if k != "PYTHONDONTWRITEBYTECODE"}
    # Output goes to temporary files, so a chatty child never blocks on a full pipe and
    # the child can be reaped with wait4 (which Popen.communicate would do first).
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [str(a) for a in argv],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if stdout_to_devnull else out_f,
            stderr=err_f,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_f.seek(0)
        err_f.seek(0)
        stdout_b, stderr_b = out_f.read(), err_f.read()
    run = Run(
        seconds=seconds,
        peak_rss=usage.ru_maxrss * 1024,  # Linux reports KiB
        returncode=proc.returncode,
        stdout=stdout_b.decode(errors="replace"),
        stderr=stderr_b.decode(errors="replace"),
    )
    if check and run.returncode != 0:
        tail = "\n".join(run.stderr.strip().splitlines()[-15:])
        shown = " ".join(str(a) for a in argv)
        raise CommandFailed(f"command failed (exit {run.returncode}): {shown}\n{tail}")
    return run


def dir_bytes(path: Path) -> int:
    """Sum of the apparent sizes of all regular files under ``path`` (0 if missing)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                pass
    return total


def disk_usage(path: Path) -> int:
    """Bytes actually allocated for the files under ``path`` (sparse holes excluded)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


@dataclass
class Result:
    """One operation measured ``len(seconds)`` times; extra figures are from the last run."""

    name: str
    group: str  # "limit", "bcdr", "restic", "borg", "borg-fixed", ...
    kind: str  # the operation class used for ratios: "read", "copy", "first", "second", ...
    seconds: list[float] = field(default_factory=list)
    peak_rss: int | None = None
    store_bytes: int | None = None
    store_growth: int | None = None
    data_bytes: int | None = None  # bytes the GB/s column divides by
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")

    def add(self, run_seconds: float, peak_rss: int | None = None) -> None:
        self.seconds.append(run_seconds)
        if peak_rss is not None:
            self.peak_rss = max(self.peak_rss or 0, peak_rss)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "group": self.group,
            "kind": self.kind,
            "median_seconds": self.median,
            "seconds": self.seconds,
            "peak_rss_bytes": self.peak_rss,
            "store_bytes": self.store_bytes,
            "store_growth_bytes": self.store_growth,
            "data_bytes": self.data_bytes,
            "note": self.note,
        }


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain monospace table: first column left-aligned, the others right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def fmt_seconds(s: float | None) -> str:
    if s is None or s != s:  # NaN
        return "-"
    if s < 0.01:
        return f"{s * 1000:.2f} ms"
    if s < 1:
        return f"{s * 1000:.0f} ms"
    return f"{s:.2f} s"


def fmt_ratio(r: float | None) -> str:
    if r is None or r != r:
        return "-"
    return f"{r:.3g}x"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
