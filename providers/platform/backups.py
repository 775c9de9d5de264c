"""The verbs behind ``bcdr schedule`` and ``bcdr backup``: scheduled VM protection, operated.

``open_protection(home)`` opens the core's ``Protection`` over the fabric at ``home``; the
functions here take it and return plain JSON-ready data: jobs (``job_json``), recovery
points (``point_json``), extensions (``extension_json``), the tick of some vaults
(``tick_vaults``) and the next due time of their items (``next_due``).

Always holds: nothing returned here holds a job's protected settings (rule EXT-4: the
extension's objectStr with the disks' SAS URIs, logsBlobUri, statusBlobUri are sealed in
the job row and the core never hands them out); times are RFC 3339 UTC strings; a
``CoreError`` becomes a ``DiagnosticsError`` naming the object and what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sdk.diagnostics import DiagnosticsError, error

if TYPE_CHECKING:
    from core.protection import Extension, Job, Protection, RecoveryPointInfo, TickReport
    from core.protection.items import ProtectedItem


def fail(summary: str, detail: str = "") -> DiagnosticsError:
    return DiagnosticsError([error(summary, detail)])


@contextmanager
def open_protection(home: Path, serve_url: str | None = None) -> Iterator[Protection]:
    """The protection service of the fabric at ``home`` (which must exist), closed after."""
    from core.disks import Disks
    from core.errors import CoreError
    from core.fabric import Fabric
    from core.protection import Protection
    from core.restorepoints import RestorePoints

    if not (Path(home) / "fabric.db").is_file():
        raise fail(
            f"no embedded platform at {home}",
            "Nothing has been created there yet. Run `bcdr apply` in this directory first, or "
            "point -home (or BCDR_FABRIC_HOME) at an existing fabric folder.",
        )
    try:
        fabric = Fabric.open(Path(home))
    except CoreError as exc:
        raise fail(f"the embedded platform at {home} cannot be opened", str(exc)) from None
    try:
        disks = Disks(fabric)
        points = RestorePoints(fabric, disks)
        try:
            yield Protection(fabric, disks, points, serve_url=serve_url)
        finally:
            points.close()
    except CoreError as exc:
        text = str(exc)
        raise fail(text.split(":")[0], text) from None
    finally:
        fabric.close()


def rfc3339(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def job_json(job: Job, address: str | None) -> dict[str, Any]:
    """A job as ``bcdr backup jobs -json`` prints it (EXT-3: task id, ticks, status)."""
    return {
        "task_id": job.task_id,
        "address": address,
        "item_id": job.item_id,
        "kind": job.kind,
        "scheduled_start": rfc3339(job.scheduled_start),
        "scheduled_start_ticks": job.scheduled_start_ticks,
        "started_at": rfc3339(job.started_at),
        "finished_at": rfc3339(job.finished_at),
        "status": job.status,
        "consistency": job.consistency,
        "bytes_stored": job.bytes_stored,
        "recovery_point_id": job.recovery_point_id,
        "error": job.error,
        "warnings": list(job.warnings),
        "acknowledged": job.acknowledged,
    }


def point_json(info: RecoveryPointInfo) -> dict[str, Any]:
    """A recovery point as ``bcdr backup list -json`` prints it."""
    return {
        "id": info.id,
        "time": rfc3339(info.time),
        "consistency": info.consistency,
        "tier": info.tier,
        "bytes_stored": info.bytes_stored,
        "expires_at": rfc3339(info.expires_at),
        "kept_by": list(info.kept_by),
        "retain_until": rfc3339(info.retain_until),
        "deleted_at": rfc3339(info.deleted_at),
    }


def extension_json(ext: Extension) -> dict[str, Any]:
    """An installed VM extension (EXT-2): its public facts only."""
    return {
        "name": ext.name,
        "publisher": ext.publisher,
        "type": ext.type,
        "type_handler_version": ext.type_handler_version,
        "state": ext.state,
        "installed_at": rfc3339(ext.installed_at),
    }


def _wanted(vault_ids: Collection[str]) -> set[str]:
    return {v.lower() for v in vault_ids}


def items_of(p: Protection, vault_ids: Collection[str]) -> list[ProtectedItem]:
    """The protected items of these vaults."""
    wanted = _wanted(vault_ids)
    return [i for i in p.list_items() if i.vault_id.lower() in wanted]


class _VaultItems:
    """``Protection.items`` seen through a filter: only the items of some vaults."""

    def __init__(self, items: Any, vault_ids: Collection[str]) -> None:
        self._items, self._wanted = items, _wanted(vault_ids)

    def list(self, vault_id: str | None = None) -> list[ProtectedItem]:
        return [i for i in self._items.list(vault_id) if i.vault_id.lower() in self._wanted]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._items, name)


def tick_vaults(
    p: Protection,
    at: datetime,
    vault_ids: Collection[str],
    stop: Callable[[], bool] | None = None,
) -> TickReport:
    """The tick at ``at`` for the items of these vaults only (the vaults of one state)."""
    items = p.items
    p.items = _VaultItems(items, vault_ids)  # type: ignore[assignment]
    try:
        return p.tick(at, stop=stop)
    finally:
        p.items = items


def next_due(p: Protection, after: datetime, vault_ids: Collection[str]) -> datetime | None:
    """The first instant after ``after`` when an item of these vaults has a backup due."""
    from core.protection import next_due as policy_next_due

    due = [
        policy_next_due(p.get_policy(i.policy_id), after)
        for i in items_of(p, vault_ids)
        if i.state == "Protected"
    ]
    return min(due) if due else None


def abandon_running(p: Protection, before: Collection[str]) -> list[str]:
    """Record as Failed the jobs left InProgress since ``before`` (the task ids InProgress
    then) by a stop at once; their task ids."""
    import time

    gone = []
    for job in p.jobs():
        if job.status == "InProgress" and job.task_id not in before:
            p.job_rows.finish(
                job.task_id,
                status="Failed",
                finished_at=time.time(),
                error="interrupted: the scheduler was stopped at once by a second signal",
            )
            gone.append(job.task_id)
    return gone
