"""The terminal side of the CLI: consoles with or without colour, questions, progress, Ctrl-C.

Only the ``engine.cli`` package uses this module. Always holds: colour and live progress appear only
on a terminal and never with ``-no-color``; a question is approved only by the exact
answer ``yes``; a first Ctrl-C during apply asks the applier to stop gracefully, a second
one exits at once; a stream whose reader went away (``bcdr … | head``) is never an error:
what follows is written to nowhere, the command goes on, and ``closed`` says so.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from sdk.units import human_bytes

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID
    from rich.text import Text


def _stream(name: str) -> TextIO:
    return sys.stdout if name == "stdout" else sys.stderr


#: what rich would change in a plain line (control codes, tabs): such text goes through rich
_NOT_PLAIN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


@dataclass
class UI:
    """Two consoles (stdout for results, stderr for diagnostics) sharing one colour choice.

    Without colour, a plain string is written as rich would write it (the line, right-
    stripped, and a newline) without rich, so a command that prints only such lines (``bcdr
    version``) never imports it; the consoles are made on first use.
    """

    color: bool
    closed: set[str] = field(default_factory=set)  # "stdout" / "stderr" once a reader left
    _consoles: dict[str, Console] = field(default_factory=dict, init=False, repr=False)

    @property
    def out(self) -> Console:
        return self._console("stdout")

    @out.setter
    def out(self, console: Console) -> None:  # a console of one's own (tests, a buffer)
        self._consoles["stdout"] = console

    @property
    def err(self) -> Console:
        return self._console("stderr")

    def _console(self, name: str) -> Console:
        console = self._consoles.get(name)
        if console is None:
            console = self._consoles[name] = _console(_stream(name), self.color)
            # rich's own answer to a closed pipe is SystemExit(1), in the middle of a command
            console.on_broken_pipe = lambda: self.reader_gone(name)  # type: ignore[method-assign]
            console.quiet = name in self.closed
        return console

    @classmethod
    def create(cls, no_color: bool) -> UI:
        """Colour only on a terminal, and not with ``-no-color`` or ``NO_COLOR`` set."""
        tty = _stream("stdout").isatty()
        return cls(color=tty and not no_color and not os.environ.get("NO_COLOR"))

    def print(self, text: Text | str = "", *, err: bool = False) -> None:
        name = "stderr" if err else "stdout"
        if isinstance(text, str) and not self.color and not _NOT_PLAIN.search(text):
            self._write(name, text.rstrip() + "\n")
            return
        console = self._console(name)
        if isinstance(text, str):
            from rich.text import Text

            text = Text(text)
        text.rstrip()
        console.print(text, soft_wrap=True)

    def write(self, raw: str) -> None:
        """Bytes-exact output (``output -raw``): no newline added, no styling."""
        self._write("stdout", raw)

    def _write(self, name: str, raw: str) -> None:
        """Writes past rich (plain lines, ``write``, the question's prompt): a closed pipe
        as through it."""
        if name in self.closed:
            return
        stream = self._consoles[name].file if name in self._consoles else _stream(name)
        try:
            stream.write(raw)
            stream.flush()
        except BrokenPipeError:
            self.reader_gone(name)

    def reader_gone(self, name: str) -> None:
        """A write to a pipe nobody reads any more: remember it, send the rest to nowhere."""
        self.closed.add(name)
        stream = _stream(name)
        with contextlib.suppress(OSError, ValueError):
            # the interpreter flushes the stream again at exit: give it somewhere to go
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)
        if name in self._consoles:
            self._consoles[name].quiet = True

    def ask(self, question: str, explanation: str) -> bool:
        """Terraform's approval question: only ``yes`` approves; end of input refuses."""
        from rich.text import Text

        self.print("")
        self.print(Text(question, style="bold"))
        for row in explanation.splitlines():
            self.print(f"  {row}")
        self.print("")
        self._write("stdout", "  Enter a value: ")
        answer = sys.stdin.readline()
        self.print("")
        return answer.strip() == "yes"


def _console(stream: TextIO, color: bool) -> Console:
    from rich.console import Console

    return Console(
        file=stream,
        force_terminal=color,
        no_color=not color,
        color_system="auto" if color else None,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
    )


class ProgressBars:
    """Long work by description, in bytes: bars on a terminal, else a few lines in the log.

    On a terminal (colour on) each description is a bar on stdout, where the live lines
    of the run are printed too (rich keeps the bars below them); a bar ends at 100 % and is
    then removed, and whatever is left is cleared when the bars stop. Elsewhere a task gets
    a line when it ends (``snapshot web-os: 32.0 MiB of 32.0 MiB (100%)``), and while it
    runs, once past ``settle_seconds``, a line per quarter passed and one after
    ``quiet_seconds`` without a line: a handful for long work, one for quick work.
    """

    def __init__(
        self,
        ui: UI,
        *,
        settle_seconds: float = 2.0,
        quiet_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ui = ui
        self.enabled = ui.color and ui.out.is_terminal
        self.settle_seconds, self.quiet_seconds = settle_seconds, quiet_seconds
        self._clock = clock
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        # description: (quarter last shown, when, when it began); quarter 4: it ended
        self._logged: dict[str, tuple[int, float, float]] = {}
        self._lock = threading.Lock()
        if self.enabled:
            self._progress = _bars(ui.out)

    def __enter__(self) -> ProgressBars:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def report(self, description: str, done: int, total: int) -> None:
        """The core's progress callback (``core.progress.Progress``)."""
        self.update(description, done, total)

    def update(self, description: str, done: int, total: int) -> None:
        """``done`` of ``total`` bytes for the task ``description`` (nothing when total is 0)."""
        if total <= 0:
            return
        done = max(0, min(done, total))
        with self._lock:
            if self._progress is not None:
                self._bar(description, done, total)
            else:
                self._line(description, done, total)

    def _bar(self, description: str, done: int, total: int) -> None:
        assert self._progress is not None
        task = self._tasks.get(description)
        if task is None:
            if done >= total and self._logged.get(description, (0, 0.0, 0.0))[0] == 4:
                return  # the end reported twice: that bar is gone already
            task = self._tasks[description] = self._progress.add_task(description, total=total)
        self._progress.update(task, completed=done, total=total)
        if done >= total:
            self._progress.refresh()  # seen at 100 %, then removed
            self._progress.remove_task(task)
            del self._tasks[description]
        self._logged[description] = (4 * done // total, 0.0, 0.0)

    def _line(self, description: str, done: int, total: int) -> None:
        quarter, now = 4 * done // total, self._clock()
        last = self._logged.get(description)
        if last is None or (last[0] == 4 and done < total):  # begun (again): no line yet
            last = self._logged[description] = (quarter if done < total else -1, now, now)
        shown, when, began = last
        if shown == 4:
            return  # the end reported twice
        slow = now - began >= self.settle_seconds
        if done < total and not (quarter > shown and slow) and now - when < self.quiet_seconds:
            if quarter > shown:  # passed quickly: that quarter needs no line later either
                self._logged[description] = (quarter, when, began)
            return
        self._logged[description] = (quarter, now, began)
        pct = 100 * done // total
        self.ui.print(f"{description}: {human_bytes(done)} of {human_bytes(total)} ({pct}%)")


def _bars(console: Console) -> Progress:
    """rich's bars (imported here: only a run on a terminal draws them), one per task:
    description, bar, percent, ``12.0 MiB / 32.0 MiB``, time elapsed."""
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        Task,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class Sizes(ProgressColumn):
        """What a task has done of its total, in human units."""

        def render(self, task: Task) -> Text:
            done, total = human_bytes(int(task.completed)), human_bytes(int(task.total or 0))
            return Text(f"{done} / {total}")

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        Sizes(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@dataclass
class InterruptHandler:
    """Ctrl-C during apply: the first asks ``stop()`` to finish gracefully, the second exits.

    ``say`` prints a message; ``exit_now`` ends the process (``os._exit`` by default, since
    running steps cannot be waited for); ``on_exit`` runs just before (e.g. release the lock).
    """

    stop: Callable[[], None]
    say: Callable[[str], None]
    on_exit: Callable[[], None] | None = None
    exit_now: Callable[[int], Any] = os._exit
    count: int = 0
    _previous: Any = None

    def __call__(self, signum: int | None = None, frame: Any = None) -> None:
        self.count += 1
        if self.count == 1:
            self.say(
                "\nInterrupt received.\nPlease wait for bcdr to exit or data loss may occur.\n"
                "Gracefully shutting down..."
            )
            self.stop()
            return
        self.say(
            "\nTwo interrupts received. Exiting immediately. Note that the state may be missing "
            "the steps that were running: run `bcdr plan` to see what remains, and check those "
            "resources on the platform."
        )
        if self.on_exit is not None:
            try:
                self.on_exit()
            except Exception:  # noqa: BLE001 - exiting anyway; the lock can be force-unlocked
                pass
        self.exit_now(130)

    def __enter__(self) -> InterruptHandler:
        if threading.current_thread() is threading.main_thread():
            import signal  # here: a command that is never interrupted skips it

            self._previous = signal.signal(signal.SIGINT, self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            import signal

            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
