"""Progress of long work: a few lines with human sizes in a log, bars on a terminal.

The log form runs with a clock the test moves; the terminal form draws through rich into a
buffer that a terminal emulator (pyte) turns into the screen a user would see.
"""

from __future__ import annotations

import io

import pyte
from rich.console import Console

from engine.ui import UI, ProgressBars

MIB = 1 << 20


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _log_bars(capsys) -> tuple[ProgressBars, Clock]:
    clock = Clock()
    capsys.readouterr()
    return ProgressBars(UI(color=False), clock=clock), clock


def test_quick_work_gets_one_line_with_its_size(capsys):
    bars, clock = _log_bars(capsys)
    assert not bars.enabled
    for done in range(0, 33 * MIB, MIB // 2):
        bars.update("managed_disk.os: import os.img", done, 32 * MIB)
        clock.now += 0.001
    bars.update("managed_disk.os: import os.img", 32 * MIB, 32 * MIB)  # the end, twice
    assert capsys.readouterr().out.splitlines() == [
        "managed_disk.os: import os.img: 32.0 MiB of 32.0 MiB (100%)"
    ]


def test_long_work_gets_a_line_per_quarter_and_when_quiet_then_the_end(capsys):
    bars, clock = _log_bars(capsys)
    total = 8 << 30
    # 8 GiB in 80 s, one update a second: quarters at 20 s, 40 s, 60 s; a quiet line 10 s
    # after each; never a raw byte count
    for second in range(81):
        clock.now = float(second)
        bars.update("restore_point.first: snapshot web-os", second * total // 80, total)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "restore_point.first: snapshot web-os: 1.0 GiB of 8.0 GiB (12%)",
        "restore_point.first: snapshot web-os: 2.0 GiB of 8.0 GiB (25%)",
        "restore_point.first: snapshot web-os: 3.0 GiB of 8.0 GiB (37%)",
        "restore_point.first: snapshot web-os: 4.0 GiB of 8.0 GiB (50%)",
        "restore_point.first: snapshot web-os: 5.0 GiB of 8.0 GiB (62%)",
        "restore_point.first: snapshot web-os: 6.0 GiB of 8.0 GiB (75%)",
        "restore_point.first: snapshot web-os: 7.0 GiB of 8.0 GiB (87%)",
        "restore_point.first: snapshot web-os: 8.0 GiB of 8.0 GiB (100%)",
    ]


def test_the_same_work_again_is_reported_again(capsys):
    bars, _ = _log_bars(capsys)
    for _ in range(2):
        bars.update("gc", 0, 4 * MIB)
        bars.update("gc", 4 * MIB, 4 * MIB)
    assert capsys.readouterr().out.splitlines() == ["gc: 4.0 MiB of 4.0 MiB (100%)"] * 2


def _screen(raw: str, columns: int = 100, lines: int = 12) -> list[str]:
    screen = pyte.Screen(columns, lines)
    pyte.Stream(screen).feed(raw.replace("\n", "\r\n"))
    return [row.rstrip() for row in screen.display]


def test_a_terminal_bar_ends_at_100_percent_and_is_cleared():
    buffer = io.StringIO()
    ui = UI(color=True)
    ui.out = Console(file=buffer, force_terminal=True, width=100, color_system=None)
    bars = ProgressBars(ui)
    assert bars.enabled
    frames = []
    with bars:
        ui.print("restore_point.first: Creating...")
        bars.update("restore_point.first: snapshot web-os", 20 * MIB, 32 * MIB)
        bars._progress.refresh()
        frames.append(_screen(buffer.getvalue()))
        bars.update("restore_point.first: snapshot web-os", 32 * MIB, 32 * MIB)
        frames.append(_screen(buffer.getvalue()))
    ui.print("restore_point.first: Creation complete after 1s")
    running, ended = frames
    assert running[0] == "restore_point.first: Creating..."
    assert running[1].startswith("restore_point.first: snapshot web-os")
    assert "62% 20.0 MiB / 32.0 MiB" in running[1]
    assert "100% 32.0 MiB / 32.0 MiB" in ended[1]  # seen full before it goes
    final = _screen(buffer.getvalue())
    assert final[:3] == [
        "restore_point.first: Creating...",
        "restore_point.first: Creation complete after 1s",  # on its own line, not glued
        "",
    ]
