"""The commands that read or edit the state directly: show, output, state list|show|rm|mv,
state history, state restore-backup.

Always holds: sensitive values are masked in text and in ``show -json`` (``<sensitive>`` in
output lists, ``(sensitive value)`` elsewhere) and printed only by ``output -raw NAME`` and
``output -json``;
edits of the state take the lock, change nothing when an address is missing, are recorded
in the state history and refresh the state's backup.

It passes 400 lines: show, output and the state commands share reading the state read-only,
masking sensitive values and matching addresses; split, those helpers would be imported back
by every part.
"""

from __future__ import annotations

from typing import Any

import click

from engine import render
from engine.cli.app import (
    CliContext,
    CliError,
    check_address,
    flush_warnings,
    keep_backup,
    lock_state,
    lock_timeout_option,
    main,
    open_state,
    print_json,
    read_plan,
    record_history,
    registry_of,
    session_of,
)
from engine.cli.sensitive import mask_plan_json, sensitive_variables
from sdk.cli import no_color_option, opt
from sdk.diagnostics import Diagnostic, Severity


# -------------------------------------------------------------- reading state
def _sensitive_by_type(s: CliContext, types: set[str]) -> dict[str, list[str]]:
    try:
        registry = registry_of(s)
    except Exception:  # noqa: BLE001 - without providers, hide nothing we cannot know
        return {}
    result = {}
    for t in types:
        schema = registry.schema(t)
        result[t] = schema.sensitive_attributes() if schema else []
    return result


def _hidden(record: Any, by_schema: list[str]) -> list[str]:
    """Top-level attributes to mask: the schema's and those holding a sensitive path."""
    return sorted(set(by_schema) | {p.split(".")[0] for p in record.sensitive})


def _masked(record: Any, by_schema: list[str]) -> Any:
    """A copy of ``record`` whose sensitive values (nested ones too) are masked (EXT-4)."""
    from dataclasses import replace

    from state import mask_paths

    paths = sorted(set(by_schema) | set(record.sensitive))
    return replace(record, attributes=mask_paths(record.attributes, paths, render.SENSITIVE))


def _hidden_by_address(records: list[Any], by_type: dict[str, list[str]]) -> dict[str, list[str]]:
    return {r.address: _hidden(r, by_type.get(r.type, [])) for r in records}


def _plan_sensitive_vars(s: CliContext) -> set[str] | None:
    """Sensitive variables of the working directory's specs; None when they cannot be read."""
    from engine.config import load_config

    try:
        config, diags = load_config(s.workdir)
    except Exception:  # noqa: BLE001 - then every variable is masked
        return None
    return None if diags.has_errors else sensitive_variables(config)


@main.command()
@no_color_option
@opt("json", "as_json", is_flag=True, help="Print as JSON (Terraform's shape).")
@click.argument("planfile", required=False)
@click.pass_context
def show(ctx: click.Context, no_color: bool, as_json: bool, planfile: str | None) -> None:
    """Show a saved PLANFILE, or without one the resources and outputs in the state."""
    s = session_of(ctx)
    ui = s.use_ui(no_color)
    if planfile:
        saved = read_plan(s, planfile)
        if as_json:
            print_json(ui, mask_plan_json(render.plan_json(saved), _plan_sensitive_vars(s)))
        else:
            ui.print(render.plan_text(saved))
        return
    if not s.state.exists():
        if as_json:
            print_json(ui, {"format_version": "1.0"})
        else:
            ui.print("No state.")
        return
    store = open_state(s, create=False)
    records = store.instances()
    outputs = store.outputs()
    sensitive = _sensitive_by_type(s, {r.type for r in records})
    if as_json:
        masked = [_masked(r, sensitive.get(r.type, [])) for r in records]
        hidden = {n: (render.SENSITIVE if sens else v, sens) for n, (v, sens) in outputs.items()}
        print_json(ui, render.state_json(masked, hidden, _hidden_by_address(masked, sensitive)))
        return
    if not records and not outputs:
        ui.print("The state file is empty. No resources are represented.")
        return
    for r in records:
        ui.print(render.state_instance_text(r, _hidden(r, sensitive.get(r.type, []))))
        ui.print("")
    if outputs:
        ui.print("Outputs:")
        ui.print("")
        ui.print(render.outputs_text(outputs))


def _json_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return ["tuple", [_json_type(v) for v in value]]
    if isinstance(value, dict):
        return ["object", {k: _json_type(v) for k, v in value.items()}]
    return "dynamic"


