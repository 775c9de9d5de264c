"""The commands that plan and change things: init, validate, plan, apply, destroy, drift.

Always holds: the state lock is taken first, so a command refused by another run's lock
is refused before it loads anything but the specs' ``bcdr`` block (which names where the
state lives, ``engine.cli.backend``); the configuration, variable values and schema checks
pass before the state is opened, so bad input leaves the state file untouched; apply and
destroy hold the state lock from planning to the last saved step, and a successful one
refreshes the state's backup; plan and drift write nothing (no state is created, and an
existing one is read as a copy in memory under the lock, whose file is gone when they
end); only the exact answer ``yes`` approves; a run ends with its summary, its errors and
an exit code (0 ok, 1 failed).

It passes 400 lines: init, validate, plan, apply, destroy and drift share one flow (load,
plan, render, ask, apply, record) and its helpers; split by command, each part would import
the others' private steps.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from engine import render
from engine.cli.app import (
    EXIT_CHANGES,
    EXIT_ERROR,
    RULE,
    CliContext,
    CliError,
    PlanArgs,
    flush_warnings,
    input_option,
    keep_backup,
    load,
    load_config_checked,
    lock_state,
    lock_timeout_option,
    main,
    make_plan_checked,
    open_state,
    plan_options,
    print_json,
    read_plan,
    registry_of,
    session_of,
    unique,
    var_options,
    warnings_text,
    write_plan,
)
from engine.cli.sensitive import mask_plan_json, sensitive_variables
from engine.ui import UI, InterruptHandler, ProgressBars
from sdk.cli import no_color_option, opt
from sdk.diagnostics import Diagnostic, Diagnostics, DiagnosticsError
from sdk.diagnostics import error as diag_error

if TYPE_CHECKING:
    from engine.plan import Plan


# ------------------------------------------------------------------- applying
def _run_apply(
    s: CliContext,
    ui: UI,
    plan: Plan,
    config: Any,
    store: Any,
    registry: Any,
    *,
    parallelism: int,
    lock_id: str,
    destroy: bool = False,
) -> int:
    """Walk the plan with live lines, then the summary, errors and outputs; the exit code."""
    from engine.applier import CancelToken, apply_plan

    cancel = CancelToken()
    bars = ProgressBars(ui)

    def on_event(ev: Any) -> None:
        if ev.kind == "progress" and ev.total:
            bars.update(f"{ev.address}: {ev.message or 'working'}", ev.done, ev.total)
            return
        line = render.event_text(ev)
        if line is not None:
            ui.print(line)

    handler = InterruptHandler(
        stop=cancel.request_stop,
        say=lambda message: ui.print(message, err=True),
        on_exit=lambda: s.state.force_unlock(lock_id),
    )
    from state import utc_now

    started = utc_now()
    with handler:  # a second Ctrl-C exits at once until the run has been reported
        with bars:
            result = apply_plan(
                plan,
                config,
                store,
                registry,
                working_dir=s.workdir,
                parallelism=parallelism,
                on_event=on_event,
                cancel=cancel,
            )
        failures: list[Diagnostic] = []
        for address, diags in result.failed:
            items = list(diags) or [diag_error(f"{address} failed", "", address=address)]
            failures += [d if d.address else _with_address(d, address) for d in items]
        status = "ok" if result.ok else "interrupted" if result.interrupted else "failed"
        summary = {
            "added": result.added,
            "changed": result.changed,
            "destroyed": result.destroyed,
            "failed": [a for a, _ in result.failed],
            "skipped": list(result.skipped),
        }
        store.record_history("destroy" if destroy else "apply", started, utc_now(), status, summary)
        if result.ok:
            keep_backup(s, store)  # the state of the last successful run, kept beside it
        if result.warnings:
            ui.print(warnings_text(s, result.warnings), err=True)
        if failures:
            ui.print(render.diagnostics_text(failures, s.source_lines()), err=True)
        ui.print(render.apply_summary_text(result, destroy=destroy))
        if "stdout" in ui.closed:  # `bcdr apply | head`: say on stderr how the run ended
            ui.print("stdout was closed early; the run went on to its end:", err=True)
            ui.print(render.apply_summary_text(result, destroy=destroy), err=True)
        if result.outputs and not destroy:
            ui.print("\nOutputs:")
            ui.print("")
            ui.print(render.outputs_text(result.outputs))
        flush_warnings(s)
    return 0 if result.ok else EXIT_ERROR


def _generate(s: CliContext, loaded: Any, registry: Any, out: str) -> bool:
    """``plan -generate-config-out``: write the resource blocks; whether a file was written."""
    from engine.evaluate import configure_providers
    from engine.importblocks import generate_config

    config, values, _ = loaded
    target = s.rel(out)
    if target.parent != s.workdir or target.suffix != ".hcl" or target.name.endswith(".auto.hcl"):
        raise CliError(
            f"Cannot generate configuration into {out}",
            "give a new *.hcl file in the working directory (for example "
            "-generate-config-out=generated.hcl), so the plan reads it with the other specs",
        )
    diags = configure_providers(config, registry, values, s.workdir)
    if not diags.has_errors:
        diags.extend(generate_config(config, registry, values, s.workdir, target))
    if diags.has_errors:
        raise DiagnosticsError(diags.errors())
    if not target.exists():
        return False
    s.reload_config()  # the specs are read again, the written file among them
    return True


def _drop_plan_check_warnings(s: CliContext, plan: Plan) -> None:
    """As Terraform does with -auto-approve: the apply judges the check blocks again right
    after, against the objects it made, so the plan's verdicts (no one can act on them
    before the apply starts) are not printed too; the apply's are."""
    judged = {c.address for c in plan.checks if c.kind == "check"}
    s.warnings[:] = [w for w in s.warnings if w.address not in judged]


