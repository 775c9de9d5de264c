"""resource_group through the real CLI: plan, apply, no changes, drift, import, destroy."""

from __future__ import annotations

from tests.providers.conftest import Workspace

GROUP = """
resource "resource_group" "rg" {
  name     = "prod"
  location = "eastus"
  tags     = { owner = "ops" }
}
"""


def test_group_plan_apply_no_changes_and_destroy(ws: Workspace) -> None:
    ws.write(GROUP)
    ws.ok("init")
    plan = ws.ok("plan", "-no-color")
    assert "/resourceGroups/prod" in plan  # the id is known at plan time
    ws.apply()
    ws.plan_is_clean()
    state = ws.state("resource_group.rg")
    assert state is not None
    with ws.fabric() as fab:
        sub = fab.default_subscription
        assert state["id"] == f"/subscriptions/{sub}/resourceGroups/prod"
        assert state["subscription"] == sub
        row = fab.get_resource(state["id"])
        assert row["type"] == "Microsoft.Resources/resourceGroups"
        assert row["region"] == "eastus"
        assert row["properties"]["tags"] == {"owner": "ops"}
    ws.ok("destroy", "-auto-approve", "-no-color")
    with ws.fabric() as fab:
        assert fab.get_resource(state["id"]) is None
    assert ws.state("resource_group.rg") is None


def test_bad_region_is_a_plan_error_with_file_line(ws: Workspace) -> None:
    ws.write(GROUP.replace('"eastus"', '"atlantis"'))
    ws.ok("init")
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1
    assert 'Invalid value for "location"' in result.output
    assert "main.hcl line 3" in result.output
    assert '"atlantis" is not an allowed value. Use one of: ' in result.output
    assert "Traceback" not in result.output


def test_a_misspelt_region_is_found_by_validate_with_did_you_mean(ws: Workspace) -> None:
    ws.write(GROUP.replace('"eastus"', '"eastuss"'))
    result = ws.run("validate", "-no-color")
    assert result.exit_code == 1
    assert 'Invalid value for "location"' in result.output and "main.hcl line 3" in result.output
    assert '"eastuss" is not an allowed value. Did you mean "eastus"?' in result.output
    # Azure compares region names without case or spaces: "East US" is eastus
    ws.write(GROUP.replace('"eastus"', '"East US"'))
    assert ws.run("validate", "-no-color").exit_code == 0


def test_a_bool_location_is_a_type_error(ws: Workspace) -> None:
    ws.write(GROUP.replace('"eastus"', "true"))
    result = ws.run("validate", "-no-color")
    assert result.exit_code == 1
    assert 'Incorrect attribute value type for "location"' in result.output
    assert "resource_group.rg.location must be a string, not a bool" in result.output
    assert "Invalid location" not in result.output


def test_unknown_subscription_is_a_plan_error(ws: Workspace) -> None:
    ws.write(
        GROUP.replace("  tags", '  subscription = "00000000-0000-0000-0000-000000000001"\n  tags')
    )
    ws.ok("init")
    result = ws.run("plan", "-no-color")
    assert result.exit_code == 1
    assert "does not exist" in result.output and "main.hcl line 4" in result.output


def test_tag_set_outside_is_drift_and_apply_resets_it(ws: Workspace) -> None:
    ws.write(GROUP)
    ws.ok("init")
    ws.apply()
    gid = ws.state("resource_group.rg")["id"]
    with ws.fabric() as fab:
        row = fab.get_resource(gid)
        props = dict(row["properties"], tags={"owner": "someone-else"})
        fab.put_resource(gid, row["type"], row["region"], props)
    drift = ws.run("drift", "-no-color")
    assert drift.exit_code == 2, drift.output
    assert "someone-else" in drift.output
    ws.apply()
    with ws.fabric() as fab:
        assert fab.get_resource(gid)["properties"]["tags"] == {"owner": "ops"}
    assert ws.run("drift").exit_code == 0
    ws.plan_is_clean()


def test_location_change_replaces_and_tags_update_in_place(ws: Workspace) -> None:
    ws.write(GROUP)
    ws.ok("init")
    ws.apply()
    ws.write(GROUP.replace('"ops"', '"dev"'))
    plan = ws.ok("plan", "-no-color")
    assert "1 to change" in plan and "0 to destroy" in plan
    ws.write(GROUP.replace('"eastus"', '"westus"'))
    plan = ws.ok("plan", "-no-color")
    assert "must be replaced" in plan or "1 to destroy" in plan


def test_import_by_id(ws: Workspace) -> None:
    ws.write(GROUP)
    ws.ok("init")
    ws.apply()
    gid = ws.state("resource_group.rg")["id"]
    ws.ok("state", "rm", "resource_group.rg")
    out = ws.ok("import", "resource_group.rg", gid)
    assert "Import" in out or "import" in out
    assert ws.state("resource_group.rg")["id"] == gid
    ws.plan_is_clean()