def _raw_text(name: str, value: Any) -> str:
    """``output -raw``: a string as it is, a number or bool as Terraform prints it."""
    if value is None:
        raise CliError(
            "Unsupported value for raw output",
            f'The value for output "{name}" is null, so -raw mode cannot print it.',
        )
    if isinstance(value, dict | list):
        kind = "object" if isinstance(value, dict) else "tuple"
        raise CliError(
            "Unsupported value for raw output",
            "The -raw option only supports strings, numbers, and boolean values, but output "
            f'value "{name}" is {kind}.\n\nUse the -json option for machine-readable '
            "representations of output values that have complex types.",
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else _decimal_text(value)
    return str(value)


@main.command()
@no_color_option
@opt("json", "as_json", is_flag=True, help="Print values as JSON.")
@opt(
    "raw",
    is_flag=True,
    help="Print NAME's value as it is (a string, number or bool), without quotes or newline.",
)
@click.argument("name", required=False)
@click.pass_context
def output(ctx: click.Context, no_color: bool, as_json: bool, raw: bool, name: str | None) -> None:
    """Show output values from the state (sensitive ones only with -json or -raw NAME)."""
    s = session_of(ctx)
    ui = s.use_ui(no_color)
    outputs = open_state(s, create=False).outputs() if s.state.exists() else {}
    if raw and not name:
        raise CliError("Output name required", "-raw prints one output: bcdr output -raw NAME.")
    if name is not None:
        if name not in outputs:
            raise CliError(
                f'Output "{name}" not found',
                "The output variable requested could not be found in the state. Add an "
                "output block for it and run `bcdr apply`.",
            )
        value, sensitive = outputs[name]
        if raw:
            ui.write(_raw_text(name, value))
        elif as_json:
            print_json(ui, value)
        else:
            ui.print(render.SENSITIVE if sensitive else render.format_value(value))
        return
    if as_json:
        print_json(
            ui,
            {
                n: {"sensitive": sens, "type": _json_type(v), "value": v}
                for n, (v, sens) in sorted(outputs.items())
            },
        )
        return
    if not outputs:
        s.warnings.append(
            Diagnostic(
                Severity.WARNING,
                "No outputs found",
                "The state has no outputs. Add output blocks to the configuration and run "
                "`bcdr apply`.",
            )
        )
        flush_warnings(s)
        return
    ui.print(render.outputs_text(outputs))


# ---------------------------------------------------------------- state verbs
@main.group("state")
def state_group() -> None:
    """Inspect and edit the state: list, show, rm, mv, history, restore-backup."""


def _matching(records: list[Any], address: str) -> list[Any]:
    """Records at ``address``: the instance itself, or every instance of a resource."""
    exact = [r for r in records if r.address == address]
    if exact:
        return exact
    return [r for r in records if f"{r.type}.{r.name}" == address]


@state_group.command("list")
@click.argument("addresses", nargs=-1)
@click.pass_context
def state_list(ctx: click.Context, addresses: tuple[str, ...]) -> None:
    """List the instances in the state (only those at ADDRESSES when given)."""
    s = session_of(ctx)
    ui = s.use_ui(True)
    if not s.state.exists():
        return
    records = open_state(s, create=False).instances()
    if addresses:
        records = [r for a in addresses for r in _matching(records, a)]
    for r in records:
        ui.print(r.address)


@state_group.command("show")
@no_color_option
@click.argument("address")
@click.pass_context
def state_show(ctx: click.Context, no_color: bool, address: str) -> None:
    """Show one instance's attributes as stored (sensitive ones masked)."""
    s = session_of(ctx)
    ui = s.use_ui(no_color)
    check_address(address)
    record = open_state(s, create=False).get(address)
    if record is None:
        raise CliError(
            f"No instance found for the given address: {address}",
            "Run `bcdr state list` to see the addresses in the state.",
        )
    sensitive = _sensitive_by_type(s, {record.type})
    ui.print(render.state_instance_text(record, _hidden(record, sensitive.get(record.type, []))))


@state_group.command("rm")
@lock_timeout_option
@click.argument("addresses", nargs=-1, required=True)
@click.pass_context
def state_rm(ctx: click.Context, addresses: tuple[str, ...], lock_timeout: float) -> None:
    """Forget instances (the real objects stay); bcdr no longer manages them."""
    from state import utc_now

    s = session_of(ctx)
    ui = s.use_ui(True)
    for a in addresses:
        check_address(a)
    started = utc_now()
    with lock_state(s, "state-rm", lock_timeout):
        store = open_state(s, create=False)
        records = store.instances()
        targets = [r for a in addresses for r in _matching(records, a)]
        missing = [a for a in addresses if not _matching(records, a)]
        if missing:
            raise CliError(
                f"No instance found for the given address: {', '.join(missing)}",
                "Run `bcdr state list` to see the addresses in the state. Nothing was removed.",
            )
        with store.transaction():
            for r in targets:
                store.remove(r.address)
        record_history(store, "state-rm", started, {"removed": [r.address for r in targets]})
        keep_backup(s, store)
    for r in targets:
        ui.print(f"Removed {r.address}")
    ui.print(f"Successfully removed {len(targets)} resource instance(s).")
    flush_warnings(s)


@state_group.command("mv")
@opt("dry-run", is_flag=True, help="Only say what would move; change nothing.")
@lock_timeout_option
@click.argument("source")
@click.argument("destination")
@click.pass_context
def state_mv(
    ctx: click.Context, dry_run: bool, source: str, destination: str, lock_timeout: float
) -> None:
    """Give an instance (or every instance of a resource) a new address in the state."""
    from sdk.addrs import InstanceAddr
    from state import utc_now

    s = session_of(ctx)
    ui = s.use_ui(True)
    check_address(source)
    check_address(destination)
    started = utc_now()
    with lock_state(s, "state-mv", lock_timeout):
        store = open_state(s, create=False)
        records = _matching(store.instances(), source)
        if not records:
            raise CliError(
                f"No instance found for the given address: {source}",
                "Run `bcdr state list` to see the addresses in the state.",
            )
        pairs = []
        dst = InstanceAddr.parse(destination)
        for r in records:
            if r.address == source:
                pairs.append((r.address, destination))
            elif dst.key is not None:
                raise CliError(
                    f"Cannot move the resource {source} to the instance {destination}",
                    "Move one instance at a time, or give a resource address as destination.",
                )
            else:
                pairs.append((r.address, str(InstanceAddr(dst.resource, r.index_key))))
        if dry_run:
            for a, b in pairs:
                ui.print(f'Would move "{a}" to "{b}"')
            return
        with store.transaction():
            for a, b in pairs:
                store.move(a, b)
        record_history(store, "state-mv", started, {"moved": pairs})
        keep_backup(s, store)
    for a, b in pairs:
        ui.print(f'Move "{a}" to "{b}"')
    ui.print(f"Successfully moved {len(pairs)} object(s).")
    flush_warnings(s)


def _summary_text(summary: dict[str, Any]) -> str:
    """``2 added, 0 changed``, ``removed a, b``, ``moved a → b``: counts, then what was named."""
    parts = []
    for key, value in summary.items():
        if isinstance(value, bool) or not isinstance(value, int | list | str):
            continue
        if isinstance(value, int):
            parts.append(f"{value} {key}")
        elif isinstance(value, str):
            parts.append(f"{key} {value}")
        elif value:
            items = [" → ".join(map(str, v)) if isinstance(v, list) else str(v) for v in value]
            parts.append(f"{key} {', '.join(items)}")
    return ", ".join(parts)


@state_group.command("history")
@opt("json", "as_json", is_flag=True, help="Print the runs as JSON.")
@opt(
    "limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many of the latest runs to show.",
)
@click.pass_context
def state_history(ctx: click.Context, as_json: bool, limit: int) -> None:
    """List the latest runs recorded in the state (apply, destroy, import, rm, mv), newest first."""
    s = session_of(ctx)
    ui = s.use_ui(True)
    runs = open_state(s, create=False, read_only=True).history(limit) if s.state.exists() else []
    if as_json:
        print_json(ui, {"format_version": "1.0", "history": runs})
        return
    if not runs:
        ui.print("No runs recorded: the state is new or there is no state yet.")
        return
    width = max(len(r["operation"]) for r in runs)
    for r in runs:
        ui.print(
            f"{r['id']:>4}  {r['finished_at']}  {r['operation']:<{width}}  {r['status']:<11}  "
            f"{_summary_text(r['summary'])}".rstrip()
        )


@state_group.command("restore-backup")
@no_color_option
@opt("force", is_flag=True, help="Do not ask for confirmation.")
@lock_timeout_option
@click.pass_context
def state_restore_backup(
    ctx: click.Context, no_color: bool, force: bool, lock_timeout: float
) -> None:
    """Put back the state of the last successful run (.bcdr/state.db.backup, or the
    backend's KEY.backup blob)."""
    s = session_of(ctx)
    ui = s.use_ui(no_color)
    backend = s.state
    backup = backend.backup_where()
    if not backend.has_backup():
        raise CliError(
            f"No backup of the state at {backup}",
            "bcdr keeps one after each successful apply, destroy, import and state edit.",
        )
    where = backend.where
    if not force and not ui.ask(
        "Do you really want to restore the state from its backup?",
        f"bcdr will replace {where} with {backup}, the state of the last successful\n"
        f"run. The current {'state' if backend.remote else 'file'} is kept beside it. Only "
        "'yes' will be accepted to confirm.",
    ):
        raise CliError("restore-backup cancelled", "The state was left as it is.")
    with lock_state(s, "state-restore-backup", lock_timeout):
        lineage, serial, kept = backend.restore_backup()
    ui.print(f"Restored {where} from {backup} (lineage {lineage}, serial {serial}).")
    if kept is not None:
        ui.print(f"The previous {'state' if backend.remote else 'file'} is kept as {kept}.")
    ui.print(
        "Objects made or changed after that run are not in it: run `bcdr plan` to see what "
        "differs, and `bcdr import` for objects that exist but are not in the state."
    )
    flush_warnings(s)


def _decimal_text(value: float) -> str:
    """A float without exponent, as written (``1e-07`` → ``0.0000001``)."""
    from decimal import Decimal

    return format(Decimal(repr(value)), "f")
