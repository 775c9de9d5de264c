"""Every example validates and plans without errors; cross-region and exclude-disks apply.

Each example is copied to tmp_path (with images of 2 MiB where it imports some) and run with
the real CLI, as its README says.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.e2e import EXAMPLES, Work, demo

SPEC_DIRS = sorted(p.parent.name for p in EXAMPLES.glob("*/main.hcl"))
IMAGES = ("quickstart", "cross-region")


def _copy(name: str, tmp_path: Path) -> Work:
    work = Work(tmp_path / name)
    shutil.copytree(EXAMPLES / name, work.dir)
    if name in IMAGES:
        demo.prepare(tmp_path / "images-src", size_mib=2)
        shutil.copytree(tmp_path / "images-src" / "images", work.dir / "images")
    return work


def test_every_example_folder_is_covered() -> None:
    assert {"hello", "quickstart", "cross-region", "exclude-disks"} <= set(SPEC_DIRS)
    for name in SPEC_DIRS:
        assert (EXAMPLES / name / "README.md").is_file() or name == "hello", name


@pytest.mark.parametrize(
    "folder", sorted({p.parent.relative_to(EXAMPLES) for p in EXAMPLES.rglob("*.hcl")}), ids=str
)
def test_example_passes_fmt_check(folder: Path) -> None:
    # Every example is in the layout `bcdr fmt` writes, as `terraform fmt -check` would want.
    code, out = Work(EXAMPLES / folder).code("fmt", "-check")
    assert (code, out) == (0, ""), out


@pytest.mark.parametrize("name", SPEC_DIRS)
def test_example_validates_and_plans(name: str, tmp_path: Path) -> None:
    work = _copy(name, tmp_path)
    work.ok("init")
    assert "The configuration is valid." in work.ok("validate")
    code, out = work.code("plan", "-detailed-exitcode")
    assert code == 2, out
    assert "Error" not in out and "to add" in out


def test_cross_region_copies_and_restores_in_the_paired_region(tmp_path: Path) -> None:
    """RP-10: the copy lands in westus, the disk restored there equals the source image, and
    a later copy moves only the blocks westus does not hold."""
    work = _copy("cross-region", tmp_path)
    work.ok("init")
    work.apply()
    work.plan_is_clean()
    copied = work.output("copied_restore_point_id")
    shown = work.ok("platform", "show", copied)
    assert '"region": "westus"' in shown and '"copied_from": "/subscriptions/' in shown
    work.ok("platform", "disk", "export", work.output("restored_disk_id"), "--output", "r.img")
    assert (work.dir / "r.img").read_bytes() == (work.dir / "images" / "os.img").read_bytes()

    # a later copy moves only the blocks westus lacks: the one block the guest wrote
    (work.dir / "note.txt").write_bytes(b"written between the two copies\n" * 30)
    os_disk = "/".join(copied.split("/")[:3]) + "/resourceGroups/app-primary/providers/"
    work.ok(
        "platform",
        "disk",
        "write",
        os_disk + "Microsoft.Compute/disks/app-os",
        "--offset",
        "64K",
        "--input",
        "note.txt",
    )
    (work.dir / "later.hcl").write_text(LATER, encoding="utf-8")
    work.apply()
    copies = work.output("later_copy")
    assert [d["disk_id"].rsplit("/", 1)[-1] for d in copies] == ["app-os"]
    assert 0 < copies[0]["bytes_stored"] <= BLOCK, copies
    first = json.loads(work.ok("platform", "show", copied))["restore_point"]
    assert first["disk_restore_points"][0]["bytes_stored"] >= 2 * 1024 * 1024 - BLOCK


BLOCK = 64 * 1024
LATER = """
resource "restore_point" "later" {
  name          = "later"
  collection_id = restore_point_collection.primary.id
  depends_on    = [restore_point.daily]
}

resource "restore_point" "later_copy" {
  name                    = "later"
  collection_id           = restore_point_collection.dr.id
  source_restore_point_id = restore_point.later.id
  depends_on              = [restore_point.daily_copy]
}

output "later_copy" {
  value = restore_point.later_copy.disk_restore_points
}
"""


def test_exclude_disks_leaves_the_ultra_disk_out(tmp_path: Path) -> None:
    """RP-5/RP-6: with the exclusion the restore point holds two disks; without, a plan error."""
    work = _copy("exclude-disks", tmp_path)
    work.ok("init")
    work.apply()
    captured = [d.rsplit("/", 1)[-1] for d in work.output("captured_disk_ids")]
    assert captured == ["db-os", "db-data"]
    spec = work.dir / "main.hcl"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(
        "\n".join(line for line in text.splitlines() if "exclude_disk_ids" not in line),
        encoding="utf-8",
    )
    code, out = work.code("plan")
    assert code == 1 and "RP-6: disk db-scratch is an ultra disk" in out
    assert "main.hcl line" in out and "exclude_disk_ids" in out


def test_the_drift_workflow_runs_bcdr_drift_on_a_schedule_and_fails_on_drift() -> None:
    text = (EXAMPLES / "ci" / "drift.yml").read_text(encoding="utf-8")
    for needed in ("schedule:", "cron:", "workflow_dispatch:", "pip", "install", "bcdr drift"):
        assert needed in text, needed
    assert 'if [ "$code" -eq 2 ]' in text and 'exit "$code"' in text
    assert "\t" not in text  # YAML forbids tabs
