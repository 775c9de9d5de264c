"""``moved`` and ``removed`` blocks: refactoring in the configuration, as Terraform's.

Real ``bcdr`` runs in a temporary folder, with the builtin ``bcdr_data`` and the embedded
platform's restore points: a rename keeps the object (its id), a removed block with
``destroy = false`` forgets it and leaves it on the platform.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import run_in, write


@pytest.fixture
def bcdr(tmp_path: Path):
    def run(*args: str):
        result = run_in(tmp_path, *args)
        assert "Traceback" not in result.output
        return result

    return run


def _id(bcdr, address: str) -> str:
    out = bcdr("show", "-json")
    assert out.exit_code == 0, out.output
    for r in json.loads(out.stdout)["values"]["root_module"]["resources"]:
        if r["address"] == address:
            return r["values"]["id"]
    raise AssertionError(f"{address} is not in the state: {out.stdout}")


def _platform_restore_points(bcdr) -> list[str]:
    listed = bcdr("platform", "list", "--type", "restore_point", "-json")
    assert listed.exit_code == 0, listed.output
    return [o["id"] for o in json.loads(listed.stdout)]


NOTE = """
resource "bcdr_data" "{name}" {{
  input = "kept"
}}
"""


def test_a_renamed_resource_keeps_its_object(tmp_path: Path, bcdr) -> None:
    write(tmp_path, NOTE.format(name="old"))
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    before = _id(bcdr, "bcdr_data.old")

    write(
        tmp_path,
        NOTE.format(name="new") + "moved {\n  from = bcdr_data.old\n  to = bcdr_data.new\n}\n",
    )
    plan = bcdr("plan", "-no-color", "-detailed-exitcode")
    assert plan.exit_code == 2, plan.output  # a move is a change to the state
    assert "# bcdr_data.old has moved to bcdr_data.new" in plan.output
    assert "Plan: 0 to add, 0 to change, 0 to destroy." in plan.output
    as_json = json.loads(bcdr("plan", "-json").stdout)
    assert as_json["resource_moves"] == [{"from": "bcdr_data.old", "to": "bcdr_data.new"}]

    applied = bcdr("apply", "-auto-approve", "-no-color")
    assert applied.exit_code == 0, applied.output
    assert bcdr("state", "list").output.split() == ["bcdr_data.new"]
    assert _id(bcdr, "bcdr_data.new") == before  # the same object: not destroyed, not made

    again = bcdr("plan", "-no-color", "-detailed-exitcode")  # the block may stay: a no-op
    assert again.exit_code == 0, again.output
    assert "No changes." in again.output


def test_a_move_with_a_change_says_where_it_came_from(tmp_path: Path, bcdr) -> None:
    write(tmp_path, NOTE.format(name="old"))
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    moved = NOTE.format(name="new").replace('"kept"', '"changed"')
    write(tmp_path, moved + "moved {\n  from = bcdr_data.old\n  to = bcdr_data.new\n}\n")
    plan = bcdr("plan", "-no-color")
    assert "# (moved from bcdr_data.old)" in plan.output
    assert "# bcdr_data.new must be replaced" in plan.output or (
        "# bcdr_data.new will be updated in-place" in plan.output
    )
    assert "will be created" not in plan.output  # the object is found at its new address


def test_instances_move_from_count_to_for_each_and_chains_resolve(tmp_path: Path, bcdr) -> None:
    write(tmp_path, 'resource "bcdr_data" "n" {\n  count = 2\n  input = count.index\n}\n')
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    ids = [_id(bcdr, "bcdr_data.n[0]"), _id(bcdr, "bcdr_data.n[1]")]
    write(
        tmp_path,
        """
