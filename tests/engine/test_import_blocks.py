"""``import`` blocks and ``bcdr plan -generate-config-out``, as Terraform's (1.5+).

Real ``bcdr`` runs in a temporary folder on the embedded platform: a disk made by an apply
and dropped from the state (``bcdr state rm``, so it lives on, unmanaged) is adopted again
by an import block: the plan reads it and writes nothing, the apply writes it to the state
(and applies any update the configuration asks for), and the same object — its id — is
managed afterwards, never a new one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import run_in, write

GROUP = """
resource "resource_group" "example" {
  name     = "example"
  location = "eastus"
}
"""

DISK = """
resource "managed_disk" "data" {
  name           = "data"
  resource_group = resource_group.example.name
  location       = resource_group.example.location
  size_gb        = SIZE
}
"""


def disk(size: int = 1) -> str:
    return DISK.replace("SIZE", str(size))


def import_block(id: str, to: str = "managed_disk.data") -> str:
    return f'\nimport {{\n  to = {to}\n  id = "{id}"\n}}\n'


@pytest.fixture
def bcdr(tmp_path: Path):
    def run(*args: str):
        result = run_in(tmp_path, *args)
        assert "Traceback" not in result.output
        return result

    return run


def _disks(bcdr) -> list[str]:
    listed = bcdr("platform", "list", "--type", "managed_disk", "-json")
    assert listed.exit_code == 0, listed.output
    return [o["id"] for o in json.loads(listed.stdout)]


@pytest.fixture
def unmanaged(tmp_path: Path, bcdr) -> str:
    """A disk on the platform that the state does not hold: its id."""
    write(tmp_path, GROUP + disk())
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    (id,) = _disks(bcdr)
    assert bcdr("state", "rm", "managed_disk.data").exit_code == 0
    return id


def test_an_import_block_adopts_the_object_and_may_stay(tmp_path: Path, bcdr, unmanaged) -> None:
    write(tmp_path, GROUP + disk() + import_block(unmanaged))
    plan = bcdr("plan", "-no-color", "-detailed-exitcode")
    assert plan.exit_code == 2, plan.output  # an import is a change to the state
    assert "# managed_disk.data will be imported" in plan.output
    assert "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy." in plan.output
    as_json = json.loads(bcdr("plan", "-json").stdout)
    (entry,) = as_json["resource_imports"]
    assert (entry["address"], entry["id"]) == ("managed_disk.data", unmanaged)
    # a plan writes nothing: the disk is still unmanaged
    assert "managed_disk.data" not in bcdr("state", "list").output.split()

    applied = bcdr("apply", "-auto-approve", "-no-color")
    assert applied.exit_code == 0, applied.output
    assert "Apply complete! Resources: 1 imported, 0 added, 0 changed, 0 destroyed." in (
        applied.output
    )
    shown = json.loads(bcdr("show", "-json").stdout)["values"]["root_module"]["resources"]
    ids = {r["address"]: r["values"]["id"] for r in shown}
    assert ids["managed_disk.data"] == unmanaged  # the same object, adopted
    assert _disks(bcdr) == [unmanaged]  # and no second one made

    again = bcdr("plan", "-no-color", "-detailed-exitcode")  # the block stays: a no-op
    assert again.exit_code == 0, again.output
    assert "No changes." in again.output


def test_a_saved_plan_imports_and_updates_the_object(tmp_path: Path, bcdr, unmanaged) -> None:
    write(tmp_path, GROUP + disk(size=2) + import_block(unmanaged))
    plan = bcdr("plan", "-no-color", "-out=adopt.plan")
    assert plan.exit_code == 0, plan.output
    assert f'# (imported from "{unmanaged}")' in plan.output
    assert "# managed_disk.data will be updated in-place" in plan.output
    assert "Plan: 1 to import, 0 to add, 1 to change, 0 to destroy." in plan.output

    applied = bcdr("apply", "-no-color", "adopt.plan")
    assert applied.exit_code == 0, applied.output
    assert "1 imported, 0 added, 1 changed, 0 destroyed" in applied.output
    shown = bcdr("platform", "show", unmanaged)
    assert (
        json.loads(shown.stdout)["properties"]["size_gb"] == 2
    )  # the adopted object grew in place


def test_the_id_may_come_from_a_variable(tmp_path: Path, bcdr, unmanaged) -> None:
    write(
        tmp_path,
        GROUP
        + disk()
        + 'variable "disk_id" { type = string }\n'
        + "import {\n  to = managed_disk.data\n  id = var.disk_id\n}\n",
    )
    plan = bcdr("plan", "-no-color", f"-var=disk_id={unmanaged}")
    assert plan.exit_code == 0, plan.output
    assert "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy." in plan.output


def test_an_instance_of_a_for_each_resource_is_imported_by_its_key(
    tmp_path: Path, bcdr, unmanaged
) -> None:
    keyed = disk().replace(
        '"managed_disk" "data" {\n', '"managed_disk" "data" {\n  for_each = toset(["data"])\n'
    )
    keyed = keyed.replace('name           = "data"', "name           = each.key")
    write(tmp_path, GROUP + keyed + import_block(unmanaged, to='managed_disk.data["data"]'))
    applied = bcdr("apply", "-auto-approve", "-no-color")
    assert applied.exit_code == 0, applied.output
    assert "1 imported, 0 added, 0 changed, 0 destroyed" in applied.output
    assert 'managed_disk.data["data"]' in bcdr("state", "list").output.split()
    assert _disks(bcdr) == [unmanaged]


@pytest.mark.parametrize(
    ("block", "summary", "line"),
    [
        ("import {\n  to = managed_disk.data\n}\n", 'Missing "id" in an import block', 0),
        ('import {\n  to = "managed_disk.data"\n  id = "x"\n}\n', 'Invalid "to"', 1),
        (
            "import {\n  to = managed_disk.data\n  id = resource_group.example.id\n}\n",
            "Invalid import id",
            2,
        ),
        (
            'import {\n  to = managed_disk.other\n  id = "x"\n}\n',
            "Configuration for import target managed_disk.other does not exist",
            0,
        ),
        (
            'import {\n  to = managed_disk.data\n  id = "x"\n  provider = platform\n}\n',
            'Unsupported argument "provider" in an import block',
            3,
        ),
    ],
)
def test_a_bad_import_block_is_an_error_at_its_line(
    tmp_path: Path, bcdr, block: str, summary: str, line: int
) -> None:
    """``line``: the line blamed, counted from the block's first line."""
    spec = write(tmp_path, GROUP + disk() + "\n" + block)
    start = spec.read_text().splitlines().index("import {") + 1
    plan = bcdr("plan", "-no-color")
    assert plan.exit_code == 1, plan.output
    assert summary in plan.output
    assert f"on main.hcl line {start + line}:" in plan.output


