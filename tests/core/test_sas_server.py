"""``bcdr serve`` as Azure's clients see it: the real ``azure-storage-blob`` SDK downloads a real
disk restore point from the Blob REST subset (rule RP-12), over HTTP and HTTPS; request
fields of any size get an answer, never a traceback; access lines never carry a token."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobClient

from core.access import Access, SasServer, make_server, tls_context
from core.disks import Disks
from core.fabric import Fabric
from core.restorepoints import RestorePoints
from tests.core.fixtures_snap import collection, image_bytes, import_disk, vm

MiB = 1 << 20


@pytest.fixture
def image() -> bytes:
    return image_bytes(3 * MiB + 7 * 65536, seed=7)


@pytest.fixture
def points(fabric: Fabric, disks: Disks) -> Iterator[RestorePoints]:
    rps = RestorePoints(fabric, disks)
    yield rps
    rps.close()


@pytest.fixture
def drp_id(fabric: Fabric, disks: Disks, points: RestorePoints, tmp_path: Path, image) -> str:
    disk = import_disk(disks, fabric, tmp_path, "web-os", image)
    rp = points.create(collection(points, fabric), "rp1", vm(fabric, disk))
    return rp.disk_restore_points[0].id


def _serve(server: SasServer) -> Iterator[Access]:
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.access
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def access(fabric: Fabric) -> Iterator[Access]:
    yield from _serve(make_server(fabric, "127.0.0.1", 0))


def _client(url: str, **kw) -> BlobClient:
    return BlobClient.from_blob_url(url, retry_total=0, **kw)


def test_rp12_sdk_downloads_a_disk_restore_point_in_one_call(access, drp_id, image) -> None:
    url = access.grant(drp_id, 3600).url
    client = _client(url)
    props = client.get_blob_properties()
    assert (props.size, props.blob_type) == (len(image), "PageBlob")
    assert props.etag and props.last_modified is not None
    data = client.download_blob().readall()
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(image).hexdigest()


def test_rp12_sdk_downloads_in_ranged_chunks_concurrently(access, drp_id, image, caplog) -> None:
    caplog.set_level(logging.INFO, logger="core.access.server")
    url = access.grant(drp_id, 3600).url
    client = _client(url, max_single_get_size=256 * 1024, max_chunk_get_size=256 * 1024)
    data = client.download_blob(max_concurrency=4).readall()
    assert data == image
    ranged = [r for r in caplog.records if " 206 262144" in r.getMessage()]
    assert len(ranged) >= 8  # it really ranged, in 256 KiB requests
    # a range in the middle, as azcopy asks for it
    part = client.download_blob(offset=MiB + 3, length=70_000).readall()
    assert part == image[MiB + 3 : MiB + 3 + 70_000]


def test_rp12_sdk_refuses_a_tampered_token(access, drp_id) -> None:
    url = access.grant(drp_id, 3600).url
    sig = url.rsplit("sig=", 1)[1]
    tampered = url[: -len(sig)] + ("B" if sig[0] == "A" else "A") + sig[1:]
    with pytest.raises(HttpResponseError) as err:
        _client(tampered).download_blob().readall()
    assert err.value.status_code == 403
    assert err.value.error_code == "AuthenticationFailed"
    access.revoke(drp_id)  # RP-12: ending access refuses the real URL at once
    with pytest.raises(HttpResponseError) as err:
        _client(url).download_blob().readall()
    assert (err.value.status_code, err.value.error_code) == (403, "AuthenticationFailed")


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_rp12_sdk_downloads_over_https(fabric: Fabric, drp_id, image, tmp_path) -> None:
    cert, key = self_signed(tmp_path)
    server = make_server(fabric, "127.0.0.1", 0, tls=tls_context(cert, key))
    for access in _serve(server):
        url = access.grant(drp_id, 3600).url
        assert url.startswith("https://127.0.0.1:")
        client = _client(url, connection_verify=str(cert), max_single_get_size=MiB)
        assert client.download_blob(max_concurrency=2).readall() == image
        with pytest.raises(ssl.SSLError):  # a client that does not trust the certificate
            with socket.create_connection(server.server_address[:2], timeout=10) as raw:
                ssl.create_default_context().wrap_socket(raw, server_hostname="127.0.0.1")


def test_tls_files_that_do_not_load_are_a_clear_error(tmp_path) -> None:
    from core.errors import CoreError

    with pytest.raises(CoreError, match=r"cannot read .*missing\.pem: no such file"):
        tls_context(tmp_path / "missing.pem", None)
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(CoreError, match=r"cannot use certificate .*junk\.pem"):
        tls_context(tmp_path / "junk.pem", None)


# -- bounded request fields, over a raw socket ----------------------------------------------------


def _raw(access: Access, request: bytes) -> tuple[int, dict[str, str], bytes]:
    host, port = access.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
            head, sep, body = reply.partition(b"\r\n\r\n")
            if sep:
                lines = head.decode("latin-1").split("\r\n")
                headers = dict(line.split(": ", 1) for line in lines[1:])
                if len(body) >= int(headers.get("Content-Length", 0)):
                    return int(lines[0].split()[1]), headers, body
    raise AssertionError(f"no complete answer: {reply[:200]!r}")


def _get(path_query: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path_query} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\nConnection: close\r\n\r\n").encode()


def _error_code(answer: tuple[int, dict[str, str], bytes]) -> tuple[int, str]:
    status, headers, body = answer
    assert f"<Error><Code>{headers['x-ms-error-code']}</Code>".encode() in body
    return status, headers["x-ms-error-code"]


def test_issue8_oversized_and_malformed_fields_are_answered_never_a_traceback(
    access, drp_id, image, capfd, caplog
) -> None:
    """Issue 8.6: a 5,000-digit Range crashed the request thread; now every oversized or
    malformed field gets Azure's answer and the server keeps serving."""
    caplog.set_level(logging.DEBUG)
    url = access.grant(drp_id, 3600).url
    target = url.split("127.0.0.1", 1)[1].split("/", 1)[1]
    target = "/" + target
    huge = "9" * 5000
    answers = {
        "huge start": _raw(access, _get(target, {"Range": f"bytes={huge}-"})),
        "huge x-ms-range": _raw(access, _get(target, {"x-ms-range": f"bytes={huge}-"})),
        "huge suffix": _raw(access, _get(target, {"Range": f"bytes=-{huge}"})),
        "huge end": _raw(access, _get(target, {"x-ms-range": f"bytes=10-{huge}"})),
        "malformed x-ms-range": _raw(access, _get(target, {"x-ms-range": "bytes=ten-20"})),
        "long header": _raw(access, _get(target, {"X-Pad": "a" * 20_000})),
        "long url": _raw(access, _get(target + "&timeout=" + "1" * 20_000, {})),
    }
    assert _error_code(answers["huge start"]) == (416, "InvalidRange")
    assert answers["huge start"][1]["Content-Range"] == f"bytes */{len(image)}"
    assert _error_code(answers["huge x-ms-range"]) == (416, "InvalidRange")
    assert answers["huge suffix"][0] == 206 and answers["huge suffix"][2] == image
    assert answers["huge end"][0] == 206 and answers["huge end"][2] == image[10:]
    assert _error_code(answers["malformed x-ms-range"]) == (400, "InvalidHeaderValue")
    assert _error_code(answers["long header"]) == (400, "InvalidHeaderValue")
    assert _error_code(answers["long url"]) == (414, "InvalidUri")
    out, err = capfd.readouterr()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Traceback" not in out + err + logged
    assert _raw(access, _get(target, {"Range": "bytes=0-9"}))[2] == image[:10]  # still serving


