"""Read access to disk restore points: SAS grants and their tokens (rule RP-12).

A grant is a row in ``fabric.db``; its URL is a blob URL, ``{base}/disks/{container}/{blob}``
with Azure's SAS fields (``sv``, ``sr``, ``sp``, ``st``, ``se``), the grant's id as the signed
identifier ``si`` and ``sig``, a base64url HMAC-SHA256 over those fields and the disk restore
point's id with the fabric's SAS key. The container (``drp-`` and a hash of the disk restore
point's id) and the blob (the disk's name) use only characters that URL-quoting leaves
alone, so Azure Storage clients (``BlobClient.from_blob_url``) send the path back
unchanged; with ``disks`` as the account segment, the SDK's path-style parsing of a
``127.0.0.1`` URL and its parsing of any other host agree. The expiry that counts is the
grant row's, kept on the server, so extending a grant keeps its URL. Always holds:
signatures are compared in constant time; any token problem (missing, forged, expired,
revoked, widened, meant for another disk restore point) is the same ``Forbidden``; tokens
and query strings are never logged or put in a message. ``core.access.server`` serves the URLs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qsl, quote, unquote, urlencode

from core.access.rules import GrantFacts, grant_problems
from core.errors import CoreError, Forbidden, NotFound
from core.fabric.home import Fabric
from core.problems import enforce

if TYPE_CHECKING:
    from core.restorepoints.model import RestorePoint

SV = "2024-01-01"
PREFIX = "/disks/"
CLOCK_SKEW = 300.0  # seconds a request may come before the grant's start time
_FIELDS = ("sv", "sr", "sp", "st", "se", "si", "sig")
# Query parameters a client may add that only read (the SDKs send ``timeout``, and
# ``comp=pagelist`` for Get Page Ranges); any other parameter or value is refused, as a
# widened token would be.
_HARMLESS = {"timeout": re.compile(r"\d{1,6}"), "comp": re.compile(r"pagelist")}
_REFUSED = "access refused: the SAS token is missing, invalid, expired or revoked"


class DiskImageReader(Protocol):
    size_bytes: int

    def read(self, offset: int, length: int) -> bytes: ...

    def written_ranges(self, first: int, last: int) -> list[tuple[int, int]]: ...


class RestorePointSource(Protocol):
    """The slice of ``RestorePoints`` that access uses."""

    def get(self, restore_point_id: str) -> RestorePoint: ...

    def open_disk_restore_point(self, disk_restore_point_id: str) -> DiskImageReader: ...


@dataclass(frozen=True)
class Grant:
    url: str
    expires_at: float
    disk_restore_point_id: str


@dataclass(frozen=True)
class BlobVersion:
    """What a disk restore point answers as a blob's properties; it never changes."""

    etag: str  # quoted, strong
    last_modified: float  # the restore point's creation time


