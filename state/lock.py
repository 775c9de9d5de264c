"""The state lock: a small JSON file beside the state (``state.db.lock.info``), never the state.

Always holds: taking, testing, clearing and releasing the lock never opens the state file,
so a refused command cannot hold a transaction the holder's writes would wait on or fail
against; every lock operation runs while holding an exclusive ``flock`` on the state's
folder (a few milliseconds), so reading the lock file and writing ours is one step for
every bcdr process on this host; the lock file is written whole (temporary file, fsync,
rename) and exists exactly while a lock is held, so an unlocked state leaves nothing
behind; a held lock is refused at once unless a timeout is given, and then retried until
it runs out; a lock whose holder is provably dead (same host, same boot, same pid
namespace, and its pid gone or now another process) is cleared with a note to the caller;
a process only ever deletes the lock whose id it holds, unless forced by lock id.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from .records import LockInfo, StateError, StateLocked, utc_now

LOCK_SUFFIX = ".lock.info"
_GUARD_WAIT_S = 5.0  # the folder flock is held for milliseconds; waiting longer is a fault
_RETRY_FIRST_S, _RETRY_MAX_S = 0.05, 1.0


def lock_path(state_path: Path) -> Path:
    """Where the lock of the state at ``state_path`` lives."""
    state_path = Path(state_path)
    return state_path.with_name(state_path.name + LOCK_SUFFIX)


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no USER variable
        return str(os.getuid())


# ------------------------------------------------------------- who is alive
def _read_text(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def boot_id() -> str:
    """This boot of this host (Linux), or "" where the system does not say."""
    return _read_text("/proc/sys/kernel/random/boot_id")


def pid_namespace() -> str:
    """The pid namespace this process lives in (Linux), or ""."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def process_start(pid: int) -> tuple[int | None, bool]:
    """(start time in clock ticks since boot, running) of ``pid``, from /proc/PID/stat.

    (None, False) when the pid does not exist; a zombie counts as not running. Where
    /proc does not show the process (no /proc, or one mounted with ``hidepid``),
    (None, pid_alive(pid)).
    """
    stat = _read_text(f"/proc/{pid}/stat") if pid > 0 else ""
    if not stat:
        return None, pid_alive(pid)
    fields = stat.rpartition(")")[2].split()  # the command name may hold spaces and ')'
    try:
        state, start = fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None, pid_alive(pid)
    return start, state not in ("Z", "X")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _same_machine(holder: LockInfo) -> bool:
    """Whether ``holder`` ran on this host, in this boot and this pid namespace."""
    return (
        holder.host == socket.gethostname()
        and bool(holder.boot_id)
        and holder.boot_id == boot_id()
        and holder.pid_ns == pid_namespace()
    )


def provably_dead(holder: LockInfo) -> bool:
    """Whether the holder cannot be running: same machine and boot, pid gone or reused."""
    if not _same_machine(holder) or holder.pid <= 0:
        return False
    start, running = process_start(holder.pid)
    if not running:
        return True
    return holder.start_time is not None and start is not None and start != holder.start_time


def ours(holder: LockInfo) -> bool:
    """Whether ``holder`` is this very process (it may write the state it locked)."""
    return (
        holder.pid == os.getpid()
        and holder.host == socket.gethostname()
        and holder.boot_id == boot_id()
        and holder.pid_ns == pid_namespace()
        and holder.start_time == process_start(holder.pid)[0]
    )


def _with_staleness(holder: LockInfo) -> LockInfo:
    if provably_dead(holder):
        return replace(holder, stale=True)
    gone = holder.host == socket.gethostname() and not pid_alive(holder.pid)
    return replace(holder, stale=gone)


# ---------------------------------------------------------------- the file
def encode_info(info: LockInfo) -> str:
    return json.dumps(
        {
            "id": info.lock_id,
            "operation": info.operation,
            "user": info.user,
            "host": info.host,
            "pid": info.pid,
            "created_at": info.created_at,
            "info": info.info,
            "boot_id": info.boot_id,
            "pid_ns": info.pid_ns,
            "start_time": info.start_time,
        },
        indent=2,
    )


