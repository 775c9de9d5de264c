"""``bcdr serve``: the HTTP(S) endpoint of SAS URLs, speaking the part of Azure's Blob REST API
that a disk download uses, so the Azure Storage SDKs (and tools built on them) read a disk
restore point as they read a managed disk's export URL.

Get Blob (``GET``, with ``x-ms-range`` or ``Range``), Get Blob Properties (``HEAD``) and Get
Page Ranges (``comp=pagelist``: the ranges not made of zero blocks, which the SDKs ask of a
page blob to skip the rest) of a page blob, with
``ETag``, ``Last-Modified``, ``x-ms-blob-type: PageBlob``, ``x-ms-version``,
``x-ms-request-id``, ``Accept-Ranges`` and ``If-Match``/``If-None-Match``. Errors are
Blob-style XML bodies (``<Error><Code>…</Code><Message>…</Message></Error>``) with
``x-ms-error-code``: ``AuthenticationFailed`` 403, ``BlobNotFound`` 404, ``InvalidRange``
416, ``ConditionNotMet`` 412, ``InvalidHeaderValue`` 400, ``InvalidUri`` 414,
``InternalError`` 500. With a TLS context (``--cert``/``--key``) it speaks HTTPS.

Always holds: any token problem (missing, forged, expired, revoked, meant for another disk
restore point) and a valid token for a disk restore point whose encryption key cannot be used
(``KeyUnavailable``: disabled, deleted, its vault gone or its access revoked, as Azure answers
a customer key it cannot reach) get the same ``AuthenticationFailed`` answer, so the holder
learns nothing about the key; the log names the disk restore point and the key id. Damaged
blocks are a 500, logged as damage. Request fields are bounded (request line, each header,
range numbers) and anything unexpected is an error answer and one log line, never a
traceback or a dropped request. One access line is logged per request: client, method, path
without its query, status, body bytes; tokens and query strings are never logged. Disks are
streamed in chunks, never held whole in memory.
"""

from __future__ import annotations

import logging
import ssl
import sys
import uuid
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from core.access.blobwire import MESSAGES, STDLIB_ERRORS, byte_range, etags
from core.access.grants import SV, Access, BlobVersion, DiskImageReader
from core.errors import CoreError, Forbidden, IntegrityError, NotFound
from core.fabric.home import Fabric
from core.keystore.envelope import KeyUnavailable

log = logging.getLogger(__name__)

try:
    VERSION = version("bcdr")
except PackageNotFoundError:  # running from a source tree that was never installed
    VERSION = "0+unknown"

CHUNK = 1 << 20
MAX_REQUEST_LINE = 8 * 1024  # Azure refuses longer URLs (414)
MAX_HEADER_LINE = 8 * 1024  # and longer header lines (400)


def _printable(path: str) -> str:
    shown = path.split("?", 1)[0][:256]
    return "".join(c if c.isprintable() and c != " " else f"\\x{ord(c):02x}" for c in shown)


