"""``CommandContext.resource_ids``: what a mounted command reads of the state, by type.

It reads the working directory's state wherever it lives (the local file, or the blob of
an ``azurerm`` backend), changes nothing and needs no lock.
"""

from __future__ import annotations

from pathlib import Path

from engine.cli.app import CliContext
from state import InstanceRecord, StateStore
from tests.cli.conftest import run_in
from tests.cli.test_remote_state import box, folder


def _ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def test_the_ids_of_one_type_from_the_local_state(workdir: Path) -> None:
    context = CliContext(workdir)
    assert context.resource_ids("test_thing") == {}  # no state yet: none, and none made
    assert not (workdir / ".bcdr").exists()
    path = workdir / ".bcdr" / "state.db"
    with StateStore.open(path) as store:
        for address, type_, name, key, id in (
            ("test_thing.a", "test_thing", "a", None, "thing-a"),
            ('test_thing.b["x"]', "test_thing", "b", "x", "thing-bx"),
            ("other_thing.a", "other_thing", "a", None, "other-a"),
        ):
            store.put(InstanceRecord(address, type_, name, key, "test", id, {}))
        serial = store.serial
    with context.stack:
        assert context.resource_ids("test_thing") == {
            "test_thing.a": "thing-a",
            'test_thing.b["x"]': "thing-bx",
        }
        assert context.resource_ids("other_thing") == {"other_thing.a": "other-a"}
        assert context.resource_ids("missing_thing") == {}
    with StateStore.open(path) as store:
        assert store.serial == serial  # read, not written


def test_the_ids_of_one_type_from_a_remote_state(
    tmp_path, azurite, container_name, test_provider, monkeypatch
) -> None:
    for name, value in azurite.env.items():
        monkeypatch.setenv(name, value)
    box(azurite, container_name)
    work = folder(tmp_path / "one", azurite.endpoint, container_name)
    _ok(run_in(work, "init", "-no-color"))
    _ok(run_in(work, "apply", "-auto-approve", "-no-color"))
    assert not (work / ".bcdr" / "state.db").exists()
    context = CliContext(work)
    with context.stack:
        ids = context.resource_ids("test_thing")
    assert sorted(ids) == ["test_thing.a", "test_thing.b", "test_thing.c"]
    assert all(ids.values())
    assert not (work / ".bcdr" / "state.db").exists()