def blob_path(disk_restore_point_id: str) -> str:
    """The URL path of a disk restore point: ``/disks/drp-<hash>/<disk name>``."""
    digest = hashlib.sha256(disk_restore_point_id.encode()).hexdigest()[:32]
    disk = disk_restore_point_id.rpartition("/")[2]
    return f"{PREFIX}drp-{digest}/{quote(disk, safe='')}"


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Access:
    """SAS grants for one fabric's disk restore points."""

    def __init__(
        self,
        fabric: Fabric,
        restore_points: RestorePointSource,
        *,
        base_url: str = "http://127.0.0.1:8443",
    ) -> None:
        self.fabric = fabric
        self.restore_points = restore_points
        self.base_url = base_url.rstrip("/")

    # -- signing -------------------------------------------------------------------------------

    def _sign(self, fields: dict[str, str], resource_path: str) -> str:
        canonical = "\n".join(
            [fields["sv"], fields["sr"], fields["sp"], fields["st"], fields["se"]]
            + [resource_path, fields["si"]]
        )
        mac = hmac.new(self.fabric.sas_key(), canonical.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def _fields(self, row: sqlite3.Row) -> dict[str, str]:
        return {
            "sv": SV,
            "sr": "b",
            "sp": "r",
            "st": _iso(row["starts_at"]),
            "se": _iso(row["signed_expiry"]),
            "si": row["id"],
        }

    def _grant(self, row: sqlite3.Row) -> Grant:
        drp_id = row["disk_restore_point_id"]
        fields = self._fields(row)
        fields["sig"] = self._sign(fields, PREFIX + drp_id)
        url = f"{self.base_url}{blob_path(drp_id)}?{urlencode(fields)}"
        return Grant(url, row["expires_at"], drp_id)

    # -- grants -------------------------------------------------------------------------------

    def _check_exists(self, drp_id: str) -> None:
        rp_id, sep, _disk = drp_id.rpartition("/diskRestorePoints/")
        if not sep or not rp_id:
            raise CoreError(
                f"{drp_id!r} is not a disk restore point id: expected "
                "<restore point id>/diskRestorePoints/<disk name>"
            )
        restore_point = self.restore_points.get(rp_id)  # NotFound names it
        if not any(d.id == drp_id for d in restore_point.disk_restore_points):
            raise NotFound(
                f"disk restore point {drp_id} does not exist: restore point {rp_id} has no such "
                "disk; check the disk name"
            )

    def grant(
        self, disk_restore_point_id: str, duration_seconds: int, now: float | None = None
    ) -> Grant:
        """Grant read access for ``duration_seconds``; an active grant is extended, same URL."""
        enforce(grant_problems(GrantFacts(duration_seconds)))
        duration_seconds = int(duration_seconds)
        now = time.time() if now is None else now
        self._check_exists(disk_restore_point_id)
        with self.fabric.transaction() as conn:
            row = self._active_row(conn, disk_restore_point_id, now)
            expires = now + duration_seconds
            if row is not None:  # RP-12: extend the active grant, keep its URL
                if expires > row["expires_at"]:
                    conn.execute(
                        "UPDATE sas_grants SET expires_at = ? WHERE id = ?", (expires, row["id"])
                    )
            else:
                conn.execute(
                    "INSERT INTO sas_grants VALUES (?, ?, ?, ?, ?, NULL, ?)",
                    (
                        uuid.uuid4().hex,
                        disk_restore_point_id,
                        int(now),
                        int(expires),
                        expires,
                        now,
                    ),
                )
            row = self._active_row(conn, disk_restore_point_id, now)
        return self._grant(row)

    @staticmethod
    def _active_row(conn: sqlite3.Connection, drp_id: str, now: float) -> sqlite3.Row | None:
        return conn.execute(
            "SELECT * FROM sas_grants WHERE disk_restore_point_id = ? AND revoked_at IS NULL "
            "AND expires_at > ? ORDER BY created_at DESC LIMIT 1",
            (drp_id, now),
        ).fetchone()

    def active_grant(self, disk_restore_point_id: str, now: float | None = None) -> Grant | None:
        now = time.time() if now is None else now
        row = self._active_row(self.fabric.db(), disk_restore_point_id, now)
        return self._grant(row) if row is not None else None

    def revoke(self, disk_restore_point_id: str, now: float | None = None) -> None:
        """End access at once (rule RP-12): every grant of this disk restore point stops working."""
        now = time.time() if now is None else now
        with self.fabric.transaction() as conn:
            conn.execute(
                "UPDATE sas_grants SET revoked_at = ? "
                "WHERE disk_restore_point_id = ? AND revoked_at IS NULL",
                (now, disk_restore_point_id),
            )

    def authorize(self, path: str, query: str, now: float | None = None) -> str:
        """The disk restore point id a request may read, or Forbidden (rule RP-12)."""
        now = time.time() if now is None else now
        try:
            pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True, errors="strict")
            path = unquote(path, errors="strict")
        except (ValueError, UnicodeDecodeError):
            raise Forbidden(_REFUSED) from None
        fields = dict(pairs)
        extra = set(fields) - set(_FIELDS)
        if len(pairs) != len(fields) or not set(_FIELDS) <= set(fields):
            raise Forbidden(_REFUSED)
        if not all(k in _HARMLESS and _HARMLESS[k].fullmatch(fields[k]) for k in extra):
            raise Forbidden(_REFUSED)
        if (fields["sv"], fields["sr"], fields["sp"]) != (SV, "b", "r"):
            raise Forbidden(_REFUSED)
        row = (
            self.fabric.db()
            .execute("SELECT * FROM sas_grants WHERE id = ?", (fields["si"],))
            .fetchone()
        )
        if row is None or path != unquote(blob_path(row["disk_restore_point_id"])):
            raise Forbidden(_REFUSED)
        drp_id = row["disk_restore_point_id"]
        expected = self._sign(fields, PREFIX + drp_id).encode()
        if not hmac.compare_digest(expected, fields["sig"].encode("utf-8", "surrogateescape")):
            raise Forbidden(_REFUSED)
        if (
            self._fields(row) != {k: fields[k] for k in _FIELDS if k != "sig"}
            or row["revoked_at"] is not None
            or now >= row["expires_at"]
            or now < row["starts_at"] - CLOCK_SKEW
        ):
            raise Forbidden(_REFUSED)
        return drp_id

    def ended(self, disk_restore_point_id: str, now: float | None = None) -> str | None:
        """Why no grant of this disk restore point is active: ``"expired"`` or ``"revoked"``
        (its newest grant's fate), None when one is active or none was ever made."""
        now = time.time() if now is None else now
        row = (
            self.fabric.db()
            .execute(
                "SELECT * FROM sas_grants WHERE disk_restore_point_id = ? "
                "ORDER BY created_at DESC LIMIT 1",
                (disk_restore_point_id,),
            )
            .fetchone()
        )
        if row is None or self._active_row(self.fabric.db(), disk_restore_point_id, now):
            return None
        return "revoked" if row["revoked_at"] is not None else "expired"

    def version(self, disk_restore_point_id: str) -> BlobVersion:
        """The ETag and Last-Modified of a disk restore point (NotFound when it is gone)."""
        rp_id = disk_restore_point_id.rpartition("/diskRestorePoints/")[0]
        created = float(self.restore_points.get(rp_id).created_at)
        digest = hashlib.sha256(f"{disk_restore_point_id}\n{created!r}".encode()).hexdigest()
        return BlobVersion(f'"0x{digest[:16].upper()}"', created)

    def open(self, disk_restore_point_id: str) -> DiskImageReader:
        return self.restore_points.open_disk_restore_point(disk_restore_point_id)
