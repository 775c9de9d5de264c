"""The embedded platform's domain verbs (``bcdr serve``, ``verify``, ``gc``) on top of the core.

The engine finds this through the entry point ``bcdr.platform: embedded`` and calls it
through ``engine.registry.Platform``; it never imports the core itself. Always holds: every
call opens the fabric at ``home`` and closes it before returning; the core's reports come
back as plain JSON-ready dicts; a user mistake (no fabric at ``home``, a port in use, a bad
sample percentage) or any ``CoreError`` becomes a ``DiagnosticsError`` naming the object and
what to do, never a traceback; SAS tokens never appear in what this module returns.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from core.disks import Disks
from core.errors import CoreError
from core.fabric import Fabric
from engine.diagnostics import DiagnosticsError, error

Progress = Callable[[str, int, int], None]


def _fail(summary: str, detail: str = "") -> DiagnosticsError:
    return DiagnosticsError([error(summary, detail)])


@contextmanager
def _open(home: Path) -> Iterator[Fabric]:
    """The fabric at ``home``, which must exist already (a verb never creates one)."""
    home = Path(home)
    if not (home / "fabric.db").is_file():
        raise _fail(
            f"no embedded platform at {home}",
            "Nothing has been created there yet. Run `bcdr apply` in this directory first, or "
            "point -home (or BCDR_FABRIC_HOME) at an existing fabric folder.",
        )
    try:
        fabric = Fabric.open(home)
    except CoreError as exc:
        raise _fail(f"the embedded platform at {home} cannot be opened", str(exc)) from None
    try:
        yield fabric
    except CoreError as exc:
        raise _fail(str(exc).split(":")[0], str(exc)) from None
    finally:
        fabric.close()


def _restore_points(fabric: Fabric) -> Any:
    from core.snapshots import RestorePoints  # noqa: PLC0415 - heavy; only verify/gc need it

    return RestorePoints(fabric, Disks(fabric))


class Problem(dict):
    """A verify problem: a plain dict whose ``str()`` is the core's one-line message."""

    def __str__(self) -> str:
        return str(self.get("message", ""))


def verify_report(report: Any) -> dict[str, Any]:
    """A ``core.verify.VerifyReport`` as plain data; each problem names what it affects."""
    problems = [
        Problem(
            {
                "block": p.name,
                "what": p.what,
                "pack": p.pack,
                "problem": p.reason,
                "restore_points": list(p.restore_point_ids),
                "disks": list(p.disk_restore_point_ids),
                "message": str(p),
            }
        )
        for p in report.problems
    ]
    return {
        "blocks_checked": report.blocks_checked,
        "bytes_checked": report.bytes_checked,
        "manifests_checked": report.manifests_checked,
        "problems": problems,
        "ok": not problems,
        "affected_restore_points": report.affected_restore_points(),
    }


def gc_report(report: Any) -> dict[str, Any]:
    """A ``core.gc.GcReport`` as plain data; ``blocks_deleted`` is the blocks freed."""
    data = asdict(report)
    data["blocks_deleted"] = data.get("blocks_freed", 0)
    return data


class EmbeddedPlatform:
    """``engine.registry.Platform`` for the embedded core: serve, verify, gc."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._servers: list[Any] = []

    def serve(self, home: Path, host: str, port: int, on_ready: Callable[[str], None]) -> None:
        """Serve granted disk restore points over HTTP until Ctrl-C or ``stop()``."""
        from core.access import make_server  # noqa: PLC0415 - only serve needs http.server

        with _open(home) as fabric:
            try:
                server = make_server(fabric, host, port)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise _fail(
                        f"port {port} on {host} is in use",
                        "Another server listens there. Choose another with --port, or stop it.",
                    ) from None
                raise _fail(f"cannot listen on {host}:{port}", exc.strerror or str(exc)) from None
            with self._lock:
                self._servers.append(server)
            try:
                bound_host, bound_port = server.server_address[:2]
                on_ready(f"http://{bound_host}:{bound_port}")
                server.serve_forever(poll_interval=0.2)
            except KeyboardInterrupt:
                pass
            finally:
                with self._lock:
                    self._servers.remove(server)
                server.server_close()

    def stop(self) -> None:
        """Ask every running ``serve`` of this object to return (from another thread)."""
        with self._lock:
            servers = list(self._servers)
        for server in servers:
            server.shutdown()

    def verify(
        self, home: Path, sample_percent: float, progress: Progress | None
    ) -> dict[str, Any]:
        """Re-read and re-hash stored blocks (all, or a sample) and name what is damaged."""
        if not 0 < sample_percent <= 100:
            raise _fail(
                f"sample {sample_percent}% is out of range",
                "Give --sample a percentage greater than 0 and at most 100.",
            )
        with _open(home) as fabric:
            report = _restore_points(fabric).verify(sample_percent, progress)
            return verify_report(report) | {"sample_percent": sample_percent}

    def gc(self, home: Path, progress: Progress | None) -> dict[str, Any]:
        """Delete blocks and manifests that no restore point references; report bytes freed."""
        with _open(home) as fabric:
            return gc_report(_restore_points(fabric).gc(progress))


def platform() -> EmbeddedPlatform:
    """The entry point ``bcdr.platform: embedded``."""
    return EmbeddedPlatform()