def test_access_lines_name_method_path_status_bytes_and_never_the_token(
    access, drp_id, image, caplog
) -> None:
    """Issue 10.12: one access line per request; the token never appears in the log."""
    caplog.set_level(logging.DEBUG)
    url = access.grant(drp_id, 3600).url
    path, query = url.split("127.0.0.1", 1)[1].split("/", 1)[1].split("?", 1)
    _client(url, max_single_get_size=MiB, max_chunk_get_size=MiB).download_blob().readall()
    _raw(access, _get(f"/{path}?{query}", {"Range": "bytes=0-99"}))
    _raw(access, _get(f"/{path}?{query}x", {}))
    expected = (f"GET /{path} 206 100", f"GET /{path} 403 ", f"GET /{path} 206 {MiB}")
    deadline = time.monotonic() + 10  # a line is logged just after its answer is sent, by
    while time.monotonic() < deadline and not all(e in caplog.text for e in expected):
        time.sleep(0.01)  # the request's own thread: wait for all three
    lines = [r.getMessage() for r in caplog.records if r.name == "core.access.server"]
    assert f"127.0.0.1 GET /{path} 206 100" in lines
    assert f"127.0.0.1 GET /{path} 403 " in "\n".join(lines)
    assert any(line == f"127.0.0.1 GET /{path} 206 {MiB}" for line in lines)
    everything = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("core"))
    for secret in (query, query.rsplit("sig=", 1)[1], "sig=", "si="):
        assert secret not in everything


def test_server_names_its_version(access, drp_id) -> None:
    url = access.grant(drp_id, 3600).url
    props = _client(url).get_blob_properties()
    assert props.size > 0
    status, headers, _ = _raw(access, _get("/", {}))
    assert status == 403
    assert headers["Server"] == f"bcdr/{version('bcdr')}"
    assert headers["x-ms-version"] and headers["x-ms-request-id"]


def test_sdk_skips_the_zero_blocks_that_get_page_ranges_leaves_out(
    fabric: Fabric, disks: Disks, points: RestorePoints, access, tmp_path, caplog
) -> None:
    """Get Page Ranges answers the ranges holding data, so the SDK reads only those and
    fills the rest with zeros: a sparse disk downloads byte-identical in fewer requests."""
    caplog.set_level(logging.INFO, logger="core.access.server")
    data = os.urandom(MiB) + bytes(2 * MiB) + os.urandom(65536 + 512)
    disk = import_disk(disks, fabric, tmp_path, "sparse", data)
    rp = points.create(collection(points, fabric), "rp1", vm(fabric, disk))
    drp = rp.disk_restore_points[0]
    with points.open_disk_restore_point(drp.id) as reader:
        assert reader.written_ranges(0, len(data) - 1) == [
            (0, MiB - 1),
            (3 * MiB, len(data) - 1),
        ]
        assert reader.written_ranges(10, MiB + 5) == [(10, MiB - 1)]
    url = access.grant(drp.id, 3600).url
    chunk = 256 * 1024
    client = _client(url, max_single_get_size=chunk, max_chunk_get_size=chunk)
    assert client.download_blob(max_concurrency=4).readall() == data
    wanted = 1 + (MiB - chunk) // chunk + 1  # the first MiB and the tail; never the zeros

    def fetched() -> int:
        return sum(" 206 " in r.getMessage() for r in caplog.records)

    deadline = time.monotonic() + 5  # a line is logged just after its answer is sent
    while fetched() < wanted and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert fetched() == wanted
