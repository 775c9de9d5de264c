"""Where the working directory's state lives: the ``bcdr`` block's backend, as init recorded it.

``bcdr init`` checks the configured backend (reachable, credential accepted, container
there), moves the state to it with ``-migrate-state``, and records it in
``.bcdr/backend.json`` (its type and settings, never a credential). Every other command
uses the recorded backend (``backend_of``).

Always holds: a command other than init refuses, before it locks or reads anything of the
state, when the configuration's backend differs from the recorded one ("Backend
configuration changed"); without a ``bcdr`` block and without a record the state is
``.bcdr/state.db`` as always, and the specs are then not even parsed for it (a folder
whose files name no ``bcdr`` block is local); init writes nothing (no ``.bcdr/``, no
record, no state) when the backend cannot be reached or refuses the credential; a
migration keeps the source until the copy is read back (``state.migrate``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.cli.app import STATE_FILE, WORKSPACE_ENV, WORKSPACE_FILE, CliContext, CliError
from sdk.diagnostics import DiagnosticsError
from state.workspaces import DEFAULT

if TYPE_CHECKING:
    from engine.ui import UI
    from state import StateBackend

RECORD = Path(".bcdr") / "backend.json"
_BLOCK = re.compile(rb"(?m)^\s*bcdr\s*\{")
Setting = tuple[str, dict[str, str]]
LOCAL: Setting = ("local", {})


def _shown(setting: Setting) -> str:
    kind, values = setting
    if kind == "local":
        return f"local ({STATE_FILE})"
    return f"{kind} (" + ", ".join(f'{k} = "{v}"' for k, v in sorted(values.items())) + ")"


def recorded(s: CliContext) -> Setting:
    """What ``bcdr init`` recorded; local when nothing was."""
    path = s.workdir / RECORD
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return str(data["type"]), {str(k): str(v) for k, v in dict(data["config"]).items()}
    except FileNotFoundError:
        return LOCAL
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CliError(
            f"Cannot read {s.shown(path)} ({exc})",
            "bcdr init writes it whole; run `bcdr init` again to record the backend.",
        ) from None


def _record(s: CliContext, setting: Setting) -> None:
    path = s.workdir / RECORD
    if setting == LOCAL:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    kind, values = setting
    tmp.write_text(json.dumps({"type": kind, "config": values}, indent=2) + "\n", "utf-8")
    os.replace(tmp, path)


def configured(s: CliContext, *, strict: bool = False) -> Setting | None:
    """The backend the specs declare (local without a ``bcdr`` block); None when a spec
    cannot be parsed (unless ``strict``, which then reports the configuration's errors)."""
    from engine.config import spec_files

    specs, _ = spec_files(s.workdir)
    texts = []
    for path in specs:
        try:
            texts.append(path.read_bytes())
        except OSError:
            continue
    if not any(_BLOCK.search(text) for text in texts):
        return LOCAL
    config, diags = s.loaded_config()
    if config.backend_problems:
        raise DiagnosticsError(config.backend_problems)
    if not config.backend_known:
        if strict:
            raise DiagnosticsError(diags.errors())
        return None
    if config.backend is None:
        return LOCAL
    return config.backend.type, dict(config.backend.attributes)


def make(s: CliContext, setting: Setting, workspace: str | None = None) -> StateBackend:
    """The backend of ``setting`` for ``workspace`` (default: the selected one)."""
    from state import StateError, backend_for

    try:
        base = backend_for(setting[0], setting[1], s.workdir / STATE_FILE)
    except StateError as exc:
        raise CliError(str(exc), "Fix the backend block and run `bcdr init`.") from None
    return base.workspace(s.workspace if workspace is None else workspace)


def workspaces_home(s: CliContext) -> StateBackend:
    """The default workspace's backend, beside which the others live (``bcdr workspace``);
    refused when the backend changed, as for any command but init."""
    return make(s, _checked_record(s), DEFAULT)


def backend_of(s: CliContext) -> StateBackend:
    """The selected workspace's backend for a command other than init; refused when the
    backend changed, or when the workspace selected does not exist."""
    if s.backend is not None:
        return s.backend
    backend = make(s, _checked_record(s))
    if s.workspace != DEFAULT and not backend.exists():
        raise CliError(
            f'Workspace "{s.workspace}" does not exist',
            f"It is selected by {selected_by(s)}. Run `bcdr workspace new {s.workspace}` to "
            "make it, or `bcdr workspace select NAME` for one that exists "
            "(`bcdr workspace list`).",
        )
    s.backend = backend
    return s.backend


def _checked_record(s: CliContext) -> Setting:
    """The recorded backend; refused when the configuration's differs."""
    record = recorded(s)
    wanted = configured(s)
    if wanted is not None and wanted != record:
        raise CliError(
            "Backend configuration changed: run bcdr init (-migrate-state)",
            f"The configuration's backend is {_shown(wanted)}, but this folder was "
            f"initialized with {_shown(record)}. Run `bcdr init -migrate-state` to move the "
            "state to the new backend, or `bcdr init -reconfigure` to use it without moving "
            "anything.",
        )
    return record


def selected_by(s: CliContext) -> str:
    """What selected the workspace, in messages."""
    if os.environ.get(WORKSPACE_ENV, "").strip():
        return f"the {WORKSPACE_ENV} environment variable"
    return f"{WORKSPACE_FILE} (`bcdr workspace select`)"


def init_backend(s: CliContext, ui: UI, *, migrate_state: bool, reconfigure: bool) -> Any:
    """``bcdr init``'s part for the state: check, migrate, record; the backend now used."""
    from state import StateError, migrate

    wanted = configured(s, strict=True)
    assert wanted is not None
    record = recorded(s)
    dest = make(s, wanted)
    try:
        dest.check()
    except StateError as exc:
        raise CliError(
            f"The backend {wanted[0]} cannot be used",
            f"{exc}\nNothing was written: fix the backend block or the environment and run "
            "`bcdr init` again.",
        ) from None
    if wanted != record:
        source = make(s, record)
        others = [n for n in make(s, record, DEFAULT).workspace_names() if n != DEFAULT]
        if others and not reconfigure:
            raise CliError(
                "Cannot move a state with workspaces",
                f"This folder has the workspaces {', '.join(others)} beside default; "
                "`bcdr init -migrate-state` moves the default one only. Delete the other "
                "workspaces first (`bcdr workspace delete NAME`), or keep this backend: "
                "nothing was moved.",
            )
        if source.exists() and not reconfigure:
            if not migrate_state:
                raise CliError(
                    "Backend configuration changed: run bcdr init (-migrate-state)",
                    f"The state is in {_shown(record)} and the configuration now names "
                    f"{_shown(wanted)}. Run `bcdr init -migrate-state` to move it there, or "
                    "`bcdr init -reconfigure` to leave it where it is and use the new "
                    "backend as it is.",
                )
            ui.print(f"Moving the state from {source.where} to {dest.where}...")
            moved = migrate(source, dest)
            what = "Copied" if moved.copied else "The destination already held"
            ui.print(
                f"- {what} lineage {moved.lineage}, serial {moved.serial} "
                f"({moved.instances} instance{'s' if moved.instances != 1 else ''})"
            )
            ui.print(f"- The source was retired: {moved.retired}")
        _record(s, wanted)
        ui.print(f"- Backend {_shown(wanted)} recorded")
    s.backend = dest
    return dest
