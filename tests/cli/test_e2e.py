"""End to end through the CLI: plan → apply → plan, saved plans, the lock, bad input, fmt."""

from __future__ import annotations

import re

from state import StateStore
from tests.cli.conftest import dead_lock, hold_lock, release, write

SPEC = """
variable "token" {
  type      = string
  default   = "s3cr3t-token"
  sensitive = true
}

resource "bcdr_data" "base" {
  input = "base"
}

resource "bcdr_data" "items" {
  for_each = toset(["x", "y"])
  input    = "${bcdr_data.base.output}-${each.key}"
}

output "token" {
  value     = var.token
  sensitive = true
}

output "base" {
  value = bcdr_data.base.output
}
"""


def test_plan_apply_then_no_changes(bcdr, workdir):
    write(workdir, SPEC)
    first = bcdr("plan", "-detailed-exitcode", "-no-color")
    assert first.exit_code == 2, first.output
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in first.output
    applied = bcdr("apply", "-auto-approve", "-no-color")
    assert applied.exit_code == 0, applied.output
    assert "Apply complete! Resources: 3 added, 0 changed, 0 destroyed." in applied.output
    assert "token = <sensitive>" in applied.output
    assert "s3cr3t-token" not in applied.output
    unchanged = bcdr("apply", "-auto-approve", "-no-color")
    assert "Apply complete! Resources: 0 added, 0 changed, 0 destroyed." in unchanged.output
    assert 'base = "base"' in unchanged.output and "token = <sensitive>" in unchanged.output
    again = bcdr("plan", "-detailed-exitcode", "-no-color")
    assert again.exit_code == 0, again.output
    assert "No changes. Your infrastructure matches the configuration." in again.output
    assert bcdr("drift").exit_code == 0
    with StateStore.open(workdir / ".bcdr" / "state.db") as store:
        (last,) = store.history(limit=1)
    assert last["operation"] == "apply" and last["status"] == "ok"
    assert last["summary"]["added"] == 3


def test_saved_plan_goes_stale_when_state_moves(bcdr, workdir):
    write(workdir, SPEC)
    assert bcdr("apply", "-auto-approve").exit_code == 0
    write(workdir, SPEC.replace('input = "base"', 'input = "base2"'))
    assert bcdr("plan", "-out", "p").exit_code == 0
    assert bcdr("apply", "-auto-approve").exit_code == 0  # moves the state on
    stale = bcdr("apply", "-no-color", "p")
    assert stale.exit_code == 1
    assert "Error: Saved plan is stale" in stale.output
    assert "bcdr plan -out FILE" in stale.output


def test_saved_plan_refused_when_specs_changed(bcdr, workdir):
    write(workdir, SPEC)
    assert bcdr("plan", "-out", "p").exit_code == 0
    write(workdir, SPEC + '\nresource "bcdr_data" "late" {}\n')
    refused = bcdr("apply", "p")
    assert refused.exit_code == 1
    assert "Configuration changed since the plan was made" in refused.output


def test_second_apply_fails_at_once_naming_the_holder(bcdr, workdir):
    write(workdir, SPEC)
    bcdr("init")
    state_path = workdir / ".bcdr" / "state.db"
    proc, lock_id = hold_lock(state_path, "apply")
    try:
        result = bcdr("apply", "-auto-approve", "-no-color")
    finally:
        release(proc)
    assert result.exit_code == 1
    out = result.output
    assert "Error acquiring the state lock" in out
    assert lock_id in out
    assert f"PID:       {proc.pid}" in out
    assert "Operation: apply" in out
    assert re.search(r"Created:\s+\d{4}-\d\d-\d\dT", out)
    assert "Traceback" not in out
    with StateStore.open(state_path) as store:
        assert store.instances() == []


def test_lock_of_a_dead_holder_is_cleared_with_a_note(bcdr, workdir):
    write(workdir, SPEC)
    bcdr("init")
    lock_id = dead_lock(workdir / ".bcdr" / "state.db")
    result = bcdr("plan", "-no-color")
    assert result.exit_code == 0, result.output
    assert "Removed a stale state lock" in result.output
    assert lock_id in result.output and "no longer running" in result.output
    assert not (workdir / ".bcdr" / "state.db.lock.info").exists()


def test_force_unlock_removes_the_lock_of_a_holder_bcdr_cannot_prove_dead(bcdr, workdir):
    write(workdir, SPEC)
    bcdr("init")
    proc, lock_id = hold_lock(workdir / ".bcdr" / "state.db", "apply")
    try:
        blocked = bcdr("plan", "-no-color")
        assert blocked.exit_code == 1
        assert f"bcdr force-unlock {lock_id}" in blocked.output
        wrong = bcdr("force-unlock", "-force", "not-the-id")
        assert wrong.exit_code == 1 and "Traceback" not in wrong.output
        assert "does not match" in wrong.output
        refused = bcdr("force-unlock", lock_id, input="no\n")
        assert refused.exit_code == 1
        unlocked = bcdr("force-unlock", "-force", lock_id)
        assert unlocked.exit_code == 0, unlocked.output
        assert "successfully unlocked" in unlocked.output
        assert bcdr("plan").exit_code == 0
    finally:
        release(proc)
    assert proc.returncode == 0  # releasing a lock that was force-unlocked is harmless