def _with_address(d: Diagnostic, address: str) -> Diagnostic:
    return Diagnostic(d.severity, d.summary, d.detail, d.range, address, d.rule)


def check_modes(args: PlanArgs) -> None:
    """Refuse plan modes that cannot go together, before anything is read or locked.

    As Terraform does: ``-refresh-only`` records what changed outside bcdr and proposes no
    other change, so with ``-destroy`` (or ``bcdr destroy``) it would be read as a plan to
    destroy everything.
    """
    if args.destroy and args.refresh_only:
        raise CliError(
            "Incompatible plan mode options",
            "The -destroy and -refresh-only options are mutually exclusive: a refresh-only "
            "plan changes nothing but the state. Drop -refresh-only to destroy, or drop "
            "-destroy to record what changed outside bcdr.",
        )


def _plan_and_apply(ctx: click.Context, args: PlanArgs, auto_approve: bool, no_color: bool) -> None:
    check_modes(args)
    s = session_of(ctx)
    ui = s.use_ui(no_color)
    if not auto_approve and not s.input:
        raise CliError(
            "Plan file or -auto-approve required",
            "bcdr cannot ask for approval with -input=false. Apply a saved plan file "
            "(bcdr plan -out FILE, then bcdr apply FILE), or add -auto-approve.",
        )
    operation = "destroy" if args.destroy else "apply"
    with lock_state(s, operation, args.lock_timeout) as held:
        registry = registry_of(s)
        loaded = load(s, args, registry)
        store = open_state(s)
        plan, config = make_plan_checked(s, args, store, registry, loaded)
        ui.print(render.plan_text(plan))
        if auto_approve and plan.has_changes:
            _drop_plan_check_warnings(s, plan)
        flush_warnings(s)
        # like Terraform: with nothing to change, apply still records what changed outside
        # bcdr (the refreshed objects), without asking
        record_drift = (
            not plan.has_changes and bool(plan.drift or plan.reconciled) and not args.destroy
        )
        if not plan.has_changes and not record_drift:
            keep_backup(s, store)  # nothing to change is a successful run too
            ui.print(render.apply_summary_text(_Zero(), destroy=args.destroy))
            outputs = store.outputs()
            if outputs and not args.destroy:
                ui.print("\nOutputs:")
                ui.print("")
                ui.print(render.outputs_text(outputs))
            flush_warnings(s)
            return
        if not auto_approve and not record_drift:
            if args.destroy:
                question = "Do you really want to destroy all resources?"
                explain = (
                    "bcdr will destroy all your managed infrastructure, as shown above.\n"
                    "There is no undo. Only 'yes' will be accepted to confirm."
                )
            else:
                question = "Do you want to perform these actions?"
                explain = (
                    "bcdr will perform the actions described above.\n"
                    "Only 'yes' will be accepted to approve."
                )
            if not ui.ask(question, explain):
                word = "Destroy" if args.destroy else "Apply"
                raise CliError(f"{word} cancelled", "Nothing was changed.")
        elif auto_approve and not record_drift:
            ui.print("")
        code = _run_apply(
            s,
            ui,
            plan,
            config,
            store,
            registry,
            parallelism=args.parallelism,
            lock_id=held.lock_id,
            destroy=args.destroy,
        )
    ctx.exit(code)


