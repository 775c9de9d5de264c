"""The plan-time checks of a managed disk: its configuration alone, its size (rounded to a
whole MiB, never shrinking, within the free space where the platform keeps disks) and its
source (``providers.platform.compute.disk_sources``), each said as a diagnostic.

Always holds: nothing here raises for a user mistake or changes the platform; a check that
needs the platform opens it only when it exists already.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from providers.platform.compute.disk_sources import copy_source, image_size, restore_source
from providers.platform.frame import PlatformSession, known, where
from sdk import PlanRequest, PlanResponse, ValidateRequest
from sdk.diagnostics import Diagnostics, error
from sdk.units import human_bytes
from sdk.values import UNKNOWN

GiB = 1 << 30
MiB = 1 << 20


def size_bytes_of(size_gb: Any) -> int | None:
    """The disk's size in bytes: ``size_gb`` GiB rounded up to a whole MiB (the size unit)."""
    if not known(size_gb):
        return None
    return -(-int(round(size_gb * GiB)) // MiB) * MiB


def check_config(
    s: PlatformSession, req: ValidateRequest, exists: Callable[[], bool]
) -> Diagnostics:
    """The checks of a disk's configuration alone: the source arguments its ``create_option``
    takes and needs, and an image to import (unless ``exists()``: the disk is on the platform
    already, so its image is needed only if the plan replaces it)."""
    diags = Diagnostics()
    cfg = req.config
    option = "Empty" if cfg.get("create_option") is None else cfg["create_option"]
    if option is UNKNOWN:
        return diags
    needs = {
        "Import": "source_uri",
        "Restore": "source_resource_id",
        "Copy": "source_resource_id",
    }
    for arg in ("source_uri", "source_resource_id"):
        if cfg.get(arg) is not None and needs.get(option) != arg:
            diags.append(
                error(
                    f'"{arg}" does not go with create_option "{option}"',
                    f"{req.address}: {arg} is for create_option = "
                    + " or ".join(f'"{o}"' for o, a in needs.items() if a == arg)
                    + "; remove it or change create_option",
                    where(req, arg),
                    address=req.address,
                )
            )
    want = needs.get(option) or ("size_gb" if option == "Empty" else None)
    if want and cfg.get(want) is None:
        diags.append(
            error(
                f'create_option "{option}" needs "{want}"',
                f"{req.address}: set {want}",
                where(req, "create_option"),
                address=req.address,
            )
        )
    uri = cfg.get("source_uri")
    if option == "Import" and known(uri) and not exists():
        problem, _ = image_size(s, uri)  # known before any plan; needed only to create
        if problem:
            diags.append(
                error(
                    f"Invalid source_uri for {req.address}",
                    problem,
                    where(req, "source_uri"),
                    address=req.address,
                )
            )
    return diags


def check_space(s: PlatformSession, req: PlanRequest, resp: PlanResponse, needed: int) -> None:
    """The embedded platform makes no disk (or growth) larger than the free space where
    it keeps disks, sparse as the file is: say so at plan, in human units."""
    import shutil

    home = s.home
    while not home.exists() and home != home.parent:  # a platform not made yet
        home = home.parent
    free = shutil.disk_usage(home).free
    if needed > free:
        resp.diagnostics.append(
            error(
                "Not enough free space for the disk",
                f"{req.address}: the disk needs {human_bytes(needed)} but only "
                f"{human_bytes(free)} are free where the platform keeps its disks "
                f"({s.home}); give a smaller size_gb, or free some space",
                where(req, "size_gb"),
                address=req.address,
            )
        )


def shrink_error(req: PlanRequest, planned: dict[str, Any], prior: dict[str, Any]) -> Any:
    """Azure refuses to shrink a managed disk; replacing it would lose what it holds."""
    have, want = prior["size_bytes"], size_bytes_of(planned["size_gb"])
    return error(
        "A managed disk cannot shrink",
        f"{req.address}: size_gb = {planned['size_gb']:g} ({human_bytes(want)}) is "
        f"smaller than the disk's {human_bytes(have)}; Azure refuses to shrink a disk (it "
        "only grows in place), and a new disk would not hold this one's data. Keep "
        f"size_gb at {have / GiB:.6g} or more; to use a smaller disk, declare a new "
        "managed_disk of that size, copy the data into it (from the guest), move the VM "
        "to it, then remove this one",
        where(req, "size_gb"),
        address=req.address,
    )


def plan_source(s: PlatformSession, req: PlanRequest, resp: PlanResponse) -> Any:
    """The source's size in bytes (None: no source; UNKNOWN: not known at plan time)."""
    planned = resp.planned_state
    assert planned is not None
    option = planned.get("create_option")
    problem, size = None, None
    if option == "Import":
        uri = planned.get("source_uri")
        if not known(uri):
            return UNKNOWN
        problem, size = image_size(s, uri)
        attr = "source_uri"
    elif option in ("Restore", "Copy"):
        src = planned.get("source_resource_id")
        if not (known(src) and known(planned["location"]) and known(planned["subscription"])):
            return UNKNOWN
        attr = "source_resource_id"
        if option == "Restore":
            problem, size = restore_source(
                s, src, planned["subscription"], planned["location"], True
            )
        else:
            problem, size = copy_source(s, src, planned["location"])
    else:
        return None
    if problem:
        resp.diagnostics.append(
            error(
                f"Invalid {attr} for {req.address}",
                problem,
                where(req, attr),
                address=req.address,
            )
        )
        return None
    return UNKNOWN if size is None else size
