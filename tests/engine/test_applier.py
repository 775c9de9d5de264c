"""Applier tests: order, parallelism, failures, cancel, per-step saves, stale plans."""

from __future__ import annotations

import threading
import time

from engine.applier import CancelToken, check_plan_applicable
from engine.plan import Action
from state import StateStore

CHAIN = """
resource "test_thing" "a" {
  name = "a"
}
resource "test_thing" "b" {
  name = "b-${test_thing.a.id}"
}
resource "test_thing" "c" {
  name = "c-${test_thing.b.id}"
}
resource "test_thing" "solo" {
  name = "solo"
}
"""


def _many(n: int) -> str:
    return "".join(f'resource "test_thing" "t{i}" {{\n  name = "t{i}"\n}}\n' for i in range(n))


def test_bounded_parallelism(ws):
    ws.write(_many(12))
    ws.provider.sleep = 0.05
    result = ws.apply(ws.ok_plan(), parallelism=3)
    assert result.ok and result.added == 12
    assert ws.provider.max_active == 3


def test_dependencies_applied_in_order_and_deleted_in_reverse(ws):
    ws.write(CHAIN)
    ws.converge()
    applied = ws.provider.ops("apply")
    assert applied.index("test_thing.a") < applied.index("test_thing.b")
    assert applied.index("test_thing.b") < applied.index("test_thing.c")
    assert ws.state.get("test_thing.c").dependencies == ["test_thing.b"]  # direct only
    ws.write('resource "test_thing" "solo" {\n  name = "solo"\n}\n')
    plan = ws.ok_plan()
    assert plan.counts() == (0, 0, 3)
    result = ws.apply(plan, parallelism=10)
    assert result.ok
    assert ws.provider.ops("delete") == ["test_thing.c", "test_thing.b", "test_thing.a"]


def test_failure_taints_and_skips_dependents_but_not_independent(ws):
    ws.write(CHAIN)
    ws.provider.fail_apply.add("test_thing.a")
    events = []
    result = ws.apply(ws.ok_plan(), on_event=events.append)
    assert not result.ok
    assert [a for a, _ in result.failed] == ["test_thing.a"]
    assert sorted(result.skipped) == ["test_thing.b", "test_thing.c"]
    assert ws.state.get("test_thing.a").status == "tainted"
    assert ws.state.get("test_thing.solo").status == "ready"
    assert ws.state.get("test_thing.b") is None
    kinds = {(e.kind, e.address) for e in events}
    assert ("failed", "test_thing.a") in kinds and ("skipped", "test_thing.c") in kinds
    ws.provider.fail_apply.clear()
    plan = ws.ok_plan()
    a = next(c for c in plan.changes if c.address == "test_thing.a")
    assert (a.action, a.reason) == (Action.DELETE_THEN_CREATE, "tainted")
    assert ws.apply(plan).ok
    assert not ws.ok_plan().has_changes


def test_provider_raising_mid_apply_keeps_finished_steps(ws):
    ws.write(CHAIN)
    ws.provider.raise_apply.add("test_thing.b")
    result = ws.apply(ws.ok_plan(), parallelism=1)
    assert [a for a, _ in result.failed] == ["test_thing.b"]
    assert "boom" in result.failed[0][1][0].detail
    # a fresh connection sees what finished: each step committed on its own
    with StateStore.open(ws.state.path, create=False) as fresh:
        assert sorted(r.address for r in fresh.instances()) == ["test_thing.a", "test_thing.solo"]


def test_cancel_starts_nothing_new_and_saves_what_finished(ws):
    ws.write(_many(6))
    cancel = CancelToken()
    ws.provider.on_apply = lambda req: cancel.request_stop()
    result = ws.apply(ws.ok_plan(), parallelism=1, cancel=cancel)
    assert result.interrupted and not result.ok
    assert len(ws.provider.ops("apply")) == 1
    assert len(ws.state.instances()) == 1
    assert ws.ok_plan().counts() == (5, 0, 0)