@dataclass
class _Zero:
    added: int = 0
    imported: int = 0
    changed: int = 0
    destroyed: int = 0
    failed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    interrupted: bool = False
    ok: bool = True


# ------------------------------------------------------------ core commands
@main.command()
@no_color_option
@input_option
@opt(
    "migrate-state",
    is_flag=True,
    help="Move the state to the backend the configuration now names (or back to the local "
    "file when the bcdr block is gone).",
)
@opt(
    "reconfigure",
    is_flag=True,
    help="Use the configuration's backend as it is, without moving the state to it.",
)
@click.pass_context
def init(ctx: click.Context, no_color: bool, migrate_state: bool, reconfigure: bool) -> None:
    """Prepare the working directory: the state's backend (checked, recorded), providers."""
    from engine.cli.backend import init_backend

    s = session_of(ctx)
    ui = s.use_ui(no_color)
    if migrate_state and reconfigure:
        raise CliError(
            "Incompatible init options",
            "-migrate-state moves the state and -reconfigure leaves it where it is: use one.",
        )
    ui.print("Initializing the state...")
    backend = init_backend(s, ui, migrate_state=migrate_state, reconfigure=reconfigure)
    if backend.remote:
        found = backend.exists()
        ui.print(
            f"- {'Found state' if found else 'No state yet (the first apply makes it)'} in "
            f"{backend.where}"
        )
    else:
        existed = s.state_path.exists()
        open_state(s)
        ui.print(
            f"- {'Found' if existed else 'Created'} state {s.state_path.relative_to(s.workdir)}"
        )
    registry = registry_of(s)
    ui.print("Initializing provider plugins...")
    for name, provider in sorted(registry.providers.items()):
        types = ", ".join(sorted(provider.schemas()))
        ui.print(f"- {name}: {types}")
    from engine.cli.mounting import mounted_names

    mounted = mounted_names()
    ui.print(f"- commands they bring: {', '.join(mounted) if mounted else 'none'}")
    ui.print("")
    ui.print(render.Text("bcdr has been successfully initialized!", style="bold green"))
    ui.print("")
    ui.print('You may now begin working with bcdr. Try running "bcdr plan" to see')
    ui.print("any changes that are required for your infrastructure.")