BAD = """
variable "n" {
  type = number
}

resource "bcdr_data" "a" {
  inptu = "typo"
}

resource "mystery_type" "b" {
  x = 1
}

resource "bcdr_data" "c" {
  input = bcdr_data.nowhere.output
}
"""


def test_bad_input_reported_together_and_state_untouched(bcdr, workdir):
    write(workdir, SPEC)
    assert bcdr("apply", "-auto-approve").exit_code == 0
    state_file = workdir / ".bcdr" / "state.db"
    before = state_file.read_bytes()
    write(workdir, BAD, "bad.hcl")
    for args in (("plan",), ("apply", "-auto-approve"), ("validate",)):
        result = bcdr(*args, "-no-color")
        assert result.exit_code == 1, (args, result.output)
        out = result.output
        assert "Traceback" not in out
        assert 'Error: Unsupported argument "inptu"' in out
        assert "on bad.hcl line 6" in out
        assert 'Unknown resource type "mystery_type"' in out
        assert "on bad.hcl line 9" in out
        assert "bcdr_data.nowhere" in out and "on bad.hcl line 14" in out
        if args[0] != "validate":
            assert 'No value for required variable "n"' in out
            assert "on bad.hcl line 1" in out
    assert state_file.read_bytes() == before


def test_syntax_error_names_file_and_line(bcdr, workdir):
    write(workdir, 'resource "bcdr_data" "a" {\n  input = "x"\n', "broken.hcl")
    result = bcdr("plan", "-no-color")
    assert result.exit_code == 1
    assert "on broken.hcl line" in result.output
    assert "Traceback" not in result.output


def test_output_raw_prints_a_sensitive_value(bcdr, workdir):
    write(workdir, SPEC)
    assert bcdr("apply", "-auto-approve").exit_code == 0
    assert bcdr("output", "-raw", "token").output == "s3cr3t-token"
    assert bcdr("output", "token").output.strip() == "(sensitive value)"
    listed = bcdr("output").output
    assert "token = <sensitive>" in listed and "s3cr3t" not in listed
    assert '"s3cr3t-token"' in bcdr("output", "-json").output
    complex_raw = bcdr("output", "-raw")
    assert complex_raw.exit_code == 1


def test_fmt_check_exit_codes_and_rewrite(bcdr, workdir):
    tidy = 'resource "bcdr_data" "a" {\n  input = "x"\n}\n'
    messy = 'resource "bcdr_data" "b" {\ninput="y"\n    triggers_replace = 1\n}\n'
    write(workdir, tidy, "a.hcl")
    ok = bcdr("fmt", "-check")
    assert ok.exit_code == 0 and ok.output == ""
    write(workdir, messy, "b.hcl")
    check = bcdr("fmt", "-check", "-diff")
    assert check.exit_code == 3
    assert "b.hcl" in check.output and "a.hcl" not in check.output.replace("old/", "")
    assert "+++ new/b.hcl" in check.output
    assert (workdir / "b.hcl").read_text() == messy, "-check must not rewrite"
    fixed = bcdr("fmt")
    assert fixed.exit_code == 0 and fixed.output.strip() == "b.hcl"
    assert (workdir / "b.hcl").read_text() != messy
    assert bcdr("fmt", "-check").exit_code == 0


def test_graph_parses_as_dot(bcdr, workdir):
    write(workdir, SPEC)
    out = bcdr("graph").output
    lines = [line.strip() for line in out.strip().splitlines()]
    assert lines[0].startswith("digraph") and lines[0].endswith("{") and lines[-1] == "}"
    edges = {tuple(re.findall(r'"([^"]+)"', line)) for line in lines if "->" in line}
    assert ("bcdr_data.items", "bcdr_data.base") in edges
    nodes = set(re.findall(r'^"([^"]+)" \[', out, re.M)) | {
        n for line in lines for n in re.findall(r'^"([^"]+)" \[', line)
    }
    assert {"bcdr_data.base", "bcdr_data.items"} <= nodes


def test_destroy_then_plan_recreates(bcdr, workdir):
    write(workdir, SPEC)
    assert bcdr("apply", "-auto-approve").exit_code == 0
    gone = bcdr("destroy", "-auto-approve", "-no-color")
    assert gone.exit_code == 0, gone.output
    assert "Destroy complete! Resources: 3 destroyed." in gone.output
    nothing = bcdr("destroy", "-auto-approve", "-no-color")
    assert "No changes. No objects need to be destroyed." in nothing.output
    assert bcdr("plan", "-detailed-exitcode").exit_code == 2


def test_a_file_that_is_not_a_state_is_refused_untouched(bcdr, workdir):
    write(workdir, SPEC)
    state_file = workdir / ".bcdr" / "state.db"
    state_file.parent.mkdir()
    state_file.write_bytes(b"definitely not sqlite\n" * 10)
    before = state_file.read_bytes()
    for args in (("plan",), ("apply", "-auto-approve"), ("state", "list"), ("show",)):
        result = bcdr(*args)
        assert result.exit_code == 1, (args, result.output)
        assert "Error:" in result.output
        assert "internal error" not in result.output and "Traceback" not in result.output
    assert state_file.read_bytes() == before
