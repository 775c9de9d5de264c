"""``bcdr schedule tick|run|next``: the backups due by the policies of this state's vaults.

``tick`` runs, once, every backup due at a time (default now) for the protected VMs of the
state's ``recovery_services_vault`` resources, then tiering and retention; a slot runs once
however often it is ticked, and slots missed while no scheduler ran are caught up by one
backup and reported. ``run`` ticks continuously, sleeping until the next due backup.
Always holds: a first SIGTERM or Ctrl-C lets the running job finish and stops ``run``
(exit 0, saying so); a second one stops it at once, the interrupted job recorded Failed;
``tick`` exits 2 when a backup it ran failed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from providers.platform.cli.common import home_option
from providers.platform.cli.scope import Moment, Scope, plural, scope_of
from sdk.cli import DashCommand, DashGroup, Output, no_color_option, opt
from sdk.units import human_bytes

EXIT_FAILED = 2


@click.group(cls=DashGroup)
def schedule() -> None:
    """Run the backups the policies of this state's vaults have due: once (tick), for
    cron, a systemd timer or CI, or continuously (run)."""


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _report(out: Output, scope: Scope, report: Any) -> None:
    """What a tick did, one line a job, then what it caught up, tiered, pruned and purged."""
    for job in report.jobs:
        size = human_bytes(job.bytes_stored)
        line = (
            f"{scope.shown(job.item_id)}: backup of {_when(job.scheduled_start)} "
            f"{job.status}, task {job.task_id}"
        )
        if job.status == "Failed":
            out.print(f"{line}: {job.error}", style="bold red")
            continue
        out.print(f"{line}, {job.consistency}, {size} stored")
        for warning in job.warnings:
            out.print(f"  warning: {warning}", style="yellow")
    for item_id, slots in report.missed:
        out.print(
            f"{scope.shown(item_id)}: {plural(slots, 'earlier slot')} missed while no "
            "scheduler ran; caught up by one backup (the latest slot)",
            style="yellow",
        )
    moved = [
        (report.tiered, "moved to the vault-standard tier"),
        (report.pruned, "pruned by retention"),
        (report.purged, "purged (soft delete over)"),
    ]
    for ids, what in moved:
        if ids:
            out.print(f"{plural(len(ids), 'recovery point')} {what}.")
    for problem in report.problems:
        out.print(f"warning: {problem}", err=True, style="yellow")


def _tick_json(scope: Scope, report: Any, due: datetime | None) -> dict[str, Any]:
    from providers.platform.backups import job_json

    return {
        "at": _when(report.at),
        "jobs": [job_json(j, scope.address_of(j.item_id)) for j in report.jobs],
        "missed": [
            {"address": scope.address_of(i), "item_id": i, "slots": n} for i, n in report.missed
        ],
        "tiered": list(report.tiered),
        "pruned": list(report.pruned),
        "purged": list(report.purged),
        "problems": list(report.problems),
        "next_due": None if due is None else _when(due),
    }


class _Idle:
    """The report of a tick with no vault to tick."""

    def __init__(self, at: datetime) -> None:
        self.at, self.jobs, self.missed = at, (), ()
        self.tiered = self.pruned = self.purged = self.problems = ()


def _nothing_to_do(out: Output, scope: Scope) -> bool:
    if scope.vaults:
        return False
    out.print("This state has no recovery_services_vault: no backups are scheduled.")
    return True


@schedule.command(name="tick", cls=DashCommand)
@no_color_option
@home_option
@opt(
    "at",
    type=Moment(),
    metavar="TIME",
    help="Tick as if the time were TIME: RFC 3339 (2027-03-28T01:00:00Z) or "
    "'YYYY-MM-DD HH:MM' (UTC). Default: now.",
)
@opt("json", "as_json", is_flag=True, help="Print what the tick did as JSON.")
@click.pass_context
def tick(
    ctx: click.Context, no_color: bool, home: str | None, at: datetime | None, as_json: bool
) -> None:
    """Run once every backup due at TIME for the protected VMs of this state's vaults, then
    tiering and retention. Ticking the same TIME again runs nothing twice; slots missed
    since the last tick are caught up by one backup and reported. Exits 2 when a backup
    failed (`bcdr backup jobs -failed` lists the failures)."""
    from providers.platform.backups import next_due, tick_vaults

    scope = scope_of(ctx, home)
    out = scope.c.output(no_color)
    moment = at or datetime.now(UTC)
    if not scope.vaults:
        if as_json:
            out.json(_tick_json(scope, _Idle(moment), None))
        else:
            _nothing_to_do(out, scope)
        return
    with scope.protection() as p:
        report = tick_vaults(p, moment, scope.vaults.values())
        due = next_due(p, moment, scope.vaults.values())
    if as_json:
        out.json(_tick_json(scope, report, due))
    else:
        if not report.jobs:
            out.print(f"No backup due at {_when(moment)}.")
        _report(out, scope, report)
        if due is not None:
            out.print(f"Next backup due at {_when(due)}.")
    if any(j.status == "Failed" for j in report.jobs):
        ctx.exit(EXIT_FAILED)


@schedule.command(name="next", cls=DashCommand)
@no_color_option
@home_option
@opt("at", type=Moment(), metavar="TIME", help="After TIME instead of now (as for tick).")
@click.pass_context
def next_cmd(ctx: click.Context, no_color: bool, home: str | None, at: datetime | None) -> None:
    """Print when the next backup of this state's protected VMs is due."""
    from providers.platform.backups import next_due

    scope = scope_of(ctx, home)
    out = scope.c.output(no_color)
    if _nothing_to_do(out, scope):
        return
    with scope.protection() as p:
        due = next_due(p, at or datetime.now(UTC), scope.vaults.values())
    out.print("No protected VM has backups scheduled." if due is None else _when(due))


