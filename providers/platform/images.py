"""``bcdr platform disk write``/``disk export`` and ``recover-files``: a disk's bytes in and out
of plain files, and a restore point's disk images written out for mounting.

Always holds: an output file is created new (``O_EXCL``, mode 0600), never overwritten; it is
written sparse (a chunk of zeros stays a hole), truncated to the image size and fsynced, and
removed again if anything fails part way, so a file that exists is whole; the sha256 returned
is that of every byte of the image, holes included; a guest write lands through the core's
``Disks.write``, so changed-block tracking sees it; file-level recovery of an encrypted VM is
refused (rule REP-7).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.disks import BLOCK_SIZE
from core.fabric import Fabric
from providers.platform.inventory import Progress, disk_of, fail, iso, open_core

CHUNK = 1 << 20


@contextmanager
def _new_file(path: Path, exists_hint: str) -> Iterator[int]:
    """A descriptor of the new file ``path``: fsynced after the body, removed if it fails."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise fail(f"{path} exists already", exists_hint) from None
    except OSError as exc:
        raise fail(f"cannot create {path}", exc.strerror or str(exc)) from None
    ok = False
    try:
        yield fd
        os.fsync(fd)
        ok = True
    finally:
        os.close(fd)
        if not ok:
            path.unlink(missing_ok=True)


def _copy_sparse(
    fd: int, size: int, read: Callable[[int, int], bytes], label: str, progress: Progress
) -> str:
    """Copy ``size`` bytes from ``read(offset, length)`` into ``fd``; their sha256 (hex)."""
    digest = hashlib.sha256()
    for off in range(0, size, CHUNK):
        data = read(off, min(CHUNK, size - off))
        digest.update(data)
        if data.count(0) != len(data):  # zeros stay a hole: the copy is sparse
            os.pwrite(fd, data, off)
        progress(label, off + len(data), size)
    os.ftruncate(fd, size)
    return digest.hexdigest()


def disk_write(fabric: Fabric, disk_id: str, offset: int, source: Path) -> dict[str, Any]:
    """A guest write of the bytes of ``source`` at ``offset`` of disk ``disk_id``."""
    with open_core(fabric) as (disks, points):
        disk = disk_of(fabric, disks, points, disk_id)
        try:
            size = source.stat().st_size
            if not source.is_file():
                raise fail(f"{source} is not a file", "Give --input a regular file to write.")
        except OSError as exc:
            raise fail(f"cannot read {source}", exc.strerror or str(exc)) from None
        if size == 0:
            raise fail(f"{source} is empty", "There is nothing to write: give a non-empty file.")
        if offset < 0 or offset + size > disk.size_bytes:
            raise fail(
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
            "modified_at": iso(info.modified_ns / 1e9),
        }


def disk_export(
    fabric: Fabric, disk_id: str, output: Path, progress: Progress | None
) -> dict[str, Any]:
    """Copy a disk's bytes into the new file ``output`` (writes held meanwhile); its sha256."""
    progress = progress or (lambda label, done, total: None)
    with open_core(fabric) as (disks, points):
        disk = disk_of(fabric, disks, points, disk_id)
        hint = "bcdr never overwrites it: remove it or give another --output."
        label, size = f"export {disk.name}", disk.size_bytes
        with _new_file(output, hint) as fd, disks.hold_writes([disk.id]):
            progress(label, 0, size)
            digest = _copy_sparse(
                fd, size, lambda off, n: disks.read(disk.id, off, n), label, progress
            )
        return {"id": disk.id, "output": str(output), "bytes": size, "sha256": digest}


def recover_files(
    fabric: Fabric, restore_point_id: str, output: Path, progress: Progress | None
) -> dict[str, Any]:
    """The restore point's disk images as raw files ``{disk name}.img`` in ``output``."""
    from core.keystore import encryption_of

    progress = progress or (lambda label, done, total: None)
    with open_core(fabric) as (_disks, points):
        rp = points.get(restore_point_id)
        found = encryption_of(rp.source_metadata)
        if found:
            # rule REP-7: guest file recovery of a VM with encrypted disks is not supported
            raise fail(
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
            raise fail(f"cannot create {output}", exc.strerror or str(exc)) from None
        files = []
        for drp in rp.disk_restore_points:
            path = output / f"{drp.disk_name}.img"
            files.append(_export_drp(points, drp, path, progress))
        return {"id": rp.id, "output": str(output), "files": files}


def _export_drp(points: Any, drp: Any, path: Path, progress: Progress) -> dict[str, Any]:
    hint = "bcdr never overwrites it: give another --output."
    with _new_file(path, hint) as fd, points.open_disk_restore_point(drp.id) as reader:
        size = reader.size_bytes
        digest = _copy_sparse(fd, size, reader.read, f"recover {drp.disk_name}", progress)
    return {"disk_id": drp.disk_id, "path": str(path), "bytes": size, "sha256": digest}
