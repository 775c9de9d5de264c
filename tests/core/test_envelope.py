"""Envelope encryption of blocks (core/keystore/envelope.py, issue 4 "Disk encryption sets"): keyed
block ids, sealed payloads, data keys wrapped by a real key vault key as the DES's identity,
and a disabled or deleted key refused by name."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
import xxhash

from core.blocks import BlockStore
from core.disks import BLOCK_SIZE, Disks
from core.errors import CoreError, IntegrityError
from core.fabric import Fabric
from core.keystore import BlockKey, Envelopes, KeyStore, KeyUnavailable, des_principal, keyed_digest
from core.restorepoints import copy_restore_point
from tests.core import fixtures_snap
from tests.core.fixtures_snap import collection, import_disk, restored_bytes, vm

SUB = "00000000-0000-0000-0000-00000000000e"
VAULT = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kvenv"
KEY = VAULT + "/keys/kek"
KEY2 = VAULT + "/keys/kek2"
DES = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/diskEncryptionSets/des"
DES2 = DES + "2"


def _blocks(n: int, seed: int = 3) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(BLOCK_SIZE) for _ in range(n)]


@pytest.fixture
def ks(fabric: Fabric) -> KeyStore:
    ks = KeyStore(fabric)
    fabric.add_subscription(SUB)
    ks.vaults.create(VAULT, name="kvenv", region="eastus", subscription=SUB, purge_protection=True)
    ks.keys.create(KEY, "RSA", 2048)
    ks.keys.create(KEY2, "oct", 256)  # AES key wrap; KEY is RSA-OAEP
    ks.encryption_sets.create(DES, KEY, "eastus")
    ks.encryption_sets.create(DES2, KEY2, "eastus")
    return ks


def _disk(disks: Disks, name: str, des: str | None):
    return disks.create_empty(
        subscription=SUB,
        resource_group="rg",
        region="eastus",
        name=name,
        size_bytes=BLOCK_SIZE * 4,
        encryption_set_id=des,
    )


def test_block_ids_are_keyed_per_data_key() -> None:
    """Equal plaintext under two data keys gets two ids (no cross-key equality); one key
    gives one id (a disk's restore points dedupe); neither is the plain store id."""
    data = _blocks(1)[0]
    k1, k2 = BlockKey(os.urandom(32)), BlockKey(os.urandom(32))
    assert k1.digest(data) == k1.digest(bytearray(data)) == keyed_digest(data, k1.id_key)
    assert k1.digest(data) != k2.digest(data)
    assert len(k1.digest(data)) == 16
    assert k1.digest(data) != xxhash.xxh3_128_digest(data, seed=12345)
    assert k1.zero_digest() == k1.digest(bytes(BLOCK_SIZE)) != k2.zero_digest()


def test_sealed_payload_hides_the_block_and_detects_tampering() -> None:
    key, other = BlockKey(os.urandom(32), "disk a"), BlockKey(os.urandom(32))
    rand = _blocks(1)[0]
    text = (b"guest file system text " * 3000)[:BLOCK_SIZE]
    items = [(key.digest(rand), memoryview(rand)), (key.digest(text), memoryview(text))]
    sealed = key.seal_many(items)
    assert [raw for _, _, raw in sealed] == [1, 0]  # random is stored raw, text compressed
    for (d, payload, raw), plain in zip(sealed, [rand, text], strict=True):
        assert rand[100:164] not in payload and b"guest file system" not in payload
        assert key.open_payload(d, payload, raw, "p") == plain
        assert key.open_payload(d, memoryview(payload), raw, "p") == plain
        bad = bytearray(payload)
        bad[len(bad) // 2] ^= 1
        with pytest.raises(IntegrityError, match="corrupted"):
            key.open_payload(d, bytes(bad), raw, "p")
        with pytest.raises(IntegrityError, match=f"block {d.hex()} in pack p"):
            other.open_payload(d, payload, raw, "p")
    d0, p0, r0 = sealed[0]
    with pytest.raises(IntegrityError):  # the id is bound as associated data
        key.open_payload(sealed[1][0], p0, r0, "p")
    assert "data key" in repr(BlockKey(os.urandom(32)))


def test_sealed_blocks_through_a_real_block_store(tmp_path: Path) -> None:
    key = BlockKey(os.urandom(32))
    blocks = _blocks(6)
    ids = [key.digest(b) for b in blocks]
    with BlockStore.open_dir(tmp_path / "store", seed=99, pack_size=3 * BLOCK_SIZE) as store:
        with store.writer() as w:
            w.add_many(
                [(d, memoryview(b)) for d, b in zip(ids, blocks, strict=True)], key.seal_many
            )
        out = {tuple(t): data for t, data in store.read_tagged(enumerate(ids), key.open_payload)}
        assert [out[(i,)] for i in range(6)] == blocks
        assert store.get_block(ids[2], key.open_payload) == blocks[2]
        with pytest.raises(IntegrityError):  # the plain opener cannot read a sealed block
            store.get_block(ids[2])
        payloads = list(store.read_payloads(ids, key.open_payload))
        assert len(payloads) == 6
    for path in (tmp_path / "store").rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            assert not any(b[1000:1064] in raw for b in blocks), path


def test_a_disk_key_is_made_once_wrapped_and_never_stored_plain(
    fabric: Fabric, disks: Disks, ks: KeyStore
) -> None:
    env = Envelopes(fabric, ks)
    disk = _disk(disks, "d1", DES)
    wk, key = env.for_disk(disk)
    wk2, key2 = env.for_disk(disk)
    assert wk == wk2 and key.id_key == key2.id_key  # the disk's next captures dedupe
    assert (wk.des_id, wk.key_id, wk.key_version) == (DES, KEY, ks.keys.info(KEY).version)
    data_key = ks.keys.unwrap(KEY, wk.wrapped, des_principal(DES))
    assert len(data_key) == 32
    fabric.close()  # checkpoint: the bytes below are all there is
    files = list(Path(fabric.home).glob("fabric.db*"))
    assert files
    for f in files:
        assert data_key not in f.read_bytes(), f
        assert key.id_key not in f.read_bytes(), f


def test_two_disks_get_two_keys_and_a_new_des_a_new_key(
    fabric: Fabric, disks: Disks, ks: KeyStore
) -> None:
    env = Envelopes(fabric, ks)
    a, b = _disk(disks, "a", DES), _disk(disks, "b", DES)
    data = _blocks(1)[0]
    (_, ka), (_, kb) = env.for_disk(a), env.for_disk(b)
    assert ka.digest(data) != kb.digest(data)
    disks.set_flags(a.id, encryption_set_id=DES2)
    wk, kc = env.for_disk(disks.get(a.id))
    assert wk.des_id == DES2 and wk.key_id == KEY2
    assert kc.digest(data) != ka.digest(data)


def test_disk_without_des_needs_no_key_store(fabric: Fabric, disks: Disks) -> None:
    fabric.add_subscription(SUB)
    env = Envelopes(fabric)
    assert env.for_disk(_disk(disks, "plain", None)) is None
    assert env._keystore is None
    assert env.of("/no/such/drp") is None and env.key_for("/no/such/drp") is None


def test_missing_des_is_refused_by_name(fabric: Fabric, disks: Disks, ks: KeyStore) -> None:
    env = Envelopes(fabric, ks)
    with pytest.raises(CoreError, match="disk encryption set .*nodes.* does not exist"):
        env.for_disk(_disk(disks, "x", DES[: -len("des")] + "nodes"))


def test_disabled_then_enabled_key(fabric: Fabric, disks: Disks, ks: KeyStore) -> None:
    """Issue 4: a disabled key makes the blocks unreadable with an error naming the key;
    enabled again, they read again."""
    env = Envelopes(fabric, ks)
    disk = _disk(disks, "d", DES)
    wk, key = env.for_disk(disk)
    ks.keys.set_enabled(KEY, False)
    with pytest.raises(KeyUnavailable, match=r"key kek .*disabled") as err:
        env.unwrap(wk, "disk restore point X")
    assert "disk restore point X" in str(err.value) and KEY in str(err.value)
    with pytest.raises(KeyUnavailable, match="kek"):
        env.for_disk(disk)
    ks.keys.set_enabled(KEY, True)
    assert env.unwrap(wk, "x").id_key == key.id_key


def test_deleted_then_recovered_key_and_vault(fabric: Fabric, disks: Disks, ks: KeyStore) -> None:
    """Issue 4: a deleted key (or a key of a deleted vault) is named; recovered, it works."""
    env = Envelopes(fabric, ks)
    wk, key = env.for_disk(_disk(disks, "d", DES))
    ks.items.delete(KEY)
    with pytest.raises(KeyUnavailable, match=r"key kek .*deleted"):
        env.unwrap(wk, "x")
    ks.items.recover(KEY)
    assert env.unwrap(wk, "x").id_key == key.id_key
    ks.vaults.delete(VAULT)
    with pytest.raises(KeyUnavailable, match="kek"):
        env.unwrap(wk, "x")
    ks.vaults.recover(VAULT)
    assert env.unwrap(wk, "x").id_key == key.id_key


def test_key_unavailable_is_an_integrity_error_without_key_material(
    fabric: Fabric, disks: Disks, ks: KeyStore
) -> None:
    env = Envelopes(fabric, ks)
    wk, key = env.for_disk(_disk(disks, "d", DES))
    ks.keys.set_enabled(KEY, False)
    with pytest.raises(IntegrityError) as err:  # KeyUnavailable is an IntegrityError
        env.unwrap(wk, "x")
    assert key.id_key.hex() not in str(err.value)
    assert wk.wrapped.hex() not in str(err.value)


# -- restore points of encrypted disks (service, copy, verify) ---

rps = fixtures_snap.rps  # the fixture
DATA_SEED = 20261122


def _pattern_image(blocks: int = 12) -> bytes:
    """Incompressible but known bytes (random from a fixed seed), with zero blocks."""
    rng = random.Random(DATA_SEED)
    out = bytearray()
    for b in range(blocks):
        out += bytes(BLOCK_SIZE) if b % 4 == 3 else rng.randbytes(BLOCK_SIZE)
    return bytes(out)


def _needles(data: bytes) -> list[bytes]:
    """64-byte slices of every non-zero block of ``data``."""
    return [
        data[o + 4096 : o + 4160]
        for o in range(0, len(data), BLOCK_SIZE)
        if data[o : o + BLOCK_SIZE].count(0) != BLOCK_SIZE
    ]


def _hits(fabric: Fabric, needles: list[bytes], region: str = "eastus") -> int:
    """Occurrences of the needles in every file of the region's block store."""
    root = fabric.store_dir(region, fabric.default_subscription)
    found = 0
    for path in root.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            found += sum(n in raw for n in needles)
    return found


def _ids(rps, drp) -> set[bytes]:
    rp = rps.get(drp.restore_point_id)
    _, ids = rps.stores.get(rp.region, rp.subscription).get_manifest(drp.manifest)
    return {ids[i : i + 16] for i in range(0, len(ids), 16)} - {bytes(16)}


def test_des_blocks_unreadable_without_key_restore_identical_and_deduped(
    fabric: Fabric, disks: Disks, ks: KeyStore, rps, tmp_path: Path
) -> None:
    """Issue 4: data under a DES is unreadable in the store (no 64-byte slice of the known
    incompressible content in packs, manifests or index; the same disk without a DES is the
    control), restores byte-identical, and its second restore point dedupes."""
    data = _pattern_image()
    needles = _needles(data)
    enc = import_disk(disks, fabric, tmp_path, "enc", data, encryption_set_id=DES)
    cid = collection(rps, fabric)
    rp1 = rps.create(cid, "rp1", vm(fabric, enc))
    assert _hits(fabric, needles) == 0
    assert restored_bytes(rps, fabric, rp1.disk_restore_points[0].id, "back") == data
    drp1 = rp1.disk_restore_points[0]
    assert drp1.blocks_total == drp1.blocks_new == 9  # the 3 zero blocks stay unstored
    disks.write(enc.id, 5 * BLOCK_SIZE, b"changed" * 100)
    rp2 = rps.create(cid, "rp2", vm(fabric, enc))
    assert rp2.disk_restore_points[0].blocks_new == 1
    assert len(_ids(rps, rp2.disk_restore_points[0]) - _ids(rps, drp1)) == 1
    want = bytearray(data)
    want[5 * BLOCK_SIZE : 5 * BLOCK_SIZE + 700] = b"changed" * 100
    assert restored_bytes(rps, fabric, rp2.disk_restore_points[0].id, "back2") == want
    with rps.open_disk_restore_point(drp1.id) as reader:
        assert reader.read(BLOCK_SIZE - 10, 100) == data[BLOCK_SIZE - 10 : BLOCK_SIZE + 90]
    assert _hits(fabric, needles) == 0
    # control: the same bytes on a disk without a DES are found in the store
    plain = import_disk(disks, fabric, tmp_path, "plain", data)
    rps.create(collection(rps, fabric, "plainc"), "p1", vm(fabric, plain))
    assert _hits(fabric, needles) >= len(needles)


def test_identical_disks_under_different_keys_share_no_block_id(
    fabric: Fabric, disks: Disks, ks: KeyStore, rps, tmp_path: Path
) -> None:
    """Issue 4: block ids do not leak plaintext equality across keys (no cross-key dedup)."""
    data = _pattern_image(8)
    a = import_disk(disks, fabric, tmp_path, "a", data, encryption_set_id=DES)
    b = import_disk(disks, fabric, tmp_path, "b", data, encryption_set_id=DES2)
    c = import_disk(disks, fabric, tmp_path, "c", data)
    rp = rps.create(collection(rps, fabric), "rp", vm(fabric, a, [b, c]))
    ida, idb, idc = (_ids(rps, d) for d in rp.disk_restore_points)
    assert len(ida) == len(idb) == len(idc) == 6
    assert not (ida & idb) and not (ida & idc) and not (idb & idc)
    assert [d.blocks_new for d in rp.disk_restore_points] == [6, 6, 6]


def test_unusable_key_refuses_restore_read_copy_and_verify_by_name(
    fabric: Fabric, disks: Disks, ks: KeyStore, rps, tmp_path: Path
) -> None:
    """Issue 4: a disabled key makes restore points unrestorable with the key named (restore,
    reads, cross-region copy; verify says "cannot verify", not corrupt); enabled again, or
    recovered after a delete, they restore again."""
    data = _pattern_image(6)
    enc = import_disk(disks, fabric, tmp_path, "enc", data, encryption_set_id=DES)
    plain = import_disk(disks, fabric, tmp_path, "plain", data)
    rp = rps.create(collection(rps, fabric), "rp", vm(fabric, enc, [plain]))
    drp = rp.disk_restore_points[0]
    target = collection(rps, fabric, "dr", region="westus")
    for off, on in (
        (lambda: ks.keys.set_enabled(KEY, False), lambda: ks.keys.set_enabled(KEY, True)),
        (lambda: ks.items.delete(KEY), lambda: ks.items.recover(KEY)),
    ):
        off()
        with pytest.raises(KeyUnavailable, match=rf"key kek .*\({KEY}\)"):
            restored_bytes(rps, fabric, drp.id, "nope")
        with pytest.raises(KeyUnavailable, match="key kek"):
            rps.open_disk_restore_point(drp.id)
        with pytest.raises(KeyUnavailable, match="key kek"):
            copy_restore_point(fabric, rps, rp.id, target, "copy")
        assert restored_bytes(rps, fabric, rp.disk_restore_points[1].id, f"p{id(off)}") == data
        report = rps.maintenance.verify()
        assert [p.what for p in report.problems] == ["key"]
        text = str(report.problems[0])
        assert text.startswith("cannot verify 5 blocks: key kek") and drp.id in text
        assert "corrupt" not in text
        assert report.affected_restore_points() == [rp.id]
        on()
        assert restored_bytes(rps, fabric, drp.id, f"back{id(off)}") == data
        assert rps.maintenance.verify().ok
    copied = copy_restore_point(fabric, rps, rp.id, target, "copy").restore_point
    assert _hits(fabric, _needles(data), "westus") == len(_needles(data))  # the plain disk's
    env = rps.envelopes
    assert env.of(copied.disk_restore_points[0].id) == env.of(drp.id)
    assert env.of(copied.disk_restore_points[1].id) is None
    got = restored_bytes(rps, fabric, copied.disk_restore_points[0].id, "w", region="westus")
    assert got == data
    ks.keys.set_enabled(KEY, False)
    with pytest.raises(KeyUnavailable, match="key kek"):
        restored_bytes(rps, fabric, copied.disk_restore_points[0].id, "w2", region="westus")


def test_new_des_means_a_full_capture_and_old_points_still_restore(
    fabric: Fabric, disks: Disks, ks: KeyStore, rps, tmp_path: Path
) -> None:
    """A disk that moves to another DES (or gains one) is captured in full under its new
    key; its earlier restore points keep their own key records; deleting drops records."""
    data = _pattern_image(4)
    disk = import_disk(disks, fabric, tmp_path, "d", data)
    cid = collection(rps, fabric)
    rp0 = rps.create(cid, "rp0", vm(fabric, disk))
    disks.set_flags(disk.id, encryption_set_id=DES)
    rp1 = rps.create(cid, "rp1", vm(fabric, disks.get(disk.id)))
    disks.set_flags(disk.id, encryption_set_id=DES2)
    rp2 = rps.create(cid, "rp2", vm(fabric, disks.get(disk.id)))
    assert [r.disk_restore_points[0].blocks_new for r in (rp0, rp1, rp2)] == [3, 3, 3]
    keys = [rps.envelopes.of(r.disk_restore_points[0].id) for r in (rp0, rp1, rp2)]
    assert keys[0] is None and keys[1].des_id == DES and keys[2].des_id == DES2
    for r in (rp0, rp1, rp2):
        assert restored_bytes(rps, fabric, r.disk_restore_points[0].id, "r" + r.name) == data
    rps.delete(rp1.id)
    assert rps.envelopes.of(rp1.disk_restore_points[0].id) is None
    assert restored_bytes(rps, fabric, rp2.disk_restore_points[0].id, "again") == data


def test_verify_calls_a_damaged_sealed_block_corrupt_and_names_its_restore_point(
    fabric: Fabric, disks: Disks, ks: KeyStore, rps, tmp_path: Path
) -> None:
    data = _pattern_image(4)
    enc = import_disk(disks, fabric, tmp_path, "enc", data, encryption_set_id=DES)
    rp = rps.create(collection(rps, fabric), "rp", vm(fabric, enc))
    assert rps.maintenance.verify().blocks_checked == 3
    fixtures_snap.flip_byte_in_a_pack(fabric)
    report = rps.maintenance.verify()
    assert [(p.what, p.reason) for p in report.problems] == [("block", "corrupted")]
    assert report.affected_restore_points() == [rp.id]
    with pytest.raises(IntegrityError, match="corrupted"):
        restored_bytes(rps, fabric, rp.disk_restore_points[0].id, "bad")


def test_restore_points_survive_a_rotation_of_the_des_key(
    fabric: Fabric, disks: Disks, ks: KeyStore, rps, tmp_path: Path
) -> None:
    """Issue 4 (key versions): after the DES's key gets a new version, restore points whose
    data key the older version wrapped still restore and verify (the record's version is the
    one used), and the disk's next restore point still dedupes against them."""
    data = _pattern_image(4)
    disk = import_disk(disks, fabric, tmp_path, "d", data, encryption_set_id=DES)
    cid = collection(rps, fabric)
    rp1 = rps.create(cid, "rp1", vm(fabric, disk))
    wk = rps.envelopes.of(rp1.disk_restore_points[0].id)
    old = ks.keys.info(KEY).version
    assert wk.key_version == old
    assert ks.keys.rotate(KEY).version != old
    assert restored_bytes(rps, fabric, rp1.disk_restore_points[0].id, "after") == data
    assert rps.maintenance.verify().ok
    disks.write(disk.id, 0, b"new" * 10)
    rp2 = rps.create(cid, "rp2", vm(fabric, disks.get(disk.id)))
    assert rp2.disk_restore_points[0].blocks_new == 1
    assert rps.envelopes.of(rp2.disk_restore_points[0].id) == wk
    fresh, _ = rps.envelopes.for_disk(_disk(disks, "fresh", DES))  # new keys: the new version
    assert fresh.key_version == ks.keys.info(KEY).version != old
    ks.keys.set_enabled(KEY, False)  # the older version is usable only while the key is
    with pytest.raises(KeyUnavailable, match=rf"key kek \(version {old}\)"):
        restored_bytes(rps, fabric, rp1.disk_restore_points[0].id, "off")


def test_estimate_says_full_capture_when_the_disks_key_changes(
    fabric: Fabric, disks: Disks, ks: KeyStore, rps, tmp_path: Path
) -> None:
    """Issue 4: after a disk gains, changes or loses a disk encryption set its next capture is
    full, and the plan's estimate says so with the allocated bytes (not the small figure of
    changed-block tracking); a rotation of the set's key keeps tracking."""
    from core.restorepoints import CBT, REKEYED, snapshot_estimate

    disk = import_disk(disks, fabric, tmp_path, "d", _pattern_image(8))
    cid = collection(rps, fabric)
    sub = fabric.default_subscription

    def estimate():
        return snapshot_estimate(rps, disk.id, "eastus", sub)

    def full() -> tuple[int, str]:
        info = disks.file_info(disk.id)
        return min(info.allocated_bytes, disk.size_bytes), REKEYED

    rps.create(cid, "rp0", vm(fabric, disk))
    for n, des in enumerate((DES, DES2, "")):  # gains one, changes it, loses it
        disks.write(disk.id, 0, b"small change %d" % n)
        assert (estimate().bytes, estimate().how) == (BLOCK_SIZE, CBT)
        disks.set_flags(disk.id, encryption_set_id=des)
        got = estimate()
        assert (got.bytes, got.how) == full() and got.bytes >= 6 * BLOCK_SIZE
        rp = rps.create(cid, f"rp{n + 1}", vm(fabric, disks.get(disk.id)))
        assert rp.disk_restore_points[0].bytes_changed == 6 * BLOCK_SIZE  # full indeed
    disks.set_flags(disk.id, encryption_set_id=DES)
    rps.create(cid, "rp4", vm(fabric, disks.get(disk.id)))
    ks.keys.rotate(KEY)
    disks.write(disk.id, 0, b"after a rotation")
    assert (estimate().bytes, estimate().how) == (BLOCK_SIZE, CBT)
    rp5 = rps.create(cid, "rp5", vm(fabric, disks.get(disk.id)))
    assert rp5.disk_restore_points[0].bytes_changed == BLOCK_SIZE
