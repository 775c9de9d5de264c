"""The embedded platform's domain verbs on top of the core: ``bcdr serve``, ``verify``, ``gc``
and the ``bcdr platform`` commands (list, show, disk write/export, vm power, tag, delete,
whoami, subscription create/list, key enable/disable, recover/purge of key vaults, keys and
secrets, recover-files, blob list/get/put/delete).

The platform's commands (``providers.platform.cli``) call it; the engine never does.
Always holds: every
call opens the fabric at ``home`` and closes it before returning; the core's reports come
back as plain JSON-ready dicts; a user mistake (no fabric at ``home``, a port in use, a bad
sample percentage, an unknown id) or any ``CoreError`` becomes a ``DiagnosticsError`` naming
the object and what to do, never a traceback; SAS tokens and other secrets never appear in
what this module returns. The ``bcdr platform`` verbs change the platform the way the
compute resource types keep it (core objects plus their inventory rows in ``fabric.db``,
tags and properties in the rows), so ``bcdr drift`` sees each change they make.

This module keeps the facade, ``EmbeddedPlatform``, and serve/verify/gc; the ``bcdr platform``
verbs live in ``platform_inventory`` (list, show, vm power, tag, delete), ``platform_images``
(disk write/export, recover-files), ``platform_keys`` (whoami, subscriptions, key vault actions)
and ``blobs`` (the blobs of a storage container).
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from core.errors import CoreError
from core.fabric import Fabric
from providers.platform.blobs import blob_delete, blob_get, blob_list, blob_put
from providers.platform.images import disk_export, disk_write, recover_files
from providers.platform.inventory import (
    Progress,
    delete_object,
    fail,
    list_objects,
    locate,
    open_core,
    restore_points,
    show_object,
    tag_object,
    vm_power,
)
from providers.platform.keys import (
    KEY_VAULT_TYPES,
    key_vault_action,
    subscription_create,
    subscription_list,
    whoami,
)


@contextmanager
def _open(home: Path) -> Iterator[Fabric]:
    """The fabric at ``home``, which must exist already (a verb never creates one)."""
    home = Path(home)
    if not (home / "fabric.db").is_file():
        raise fail(
            f"no embedded platform at {home}",
            "Nothing has been created there yet. Run `bcdr apply` in this directory first, or "
            "point -home (or BCDR_FABRIC_HOME) at an existing fabric folder.",
        )
    try:
        fabric = Fabric.open(home)
    except CoreError as exc:
        raise fail(f"the embedded platform at {home} cannot be opened", str(exc)) from None
    try:
        yield fabric
    except CoreError as exc:
        raise fail(str(exc).split(":")[0], str(exc)) from None
    finally:
        fabric.close()


class Problem(dict):
    """A verify problem: a plain dict whose ``str()`` is the core's one-line message."""

    def __str__(self) -> str:
        return str(self.get("message", ""))