class _Stop:
    """SIGTERM and SIGINT: the first asks to stop after the running job, the second stops
    at once (``KeyboardInterrupt``)."""

    def __init__(self) -> None:
        import threading  # here: listing the commands must not pay for it

        self.event = threading.Event()
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> _Stop:
        import signal

        for sig in (signal.SIGTERM, signal.SIGINT):
            self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()


@schedule.command(name="run", cls=DashCommand)
@no_color_option
@home_option
@opt(
    "max-sleep",
    type=click.FloatRange(0.1, 3600),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="Wake at least this often to see changes of the state (new vaults, new VMs).",
)
@click.pass_context
def run(ctx: click.Context, no_color: bool, home: str | None, max_sleep: float) -> None:
    """Tick continuously on the real clock, sleeping until the next due backup. SIGTERM or
    Ctrl-C lets the running backup finish, then stops (exit 0); a second one stops at once,
    the interrupted backup recorded as Failed."""
    from providers.platform.backups import abandon_running, next_due, tick_vaults

    scope = scope_of(ctx, home)
    out = scope.c.output(no_color)
    out.print("Running the schedule; SIGTERM or Ctrl-C stops it after the running backup.")
    shown: datetime | None = None
    with _Stop() as stop:
        while not stop.event.is_set():
            scope = scope_of(ctx, home)  # the state may have changed since the last round
            now = datetime.now(UTC)
            due = None
            if scope.vaults:
                with scope.protection() as p:
                    running = {j.task_id for j in p.jobs() if j.status == "InProgress"}
                    try:
                        report = tick_vaults(p, now, scope.vaults.values(), stop.event.is_set)
                    except KeyboardInterrupt:
                        gone = abandon_running(p, running)
                        out.print(
                            "Stopped at once (a second signal); "
                            + (
                                f"interrupted {plural(len(gone), 'backup')}, recorded Failed: "
                                + ", ".join(gone)
                                if gone
                                else "no backup was running."
                            )
                        )
                        ctx.exit(130)
                    _report(out, scope, report)
                    due = next_due(p, now, scope.vaults.values())
            if due != shown:
                out.print("No backup is scheduled." if due is None else f"Next due: {_when(due)}.")
                shown = due
            wait = max_sleep if due is None else (due - datetime.now(UTC)).total_seconds()
            stop.event.wait(max(0.0, min(wait, max_sleep)))
    out.print("Stopped: the schedule is not running.")
