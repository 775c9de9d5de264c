"""Functions through the commands: a call of an unknown function inside try() at validate,
and timestamp()/plantimestamp() across a saved plan and its apply."""

from __future__ import annotations

import json
import re

from tests.cli.conftest import write


def test_validate_reports_an_unknown_function_inside_try(bcdr, workdir):
    write(workdir, 'output "o" {\n  value = try(uppr("a"), "b")\n}\n')
    result = bcdr("validate", "-json")
    assert result.exit_code == 1
    [diag] = json.loads(result.stdout)["diagnostics"]
    assert diag["summary"] == 'Call to unknown function "uppr"'
    assert diag["detail"].startswith('There is no function named uppr. Did you mean "upper"?')
    assert diag["range"]["filename"] == "main.hcl" and diag["range"]["start"]["line"] == 2


SPEC = """
resource "bcdr_data" "t" {
  input = timestamp()
}
output "plan_time" {
  value = plantimestamp()
}
output "stamp" {
  value = bcdr_data.t.output
}
"""


def test_timestamp_is_known_after_apply_and_plantimestamp_is_the_plans(bcdr, workdir):
    write(workdir, SPEC)
    planned = bcdr("plan", "-no-color", "-out", "p.json")
    assert planned.exit_code == 0, planned.output
    assert "+ input  = (known after apply)" in planned.output
    plan = json.loads((workdir / "p.json").read_text())
    assert plan["output_changes"]["plan_time"]["after"] == plan["created_at"]
    assert plan["output_changes"]["stamp"]["after_unknown"] is True
    applied = bcdr("apply", "-auto-approve", "-no-color", "p.json")
    assert applied.exit_code == 0, applied.output
    outputs = json.loads(bcdr("output", "-json").stdout)
    assert outputs["plan_time"]["value"] == plan["created_at"]  # the plan's, not the apply's
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", outputs["stamp"]["value"])
