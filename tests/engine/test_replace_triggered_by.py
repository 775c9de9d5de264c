"""``lifecycle { replace_triggered_by = [...] }``: replace a resource when what it names changes.

Real ``bcdr`` runs in a temporary folder. As in Terraform: a reference to a resource (or
one instance) fires when that instance is planned to be updated or replaced; one to an
attribute fires when the attribute's value changes; the replacement's reason is
``replace_by_triggers``; an entry that is not a resource reference is an error at its line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from state import StateStore
from tests.cli.conftest import run_in, write


@pytest.fixture
def bcdr(tmp_path: Path):
    return lambda *args, **kw: run_in(tmp_path, *args, **kw)


def _ids(workdir: Path) -> dict[str, str]:
    with StateStore.open(workdir / ".bcdr" / "state.db") as store:
        return {r.address: r.id for r in store.instances()}


def _actions(output: str) -> dict[str, tuple[list[str], str | None]]:
    return {
        c["address"]: (c["change"]["actions"], c["action_reason"])
        for c in json.loads(output)["resource_changes"]
    }


SPEC = """
variable "version" {
  default = "v1"
}

variable "note" {
  default = "first"
}

resource "bcdr_data" "image" {
  input = { version = var.version, note = var.note }
}

resource "bcdr_data" "whole" {
  input = "follows any change of the image"
  lifecycle {
    replace_triggered_by = [bcdr_data.image]
  }
}

