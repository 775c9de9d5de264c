"""SAS access (rule RP-12): grants, authorization, and the HTTP endpoint over real sockets.

The HTTP-mechanics tests serve a small in-memory image through ``_StandIn``, which plays
the restore-point side; the end-to-end tests below it use real disks and restore points.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from core.access import Access, SasServer, make_server
from core.access.grants import blob_path
from core.errors import CoreError, Forbidden, NotFound
from core.fabric import Fabric

RP = (
    "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute"
    "/restorePointCollections/c/restorePoints/rp1"
)
DRP = RP + "/diskRestorePoints/os"
OTHER = RP + "/diskRestorePoints/data"
T0 = 1_900_000_000.0


@dataclass
class _Image:
    data: bytes
    reads: list[int] = field(default_factory=list)
    closed: int = 0

    @property
    def size_bytes(self) -> int:
        return len(self.data)

    def read(self, offset: int, length: int) -> bytes:
        self.reads.append(length)
        return self.data[offset : offset + length]

    def close(self) -> None:
        self.closed += 1

    def written_ranges(self, first: int, last: int) -> list[tuple[int, int]]:
        return [(first, last)]


@dataclass
class _Drp:
    id: str


@dataclass
class _RestorePoint:
    id: str
    disk_restore_points: list[_Drp]
    created_at: float = T0


class _StandIn:
    """Plays RestorePoints for the HTTP mechanics: two disk images under one restore point."""

    def __init__(self, images: dict[str, bytes]) -> None:
        self.images = {k: _Image(v) for k, v in images.items()}

    def get(self, restore_point_id: str) -> _RestorePoint:
        if restore_point_id != RP:
            raise NotFound(f"restore point {restore_point_id} does not exist")
        return _RestorePoint(RP, [_Drp(i) for i in self.images])

    def open_disk_restore_point(self, drp_id: str) -> _Image:
        if drp_id not in self.images:
            raise NotFound(f"disk restore point {drp_id} does not exist")
        return self.images[drp_id]


def refused(answer: tuple[int, dict[str, str], bytes], code: str = "AuthenticationFailed") -> bool:
    """A Blob-style refusal: the status of ``code``, its ``x-ms-error-code`` and XML body."""
    status, headers, body = answer
    statuses = {"AuthenticationFailed": 403, "BlobNotFound": 404, "InvalidRange": 416}
    return (
        status == statuses[code]
        and headers["x-ms-error-code"] == code
        and headers["Content-Type"] == "application/xml"
        and body.startswith(b'<?xml version="1.0" encoding="utf-8"?><Error><Code>')
        and f"<Code>{code}</Code>".encode() in body
        and int(headers["Content-Length"]) == len(body)
    )


def _split(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.path, parts.query


@pytest.fixture
def image() -> bytes:
    return os.urandom(3 * (1 << 20) + 12345)


@pytest.fixture
def access(fabric: Fabric, image: bytes) -> Access:
    return Access(fabric, _StandIn({DRP: image, OTHER: b"other disk"}))


def test_rp12_grant_url_has_sas_fields(access: Access) -> None:
    grant = access.grant(DRP, 3600, now=T0)
    assert _split(grant.url)[0] == blob_path(DRP)
    assert re.fullmatch(r"/disks/drp-[0-9a-f]{32}/os", blob_path(DRP))
    assert grant.url.startswith("http://127.0.0.1:8443/disks/drp-")
    query = dict(p.split("=", 1) for p in _split(grant.url)[1].split("&"))
    assert set(query) == {"sv", "sr", "sp", "st", "se", "si", "sig"}
    assert (query["sv"], query["sr"], query["sp"]) == ("2024-01-01", "b", "r")
    assert grant.expires_at == T0 + 3600
    assert access.authorize(*_split(grant.url), now=T0 + 1) == DRP


def test_rp12_grant_again_extends_and_returns_same_url(access: Access) -> None:
    first = access.grant(DRP, 100, now=T0)
    second = access.grant(DRP, 500, now=T0 + 50)
    assert second.url == first.url
    assert second.expires_at == T0 + 550
    # the original URL now works past its first expiry
    assert access.authorize(*_split(first.url), now=T0 + 400) == DRP
    with pytest.raises(Forbidden):
        access.authorize(*_split(first.url), now=T0 + 551)
    # a shorter grant does not cut an active one short
    assert access.grant(DRP, 10, now=T0 + 60).expires_at == T0 + 550


def test_rp12_expired_token_refused(access: Access) -> None:
    grant = access.grant(DRP, 60, now=T0)
    with pytest.raises(Forbidden):
        access.authorize(*_split(grant.url), now=T0 + 60)
    assert access.active_grant(DRP, now=T0 + 61) is None
    fresh = access.grant(DRP, 60, now=T0 + 100)
    assert fresh.url != grant.url


def test_rp12_revoke_ends_access_at_once(access: Access) -> None:
    grant = access.grant(DRP, 3600, now=T0)
    assert access.active_grant(DRP, now=T0 + 1) == grant
    access.revoke(DRP, now=T0 + 2)
    with pytest.raises(Forbidden):
        access.authorize(*_split(grant.url), now=T0 + 3)
    assert access.active_grant(DRP, now=T0 + 3) is None
    again = access.grant(DRP, 3600, now=T0 + 4)
    assert again.url != grant.url
    with pytest.raises(Forbidden):
        access.authorize(*_split(grant.url), now=T0 + 5)


def test_rp12_forged_and_missing_tokens_refused(access: Access) -> None:
    grant = access.grant(DRP, 3600, now=T0)
    path, query = _split(grant.url)
    sig = query.rsplit("sig=", 1)[1]
    flipped = sig[:-1] + ("A" if sig[-1] != "A" else "B")
    bad_queries = [
        "",
        query.replace(sig, flipped),
        query.replace("sig=" + sig, "sig="),
        query.replace("&sig=" + sig, ""),
        query.replace("sp=r", "sp=rw"),
        query + "&sig=" + sig,
        query.replace("se=", "se=2099"),
        "%ff%fe=1",
    ]
    for bad in bad_queries:
        with pytest.raises(Forbidden) as err:
            access.authorize(path, bad, now=T0 + 1)
        assert sig not in str(err.value)
    with pytest.raises(Forbidden):
        access.authorize("/elsewhere", query, now=T0 + 1)


def test_rp12_only_read_only_client_parameters_may_be_added(access: Access) -> None:
    """The SDKs add ``timeout`` and ask ``comp=pagelist`` of a page blob; anything else added
    to a token (another operation, an unknown field) is refused like a widened token."""
    path, query = _split(access.grant(DRP, 3600, now=T0).url)
    for fine in ("&timeout=30", "&comp=pagelist", "&comp=pagelist&timeout=5"):
        assert access.authorize(path, query + fine, now=T0 + 1) == DRP
    for bad in ("&comp=metadata", "&foo=1", "&timeout=x", "&srt=sco", "&timeout=1&timeout=2"):
        with pytest.raises(Forbidden):
            access.authorize(path, query + bad, now=T0 + 1)


def test_rp12_token_for_another_disk_refused(access: Access) -> None:
    grant = access.grant(DRP, 3600, now=T0)
    other = access.grant(OTHER, 3600, now=T0)
    path_other, _ = _split(other.url)
    _, query = _split(grant.url)
    with pytest.raises(Forbidden):
        access.authorize(path_other, query, now=T0 + 1)


def test_token_from_another_fabric_refused(access: Access, tmp_path, image: bytes) -> None:
    with Fabric.open(tmp_path / "elsewhere") as other_fabric:
        other = Access(other_fabric, _StandIn({DRP: image}))
        grant = other.grant(DRP, 3600, now=T0)
        with pytest.raises(Forbidden):
            access.authorize(*_split(grant.url), now=T0 + 1)


def test_grant_checks_its_arguments(access: Access) -> None:
    with pytest.raises(NotFound):
        access.grant(RP + "/diskRestorePoints/nope", 60)
    with pytest.raises(NotFound):
        access.grant("/subscriptions/x/resourceGroups/g/providers/P/t/n/diskRestorePoints/d", 60)
    with pytest.raises(CoreError, match="not a disk restore point id"):
        access.grant(RP, 60)
    with pytest.raises(CoreError, match="positive"):
        access.grant(DRP, 0)


# -- HTTP ------------------------------------------------------------------------------------


@pytest.fixture
def served(fabric: Fabric, access: Access) -> Iterator[tuple[SasServer, str]]:
    server = make_server(fabric, "127.0.0.1", 0, access=access)
    host, port = server.server_address[:2]
    access.base_url = f"http://{host}:{port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server, access.base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _get(url: str, headers: dict[str, str] | None = None, method: str = "GET"):
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, dict(err.headers), err.read()


def test_rp12_http_serves_whole_disk(served, access: Access, image: bytes) -> None:
    grant = access.grant(DRP, 3600)
    status, headers, body = _get(grant.url)
    assert status == 200
    assert headers["Content-Length"] == str(len(image))
    assert hashlib.sha256(body).digest() == hashlib.sha256(image).digest()
    # streamed in chunks, not read whole
    reads = access.restore_points.images[DRP].reads
    assert max(reads) <= 1 << 20 and len(reads) >= 4
    deadline = time.monotonic() + 5  # the server closes it just after the last byte
    while access.restore_points.images[DRP].closed == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert access.restore_points.images[DRP].closed == 1


def test_http_ranges(served, access: Access, image: bytes) -> None:
    url = access.grant(DRP, 3600).url
    status, headers, body = _get(url, {"Range": "bytes=10-19"})
    assert (status, body) == (206, image[10:20])
    assert headers["Content-Range"] == f"bytes 10-19/{len(image)}"
    assert headers["Content-Length"] == "10"
    status, _, body = _get(url, {"Range": "bytes=-5"})
    assert (status, body) == (206, image[-5:])
    status, _, body = _get(url, {"Range": f"bytes={len(image) - 3}-"})
    assert (status, body) == (206, image[-3:])
    status, _, body = _get(url, {"Range": f"bytes=5-{len(image) + 100}"})
    assert (status, body) == (206, image[5:])
    answer = _get(url, {"Range": f"bytes={len(image)}-"})
    assert refused(answer, "InvalidRange")
    assert answer[1]["Content-Range"] == f"bytes */{len(image)}"
    status, _, body = _get(url, {"Range": "lines=1-2"})
    assert status == 200 and len(body) == len(image)


def test_http_head(served, access: Access, image: bytes) -> None:
    url = access.grant(DRP, 3600).url
    status, headers, body = _get(url, method="HEAD")
    assert (status, body) == (200, b"")
    assert headers["Content-Length"] == str(len(image))


def test_rp12_http_refusals_are_one_authentication_failed(served, access: Access, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    grant = access.grant(DRP, 3600)
    path, query = _split(grant.url)
    base = served[1]
    sig = query.rsplit("sig=", 1)[1]
    other_path, _ = _split(access.grant(OTHER, 3600).url)
    forged = base + path + "?" + query.replace(sig, sig[::-1])
    missing = base + path
    elsewhere = base + other_path + "?" + query
    answers = [
        _get(url) for url in (forged, missing, elsewhere, base + "/", base + "/disks/?" + query)
    ]
    access.revoke(DRP)
    answers.append(_get(grant.url))
    for answer in answers:  # one answer for every refusal: nothing tells them apart
        assert refused(answer)
        assert set(answer[1]) == set(answers[0][1])
        assert len(answer[2]) == len(answers[0][2])
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "GET /disks/" in logged
    assert sig not in logged and "sig=" not in logged and "si=" not in logged


def test_http_404_only_after_authorization(served, fabric: Fabric, access: Access) -> None:
    gone = RP + "/diskRestorePoints/gone"
    access.restore_points.images[gone] = _Image(b"soon deleted")
    grant = access.grant(gone, 3600)
    del access.restore_points.images[gone]
    assert refused(_get(grant.url), "BlobNotFound")
    # a forged token for a missing disk restore point is still 403
    forged = grant.url.replace(grant.url.rsplit("sig=", 1)[1], "AAAA")
    assert refused(_get(forged))


def test_http_rejects_other_methods(served, access: Access) -> None:
    url = access.grant(DRP, 3600).url
    assert _get(url, method="PUT")[0] == 501


# -- end to end: real disk -> real restore point -> grant -> real HTTP ---------------------------


@pytest.fixture
def real(fabric: Fabric, disks, tmp_path) -> Iterator[tuple]:
    from core.restorepoints import RestorePoints, VmSource

    sub = fabric.default_subscription
    mib = 1 << 20
    os_image = tmp_path / "os.raw"
    os_image.write_bytes(os.urandom(mib) + bytes(2 * mib) + b"boot " * 100_000 + b"tail")
    data_image = tmp_path / "data.raw"
    data_image.write_bytes(b"data " * 50_000)
    common = {"subscription": sub, "resource_group": "rg", "region": "eastus"}
    os_disk = disks.import_image(**common, name="vm1-os", source=os_image)
    data_disk = disks.import_image(**common, name="vm1-data", source=data_image)
    rps = RestorePoints(fabric, disks)
    vm = VmSource(
        vm_id=f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/"
        "virtualMachines/vm1",
        name="vm1",
        region="eastus",
        subscription=sub,
        size="Standard_D2s_v5",
        os_type="linux",
        power_state="stopped",
        os_disk_id=os_disk.id,
        data_disk_ids=[data_disk.id],
    )
    coll = (
        f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute"
        "/restorePointCollections/c1"
    )
    rps.collections.create(coll, region="eastus", source_vm_id=vm.vm_id)
    rp = rps.create(coll, "rp1", vm, consistency_mode="CrashConsistent")
    by_disk = {d.disk_id: d.id for d in rp.disk_restore_points}
    server = make_server(fabric, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.access, by_disk[os_disk.id], by_disk[data_disk.id], os_image.read_bytes()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_rp12_end_to_end_sas_serves_a_real_restore_point(real) -> None:
    access, os_drp, data_drp, os_bytes = real
    grant = access.grant(os_drp, 3600)
    status, headers, body = _get(grant.url)
    assert status == 200 and headers["Content-Length"] == str(len(os_bytes))
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(os_bytes).hexdigest()
    status, _, body = _get(grant.url, {"Range": "bytes=1048570-1048585"})
    assert (status, body) == (206, os_bytes[1048570:1048586])
    # same URL on a second grant (RP-12)
    assert access.grant(os_drp, 7200).url == grant.url

    sig = grant.url.rsplit("sig=", 1)[1]
    tampered = grant.url[: -len(sig)] + ("B" if sig[0] == "A" else "A") + sig[1:]
    assert refused(_get(tampered))

    data_grant = access.grant(data_drp, 3600)
    path_data = urlsplit(data_grant.url).path
    query_os = urlsplit(grant.url).query
    base = access.base_url
    assert refused(_get(f"{base}{path_data}?{query_os}"))

    later = access.grant(os_drp, 60).expires_at + 1
    with pytest.raises(Forbidden):
        access.authorize(*_split(grant.url), now=later)

    access.revoke(os_drp)
    assert refused(_get(grant.url))
    assert _get(data_grant.url)[0] == 200


# -- an encrypted disk restore point whose key cannot be used -------------------------------------


def test_rp12_unusable_encryption_key_is_the_403_of_a_forged_token_logged_by_key_id(
    fabric: Fabric, disks, tmp_path, caplog
) -> None:
    """Issue 4 and RP-12: a valid token for a disk restore point whose disk encryption set's
    key is disabled or deleted gets the same 403 as any refusal; the log names the key
    id and why (never the token, never "damaged"); once the key is usable it serves again."""
    from core.keystore import KeyStore
    from core.restorepoints import RestorePoints
    from tests.core.fixtures_snap import collection, import_disk, vm

    caplog.set_level(logging.DEBUG)
    sub = fabric.default_subscription
    vault = f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kvsas"
    key = vault + "/keys/kek"
    des = f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/diskEncryptionSets/d"
    ks = KeyStore(fabric)
    ks.vaults.create(vault, name="kvsas", region="eastus", subscription=sub, purge_protection=True)
    ks.keys.create(key, "oct", 256)
    ks.encryption_sets.create(des, key, "eastus")
    data = os.urandom(3 * 65536)
    disk = import_disk(disks, fabric, tmp_path, "enc", data, encryption_set_id=des)
    rps = RestorePoints(fabric, disks)
    server = make_server(fabric, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        drp = rps.create(collection(rps, fabric), "rp1", vm(fabric, disk)).disk_restore_points[0]
        grant = server.access.grant(drp.id, 3600)
        sig = grant.url.rsplit("sig=", 1)[1]
        assert _get(grant.url)[::2] == (200, data)
        forged = _get(grant.url[: -len(sig)] + "A" + sig[1:])
        for off, on, state in (
            (
                lambda: ks.keys.set_enabled(key, False),
                lambda: ks.keys.set_enabled(key, True),
                "dis",
            ),
            (lambda: ks.items.delete(key), lambda: ks.items.recover(key), "deleted"),
        ):
            off()
            caplog.clear()
            answer = _get(grant.url)
            assert refused(answer)
            assert set(answer[1]) == set(forged[1])  # the same answer as a forged token
            assert len(answer[2]) == len(forged[2])
            logged = "\n".join(r.getMessage() for r in caplog.records)
            assert f"{drp.id} refused (403): its encryption key {key} cannot be used" in logged
            assert state in logged and "damaged" not in logged
            assert sig not in logged and "sig=" not in logged and "si=" not in logged
            on()
            assert _get(grant.url)[::2] == (200, data)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        server.access.restore_points.close()
        rps.close()


def test_rp12_grant_over_the_maximum_is_refused_by_the_core(access: Access) -> None:
    """The apply-time check is the plan's own function: a day and a second is refused."""
    from core.access import MAX_DURATION_SECONDS

    with pytest.raises(CoreError, match="from 1 to 86400"):
        access.grant(DRP, MAX_DURATION_SECONDS + 1)
    assert access.active_grant(DRP) is None
