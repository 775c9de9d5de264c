"""The ``bcdr`` console script: ``bcdr version`` and ``bcdr -help`` from kept output, every
other command through the click group (``engine.cli.app.main``).

The two commands people and scripts run most often to see whether bcdr is there print text
that depends only on what is installed: the group's commands and their help, bcdr's and the
providers' versions, the interpreter, the terminal's width. Importing click and the command
modules to say it again costs several times the interpreter's own start, so the first run
keeps what it printed in the user's cache folder (``$XDG_CACHE_HOME/bcdr``, beside the entry
points' file), under a fingerprint of everything it came from: the command line, the
interpreter and its search path, the terminal's width, whether stdout is a terminal, the
environment variables that change output (``BCDR_*``, ``NO_COLOR``, ``TERM``, ``COLUMNS``,
the locale), and the device, inode, size, modification and change time of every module file
the command had imported and of every distribution folder on ``sys.path``
(``engine.entrypoints``).

Always holds: kept output is printed only when this process's fingerprint is the one it was
kept under, so an edit of any module the command imported, an install or an uninstall is
seen by the very next command; output written any other way than text to ``sys.stdout``
(``sys.stdout.buffer``, stderr) or a non-zero exit is not kept; a fingerprint holding a
modification time less than ``SETTLE_NS`` old is not kept (a change in the same clock tick
would not show); a cache file that cannot be read or written is no error, the command runs as
usual.
"""

from __future__ import annotations

import contextlib
import os
import sys

TYPE_CHECKING = False  # typing, which costs more than the rest of this start (it imports re)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, TextIO

#: command lines (after the program name) whose output is kept
KEPT = frozenset({("version",), ("-version",), ("--version",), ("-h",), ("-help",), ("--help",)})
#: environment variables (besides ``BCDR_*``) that can change what those commands print
ENV = ("NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "LANG", "LC_ALL", "LC_CTYPE")
#: a file's time this close to now may be followed by a change that keeps it (one tick)
SETTLE_NS = 5_000_000_000
_FORMAT = "bcdr kept output 1"


def run() -> None:
    """The console script's entry point."""
    args = tuple(sys.argv[1:])
    if args not in KEPT:
        _run_group()
        return
    key = _key(args)
    cache_file = _cache_file(key)
    kept = _read(cache_file, key) if cache_file else None
    if kept is not None:
        sys.stdout.write(kept)
        sys.stdout.flush()
        return
    tee, err = _Tee(sys.stdout), _Tee(sys.stderr)
    sys.stdout, sys.stderr = tee, err
    succeeded = False
    try:
        _run_group()
        succeeded = True
    except SystemExit as exc:
        succeeded = exc.code in (0, None)
        raise
    finally:  # an exception, an interrupt or a failure keeps nothing
        sys.stdout, sys.stderr = tee.stream, err.stream
        if cache_file and succeeded and tee.keepable and not err.text:
            files = _files_of(sys.modules.values())
            if files is not None:
                _write(cache_file, key, files, "".join(tee.text))


def _run_group() -> None:
    from engine.cli.app import main

    main(prog_name="bcdr")


def _key(args: tuple[str, ...]) -> str:
    """What the output depends on besides files: one line each."""
    env = sorted(
        (name, value)
        for name, value in os.environ.items()
        if name.startswith("BCDR_") or name in ENV
    )
    return "\n".join(
        [
            _FORMAT,
            f"{sys.hexversion:x}",
            sys.executable,
            sys.prefix,
            repr(sys.path),
            repr(args),
            repr(env),
            f"columns {_columns()}",
            f"tty {sys.stdout.isatty()}",
        ]
    )


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` (which click asks) finds it,
    without importing shutil."""
    with contextlib.suppress(KeyError, ValueError):
        columns = int(os.environ["COLUMNS"])
        if columns > 0:
            return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


def fingerprint(files: Sequence[str]) -> tuple[str, bool] | None:
    """The stat of each of ``files`` and of the distributions on ``sys.path``, as text, and
    whether every modification time in it is older than ``SETTLE_NS``; None when it cannot
    be taken."""
    from engine.entrypoints import fingerprint as distributions

    dists = distributions(tuple(sys.path))
    if dists is None:
        return None
    lines, newest = [dists[0]], 0
    for path in files:
        try:
            st = os.stat(path)
        except OSError:
            lines.append(f"{path}\t-")
            continue
        newest = max(newest, st.st_mtime_ns)
        lines.append(
            f"{path}\t{st.st_dev}\t{st.st_ino}\t{st.st_size}\t{st.st_mtime_ns}\t{st.st_ctime_ns}"
        )
    import time

    return "\n".join(lines), dists[1] and newest < time.time_ns() - SETTLE_NS


def _files_of(modules: Any) -> list[str] | None:
    """The source (or extension) file of each imported module, sorted; None when one has a
    tab or newline in its name (it would not read back the same)."""
    files = {f for m in list(modules) if isinstance(f := getattr(m, "__file__", None), str)}
    if any("\t" in f or "\n" in f for f in files):
        return None
    return sorted(files)


def _cache_file(key: str) -> str | None:
    import zlib

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    return os.path.join(base, "bcdr", f"output-{zlib.crc32(key.encode('utf-8', 'replace')):08x}")


def _read(cache_file: str, key: str) -> str | None:
    """The output kept in ``cache_file`` for ``key``; None when it is missing, unreadable,
    cut short, or kept under another key or fingerprint."""
    try:
        with open(cache_file, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return None
    head, sep, rest = text.partition("\n\n\n")
    kept_key, _, listing = head.partition("\n\n")
    if not sep or kept_key != key or not rest.endswith("\0end\n"):
        return None
    files, _, kept_print = listing.partition("\n\n")
    taken = fingerprint(files.splitlines())
    if taken is None or taken[0] != kept_print:
        return None
    return rest[: -len("\0end\n")]


def _write(cache_file: str, key: str, files: list[str], output: str) -> None:
    """Keep ``output``: written whole to a temporary file renamed over the old one."""
    taken = fingerprint(files)
    if taken is None or not taken[1] or "\n\n\n" in output or "\0" in output:
        return
    text = f"{key}\n\n{chr(10).join(files)}\n\n{taken[0]}\n\n\n{output}\0end\n"
    tmp = f"{cache_file}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(cache_file), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, cache_file)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


class _Tee:
    """``sys.stdout`` while a kept command runs: text written goes through and is recorded;
    any other use of the stream (its binary buffer, an attribute not listed) makes the run's
    output not keepable, since it might not have been recorded; asking for an attribute the
    stream lacks (click's ``hasattr(stream, "color")``) is no use of it."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.text, self.keepable = stream, [], True

    def write(self, s: str) -> int:
        n = self.stream.write(s)  # bytes raise here, as the real stream would
        self.text.append(s)
        return n

    def writelines(self, lines: Sequence[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        return self.stream.encoding

    @property
    def errors(self) -> str | None:
        return self.stream.errors

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.stream, name)  # a probe for what the stream lacks changes nothing
        self.keepable = False
        return value
