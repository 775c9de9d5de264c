"""Backup jobs: one per backup (scheduled or on demand), as rows of ``bk_jobs``.

A job's task id is ``<item guid>_<n>`` (rule EXT-3: n counts the item's jobs from 1), its
``scheduled_start_ticks`` the .NET ticks of its scheduled start (100 ns since 0001-01-01
UTC), its status and log blobs ``{task_id}.status.json`` and ``{task_id}.log.txt`` in the
vault's job container. Its plain settings (the extension's ``settings``: taskId,
commandStartTimeUTCTicks, locale, commandToExecute, vmType) are JSON in the row; its
protected settings (rule EXT-4: objectStr, logsBlobUri, statusBlobUri) only sealed
(``sealed``, AES-GCM with the fabric's master key, the task id bound as associated data).

Always holds: a job row is written InProgress before its backup starts and finished once,
with its outcome; the protected settings never appear in a ``Job``, a message or a log.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from core.errors import NotFound
from core.fabric.home import Fabric
from core.protection.items import utc

_EPOCH_TICKS = 621_355_968_000_000_000  # .NET ticks at 1970-01-01 UTC
STATUSES = ("InProgress", "Succeeded", "CompletedWithWarnings", "Failed")


def dotnet_ticks(moment: datetime) -> int:
    """.NET ticks (100 ns since 0001-01-01 UTC) of a timezone-aware instant."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (
        _EPOCH_TICKS
        + (delta.days * 86_400 + delta.seconds) * 10_000_000
        + (delta.microseconds * 10)
    )


@dataclass(frozen=True)
class Job:
    task_id: str
    item_id: str
    vault_id: str
    kind: str  # "Backup" | "OnDemandBackup"
    scheduled_start: datetime
    scheduled_start_ticks: int
    started_at: datetime | None
    finished_at: datetime | None
    status: str  # "InProgress" | "Succeeded" | "CompletedWithWarnings" | "Failed"
    consistency: str | None
    bytes_stored: int
    recovery_point_id: str | None
    error: str | None
    warnings: tuple[str, ...]
    acknowledged: bool

    def to_json(self) -> dict:
        """The job as JSON (times RFC 3339 UTC): what ``notify_command`` gets on stdin."""
        out = asdict(self)
        for key in ("scheduled_start", "started_at", "finished_at"):
            value = out[key]
            out[key] = None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")
        out["warnings"] = list(self.warnings)
        return out


def _job(row: sqlite3.Row) -> Job:
    return Job(
        task_id=row["task_id"],
        item_id=row["item_id"],
        vault_id=row["vault_id"],
        kind=row["kind"],
        scheduled_start=utc(row["scheduled_start"]),  # type: ignore[arg-type]
        scheduled_start_ticks=row["scheduled_start_ticks"],
        started_at=utc(row["started_at"]),
        finished_at=utc(row["finished_at"]),
        status=row["status"],
        consistency=row["consistency"],
        bytes_stored=row["bytes_stored"],
        recovery_point_id=row["recovery_point_id"],
        error=row["error"],
        warnings=tuple(json.loads(row["warnings"])),
        acknowledged=bool(row["acknowledged"]),
    )


class Jobs:
    """The job rows of one fabric."""

    def __init__(self, fabric: Fabric) -> None:
        self.fabric = fabric

    def start(
        self,
        conn: sqlite3.Connection,
        task_id: str,
        item_id: str,
        vault_id: str,
        kind: str,
        scheduled: datetime,
        settings: dict,
        started_at: float,
    ) -> None:
        """Write the job InProgress (inside the caller's transaction)."""
        conn.execute(
            "INSERT INTO bk_jobs (task_id, item_id, vault_id, kind, scheduled_start, "
            "scheduled_start_ticks, started_at, status, warnings, acknowledged, settings) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'InProgress', '[]', 0, ?)",
            (
                task_id,
                item_id,
                vault_id,
                kind,
                scheduled.timestamp(),
                dotnet_ticks(scheduled),
                started_at,
                json.dumps(settings),
            ),
        )

    def seal(self, task_id: str, sealed: bytes) -> None:
        with self.fabric.transaction() as conn:
            conn.execute("UPDATE bk_jobs SET sealed=? WHERE task_id=?", (sealed, task_id))

    def sealed(self, task_id: str) -> bytes | None:
        row = self.fabric.db().execute("SELECT sealed FROM bk_jobs WHERE task_id=?", (task_id,))
        found = row.fetchone()
        return found[0] if found else None

    def settings(self, task_id: str) -> dict:
        row = self.fabric.db().execute("SELECT settings FROM bk_jobs WHERE task_id=?", (task_id,))
        found = row.fetchone()
        if found is None:
            raise NotFound(f"job {task_id} does not exist: list the jobs (bcdr backup jobs)")
        return json.loads(found[0])

    def finish(
        self,
        task_id: str,
        *,
        status: str,
        finished_at: float,
        consistency: str | None = None,
        bytes_stored: int = 0,
        recovery_point_id: str | None = None,
        error: str | None = None,
        warnings: list[str] | tuple[str, ...] = (),
    ) -> None:
        with self.fabric.transaction() as conn:
            conn.execute(
                "UPDATE bk_jobs SET status=?, finished_at=?, consistency=?, bytes_stored=?, "
                "recovery_point_id=?, error=?, warnings=? WHERE task_id=?",
                (
                    status,
                    finished_at,
                    consistency,
                    bytes_stored,
                    recovery_point_id,
                    error,
                    json.dumps(list(warnings)),
                    task_id,
                ),
            )

    def add_warning(self, task_id: str, warning: str) -> None:
        job = self.get(task_id)
        with self.fabric.transaction() as conn:
            conn.execute(
                "UPDATE bk_jobs SET warnings=? WHERE task_id=?",
                (json.dumps([*job.warnings, warning]), task_id),
            )

    def get(self, task_id: str) -> Job:
        row = self.fabric.db().execute("SELECT * FROM bk_jobs WHERE task_id=?", (task_id,))
        found = row.fetchone()
        if found is None:
            raise NotFound(f"job {task_id} does not exist: list the jobs (bcdr backup jobs)")
        return _job(found)

    def list(self, item_id: str | None = None, failed_only: bool = False) -> list[Job]:
        """Jobs oldest first (by scheduled start, then start)."""
        sql, args = "SELECT * FROM bk_jobs", []
        where = []
        if item_id is not None:
            where.append("item_id=?")
            args.append(item_id)
        if failed_only:
            where.append("status='Failed'")
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.fabric.db().execute(sql + " ORDER BY scheduled_start, rowid", args)
        return [_job(r) for r in rows]

    def acknowledge(self, task_id: str | None = None) -> int:
        with self.fabric.transaction() as conn:
            if task_id is None:
                cur = conn.execute(
                    "UPDATE bk_jobs SET acknowledged=1 WHERE status='Failed' AND acknowledged=0"
                )
            else:
                self.get(task_id)
                cur = conn.execute(
                    "UPDATE bk_jobs SET acknowledged=1 WHERE task_id=? AND status='Failed' "
                    "AND acknowledged=0",
                    (task_id,),
                )
            return cur.rowcount
