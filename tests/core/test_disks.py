"""Disks: create, import (sparse, atomic, refused when it cannot work), I/O, CBT, write holds."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.disks import BLOCK_SIZE, SKUS, Disk, Disks
from core.errors import AlreadyExists, CoreError, NotFound
from core.fabric import Fabric

MiB = 1 << 20
ROOT = Path(__file__).resolve().parents[2]


def _new(disks: Disks, name: str = "d1", size: int = 4 * MiB, **kw: object) -> Disk:
    return disks.create_empty(
        subscription=disks.fabric.default_subscription,
        resource_group="rg",
        region="eastus",
        name=name,
        size_bytes=size,
        **kw,
    )


def _import(disks: Disks, source: Path, name: str = "img", **kw: object) -> Disk:
    return disks.import_image(
        subscription=disks.fabric.default_subscription,
        resource_group="rg",
        region="eastus",
        name=name,
        source=source,
        **kw,
    )


def _image(path: Path) -> bytes:
    """Random, zero and text regions, with a partial last block."""
    data = os.urandom(MiB) + bytes(2 * MiB) + b"backup " * 150_000 + os.urandom(1000)
    path.write_bytes(data)
    return data


def _allocated(path: Path) -> int:
    return os.stat(path).st_blocks * 512


def test_create_empty_is_sparse_and_listed(disks: Disks) -> None:
    disk = _new(disks, size=64 * MiB, sku="Premium_LRS")
    assert disk.path.stat().st_size == 64 * MiB
    assert _allocated(disk.path) < MiB
    assert disk.id.endswith("/resourceGroups/rg/providers/Microsoft.Compute/disks/d1")
    assert disks.get(disk.id) == disk
    assert [d.id for d in disks.list()] == [disk.id]
    assert disks.read(disk.id, 0, 100) == bytes(100)


def test_kinds_are_recorded(disks: Disks) -> None:
    """RP-6 checks these elsewhere; the disk records them."""
    disk = _new(disks, sku="UltraSSD_LRS", shared=True, ephemeral=True, encryption_set_id="des")
    got = disks.get(disk.id)
    assert (got.sku, got.shared, got.ephemeral, got.encryption_set_id) == (
        "UltraSSD_LRS",
        True,
        True,
        "des",
    )
    assert "PremiumV2_LRS" in SKUS


def test_bad_arguments_are_named(disks: Disks) -> None:
    with pytest.raises(CoreError, match="sku 'Gold'"):
        _new(disks, sku="Gold")
    with pytest.raises(CoreError, match="'..'"):
        _new(disks, name="..")
    with pytest.raises(CoreError, match="a/b"):
        _new(disks, name="a/b")
    with pytest.raises(CoreError, match="positive"):
        _new(disks, size=0)
    with pytest.raises(CoreError, match="not an Azure region"):
        disks.create_empty(
            subscription=disks.fabric.default_subscription,
            resource_group="rg",
            region="mars",
            name="x",
            size_bytes=MiB,
        )
    assert disks.list() == []


def test_existing_disk_is_not_overwritten(disks: Disks) -> None:
    disk = _new(disks)
    disks.write(disk.id, 0, b"keep")
    with pytest.raises(AlreadyExists, match="d1"):
        _new(disks)
    assert disks.read(disk.id, 0, 4) == b"keep"


def test_disk_larger_than_free_space_refused(disks: Disks) -> None:
    with pytest.raises(CoreError, match="free"):
        _new(disks, size=1 << 60)
    assert disks.list() == []
    assert not any(p.is_file() for p in disks.fabric.home.rglob("*.img"))


def test_import_round_trip_is_byte_identical_and_sparse(disks: Disks, tmp_path: Path) -> None:
    data = _image(tmp_path / "src.raw")
    seen: list[tuple[int, int]] = []
    disk = _import(disks, tmp_path / "src.raw", progress=lambda d, n, t: seen.append((n, t)))
    assert disk.size_bytes == len(data)
    assert hashlib.sha256(disk.path.read_bytes()).digest() == hashlib.sha256(data).digest()
    # the 2 MiB of zeros take no space
    assert _allocated(disk.path) <= len(data) - 2 * MiB + BLOCK_SIZE
    assert seen[-1] == (len(data), len(data))
    assert [n for n, _ in seen] == sorted(n for n, _ in seen)


def test_import_of_sparse_source_skips_holes(disks: Disks, tmp_path: Path) -> None:
    src = tmp_path / "sparse.raw"
    with open(src, "wb") as f:
        f.truncate(256 * MiB)
        f.seek(100 * MiB + 5)
        f.write(b"needle")
    disk = _import(disks, src, size_bytes=300 * MiB)
    assert disk.size_bytes == 300 * MiB
    assert disks.read(disk.id, 100 * MiB, 16) == bytes(5) + b"needle" + bytes(5)
    assert disks.read(disk.id, 299 * MiB, 10) == bytes(10)
    assert _allocated(disk.path) <= 2 * BLOCK_SIZE


def test_import_refuses_smaller_size(disks: Disks, tmp_path: Path) -> None:
    data = _image(tmp_path / "src.raw")
    with pytest.raises(CoreError, match="at least"):
        _import(disks, tmp_path / "src.raw", size_bytes=len(data) - 1)


def test_missing_image_is_named(disks: Disks, tmp_path: Path) -> None:
    with pytest.raises(CoreError, match=r"nope\.raw does not exist: check the path"):
        _import(disks, tmp_path / "nope.raw")
    with pytest.raises(CoreError, match="not a regular file"):
        _import(disks, tmp_path)
    (tmp_path / "empty.raw").touch()
    with pytest.raises(CoreError, match="empty"):
        _import(disks, tmp_path / "empty.raw")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_image_is_named(disks: Disks, tmp_path: Path) -> None:
    src = tmp_path / "locked.raw"
    src.write_bytes(b"x" * 10)
    src.chmod(0)
    with pytest.raises(CoreError, match="locked.raw cannot be read"):
        _import(disks, src)


def test_failed_fill_leaves_nothing_visible(disks: Disks) -> None:
    def fill(fd: int) -> None:
        os.pwrite(fd, b"half", 0)
        raise OSError("disk pulled")

    with pytest.raises(OSError):
        disks.create_with(
            subscription=disks.fabric.default_subscription,
            resource_group="rg",
            region="eastus",
            name="half",
            size_bytes=MiB,
            fill=fill,
        )
    folder = disks.fabric.disks_dir("eastus", disks.fabric.default_subscription) / "rg"
    assert list(folder.iterdir()) == []
    assert disks.list() == []


def test_write_read_and_bounds(disks: Disks) -> None:
    disk = _new(disks, size=MiB)
    disks.write(disk.id, MiB - 3, b"end")
    assert disks.read(disk.id, MiB - 5, 5) == b"\0\0end"
    with pytest.raises(CoreError, match="outside the disk"):
        disks.write(disk.id, MiB - 2, b"end")
    with pytest.raises(CoreError, match="outside the disk"):
        disks.read(disk.id, -1, 2)


def test_delete_removes_everything(disks: Disks) -> None:
    disk = _new(disks)
    disks.reset_changed_blocks(disk.id)
    disks.write(disk.id, 0, b"x")
    disks.delete(disk.id)
    with pytest.raises(NotFound, match="does not exist"):
        disks.get(disk.id)
    assert list(disk.path.parent.iterdir()) == []
    with pytest.raises(NotFound):
        disks.write(disk.id, 0, b"x")


def test_cbt_unusable_until_first_reset(disks: Disks) -> None:
    disk = _new(disks)
    assert disks.changed_blocks(disk.id) is None
    disks.write(disk.id, 0, b"x")
    assert disks.changed_blocks(disk.id) is None
    disks.reset_changed_blocks(disk.id)
    empty = disks.changed_blocks(disk.id)
    assert empty is not None and empty.blocks == [] and empty.bytes == 0


def test_cbt_marks_touched_blocks(disks: Disks) -> None:
    disk = _new(disks, size=4 * MiB - 100)
    disks.reset_changed_blocks(disk.id)
    disks.write(disk.id, BLOCK_SIZE - 1, b"ab")  # straddles blocks 0 and 1
    disks.write(disk.id, 10 * BLOCK_SIZE, b"c" * (2 * BLOCK_SIZE))  # blocks 10, 11
    disks.write(disk.id, 4 * MiB - 101, b"z")  # the partial last block
    changes = disks.changed_blocks(disk.id)
    assert changes is not None
    last = (4 * MiB - 101) // BLOCK_SIZE
    assert changes.blocks == [0, 1, 10, 11, last]
    assert changes.bytes == 4 * BLOCK_SIZE + (BLOCK_SIZE - 100)
    disks.reset_changed_blocks(disk.id)
    after = disks.changed_blocks(disk.id)
    assert after is not None and after.blocks == []


def test_cbt_survives_restart(tmp_path: Path) -> None:
    with Fabric.open(tmp_path / "f") as fabric:
        disks = Disks(fabric)
        disk = _new(disks)
        disks.reset_changed_blocks(disk.id)
        disks.write(disk.id, 3 * BLOCK_SIZE, b"x")
    with Fabric.open(tmp_path / "f") as fabric:
        changes = Disks(fabric).changed_blocks(disk.id)
        assert changes is not None and changes.blocks == [3]


def test_write_outside_core_disables_cbt_until_reset(disks: Disks) -> None:
    disk = _new(disks)
    disks.reset_changed_blocks(disk.id)
    disks.write(disk.id, 0, b"x")
    time.sleep(0.01)  # let the file's mtime move on
    with open(disk.path, "r+b") as f:
        f.seek(5 * BLOCK_SIZE)
        f.write(b"sneaky")
    assert disks.changed_blocks(disk.id) is None
    # a later core write must not hide the outside write
    disks.write(disk.id, 0, b"y")
    assert disks.changed_blocks(disk.id) is None
    disks.reset_changed_blocks(disk.id)
    assert disks.changed_blocks(disk.id) is not None


def test_hold_writes_blocks_other_threads(disks: Disks) -> None:
    a, b = _new(disks, "a"), _new(disks, "b")
    finished = threading.Event()

    def writer() -> None:
        disks.write(b.id, 0, b"late")
        finished.set()

    with disks.hold_writes([a.id, b.id]):
        disks.write(a.id, 0, b"own")  # the holder itself may write
        thread = threading.Thread(target=writer)
        thread.start()
        assert not finished.wait(0.3)
        assert disks.read(b.id, 0, 4) == bytes(4)
    thread.join(5)
    assert finished.is_set()
    assert disks.read(b.id, 0, 4) == b"late"


def test_hold_writes_blocks_other_processes(disks: Disks) -> None:
    disk = _new(disks)
    script = (
        "import sys; from pathlib import Path\n"
        "from core.fabric import Fabric\nfrom core.disks import Disks\n"
        "with Fabric.open(Path(sys.argv[1])) as f:\n"
        "    Disks(f).write(sys.argv[2], 0, b'other')\n"
    )
    with disks.hold_writes([disk.id]):
        proc = subprocess.Popen(
            [sys.executable, "-c", script, str(disks.fabric.home), disk.id], cwd=ROOT
        )
        time.sleep(0.8)
        assert proc.poll() is None, "the other process wrote while writes were held"
        assert disks.read(disk.id, 0, 5) == bytes(5)
    assert proc.wait(20) == 0
    assert disks.read(disk.id, 0, 5) == b"other"


def test_import_larger_than_free_space_refused(disks: Disks, tmp_path: Path) -> None:
    _image(tmp_path / "src.raw")
    with pytest.raises(CoreError, match="free some space"):
        _import(disks, tmp_path / "src.raw", size_bytes=1 << 60)
    assert disks.list() == []


def test_random_writes_match_a_model_and_cbt(disks: Disks) -> None:
    rng = random.Random(7)
    size = 2 * MiB + 777
    disk = _new(disks, size=size)
    disks.reset_changed_blocks(disk.id)
    model = bytearray(size)
    touched: set[int] = set()
    for _ in range(40):
        length = rng.choice([1, 100, BLOCK_SIZE, 3 * BLOCK_SIZE + 5])
        offset = rng.randrange(0, size - length)
        data = rng.randbytes(length)
        disks.write(disk.id, offset, data)
        model[offset : offset + length] = data
        touched.update(range(offset // BLOCK_SIZE, (offset + length - 1) // BLOCK_SIZE + 1))
    assert disks.read(disk.id, 0, size) == bytes(model)
    changes = disks.changed_blocks(disk.id)
    assert changes is not None and changes.blocks == sorted(touched)


def test_a_fabric_home_can_be_moved(tmp_path: Path) -> None:
    with Fabric.open(tmp_path / "old") as fabric:
        disks = Disks(fabric)
        disk = _new(disks)
        disks.write(disk.id, 0, b"moved")
    (tmp_path / "old").rename(tmp_path / "new")
    with Fabric.open(tmp_path / "new") as fabric:
        disks = Disks(fabric)
        assert disks.get(disk.id).path.is_relative_to(tmp_path / "new")
        assert disks.read(disk.id, 0, 5) == b"moved"


def test_file_info_reports_allocation_and_guest_writes(disks: Disks) -> None:
    disk = _new(disks, size=8 * MiB)
    info = disks.file_info(disk.id)
    assert info.size_bytes == 8 * MiB
    assert info.allocated_bytes < MiB
    time.sleep(0.01)
    disks.write(disk.id, 0, os.urandom(2 * BLOCK_SIZE))
    after = disks.file_info(disk.id)
    assert after.modified_ns > info.modified_ns
    assert after.allocated_bytes >= 2 * BLOCK_SIZE
    disk.path.unlink()
    with pytest.raises(NotFound, match="is gone"):
        disks.file_info(disk.id)


def test_set_flags_changes_only_what_is_given(disks: Disks) -> None:
    disk = _new(disks, sku="Premium_LRS")
    changed = disks.set_flags(disk.id, shared=True, ephemeral=True, encryption_set_id="des")
    assert (changed.sku, changed.shared, changed.ephemeral) == ("Premium_LRS", True, True)
    assert changed.encryption_set_id == "des"
    assert disks.set_flags(disk.id, sku="UltraSSD_LRS", shared=False).sku == "UltraSSD_LRS"
    assert disks.get(disk.id).shared is False
    with pytest.raises(CoreError, match="is not one of"):
        disks.set_flags(disk.id, sku="Fast")


def test_grow_keeps_bytes_and_ends_change_tracking(disks: Disks) -> None:
    disk = _new(disks, size=MiB)
    disks.write(disk.id, 0, b"keep")
    disks.reset_changed_blocks(disk.id)
    grown = disks.grow(disk.id, 3 * MiB)
    assert grown.size_bytes == 3 * MiB == disk.path.stat().st_size
    assert disks.read(disk.id, 0, 4) == b"keep"
    assert disks.read(disk.id, 2 * MiB, 4) == bytes(4)
    assert disks.changed_blocks(disk.id) is None  # the bitmap no longer fits the disk
    disks.write(disk.id, 3 * MiB - 1, b"z")
    with pytest.raises(CoreError, match="cannot shrink"):
        disks.grow(disk.id, MiB)


def test_delete_drops_the_disks_data_key_row(disks: Disks) -> None:
    """Issue 4: deleting a disk under a disk encryption set drops its row in ``envelope_keys``
    in the same transaction; other disks keep theirs, and a disk made again under the same id
    gets a new data key. A fabric that never encrypted has no such table and deletes too."""
    from core.keystore import Envelopes, KeyStore

    fabric = disks.fabric
    plain = _new(disks, "plain")
    disks.delete(plain.id)  # no envelope_keys table yet
    sub = fabric.default_subscription
    vault = f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kvd"
    des = f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/diskEncryptionSets/s"
    ks = KeyStore(fabric)
    ks.vaults.create(vault, name="kvd", region="eastus", subscription=sub, purge_protection=True)
    ks.keys.create(vault + "/keys/k", "oct", 256)
    ks.encryption_sets.create(des, vault + "/keys/k", "eastus")
    env = Envelopes(fabric, ks)
    a, b = _new(disks, "a", encryption_set_id=des), _new(disks, "b", encryption_set_id=des)
    old, _ = env.for_disk(a)
    env.for_disk(b)

    def keyed() -> list[str]:
        rows = fabric.db().execute("SELECT disk_id FROM envelope_keys ORDER BY disk_id")
        return [r[0] for r in rows.fetchall()]

    assert keyed() == sorted([a.id, b.id])
    disks.delete(a.id)
    assert keyed() == [b.id]
    again = _new(disks, "a", encryption_set_id=des)
    assert again.id == a.id
    new, _ = env.for_disk(again)
    assert new.wrapped != old.wrapped