@main.command()
@no_color_option
@opt("json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def validate(ctx: click.Context, no_color: bool, as_json: bool) -> None:
    """Check the configuration (syntax, types, attributes, references) without state."""
    from engine.planner import validate as validate_config
    from sdk.values import UNKNOWN

    s = session_of(ctx)
    s.json_errors = as_json
    ui = s.use_ui(no_color)
    registry = registry_of(s)
    try:
        config = load_config_checked(s)
        values = {
            name: (UNKNOWN if v.required else v.default) for name, v in config.variables.items()
        }
        diags = Diagnostics(validate_config(config, registry, values))
    except DiagnosticsError as exc:
        diags = exc.diagnostics
    diags = Diagnostics(unique(list(s.warnings) + list(diags)))
    s.warnings.clear()
    if as_json:
        print_json(ui, render.diagnostics_json(diags, s.source_lines()))
        ctx.exit(EXIT_ERROR if diags.has_errors else 0)
    if diags.has_errors:
        raise DiagnosticsError(diags)
    if diags:
        ui.print(render.diagnostics_text(diags, s.source_lines()), err=True)
    ui.print(render.Text("Success! The configuration is valid.", style="bold green"))


@main.command()
@no_color_option
@var_options
@plan_options
@opt("destroy", is_flag=True, help="Plan to destroy every object.")
@opt("out", metavar="FILE", help="Save the plan to FILE for apply.")
@opt(
    "detailed-exitcode",
    "detailed",
    is_flag=True,
    help="Exit 0 when there are no changes, 1 on error, 2 when there are changes (a failed "
    "check block is a warning and changes none of these, as in Terraform).",
)
@opt("json", "as_json", is_flag=True, help="Print the plan as Terraform-like JSON.")
@opt(
    "generate-config-out",
    "generate_out",
    metavar="FILE",
    help="Write a resource block into FILE (a new *.hcl file) for each import block whose "
    "resource is not declared yet, from the object's arguments, then plan with it.",
)
@click.pass_context
def plan(
    ctx: click.Context,
    no_color: bool,
    out: str | None,
    detailed: bool,
    as_json: bool,
    generate_out: str | None,
    **kw: Any,
) -> None:
    """Show what apply would change; write nothing (except FILE with -out)."""
    s = session_of(ctx)
    s.json_errors = as_json
    ui = s.use_ui(no_color)
    args = PlanArgs(**kw)
    check_modes(args)
    # a plan writes nothing: no state is created, and an existing one is read as a copy in
    # memory while the lock is held (the lock file is gone again when the plan ends)
    exists = s.state.exists()
    with lock_state(s, "plan", args.lock_timeout) if exists else contextlib.nullcontext():
        registry = registry_of(s)
        loaded = load(s, args, registry)
        generated = bool(generate_out) and _generate(s, loaded, registry, generate_out)
        if generated:
            loaded = load(s, args, registry)  # again, with the written file
        store = open_state(s, read_only=True)
        the_plan, _ = make_plan_checked(s, args, store, registry, loaded)
    if out:
        write_plan(s, the_plan, out, loaded[0])
    if as_json:
        hidden = sensitive_variables(loaded[0])
        print_json(ui, mask_plan_json(render.plan_json(the_plan), hidden))
    else:
        ui.print(render.plan_text(the_plan))
        flush_warnings(s)
        if out:
            ui.print("")
            ui.print(f"Saved the plan to: {out}")
            ui.print("")
            ui.print("To perform exactly these actions, run the following command to apply:")
            ui.print(f'    bcdr apply "{out}"')
        elif the_plan.has_changes:
            ui.print("")
            ui.print(RULE)
            ui.print("")
            ui.print(
                "Note: You didn't use the -out option to save this plan, so bcdr can't "
                'guarantee to take exactly these actions if you run "bcdr apply" now.'
            )
        if generated:
            ui.print("")
            ui.print(
                f"bcdr has generated configuration and written it to {generate_out}. Please "
                "review it and edit it as necessary before adding it to version control."
            )
    if detailed and the_plan.has_changes:
        ctx.exit(EXIT_CHANGES)


@main.command()
@no_color_option
@var_options
@plan_options
@opt("auto-approve", is_flag=True, help="Apply without asking for approval.")
@opt("destroy", is_flag=True, help="Destroy every object instead (like bcdr destroy).")
@click.argument("planfile", required=False)
@click.pass_context
def apply(
    ctx: click.Context, no_color: bool, auto_approve: bool, planfile: str | None, **kw: Any
) -> None:
    """Make the changes: plan, show, ask, apply; or apply a saved PLANFILE as it is."""
    args = PlanArgs(**kw)
    if planfile is None:
        _plan_and_apply(ctx, args, auto_approve, no_color)
        return
    from engine.applier import check_plan_applicable

    s = session_of(ctx)
    ui = s.use_ui(no_color)
    if args.var or args.var_file or args.target or args.replace or args.destroy:
        raise CliError(
            "Can't set variables, targets or replacements with a saved plan",
            "A saved plan already holds them. Make a new plan with these options instead.",
        )
    saved = read_plan(s, planfile)
    state_is_new = not s.state.exists()
    with lock_state(s, "apply", args.lock_timeout) as held:
        registry = registry_of(s)
        config = load_config_checked(s)
        store = open_state(s)
        diags = check_plan_applicable(saved, store, config, state_is_new=state_is_new)
        if diags.has_errors:
            raise DiagnosticsError(diags)
        code = _run_apply(
            s,
            ui,
            saved,
            config,
            store,
            registry,
            parallelism=args.parallelism,
            lock_id=held.lock_id,
            destroy=saved.mode == "destroy",
        )
    ctx.exit(code)


@main.command()
@no_color_option
@var_options
@plan_options
@opt("auto-approve", is_flag=True, help="Destroy without asking for approval.")
@click.pass_context
def destroy(ctx: click.Context, no_color: bool, auto_approve: bool, **kw: Any) -> None:
    """Destroy every object this state manages (asks first unless -auto-approve)."""
    args = PlanArgs(**kw, destroy=True)
    _plan_and_apply(ctx, args, auto_approve, no_color)


@main.command()
@no_color_option
@var_options
@opt(
    "parallelism",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="How many objects are read at the same time.",
)
@opt("json", "as_json", is_flag=True, help="Print the drift as JSON.")
@lock_timeout_option
@click.pass_context
def drift(
    ctx: click.Context,
    no_color: bool,
    var: tuple[str, ...],
    var_file: tuple[str, ...],
    parallelism: int,
    as_json: bool,
    lock_timeout: float,
) -> None:
    """Report what changed outside bcdr, and judge the check blocks against the objects.

    Exit 2 when something drifted or a check block's assert failed (the place for "the
    newest restore point is under 24 hours old"), 0 when neither, 1 on error. A failed check
    is printed as a warning, as plan and apply print it."""
    s = session_of(ctx)
    s.json_errors = as_json
    ui = s.use_ui(no_color)
    args = PlanArgs(
        var=var,
        var_file=var_file,
        parallelism=parallelism,
        refresh_only=True,
        lock_timeout=lock_timeout,
    )
    exists = s.state.exists()  # like plan, drift writes nothing
    with lock_state(s, "drift", args.lock_timeout) if exists else contextlib.nullcontext():
        registry = registry_of(s)
        loaded = load(s, args, registry)
        store = open_state(s, read_only=True)
        the_plan, _ = make_plan_checked(s, args, store, registry, loaded)
    failed = the_plan.failed_checks()
    if as_json:
        drifted = {
            "resource_drift": [c.to_json() for c in the_plan.outside_changes()],
            "checks": the_plan.to_json()["checks"],
            # the warnings (a failed check's among them) in the document, as validate -json
            # has them, so stderr holds no text a JSON reader must skip
            "diagnostics": [
                render.diagnostic_json(d, s.source_lines()) for d in unique(s.warnings)
            ],
        }
        s.warnings.clear()
        print_json(ui, mask_plan_json(drifted, set()))
    else:
        if the_plan.outside_changes():
            ui.print(render.drift_text(the_plan))
            n = len(the_plan.outside_changes())
            ui.print("")
            ui.print(
                render.Text(f"Drift: {n} object{'s' if n != 1 else ''} changed.", style="bold")
            )
        else:
            ui.print("No drift. Your infrastructure still matches the state.")
        if failed:
            n = len(failed)
            names = ", ".join(c.address for c in failed)
            ui.print(render.Text(f"Checks: {n} failed ({names}).", style="bold"))
    flush_warnings(s)
    if the_plan.outside_changes() or failed:
        ctx.exit(EXIT_CHANGES)