def test_state_saved_after_each_step(ws):
    ws.write(CHAIN)
    seen: list[int] = []
    lock = threading.Lock()
    path = ws.state.path

    def count_rows(req):
        with lock, StateStore.open(path, create=False) as other:
            seen.append(len(other.instances()))

    ws.provider.on_apply = count_rows
    assert ws.apply(ws.ok_plan(), parallelism=1).ok
    assert seen == [0, 1, 2, 3]


def test_unknown_becomes_real_value_at_apply(ws):
    ws.write(CHAIN)
    plan = ws.ok_plan()
    b = next(c for c in plan.changes if c.address == "test_thing.b")
    assert b.after["name"] is not None and not isinstance(b.after["name"], str)
    assert ws.apply(plan).ok
    a_id = ws.state.get("test_thing.a").id
    assert ws.state.get("test_thing.b").attributes["name"] == f"b-{a_id}"


def test_saved_plan_checks(ws):
    ws.write(CHAIN)
    plan = ws.ok_plan()
    assert list(check_plan_applicable(plan, ws.state, ws.config())) == []
    ws.converge()
    (d,) = check_plan_applicable(plan, ws.state, ws.config())
    assert d.summary == "Saved plan is stale"
    plan = ws.ok_plan()
    ws.write(CHAIN + "\n# changed\n")
    (d,) = check_plan_applicable(plan, ws.state, ws.config())
    assert d.summary == "Configuration changed since the plan was made"
    other = StateStore.open(ws.dir / "other.db")
    try:
        msgs = [d.summary for d in check_plan_applicable(plan, other, ws.config())]
    finally:
        other.close()
    assert "Saved plan is for a different state" in msgs


def test_plan_apply_plan_no_changes_with_outputs(ws):
    ws.write(CHAIN + 'output "ids" {\n  value = [test_thing.a.id, test_thing.c.name]\n}\n')
    plan = ws.ok_plan()
    assert [o.action for o in plan.outputs] == [Action.CREATE]
    result = ws.apply(plan)
    a_id = ws.state.get("test_thing.a").id
    assert result.outputs["ids"][0][0] == a_id
    assert ws.state.outputs()["ids"][0][0] == a_id
    again = ws.ok_plan()
    assert not again.has_changes


def test_scaling_2000_resources_printed(ws):
    """Plan (empty state), apply and no-change plan of 2,000 linked resources; times printed."""
    n = 2000
    ws.write(
        "".join(
            f'resource "bcdr_data" "r{i}" {{\n  input = bcdr_data.r{i // 2}.id\n}}\n'
            if i
            else 'resource "bcdr_data" "r0" {\n}\n'
            for i in range(n)
        )
    )
    ws.config()  # parse once: the cache serves the timed runs
    t0 = time.perf_counter()
    plan = ws.ok_plan()
    t1 = time.perf_counter()
    result = ws.apply(plan)
    t2 = time.perf_counter()
    again = ws.ok_plan()
    t3 = time.perf_counter()
    print(
        f"\n{n} resources: plan {t1 - t0:.2f}s, apply {t2 - t1:.2f}s, no-change plan {t3 - t2:.2f}s"
    )
    assert result.ok and result.added == n and not again.has_changes


def test_locals_shared_by_parallel_steps(ws):
    ws.write(
        'locals {\n  base = "n-${test_thing.a.id}"\n}\n'
        'resource "test_thing" "a" {\n  name = "a"\n}\n'
        + "".join(
            f'resource "test_thing" "u{i}" {{\n  name = "${{local.base}}-{i}"\n}}\n'
            for i in range(8)
        )
    )
    ws.provider.sleep = 0.02
    result = ws.apply(ws.ok_plan(), parallelism=8)
    assert result.ok, result.failed
    a_id = ws.state.get("test_thing.a").id
    assert ws.state.get("test_thing.u5").attributes["name"] == f"n-{a_id}-5"
    assert ws.state.get("test_thing.u5").dependencies == ["test_thing.a"]
