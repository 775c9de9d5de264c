"""Intents in the engine: recorded before a step's provider call, reconciled by the next plan.

The test provider here gives ids at plan time (``ids_from_name``), as the platform does, so
a plan can look an interrupted step's object up by its planned id.
"""

from __future__ import annotations

import threading

from engine.plan import Action, Plan
from state import Intent

TWO = """
resource "test_thing" "a" {
  name = "a"
}

resource "test_thing" "b" {
  name = "b-${test_thing.a.fingerprint}"
}
"""


def _left(ws, address: str, action: str, planned_id: str | None, prior_id: str | None = None):
    """What a crash inside the step would leave: the intent of an apply that is gone."""
    ws.state.record_intent(
        Intent(address, action, "gone-apply", "test_thing", "test", planned_id, prior_id)
    )


def test_each_step_commits_its_intent_before_the_provider_and_clears_it_after(ws):
    ws.provider.ids_from_name = True
    ws.write(TWO)
    seen: dict[str, list[tuple[str, str, str | None]]] = {}

    def during(req) -> None:  # on the step's worker thread, as the provider is called
        seen[req.address] = [(i.address, i.action, i.planned_id) for i in ws.state.intents()]

    ws.provider.on_apply = during
    serial = ws.state.serial
    ws.converge()
    assert seen["test_thing.a"] == [("test_thing.a", "create", "thing-a")]
    # b's id is known only once a's fingerprint is: the step records it before applying
    assert seen["test_thing.b"] == [("test_thing.b", "create", "thing-b-fp-a")]
    assert ws.state.intents() == []
    assert ws.state.serial == serial + 2, "one bump per step's result, none for intents"


def test_an_object_under_the_planned_id_is_adopted_tainted_and_replaced(ws):
    ws.provider.ids_from_name = True
    ws.write('resource "test_thing" "a" {\n  name = "a"\n}\n')
    ws.provider.remote["thing-a"] = {"id": "thing-a", "name": "a", "size": 1}
    _left(ws, "test_thing.a", "create", "thing-a")

    plan = ws.ok_plan()
    assert [(r.address, r.outcome, r.id) for r in plan.reconciled] == [
        ("test_thing.a", "adopted", "thing-a")
    ]
    (change,) = plan.changes
    assert (change.action, change.reason) == (Action.DELETE_THEN_CREATE, "tainted")
    assert ws.state.get("test_thing.a") is None, "a plan writes nothing"
    assert Plan.from_json(plan.to_json()) == plan

    result = ws.apply(plan)
    assert result.ok, result.failed
    assert ws.state.intents() == []
    rec = ws.state.get("test_thing.a")
    assert (rec.id, rec.status, rec.attributes["fingerprint"]) == ("thing-a", "ready", "fp-a")
    assert ws.provider.ops("delete") == ["test_thing.a"]  # the adopted object was replaced
    assert ws.actions(ws.ok_plan()) == {"test_thing.a": "no-op"}


def test_an_interrupted_replace_keeps_the_object_it_made_tainted(ws):
    ws.provider.ids_from_name = True
    ws.write('resource "test_thing" "a" {\n  name = "a"\n  zone = "z1"\n}\n')
    ws.converge()
    # the replace for zone z2 deleted the old object and made the new one, then died
    ws.write('resource "test_thing" "a" {\n  name = "a"\n  zone = "z2"\n}\n')
    ws.provider.remote["thing-a"] = {**ws.provider.remote["thing-a"], "zone": "z2"}
    _left(ws, "test_thing.a", "delete-then-create", "thing-a", "thing-a")

    plan = ws.ok_plan()
    assert [(r.address, r.outcome) for r in plan.reconciled] == [("test_thing.a", "adopted")]
    # without the intent the plan would see a finished object and plan nothing
    assert ws.actions(plan) == {"test_thing.a": "delete-then-create"}
    assert ws.apply(plan).ok
    assert ws.actions(ws.ok_plan()) == {"test_thing.a": "no-op"}


def test_a_create_that_made_nothing_is_dropped_and_an_unknown_id_is_warned_about(ws):
    ws.provider.ids_from_name = True
    ws.write('resource "test_thing" "a" {\n  name = "a"\n}\n')
    _left(ws, "test_thing.a", "create", "thing-a")
    _left(ws, "test_thing.gone", "create", None)

    plan, diags = ws.plan()
    assert [(r.address, r.outcome) for r in plan.reconciled] == [
        ("test_thing.a", "dropped"),
        ("test_thing.gone", "dropped"),
    ]
    (warned,) = diags.warnings()
    assert warned.summary == "test_thing.gone: an interrupted apply may have left an object"
    assert "bcdr import test_thing.gone ID" in warned.detail
    assert ws.actions(plan) == {"test_thing.a": "create"}
    assert ws.apply(plan).ok
    assert ws.state.intents() == []


def test_a_refresh_only_apply_records_the_reconciliation(ws):
    ws.provider.ids_from_name = True
    ws.write('resource "test_thing" "a" {\n  name = "a"\n}\n')
    ws.provider.remote["thing-a"] = {"id": "thing-a", "name": "a", "size": 1}
    _left(ws, "test_thing.a", "create", "thing-a")
    assert ws.apply(ws.ok_plan(mode="refresh-only")).ok
    assert ws.state.get("test_thing.a").status == "tainted"
    assert ws.state.intents() == []


def test_a_step_whose_intent_cannot_be_recorded_never_calls_its_provider(ws, monkeypatch):
    ws.provider.ids_from_name = True
    ws.write(TWO)
    plan = ws.ok_plan()
    real = ws.state.record_intent
    calls: list[int] = []

    def full_disk(*intents) -> None:
        calls.append(len(intents))
        if len(calls) == 3:  # b's planned id, known only in its step
            raise OSError(28, "No space left on device")
        real(*intents)

    monkeypatch.setattr(ws.state, "record_intent", full_disk)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            ws.apply(plan, parallelism=1)
        except BaseException as exc:  # noqa: BLE001 - what the apply raised is the check
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "the apply hung: a step waited for its intent for ever"
    assert [type(e) for e in outcome] == [OSError]
    assert ws.provider.ops("apply") == ["test_thing.a"]
    assert ws.state.get("test_thing.a") is not None and ws.state.get("test_thing.b") is None


def test_a_create_whose_object_was_imported_since_is_left_to_the_import(ws):
    ws.provider.ids_from_name = True
    ws.write('resource "test_thing" "a" {\n  name = "a"\n}\n')
    ws.converge()
    _left(ws, "test_thing.a", "create", "thing-a")
    plan = ws.ok_plan()
    assert [(r.address, r.outcome) for r in plan.reconciled] == [("test_thing.a", "dropped")]
    assert ws.actions(plan) == {"test_thing.a": "no-op"}
