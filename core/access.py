"""Read access to disk restore points: SAS grants (rule RP-12) and the HTTP endpoint serving them.

A grant is a row in ``fabric.db``; its URL carries Azure's SAS fields (``sv``, ``sr``, ``sp``,
``st``, ``se``), the grant's id as the signed identifier ``si`` and ``sig``, a base64url
HMAC-SHA256 over those fields and the resource path with the fabric's SAS key. The expiry
that counts is the grant row's, kept on the server, so extending a grant keeps its URL.
Always holds: signatures are compared in constant time; any token problem (missing, forged,
expired, revoked, meant for another disk restore point) is the same ``Forbidden`` and, over
HTTP, the same bare 403; tokens and query strings are never logged or put in a message;
disks are streamed in chunks, never held whole in memory.

A valid token for a disk restore point whose encryption key cannot be used (the disk
encryption set's vault key disabled, deleted, its vault deleted or its access revoked:
``KeyUnavailable``) is also answered with a bare 403, like Azure's answer for a customer key
it cannot reach: it is a refusal, not damage, it ends as soon as the key is usable again, and
the holder learns nothing about the key. The server's log names the disk restore point and
the key id and says why the key cannot be used. A disk restore point that cannot be read
because its blocks are damaged is a bare 500, logged as damage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, unquote, urlencode

from core.envelope import KeyUnavailable
from core.errors import CoreError, Forbidden, IntegrityError, NotFound
from core.fabric import Fabric

log = logging.getLogger(__name__)

SV = "2024-01-01"
PREFIX = "/disks/"
CHUNK = 1 << 20
CLOCK_SKEW = 300.0  # seconds a request may come before the grant's start time
_FIELDS = ("sv", "sr", "sp", "st", "se", "si", "sig")
_REFUSED = "access refused: the SAS token is missing, invalid, expired or revoked"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sas_grants (
    id TEXT PRIMARY KEY, disk_restore_point_id TEXT NOT NULL, starts_at INTEGER NOT NULL,
    signed_expiry INTEGER NOT NULL, expires_at REAL NOT NULL, revoked_at REAL,
    created_at REAL NOT NULL)
"""
_INDEX = "CREATE INDEX IF NOT EXISTS sas_grants_drp ON sas_grants(disk_restore_point_id)"


class DiskImageReader(Protocol):
    size_bytes: int

    def read(self, offset: int, length: int) -> bytes: ...


class RestorePointSource(Protocol):
    """The slice of ``RestorePoints`` that access uses."""

    def get(self, restore_point_id: str) -> Any: ...

    def open_disk_restore_point(self, disk_restore_point_id: str) -> DiskImageReader: ...


@dataclass(frozen=True)
class Grant:
    url: str
    expires_at: float
    disk_restore_point_id: str


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
        with fabric.transaction() as conn:
            conn.execute(_SCHEMA)
            conn.execute(_INDEX)

    # -- signing -------------------------------------------------------------------------------

    def _sign(self, fields: dict[str, str], resource_path: str) -> str:
        canonical = "\n".join(
            [fields["sv"], fields["sr"], fields["sp"], fields["st"], fields["se"]]
            + [resource_path, fields["si"]]
        )
        mac = hmac.new(self.fabric.sas_key(), canonical.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def _fields(self, row: Any) -> dict[str, str]:
        return {
            "sv": SV,
            "sr": "b",
            "sp": "r",
            "st": _iso(row["starts_at"]),
            "se": _iso(row["signed_expiry"]),
            "si": row["id"],
        }

    def _grant(self, row: Any) -> Grant:
        drp_id = row["disk_restore_point_id"]
        fields = self._fields(row)
        fields["sig"] = self._sign(fields, PREFIX + drp_id)
        url = f"{self.base_url}{PREFIX}{quote(drp_id, safe='')}?{urlencode(fields)}"
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
        if isinstance(duration_seconds, bool) or not isinstance(duration_seconds, int):
            raise CoreError(f"duration_seconds {duration_seconds!r} must be a whole number")
        if duration_seconds <= 0:
            raise CoreError(f"duration_seconds {duration_seconds} must be positive")
        now = time.time() if now is None else now
        self._check_exists(disk_restore_point_id)
        with self.fabric.transaction() as conn:
            row = self._active_row(conn, disk_restore_point_id, now)
            expires = now + duration_seconds
            if row is not None:  # rule RP-12: extend the active grant, keep its URL
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
    def _active_row(conn: Any, drp_id: str, now: float) -> Any:
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
        if not path.startswith(PREFIX) or len(path) == len(PREFIX):
            raise Forbidden(_REFUSED)
        try:
            drp_id = unquote(path[len(PREFIX) :], errors="strict")
            pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True, errors="strict")
        except (ValueError, UnicodeDecodeError):
            raise Forbidden(_REFUSED) from None
        fields = dict(pairs)
        if len(pairs) != len(fields) or set(fields) != set(_FIELDS):
            raise Forbidden(_REFUSED)
        if (fields["sv"], fields["sr"], fields["sp"]) != (SV, "b", "r"):
            raise Forbidden(_REFUSED)
        expected = self._sign(fields, PREFIX + drp_id).encode()
        if not hmac.compare_digest(expected, fields["sig"].encode("utf-8", "surrogateescape")):
            raise Forbidden(_REFUSED)
        row = (
            self.fabric.db()
            .execute("SELECT * FROM sas_grants WHERE id = ?", (fields["si"],))
            .fetchone()
        )
        if (
            row is None
            or row["disk_restore_point_id"] != drp_id
            or self._fields(row) != {k: fields[k] for k in _FIELDS if k != "sig"}
            or row["revoked_at"] is not None
            or now >= row["expires_at"]
            or now < row["starts_at"] - CLOCK_SKEW
        ):
            raise Forbidden(_REFUSED)
        return drp_id

    def open(self, disk_restore_point_id: str) -> DiskImageReader:
        return self.restore_points.open_disk_restore_point(disk_restore_point_id)