class _Handler(BaseHTTPRequestHandler):
    server: SasServer
    protocol_version = "HTTP/1.1"
    server_version = f"bcdr/{VERSION}"
    sys_version = ""
    timeout = 120  # seconds a silent client holds its thread

    def version_string(self) -> str:
        return self.server_version

    # -- the request cycle ---------------------------------------------------------------------
    def setup(self) -> None:
        self.request.settimeout(self.timeout)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def handle_one_request(self) -> None:
        """One request, its access line, and never a traceback."""
        self._status: int | None = None
        self._sent = 0
        self._request_id = str(uuid.uuid4())
        self.command, self.path, self.headers = "", "", None  # type: ignore[assignment]
        try:
            self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
            if not self.raw_requestline:
                self.close_connection = True
                return
            if len(self.raw_requestline) > MAX_REQUEST_LINE:
                self.request_version = self.default_request_version = "HTTP/1.1"
                self.command = self.raw_requestline.split(b" ", 1)[0][:16].decode("latin-1")
                self._error(414, "InvalidUri", close=True)
                return
            if not self.parse_request():
                return
            if any(len(k) + len(v) + 2 > MAX_HEADER_LINE for k, v in self.headers.items()):
                self._error(400, "InvalidHeaderValue", close=True)
                return
            method = getattr(self, "do_" + self.command, None)
            if method is None:
                self.send_error(501)
                return
            method()
            self.wfile.flush()
        except TimeoutError:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        finally:
            if self._status is not None:
                log.info(
                    "%s %s %s %s %d",
                    self.client_address[0],
                    _printable(self.command or "")[:16] or "-",
                    _printable(self.path or "") or "-",
                    self._status,
                    self._sent,
                )

    def send_response(self, code: int, message: str | None = None) -> None:
        self._status = code
        super().send_response(code, message)
        self.send_header("x-ms-request-id", self._request_id)
        self.send_header("x-ms-version", SV)
        client_id = self.headers.get("x-ms-client-request-id") if self.headers else None
        if client_id and len(client_id) <= 1024 and client_id.isprintable():
            self.send_header("x-ms-client-request-id", client_id)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        status, error = STDLIB_ERRORS.get(code, (400, "InvalidHeaderValue"))
        self._error(status, error, close=True)

    def _error(
        self,
        status: int,
        code: str,
        headers: dict[str, str] | None = None,
        *,
        close: bool = False,
    ) -> None:
        """A Blob-style error: status, ``x-ms-error-code`` and the XML body (none for HEAD)."""
        message = f"{MESSAGES[code]}\nRequestId:{self._request_id}\nTime:{formatdate(usegmt=True)}"
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
        ).encode()
        self.send_response(status)
        self.send_header("x-ms-error-code", code)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
            self._sent = len(body)

    # -- Get Blob and Get Blob Properties ---------------------------------------------------
    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, send_body: bool) -> None:
        access = self.server.access
        path, _, query = self.path.partition("?")
        try:
            drp_id = access.authorize(path, query)
        except Forbidden:
            return self._error(403, "AuthenticationFailed")
        except Exception as exc:  # a bug, but the caller still learns nothing beyond 403
            log.error("authorization failed unexpectedly (%s)", type(exc).__name__)
            return self._error(403, "AuthenticationFailed")
        try:
            reader = access.open(drp_id)
        except NotFound:
            return self._error(404, "BlobNotFound")
        except KeyUnavailable as exc:  # a refusal until the key is usable: 403, see above
            log.error(
                "disk restore point %s refused (403): its encryption key %s cannot be used: %s",
                drp_id,
                exc.key_id,
                exc.reason,
            )
            return self._error(403, "AuthenticationFailed")
        except IntegrityError:
            log.error("disk restore point %s cannot be read: its blocks are damaged", drp_id)
            return self._error(500, "InternalError")
        try:
            self._respond(reader, access.version(drp_id), send_body)
        except NotFound:
            self._error(404, "BlobNotFound")
        except Exception as exc:
            log.error("serving %s failed unexpectedly (%s)", drp_id, type(exc).__name__)
            if self._status is None:
                self._error(500, "InternalError", close=True)
            self.close_connection = True
        finally:
            close = getattr(reader, "close", None)
            if close is not None:
                close()

    def _respond(self, reader: DiskImageReader, blob: BlobVersion, send_body: bool) -> None:
        size = reader.size_bytes
        match = self.headers.get("If-Match")
        if match and match.strip() != "*" and blob.etag not in etags(match):
            return self._error(412, "ConditionNotMet")
        none_match = self.headers.get("If-None-Match")
        if none_match and (none_match.strip() == "*" or blob.etag in etags(none_match)):
            self.send_response(304)
            self._blob_headers(blob, size)
            self.send_header("Content-Length", "0")
            return self.end_headers()
        ms_range = self.headers.get("x-ms-range")
        wanted = byte_range(ms_range or self.headers.get("Range"), size)
        if ms_range and wanted is None:
            return self._error(400, "InvalidHeaderValue")
        if wanted is False:
            return self._error(416, "InvalidRange", {"Content-Range": f"bytes */{size}"})
        first, last = wanted if wanted else (0, size - 1)
        if "comp=pagelist" in self.path.partition("?")[2].split("&"):
            return self._page_ranges(reader, blob, first, last, send_body)
        self.send_response(206 if wanted else 200)
        self._blob_headers(blob, size)
        self.send_header("Content-Length", str(last - first + 1))
        if wanted:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.end_headers()
        if send_body:
            self._stream(reader, first, last + 1)

    def _page_ranges(
        self,
        reader: DiskImageReader,
        blob: BlobVersion,
        first: int,
        last: int,
        send_body: bool,
    ) -> None:
        """Get Page Ranges: the ranges of the asked range that hold data (a restore point's
        zero blocks read as never written), so a client skips reading them."""
        size = reader.size_bytes
        ranges = reader.written_ranges(first, last) if size else []
        pages = "".join(
            f"<PageRange><Start>{a}</Start><End>{b}</End></PageRange>" for a, b in ranges
        )
        body = f'<?xml version="1.0" encoding="utf-8"?><PageList>{pages}</PageList>'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("ETag", blob.etag)
        self.send_header("Last-Modified", formatdate(blob.last_modified, usegmt=True))
        self.send_header("x-ms-blob-content-length", str(size))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)
            self._sent = len(body)

    def _blob_headers(self, blob: BlobVersion, size: int) -> None:
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", blob.etag)
        self.send_header("Last-Modified", formatdate(blob.last_modified, usegmt=True))
        self.send_header("x-ms-creation-time", formatdate(blob.last_modified, usegmt=True))
        self.send_header("x-ms-blob-type", "PageBlob")
        self.send_header("x-ms-blob-sequence-number", "0")
        self.send_header("x-ms-lease-status", "unlocked")
        self.send_header("x-ms-lease-state", "available")
        self.send_header("x-ms-server-encrypted", "true")
        if self.command == "HEAD":
            self.send_header("x-ms-blob-content-length", str(size))

    def _stream(self, reader: DiskImageReader, start: int, end: int) -> None:
        offset = start
        try:
            while offset < end:
                data = reader.read(offset, min(CHUNK, end - offset))
                if not data:
                    raise IntegrityError("disk restore point ended early")
                self.wfile.write(data)
                offset += len(data)
                self._sent += len(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except CoreError as exc:
            log.error("serving stopped at byte %d: %s", offset, exc)
            self.close_connection = True

    # The standard library's own log lines carry the request line, whose query is the token.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


class SasServer(ThreadingHTTPServer):
    """The SAS endpoint: serves granted disk restore points to holders of a valid token."""

    daemon_threads = True
    access: Access
    tls: ssl.SSLContext | None = None

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        if self.tls is not None:  # the handshake runs in the request's thread (``setup``)
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that failed before or outside a request (a TLS handshake, a reset)."""
        exc = sys.exc_info()[1]
        log.warning("connection from %s failed: %s", client_address[0], type(exc).__name__)


def tls_context(cert: Path, key: Path | None) -> ssl.SSLContext:
    """A server TLS context from PEM files; a missing or unreadable file is a CoreError."""
    for path in (cert, key):
        if path is not None and not Path(path).is_file():
            raise CoreError(f"cannot read {path}: no such file; give a PEM file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(cert), str(key) if key is not None else None)
    except (ssl.SSLError, OSError) as exc:
        raise CoreError(
            f"cannot use certificate {cert}" + (f" with key {key}" if key else "") + ": "
            f"{getattr(exc, 'reason', None) or exc}; give a PEM certificate and its private "
            "key (--key, unless the certificate file holds it)"
        ) from None
    return context


def make_server(
    fabric: Fabric,
    host: str,
    port: int,
    *,
    access: Access | None = None,
    tls: ssl.SSLContext | None = None,
) -> SasServer:
    """A server for ``bcdr serve`` (HTTPS with ``tls``); call ``serve_forever()`` and
    ``server_close()``."""
    server = SasServer((host, port), _Handler)
    server.tls = tls
    if access is None:
        try:
            from core.disks.managed import Disks
            from core.restorepoints.service import RestorePoints

            bound_host, bound_port = server.server_address[:2]
            scheme = "https" if tls is not None else "http"
            access = Access(
                fabric,
                RestorePoints(fabric, Disks(fabric)),
                base_url=f"{scheme}://{bound_host}:{bound_port}",
            )
        except BaseException:
            server.server_close()
            raise
    server.access = access
    return server
