"""The schedule's tick: every backup due, then tiering, retention and purge, once per instant.

``tick(p, at)`` handles each protected item of the fabric: ``schedule.catch_up`` from the
item's last slot gives the one slot to run (missed earlier slots are reported, not run); the
slot is claimed in ``bk_slots`` with the item's last slot in one transaction before its job
runs, so a tick repeated for the same ``at`` runs nothing twice and a changed policy applies
from the next slot. Items not ``Protected`` take no backups (their slots pass unclaimed).
After the jobs: points past their instant-restore days move into the vault's store
(``move_restore_point``: only the blocks it lacks; same id; the snapshot-tier blocks freed);
retention judges each item's points in its policy's zone (``retention.judge``) and deletes
what no rule keeps (soft delete where the vault has it); an immutable vault never prunes a
point before the latest expiry it has promised for it; soft-deleted points past their
window are purged. Points of an item that is gone or stopped are never pruned.
``vault_ids`` limits all of it (backups, tiering, retention, purge) to those vaults (ids
compared without case, as the fabric stores them); None is the whole fabric.

Always holds: a tick never raises for one item's failure (a failed job is a job, a failed
move or delete is in ``TickReport.problems``); ``stop()`` is asked between jobs and, when
true, the tick returns after the job that runs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from core.errors import CoreError, NotFound
from core.progress import Progress
from core.protection.items import ProtectedItem, utc
from core.protection.jobs import Job
from core.protection.points import PointRow
from core.protection.retention import RecoveryPoint, judge
from core.protection.runner import run_job
from core.protection.schedule import catch_up
from core.restorepoints.copy import move_restore_point

if TYPE_CHECKING:
    from core.protection.service import Protection

RETAINED = ("Protected", "BackupsSuspended")  # states whose points the policy prunes


@dataclass(frozen=True)
class TickReport:
    at: datetime
    jobs: tuple[Job, ...]
    missed: tuple[tuple[str, int], ...]  # (item id, slots missed)
    tiered: tuple[str, ...]
    pruned: tuple[str, ...]
    purged: tuple[str, ...]
    problems: tuple[str, ...] = ()  # moves and deletes that failed (tried again next tick)
    stopped: bool = False  # stop() ended the tick after a job


@dataclass(frozen=True)
class Scope:
    """The vaults a tick handles: ``vaults`` lower-cased, or None for every vault."""

    vaults: frozenset[str] | None

    @classmethod
    def of(cls, vault_ids: Collection[str] | None) -> Scope:
        if vault_ids is None:
            return cls(None)
        if isinstance(vault_ids, str):
            raise CoreError("vault_ids is a collection of vault ids, not one id")
        return cls(frozenset(v.lower() for v in vault_ids))

    def holds(self, vault_id: str) -> bool:
        return self.vaults is None or vault_id.lower() in self.vaults

    def items(self, p: Protection) -> list[ProtectedItem]:
        return [i for i in p.items.list() if self.holds(i.vault_id)]

    def points(self, rows: list[PointRow]) -> list[PointRow]:
        return [r for r in rows if self.holds(r.vault_id)]


def _claim(p: Protection, item_id: str, slot: datetime) -> bool:
    """Record the slot as taken (and the item's last slot); False when it was already."""
    with p.fabric.transaction() as conn:
        cur = conn.execute(
            "INSERT OR IGNORE INTO bk_slots (item_id, slot) VALUES (?, ?)",
            (item_id, slot.timestamp()),
        )
        conn.execute(
            "UPDATE bk_items SET last_slot=MAX(last_slot, ?) WHERE id=?",
            (slot.timestamp(), item_id),
        )
        return cur.rowcount == 1


def tick(
    p: Protection,
    at: datetime,
    *,
    progress: Progress | None = None,
    stop: Callable[[], bool] | None = None,
    vault_ids: Collection[str] | None = None,
) -> TickReport:
    if at.tzinfo is None or at.utcoffset() is None:
        raise CoreError("the tick's time must be timezone-aware (UTC)")
    at = at.astimezone(UTC)
    jobs: list[Job] = []
    missed: list[tuple[str, int]] = []
    scope = Scope.of(vault_ids)
    for item in scope.items(p):
        if stop is not None and stop():
            return TickReport(at, tuple(jobs), tuple(missed), (), (), (), stopped=True)
        policy = p.policies.get(item.policy_id)
        last = utc(p.items.last_slot(item.id))
        due = catch_up(policy, last, at)  # type: ignore[arg-type]
        if due.slot is None:
            continue
        if item.state != "Protected":
            p.items.set_last_slot(item.id, due.slot.timestamp())
            continue
        if not _claim(p, item.id, due.slot):
            continue
        if due.missed:
            missed.append((item.id, due.missed))
        jobs.append(run_job(p, item, "Backup", due.slot, progress=progress))
    problems: list[str] = []
    tiered = _tier(p, at, scope, problems)
    pruned = _retain(p, at, scope, problems)
    purged = _purge(p, at, scope, problems)
    return TickReport(at, tuple(jobs), tuple(missed), tiered, pruned, purged, tuple(problems))


def _tier(p: Protection, at: datetime, scope: Scope, problems: list[str]) -> tuple[str, ...]:
    done = []
    for row in scope.points(p.points.to_tier(at.timestamp())):
        try:
            vault = p.vaults.get(row.vault_id)
            move_restore_point(p.restore_points, row.id, vault.store)
        except CoreError as exc:
            problems.append(f"recovery point {row.id} stays in the snapshot tier: {exc}")
            continue
        p.points.set_tier(row.id, "VaultStandard")
        done.append(row.id)
    return tuple(done)


def _retain(p: Protection, at: datetime, scope: Scope, problems: list[str]) -> tuple[str, ...]:
    done = []
    for item in scope.items(p):
        if item.state not in RETAINED:
            continue
        policy = p.policies.get(item.policy_id)
        vault = p.vaults.get(item.vault_id)
        rows = {r.id: r for r in p.points.of_item(item.id)}
        points = [RecoveryPoint(r.id, r.when, utc(r.retain_until)) for r in rows.values()]
        for verdict in judge(policy, points, at):
            row = rows[verdict.point.id]
            if vault.settings.immutable:
                promised = [verdict.instant_until, verdict.expires_at]
                until = max(t for t in promised if t is not None).timestamp()
                p.points.lock_until(row.id, until)
                locked = max(until, row.locked_until or 0)
                if verdict.pruned and at.timestamp() < locked:
                    continue  # never before the expiry the vault promised
            if not verdict.pruned:
                continue
            try:
                p.remove_point(row.id, at, vault)
            except CoreError as exc:
                problems.append(f"recovery point {row.id} was not pruned: {exc}")
                continue
            done.append(row.id)
    return tuple(done)


def _purge(p: Protection, at: datetime, scope: Scope, problems: list[str]) -> tuple[str, ...]:
    done = []
    for row in scope.points(p.points.to_purge(at.timestamp())):
        try:
            p.restore_points.delete(row.id)
        except NotFound:
            pass  # its restore point went already
        except CoreError as exc:
            problems.append(f"recovery point {row.id} was not purged: {exc}")
            continue
        p.points.remove(row.id)
        done.append(row.id)
    return tuple(done)
