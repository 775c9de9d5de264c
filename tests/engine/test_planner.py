"""Planner tests: real spec files, a real state file, the builtin and the test provider."""

from __future__ import annotations

from engine.plan import Action, Plan
from engine.planner import validate
from sdk.values import UNKNOWN

TWO = """
resource "test_thing" "a" {
  name = "a"
  zone = "z1"
}
resource "test_thing" "b" {
  name = "b-${test_thing.a.id}"
}
"""


def test_create_then_no_changes(ws):
    ws.write(TWO)
    plan = ws.ok_plan()
    assert ws.actions(plan) == {"test_thing.a": "create", "test_thing.b": "create"}
    b = next(c for c in plan.changes if c.address == "test_thing.b")
    assert b.after["name"] is UNKNOWN  # references a computed attribute
    assert b.dependencies == ["test_thing.a"]
    assert b.cost == {"bytes_to_snapshot": 7} and b.notes == ["a test note"]
    assert plan.counts() == (2, 0, 0)
    result = ws.apply(plan)
    assert result.ok and result.added == 2
    a_id = ws.state.get("test_thing.a").id
    assert ws.state.get("test_thing.b").attributes["name"] == f"b-{a_id}"
    assert ws.state.get("test_thing.b").dependencies == ["test_thing.a"]
    again = ws.ok_plan()
    assert not again.has_changes
    assert set(ws.actions(again).values()) == {"no-op"}


def test_plan_writes_nothing(ws):
    ws.write(TWO)
    ws.converge()
    ws.write(TWO.replace('"a"\n  zone', '"a2"\n  zone'))
    path = ws.state.path
    before = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    wal_before = wal.read_bytes() if wal.exists() else b""
    plan = ws.ok_plan()
    assert plan.has_changes
    assert path.read_bytes() == before
    assert (wal.read_bytes() if wal.exists() else b"") == wal_before


def test_update_in_place_and_unknown_computed(ws):
    ws.write(TWO)
    ws.converge()
    ws.write(TWO.replace('name = "a"', 'name = "a2"'))
    plan = ws.ok_plan()
    a = next(c for c in plan.changes if c.address == "test_thing.a")
    assert a.action is Action.UPDATE
    assert a.after["fingerprint"] is UNKNOWN and a.after["id"] == a.before["id"]
    result = ws.apply(plan)
    assert result.ok and result.changed == 1
    assert ws.state.get("test_thing.a").attributes["fingerprint"] == "fp-a2"


def test_force_new_replaces(ws):
    ws.write(TWO)
    ws.converge()
    old_id = ws.state.get("test_thing.a").id
    ws.write(TWO.replace('"z1"', '"z2"'))
    plan = ws.ok_plan()
    a = next(c for c in plan.changes if c.address == "test_thing.a")
    assert a.action is Action.DELETE_THEN_CREATE
    assert a.replace_paths == ["zone"] and a.reason == "replace_because_cannot_update"
    assert a.after["id"] is UNKNOWN
    # b's name uses a's id, which becomes unknown: b updates
    assert ws.actions(plan)["test_thing.b"] == "update"
    ws.provider.calls.clear()
    result = ws.apply(plan)
    assert result.ok and (result.added, result.changed, result.destroyed) == (1, 1, 1)
    assert ws.provider.calls[:2] == [("delete", "test_thing.a"), ("apply", "test_thing.a")]
    assert ws.state.get("test_thing.a").id != old_id
    assert not ws.ok_plan().has_changes


def test_create_before_destroy_order(ws):
    spec = TWO.replace(
        'zone = "z1"', 'zone = "z1"\n  lifecycle {\n    create_before_destroy = true\n  }'
    )
    ws.write(spec)
    ws.converge()
    ws.write(spec.replace('"z1"', '"z2"'))
    plan = ws.ok_plan()
    assert ws.actions(plan)["test_thing.a"] == "create-then-delete"
    ws.provider.calls.clear()
    assert ws.apply(plan).ok
    assert ws.provider.calls[:2] == [("apply", "test_thing.a"), ("delete", "test_thing.a")]


def test_prevent_destroy_is_an_error_with_file_line(ws):
    spec = (
        'resource "test_thing" "a" {\n  name = "a"\n'
        "  lifecycle {\n    prevent_destroy = true\n  }\n}\n"
    )
    ws.write(spec)
    ws.converge()
    plan, diags = ws.plan(mode="destroy")
    assert diags.has_errors
    d = diags.errors()[0]
    assert d.summary == "Instance cannot be destroyed"
    assert "main.hcl:" in d.detail and d.address == "test_thing.a"
    ws.write(spec.replace('"a"\n  lifecycle', '"a"\n  zone = "new"\n  lifecycle'))
    _, diags = ws.plan()
    assert any(d.summary == "Instance cannot be destroyed" for d in diags)


