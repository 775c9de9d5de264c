"""``bcdr workspace``: several states for one configuration, as Terraform's workspaces.

Real ``bcdr`` runs in a temporary folder (the local state files) and against a real
Azurite (the blobs ``KEY`` and ``KEYenv:NAME``), with ``bcdr.workspace`` naming what each
workspace makes, so two workspaces keep two sets of objects on the one platform.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from state import AzureBlobBackend, StateStore
from tests.cli.conftest import run_in, write
from tests.cli.test_remote_state import box, folder

SPEC = """
resource "bcdr_data" "name" {
  input = "app-${bcdr.workspace}"
}

output "name" {
  value = bcdr_data.name.output
}

output "same" {
  value = terraform.workspace == bcdr.workspace
}
"""


def ok(result) -> str:
    assert "Traceback" not in result.output
    assert result.exit_code == 0, result.output
    return result.output


def fails(result) -> str:
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output
    return result.output


def test_each_workspace_has_its_own_state(tmp_path: Path) -> None:
    write(tmp_path, SPEC)
    ok(run_in(tmp_path, "apply", "-auto-approve", "-no-color"))
    assert ok(run_in(tmp_path, "output", "name")).strip() == '"app-default"'

    out = ok(run_in(tmp_path, "workspace", "new", "staging"))
    assert 'Created and switched to workspace "staging"!' in out
    assert ok(run_in(tmp_path, "workspace", "show")).strip() == "staging"
    assert ok(run_in(tmp_path, "workspace", "list")).splitlines() == ["  default", "* staging"]
    plan = ok(run_in(tmp_path, "plan", "-no-color"))
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in plan  # an empty state of its own
    ok(run_in(tmp_path, "apply", "-auto-approve", "-no-color"))
    assert ok(run_in(tmp_path, "output", "name")).strip() == '"app-staging"'
    assert ok(run_in(tmp_path, "output", "same")).strip() == "true"
    staging = tmp_path / ".bcdr" / "workspaces" / "staging" / "state.db"
    with StateStore.open(staging, create=False, read_only=True) as store:
        assert [r.address for r in store.instances()] == ["bcdr_data.name"]

    ok(run_in(tmp_path, "workspace", "select", "default"))
    assert ok(run_in(tmp_path, "output", "name")).strip() == '"app-default"'
    again = run_in(tmp_path, "plan", "-no-color", "-detailed-exitcode")
    assert again.exit_code == 0, again.output  # default's objects untouched by staging's


def test_the_environment_variable_selects_and_cannot_be_overruled(tmp_path: Path) -> None:
    write(tmp_path, SPEC)
    ok(run_in(tmp_path, "workspace", "new", "dr"))
    ok(run_in(tmp_path, "workspace", "select", "default"))
    env = {"BCDR_WORKSPACE": "dr"}
    assert ok(run_in(tmp_path, "workspace", "show", env=env)).strip() == "dr"
    out = fails(run_in(tmp_path, "workspace", "select", "default", env=env))
    assert "selected by the BCDR_WORKSPACE environment variable" in out
    missing = fails(run_in(tmp_path, "plan", "-no-color", env={"BCDR_WORKSPACE": "dr-typo"}))
    assert 'Workspace "dr-typo" does not exist' in missing
    assert not (tmp_path / ".bcdr" / "workspaces" / "dr-typo").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("new", "default"), 'Workspace "default" already exists'),
        (("new", "../up"), "is not a workspace name"),
        (("select", "nope"), 'Workspace "nope" doesn\'t exist'),
        (("delete", "default"), "Can't delete the default workspace"),
        (("delete", "nope"), 'Workspace "nope" doesn\'t exist'),
    ],
)
def test_workspace_mistakes_are_refused(tmp_path: Path, args: tuple[str, ...], message: str):
    write(tmp_path, SPEC)
    assert message in fails(run_in(tmp_path, "workspace", *args))
    assert not (tmp_path / ".bcdr" / "workspaces").exists()


def test_select_or_create_makes_it(tmp_path: Path) -> None:
    write(tmp_path, SPEC)
    out = ok(run_in(tmp_path, "workspace", "select", "-or-create", "qa"))
    assert 'Switched to workspace "qa".' in out
    assert ok(run_in(tmp_path, "workspace", "list")).splitlines() == ["  default", "* qa"]


def test_a_workspace_tracking_objects_is_deleted_only_with_force(tmp_path: Path) -> None:
    write(tmp_path, SPEC)
    ok(run_in(tmp_path, "workspace", "new", "staging"))
    ok(run_in(tmp_path, "apply", "-auto-approve", "-no-color"))
    assert "your active workspace" in fails(run_in(tmp_path, "workspace", "delete", "staging"))
    ok(run_in(tmp_path, "workspace", "select", "default"))
    out = fails(run_in(tmp_path, "workspace", "delete", "staging"))
    assert "Workspace is not empty" in out and "bcdr_data.name" in out
    assert "staging" in ok(run_in(tmp_path, "workspace", "list"))

    out = ok(run_in(tmp_path, "workspace", "delete", "-force", "staging"))
    assert 'Deleted workspace "staging"!' in out
    assert ok(run_in(tmp_path, "workspace", "list")).splitlines() == ["* default"]
    (kept,) = (tmp_path / ".bcdr" / "workspaces" / "staging").glob("state.db.deleted-*")
    with StateStore.open(kept, create=False, read_only=True) as store:  # kept aside, whole
        assert [r.address for r in store.instances()] == ["bcdr_data.name"]


def test_remote_workspaces_are_blobs_beside_the_key(
    tmp_path, azurite, container_name, monkeypatch, test_provider
) -> None:
    for name, value in azurite.env.items():
        monkeypatch.setenv(name, value)
    container = box(azurite, container_name)
    work = folder(tmp_path / "w", azurite.endpoint, container_name, resources=SPEC)
    ok(run_in(work, "init", "-no-color"))
    ok(run_in(work, "apply", "-auto-approve", "-no-color"))
    ok(run_in(work, "workspace", "new", "west"))
    ok(run_in(work, "apply", "-auto-approve", "-no-color"))
    assert ok(run_in(work, "workspace", "list")).splitlines() == ["  default", "* west"]
    names = {b.name for b in container.list()}
    assert {"prod.bcdr", "prod.bcdrenv:west"} <= names
    assert not (work / ".bcdr" / "workspaces").exists()  # nothing local
    with AzureBlobBackend(azurite.endpoint, container_name, "prod.bcdrenv:west").open(
        read_only=True
    ) as store:
        assert [r.attributes["input"] for r in store.instances()] == ["app-west"]

    ok(run_in(work, "workspace", "select", "default"))
    ok(run_in(work, "workspace", "delete", "-force", "west"))
    assert "prod.bcdrenv:west" not in {b.name for b in container.list()}
    assert ok(run_in(work, "workspace", "list")).splitlines() == ["* default"]
