"""``bcdr verify`` and ``bcdr gc`` on a damaged or interrupted block store (issues 8.3, 8.6,
10.11): what is damaged is named with the restore points it affects, a damaged index is
reported as such and rebuilt with ``-rebuild-index``, and gc says what it freed, by kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.disks import Disks
from core.fabric import Fabric
from core.restorepoints import RestorePoints
from tests.core.fixtures_snap import MiB, collection, image_bytes, import_disk, vm


@pytest.fixture
def home(tmp_path: Path) -> tuple[Path, str]:
    """A fabric with one restore point of a 2 MiB disk; returns (home, restore point id)."""
    home = tmp_path / "fabric"
    fabric = Fabric.open(home)
    disks = Disks(fabric)
    rps = RestorePoints(fabric, disks)
    try:
        d = import_disk(disks, fabric, tmp_path, "os", image_bytes(2 * MiB, 3))
        rp = rps.create(collection(rps, fabric), "rp1", vm(fabric, d))
    finally:
        rps.close()
        fabric.close()
    return home, rp.id


def _store(home: Path) -> Path:
    (store,) = home.glob("regions/eastus/*/store")
    return store


def test_damaged_index_is_named_and_rebuilt(bcdr, home) -> None:
    home_dir, rp_id = home
    index = _store(home_dir) / "index.db"
    with open(index, "r+b") as f:
        f.write(b"\0" * 100)
    result = bcdr("verify", "-home", str(home_dir), "-no-color")
    assert result.exit_code == 1, result.output
    assert "The block index is damaged" in result.output
    assert str(index) in result.output.replace("\n", "")
    assert rp_id in result.output.replace("\n", "")
    assert "internal error" not in result.output and "Traceback" not in result.output
    result = bcdr("gc", "-home", str(home_dir), "-no-color")
    assert result.exit_code == 1, result.output
    assert "rebuild-index" in result.output and str(index) in result.output.replace("\n", "")
    assert "internal error" not in result.output

    result = bcdr("verify", "-home", str(home_dir), "-no-color", "--rebuild-index")
    assert result.exit_code == 0, result.output
    assert "Rebuilt the block index of" in result.output
    assert "kept as index.db.before-rebuild" in result.output
    assert "No problems found." in result.output


def test_flipped_manifest_size_fails_verify_naming_the_restore_point(bcdr, home) -> None:
    home_dir, rp_id = home
    (manifest,) = (_store(home_dir) / "objects" / "manifests").iterdir()
    with open(manifest, "r+b") as f:
        f.seek(8 + 2)
        b = f.read(1)[0]
        f.seek(8 + 2)
        f.write(bytes([b ^ 0x80]))  # 2 MiB becomes 10 MiB
    result = bcdr("verify", "-home", str(home_dir), "-no-color")
    assert result.exit_code == 1, result.output
    out = result.output.replace("\n", "")
    assert "Stored data failed verification" in out
    assert f"manifest manifests/{manifest.name} is damaged (its checksum does not match)" in out
    assert rp_id in out


def test_gc_says_what_it_freed_by_kind(bcdr, home) -> None:
    home_dir, _ = home
    objects = _store(home_dir) / "objects"
    for i in range(3):
        (objects / "packs" / f".tmp-{i}").write_bytes(b"x" * 1024 * 1024)
    (objects / "packs" / f"{'a' * 32}.pack").write_bytes(b"y" * 2 * 1024 * 1024)
    result = bcdr("gc", "-home", str(home_dir), "-no-color")
    assert result.exit_code == 0, result.output
    said = [line for line in result.output.splitlines() if line.startswith(("Deleted", "Freed"))]
    assert said == [
        "Deleted 0 unreferenced blocks, freed 0 B.",
        "Deleted 3 temp files left by interrupted writes, freed 3.0 MiB.",
        "Deleted 1 packs and manifests that no restore point or index row names (written by "
        "interrupted runs), freed 2.0 MiB.",
        "Freed 5.0 MiB in all.",
    ]
    assert not list(objects.rglob(".tmp-*"))
