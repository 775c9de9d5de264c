"""Intents of apply steps: committed on their own before a step, cleared with its result."""

from __future__ import annotations

import sqlite3

import pytest

from state import Intent, StateStore
from tests.state import rec


@pytest.fixture
def path(tmp_path):
    return tmp_path / ".bcdr" / "state.db"


def _intent(address: str = "bcdr_data.a", **kw) -> Intent:
    fields = {
        "action": "create",
        "apply_id": "apply-1",
        "type": "bcdr_data",
        "provider": "builtin",
        "planned_id": "/subscriptions/s/x/a",
        "dependencies": ["bcdr_data.c", "bcdr_data.c", "bcdr_data.d"],
    }
    fields.update(kw)
    return Intent(address, **fields)


def test_an_intent_is_durable_at_once_and_keeps_every_field(path):
    with StateStore.open(path) as store:
        serial = store.serial
        store.record_intent(_intent(prior_id="old"))
        # committed: another connection (another process after a crash) sees it
        row = sqlite3.connect(path).execute("SELECT address, action FROM intents").fetchall()
        assert row == [("bcdr_data.a", "create")]
        assert store.serial == serial, "an intent is bookkeeping: a saved plan stays valid"
    with StateStore.open(path) as store:
        (got,) = store.intents()
    assert got.address == "bcdr_data.a"
    assert (got.action, got.apply_id, got.type, got.provider) == (
        "create",
        "apply-1",
        "bcdr_data",
        "builtin",
    )
    assert (got.planned_id, got.prior_id) == ("/subscriptions/s/x/a", "old")
    assert got.dependencies == ["bcdr_data.c", "bcdr_data.d"]
    assert got.created_at.endswith("Z")


def test_the_step_result_and_the_cleared_intent_commit_together(path):
    with StateStore.open(path) as store:
        store.record_intent(_intent())
        serial = store.serial
        with store.transaction():
            store.put(rec(name="a"))
            store.clear_intent("bcdr_data.a", "apply-1")
        assert store.intents() == []
        assert store.serial == serial + 1  # the one bump of the step's result
        # a failed save loses neither: the intent stays for the next plan to reconcile
        store.record_intent(_intent("bcdr_data.b"))
        with pytest.raises(RuntimeError):
            with store.transaction():
                store.put(rec(name="b"))
                store.clear_intent("bcdr_data.b")
                raise RuntimeError("killed half-way")
        assert [i.address for i in store.intents()] == ["bcdr_data.b"]
        assert store.get("bcdr_data.b") is None


def test_clearing_names_the_apply_and_an_intent_is_never_part_of_a_group(path):
    with StateStore.open(path) as store:
        store.record_intent(_intent(apply_id="apply-1"))
        store.clear_intent("bcdr_data.a", "apply-2")  # another apply's: left alone
        assert [i.apply_id for i in store.intents()] == ["apply-1"]
        serial = store.serial
        store.clear_intent("bcdr_data.a")
        assert store.intents() == [] and store.serial == serial
        with store.transaction():
            with pytest.raises(RuntimeError, match="on its own"):
                store.record_intent(_intent())


def test_intents_of_steps_starting_together_commit_in_one_transaction(path):
    with StateStore.open(path) as store:
        store.record_intent(_intent("bcdr_data.a"), _intent("bcdr_data.b", action="delete"))
        assert [(i.address, i.action) for i in store.intents()] == [
            ("bcdr_data.a", "create"),
            ("bcdr_data.b", "delete"),
        ]
        with pytest.raises(sqlite3.IntegrityError):  # one bad row: none of them is kept
            store.record_intent(_intent("bcdr_data.c"), _intent("bcdr_data.d", action=None))
        assert [i.address for i in store.intents()] == ["bcdr_data.a", "bcdr_data.b"]
