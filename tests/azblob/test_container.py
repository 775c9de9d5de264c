"""azblob.Container against a real Azurite: errors name account, container and blob; leases
refuse other holders; credentials come from the environment and never show."""

from __future__ import annotations

import socket

import pytest

from azblob import (
    BlobAccessDenied,
    BlobError,
    BlobExists,
    BlobNotFound,
    BlobUnreachable,
    Container,
    Credential,
    LeaseConflict,
    credential_from_env,
)
from tests.azurite import ACCOUNT, KEY


@pytest.fixture
def box(azurite, container_name) -> Container:
    c = Container(azurite.endpoint, container_name, Credential(ACCOUNT, KEY))
    assert c.create() is True
    return c


def test_put_get_ranged_and_list(box) -> None:
    box.put("a/x", b"0123456789", metadata={"k": "v"})
    box.put("a/y", b"yy")
    box.put("b", b"b")
    assert box.get("a/x") == b"0123456789"
    assert box.get("a/x", 3, 4) == b"3456"
    assert box.get("a/x", 8) == b"89"
    assert box.get("a/x", 20) == b""
    assert [i.name for i in box.list("a/")] == ["a/x", "a/y"]
    info = box.info("a/x")
    assert (info.size, info.metadata) == (10, {"k": "v"})


def test_missing_blob_and_container_are_named(box, azurite) -> None:
    with pytest.raises(BlobNotFound) as err:
        box.get("nope")
    assert "'nope'" in str(err.value) and box.name in str(err.value)
    assert ACCOUNT in str(err.value)
    gone = Container(azurite.endpoint, box.name + "x", Credential(ACCOUNT, KEY))
    with pytest.raises(BlobNotFound, match="No container"):
        list(gone.list())


def test_create_only_refuses_an_existing_blob(box) -> None:
    box.put("once", b"1", create_only=True)
    with pytest.raises(BlobExists, match="once"):
        box.put("once", b"2", create_only=True)
    assert box.get("once") == b"1"


def test_if_match_refuses_a_blob_changed_meanwhile(box) -> None:
    etag = box.put("s", b"1")
    box.put("s", b"2")
    with pytest.raises(BlobExists):
        box.put("s", b"3", if_match=etag)
    assert box.get("s") == b"2"


def test_a_lease_refuses_other_writers_and_holders(box) -> None:
    box.put("state", b"v1")
    lease = box.acquire_lease("state", 15)
    with pytest.raises(LeaseConflict, match="state"):
        box.acquire_lease("state", 15)
    with pytest.raises(LeaseConflict):
        box.put("state", b"intruder")
    box.put("state", b"v2", lease=lease)
    box.renew_lease("state", lease)
    assert box.info("state").leased
    box.break_lease("state")
    with pytest.raises(LeaseConflict):
        box.put("state", b"v3", lease=lease)  # a broken lease stops its holder's writes
    assert box.get("state") == b"v2"


def test_wrong_key_is_access_denied_and_the_key_never_shows(azurite, box) -> None:
    bad = "A" * 86 + "=="
    c = Container(azurite.endpoint, box.name, Credential(ACCOUNT, bad))
    with pytest.raises(BlobAccessDenied) as err:
        c.get("x")
    assert bad not in str(err.value) and bad not in repr(c.credential)


def test_unreachable_endpoint_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    c = Container(f"http://127.0.0.1:{port}/{ACCOUNT}", "c", Credential(ACCOUNT, KEY))
    with pytest.raises(BlobUnreachable, match=f"127.0.0.1:{port}"):
        c.get("x")


def test_credential_from_env_reads_what_azure_tools_read() -> None:
    ep = "http://127.0.0.1:10000/devstoreaccount1"
    cs = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={KEY};"
    assert credential_from_env(ep, {"AZURE_STORAGE_CONNECTION_STRING": cs}).key == KEY
    pair = credential_from_env(ep, {"AZURE_STORAGE_ACCOUNT": "acct", "AZURE_STORAGE_KEY": "k"})
    assert (pair.account, pair.key) == ("acct", "k")
    arm = credential_from_env("https://prodacct.blob.core.windows.net", {"ARM_ACCESS_KEY": "k"})
    assert (arm.account, arm.source) == ("prodacct", "ARM_ACCESS_KEY")
    with pytest.raises(BlobError, match="AZURE_STORAGE_CONNECTION_STRING"):
        credential_from_env(ep, {})
