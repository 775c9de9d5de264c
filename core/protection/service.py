"""Scheduled VM protection: vaults, policies, protected items, recovery points and jobs.

``Protection`` is the one service over a fabric's ``bk_*`` tables, made of collaborators
each over its own rows (``vaults``, ``policies``, ``items``, ``points``, ``jobs``) with the
job runner (``core.protection.runner``) and the tick (``core.protection.scheduler``).

Usage::

    p = Protection(fabric, disks, restore_points)
    vault = p.create_vault(vault_id, "eastus", VaultSettings(storage_mode="LocallyRedundant"))
    p.put_policy(f"{vault_id}/backupPolicies/daily", vault_id, policy)
    item = p.protect(vault_id, vm_id, f"{vault_id}/backupPolicies/daily", at=start)
    report = p.tick(at)                     # the backups due at `at`, tiering, retention
    points = p.recovery_points(item.id)     # newest first; ids are restore point ids
    rps.restore_disk(rps.get(points[0].id).disk_restore_points[0].id, ...)

Always holds: every refusal is a ``CoreError`` naming the object and what to do; an
immutable vault refuses deletes of recovery points (VLT-12) and never prunes early; with
soft delete a deleted point stays recoverable for 14 days (VLT-13) and is purged after;
recovery points outlive their item and their VM; protected settings stay sealed (EXT-4).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime

from core.access.grants import Access
from core.disks.managed import Disks
from core.errors import CoreError, NotFound
from core.fabric.home import Fabric
from core.keystore.vaults import Sealer
from core.progress import Progress
from core.protection import extensions as ext
from core.protection.items import (
    Items,
    ProtectedItem,
    check_item,
    collection_id_for,
    protected_item_id,
    utc,
)
from core.protection.jobs import Job, Jobs
from core.protection.points import SOFT_DELETE, Points, RecoveryPointInfo
from core.protection.policies import Policies
from core.protection.policy import BackupPolicy
from core.protection.retention import RecoveryPoint, judge
from core.protection.runner import run_job
from core.protection.schedule import next_due
from core.protection.scheduler import RETAINED, Scope, TickReport, tick
from core.protection.vaults import Vault, Vaults, VaultSettings, vault_container
from core.restorepoints.service import RestorePoints

RETAINED_DATA = "retain_data"  # kept_by of a point whose item stopped or went


def _now(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    if at.tzinfo is None or at.utcoffset() is None:
        raise CoreError("times must be timezone-aware (UTC)")
    return at.astimezone(UTC)


class Protection:
    """Scheduled VM protection over one fabric."""

    def __init__(
        self,
        fabric: Fabric,
        disks: Disks,
        restore_points: RestorePoints,
        *,
        serve_url: str | None = None,
    ) -> None:
        """``serve_url``: where the disks' SAS URIs of the jobs point (``core.access``'s
        default when None)."""
        self.fabric = fabric
        self.disks = disks
        self.restore_points = restore_points
        self.vaults = Vaults(fabric)
        self.policies = Policies(fabric)
        self.items = Items(fabric)
        self.points = Points(fabric)
        self.job_rows = Jobs(fabric)
        self.access = (
            Access(fabric, restore_points, base_url=serve_url)
            if serve_url
            else Access(fabric, restore_points)
        )
        with fabric.transaction() as conn:  # the fabric's master key (as core.keystore's)
            conn.execute(
                "INSERT OR IGNORE INTO secrets VALUES ('kv_master_key', ?)",
                (secrets.token_hex(32),),
            )
            row = conn.execute("SELECT value FROM secrets WHERE key = 'kv_master_key'").fetchone()
        self.sealer = Sealer(bytes.fromhex(row[0]))

    # -- vaults -------------------------------------------------------------------------
    def create_vault(self, id: str, region: str, settings: VaultSettings) -> Vault:
        return self.vaults.create(id, region, settings)

    def update_vault(self, id: str, settings: VaultSettings) -> Vault:
        return self.vaults.update(id, settings)

    def get_vault(self, id: str) -> Vault:
        return self.vaults.get(id)

    def list_vaults(self) -> list[Vault]:
        return self.vaults.list()

    def delete_vault(self, id: str) -> None:
        vault = self.vaults.get(id)
        items = self.items.list(vault.id)
        if items:
            raise CoreError(
                f"vault {vault.name} still protects {len(items)} VM(s) "
                f"({', '.join(i.vm_id for i in items[:3])}): unprotect them first"
            )
        points = self.points.of_vault(vault.id)
        if points:
            deleted = sum(1 for r in points if r.deleted_at is not None)
            raise CoreError(
                f"vault {vault.name} still holds {len(points)} recovery point(s) "
                f"({deleted} of them soft-deleted, purged 14 days after their delete): "
                "delete the others and wait for the purge before deleting the vault"
            )
        self.vaults.delete(vault)

    # -- policies ------------------------------------------------------------------------
    def put_policy(self, id: str, vault_id: str, policy: BackupPolicy) -> None:
        self.vaults.get(vault_id)
        self.policies.put(id, vault_id, policy)

    def get_policy(self, id: str) -> BackupPolicy:
        return self.policies.get(id)

    def delete_policy(self, id: str) -> None:
        self.policies.delete(id)

    # -- protected items -------------------------------------------------------------------
    def protect(
        self,
        vault_id: str,
        vm_id: str,
        policy_id: str,
        *,
        exclude_disk_luns: Sequence[int] = (),
        include_disk_luns: Sequence[int] = (),
        state: str = "Protected",
        at: datetime | None = None,
    ) -> ProtectedItem:
        """Protect a VM; its schedule starts after ``at`` (default now)."""
        vault = self.vaults.get(vault_id)
        exclude, include = tuple(exclude_disk_luns), tuple(include_disk_luns)
        row = check_item(
            self.fabric, self.policies, vault, vm_id, policy_id, exclude, include, state
        )
        since = _now(at)
        coll_id = collection_id_for(vault, row["id"])
        try:
            self.restore_points.collections.get(coll_id)
        except NotFound:  # kept from an earlier protection of the VM otherwise
            self.restore_points.collections.create(
                coll_id, region=vault.region, source_vm_id=row["id"]
            )
        item = ProtectedItem(
            protected_item_id(vault.id, row["id"]),
            vault.id,
            row["id"],
            policy_id,
            exclude,
            include,
            state,
            coll_id,
            since.timestamp(),
            None,
        )
        self.items.insert(item, since.timestamp())
        return self.items.get(item.id)

    def update_item(
        self,
        item_id: str,
        *,
        policy_id: str,
        exclude_disk_luns: Sequence[int],
        include_disk_luns: Sequence[int],
        state: str,
    ) -> ProtectedItem:
        """Change an item; a new policy applies from its next slot."""
        item = self.items.get(item_id)
        vault = self.vaults.get(item.vault_id)
        exclude, include = tuple(exclude_disk_luns), tuple(include_disk_luns)
        check_item(
            self.fabric, self.policies, vault, item.vm_id, policy_id, exclude, include, state
        )
        self.items.update(item.id, policy_id, exclude, include, state)
        return self.items.get(item.id)

    def get_item(self, item_id: str) -> ProtectedItem:
        return self.items.get(item_id)

    def list_items(self, vault_id: str | None = None) -> list[ProtectedItem]:
        return self.items.list(vault_id)

    def unprotect(
        self, item_id: str, *, retain_data: bool = True, at: datetime | None = None
    ) -> None:
        """Stop protecting; ``retain_data`` keeps the points (until deleted), else they are
        deleted (refused by an immutable vault; soft-deleted where soft delete is on)."""
        item = self.items.get(item_id)
        vault = self.vaults.get(item.vault_id)
        if not retain_data:
            self._refuse_if_immutable(vault, f"the recovery points of {item.vm_id}")
            for row in self.points.of_item(item.id):
                self.remove_point(row.id, _now(at), vault)
        self.items.delete(item.id)

    # -- recovery points -------------------------------------------------------------------
    def recovery_points(
        self, item_id: str, *, include_deleted: bool = False, now: datetime | None = None
    ) -> list[RecoveryPointInfo]:
        """The item's recovery points, newest first (also once the item or VM is gone)."""
        rows = self.points.of_item(item_id, include_deleted=True)
        item = self.items.find(item_id)
        if item is None and not rows:
            raise NotFound(f"protected item {item_id} does not exist and left no recovery points")
        moment = _now(now)
        verdicts = {}
        if item is not None and item.state in RETAINED:
            policy = self.policies.get(item.policy_id)
            live = [
                RecoveryPoint(r.id, r.when, utc(r.retain_until))
                for r in rows
                if r.deleted_at is None
            ]
            verdicts = {v.point.id: v for v in judge(policy, live, moment)}
        out = []
        for r in rows:
            if r.deleted_at is not None and not include_deleted:
                continue
            verdict = verdicts.get(r.id)
            if verdict is not None:
                kept_by = tuple(sorted(verdict.kept_by))
                expires = verdict.expires_at
                if r.locked_until is not None and (
                    expires is None or expires < utc(r.locked_until)
                ):
                    expires = utc(r.locked_until)
            elif r.deleted_at is None:
                kept_by, expires = (RETAINED_DATA,), None
            else:
                kept_by, expires = (), None
            out.append(
                RecoveryPointInfo(
                    id=r.id,
                    item_id=r.item_id,
                    time=r.when,
                    consistency=r.consistency,
                    tier=r.tier,
                    bytes_stored=self._bytes_stored(r.id),
                    expires_at=expires,
                    kept_by=kept_by,
                    deleted_at=utc(r.deleted_at),
                    retain_until=utc(r.retain_until),
                )
            )
        return sorted(out, key=lambda i: (i.time, i.id), reverse=True)

    def _bytes_stored(self, rp_id: str) -> int:
        try:
            rp = self.restore_points.get(rp_id)
        except NotFound:
            return 0
        return sum(d.bytes_stored for d in rp.disk_restore_points)

    def _info(self, rp_id: str) -> RecoveryPointInfo:
        row = self.points.get(rp_id)
        for info in self.recovery_points(row.item_id, include_deleted=True):
            if info.id.lower() == rp_id.lower():
                return info
        raise NotFound(f"recovery point {rp_id} does not exist")

    def undelete(self, recovery_point_id: str, *, at: datetime | None = None) -> RecoveryPointInfo:
        """Bring back a soft-deleted point, until its soft-delete window ends."""
        row = self.points.get(recovery_point_id)
        if row.deleted_at is None:
            raise CoreError(f"recovery point {recovery_point_id} is not deleted")
        if _now(at) >= utc(row.deleted_at) + SOFT_DELETE:  # type: ignore[operator]
            raise CoreError(  # rule VLT-13
                f"recovery point {recovery_point_id} was deleted on "
                f"{utc(row.deleted_at):%Y-%m-%d}; its 14 days of soft delete are over and it "
                "is being purged"
            )
        self.points.undelete(row.id)
        return self._info(row.id)

    def delete_recovery_point(self, recovery_point_id: str, *, at: datetime | None = None) -> None:
        """Delete a point: refused by an immutable vault; kept 14 days with soft delete."""
        row = self.points.get(recovery_point_id)
        if row.deleted_at is not None:
            raise CoreError(
                f"recovery point {recovery_point_id} is deleted already (undelete brings it "
                "back within 14 days of the delete)"
            )
        vault = self.vaults.get(row.vault_id)
        self._refuse_if_immutable(vault, f"recovery point {recovery_point_id}")
        self.remove_point(row.id, _now(at), vault)

    def _refuse_if_immutable(self, vault: Vault, what: str) -> None:
        if vault.settings.immutable:  # rule VLT-12
            raise CoreError(
                f"vault {vault.name} is immutable ({vault.settings.immutability}): {what} "
                "cannot be deleted before retention ends"
                + (
                    "; set the vault's immutability to Disabled first"
                    if vault.settings.immutability == "Unlocked"
                    else " (Locked immutability cannot be undone)"
                )
            )

    def remove_point(self, rp_id: str, at: datetime, vault: Vault) -> None:
        """Delete a point without the immutability check (retention's own deletes): soft
        where the vault has soft delete, else its restore point and blocks go now."""
        if vault.settings.soft_delete:
            self.points.soft_delete(rp_id, at.timestamp())
            return
        try:
            self.restore_points.delete(rp_id)
        except NotFound:
            pass
        self.points.remove(rp_id)

    # -- jobs --------------------------------------------------------------------------------
    def backup_now(
        self,
        item_id: str,
        *,
        at: datetime,
        retain_until: datetime | None = None,
        progress: Progress | None = None,
    ) -> Job:
        """An on-demand backup scheduled at ``at``, kept until ``retain_until`` (default 30
        days); a failed backup is a Failed job, returned."""
        item = self.items.get(item_id)
        if item.state != "Protected":
            raise CoreError(
                f"protected item {item_id} is {item.state}: set protection_state = "
                '"Protected" before backing it up'
            )
        return run_job(
            self, item, "OnDemandBackup", _now(at), retain_until=retain_until, progress=progress
        )

    def jobs(self, *, item_id: str | None = None, failed_only: bool = False) -> list[Job]:
        """Jobs oldest first."""
        return self.job_rows.list(item_id, failed_only)

    def job(self, task_id: str) -> Job:
        return self.job_rows.get(task_id)

    def job_log(self, task_id: str) -> str:
        job = self.job_rows.get(task_id)
        container = vault_container(self.fabric, self.vaults.get(job.vault_id))
        return container.get(f"{task_id}.log.txt").decode()

    def job_status(self, task_id: str) -> dict:
        job = self.job_rows.get(task_id)
        container = vault_container(self.fabric, self.vaults.get(job.vault_id))
        return json.loads(container.get(f"{task_id}.status.json"))

    def acknowledge(self, task_id: str | None = None) -> int:
        return self.job_rows.acknowledge(task_id)

    def extensions(self, vm_id: str) -> list[ext.Extension]:
        return ext.extensions(self.fabric, vm_id)

    # -- the schedule --------------------------------------------------------------------------
    def tick(
        self,
        at: datetime,
        *,
        progress: Progress | None = None,
        stop: Callable[[], bool] | None = None,
        vault_ids: Collection[str] | None = None,
    ) -> TickReport:
        """The backups due at ``at``, then tiering, retention and purge; only of the vaults
        ``vault_ids`` when given (None: every vault of the fabric)."""
        return tick(self, at, progress=progress, stop=stop, vault_ids=vault_ids)

    def next_due(
        self, after: datetime, *, vault_ids: Collection[str] | None = None
    ) -> datetime | None:
        """The first instant after ``after`` when a protected item (of ``vault_ids`` when
        given) has a backup due."""
        after = _now(after)
        due = [
            next_due(self.policies.get(i.policy_id), after)
            for i in Scope.of(vault_ids).items(self)
            if i.state == "Protected"
        ]
        return min(due) if due else None

    def close(self) -> None:
        """Nothing of its own to close (the fabric and restore points are the caller's)."""
