"""``check`` blocks: asserts judged at the end of plan, apply and drift; failures are warnings.

Real ``bcdr`` runs in a temporary folder. As in Terraform, a failed check changes no exit
code of ``plan -detailed-exitcode`` (0 no changes, 2 changes); ``bcdr drift`` exits 2 on a
failed check, which is where an RPO ("the newest copy is under 24 hours old") is watched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import run_in, write


@pytest.fixture
def bcdr(tmp_path: Path):
    return lambda *args, **kw: run_in(tmp_path, *args, **kw)


def _checks(output: str) -> dict[str, tuple[str, list[str]]]:
    out = {}
    for c in json.loads(output)["checks"]:
        problems = [p["message"] for i in c["instances"] for p in i["problems"]]
        out[c["address"]["to_display"]] = (c["status"], problems)
    return out


# the last copy's time is kept in a bcdr_data; plantimestamp() is the time of the plan
RPO = """
variable "last_copy" {
  default = "2020-01-01T00:00:00Z"
}

resource "bcdr_data" "copy" {
  input = { made_at = var.last_copy }
}

check "rpo" {
  assert {
    condition     = timecmp(timeadd(bcdr_data.copy.output.made_at, "24h"), plantimestamp()) > 0
    error_message = "the newest copy (${bcdr_data.copy.output.made_at}) is over 24 hours old"
  }
}
"""


def test_a_check_is_known_after_apply_until_its_values_are(tmp_path: Path, bcdr) -> None:
    write(tmp_path, RPO)
    plan = bcdr("plan", "-no-color", "-detailed-exitcode")
    assert plan.exit_code == 2, plan.output  # changes; the check neither passes nor fails yet
    assert "check.rpo: known after apply" in plan.output
    assert "Warning" not in plan.output
    as_json = bcdr("plan", "-json")
    assert _checks(as_json.output) == {"check.rpo": ("unknown", [])}


def test_a_failed_check_warns_after_apply_and_drift_exits_2(tmp_path: Path, bcdr) -> None:
    write(tmp_path, RPO)
    applied = bcdr("apply", "-auto-approve", "-no-color")
    assert applied.exit_code == 0, applied.output  # a check never fails an apply
    assert "Warning: Check block assertion failed" in applied.output
    assert 'on main.hcl line 11, in check "rpo":' in applied.output
    assert "the newest copy (2020-01-01T00:00:00Z) is over 24 hours old" in applied.output

    plan = bcdr("plan", "-no-color", "-detailed-exitcode")
    assert plan.exit_code == 0, plan.output  # no changes: a failed check does not make it 2
    assert "No changes." in plan.output
    assert "Warning: Check block assertion failed" in plan.output

    drift = bcdr("drift", "-no-color")
    assert drift.exit_code == 2, drift.output
    assert "No drift." in drift.output
    assert "Checks: 1 failed (check.rpo)." in drift.output
    assert "is over 24 hours old" in drift.output
    as_json = bcdr("drift", "-json")
    assert as_json.exit_code == 2
    assert _checks(as_json.stdout) == {
        "check.rpo": ("fail", ["the newest copy (2020-01-01T00:00:00Z) is over 24 hours old"])
    }


def test_a_passing_check_leaves_drift_at_0(tmp_path: Path, bcdr) -> None:
    write(tmp_path, RPO.replace("2020-01-01T00:00:00Z", "2999-01-01T00:00:00Z"))
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    drift = bcdr("drift", "-no-color")
    assert drift.exit_code == 0, drift.output
    assert "Checks:" not in drift.output and "Warning" not in drift.output
    assert _checks(bcdr("plan", "-json").output) == {"check.rpo": ("pass", [])}


def test_drift_judges_checks_against_the_refreshed_platform_objects(tmp_path: Path, bcdr) -> None:
    write(
        tmp_path,
        """
        resource "resource_group" "rg" {
          name     = "prod"
          location = "eastus"
        }

        resource "managed_disk" "os" {
          name           = "os"
          resource_group = resource_group.rg.name
          location       = "eastus"
          size_gb        = 0.0078125
          tags           = { backup = "daily" }
        }

        check "disk_is_backed_up" {
          assert {
            condition     = lookup(managed_disk.os.tags, "backup", "") == "daily"
            error_message = "managed_disk.os is not tagged for daily backups"
          }
        }
        """,
    )
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    assert bcdr("drift", "-no-color").exit_code == 0
    show = json.loads(bcdr("show", "-json").output)
    disk_id = next(
        r["values"]["id"]
        for r in show["values"]["root_module"]["resources"]
        if r["address"] == "managed_disk.os"
    )
    tagged = bcdr("platform", "tag", disk_id, "backup=never")
    assert tagged.exit_code == 0, tagged.output
    drift = bcdr("drift", "-no-color")
    assert drift.exit_code == 2, drift.output
    assert "managed_disk.os has changed" in drift.output
    assert "Checks: 1 failed (check.disk_is_backed_up)." in drift.output
    assert "not tagged for daily backups" in drift.output


def test_an_assert_that_cannot_be_evaluated_is_a_warning_too(tmp_path: Path, bcdr) -> None:
    write(
        tmp_path,
        """
        variable "n" {
          default = "many"
        }

        check "count" {
          assert {
            condition     = var.n
            error_message = "n"
          }
        }
        """,
    )
    out = bcdr("plan", "-no-color")
    assert out.exit_code == 0, out.output
    assert "Warning: Invalid assert result" in out.output
    assert 'must be true or false, not "many"' in out.output.replace("'", '"')
    assert bcdr("drift", "-no-color").exit_code == 2


def test_destroy_judges_no_check(tmp_path: Path, bcdr) -> None:
    write(tmp_path, RPO)
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    gone = bcdr("destroy", "-auto-approve", "-no-color")
    assert gone.exit_code == 0, gone.output
    assert "Check block assertion failed" not in gone.output


def test_checks_are_kept_in_a_plan_file(tmp_path: Path, bcdr) -> None:
    write(tmp_path, RPO)
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    saved = bcdr("plan", "-out", "tfplan", "-no-color")
    assert saved.exit_code == 0, saved.output
    shown = bcdr("show", "-json", "tfplan")
    assert shown.exit_code == 0, shown.output
    assert _checks(shown.output)["check.rpo"][0] == "fail"


@pytest.mark.parametrize(
    ("text", "words", "line"),
    [
        ('check "empty" {\n}\n', 'check "empty" has no assert block', 1),
        (
            'check "c" {\n  data = 1\n  assert {\n    condition     = var.v\n'
            '    error_message = "x"\n  }\n}\n',
            'Unsupported argument "data"',
            2,
        ),
        (
            'check "c" {\n  assert {\n    condition     = true\n    error_message = "x"\n  }\n}\n',
            "Invalid assert expression",
            3,
        ),
        (
            'check "c" {\n  assert {\n    condition     = bcdr_data.nope.output\n'
            '    error_message = "x"\n  }\n}\n',
            'Reference to undeclared resource "bcdr_data.nope"',
            3,
        ),
        (
            'check "c" {\n  assert {\n    condition     = var.v\n    error_message = "x"\n'
            '  }\n}\n\ncheck "c" {\n  assert {\n    condition     = var.v\n'
            '    error_message = "x"\n  }\n}\n',
            'Duplicate check "c"',
            8,
        ),
    ],
)
def test_check_blocks_are_checked_by_validate(
    tmp_path: Path, bcdr, text: str, words: str, line: int
) -> None:
    (tmp_path / "main.hcl").write_text(text)
    (tmp_path / "vars.hcl").write_text('variable "v" {\n  default = true\n}\n')
    out = bcdr("validate", "-no-color")
    assert out.exit_code == 1, out.output
    assert words in out.output
    assert f"on main.hcl line {line}" in out.output


def test_drift_help_says_a_failed_check_exits_2(tmp_path: Path, bcdr) -> None:
    out = bcdr("drift", "--help")
    assert out.exit_code == 0
    assert "check block" in out.output and "Exit 2" in out.output


KNOWN_AT_PLAN = """
resource "bcdr_data" "note" {
  input = "x"
}

