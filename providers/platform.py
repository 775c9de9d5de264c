"""The embedded platform's domain verbs on top of the core: ``bcdr serve``, ``verify``, ``gc``
and the ``bcdr platform`` commands (list, show, disk write/export, vm power, tag, delete,
whoami, key enable/disable, recover/purge of key vaults, keys and secrets, recover-files).

The engine finds this through the entry point ``bcdr.platform: embedded`` and calls it
through ``engine.registry.Platform``; it never imports the core itself. Always holds: every
call opens the fabric at ``home`` and closes it before returning; the core's reports come
back as plain JSON-ready dicts; a user mistake (no fabric at ``home``, a port in use, a bad
sample percentage, an unknown id) or any ``CoreError`` becomes a ``DiagnosticsError`` naming
the object and what to do, never a traceback; SAS tokens and other secrets never appear in
what this module returns. The ``bcdr platform`` verbs change the platform the way the
compute resource types keep it (core objects plus their inventory rows in ``fabric.db``,
tags and properties in the rows), so ``bcdr drift`` sees each change they make.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.disks import BLOCK_SIZE, Disks
from core.errors import CoreError, NotFound
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


# -- ``bcdr platform``: the inventory and the core, read and changed directly -------------------
GROUP = "Microsoft.Resources/resourceGroups"
DISK = "Microsoft.Compute/disks"
VM = "Microsoft.Compute/virtualMachines"
COLLECTION = "Microsoft.Compute/restorePointCollections"
RESTORE_POINT = "Microsoft.Compute/restorePointCollections/restorePoints"
DISK_RESTORE_POINT = RESTORE_POINT + "/diskRestorePoints"
TYPE_NAMES = {
    "resource_group": GROUP,
    "group": GROUP,
    "managed_disk": DISK,
    "disk": DISK,
    "virtual_machine": VM,
    "vm": VM,
    "restore_point_collection": COLLECTION,
    "collection": COLLECTION,
    "restore_point": RESTORE_POINT,
    "key_vault": "Microsoft.KeyVault/vaults",
    "vault": "Microsoft.KeyVault/vaults",
    "key_vault_key": "Microsoft.KeyVault/vaults/keys",
    "key": "Microsoft.KeyVault/vaults/keys",
    "key_vault_secret": "Microsoft.KeyVault/vaults/secrets",
    "secret": "Microsoft.KeyVault/vaults/secrets",
    "disk_encryption_set": "Microsoft.Compute/diskEncryptionSets",
    "des": "Microsoft.Compute/diskEncryptionSets",
}
_SECRET = re.compile(r"(?i)(sas|secret|token|password|signature|private_key)")
CHUNK = 1 << 20


def arm_type(name: str) -> str:
    """The ARM type a ``--type`` names (a short name, a catalog type or an ARM type)."""
    wanted = TYPE_NAMES.get(name.lower()) or name
    for arm in (GROUP, DISK, VM, COLLECTION, RESTORE_POINT, *set(TYPE_NAMES.values())):
        if arm.lower() == wanted.lower():
            return arm
    raise _fail(
        f"unknown type {name!r}",
        "Give one of: " + ", ".join(sorted(TYPE_NAMES)) + " (or an ARM type such as " + DISK + ").",
    )


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: "(sensitive)" if _SECRET.search(k) or k == "value" else _redacted(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextmanager
def _core(fabric: Fabric) -> Iterator[tuple[Disks, Any]]:
    """The disks and restore points of ``fabric``; their block stores closed afterwards."""
    disks = Disks(fabric)
    points = _restore_points(fabric)
    try:
        yield disks, points
    finally:
        points.close()


def _locate(fabric: Fabric, disks: Disks, points: Any, id: str) -> tuple[str, str, dict | None]:
    """(ARM type, id as stored, inventory row or None) of the object called ``id``."""
    if not isinstance(id, str) or not id.lower().startswith("/subscriptions/"):
        raise _fail(
            f"{id!r} is not a resource id",
            "Ids look like /subscriptions/<sub>/resourceGroups/<group>/providers/... ; "
            "copy one from `bcdr platform list` or `bcdr state show ADDRESS`.",
        )
    row = fabric.get_resource(id)
    if row is not None:
        return row["type"], row["id"], row
    finders = (
        (DISK, lambda: disks.get(id).id),
        (RESTORE_POINT, lambda: points.get(id).id),
        (COLLECTION, lambda: points.get_collection(id)["id"]),
        (DISK_RESTORE_POINT, lambda: points.get_disk_restore_point(id).id),
    )
    for kind, find in finders:
        try:
            return kind, find(), None
        except NotFound:
            continue
    raise _fail(
        f"nothing on the platform has the id {id}",
        "Check the id: `bcdr platform list` shows what exists. If bcdr created it, "
        "`bcdr plan -refresh-only` shows whether it was deleted.",
    )


def _summary(kind: str, props: dict[str, Any]) -> str:
    if kind == VM:
        return str(props.get("power_state") or "running")
    if kind == DISK and props.get("size_bytes") is not None:
        return f"{props['size_bytes']} bytes, {props.get('sku') or 'Standard_LRS'}"
    return ""


def list_objects(fabric: Fabric, type: str | None) -> list[dict[str, Any]]:
    wanted = arm_type(type) if type else None
    found: dict[str, dict[str, Any]] = {}
    for row in fabric.list_resources():
        props = row["properties"]
        found[row["id"].lower()] = {
            "id": row["id"],
            "type": row["type"],
            "region": row["region"],
            "tags": dict(props.get("tags") or {}),
            "in_inventory": True,
            "summary": _summary(row["type"], props),
        }
    with _core(fabric) as (disks, points):
        core_objects = [
            (DISK, d.id, d.region, {"size_bytes": d.size_bytes, "sku": d.sku}) for d in disks.list()
        ]
        rows = fabric.db().execute("SELECT id, region FROM rp_collections ORDER BY id")
        core_objects += [(COLLECTION, r["id"], r["region"], {}) for r in rows.fetchall()]
        core_objects += [(RESTORE_POINT, rp.id, rp.region, {}) for rp in points.list()]
    for kind, id, region, facts in core_objects:
        item = found.get(id.lower())
        if item is None:
            found[id.lower()] = {
                "id": id,
                "type": kind,
                "region": region,
                "tags": {},
                "in_inventory": False,
                "summary": _summary(kind, facts),
            }
        elif not item["summary"]:
            item["summary"] = _summary(kind, facts)
    items = sorted(found.values(), key=lambda i: i["id"].lower())
    return [i for i in items if wanted is None or i["type"] == wanted]


def _vms_using(fabric: Fabric, disk_id: str) -> list[str]:
    out = []
    for row in fabric.list_resources(VM):
        p = row["properties"]
        used = [p.get("os_disk_id"), *(p.get("data_disk_ids") or [])]
        if any(isinstance(d, str) and d.lower() == disk_id.lower() for d in used):
            out.append(row["id"])
    return out


def _inside(fabric: Fabric, disks: Disks, group_id: str) -> list[str]:
    prefix = group_id.lower() + "/"
    ids = [r["id"] for r in fabric.list_resources()]
    ids += [d.id for d in disks.list()]
    ids += [r[0] for r in fabric.db().execute("SELECT id FROM rp_collections").fetchall()]
    return sorted({i for i in ids if i.lower().startswith(prefix)})


def show_object(fabric: Fabric, id: str) -> dict[str, Any]:
    with _core(fabric) as (disks, points):
        kind, id, row = _locate(fabric, disks, points, id)
        out: dict[str, Any] = {"id": id, "type": kind, "in_inventory": row is not None}
        if row is not None:
            out["region"] = row["region"]
            out["created_at"] = _iso(row["created_at"])
            out["updated_at"] = _iso(row["updated_at"])
            out["properties"] = _redacted(row["properties"])
        if kind == DISK:
            disk = disks.get(id)
            info = disks.file_info(id)
            changed = disks.changed_blocks(id)
            out["disk"] = {
                "region": disk.region,
                "size_bytes": disk.size_bytes,
                "allocated_bytes": info.allocated_bytes,
                "sku": disk.sku,
                "shared": disk.shared,
                "ephemeral": disk.ephemeral,
                "encryption_set_id": disk.encryption_set_id,
                "modified_at": _iso(info.modified_ns / 1e9),
                "bytes_changed_since_restore_point": None if changed is None else changed.bytes,
                "attached_to": _vms_using(fabric, id),
            }
        elif kind == GROUP:
            out["resources"] = _inside(fabric, disks, id)
        elif kind == COLLECTION:
            coll = points.get_collection(id)
            out["collection"] = {
                "region": coll["region"],
                "source_vm_id": coll["source_vm_id"],
                "restore_point_ids": coll["restore_point_ids"],
            }
        elif kind == RESTORE_POINT:
            rp = points.get(id)
            out["restore_point"] = {
                "region": rp.region,
                "created_at": _iso(rp.created_at),
                "consistency_mode": rp.consistency_mode,
                "consistency_achieved": rp.consistency_achieved,
                "warnings": list(rp.warnings),
                "copied_from": rp.copied_from,
                "disk_restore_points": [_drp(d) for d in rp.disk_restore_points],
            }
        elif kind == DISK_RESTORE_POINT:
            out["disk_restore_point"] = _drp(points.get_disk_restore_point(id))
        return out


def _drp(d: Any) -> dict[str, Any]:
    return {
        "id": d.id,
        "disk_id": d.disk_id,
        "size_bytes": d.size_bytes,
        "bytes_changed": d.bytes_changed,
        "bytes_stored": d.bytes_stored,
    }


def _disk(fabric: Fabric, disks: Disks, points: Any, id: str) -> Any:
    kind, id, _row = _locate(fabric, disks, points, id)
    if kind != DISK:
        raise _fail(f"{id} is not a disk", "Give the id of a managed disk (bcdr platform list).")
    return disks.get(id)


def disk_write(fabric: Fabric, disk_id: str, offset: int, source: Path) -> dict[str, Any]:
    with _core(fabric) as (disks, points):
        disk = _disk(fabric, disks, points, disk_id)
        try:
            size = source.stat().st_size
            if not source.is_file():
                raise _fail(f"{source} is not a file", "Give --input a regular file to write.")
        except OSError as exc:
            raise _fail(f"cannot read {source}", exc.strerror or str(exc)) from None
        if size == 0:
            raise _fail(f"{source} is empty", "There is nothing to write: give a non-empty file.")
        if offset < 0 or offset + size > disk.size_bytes:
            raise _fail(
                f"the write does not fit disk {disk.name}",
                f"{size} bytes at offset {offset} would end at byte {offset + size}, but the "
                f"disk holds {disk.size_bytes} bytes: give a lower --offset or a smaller file.",
            )
        done = 0
        with open(source, "rb") as f:
            while chunk := f.read(CHUNK):
                disks.write(disk.id, offset + done, chunk)
                done += len(chunk)
        first, last = offset // BLOCK_SIZE, (offset + done - 1) // BLOCK_SIZE
        info = disks.file_info(disk.id)
        return {
            "id": disk.id,
            "offset": offset,
            "bytes": done,
            "blocks": last - first + 1,
            "modified_at": _iso(info.modified_ns / 1e9),
        }


def disk_export(
    fabric: Fabric, disk_id: str, output: Path, progress: Progress | None
) -> dict[str, Any]:
    progress = progress or (lambda label, done, total: None)
    with _core(fabric) as (disks, points):
        disk = _disk(fabric, disks, points, disk_id)
        try:
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise _fail(
                f"{output} exists already",
                "bcdr never overwrites it: remove it or give another --output.",
            ) from None
        except OSError as exc:
            raise _fail(f"cannot create {output}", exc.strerror or str(exc)) from None
        digest, label, ok = hashlib.sha256(), f"export {disk.name}", False
        try:
            with disks.hold_writes([disk.id]):
                progress(label, 0, disk.size_bytes)
                for off in range(0, disk.size_bytes, CHUNK):
                    data = disks.read(disk.id, off, min(CHUNK, disk.size_bytes - off))
                    digest.update(data)
                    if data.count(0) != len(data):  # zeros stay a hole: the copy is sparse
                        os.pwrite(fd, data, off)
                    progress(label, off + len(data), disk.size_bytes)
            os.ftruncate(fd, disk.size_bytes)
            os.fsync(fd)
            ok = True
        finally:
            os.close(fd)
            if not ok:
                output.unlink(missing_ok=True)
        return {
            "id": disk.id,
            "output": str(output),
            "bytes": disk.size_bytes,
            "sha256": digest.hexdigest(),
        }


def vm_power(fabric: Fabric, vm_id: str, power_state: str) -> dict[str, Any]:
    if power_state not in ("running", "stopped"):
        raise _fail(f"unknown power state {power_state!r}", "Give running or stopped.")
    row = fabric.get_resource(vm_id)
    if row is None or row["type"] != VM:
        raise _fail(
            f"no VM has the id {vm_id}",
            "Give the id of a virtual machine: `bcdr platform list --type vm` lists them.",
        )
    props = dict(row["properties"])
    before = props.get("power_state") or "running"
    props["power_state"] = power_state
    fabric.put_resource(row["id"], VM, row["region"], props)
    return {"id": row["id"], "before": before, "power_state": power_state}


def tag_object(fabric: Fabric, id: str, tags: dict[str, str | None]) -> dict[str, Any]:
    with _core(fabric) as (disks, points):
        kind, id, row = _locate(fabric, disks, points, id)
    if row is None:
        raise _fail(
            f"{id} carries no tags",
            "Only objects with an inventory row (those bcdr applies or imports) have tags; "
            "this one exists only in the core.",
        )
    props = dict(row["properties"])
    before = props.get("tags")
    new = dict(before or {})
    for key, value in tags.items():
        if value is None:
            new.pop(key, None)
        else:
            new[key] = value
    props["tags"] = new if new or before is not None else None
    fabric.put_resource(row["id"], row["type"], row["region"], props)
    return {"id": row["id"], "before": dict(before or {}), "tags": new}


def delete_object(fabric: Fabric, id: str, progress: Progress | None) -> dict[str, Any]:
    with _core(fabric) as (disks, points):
        kind, id, row = _locate(fabric, disks, points, id)
        deleted, freed = [id], 0
        if kind == DISK:
            users = _vms_using(fabric, id)
            if users:
                raise _fail(
                    f"disk {id} is attached to VM {users[0]}",
                    "Delete the VM first (bcdr platform delete VM_ID), or detach the disk in "
                    "its spec and apply.",
                )
            with suppress(NotFound):
                disks.delete(id)
        elif kind == VM:
            props = row["properties"] if row else {}
            if props.get("ephemeral_os_disk") and props.get("os_disk_id"):
                with suppress(NotFound):
                    disks.set_flags(props["os_disk_id"], ephemeral=False)
        elif kind == GROUP:
            inside = _inside(fabric, disks, id)
            if inside:
                more = f" and {len(inside) - 3} more" if len(inside) > 3 else ""
                raise _fail(
                    f"resource group {id} is not empty",
                    f"It holds {', '.join(inside[:3])}{more}: delete those first.",
                )
        elif kind == COLLECTION:
            rows = [r["id"] for r in fabric.list_resources(RESTORE_POINT)]
            deleted += [r for r in rows if r.lower().startswith(id.lower() + "/")]
            with suppress(NotFound):
                freed = points.delete_collection(id, progress)
        elif kind == RESTORE_POINT:
            with suppress(NotFound):
                freed = points.delete(id, progress)
        else:
            raise _fail(
                f"{id} cannot be deleted on its own",
                "A disk restore point goes with its restore point: delete the restore point.",
            )
        for gone in deleted:
            fabric.delete_resource(gone)
        return {"id": id, "type": kind, "deleted": deleted, "bytes_freed": freed}


# -- key vaults: who am I, enable/disable a key, soft delete, recover, purge -----------------
KEY_VAULT_TYPES = (
    "Microsoft.KeyVault/vaults",
    "Microsoft.KeyVault/vaults/keys",
    "Microsoft.KeyVault/vaults/secrets",
)
KEY_VAULT_ACTIONS = ("enable", "disable", "delete", "recover", "purge")


def whoami(fabric: Fabric) -> dict[str, Any]:
    from core.crypto import KeyStore

    ks = KeyStore(fabric)
    return {
        "tenant_id": fabric.tenant_id,
        "object_id": ks.user_principal(),
        "subscription": fabric.default_subscription,
        "restore_service_principal": ks.service_principal(),
    }


def key_vault_action(fabric: Fabric, action: str, id: str) -> dict[str, Any]:
    """Enable or disable a key; delete (soft), recover or purge a vault, key or secret."""
    from core.crypto import KeyStore

    if action not in KEY_VAULT_ACTIONS:
        raise _fail(f"unknown action {action!r}", "Give one of: " + ", ".join(KEY_VAULT_ACTIONS))
    ks = KeyStore(fabric)
    is_vault = "/keys/" not in id.lower() and "/secrets/" not in id.lower()
    if is_vault and "/microsoft.keyvault/vaults/" not in id.lower():
        raise _fail(
            f"{id} is not a key vault, key or secret",
            "Give an id from `bcdr platform list --type key_vault` or a key's "
            "id (<vault id>/keys/<name>).",
        )
    if action in ("enable", "disable"):
        if "/keys/" not in id.lower():
            raise _fail(f"{id} is not a key", "Only keys are enabled or disabled.")
        info = ks.set_key_enabled(id, action == "enable")
        return {"id": info.id, "action": action, "enabled": info.enabled}
    out: dict[str, Any] = {"id": id, "action": action}
    if is_vault:
        vault = {"delete": ks.delete_vault, "recover": ks.recover_vault}.get(action)
        if vault is not None:
            v = vault(id)
            out["retention_days"] = v.retention_days
            out["purge_protection"] = v.purge_protection
        else:
            ks.purge_vault(id)
    else:
        {"delete": ks.delete_item, "recover": ks.recover_item, "purge": ks.purge_item}[action](id)
    return out


# -- file-level recovery: a restore point's disk images, for mounting ------------------------
def recover_files(
    fabric: Fabric, restore_point_id: str, output: Path, progress: Progress | None
) -> dict[str, Any]:
    from core.crypto import encryption_of

    progress = progress or (lambda label, done, total: None)
    with _core(fabric) as (_disks, points):
        rp = points.get(restore_point_id)
        found = encryption_of(rp.source_metadata)
        if found:
            # rule REP-7: guest file recovery of a VM with encrypted disks is not supported
            raise _fail(
                f"REP-7: file-level recovery of restore point {rp.name} is not supported",
                f"Restore point {rp.id} is of an encrypted VM ({'; '.join(found)}). Such VMs "
                "can be protected and fully recovered, but guest file recovery of them is not "
                "supported: restore the whole VM (vm_restore) or one disk (managed_disk with "
                'create_option = "Restore" and source_resource_id = a disk restore point) and '
                "read the files there.",
            )
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _fail(f"cannot create {output}", exc.strerror or str(exc)) from None
        files = []
        for drp in rp.disk_restore_points:
            path = output / f"{drp.disk_name}.img"
            files.append(_export_drp(points, drp, path, progress))
        return {"id": rp.id, "output": str(output), "files": files}


def _export_drp(points: Any, drp: Any, path: Path, progress: Progress) -> dict[str, Any]:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise _fail(
            f"{path} exists already", "bcdr never overwrites it: give another --output."
        ) from None
    except OSError as exc:
        raise _fail(f"cannot create {path}", exc.strerror or str(exc)) from None
    digest, ok, label = hashlib.sha256(), False, f"recover {drp.disk_name}"
    try:
        with points.open_disk_restore_point(drp.id) as reader:
            size = reader.size_bytes
            for off in range(0, size, CHUNK):
                data = reader.read(off, min(CHUNK, size - off))
                digest.update(data)
                if data.count(0) != len(data):
                    os.pwrite(fd, data, off)
                progress(label, off + len(data), size)
        os.ftruncate(fd, size)
        os.fsync(fd)
        ok = True
    finally:
        os.close(fd)
        if not ok:
            path.unlink(missing_ok=True)
    return {"disk_id": drp.disk_id, "path": str(path), "bytes": size, "sha256": digest.hexdigest()}


class EmbeddedPlatform:
    """``engine.registry.Platform`` for the embedded core: serve, verify, gc."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._servers: list[Any] = []

    def serve(self, home: Path, host: str, port: int, on_ready: Callable[[str], None]) -> None:
        """Serve granted disk restore points over HTTP until Ctrl-C or ``stop()``.

        ``stop()`` makes this return; Ctrl-C closes the server and re-raises
        ``KeyboardInterrupt`` for the caller to report.
        """
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
            row = fabric.get_resource(id) if isinstance(id, str) else None
            if row is not None and row["type"] in KEY_VAULT_TYPES:
                done = key_vault_action(fabric, "delete", row["id"])
                return done | {"deleted": [row["id"]], "bytes_freed": 0, "soft": True}
            return delete_object(fabric, id, progress)

    def whoami(self, home: Path) -> dict[str, Any]:
        """The current user's object id (for access policies) and the restore service's."""
        with _open(home) as fabric:
            return whoami(fabric)

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


def platform() -> EmbeddedPlatform:
    """The entry point ``bcdr.platform: embedded``."""
    return EmbeddedPlatform()