def decode_info(path: Path, text: str) -> LockInfo:
    try:
        data = json.loads(text)
        return LockInfo(
            lock_id=str(data["id"]),
            user=str(data["user"]),
            pid=int(data["pid"]),
            host=str(data["host"]),
            operation=str(data["operation"]),
            created_at=str(data["created_at"]),
            info=str(data.get("info") or ""),
            boot_id=str(data.get("boot_id") or ""),
            pid_ns=str(data.get("pid_ns") or ""),
            start_time=None if data.get("start_time") is None else int(data["start_time"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise StateError(
            f"The state lock file {path} cannot be read ({exc}); bcdr never writes it "
            "half-way, so something else changed it. If no bcdr process is using this "
            f"state, delete {path} and try again."
        ) from None


def _load(path: Path) -> LockInfo | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"Cannot read the state lock file {path}: {exc.strerror}.") from None
    return decode_info(path, text)


def _store(path: Path, info: LockInfo) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, encode_info(info).encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        raise StateError(
            f"Cannot write the state lock file {path}: {exc.strerror}. bcdr needs to write "
            f"in {path.parent} to lock the state."
        ) from None
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _guard(state_path: Path, *, create: bool = False) -> Iterator[Path | None]:
    """Exclusive flock on the state's folder; yields the lock file (None: no folder)."""
    folder = Path(state_path).parent
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        yield None
        return
    except OSError as exc:
        raise StateError(f"Cannot open the state folder {folder}: {exc.strerror}.") from None
    try:
        deadline = time.monotonic() + _GUARD_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StateError(
                        f"Could not lock {folder}: another process kept it locked for "
                        f"{_GUARD_WAIT_S:.0f} s. Try again."
                    ) from None
                time.sleep(0.005)
        yield lock_path(state_path)
    finally:
        os.close(fd)  # closing drops the flock


# ---------------------------------------------------------------- the lock
def read(state_path: Path) -> LockInfo | None:
    """The current lock holder, or None. ``stale`` is set for a dead holder on this host."""
    with _guard(state_path) as path:
        held = _load(path) if path is not None else None
    return _with_staleness(held) if held else None


def new_holder(operation: str, info: str) -> LockInfo:
    pid = os.getpid()
    return LockInfo(
        lock_id=str(uuid.uuid4()),
        user=current_user(),
        pid=pid,
        host=socket.gethostname(),
        operation=operation,
        created_at=utc_now(),
        info=info,
        boot_id=boot_id(),
        pid_ns=pid_namespace(),
        start_time=process_start(pid)[0],
    )


def try_acquire(
    state_path: Path,
    operation: str,
    info: str = "",
    on_cleared: Callable[[LockInfo], None] | None = None,
) -> LockInfo:
    """Take the lock for ``operation`` in one attempt; StateLocked if a live holder has it.

    A provably dead holder's lock is removed first and reported to ``on_cleared``.
    """
    ours = new_holder(operation, info)
    with _guard(state_path, create=True) as path:
        assert path is not None
        held = _load(path)
        if held is not None and provably_dead(held):
            path.unlink()
            if on_cleared is not None:
                on_cleared(held)
            held = None
        if held is not None:
            raise StateLocked(str(state_path), _with_staleness(held))
        _store(path, ours)
    return ours


def acquire(
    state_path: Path,
    operation: str,
    info: str = "",
    *,
    timeout: float = 0.0,
    on_cleared: Callable[[LockInfo], None] | None = None,
) -> LockInfo:
    """Take the lock; with ``timeout`` > 0, retry a held lock for that many seconds first.

    Raises StateLocked naming the holder when the lock is still held.
    """
    deadline = time.monotonic() + max(0.0, timeout)
    pause = _RETRY_FIRST_S
    while True:
        try:
            return try_acquire(state_path, operation, info, on_cleared)
        except StateLocked:
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            time.sleep(min(pause, left))
            pause = min(pause * 2, _RETRY_MAX_S)


def release(state_path: Path, lock_id: str) -> None:
    """Drop our lock; a lock that is no longer ours (force-unlocked) is left alone."""
    with _guard(state_path) as path:
        if path is None:
            return
        with contextlib.suppress(StateError):
            held = _load(path)
            if held is not None and held.lock_id == lock_id:
                path.unlink()


@contextlib.contextmanager
def holding(
    state_path: Path,
    operation: str,
    *,
    info: str = "",
    timeout: float = 0.0,
    on_cleared: Callable[[LockInfo], None] | None = None,
) -> Iterator[LockInfo]:
    """Hold the lock for the block; released however the block ends."""
    held = acquire(state_path, operation, info, timeout=timeout, on_cleared=on_cleared)
    try:
        yield held
    finally:
        release(state_path, held.lock_id)


def force_unlock(state_path: Path, lock_id: str) -> LockInfo:
    """Remove the lock whose id is ``lock_id``; StateError if there is none or ids differ."""
    with _guard(state_path) as path:
        held = _load(path) if path is not None else None
        if held is None:
            raise StateError(f"{state_path} is not locked; there is nothing to unlock.")
        if held.lock_id != lock_id.strip():
            raise StateError(
                f"Lock id {lock_id!r} does not match the lock on {state_path}, which is "
                f"{held.lock_id} (operation {held.operation}, {held.user}@{held.host}, "
                f"pid {held.pid}, since {held.created_at}). Pass that id to force-unlock."
            )
        assert path is not None
        path.unlink()
    return held