def test_an_id_the_platform_does_not_hold_is_refused_before_anything_changes(
    tmp_path: Path, bcdr, unmanaged
) -> None:
    missing = unmanaged.replace("/disks/data", "/disks/gone")
    write(tmp_path, GROUP + disk() + import_block(missing))
    applied = bcdr("apply", "-auto-approve", "-no-color")
    assert applied.exit_code == 1, applied.output
    assert "gone" in applied.output
    assert "managed_disk.data" not in bcdr("state", "list").output.split()


def test_two_imports_to_one_address_are_refused(tmp_path: Path, bcdr, unmanaged) -> None:
    write(tmp_path, GROUP + disk() + import_block(unmanaged) + import_block(unmanaged))
    plan = bcdr("plan", "-no-color")
    assert plan.exit_code == 1, plan.output
    assert "Duplicate import configuration" in plan.output


def test_generate_config_out_writes_a_block_that_plans_no_create(
    tmp_path: Path, bcdr, unmanaged
) -> None:
    write(tmp_path, GROUP + import_block(unmanaged))
    plan = bcdr("plan", "-no-color", "-generate-config-out=generated.hcl")
    assert plan.exit_code == 0, plan.output
    assert "bcdr has generated configuration and written it to generated.hcl" in plan.output
    assert "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy." in plan.output
    text = (tmp_path / "generated.hcl").read_text()
    assert 'resource "managed_disk" "data" {' in text
    assert "size_gb        = 1" in text  # the object's own arguments, laid out as fmt does
    assert bcdr("fmt", "-check").exit_code == 0

    applied = bcdr("apply", "-auto-approve", "-no-color")
    assert "1 imported, 0 added, 0 changed, 0 destroyed" in applied.output
    again = bcdr("plan", "-no-color", "-detailed-exitcode")
    assert again.exit_code == 0, again.output  # the generated block matches the object


@pytest.mark.parametrize("target", ["main.hcl", "sub/x.hcl", "gen.auto.hcl", "gen.txt"])
def test_generate_config_out_writes_only_a_new_spec_file_here(
    tmp_path: Path, bcdr, unmanaged, target: str
) -> None:
    write(tmp_path, GROUP + import_block(unmanaged))
    before = (tmp_path / "main.hcl").read_text()
    plan = bcdr("plan", "-no-color", f"-generate-config-out={target}")
    assert plan.exit_code == 1, plan.output
    assert (tmp_path / "main.hcl").read_text() == before
    assert not (tmp_path / "sub").exists() and not (tmp_path / "gen.auto.hcl").exists()
