"""The local blob service passes the blob conformance suite, plus what only folders show:
leases seen across processes, the files' place in the fabric, a put killed before its
rename."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.blobs import LeaseConflict, LocalBlobService, StorageAccounts, open_blob_service
from core.errors import AlreadyExists, NotFound
from core.fabric import Fabric
from tests.core.blob_conformance import BlobConformance


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class TestLocalBlobs(BlobConformance):
    @pytest.fixture
    def clock(self) -> Clock:
        return Clock()

    @pytest.fixture
    def service(self, tmp_path, clock) -> LocalBlobService:
        return LocalBlobService(lambda account: tmp_path / "accounts" / account, clock)

    @pytest.fixture
    def account(self, service) -> str:
        service.create_account("acct1")
        return "acct1"

    @pytest.fixture
    def advance(self, clock):
        def advance(seconds: float) -> None:
            clock.now += seconds

        return advance


def _service(root: Path) -> LocalBlobService:
    return LocalBlobService(lambda account: root / account)


def test_a_lease_taken_in_another_process_refuses_this_one(tmp_path) -> None:
    service = _service(tmp_path)
    service.create_account("acct1")
    box = service.container("acct1", "box")
    box.create()
    box.put("state", b"1")
    code = (
        "import sys; from pathlib import Path; from core.blobs import LocalBlobService;"
        "s = LocalBlobService(lambda a: Path(sys.argv[1]) / a);"
        "print(s.container('acct1', 'box').acquire_lease('state', 60))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    lease = done.stdout.strip()
    with pytest.raises(LeaseConflict, match="blob 'state'"):
        box.put("state", b"2")
    box.put("state", b"2", lease=lease)
    assert box.get("state") == b"2"


def test_a_blob_beside_blobs_under_its_name_is_refused_naming_both(tmp_path) -> None:
    service = _service(tmp_path)
    service.create_account("acct1")
    box = service.container("acct1", "box")
    box.create()
    box.put("a/b", b"1")
    with pytest.raises(AlreadyExists, match="'a/'"):
        box.put("a", b"2")
    box.put("c", b"1")
    with pytest.raises(AlreadyExists, match="c is a blob"):
        box.put("c/d", b"2")
    assert [i.name for i in box.list()] == ["a/b", "c"]


def test_a_put_killed_before_its_rename_leaves_the_old_blob(tmp_path) -> None:
    service = _service(tmp_path)
    service.create_account("acct1")
    box = service.container("acct1", "box")
    box.create()
    box.put("x", b"old")
    (box.folder / ".tmp-deadbeef").write_bytes(b"half a blob")
    assert (box.get("x"), [i.name for i in box.list()]) == (b"old", ["x"])


def test_accounts_live_in_their_regions_folder_and_names_are_unique(tmp_path) -> None:
    with Fabric.open(tmp_path / "fabric") as fabric:
        sub = fabric.default_subscription
        accounts = StorageAccounts(fabric)
        rid = f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts"
        made = accounts.create(f"{rid}/backups1", "backups1", "East US", sub)
        assert (made.region, made.kind, made.tier, made.endpoint) == (
            "eastus",
            "StorageV2",
            "Standard",
            None,
        )
        box = accounts.container(made.id, "box")
        box.create()
        box.put("v/1", b"bytes")
        folder = tmp_path / "fabric" / "regions" / "eastus" / sub / "blobs" / "backups1" / "box"
        assert (folder / "v" / "1").is_file()
        with pytest.raises(AlreadyExists, match=f"{rid}/backups1 holds it"):
            accounts.create(
                f"/subscriptions/{sub}/resourceGroups/other/providers/"
                "Microsoft.Storage/storageAccounts/BACKUPS1",
                "backups1",
                "westus",
                sub,
            )
        assert accounts.usage(made.id) == {"box": 1}
        assert accounts.delete(made.id) == 1
        assert not folder.exists() and accounts.find(made.id) is None
        with pytest.raises(NotFound, match="backups1"):
            open_blob_service(fabric).container("backups1", "box").create()
