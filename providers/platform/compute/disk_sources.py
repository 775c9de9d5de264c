"""Where a managed disk's bytes come from, checked at plan time and again at apply: a disk
restore point (``create_option = "Restore"``, rule RP-8), another disk (``Copy``) or a raw
image file (``Import``: a regular file inside the specs' folder or an ``import_roots`` folder
of the provider block, symlinks resolved first).

Always holds: each check returns ``(problem, size in bytes if known)`` and never raises for a
user mistake: ``problem`` is None when the source is fine, else one sentence naming the source
and what to do; ``planned_only`` (plan time) lets a source planned in this run count as
existing, while apply checks against the platform only.
"""

from __future__ import annotations

from pathlib import Path

from providers.platform.frame import PlatformSession, known


def restore_source(
    s: PlatformSession, drp_id: str, subscription: str, location: str, planned_only: bool
) -> tuple[str | None, int | None]:
    """Check a disk restore point as the source of a disk: (problem, its size if known).

    Used at plan time (``planned_only``: a restore point planned in this run counts as
    existing) and again at apply, against the platform only.
    """
    # rule RP-8: a managed disk is created from a disk restore point of its own subscription
    # in its own region; a disk in another region comes from a restore point copied there.
    from core.errors import CoreError, NotFound
    from core.fabric import ResourceId

    try:
        rid = ResourceId.parse(drp_id)
    except CoreError:
        rid = None
    kinds = [k.lower() for k, _ in rid.children] if rid else []
    drp_form = ["restorepoints", "diskrestorepoints"]
    if rid is None or rid.type.lower() != "restorepointcollections" or kinds != drp_form:
        return (
            f"{drp_id!r} is not a disk restore point id: use the id of a restore point's "
            "disk_restore_points entry ({restore point id}/diskRestorePoints/{disk name})",
            None,
        )
    if rid.subscription.lower() != subscription.lower():
        return (
            f"disk restore point {drp_id} belongs to subscription {rid.subscription}, the disk "
            f"to {subscription}: a disk can be restored only within the restore point's "
            f"subscription; set the disk's subscription to {rid.subscription}",
            None,
        )
    collection_id = str(
        ResourceId(rid.subscription, rid.resource_group, rid.provider, rid.type, rid.name)
    )
    rp_id = f"{collection_id}/restorePoints/{rid.children[0][1]}"
    region, size = None, None
    try:
        drp = s.points.get_disk_restore_point(drp_id)
        region, size = s.points.get(drp.restore_point_id).region, drp.size_bytes
    except NotFound:
        if not planned_only or s.lookup(rp_id) is None:
            return (
                f"disk restore point {drp_id} does not exist: check the id, or create the "
                "restore point first",
                None,
            )
        collection = s.lookup(collection_id) or {}
        if known(collection.get("location")):
            region = collection["location"]
    if region is not None and s.fabric.check_region(region) != s.fabric.check_region(location):
        return (
            f"disk restore point {drp_id} is in {region}, the disk in {location}: copy the "
            f"restore point to a collection in {location} (restore_point with "
            "source_restore_point_id) and restore from the copy's disk restore point",
            size,
        )
    return None, size


def copy_source(
    s: PlatformSession, source_id: str, location: str, planned_only: bool
) -> tuple[str | None, int | None]:
    """Check a disk as the source of a copy: (problem, its size if known)."""
    from core.errors import NotFound

    try:
        src = s.disks.get(source_id)
        region, size = src.region, src.size_bytes
    except NotFound:
        planned = s.lookup(source_id) if planned_only else None
        if planned is None or "/providers/microsoft.compute/disks/" not in source_id.lower():
            return f"disk {source_id} does not exist: check the id or create the disk first", None
        region = planned.get("location")
        size = planned.get("size_bytes") if known(planned.get("size_bytes")) else None
    if known(region) and s.fabric.check_region(region) != s.fabric.check_region(location):
        return (
            f"disk {source_id} is in {region}, the copy in {location}: copy a disk within its "
            "region, or restore it elsewhere from a copied restore point",
            size,
        )
    return None, size


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