def verify_report(report: Any) -> dict[str, Any]:
    """A ``core.blocks.verify.VerifyReport`` as plain data; each problem names what it affects."""
    problems = [
        Problem(
            {
                "block": p.name if p.what == "block" else None,
                "key": p.name if p.what == "key" else None,
                "object": p.name,
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
        "packs_checked": report.packs_checked,
        "legacy_objects": report.legacy_objects,
        "rebuilt": [asdict(r) for r in report.rebuilt],
        "problems": problems,
        "ok": not problems,
        "affected_restore_points": report.affected_restore_points(),
    }


def gc_report(report: Any) -> dict[str, Any]:
    """A ``core.blocks.gc.GcReport`` as plain data; ``blocks_deleted`` is the blocks freed."""
    data = asdict(report)
    data["blocks_deleted"] = data.get("blocks_freed", 0)
    return data


class EmbeddedPlatform:
    """``engine.registry.Platform`` for the embedded core: serve, verify, gc."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._servers: list[Any] = []

    def serve(
        self,
        home: Path,
        host: str,
        port: int,
        on_ready: Callable[[str], None],
        cert: Path | None = None,
        key: Path | None = None,
    ) -> None:
        """Serve granted disk restore points until Ctrl-C or ``stop()``: HTTP, or HTTPS with
        ``cert`` (and ``key`` unless the certificate file holds it). One access line per
        request goes to the ``core.access.server`` logger.

        ``stop()`` makes this return; Ctrl-C closes the server and re-raises
        ``KeyboardInterrupt`` for the caller to report.
        """
        from core.access import make_server, tls_context  # noqa: PLC0415 - only serve

        if key is not None and cert is None:
            raise fail("--key needs --cert", "Give the certificate (PEM) with --cert.")
        try:
            tls = tls_context(Path(cert), Path(key) if key else None) if cert else None
        except CoreError as exc:
            raise fail("cannot serve HTTPS", str(exc)) from None
        with _open(home) as fabric:
            try:
                server = make_server(fabric, host, port, tls=tls)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise fail(
                        f"port {port} on {host} is in use",
                        "Another server listens there. Choose another with --port, or stop it.",
                    ) from None
                raise fail(f"cannot listen on {host}:{port}", exc.strerror or str(exc)) from None
            with self._lock:
                self._servers.append(server)
            try:
                bound_host, bound_port = server.server_address[:2]
                on_ready(f"{'https' if tls else 'http'}://{bound_host}:{bound_port}")
                server.serve_forever(poll_interval=0.2)
            finally:  # Ctrl-C still propagates, after the socket is closed
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
        self,
        home: Path,
        sample_percent: float,
        progress: Progress | None,
        rebuild_index: bool = False,
    ) -> dict[str, Any]:
        """Check every stored byte (blocks re-hashed: all, or a sample) and name what is
        damaged; ``rebuild_index``: first make each store's index again from its packs."""
        if not 0 < sample_percent <= 100:
            raise fail(
                f"sample {sample_percent}% is out of range",
                "Give --sample a percentage greater than 0 and at most 100.",
            )
        with _open(home) as fabric:
            report = restore_points(fabric).maintenance.verify(
                sample_percent, progress, rebuild=rebuild_index
            )
            return verify_report(report) | {"sample_percent": sample_percent}

    def gc(self, home: Path, progress: Progress | None) -> dict[str, Any]:
        """Delete blocks and manifests that no restore point references, and the leftovers of
        interrupted writes; report what was freed, by kind."""
        with _open(home) as fabric:
            return gc_report(restore_points(fabric).maintenance.gc(progress))

    # -- ``bcdr platform``: acting on the platform directly, like ``az`` -------------------
    def list_resources(self, home: Path, type: str | None = None) -> list[dict[str, Any]]:
        """Every object of the platform (inventory rows and core objects), optionally of one
        type (an ARM type or a short name such as ``disk``, ``vm``, ``restore_point``)."""
        with _open(home) as fabric:
            return list_objects(fabric, type)

    def show(self, home: Path, id: str) -> dict[str, Any]:
        """One object: its inventory row and what the core knows of it, without secrets."""
        with _open(home) as fabric:
            return show_object(fabric, id)

    def disk_write(self, home: Path, disk_id: str, offset: int, source: Path) -> dict[str, Any]:
        """A guest write of the bytes of ``source`` at ``offset`` (tracked for restore points)."""
        with _open(home) as fabric:
            return disk_write(fabric, disk_id, offset, Path(source))

    def disk_export(
        self, home: Path, disk_id: str, output: Path, progress: Progress | None
    ) -> dict[str, Any]:
        """Copy a disk's bytes into a new file ``output`` (never overwritten); its sha256."""
        with _open(home) as fabric:
            return disk_export(fabric, disk_id, Path(output), progress)

    def vm_power(self, home: Path, vm_id: str, power_state: str) -> dict[str, Any]:
        """Start or stop a VM: ``{"id", "before", "power_state"}``."""
        with _open(home) as fabric:
            return vm_power(fabric, vm_id, power_state)

    def tag(self, home: Path, id: str, tags: dict[str, str | None]) -> dict[str, Any]:
        """Set tags (a value of None removes the tag): ``{"id", "before", "tags"}``."""
        with _open(home) as fabric:
            return tag_object(fabric, id, tags)

    def delete(self, home: Path, id: str, progress: Progress | None) -> dict[str, Any]:
        """Delete a disk, VM, resource group, collection or restore point (core object and
        inventory row), or soft-delete a key vault, key or secret:
        ``{"deleted": [ids], "bytes_freed"}``."""
        with _open(home) as fabric:
            with open_core(fabric) as (disks, points):
                kind, found, _row = locate(fabric, disks, points, id)
            if kind in KEY_VAULT_TYPES:
                done = key_vault_action(fabric, "delete", found)
                return done | {"deleted": [found], "bytes_freed": 0, "soft": True}
            return delete_object(fabric, id, progress)

    def whoami(self, home: Path) -> dict[str, Any]:
        """The current user's object id (for access policies) and the restore service's."""
        with _open(home) as fabric:
            return whoami(fabric)

    def subscription_create(
        self, home: Path, id: str | None = None, name: str | None = None
    ) -> dict[str, Any]:
        """Add a subscription to the tenant: ``{"id", "name", "created_at", "is_default"}``."""
        with _open(home) as fabric:
            return subscription_create(fabric, id, name)

    def subscription_list(self, home: Path) -> list[dict[str, Any]]:
        """The tenant's subscriptions, the default one first."""
        with _open(home) as fabric:
            return subscription_list(fabric)

    def key_vault(self, home: Path, action: str, id: str) -> dict[str, Any]:
        """``enable``/``disable`` a key; ``delete`` (soft), ``recover`` or ``purge`` a key
        vault, key or secret."""
        with _open(home) as fabric:
            return key_vault_action(fabric, action, id)

    def recover_files(
        self, home: Path, restore_point_id: str, output: Path, progress: Progress | None
    ) -> dict[str, Any]:
        """File-level recovery: the restore point's disk images as raw files in ``output``
        (refused for an encrypted VM, rule REP-7)."""
        with _open(home) as fabric:
            return recover_files(fabric, restore_point_id, Path(output), progress)

    def blob_list(self, home: Path, container_id: str, prefix: str = "") -> list[dict[str, Any]]:
        """The blobs of a storage container (by its id) whose names start with ``prefix``."""
        with _open(home) as fabric:
            return blob_list(fabric, container_id, prefix)

    def blob_get(self, home: Path, container_id: str, name: str) -> bytes:
        """A blob's bytes."""
        with _open(home) as fabric:
            return blob_get(fabric, container_id, name)

    def blob_put(self, home: Path, container_id: str, name: str, source: Path) -> dict[str, Any]:
        """Write the bytes of ``source`` as a blob (whole, replacing one of that name)."""
        with _open(home) as fabric:
            return blob_put(fabric, container_id, name, Path(source))

    def blob_delete(self, home: Path, container_id: str, name: str) -> dict[str, Any]:
        """Delete a blob."""
        with _open(home) as fabric:
            return blob_delete(fabric, container_id, name)
