"""``bcdr workspace list|show|new|select|delete``: several states for one configuration.

As Terraform's: each workspace has its own state in the same backend (``state.workspaces``
says where); the embedded platform is shared, as a cloud is. ``bcdr.workspace`` in the
configuration is the selected one's name. The selection is kept in ``.bcdr/environment``;
``BCDR_WORKSPACE`` overrides it.

Always holds: ``default`` can be neither made nor deleted; the selected workspace cannot
be deleted; a workspace whose state tracks objects is deleted only with ``-force``, under
its lock, and a local one's state is moved aside (``state.db.deleted-TIME``), not erased;
nothing is selected that does not exist.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from engine.cli.app import (
    WORKSPACE_ENV,
    WORKSPACE_FILE,
    CliContext,
    CliError,
    flush_warnings,
    lock_state,
    lock_timeout_option,
    main,
    open_state,
    session_of,
)
from sdk.cli import opt


@main.group("workspace")
def workspace_group() -> None:
    """Several states for one configuration: list, show, new, select, delete."""


@workspace_group.command("list")
@click.pass_context
def workspace_list(ctx: click.Context) -> None:
    """List the workspaces; the selected one is marked with *."""
    from engine.cli.backend import workspaces_home

    s = session_of(ctx)
    ui = s.use_ui(True)
    current = s.workspace
    names = workspaces_home(s).workspace_names()
    if current not in names:
        names.append(current)  # selected, not made yet: shown so the mark is not lost
    for name in names:
        ui.print(f"{'*' if name == current else ' '} {name}")


@workspace_group.command("show")
@click.pass_context
def workspace_show(ctx: click.Context) -> None:
    """Print the selected workspace's name."""
    s = session_of(ctx)
    s.use_ui(True).print(s.workspace)


@workspace_group.command("new")
@lock_timeout_option
@click.argument("name")
@click.pass_context
def workspace_new(ctx: click.Context, lock_timeout: float, name: str) -> None:
    """Make workspace NAME with an empty state, and select it."""
    s = session_of(ctx)
    ui = s.use_ui(True)
    _check_name(name)
    _not_overridden(s, "make and select another")
    home = _home(s)
    if name in home.workspace_names():
        raise CliError(
            f'Workspace "{name}" already exists',
            f"Run `bcdr workspace select {name}` to use it.",
        )
    _create(s, home, name, lock_timeout)
    _select(s, name)
    ui.print(f'Created and switched to workspace "{name}"!')
    ui.print("")
    ui.print("You're now on a new, empty workspace. Workspaces isolate their state,")
    ui.print('so if you run "bcdr plan" bcdr will not see any existing state')
    ui.print("for this configuration.")
    flush_warnings(s)


@workspace_group.command("select")
@opt("or-create", is_flag=True, help="Make the workspace when it does not exist.")
@lock_timeout_option
@click.argument("name")
@click.pass_context
def workspace_select(ctx: click.Context, or_create: bool, lock_timeout: float, name: str) -> None:
    """Select workspace NAME for the commands that follow."""
    s = session_of(ctx)
    ui = s.use_ui(True)
    _check_name(name)
    _not_overridden(s, "select another")
    home = _home(s)
    names = home.workspace_names()
    if name not in names:
        if not or_create:
            raise CliError(
                f'Workspace "{name}" doesn\'t exist',
                f"The workspaces are {', '.join(names)}. Run `bcdr workspace new {name}` "
                "to make it (or `select -or-create`).",
            )
        _create(s, home, name, lock_timeout)
    _select(s, name)
    ui.print(f'Switched to workspace "{name}".')
    flush_warnings(s)


@workspace_group.command("delete")
@opt("force", is_flag=True, help="Delete it even when its state tracks objects.")
@lock_timeout_option
@click.argument("name")
@click.pass_context
def workspace_delete(ctx: click.Context, force: bool, lock_timeout: float, name: str) -> None:
    """Delete workspace NAME's state (the objects it tracks stay on the platform)."""
    from state.workspaces import DEFAULT

    s = session_of(ctx)
    ui = s.use_ui(True)
    _check_name(name)
    if name == DEFAULT:
        raise CliError("Can't delete the default workspace", "It is the backend's own state.")
    if name == s.workspace:
        raise CliError(
            f'Workspace "{name}" is your active workspace',
            f"You cannot delete the selected workspace. Select another first "
            f"(`bcdr workspace select {DEFAULT}`).",
        )
    home = _home(s)
    if name not in home.workspace_names():
        raise CliError(f'Workspace "{name}" doesn\'t exist', "Run `bcdr workspace list`.")
    s.backend = home.workspace(name)
    with lock_state(s, "workspace-delete", lock_timeout):
        tracked = [r.address for r in open_state(s, create=False, read_only=True).instances()]
        if tracked and not force:
            listed = "\n".join(f"  - {a}" for a in tracked[:20])
            more = f"\n  (and {len(tracked) - 20} more)" if len(tracked) > 20 else ""
            raise CliError(
                "Workspace is not empty",
                f'Workspace "{name}" is currently tracking the following resource '
                f"instances:\n{listed}{more}\n\nDeleting this workspace would make bcdr "
                "lose track of those objects, which would then have to be deleted outside "
                f"bcdr. Destroy them first (`bcdr workspace select {name}` then "
                "`bcdr destroy`), or add -force to delete the workspace anyway.",
            )
        kept = s.backend.retire("deleted")
    ui.print(f'Deleted workspace "{name}"!')
    if not s.backend.remote:
        ui.print(f"Its state was kept aside as {s.shown(Path(kept))}.")
    if tracked:
        ui.print(f"{len(tracked)} object(s) it tracked stay on the platform, unmanaged.")
    flush_warnings(s)


def _home(s: CliContext):
    from engine.cli.backend import workspaces_home

    return workspaces_home(s)


def _check_name(name: str) -> None:
    from state.workspaces import name_problem

    problem = name_problem(name)
    if problem:
        raise CliError("Invalid workspace name", problem)


def _not_overridden(s: CliContext, what: str) -> None:
    if os.environ.get(WORKSPACE_ENV, "").strip():
        raise CliError(
            f"The workspace is selected by the {WORKSPACE_ENV} environment variable",
            f"It selects {s.workspace!r}; unset it to {what}.",
        )


def _create(s: CliContext, home, name: str, lock_timeout: float) -> None:
    """An empty state for workspace ``name`` (under its lock)."""
    s.backend = home.workspace(name)
    with lock_state(s, "workspace-new", lock_timeout):
        open_state(s)
    s.backend = None


def _select(s: CliContext, name: str) -> None:
    path = s.workdir / WORKSPACE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(tmp, path)