def test_ignore_changes_keeps_prior_value(ws):
    spec = """
resource "test_thing" "a" {
  name = "a"
  size = 3
  lifecycle {
    ignore_changes = [size]
  }
}
"""
    ws.write(spec)
    ws.converge()
    ws.write(spec.replace("size = 3", "size = 9"))
    plan = ws.ok_plan()
    assert ws.actions(plan) == {"test_thing.a": "no-op"}


def test_count_and_for_each_expand_and_shrink(ws):
    spec = """
variable "n" {
  type    = number
  default = 3
}
variable "keys" {
  type    = list(string)
  default = ["x", "y"]
}
resource "bcdr_data" "c" {
  count = var.n
  input = count.index
}
resource "bcdr_data" "e" {
  for_each = toset(var.keys)
  input    = "${each.key}-${each.value}"
}
"""
    ws.write(spec)
    plan = ws.ok_plan()
    assert sorted(ws.actions(plan)) == [
        "bcdr_data.c[0]",
        "bcdr_data.c[1]",
        "bcdr_data.c[2]",
        'bcdr_data.e["x"]',
        'bcdr_data.e["y"]',
    ]
    assert ws.apply(plan).ok
    assert ws.state.get('bcdr_data.e["y"]').attributes["output"] == "y-y"
    ws.variables = {"n": 1, "keys": ["y"]}
    plan = ws.ok_plan()
    got = {c.address: (c.action.value, c.reason) for c in plan.resource_changes()}
    assert got == {
        "bcdr_data.c[1]": ("delete", "delete_because_count_index"),
        "bcdr_data.c[2]": ("delete", "delete_because_count_index"),
        'bcdr_data.e["x"]': ("delete", "delete_because_each_key"),
    }
    assert ws.apply(plan).ok
    assert [r.address for r in ws.state.instances()] == ["bcdr_data.c[0]", 'bcdr_data.e["y"]']


def test_orphan_is_deleted(ws):
    ws.write(TWO)
    ws.converge()
    ws.write('resource "test_thing" "a" {\n  name = "a"\n  zone = "z1"\n}\n')
    plan = ws.ok_plan()
    b = next(c for c in plan.changes if c.address == "test_thing.b")
    assert (b.action, b.reason) == (Action.DELETE, "delete_because_no_resource_config")


def test_target_plans_only_target_and_dependencies(ws):
    ws.write(TWO + 'resource "test_thing" "c" {\n  name = "c"\n}\n')
    plan = ws.ok_plan(targets=["test_thing.b"])
    assert sorted(ws.actions(plan)) == ["test_thing.a", "test_thing.b"]
    assert ws.apply(plan).ok
    assert ws.state.get("test_thing.c") is None
    assert sorted(ws.actions(ws.ok_plan(targets=["test_thing.c"]))) == ["test_thing.c"]


def test_replace_by_request_and_tainted(ws):
    ws.write(TWO)
    ws.converge()
    plan = ws.ok_plan(replace=["test_thing.a"])
    a = next(c for c in plan.changes if c.address == "test_thing.a")
    assert (a.action, a.reason) == (Action.DELETE_THEN_CREATE, "replace_by_request")
    ws.state.set_status("test_thing.b", "tainted")
    plan = ws.ok_plan()
    b = next(c for c in plan.changes if c.address == "test_thing.b")
    assert (b.action, b.reason) == (Action.DELETE_THEN_CREATE, "tainted")
    assert ws.apply(plan).ok
    assert ws.state.get("test_thing.b").status == "ready"


def test_drift_found_by_read(ws):
    ws.write(TWO)
    ws.converge()
    a_id = ws.state.get("test_thing.a").id
    b_id = ws.state.get("test_thing.b").id
    ws.provider.remote[a_id]["size"] = 42
    del ws.provider.remote[b_id]
    plan = ws.ok_plan(mode="refresh-only")
    assert plan.changes == []
    drift = {c.address: c.action for c in plan.drift}
    assert drift == {"test_thing.a": Action.UPDATE, "test_thing.b": Action.DELETE}
    assert ws.apply(plan).ok
    assert ws.state.get("test_thing.a").attributes["size"] == 42
    assert ws.state.get("test_thing.b") is None
    plan = ws.ok_plan()
    assert ws.actions(plan) == {"test_thing.a": "update", "test_thing.b": "create"}


def test_destroy_mode_and_outputs(ws):
    ws.write(TWO + 'output "a_name" {\n  value = test_thing.a.name\n}\n')
    ws.converge()
    assert ws.state.outputs() == {"a_name": ("a", False)}
    plan = ws.ok_plan(mode="destroy")
    assert set(ws.actions(plan).values()) == {"delete"}
    ws.provider.calls.clear()
    result = ws.apply(plan)
    assert result.ok and result.destroyed == 2
    assert ws.provider.ops("delete") == ["test_thing.b", "test_thing.a"]
    assert ws.state.instances() == [] and ws.state.outputs() == {}


