"""``bcdr backup now|list|jobs|ack|logs|delete|undelete``: a protected VM's backups, operated.

A protected VM is named by its ``backup_protected_vm`` resource's address (or, once that
resource is destroyed and its points kept, by its protected item id); a recovery point by
its id, the restore point id a ``vm_restore`` or ``managed_disk`` restores from. Always
holds: ``jobs -failed`` exits 2 while a failure of this state's vaults is unacknowledged
(``ack`` acknowledges); nothing printed holds a job's protected settings (rule EXT-4).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from providers.platform.cli.common import home_option
from providers.platform.cli.scope import Day, Moment, Scope, plural, scope_of
from sdk.cli import DashCommand, DashGroup, Output, no_color_option, opt
from sdk.units import human_bytes

EXIT_FAILED = 2


@click.group(cls=DashGroup)
def backup() -> None:
    """Back up a protected VM now, list its recovery points and its jobs, read a job's log,
    acknowledge failures, delete and undelete recovery points."""


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_option(f: Any) -> Any:
    return opt("json", "as_json", is_flag=True, help="Print JSON.")(f)


@backup.command(name="now", cls=DashCommand)
@no_color_option
@home_option
@opt(
    "retain-until",
    type=Day(),
    metavar="DATE",
    help="Keep this backup until DATE (2027-06-30, 00:00 UTC, or an RFC 3339 time); "
    "default 30 days.",
)
@_json_option
@click.argument("address")
@click.pass_context
def now(
    ctx: click.Context,
    no_color: bool,
    home: str | None,
    retain_until: datetime | None,
    as_json: bool,
    address: str,
) -> None:
    """Back up the protected VM at ADDRESS now (an on-demand backup, kept until DATE, by
    no policy rule). Exits 2 when the backup failed."""
    from providers.platform.backups import job_json

    scope = scope_of(ctx, home)
    out = scope.c.output(no_color)
    item_id = scope.item_id(address)
    with scope.protection() as p, out.progress() as progress:
        job = p.backup_now(
            item_id, at=datetime.now(UTC), retain_until=retain_until, progress=progress
        )
    if as_json:
        out.json(job_json(job, scope.address_of(item_id)))
    elif job.status == "Failed":
        out.print(f"Backup of {address} failed (task {job.task_id}): {job.error}")
    else:
        out.print(
            f"Backed up {address}: task {job.task_id} {job.status}, {job.consistency}, "
            f"{human_bytes(job.bytes_stored)} stored."
        )
        out.print(f"Recovery point {job.recovery_point_id}")
        for warning in job.warnings:
            out.print(f"warning: {warning}", style="yellow")
    if job.status == "Failed":
        ctx.exit(EXIT_FAILED)


@backup.command(name="list", cls=DashCommand)
@no_color_option
@home_option
@opt(
    "at",
    type=Moment(),
    metavar="TIME",
    help="Judge retention (expiry, kept by) as at TIME instead of now (as for schedule tick).",
)
@opt("deleted", is_flag=True, help="Also list soft-deleted recovery points (undelete them).")
@_json_option
@click.argument("address")
@click.pass_context
def list_cmd(
    ctx: click.Context,
    no_color: bool,
    home: str | None,
    at: datetime | None,
    deleted: bool,
    as_json: bool,
    address: str,
) -> None:
    """List the recovery points of the protected VM at ADDRESS, newest first: time,
    consistency, tier, size stored, expiry and the retention rules keeping each."""
    from providers.platform.backups import point_json

    scope = scope_of(ctx, home)
    out = scope.c.output(no_color)
    item_id = scope.item_id(address)
    with scope.protection() as p:
        points = p.recovery_points(item_id, include_deleted=deleted, now=at)
    if as_json:
        out.json([point_json(i) for i in points])
        return
    for i in points:
        kept = ", ".join(i.kept_by) or "-"
        gone = f"  deleted {_when(i.deleted_at)}" if i.deleted_at else ""
        out.print(
            f"{_when(i.time)}  {i.consistency:<21}  {i.tier:<13}  "
            f"{human_bytes(i.bytes_stored):>9}  expires {_when(i.expires_at)}  kept by {kept}"
            f"{gone}\n    {i.id}"
        )
    out.print(f"{plural(len(points), 'recovery point')}.")


def _jobs_in_scope(p: Any, scope: Scope, address: str | None) -> list[Any]:
    if address is not None:
        return p.jobs(item_id=scope.item_id(address))
    vaults = {v.lower() for v in scope.vaults.values()}
    return [j for j in p.jobs() if j.vault_id.lower() in vaults]


def _print_jobs(out: Output, scope: Scope, jobs: list[Any]) -> None:
    for j in jobs:
        size = human_bytes(j.bytes_stored) if j.finished_at else "-"
        ack = "  (acknowledged)" if j.status == "Failed" and j.acknowledged else ""
        out.print(
            f"{j.task_id}  {scope.shown(j.item_id)}  {j.kind}  {_when(j.scheduled_start)}  "
            f"{j.status}  {j.consistency or '-'}  {size}{ack}"
        )
        if j.error:
            out.print(f"    error: {j.error}")
        for warning in j.warnings:
            out.print(f"    warning: {warning}")


@backup.command(name="jobs", cls=DashCommand)
@no_color_option
@home_option
@opt(
    "failed",
    is_flag=True,
    help="Only failed jobs; exit 2 while a failure is unacknowledged (`bcdr backup ack`).",
)
@_json_option
@click.argument("address", required=False)
@click.pass_context
def jobs(
    ctx: click.Context,
    no_color: bool,
    home: str | None,
    failed: bool,
    as_json: bool,
    address: str | None,
) -> None:
    """List the backup jobs of this state's vaults (or of the protected VM at ADDRESS),
    oldest first: task id, scheduled start, status, consistency, size stored, error."""
    from providers.platform.backups import job_json

    scope = scope_of(ctx, home)
    out = scope.c.output(no_color)
    with scope.protection() as p:
        found = _jobs_in_scope(p, scope, address)
    if failed:
        found = [j for j in found if j.status == "Failed"]
    if as_json:
        out.json([job_json(j, scope.address_of(j.item_id)) for j in found])
    else:
        _print_jobs(out, scope, found)
        out.print(f"{plural(len(found), 'failed job' if failed else 'job')}.")
    open_failures = [j for j in found if j.status == "Failed" and not j.acknowledged]
    if failed and open_failures:
        if not as_json:
            out.print(
                f"{plural(len(open_failures), 'failure')} not acknowledged: "
                "bcdr backup ack [TASK_ID] acknowledges.",
                err=True,
            )
        ctx.exit(EXIT_FAILED)


@backup.command(name="ack", cls=DashCommand)
@no_color_option
@home_option
@click.argument("task_id", required=False)
@click.pass_context
def ack(ctx: click.Context, no_color: bool, home: str | None, task_id: str | None) -> None:
    """Acknowledge the failed job TASK_ID, or every failure of this state's vaults: `bcdr
    backup jobs -failed` then exits 0 until a new one fails."""
    scope = scope_of(ctx, home)
    out = scope.c.output(no_color)
    with scope.protection() as p:
        if task_id is not None:
            done = p.acknowledge(task_id)
        else:
            done = sum(
                p.acknowledge(j.task_id)
                for j in _jobs_in_scope(p, scope, None)
                if j.status == "Failed" and not j.acknowledged
            )
    out.print(f"Acknowledged {plural(done, 'failed job')}.")


@backup.command(name="logs", cls=DashCommand)
@no_color_option
@home_option
@opt("status", is_flag=True, help="Print the job's status blob (JSON) instead of its log.")
@click.argument("task_id")
@click.pass_context
def logs(ctx: click.Context, no_color: bool, home: str | None, status: bool, task_id: str) -> None:
    """Print the log blob of the job TASK_ID (or its status blob, with -status), from the
    vault's job container."""
    scope = scope_of(ctx, home)
    out = scope.c.output(no_color)
    with scope.protection() as p:
        if status:
            out.json(p.job_status(task_id))
        else:
            out.write(p.job_log(task_id))


@backup.command(name="delete", cls=DashCommand)
@no_color_option
@home_option
@click.argument("recovery_point_id")
@click.pass_context
def delete(ctx: click.Context, no_color: bool, home: str | None, recovery_point_id: str) -> None:
    """Delete a recovery point: refused by an immutable vault; with soft delete, kept 14 days
    (`bcdr backup undelete` brings it back)."""
    scope = scope_of(ctx, home)
    out = scope.c.output(no_color)
    with scope.protection() as p:
        vault = p.get_vault(p.points.get(recovery_point_id).vault_id)
        p.delete_recovery_point(recovery_point_id)
    if vault.settings.soft_delete:
        out.print(
            f"Soft-deleted {recovery_point_id}: `bcdr backup undelete` brings it back "
            "within 14 days."
        )
    else:
        out.print(f"Deleted {recovery_point_id}.")


@backup.command(name="undelete", cls=DashCommand)
@no_color_option
@home_option
@click.argument("recovery_point_id")
@click.pass_context
def undelete(ctx: click.Context, no_color: bool, home: str | None, recovery_point_id: str) -> None:
    """Bring back a soft-deleted recovery point (within 14 days of its delete)."""
    scope = scope_of(ctx, home)
    out = scope.c.output(no_color)
    with scope.protection() as p:
        info = p.undelete(recovery_point_id)
    out.print(f"Undeleted {info.id} (taken {_when(info.time)}).")
