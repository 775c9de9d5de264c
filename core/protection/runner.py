"""Running one backup job: the snapshot task of the VMSnapshot extension (EXT-1..EXT-4).

A job installs the extension at a VM's first backup (EXT-2), takes an incremental restore
point of the VM's included disks into the vault's collection with the VM's guest hooks
(EXT-1: ``RestorePoints.create`` ApplicationConsistent; a failed or timed-out hook gives a
crash-consistent point with the warning, on the point and the job), grants read access to
the new disk restore points for the task (``core.access``), seals the task's protected
settings (EXT-4: objectStr with those SAS URIs, logsBlobUri, statusBlobUri) into the job
row, opens them only here to check the disks' URIs and to find where the status and log go,
writes the status and log blobs (EXT-3) and revokes the grants.

Always holds: ``run_job`` never raises for a failing backup: the job is recorded Failed
with its error, the extension's state says so, the vault's ``notify_command`` runs with the
job's JSON on stdin (bounded by ``NOTIFY_TIMEOUT``; its failure is a warning on the job);
the protected settings are in no log line, message, blob or plain column.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from core.errors import CoreError
from core.progress import Progress
from core.protection import extensions
from core.protection.items import VM_TYPE, ProtectedItem, excluded_disk_ids
from core.protection.jobs import Job, dotnet_ticks
from core.protection.points import PointRow
from core.protection.schedule import local_to_utc
from core.protection.vaults import JOBS_CONTAINER, Vault, vault_container, vault_service
from core.restorepoints.model import vm_source_from_row
from core.shellcommand import run_command

if TYPE_CHECKING:
    from core.protection.service import Protection

NOTIFY_TIMEOUT = 30.0  # seconds a notify_command may take
GRANT_SECONDS = 3600  # how long the task's disk URIs stay valid (revoked when it ends)
ON_DEMAND_DAYS = 30  # an on-demand backup's expiry when none is given (Azure's default)


@dataclass
class _Log:
    task_id: str
    lines: list[str] = field(default_factory=list)

    def __call__(self, text: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.lines.append(f"{stamp} {self.task_id} {text}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_job(
    p: Protection,
    item: ProtectedItem,
    kind: str,
    scheduled: datetime,
    *,
    retain_until: datetime | None = None,
    progress: Progress | None = None,
) -> Job:
    """Run one backup of ``item`` scheduled at ``scheduled``; the finished job."""
    vault = p.vaults.get(item.vault_id)
    with p.fabric.transaction() as conn:
        task_id = p.items.next_task(conn, item.id)
        settings = {
            "taskId": task_id,
            "commandStartTimeUTCTicks": str(dotnet_ticks(scheduled)),
            "locale": "en-us",
            "commandToExecute": "snapshot",
            "vmType": VM_TYPE.lower(),
        }
        p.job_rows.start(conn, task_id, item.id, vault.id, kind, scheduled, settings, time.time())
    log = _Log(task_id)
    log(f"{kind} of {item.vm_id} scheduled at {_iso(scheduled)} started")
    try:
        _backup(p, vault, item, task_id, scheduled, retain_until, progress, log)
    except Exception as exc:  # a failed backup is a failed job, never an exception out
        error = str(exc) if isinstance(exc, CoreError) else f"{type(exc).__name__}: {exc}"
        log(f"failed: {error}")
        p.job_rows.finish(task_id, status="Failed", finished_at=time.time(), error=error)
        extensions.set_state(p.fabric, item.vm_id, "Failed")
        _write_blobs(p, vault, task_id, log)
        _notify(p, vault, task_id)
    return p.job_rows.get(task_id)


def _backup(
    p: Protection,
    vault: Vault,
    item: ProtectedItem,
    task_id: str,
    scheduled: datetime,
    retain_until: datetime | None,
    progress: Progress | None,
    log: _Log,
) -> None:
    row = p.fabric.get_resource(item.vm_id)
    if row is None or row["type"] != VM_TYPE:
        raise CoreError(
            f"VM {item.vm_id} does not exist any more: its recovery points stay restorable; "
            "stop protecting it (unprotect, keeping the data) to end these failures"
        )
    vm = vm_source_from_row(row)
    if extensions.ensure_installed(p.fabric, vm.vm_id, vm.region, scheduled.timestamp()):
        log(f"{extensions.NAME} extension {extensions.HANDLER_VERSION} installed on the VM")
    exclude = excluded_disk_ids(vm.data_disk_ids, item.exclude_disk_luns, item.include_disk_luns)
    name = f"bk-{scheduled.astimezone(UTC):%Y%m%dT%H%M%SZ}-{task_id.rpartition('_')[2]}"
    rp = p.restore_points.create(
        item.collection_id,
        name,
        vm,
        consistency_mode="ApplicationConsistent",
        exclude_disk_ids=exclude,
        progress=progress,
    )
    for warning in rp.warnings:  # EXT-1: a hook's failure, on the point and the job
        log(f"warning: {warning}")
    stored = sum(d.bytes_stored for d in rp.disk_restore_points)
    log(
        f"snapshot of {len(rp.disk_restore_points)} disk(s) taken, {rp.consistency_achieved}, "
        f"{stored} bytes stored"
    )
    grants = [p.access.grant(d.id, GRANT_SECONDS) for d in rp.disk_restore_points]
    try:
        protected = {
            "objectStr": json.dumps({"blobSASUri": [g.url for g in grants]}),
            "logsBlobUri": _blob_uri(p, vault, f"{task_id}.log.txt"),
            "statusBlobUri": _blob_uri(p, vault, f"{task_id}.status.json"),
        }
        p.job_rows.seal(task_id, p.sealer.seal(task_id, "protectedSettings", _dumps(protected)))
        del protected
        opened = _open(p, task_id)  # the task's side: the only place they are read
        for url in json.loads(opened["objectStr"])["blobSASUri"]:
            parts = urlsplit(url)
            p.access.authorize(parts.path, parts.query)  # the URIs the task got really read
        log(f"{len(grants)} disk URI(s) checked")
    finally:
        for g in grants:
            p.access.revoke(g.disk_restore_point_id)
    policy = p.policies.get(item.policy_id)
    if retain_until is None and p.job_rows.get(task_id).kind == "OnDemandBackup":
        retain_until = scheduled + timedelta(days=ON_DEMAND_DAYS)
    zone = policy.zone()
    local = scheduled.astimezone(zone).replace(tzinfo=None)
    tier_at = local_to_utc(local + timedelta(days=policy.instant_days()), zone)
    point = PointRow(
        rp.id,
        item.id,
        vault.id,
        scheduled.timestamp(),
        None if retain_until is None else retain_until.timestamp(),
        None,
        "Snapshot",
        tier_at.timestamp(),
        None,
        rp.consistency_achieved,
    )
    with p.fabric.transaction() as conn:
        p.points.insert(conn, point, time.time())
    p.items.backed_up(item.id, scheduled.timestamp())
    status = "CompletedWithWarnings" if rp.warnings else "Succeeded"
    log(f"finished: {status}")
    p.job_rows.finish(
        task_id,
        status=status,
        finished_at=time.time(),
        consistency=rp.consistency_achieved,
        bytes_stored=stored,
        recovery_point_id=rp.id,
        warnings=rp.warnings,
    )
    extensions.set_state(p.fabric, item.vm_id, "Succeeded")
    _write_blobs(p, vault, task_id, log, opened)


def _dumps(value: dict) -> bytes:
    return json.dumps(value, sort_keys=True).encode()


def _open(p: Protection, task_id: str) -> dict:
    sealed = p.job_rows.sealed(task_id)
    if sealed is None:
        raise CoreError(f"job {task_id} has no protected settings")
    return json.loads(p.sealer.open(task_id, "protectedSettings", sealed))


def _blob_uri(p: Protection, vault: Vault, blob: str) -> str:
    """A write URI of one blob of the vault's job container, signed with the fabric's key."""
    base = vault_service(p.fabric, vault).endpoint_of(vault.account)
    expiry = datetime.now(UTC) + timedelta(seconds=GRANT_SECONDS)
    fields = {"sv": "2024-01-01", "sr": "b", "sp": "cw", "se": _iso(expiry) or ""}
    canonical = "\n".join([*fields.values(), f"{vault.account}/{JOBS_CONTAINER}/{blob}"])
    mac = hmac.new(p.fabric.sas_key(), canonical.encode(), hashlib.sha256).digest()
    fields["sig"] = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    return f"{base.rstrip('/')}/{JOBS_CONTAINER}/{blob}?{urlencode(fields)}"


def _blob_name(uri: str) -> str:
    return urlsplit(uri).path.rpartition("/")[2]


def _write_blobs(
    p: Protection, vault: Vault, task_id: str, log: _Log, opened: dict | None = None
) -> None:
    """Write the job's status and log blobs (where the sealed settings say, when there are
    any); a blob that cannot be written is a warning on the job."""
    job = p.job_rows.get(task_id)
    status = {
        "taskId": task_id,
        "status": job.status,
        "kind": job.kind,
        "scheduledStartTicks": job.scheduled_start_ticks,
        "scheduledStart": _iso(job.scheduled_start),
        "startedAt": _iso(job.started_at),
        "finishedAt": _iso(job.finished_at),
        "consistency": job.consistency,
        "bytesStored": job.bytes_stored,
        "recoveryPointId": job.recovery_point_id,
        "error": job.error,
        "warnings": list(job.warnings),
    }
    status_blob, log_blob = f"{task_id}.status.json", f"{task_id}.log.txt"
    if opened is not None:
        status_blob = _blob_name(opened["statusBlobUri"])
        log_blob = _blob_name(opened["logsBlobUri"])
    try:
        container = vault_container(p.fabric, vault)
        container.put(status_blob, json.dumps(status, indent=2).encode())
        container.put(log_blob, log.text().encode())
    except CoreError as exc:
        p.job_rows.add_warning(task_id, f"the job's status and log blobs were not written: {exc}")


def _notify(p: Protection, vault: Vault, task_id: str) -> None:
    """Run the vault's notify_command with the failed job's JSON on stdin."""
    command = vault.settings.notify_command
    if not command:
        return
    body = json.dumps(p.job_rows.get(task_id).to_json()).encode()
    failure = run_command(command, NOTIFY_TIMEOUT, stdin=body)
    if failure is not None:
        p.job_rows.add_warning(task_id, f"notify_command {failure}")