def test_sensitive_attrs_from_schema_and_variable(ws):
    ws.write(
        'variable "pw" {\n  default = "s3cret"\n  sensitive = true\n}\n'
        'resource "test_thing" "a" {\n  name = var.pw\n  secret = "x"\n}\n'
    )
    plan = ws.ok_plan()
    assert plan.changes[0].sensitive_attrs == ["name", "secret"]


def test_plan_json_round_trip_and_metadata(ws):
    ws.write(TWO)
    plan = ws.ok_plan()
    assert plan.lineage == ws.state.lineage and plan.serial == ws.state.serial
    assert len(plan.config_hash) == 64
    assert Plan.from_json(plan.to_json()) == plan


def test_validate_reports_everything_together(ws):
    ws.write(
        """
resource "nope_thing" "x" {
}
resource "test_thing" "a" {
  nmae  = "a"
  size  = "big"
  kind  = "c"
  other = var.missing
  lifecycle {
    ignore_changes = [sise]
  }
}
resource "test_thing" "b" {
  name = local.gone
  ref  = test_thing.zzz.id
}
"""
    )
    diags = validate(ws.config(), ws.registry, {})
    text = "\n".join(f"{d.summary} | {d.detail}" for d in diags)
    assert 'Unknown resource type "nope_thing"' in text and 'Did you mean "test_thing"?' in text
    assert 'Unsupported argument "nmae"' in text and 'Did you mean "name"?' in text
    assert 'Missing required argument "name"' in text
    assert 'undeclared input variable "missing"' in text
    assert 'undeclared local value "gone"' in text
    assert 'undeclared resource "test_thing.zzz"' in text
    assert "ignore_changes names unknown attribute" in text
    assert 'Invalid value for "size"' in text
    assert "kind must be a or b" in text
    assert all(d.range is not None and d.range.filename == "main.hcl" for d in diags)


def test_provider_validate_and_nested_block(ws):
    ws.write(
        'resource "test_thing" "a" {\n  name = "forbidden"\n  network {\n'
        '    subnet = "s1"\n  }\n}\n'
    )
    plan, diags = ws.plan()
    assert [d.summary for d in diags.errors()] == ["name may not be forbidden"]
    ws.write('resource "test_thing" "a" {\n  name = "x"\n  network {\n    subnet = "s1"\n  }\n}\n')
    plan = ws.ok_plan()
    assert plan.changes[0].after["network"] == {"subnet": "s1", "ip": "10.0.0.1"}
    ws.write('resource "test_thing" "a" {\n  name = "x"\n  network {\n  }\n}\n')
    _, diags = ws.plan()
    assert [d.summary for d in diags.errors()] == ['Missing required argument "subnet"']


def test_cycle_error_names_every_address(ws):
    ws.write(
        """
resource "bcdr_data" "a" {
  input = bcdr_data.b.output
}
resource "bcdr_data" "b" {
  input = bcdr_data.c.output
}
resource "bcdr_data" "c" {
  input = bcdr_data.a.output
}
"""
    )
    _, diags = ws.plan()
    (d,) = diags.errors()
    assert d.summary == "Cycle: bcdr_data.a -> bcdr_data.b -> bcdr_data.c -> bcdr_data.a"
    for line in ("main.hcl:2", "main.hcl:5", "main.hcl:8"):
        assert line in d.detail


def test_target_matching_nothing_warns(ws):
    ws.write(TWO)
    plan, diags = ws.plan(targets=["test_thing.nope"])
    assert not diags.has_errors
    assert [d.summary for d in diags.warnings()] == ["-target test_thing.nope matches nothing"]
    assert plan.changes == [] and plan.warnings


def test_provider_blocks_configure_providers(ws):
    ws.write(
        'variable "r" {\n  default = "r1"\n}\n'
        'provider "test" {\n  region = var.r\n}\n'
        'resource "test_thing" "a" {\n  name = "a"\n}\n'
    )
    ws.ok_plan()
    ctx = ws.provider.configured
    assert ctx.config == {"region": "r1"} and ctx.data_dir == ws.dir / ".bcdr"
    assert str(ctx.config_range) == "main.hcl:4"
    ws.write('provider "nosuch" {\n}\n')
    _, diags = ws.plan()
    assert [d.summary for d in diags.errors()] == ['Unknown provider "nosuch"']
    ws.write('provider "builtin" {\n  x = 1\n}\n')
    _, diags = ws.plan()
    assert [d.summary for d in diags.errors()] == ['The builtin provider has no argument "x"']