resource "bcdr_data" "m" {
  for_each = { a = 0, b = 1 }
  input    = each.value
}
moved {
  from = bcdr_data.n[0]
  to   = bcdr_data.tmp["a"]
}
moved {
  from = bcdr_data.tmp
  to   = bcdr_data.m
}
moved {
  from = bcdr_data.n[1]
  to   = bcdr_data.m["b"]
}
""",
    )
    applied = bcdr("apply", "-auto-approve", "-no-color")
    assert applied.exit_code == 0, applied.output
    assert "0 added, 0 changed, 0 destroyed" in applied.output
    assert [_id(bcdr, 'bcdr_data.m["a"]'), _id(bcdr, 'bcdr_data.m["b"]')] == ids


def test_a_restore_point_renamed_by_a_moved_block_keeps_its_platform_id(
    tmp_path: Path, bcdr
) -> None:
    spec = Path("docs/resources/restore_point.md").read_text()
    example = spec.split("```hcl\n", 1)[1].split("```", 1)[0]
    write(tmp_path, example)
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    rp_id = _id(bcdr, "restore_point.daily")

    write(
        tmp_path,
        example.replace('resource "restore_point" "daily"', 'resource "restore_point" "nightly"')
        + "\nmoved {\n  from = restore_point.daily\n  to   = restore_point.nightly\n}\n",
    )
    applied = bcdr("apply", "-auto-approve", "-no-color")
    assert applied.exit_code == 0, applied.output
    assert "0 added, 0 changed, 0 destroyed" in applied.output
    assert _id(bcdr, "restore_point.nightly") == rp_id
    assert _platform_restore_points(bcdr) == [rp_id]  # still on the platform, once


def test_removed_with_destroy_false_forgets_without_destroying(tmp_path: Path, bcdr) -> None:
    spec = Path("docs/resources/restore_point.md").read_text()
    example = spec.split("```hcl\n", 1)[1].split("```", 1)[0]
    write(tmp_path, example)
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    rp_id = _id(bcdr, "restore_point.daily")
    head, _, _ = example.partition('resource "restore_point" "daily"')
    write(
        tmp_path,
        head
        + "removed {\n  from = restore_point.daily\n  lifecycle {\n    destroy = false\n  }\n}\n",
    )
    plan = bcdr("plan", "-no-color")
    assert "# restore_point.daily will no longer be managed by bcdr" in plan.output
    assert "0 to destroy, 1 to forget." in plan.output
    applied = bcdr("apply", "-auto-approve", "-no-color")
    assert applied.exit_code == 0, applied.output
    assert "restore_point.daily" not in bcdr("state", "list").output
    assert _platform_restore_points(bcdr) == [rp_id]  # the object is still there


def test_removed_with_destroy_true_destroys(tmp_path: Path, bcdr) -> None:
    write(tmp_path, NOTE.format(name="gone"))
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    write(
        tmp_path, "removed {\n  from = bcdr_data.gone\n  lifecycle {\n    destroy = true\n  }\n}\n"
    )
    write(tmp_path, NOTE.format(name="other"), name="other.hcl")
    plan = bcdr("plan", "-no-color")
    assert "# bcdr_data.gone will be destroyed" in plan.output


@pytest.mark.parametrize(
    ("blocks", "summary", "line"),
    [
        (
            'resource "bcdr_data" "a" {\n}\n'
            "moved {\n  from = bcdr_data.a\n  to   = bcdr_data.b\n}\n",
            "Moved object still exists",
            3,
        ),
        (
            "moved {\n  from = bcdr_data.a\n  to   = managed_disk.a\n}\n",
            "Resource type mismatch in a moved block",
            1,
        ),
        (
            "moved {\n  from = bcdr_data.a[0]\n  to   = bcdr_data.b\n}\n",
            "A moved block moves a resource to a resource, or an instance to an instance",
            1,
        ),
        (
            'moved {\n  from = "bcdr_data.a"\n  to   = bcdr_data.b\n}\n',
            'Invalid "from" in a moved block',
            2,
        ),
        ("moved {\n  to = bcdr_data.b\n}\n", 'Missing "from" in a moved block', 1),
        (
            "moved {\n  from = bcdr_data.a\n  to = bcdr_data.b\n}\n"
            "moved {\n  from = bcdr_data.a\n  to = bcdr_data.c\n}\n",
            "Ambiguous move statements",
            5,
        ),
        (
            'resource "bcdr_data" "a" {\n}\nremoved {\n  from = bcdr_data.a\n}\n',
            "Removed resource still exists",
            3,
        ),
        (
            "removed {\n  from = bcdr_data.a[0]\n}\n",
            "A removed block names a resource, not one instance",
            1,
        ),
        (
            'removed {\n  from = bcdr_data.a\n  lifecycle {\n    destroy = "no"\n  }\n}\n',
            "destroy must be true or false",
            4,
        ),
    ],
)
def test_bad_statements_are_errors_at_their_line(
    tmp_path: Path, bcdr, blocks, summary, line
) -> None:
    write(tmp_path, blocks)
    result = bcdr("validate", "-json")
    assert result.exit_code == 1, result.output
    diags = json.loads(result.stdout)["diagnostics"]
    found = [d for d in diags if d["summary"] == summary]
    assert found, diags
    assert found[0]["range"]["filename"] == "main.hcl"
    assert found[0]["range"]["start"]["line"] == line


def test_a_cycle_of_moves_is_an_error(tmp_path: Path, bcdr) -> None:
    write(tmp_path, NOTE.format(name="a"))
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    write(
        tmp_path,
        NOTE.format(name="c")
        + "moved {\n  from = bcdr_data.a\n  to = bcdr_data.b\n}\n"
        + "moved {\n  from = bcdr_data.b\n  to = bcdr_data.a\n}\n",
    )
    plan = bcdr("plan", "-no-color")
    assert plan.exit_code == 1
    assert "Cyclic dependency in move statements" in plan.output


def test_a_move_onto_an_existing_object_is_skipped_with_a_warning(tmp_path: Path, bcdr) -> None:
    write(tmp_path, NOTE.format(name="a") + NOTE.format(name="b"))
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    ids = (_id(bcdr, "bcdr_data.a"), _id(bcdr, "bcdr_data.b"))
    write(
        tmp_path, NOTE.format(name="b") + "moved {\n  from = bcdr_data.a\n  to = bcdr_data.b\n}\n"
    )
    plan = bcdr("plan", "-no-color")
    assert plan.exit_code == 0, plan.output
    assert "Warning: Unresolved resource instance address changes" in plan.output
    assert "# bcdr_data.a will be destroyed" in plan.output  # it stays where it is: an orphan
    assert _id(bcdr, "bcdr_data.b") == ids[1]


def test_a_saved_plan_carries_its_moves(tmp_path: Path, bcdr) -> None:
    write(tmp_path, NOTE.format(name="old"))
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    before = _id(bcdr, "bcdr_data.old")
    write(
        tmp_path,
        NOTE.format(name="new") + "moved {\n  from = bcdr_data.old\n  to = bcdr_data.new\n}\n",
    )
    assert bcdr("plan", "-out=tfplan", "-no-color").exit_code == 0
    applied = bcdr("apply", "-no-color", "tfplan")
    assert applied.exit_code == 0, applied.output
    assert _id(bcdr, "bcdr_data.new") == before