resource "bcdr_data" "version_only" {
  input = "follows the image's version"
  lifecycle {
    replace_triggered_by = [bcdr_data.image.input.version]
  }
}
"""


def test_a_resource_reference_fires_on_any_update_an_attribute_on_its_change(
    tmp_path: Path, bcdr
) -> None:
    write(tmp_path, SPEC)
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    before = _ids(tmp_path)
    assert _actions(bcdr("plan", "-json").output) == {
        "bcdr_data.image": (["no-op"], None),
        "bcdr_data.version_only": (["no-op"], None),
        "bcdr_data.whole": (["no-op"], None),
    }

    note = bcdr("plan", "-json", "-var", "note=second")
    assert _actions(note.output) == {
        "bcdr_data.image": (["update"], None),
        "bcdr_data.version_only": (["no-op"], None),  # input.version stays v1
        "bcdr_data.whole": (["delete", "create"], "replace_by_triggers"),
    }
    text = bcdr("plan", "-no-color", "-var", "note=second")
    assert "bcdr_data.whole will be replaced due to changes in replace_triggered_by" in text.output

    applied = bcdr("apply", "-auto-approve", "-no-color", "-var", "version=v2")
    assert applied.exit_code == 0, applied.output
    assert "Resources: 2 added, 1 changed, 2 destroyed." in applied.output
    after = _ids(tmp_path)
    assert after["bcdr_data.image"] == before["bcdr_data.image"]  # updated in place
    assert after["bcdr_data.whole"] != before["bcdr_data.whole"]
    assert after["bcdr_data.version_only"] != before["bcdr_data.version_only"]
    again = bcdr("plan", "-no-color", "-detailed-exitcode", "-var", "version=v2")
    assert again.exit_code == 0, again.output  # replaced once, then settled


def test_an_indexed_reference_replaces_only_the_matching_instance(tmp_path: Path, bcdr) -> None:
    write(
        tmp_path,
        """
        variable "sizes" {
          type    = list(number)
          default = [1, 2]
        }

        resource "bcdr_data" "disk" {
          count = 2
          input = var.sizes[count.index]
        }

        resource "bcdr_data" "copy" {
          count = 2
          input = "copy ${count.index}"
          lifecycle {
            create_before_destroy = true
            replace_triggered_by  = [bcdr_data.disk[count.index]]
          }
        }
        """,
    )
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    plan = bcdr("plan", "-json", "-var", "sizes=[1, 3]")
    assert _actions(plan.output) == {
        "bcdr_data.copy[0]": (["no-op"], None),
        "bcdr_data.copy[1]": (["create", "delete"], "replace_by_triggers"),
        "bcdr_data.disk[0]": (["no-op"], None),
        "bcdr_data.disk[1]": (["update"], None),
    }


def test_a_platform_disk_is_replaced_when_its_trigger_changes(tmp_path: Path, bcdr) -> None:
    write(
        tmp_path,
        """
        variable "generation" {
          default = 1
        }

        resource "bcdr_data" "generation" {
          input = var.generation
        }

        resource "resource_group" "rg" {
          name     = "prod"
          location = "eastus"
        }

        resource "managed_disk" "scratch" {
          name           = "scratch"
          resource_group = resource_group.rg.name
          location       = "eastus"
          size_gb        = 0.0078125
          lifecycle {
            replace_triggered_by = [bcdr_data.generation.output]
          }
        }
        """,
    )
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    plan = bcdr("plan", "-json", "-var", "generation=2")
    actions = _actions(plan.output)
    assert actions["managed_disk.scratch"] == (["delete", "create"], "replace_by_triggers")
    assert actions["resource_group.rg"] == (["no-op"], None)
    applied = bcdr("apply", "-auto-approve", "-no-color", "-var", "generation=2")
    assert applied.exit_code == 0, applied.output
    assert "managed_disk.scratch: Destroying..." in applied.output or (
        "managed_disk.scratch: Replacing..." in applied.output
    )
    settled = bcdr("plan", "-no-color", "-detailed-exitcode", "-var", "generation=2")
    assert settled.exit_code == 0, settled.output


def test_a_saved_plan_applies_the_triggered_replacement(tmp_path: Path, bcdr) -> None:
    write(tmp_path, SPEC)
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    before = _ids(tmp_path)
    assert bcdr("plan", "-out", "tfplan", "-var", "note=x").exit_code == 0
    applied = bcdr("apply", "-no-color", "tfplan")
    assert applied.exit_code == 0, applied.output
    after = _ids(tmp_path)
    assert after["bcdr_data.whole"] != before["bcdr_data.whole"]
    assert after["bcdr_data.version_only"] == before["bcdr_data.version_only"]


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ("var.v", "Invalid replace_triggered_by entry in bcdr_data.b"),
        ('"bcdr_data.a"', "Invalid replace_triggered_by entry in bcdr_data.b"),
        ("local.l", "Invalid replace_triggered_by entry in bcdr_data.b"),
        ("bcdr_data.a.output[var.v]", "Invalid replace_triggered_by entry in bcdr_data.b"),
        ("bcdr_data.nope", 'Reference to undeclared resource "bcdr_data.nope"'),
        ("bcdr_data.a.nope", "has no attribute named nope"),
    ],
)
def test_entries_that_are_not_resource_references_are_errors_at_their_line(
    tmp_path: Path, bcdr, entry: str, words: str
) -> None:
    (tmp_path / "main.hcl").write_text(
        'variable "v" {\n  default = "x"\n}\n\nlocals {\n  l = 1\n}\n\n'
        'resource "bcdr_data" "a" {\n}\n\n'
        'resource "bcdr_data" "b" {\n  lifecycle {\n'
        f"    replace_triggered_by = [\n      {entry},\n    ]\n  }}\n}}\n"
    )
    out = bcdr("validate", "-no-color")
    assert out.exit_code == 1, out.output
    assert words in out.output
    assert "on main.hcl line 15" in out.output


def test_replace_triggered_by_must_be_a_list(tmp_path: Path, bcdr) -> None:
    (tmp_path / "main.hcl").write_text(
        'resource "bcdr_data" "a" {\n}\n\nresource "bcdr_data" "b" {\n  lifecycle {\n'
        "    replace_triggered_by = bcdr_data.a\n  }\n}\n"
    )
    out = bcdr("validate", "-no-color")
    assert out.exit_code == 1, out.output
    assert "replace_triggered_by must be a list of references" in out.output
    assert "on main.hcl line 6" in out.output