check "input_is_y" {
  assert {
    condition     = bcdr_data.note.input == "y"
    error_message = "the note's input is not y"
  }
}
"""


def test_apply_auto_approve_warns_of_a_failed_check_once(tmp_path: Path, bcdr) -> None:
    # as Terraform: the plan inside `apply -auto-approve` judges the check too, but only the
    # apply's verdict (against the objects it made) is printed
    write(tmp_path, KNOWN_AT_PLAN)
    planned = bcdr("plan", "-no-color")
    assert planned.output.count("Warning: Check block assertion failed") == 1
    applied = bcdr("apply", "-auto-approve", "-no-color")
    assert applied.exit_code == 0, applied.output
    assert applied.output.count("Warning: Check block assertion failed") == 1
    assert applied.output.index("Apply complete!") > applied.output.index("Warning: Check")


def test_drift_json_carries_the_warnings_and_leaves_stderr_empty(tmp_path: Path, bcdr) -> None:
    write(tmp_path, KNOWN_AT_PLAN)
    assert bcdr("apply", "-auto-approve", "-no-color").exit_code == 0
    as_json = bcdr("drift", "-json")
    assert as_json.exit_code == 2
    assert as_json.stderr == ""  # a JSON reader of stdout and stderr sees JSON only
    (warned,) = json.loads(as_json.stdout)["diagnostics"]
    assert warned["severity"] == "warning"
    assert warned["summary"] == "Check block assertion failed"
    assert warned["address"] == "check.input_is_y"
