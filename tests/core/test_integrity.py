"""Every stored byte checked (issue 8.3, 8.6): a flip in a manifest (its size field, its
body), a pack (its footer, its body) or an index row is named by verify with the restore
points it affects, and restore refuses it before a disk appears; a lost or damaged index is
reported naming the file and rebuilt from the packs; gc never sweeps with a lost index and
removes what interrupted writes left."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import pytest
import zstandard

from core.blocks import ID_BYTES, IndexDamaged, nonzero_ids
from core.blocks.packs import _FOOTER_ENTRY, footer_of
from core.disks import BLOCK_SIZE
from core.errors import IntegrityError
from core.fabric import Fabric
from core.restorepoints import RestorePoints
from tests.core import fixtures_snap
from tests.core.fixtures_snap import restored_bytes

rps = fixtures_snap.rps  # the fixture


@pytest.fixture
def store(fabric, disks, rps, tmp_path):
    """rp1 (full) and rp2 (3 blocks rewritten) of one 4 MiB disk, with the original bytes."""
    _, data, rp1, rp2 = fixtures_snap.two_restore_points(fabric, disks, rps, tmp_path)
    rps.close()  # as a new process would find the store
    return data, rp1, rp2


def _store_dir(fabric: Fabric) -> Path:
    return fabric.store_dir("eastus", fabric.default_subscription)


def _flip(path: Path, offset: int, mask: int = 0x80) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([b ^ mask]))


def _big_pack(fabric: Fabric) -> Path:
    return max((_store_dir(fabric) / "objects" / "packs").iterdir(), key=lambda p: p.stat().st_size)


def _manifest(fabric: Fabric, rp) -> Path:
    return _store_dir(fabric) / "objects" / rp.disk_restore_points[0].manifest


def _first_block(rps: RestorePoints, rp) -> bytes:
    store = rps.stores.get(rp.region, rp.subscription)
    _, ids = store.get_manifest(rp.disk_restore_points[0].manifest)
    return bytes(next(nonzero_ids(ids))[1])


def _index_sql(fabric: Fabric, sql: str, *args) -> None:
    db = sqlite3.connect(_store_dir(fabric) / "index.db", isolation_level=None)
    db.execute(sql, args)
    db.close()


def _manifest_size_field(fabric, rps, rp1) -> str:
    _flip(_manifest(fabric, rp1), 8 + 2, 0x01)  # bit 16 of the size: a 4 MiB disk + 64 KiB
    return "manifest"


def _manifest_size_field_legacy(fabric, rps, rp1) -> str:
    """A format-1 manifest (no checksum): its size is checked against its block count."""
    path = _manifest(fabric, rp1)
    body = path.read_bytes()
    path.write_bytes(b"BCDRMAN1" + body[8:-8])
    _flip(path, 8 + 0, 0x01)  # 4 MiB + 1 byte: one more block than it holds
    return "manifest"


def _manifest_body(fabric, rps, rp1) -> str:
    path = _manifest(fabric, rp1)
    _flip(path, path.stat().st_size - 8 - 3)  # inside the compressed ids
    return "manifest"


def _pack_footer_entry(fabric, rps, rp1) -> str:
    pack = _big_pack(fabric)
    _flip(pack, pack.stat().st_size - 20 - _FOOTER_ENTRY.size + 2)  # the last entry's id
    return "pack"


def _pack_footer_trailer(fabric, rps, rp1) -> str:
    pack = _big_pack(fabric)
    _flip(pack, pack.stat().st_size - 12)  # the footer's checksum
    return "pack"


def _pack_body(fabric, rps, rp1) -> str:
    _flip(_big_pack(fabric), 10, 0x55)  # the first block's payload
    return "block"


def _index_row_offset(fabric, rps, rp1) -> str:
    d = _first_block(rps, rp1)
    _index_sql(fabric, "UPDATE blocks SET off = off + 1 WHERE id = ?", d)
    return "block"


def _index_row_raw(fabric, rps, rp1) -> str:
    d = _first_block(rps, rp1)
    _index_sql(fabric, "UPDATE blocks SET raw = 1 - raw WHERE id = ?", d)
    return "block"


def _index_row_pack(fabric, rps, rp1) -> str:
    d = _first_block(rps, rp1)
    _index_sql(fabric, "UPDATE blocks SET pack = 'packs/' || hex(randomblob(16)) WHERE id = ?", d)
    return "block"


@pytest.mark.parametrize(
    "damage",
    [
        _manifest_size_field,
        _manifest_size_field_legacy,
        _manifest_body,
        _pack_footer_entry,
        _pack_footer_trailer,
        _pack_body,
        _index_row_offset,
        _index_row_raw,
        _index_row_pack,
    ],
)
def test_a_flip_is_named_by_verify_and_refused_by_restore(fabric, rps, store, damage) -> None:
    data, rp1, rp2 = store
    what = damage(fabric, rps, rp1)
    rps.close()
    report = rps.maintenance.verify()
    assert what in {p.what for p in report.problems}, report.problems
    assert rp1.id in report.affected_restore_points()
    drp = rp1.disk_restore_points[0].id
    assert any(drp in str(p) for p in report.problems if p.what == what)
    rps.close()
    with pytest.raises(IntegrityError, match="manifest|pack|block"):
        restored_bytes(rps, fabric, drp, "r1")
    folder = fabric.disks_dir("eastus", fabric.default_subscription) / "rg"
    assert not [p.name for p in folder.iterdir() if p.name.startswith(("r1", ".r1"))]


def test_manifest_size_other_than_the_disk_restore_points_is_refused(fabric, rps, store) -> None:
    """Issue 8.3: a manifest that says another size than its disk restore point's row (here a
    well-formed one, for a disk one block larger) restores nothing."""
    data, rp1, _ = store
    drp = rp1.disk_restore_points[0]
    s = rps.stores.get(rp1.region, rp1.subscription)
    _, ids = s.get_manifest(drp.manifest)
    s.put_manifest(drp.manifest, drp.size_bytes + BLOCK_SIZE, bytes(ids) + bytes(ID_BYTES))
    with pytest.raises(IntegrityError, match=f"{drp.size_bytes + BLOCK_SIZE} bytes where"):
        restored_bytes(rps, fabric, drp.id, "r1")
    (problem,) = rps.maintenance.verify().problems
    assert (problem.what, problem.restore_point_ids) == ("manifest", [rp1.id])


def test_format_1_objects_are_read_and_counted(fabric, rps, store) -> None:
    """Manifests and packs written before checksums restore byte-identical; verify counts
    them and finds no problem."""
    data, rp1, _ = store
    path = _manifest(fabric, rp1)
    path.write_bytes(b"BCDRMAN1" + path.read_bytes()[8:-8])
    pack = _big_pack(fabric)
    raw = pack.read_bytes()
    entries = footer_of(raw).entries
    end = len(raw) - 20 - len(entries) * _FOOTER_ENTRY.size
    pack.write_bytes(
        raw[: end + len(entries) * _FOOTER_ENTRY.size]
        + struct.pack("<I8s", len(entries), b"BCDRPAK1")
    )
    _index_sql(
        fabric,
        "UPDATE packs SET size = ? WHERE name = ?",
        pack.stat().st_size,
        f"packs/{pack.name}",
    )
    report = rps.maintenance.verify()
    assert report.ok, report.problems
    assert report.legacy_objects == 2
    assert restored_bytes(rps, fabric, rp1.disk_restore_points[0].id, "r1") == data


def _rows(fabric: Fabric) -> list[tuple]:
    db = sqlite3.connect(_store_dir(fabric) / "index.db")
    try:
        return sorted(db.execute("SELECT * FROM blocks").fetchall()) + sorted(
            db.execute("SELECT * FROM packs").fetchall()
        )
    finally:
        db.close()


def _lose_index(fabric: Fabric) -> None:
    for name in ("index.db", "index.db-wal", "index.db-shm"):
        (_store_dir(fabric) / name).unlink(missing_ok=True)


def _garble_index(fabric: Fabric) -> None:
    path = _store_dir(fabric) / "index.db"
    with open(path, "r+b") as f:
        f.write(b"\xff" * 100)  # the SQLite header


@pytest.mark.parametrize("damage", [_lose_index, _garble_index])
def test_index_rebuilt_from_the_packs_restores_byte_identical(fabric, rps, store, damage) -> None:
    data, rp1, rp2 = store
    before = _rows(fabric)
    damage(fabric)
    report = rps.maintenance.verify(rebuild=True)
    assert report.ok, report.problems
    (rebuilt,) = report.rebuilt
    assert rebuilt.packs == len(list((_store_dir(fabric) / "objects" / "packs").iterdir()))
    assert rebuilt.damaged_packs == []
    assert _rows(fabric) == before
    for rp, name in ((rp1, "r1"), (rp2, "r2")):
        got = restored_bytes(rps, fabric, rp.disk_restore_points[0].id, name)
        assert len(got) == len(data)
    assert restored_bytes(rps, fabric, rp1.disk_restore_points[0].id, "r3") == data


def test_damaged_index_is_named_and_restore_refused(fabric, rps, store) -> None:
    """Issue 8.6: a damaged index.db is an ``IntegrityError`` naming the file and the way to
    rebuild it (not a bare sqlite3 error), and verify reports it against every restore point
    of the store; the old file is kept beside the rebuilt one."""
    _, rp1, rp2 = store
    _garble_index(fabric)
    index = _store_dir(fabric) / "index.db"
    with pytest.raises(IndexDamaged, match="rebuild-index") as refused:
        restored_bytes(rps, fabric, rp1.disk_restore_points[0].id, "r1")
    assert str(index) in str(refused.value)
    (problem,) = rps.maintenance.verify().problems
    assert (problem.what, problem.name) == ("index", str(index))
    assert problem.restore_point_ids == sorted([rp1.id, rp2.id])
    assert rps.maintenance.verify(rebuild=True).rebuilt[0].kept_as == "index.db.before-rebuild"
    assert (_store_dir(fabric) / "index.db.before-rebuild").read_bytes()[:100] == b"\xff" * 100


def test_rebuild_leaves_out_a_pack_whose_footer_is_damaged(fabric, rps, store) -> None:
    _, rp1, _ = store
    pack = _big_pack(fabric)
    _flip(pack, pack.stat().st_size - 12)
    _lose_index(fabric)
    report = rps.maintenance.verify(rebuild=True)
    ((name, why),) = report.rebuilt[0].damaged_packs
    assert name == f"packs/{pack.name}" and "checksum" in why
    assert rp1.id in report.affected_restore_points()


def test_gc_with_a_lost_index_deletes_nothing(fabric, rps, store) -> None:
    """Without this check a lost index made every pack look orphaned and gc deleted them."""
    data, rp1, _ = store
    packs = sorted((_store_dir(fabric) / "objects" / "packs").iterdir())
    _lose_index(fabric)
    with pytest.raises(IntegrityError, match="rebuild-index"):
        rps.maintenance.gc()
    assert sorted((_store_dir(fabric) / "objects" / "packs").iterdir()) == packs
    rps.close()
    rps.maintenance.verify(rebuild=True)
    assert restored_bytes(rps, fabric, rp1.disk_restore_points[0].id, "r1") == data


def test_gc_removes_leftovers_of_interrupted_writes_and_counts_them(fabric, rps, store) -> None:
    """Issue 8.6 and 10.11: temp files of killed writes and objects nothing names are deleted
    under the store lock, each counted on its own; live data is kept."""
    data, rp1, _ = store
    objects = _store_dir(fabric) / "objects"
    (objects / "packs" / ".tmp-0123").write_bytes(b"x" * 1000)
    (objects / "manifests" / ".tmp-4567").write_bytes(b"y" * 24)
    orphan = objects / "packs" / f"{'0' * 32}.pack"
    orphan.write_bytes(b"z" * 100)
    report = rps.maintenance.gc()
    assert (report.temp_files_deleted, report.temp_bytes_freed) == (2, 1024)
    assert (report.objects_deleted, report.object_bytes_freed) == (1, 100)
    assert (report.blocks_freed, report.block_bytes_freed) == (0, 0)
    assert report.bytes_freed == 1124
    assert not [p for p in objects.rglob(".tmp-*")] and not orphan.exists()
    assert rps.maintenance.verify().ok
    assert restored_bytes(rps, fabric, rp1.disk_restore_points[0].id, "r1") == data


def test_zstd_payload_of_a_manifest_is_checked_before_decompressing(fabric, rps, store) -> None:
    """The checksum covers the header, so a manifest whose size and block count were both
    changed consistently is still refused."""
    _, rp1, _ = store
    path = _manifest(fabric, rp1)
    body = bytearray(path.read_bytes())
    size, nblocks = struct.unpack_from("<QQ", body, 8)
    struct.pack_into("<QQ", body, 8, size + BLOCK_SIZE, nblocks + 1)
    ids = zstandard.ZstdDecompressor().decompress(bytes(body[24:-8]))
    path.write_bytes(
        bytes(body[:24]) + zstandard.ZstdCompressor().compress(ids + bytes(16)) + bytes(body[-8:])
    )
    with pytest.raises(IntegrityError, match="checksum"):
        restored_bytes(rps, fabric, rp1.disk_restore_points[0].id, "r1")


def test_a_damaged_pack_row_is_named_and_gc_keeps_the_pack(fabric, rps, store) -> None:
    """A flip in a ``packs`` row's name (found by the fault trials): verify names the index
    and the restore points using the pack; gc, which once took the pack for an orphan and
    deleted it, keeps it."""
    data, rp1, _ = store
    pack = f"packs/{_big_pack(fabric).name}"
    _index_sql(fabric, "UPDATE packs SET name = 'packs/x' || substr(name, 8) WHERE name = ?", pack)
    report = rps.maintenance.verify()
    assert {p.what for p in report.problems} == {"index"}
    assert any(
        f"rows of blocks in pack {pack} but no row for the pack" in p.reason
        for p in report.problems
    )
    assert rp1.id in report.affected_restore_points()
    rps.maintenance.gc()
    assert (_store_dir(fabric) / "objects" / pack).exists()
    assert restored_bytes(rps, fabric, rp1.disk_restore_points[0].id, "r1") == data


def test_a_schema_garbled_into_bytes_that_are_not_utf8_is_a_damaged_index(
    fabric, rps, store
) -> None:
    """Issue 8.3: a flipped byte in the schema text of index.db makes SQLite's own error
    message undecodable (Python raises UnicodeDecodeError, not sqlite3.DatabaseError); that
    is still a damaged index, named with the way to rebuild it, never a crash."""
    _, rp1, rp2 = store
    index = _store_dir(fabric) / "index.db"
    raw = index.read_bytes()
    start = raw.index(b"CREATE TABLE packs")
    at = raw.index(b"KEY", start) + 1
    _flip(index, at, mask=0xD1)  # "KEY" becomes "K\x94Y": not UTF-8, and a syntax error
    with pytest.raises(IndexDamaged, match="rebuild-index"):
        restored_bytes(rps, fabric, rp1.disk_restore_points[0].id, "r1")
    problems = rps.maintenance.verify().problems
    assert [(p.what, p.name) for p in problems] == [("index", str(index))]
    assert problems[0].restore_point_ids == sorted([rp1.id, rp2.id])