# -- the HTTP endpoint ---------------------------------------------------------------------------

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None | bool:
    """(first, last) for a satisfiable single range; None for no usable range; False for 416."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None  # malformed or multi-range: serve the whole disk (RFC 9110 allows it)
    first, last = match.groups()
    if first == "":
        length = int(last)
        if length == 0 or size == 0:
            return False
        return max(0, size - length), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or (last != "" and int(last) < start):
        return False
    return start, end


class _Handler(BaseHTTPRequestHandler):
    server: SasServer
    protocol_version = "HTTP/1.1"
    server_version = "bcdr"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _bare(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _serve(self, send_body: bool) -> None:
        access = self.server.access
        path, _, query = self.path.partition("?")
        try:
            drp_id = access.authorize(path, query)
        except Forbidden:
            return self._bare(403)
        except Exception as exc:  # a bug, but the caller still learns nothing beyond 403
            log.error("authorization failed unexpectedly (%s)", type(exc).__name__)
            return self._bare(403)
        try:
            reader = access.open(drp_id)
            size = reader.size_bytes
        except NotFound:
            return self._bare(404)
        except KeyUnavailable as exc:  # a refusal until the key is usable: 403, see above
            log.error(
                "disk restore point %s refused (403): its encryption key %s cannot be used: %s",
                drp_id,
                exc.key_id,
                exc.reason,
            )
            return self._bare(403)
        except IntegrityError:
            log.error("disk restore point %s cannot be read: its blocks are damaged", drp_id)
            return self._bare(500)
        try:
            self._respond(reader, size, send_body)
        finally:
            close = getattr(reader, "close", None)
            if close is not None:
                close()

    def _respond(self, reader: DiskImageReader, size: int, send_body: bool) -> None:
        wanted = _byte_range(self.headers.get("Range"), size)
        if wanted is False:
            return self._bare(416, {"Content-Range": f"bytes */{size}"})
        first, last = wanted if wanted else (0, size - 1)
        self.send_response(206 if wanted else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(last - first + 1))
        if wanted:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.end_headers()
        if send_body:
            self._stream(reader, first, last + 1)

    def _stream(self, reader: DiskImageReader, start: int, end: int) -> None:
        offset = start
        try:
            while offset < end:
                data = reader.read(offset, min(CHUNK, end - offset))
                if not data:
                    raise IntegrityError("disk restore point ended early")
                self.wfile.write(data)
                offset += len(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except CoreError as exc:
            log.error("serving stopped at byte %d: %s", offset, exc)
            self.close_connection = True

    # Never log the request line: its query string is the token.
    def _where(self) -> str:
        return f"{getattr(self, 'command', None) or '-'} {getattr(self, 'path', '').split('?')[0]}"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.info("%s %s %s", self.address_string(), self._where(), code)

    def log_error(self, format: str, *args: Any) -> None:
        log.warning("%s %s refused", self.address_string(), self._where())

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), self._where())


class SasServer(ThreadingHTTPServer):
    """The SAS endpoint: serves granted disk restore points to holders of a valid token."""

    daemon_threads = True
    access: Access


def make_server(fabric: Fabric, host: str, port: int, *, access: Access | None = None) -> SasServer:
    """An HTTP server for ``bcdr serve``; call ``serve_forever()`` and ``server_close()``."""
    server = SasServer((host, port), _Handler)
    if access is None:
        try:
            from core.disks import Disks
            from core.snapshots import RestorePoints

            bound_host, bound_port = server.server_address[:2]
            access = Access(
                fabric,
                RestorePoints(fabric, Disks(fabric)),
                base_url=f"http://{bound_host}:{bound_port}",
            )
        except BaseException:
            server.server_close()
            raise
    server.access = access
    return server
