"""The CLI against the engine tests' TestProvider: drift, failed steps, notes and cost.

The provider is installed through a real ``bcdr.providers`` entry point (see conftest).
"""

from __future__ import annotations

import json
import re

from state import StateStore
from tests.cli.conftest import write

SPEC = """
resource "test_thing" "a" {
  name   = "a"
  secret = "pa55word"
}

resource "test_thing" "b" {
  name = "b"
}

resource "test_thing" "c" {
  name = "c"
  ref  = test_thing.b.id
}
"""


def test_drift_exit_2_until_accepted(bcdr, workdir, test_provider):
    write(workdir, SPEC)
    assert bcdr("apply", "-auto-approve").exit_code == 0
    assert bcdr("drift").exit_code == 0
    thing = next(o for o in test_provider.remote.values() if o["name"] == "b")
    thing["size"] = 5
    drift = bcdr("drift", "-no-color")
    assert drift.exit_code == 2, drift.output
    assert "Objects have changed outside of bcdr" in drift.output
    assert "  # test_thing.b has changed" in drift.output
    assert "      ~ size = 1 -> 5" in drift.output
    assert json.loads(bcdr("drift", "-json").stdout)["resource_drift"][0]["address"] == (
        "test_thing.b"
    )
    refresh_only = bcdr("plan", "-refresh-only", "-detailed-exitcode", "-no-color")
    assert refresh_only.exit_code == 2
    assert "This is a refresh-only plan" in refresh_only.output
    accepted = bcdr("apply", "-refresh-only", "-auto-approve", "-no-color")
    assert accepted.exit_code == 0, accepted.output
    assert bcdr("drift").exit_code == 0
    with StateStore.open(workdir / ".bcdr" / "state.db") as store:
        assert store.get("test_thing.b").attributes["size"] == 5


def test_failed_step_taints_skips_dependents_and_exits_1(bcdr, workdir, test_provider):
    write(workdir, SPEC)
    test_provider.fail_apply = {"test_thing.b"}
    result = bcdr("apply", "-auto-approve", "-no-color")
    assert result.exit_code == 1
    out = result.output
    assert "Error: apply of test_thing.b failed" in out
    assert "test_thing.b: Creation failed after" in out
    assert "test_thing.c: Skipped" in out
    assert "test_thing.a: Creation complete" in out
    assert "Apply failed. Resources: 1 added, 0 changed, 0 destroyed." in out
    assert "Traceback" not in out
    with StateStore.open(workdir / ".bcdr" / "state.db") as store:
        assert store.get("test_thing.b").status == "tainted"
        assert store.get("test_thing.c") is None
    test_provider.fail_apply = set()
    replan = bcdr("plan", "-no-color")
    assert "# test_thing.b is tainted, so must be replaced" in replan.output
    assert bcdr("apply", "-auto-approve").exit_code == 0
    assert bcdr("plan", "-detailed-exitcode").exit_code == 0


def test_notes_cost_and_sensitive_attributes(bcdr, workdir, test_provider):
    write(workdir, SPEC)
    plan = bcdr("plan", "-no-color")
    assert plan.exit_code == 0, plan.output
    assert "        # note: a test note" in plan.output
    assert "        # cost: 7 B to snapshot" in plan.output
    assert "Cost: 21 B to snapshot." in plan.output
    assert re.search(r"\+ secret += \(sensitive value\)", plan.output)
    assert "pa55word" not in plan.output
    assert bcdr("apply", "-auto-approve").exit_code == 0
    shown = bcdr("state", "show", "-no-color", "test_thing.a").output
    assert "secret" in shown and "pa55word" not in shown
    assert "pa55word" not in bcdr("show", "-no-color").output
    data = json.loads(bcdr("show", "-json").stdout)
    a = next(r for r in data["values"]["root_module"]["resources"] if r["name"] == "a")
    assert a["sensitive_values"] == {"secret": True}


def test_import_brings_an_existing_object_under_management(bcdr, workdir, test_provider):
    write(workdir, 'resource "test_thing" "x" {\n  name = "x"\n}\n')
    test_provider.remote["thing-77"] = {"id": "thing-77", "name": "x", "size": 1}
    result = bcdr("import", "-no-color", "test_thing.x", "thing-77")
    assert result.exit_code == 0, result.output
    assert "Import successful!" in result.output
    assert bcdr("state", "list").output.split() == ["test_thing.x"]
    again = bcdr("import", "test_thing.x", "thing-77")
    assert again.exit_code == 1 and "already managed" in again.output
    missing = bcdr("import", "-no-color", "test_thing.x", "thing-0")
    assert missing.exit_code == 1 and "internal error" not in missing.output
