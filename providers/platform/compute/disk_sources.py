"""Where a managed disk's bytes come from, checked at plan time: a disk restore point
(``create_option = "Restore"``, rule RP-8), another disk (``Copy``, rule DISK-2) or a raw
image file (``Import``: a regular file inside the specs' folder or an ``import_roots`` folder
of the provider block, symlinks resolved first, checked again at apply).

Always holds: each check returns ``(problem, size in bytes if known)`` and never raises for a
user mistake: ``problem`` is None when the source is fine, else one sentence naming the source
and what to do; RP-8 and DISK-2 are the core's functions (``core.restorepoints.rules``,
``core.disks.rules``) on the facts gathered here, and the core calls them again at apply;
a source planned in this run counts as existing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from providers.platform.compute.groups import DISK_TYPE
from providers.platform.frame import PlatformSession, known

if TYPE_CHECKING:
    from core.problems import Problem
    from core.restorepoints import DiskRestoreFacts


DRP_TYPE = "Microsoft.Compute/restorePointCollections/restorePoints/diskRestorePoints"


def sentence(problem: Problem) -> str:
    """A source rule's problem as the one sentence a plan error's detail gives."""
    return f"{problem.summary}: {problem.fix}"


def disk_restore_facts(
    s: PlatformSession, drp_id: str, subscription: str, location: str, planned_only: bool
) -> tuple[DiskRestoreFacts, int | None]:
    """What rule RP-8 needs of a disk restore point as the source of a disk, and its size if
    known: on the platform, else (``planned_only``) its restore point planned in this run,
    in its collection's planned location."""
    from core.errors import NotFound
    from core.restorepoints import DiskRestoreFacts
    from providers.platform.registry import TypedId

    typed = TypedId.of(drp_id, DRP_TYPE)
    rp = typed.parent if typed is not None else None
    coll = rp.parent if rp is not None else None
    if typed is None or typed.rid is None or coll is None:
        return DiskRestoreFacts(drp_id, None, False, None, subscription, location), None
    rp_id = f"{coll.text}/restorePoints/{typed.rid.children[0][1]}"
    region, size, exists = None, None, True
    try:
        drp = s.points.get_disk_restore_point(drp_id)
        region, size = s.points.get(drp.restore_point_id).region, drp.size_bytes
    except NotFound:
        exists = planned_only and s.lookup(rp_id) is not None
        collection = (s.lookup(coll.text) or {}) if exists else {}
        if known(collection.get("location")):
            region = collection["location"]
    facts = DiskRestoreFacts(drp_id, typed.subscription, exists, region, subscription, location)
    return facts, size


def restore_source(
    s: PlatformSession, drp_id: str, subscription: str, location: str, planned_only: bool
) -> tuple[str | None, int | None]:
    """Check a disk restore point as the source of a disk (rule RP-8, the core's function):
    (problem, its size if known). Used at plan time (``planned_only``: a restore point
    planned in this run counts as existing); the core checks it again at apply
    (``core.restorepoints.disk_restore.restore_managed_disk``)."""
    from core.restorepoints import disk_restore_problems

    facts, size = disk_restore_facts(s, drp_id, subscription, location, planned_only)
    problems = disk_restore_problems(facts)
    return (sentence(problems[0]) if problems else None), size


def copy_source(s: PlatformSession, source_id: str, location: str) -> tuple[str | None, int | None]:
    """Check a disk, on the platform or planned in this run, as the source of a copy (rule
    DISK-2, the core's function): (problem, its size if known). The core checks it again at
    apply (``Disks.copy``)."""
    from core.disks import DiskCopyFacts, disk_copy_problems
    from core.errors import NotFound
    from providers.platform.registry import TypedId

    try:
        src = s.disks.get(source_id)
        region, size = src.region, src.size_bytes
    except NotFound:
        planned = s.lookup(source_id) if TypedId.of(source_id, DISK_TYPE) else None
        if planned is None:
            return f"disk {source_id} does not exist: check the id or create the disk first", None
        region = planned.get("location") if known(planned.get("location")) else None
        size = planned.get("size_bytes") if known(planned.get("size_bytes")) else None
    problems = disk_copy_problems(DiskCopyFacts(source_id, region, location))
    return (sentence(problems[0]) if problems else None), size


def image_path(s: PlatformSession, uri: str) -> Path:
    """Where ``source_uri`` points, symlinks resolved: relative to the specs' folder unless
    absolute."""
    path = Path(uri)
    return (path if path.is_absolute() else s.working_dir / path).resolve()


def image_size(s: PlatformSession, uri: str) -> tuple[str | None, int | None]:
    """(problem, size) of the raw image a disk is imported from.

    Only a regular file inside the specs' folder or a folder of the provider's
    ``import_roots`` is read, after its symlinks are resolved: a spec cannot make the
    platform copy (and then serve over SAS) any file the process can read.
    """
    import os
    import stat

    if "\0" in uri:
        return f"image file {uri!r} has a NUL character in its name: no file can have one", None
    path = image_path(s, uri)
    roots = [s.working_dir.resolve(), *(Path(r).resolve() for r in s.import_roots)]
    if not any(path.is_relative_to(root) for root in roots):
        folders = " or ".join(str(r) for r in roots)
        return (
            f"image file {uri} is {path}, outside the folders images are imported from "
            f"({folders}): move the image into the specs' folder, or allow its folder in the "
            f'provider block: provider "platform" {{ import_roots = ["{path.parent}"] }}',
            None,
        )
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return f"image file {uri} does not exist (looked for {path}): check source_uri", None
    except OSError as exc:
        return f"image file {uri} cannot be read: {exc.strerror}", None
    if not stat.S_ISREG(st.st_mode):
        return f"image file {uri} is not a regular file: give a raw disk image", None
    if not os.access(path, os.R_OK):
        return f"image file {uri} cannot be read (permission denied): make it readable", None
    if st.st_size == 0:
        return f"image file {uri} is empty: give a raw disk image", None
    return None, st.st_size
