"""Provider aliases: two configurations of the platform provider in one spec.

Real ``bcdr`` runs in a temporary folder: ``provider "platform" { alias = "west"  home =
"west-fabric" }`` is a second platform (its own home), ``provider = platform.west`` puts a
resource there; the objects are recorded with that configuration, so refresh, drift and
destroy reach them through it, and a state whose configuration is gone says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import run_in, write

PROVIDERS = """
provider "platform" {
  alias = "west"
  home  = "west-fabric"
}
"""

RESOURCES = """
resource "resource_group" "east" {
  name     = "dr"
  location = "eastus"
}

resource "resource_group" "west" {
  provider = platform.west
  name     = "dr"
  location = "westus"
}

resource "managed_disk" "west" {
  provider       = platform.west
  name           = "data"
  resource_group = resource_group.west.name
  location       = resource_group.west.location
  size_gb        = 1
}
"""


@pytest.fixture
def bcdr(tmp_path: Path):
    def run(*args: str):
        result = run_in(tmp_path, *args)
        assert "Traceback" not in result.output
        return result

    return run


def _types(bcdr, home: str | None = None) -> list[str]:
    """The type names of the platform's objects, in the default home or in ``home``."""
    listed = bcdr("platform", "list", "-json", *(["-home", home] if home else []))
    assert listed.exit_code == 0, listed.output
    return sorted(o["type_name"] for o in json.loads(listed.stdout))


def _providers(bcdr) -> dict[str, str]:
    shown = json.loads(bcdr("show", "-json").stdout)["values"]["root_module"]["resources"]
    return {r["address"]: r["provider_name"] for r in shown}


def test_each_configuration_is_its_own_platform(tmp_path: Path, bcdr) -> None:
    write(tmp_path, PROVIDERS + RESOURCES)
    applied = bcdr("apply", "-auto-approve", "-no-color")
    assert applied.exit_code == 0, applied.output
    assert _types(bcdr) == ["resource_group"]  # the default home: east only
    assert _types(bcdr, "west-fabric") == ["managed_disk", "resource_group"]
    assert _providers(bcdr) == {
        "managed_disk.west": "platform.west",
        "resource_group.east": "platform",
        "resource_group.west": "platform.west",
    }
    again = bcdr("plan", "-no-color", "-detailed-exitcode")
    assert again.exit_code == 0, again.output  # each read back through its own configuration


def test_drift_is_read_through_the_alias(tmp_path: Path, bcdr) -> None:
    write(tmp_path, PROVIDERS + RESOURCES)
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    listed = json.loads(bcdr("platform", "list", "-json", "-home", "west-fabric").stdout)
    (disk,) = [o["id"] for o in listed if o["type_name"] == "managed_disk"]
    assert bcdr("platform", "delete", "-home", "west-fabric", disk).exit_code == 0
    plan = bcdr("plan", "-no-color")
    assert "# managed_disk.west has been deleted" in plan.output
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in plan.output


def test_destroy_reaches_both_platforms(tmp_path: Path, bcdr) -> None:
    write(tmp_path, PROVIDERS + RESOURCES)
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    destroyed = bcdr("destroy", "-auto-approve", "-no-color")
    assert "Destroy complete! Resources: 3 destroyed." in destroyed.output
    assert _types(bcdr) == [] and _types(bcdr, "west-fabric") == []


def test_objects_of_a_configuration_that_is_gone_are_refused_not_lost(tmp_path: Path, bcdr) -> None:
    write(tmp_path, PROVIDERS + RESOURCES)
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    write(tmp_path, RESOURCES.split('resource "resource_group" "west"')[0])  # east only
    plan = bcdr("plan", "-no-color")
    assert plan.exit_code == 1, plan.output
    assert "Provider configuration not present" in plan.output
    assert "To work with managed_disk.west, its provider configuration platform.west" in (
        plan.output
    )
    assert _types(bcdr, "west-fabric") == ["managed_disk", "resource_group"]  # untouched
    write(tmp_path, PROVIDERS + RESOURCES.split('resource "resource_group" "west"')[0])
    applied = bcdr("apply", "-auto-approve", "-no-color")  # the block back: they can go
    assert "0 added, 0 changed, 2 destroyed" in applied.output
    assert _types(bcdr, "west-fabric") == []


@pytest.mark.parametrize(
    ("spec", "summary", "line"),
    [
        (
            RESOURCES,
            'Reference to undeclared provider configuration "platform.west"',
            "provider = platform.west",
        ),
        (
            PROVIDERS + RESOURCES.replace("provider = platform.west", "provider = bcdr.west", 1),
            'Invalid provider "bcdr" for resource_group.west',
            "provider = bcdr.west",
        ),
        (
            PROVIDERS
            + RESOURCES.replace("provider = platform.west", 'provider = "platform.west"', 1),
            "Invalid provider reference",
            'provider = "platform.west"',
        ),
        (
            PROVIDERS.replace('alias = "west"', 'alias = "west coast"') + RESOURCES,
            "Invalid provider configuration alias",
            'alias = "west coast"',
        ),
        (
            PROVIDERS + PROVIDERS + RESOURCES,
            "Duplicate provider configuration",
            'provider "platform" {',
        ),
    ],
)
def test_a_wrong_provider_configuration_is_an_error_at_its_line(
    tmp_path: Path, bcdr, spec: str, summary: str, line: str
) -> None:
    path = write(tmp_path, spec)
    plan = bcdr("plan", "-no-color")
    assert plan.exit_code == 1, plan.output
    assert summary in plan.output
    lines = path.read_text().splitlines()
    numbers = [n for n, text in enumerate(lines, start=1) if text.strip() == line]
    assert any(f"on main.hcl line {n}" in plan.output for n in numbers), plan.output
    assert not (tmp_path / "west-fabric").exists()  # nothing was made
