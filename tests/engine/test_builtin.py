"""The builtin provider: bcdr_data plan/apply/read/import, and ``bcdr import`` itself."""

from __future__ import annotations

from engine.importer import import_resource
from engine.plan import Action
from providers.builtin.data import BCDR_DATA, provider
from providers.defaults import plan_from_schema
from sdk.values import UNKNOWN

SPEC = """
resource "bcdr_data" "a" {
  input            = { name = "x", n = 1 }
  triggers_replace = "t1"
}
resource "bcdr_data" "b" {
  input = bcdr_data.a.output.name
}
"""


def test_bcdr_data_lifecycle(ws):
    ws.write(SPEC)
    plan = ws.ok_plan()
    a = next(c for c in plan.changes if c.address == "bcdr_data.a")
    assert a.after["output"] is UNKNOWN and a.after["id"] is UNKNOWN
    assert ws.apply(plan).ok
    a_rec = ws.state.get("bcdr_data.a")
    assert a_rec.attributes["output"] == {"name": "x", "n": 1}
    assert len(a_rec.id) == 36  # a uuid4
    assert ws.state.get("bcdr_data.b").attributes["output"] == "x"
    assert not ws.ok_plan().has_changes
    # input change: update in place, output unknown until apply, id kept
    ws.write(SPEC.replace('"x"', '"y"'))
    plan = ws.ok_plan()
    a = next(c for c in plan.changes if c.address == "bcdr_data.a")
    assert a.action is Action.UPDATE and a.after["output"] is UNKNOWN
    assert a.after["id"] == a_rec.id
    assert ws.apply(plan).ok
    assert ws.state.get("bcdr_data.b").attributes["output"] == "y"
    # triggers_replace change: replace with a new id
    ws.write(SPEC.replace('"t1"', '"t2"'))
    plan = ws.ok_plan()
    a = next(c for c in plan.changes if c.address == "bcdr_data.a")
    assert a.action is Action.DELETE_THEN_CREATE and a.replace_paths == ["triggers_replace"]
    assert ws.apply(plan).ok
    assert ws.state.get("bcdr_data.a").id != a_rec.id


def test_read_returns_prior_and_import_refused(ws):
    ws.write(SPEC)
    ws.converge()
    plan = ws.ok_plan(mode="refresh-only")
    assert plan.drift == []
    diags = import_resource(
        ws.config(), ws.state, ws.registry, {}, "bcdr_data.c", "x", working_dir=ws.dir
    )
    assert "not in the configuration" in diags[0].summary
    ws.write(SPEC + 'resource "bcdr_data" "c" {\n}\n')
    diags = import_resource(
        ws.config(), ws.state, ws.registry, {}, "bcdr_data.c", "x", working_dir=ws.dir
    )
    assert diags[0].summary == "bcdr_data.c cannot be imported"
    assert "lives only in state" in diags[0].detail
    assert ws.state.get("bcdr_data.c") is None


def test_import_through_a_provider_that_can(ws):
    ws.write('resource "test_thing" "a" {\n  name = "a"\n}\n')
    ws.provider.remote["thing-9"] = {"name": "a", "size": 1, "id": "thing-9"}
    diags = import_resource(
        ws.config(), ws.state, ws.registry, {}, "test_thing.a", "thing-9", working_dir=ws.dir
    )
    assert not diags.has_errors
    assert ws.state.get("test_thing.a").id == "thing-9"
    again = import_resource(
        ws.config(), ws.state, ws.registry, {}, "test_thing.a", "thing-9", working_dir=ws.dir
    )
    assert again[0].summary == "test_thing.a is already managed by bcdr"


def test_plan_from_schema_defaults_and_replace():
    p = plan_from_schema(BCDR_DATA, None, {"input": 1})
    assert p.planned_state == {
        "input": 1,
        "triggers_replace": None,
        "output": UNKNOWN,
        "id": UNKNOWN,
    }
    prior = {"input": 1, "triggers_replace": "a", "output": 1, "id": "u"}
    p = plan_from_schema(BCDR_DATA, prior, {"input": 1, "triggers_replace": "a"})
    assert p.requires_replace == [] and p.planned_state == prior
    p = plan_from_schema(BCDR_DATA, prior, {"input": 1, "triggers_replace": "b"})
    assert p.requires_replace == ["triggers_replace"] and p.planned_state["id"] is UNKNOWN
    assert plan_from_schema(BCDR_DATA, prior, None).planned_state is None


def test_entry_point_factory():
    p = provider()
    assert p.name == "builtin" and list(p.schemas()) == ["bcdr_data"]
