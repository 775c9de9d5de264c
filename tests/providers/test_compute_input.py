"""What the compute provider accepts from a user, through the real CLI: ``source_uri`` reads
only regular files inside the specs' folder or an ``import_roots`` folder (symlinks resolved
first); ``import`` says what an id is when it is not of the type asked for."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.providers.conftest import MiB, Workspace, make_image
from tests.providers.fixtures_restore import disk_bytes, setup

IMPORT = """
PROVIDER
resource "resource_group" "rg" {
  name     = "prod"
  location = "eastus"
}

resource "managed_disk" "os" {
  name           = "os"
  resource_group = resource_group.rg.name
  location       = "eastus"
  create_option  = "Import"
  source_uri     = "URI"
}
"""


def _import(uri: str, provider: str = "") -> str:
    return IMPORT.replace("URI", uri).replace("PROVIDER", provider).lstrip("\n")


def _refused(ws: Workspace, uri: str, command: str = "plan") -> str:
    result = ws.run(command, "-no-color")
    assert result.exit_code == 1, result.output
    out = " ".join(result.output.split())
    assert "Traceback" not in out
    assert "Invalid source_uri for managed_disk.os" in out
    assert "on main.hcl line 11" in out  # the source_uri line
    return out


@pytest.mark.parametrize("uri", ["/etc/passwd", "../../../../../../../../etc/passwd"])
def test_source_uri_outside_the_specs_folder_is_refused(ws: Workspace, uri: str) -> None:
    ws.write(_import(uri))
    ws.ok("init")
    for command in ("validate", "plan"):
        out = _refused(ws, uri, command)
        assert (
            f"image file {uri} is /etc/passwd, outside the folders images are imported from" in out
        )
        assert f"({ws.dir.resolve()})" in out
        assert 'provider "platform" { import_roots = ["/etc"] }' in out
    result = ws.run("apply", "-auto-approve", "-no-color")
    assert result.exit_code == 1 and "outside the folders" in result.output
    assert ws.state("managed_disk.os") is None
    assert not list((ws.dir / ".bcdr").rglob("*.img"))  # no disk holds the file's bytes


def test_a_symlink_is_judged_by_the_file_it_points_to(ws: Workspace) -> None:
    (ws.dir / "images").mkdir()
    os.symlink("/etc/passwd", ws.dir / "images" / "evil.img")
    ws.write(_import("images/evil.img"))
    ws.ok("init")
    out = _refused(ws, "images/evil.img")
    assert "image file images/evil.img is /etc/passwd, outside the folders" in out
    data = make_image(ws.dir / "images" / "real.raw", 1)
    os.symlink("real.raw", ws.dir / "images" / "os.img")  # a link that stays inside is fine
    ws.write(_import("images/os.img"))
    ws.apply()
    assert disk_bytes(ws, ws.state("managed_disk.os")["id"]) == data


def test_a_folder_is_not_an_image(ws: Workspace) -> None:
    (ws.dir / "images").mkdir()
    ws.write(_import("images"))
    ws.ok("init")
    out = _refused(ws, "images")
    assert "image file images is not a regular file: give a raw disk image" in out


def test_a_nul_in_source_uri_is_refused_not_a_crash(ws: Workspace) -> None:
    """Found by the fault harness: a NUL in the path raised ValueError (an internal error)."""
    ws.write(_import("os\\u0000.raw"))
    ws.ok("init")
    for command in ("validate", "plan"):
        out = _refused(ws, "os", command)
        assert "has a NUL character in its name: no file can have one" in out
        assert "internal error" not in out


def test_import_roots_allow_a_folder_outside_the_specs(
    ws: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside: Path = tmp_path_factory.mktemp("images")
    data = make_image(outside / "os.raw", 1)
    ws.write(_import(str(outside / "os.raw")))
    ws.ok("init")
    _refused(ws, str(outside / "os.raw"))
    roots = f'provider "platform" {{\n  import_roots = ["{outside}"]\n}}\n'
    ws.write(_import(str(outside / "os.raw"), roots))
    ws.apply()
    state = ws.state("managed_disk.os")
    assert state["size_bytes"] == MiB
    assert disk_bytes(ws, state["id"]) == data
    ws.plan_is_clean()


def test_import_roots_must_be_a_list_of_folders(ws: Workspace) -> None:
    ws.write(_import("os.raw", 'provider "platform" {\n  import_roots = "/data"\n}\n'))
    make_image(ws.dir / "os.raw", 1)
    ws.ok("init")
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1
    assert "Invalid import_roots of the platform provider" in result.output
    assert 'import_roots = ["/data/images"]' in result.output


SPARE = """
resource "managed_disk" "x" {
  name           = "x"
  resource_group = resource_group.rg.name
  location       = "eastus"
  size_gb        = 0.0009765625
}
"""


def test_import_of_a_vm_id_as_a_disk_says_it_is_a_virtual_machine(ws: Workspace) -> None:
    setup(ws)
    ws.apply()
    vm_id = ws.state("virtual_machine.web")["id"]
    ws.write((ws.dir / "main.hcl").read_text() + SPARE)
    result = ws.run("import", "managed_disk.x", vm_id, "-no-color")
    assert result.exit_code == 1, result.output
    out = " ".join(result.output.split())
    assert (
        f"Cannot import managed_disk.x: {vm_id} is a virtual machine (virtual_machine), "
        "not a managed disk (managed_disk)" in out
    )
    assert f"bcdr import virtual_machine.x {vm_id}" in out
    assert "nothing has the id" not in out
    assert ws.state("managed_disk.x") is None


# ------------------------------------------------------------------ validate knows it too
def _invalid(ws: Workspace) -> str:
    result = ws.run("validate", "-no-color")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


def test_validate_reports_a_missing_source_uri_file_with_its_line(ws: Workspace) -> None:
    ws.write(_import("images/nope.raw"))
    out = _invalid(ws)
    assert "Invalid source_uri for managed_disk.os" in out and "on main.hcl line 11" in out
    assert "image file images/nope.raw does not exist" in out
    assert not (ws.dir / ".bcdr" / "fabric").exists()  # validate opened no platform


@pytest.mark.parametrize(
    ("kw", "what"),
    [
        ({"data_extra": "shared = true"}, "disk web-data is a shared disk"),
        ({"data_extra": 'sku = "UltraSSD_LRS"'}, "disk web-data is an ultra disk"),
        ({"ephemeral": "true"}, "disk web-os is an ephemeral OS disk"),
    ],
)
def test_validate_reports_rp6_the_configuration_alone_shows(
    ws: Workspace, kw: dict[str, str], what: str
) -> None:
    from tests.providers.fixtures_restore import RP1, spec

    ws.write(spec(RP1, **kw))  # no images, no init, no platform: the specs alone
    (ws.dir / "os.raw").write_bytes(b"\1" * MiB)
    (ws.dir / "data.raw").write_bytes(b"\2" * MiB)
    out = _invalid(ws)
    assert f"Error: RP-6: {what}" in out
    assert "restore_point.rp1:" in out and "restore points do not support" in out
    assert out.count("Error: ") == 1
    assert not (ws.dir / ".bcdr" / "fabric").exists()


def test_validate_accepts_an_rp6_disk_that_is_excluded(ws: Workspace) -> None:
    from tests.providers.fixtures_restore import RP1, spec

    rp = RP1.replace(
        "collection_id = restore_point_collection.daily.id",
        "collection_id = restore_point_collection.daily.id\n"
        "  exclude_disk_ids = [managed_disk.data.id]",
    )
    ws.write(spec(rp, data_extra="shared = true"))
    (ws.dir / "os.raw").write_bytes(b"\1" * MiB)
    (ws.dir / "data.raw").write_bytes(b"\2" * MiB)
    assert "Success! The configuration is valid." in ws.ok("validate", "-no-color")


def test_an_image_is_needed_only_to_create_the_disk(ws: Workspace) -> None:
    """Once the disk exists, a removed image (a CI checkout without images) blocks nothing."""
    make_image(ws.dir / "os.raw", 1)
    ws.write(_import("os.raw"))
    ws.ok("init")
    ws.apply()
    (ws.dir / "os.raw").unlink()
    assert "The configuration is valid." in ws.ok("validate", "-no-color")
    ws.plan_is_clean()
    assert "No drift" in ws.ok("drift", "-no-color")
    out = ws.ok("destroy", "-auto-approve", "-no-color")
    assert "2 destroyed" in out


def test_validate_leaves_rp6_of_a_restore_point_taken_already_to_the_plan(ws: Workspace) -> None:
    """RP-6 is about capturing: a restore point taken before its disk became shared is
    not captured again, so it blocks neither validate nor destroy."""
    from tests.providers.fixtures_restore import RP1, spec

    setup(ws, RP1)
    ws.apply()
    ws.write(spec(RP1, data_extra="shared = true"))
    assert "The configuration is valid." in ws.ok("validate", "-no-color")
    assert "restore_point.rp1" not in ws.ok("plan", "-no-color")  # not captured again
    assert "Destroy complete!" in ws.ok("destroy", "-auto-approve", "-no-color")
