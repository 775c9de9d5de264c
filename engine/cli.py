"""The ``bcdr`` command line: click commands with Terraform's verbs, flags and wording.

This is the only module that prints or exits. Commands load the configuration, open the
state, call the engine and hand its results to ``engine.render``. Always holds: a user
mistake ends as ``Error: …`` lines (all of them, with file:line) and exit 1, never as a
traceback; an unexpected exception ends as ``Error: internal error: …`` and exit 1 (with
the traceback only when ``BCDR_DEBUG=1``); the engine's own modules are imported lazily,
so ``--help`` and ``version`` work whatever else is broken.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from engine import render
from engine.diagnostics import Diagnostic, Diagnostics, DiagnosticsError, Severity
from engine.diagnostics import error as diag_error
from engine.plan import Plan
from engine.ui import UI, InterruptHandler, ProgressBars

STATE_FILE = Path(".bcdr") / "state.db"
EXIT_ERROR, EXIT_CHANGES, EXIT_FMT = 1, 2, 3
_RULE = "─" * 77


class CliError(Exception):
    """A user-facing failure that is not about a place in a spec: summary plus what to do."""

    def __init__(self, summary: str, detail: str = "") -> None:
        super().__init__(summary)
        self.summary, self.detail = summary, detail


@dataclass
class Session:
    """What every command shares: the working directory, the UI and things to close."""

    workdir: Path
    ui: UI | None = None
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    warnings: list[Diagnostic] = field(default_factory=list)

    def use_ui(self, no_color: bool) -> UI:
        self.ui = UI.create(no_color)
        return self.ui

    @property
    def state_path(self) -> Path:
        return self.workdir / STATE_FILE

    def source_lines(self) -> dict[str, list[str]]:
        lines: dict[str, list[str]] = {}
        for f in sorted(self.workdir.glob("*.hcl")):
            with contextlib.suppress(OSError, UnicodeDecodeError):
                lines[f.name] = f.read_text(encoding="utf-8").splitlines()
        return lines

    def rel(self, name: str) -> Path:
        return self.workdir / name


# ------------------------------------------------------------------- the group
class BcdrGroup(click.Group):
    """Turns every failure into ``Error:`` output and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except DiagnosticsError as exc:
            _report(ctx, exc.diagnostics)
        except CliError as exc:
            _report(ctx, [diag_error(exc.summary, exc.detail)])
        except KeyboardInterrupt:
            _report(ctx, [diag_error("Interrupted", "Nothing more was started.")])
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            state_error = _state_error(exc)
            if state_error is not None:
                _report(ctx, [state_error])
            else:
                if os.environ.get("BCDR_DEBUG") == "1":
                    traceback.print_exc()
                _report(
                    ctx,
                    [
                        diag_error(
                            f"internal error: {type(exc).__name__}: {exc}",
                            "This is a bug in bcdr, not in your configuration. Please report "
                            "it with the command you ran; set BCDR_DEBUG=1 to see the traceback.",
                        )
                    ],
                )
        ctx.exit(EXIT_ERROR)


def _state_error(exc: Exception) -> Diagnostic | None:
    try:
        from state import StateError
    except ImportError:
        return None
    if not isinstance(exc, StateError):
        return None
    first, _, rest = str(exc).partition("\n")
    return diag_error(first.rstrip(":. ") if rest else str(exc), rest.strip("\n"))


def _session(ctx: click.Context) -> Session:
    return ctx.find_object(Session) or Session(Path("."))


def _report(ctx: click.Context, diagnostics: list[Diagnostic] | Diagnostics) -> None:
    s = _session(ctx)
    ui = s.ui or s.use_ui(False)
    items = _unique(list(s.warnings) + list(diagnostics))
    ui.print(render.diagnostics_text(items, s.source_lines()), err=True)
    s.warnings.clear()


def _flush_warnings(s: Session) -> None:
    if s.warnings and s.ui is not None:
        s.ui.print(render.diagnostics_text(_unique(s.warnings), s.source_lines()), err=True)
    s.warnings.clear()


def opt(flag: str, dest: str | None = None, **kw: Any) -> Any:
    """An option spelt Terraform's way (``-flag``) that also accepts ``--flag``."""
    return click.option(f"-{flag}", f"--{flag}", dest or flag.replace("-", "_"), **kw)


CONTEXT = {"help_option_names": ["-h", "-help", "--help"], "max_content_width": 100}


@click.group(cls=BcdrGroup, context_settings=CONTEXT)
@opt(
    "chdir",
    type=click.Path(file_okay=False, exists=True),
    default=".",
    help="Work in this directory instead of the current one (specs, .bcdr/ and plan files).",
)
@click.pass_context
def main(ctx: click.Context, chdir: str) -> None:
    """bcdr: declarative backup and disaster recovery, in the style of Terraform.

    Write specs in *.hcl files, run `bcdr plan` to see what would change and
    `bcdr apply` to make it so.
    """
    session = Session(Path(chdir))
    ctx.obj = session
    ctx.call_on_close(session.stack.close)


# ------------------------------------------------------------ shared options
def no_color_option(f: Any) -> Any:
    return opt(
        "no-color",
        is_flag=True,
        help="Print without colour (also the default when output is not a terminal).",
    )(f)


def var_options(f: Any) -> Any:
    f = opt(
        "var-file",
        multiple=True,
        metavar="FILE",
        help="Read variable values from an HCL file of NAME = VALUE lines (repeatable).",
    )(f)
    return opt(
        "var",
        multiple=True,
        metavar="NAME=VALUE",
        help="Set a variable (repeatable); later values win.",
    )(f)


def plan_options(f: Any) -> Any:
    options = [
        opt(
            "target",
            multiple=True,
            metavar="ADDR",
            help="Plan only this resource or instance and what it depends on (repeatable).",
        ),
        opt(
            "replace",
            multiple=True,
            metavar="ADDR",
            help="Force replacement of this resource instance (repeatable).",
        ),
        opt(
            "parallelism",
            type=click.IntRange(1, 1000),
            default=10,
            show_default=True,
            help="How many operations run at the same time.",
        ),
        opt(
            "refresh",
            type=click.BOOL,
            default=True,
            metavar="BOOL",
            help="Read the real objects before planning (-refresh=false skips it).",
        ),
        opt(
            "refresh-only",
            is_flag=True,
            help="Only record what changed outside bcdr; propose no other changes.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@dataclass
class PlanArgs:
    var: tuple[str, ...] = ()
    var_file: tuple[str, ...] = ()
    target: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()
    parallelism: int = 10
    refresh: bool = True
    refresh_only: bool = False
    destroy: bool = False


# ------------------------------------------------------------------- loading
def _registry(s: Session) -> Any:
    from engine.registry import load_registry

    registry = load_registry()
    s.stack.callback(registry.close)
    return registry


def _open_state(s: Session, *, create: bool = True) -> Any:
    from state import StateStore

    if not create and not StateStore.exists(s.state_path):
        raise CliError(
            f"No state found in {s.state_path}",
            "Run `bcdr init` and `bcdr apply` in this directory first, or use -chdir DIR.",
        )
    store = StateStore.open(s.state_path, create=create)
    s.stack.callback(store.close)
    return store


def _load_config(s: Session) -> Any:
    from engine.config import load_config

    if not s.workdir.is_dir():
        raise CliError(f"No such directory: {s.workdir}", "Check the -chdir option.")
    config, diags = load_config(s.workdir)
    s.warnings.extend(diags.warnings())
    if diags.has_errors:
        raise DiagnosticsError(diags.errors())
    if not config.files:
        raise CliError(
            f"No configuration files in {s.workdir}",
            "bcdr reads every *.hcl file of the working directory. Create main.hcl, or "
            "use -chdir DIR to point at the directory with your specs.",
        )
    return config


def _load(s: Session, args: PlanArgs, registry: Any) -> tuple[Any, dict[str, Any]]:
    """Config and variable values, checked against the schemas before any state is touched.

    All problems are reported together: config, variable values and schema checks.
    """
    from engine.planner import validate
    from engine.values import UNKNOWN
    from engine.varvalues import collect_variable_values

    config = _load_config(s)
    values, diags = collect_variable_values(
        config,
        cli_vars=list(args.var),
        var_files=[s.rel(f) for f in args.var_file],
        environ=os.environ,
    )
    errors = list(diags.errors())
    s.warnings.extend(diags.warnings())
    checked = validate(config, registry, {n: values.get(n, UNKNOWN) for n in config.variables})
    errors += checked.errors()
    s.warnings.extend(checked.warnings())
    if errors:
        raise DiagnosticsError(errors)
    return config, values


def _unique(diags: list[Diagnostic]) -> list[Diagnostic]:
    """Drop repeats of a finding (same severity, summary and place), keeping the first."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for d in diags:
        key = (d.severity, d.summary, d.range, d.address if d.range is None else None)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _make_plan(
    s: Session, args: PlanArgs, store: Any, registry: Any, loaded: tuple[Any, dict[str, Any]]
) -> tuple[Plan, Any]:
    from engine.planner import PlanOptions, make_plan

    config, values = loaded
    mode = "destroy" if args.destroy else "refresh-only" if args.refresh_only else "normal"
    options = PlanOptions(
        mode=mode,
        refresh=args.refresh,
        targets=list(args.target),
        replace=list(args.replace),
        parallelism=args.parallelism,
    )
    plan, diags = make_plan(config, store, registry, values, options, working_dir=s.workdir)
    s.warnings.extend(d for d in diags if not d.is_error)
    if diags.has_errors:
        raise DiagnosticsError(diags.errors())
    return plan, config


def _read_plan(s: Session, name: str) -> Plan:
    path = s.rel(name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Plan.from_json(data)
    except FileNotFoundError:
        raise CliError(f"No plan file at {name}", "Make one with `bcdr plan -out FILE`.") from None
    except (OSError, ValueError, KeyError, TypeError, StopIteration) as exc:
        raise CliError(
            f"{name} is not a bcdr plan file",
            f"It could not be read ({exc}). Make a new one with `bcdr plan -out FILE`.",
        ) from None


def _write_plan(s: Session, plan: Plan, name: str) -> None:
    path = s.rel(name)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(plan.to_json(), sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _print_json(ui: UI, data: Any) -> None:
    ui.write(json.dumps(data, sort_keys=False) + "\n")


# ------------------------------------------------------------------- applying
def _run_apply(
    s: Session,
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
    shown: dict[str, int] = {}
    shown_lock = threading.Lock()

    def on_event(ev: Any) -> None:
        if ev.kind == "progress" and ev.total:
            if bars.update(ev.address, f"{ev.address}: {ev.message}", ev.done, ev.total):
                return
            bucket = 10 * ev.done // max(ev.total, 1)
            with shown_lock:
                if shown.get(ev.address) == bucket:
                    return
                shown[ev.address] = bucket
        line = render.event_text(ev)
        if line is not None:
            ui.print(line)

    handler = InterruptHandler(
        stop=cancel.request_stop,
        say=lambda message: ui.print(message, err=True),
        on_exit=lambda: store.force_unlock(lock_id),
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
        if failures:
            ui.print(render.diagnostics_text(failures, s.source_lines()), err=True)
        ui.print(render.apply_summary_text(result, destroy=destroy))
        if result.outputs and not destroy:
            ui.print("\nOutputs:")
            ui.print("")
            ui.print(render.outputs_text(result.outputs))
    return 0 if result.ok else EXIT_ERROR


def _with_address(d: Diagnostic, address: str) -> Diagnostic:
    return Diagnostic(d.severity, d.summary, d.detail, d.range, address, d.rule)


def _plan_and_apply(ctx: click.Context, args: PlanArgs, auto_approve: bool, no_color: bool) -> None:
    s = _session(ctx)
    ui = s.use_ui(no_color)
    registry = _registry(s)
    loaded = _load(s, args, registry)
    store = _open_state(s)
    operation = "destroy" if args.destroy else "apply"
    with store.lock(operation) as held:
        plan, config = _make_plan(s, args, store, registry, loaded)
        ui.print(render.plan_text(plan))
        _flush_warnings(s)
        if not plan.has_changes:
            zero = _Zero()
            ui.print(render.apply_summary_text(zero, destroy=args.destroy))
            return
        if not auto_approve:
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
        else:
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
    changed: int = 0
    destroyed: int = 0
    failed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    interrupted: bool = False
    ok: bool = True


# ------------------------------------------------------------ core commands
@main.command()
@no_color_option
@click.pass_context
def init(ctx: click.Context, no_color: bool) -> None:
    """Prepare the working directory: create .bcdr/ and an empty state, list providers."""
    s = _session(ctx)
    ui = s.use_ui(no_color)
    from engine.registry import load_platform

    existed = s.state_path.exists()
    _open_state(s)
    registry = _registry(s)
    ui.print("Initializing the state...")
    ui.print(f"- {'Found' if existed else 'Created'} state {STATE_FILE}")
    ui.print("Initializing provider plugins...")
    for name, provider in sorted(registry.providers.items()):
        types = ", ".join(sorted(provider.schemas()))
        ui.print(f"- {name}: {types}")
    try:
        platform = load_platform()
    except ImportError:
        platform = None
    ui.print(f"- embedded platform: {'installed' if platform else 'not installed'}")
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
    from engine.values import UNKNOWN

    s = _session(ctx)
    ui = s.use_ui(no_color)
    registry = _registry(s)
    try:
        config = _load_config(s)
        values = {
            name: (UNKNOWN if v.required else v.default) for name, v in config.variables.items()
        }
        diags = Diagnostics(validate_config(config, registry, values))
    except DiagnosticsError as exc:
        diags = exc.diagnostics
    diags = Diagnostics(list(s.warnings) + list(diags))
    s.warnings.clear()
    if as_json:
        _print_json(
            ui,
            {
                "valid": not diags.has_errors,
                "error_count": len(diags.errors()),
                "warning_count": len(diags.warnings()),
                "diagnostics": [d.to_json() for d in diags],
            },
        )
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
    help="Exit 0 when there are no changes, 1 on error, 2 when there are changes.",
)
@opt("json", "as_json", is_flag=True, help="Print the plan as Terraform-like JSON.")
@click.pass_context
def plan(
    ctx: click.Context,
    no_color: bool,
    out: str | None,
    detailed: bool,
    as_json: bool,
    **kw: Any,
) -> None:
    """Show what apply would change; write nothing (except FILE with -out)."""
    s = _session(ctx)
    ui = s.use_ui(no_color)
    args = PlanArgs(**kw)
    registry = _registry(s)
    loaded = _load(s, args, registry)
    store = _open_state(s)
    lock = store.lock("plan") if args.refresh else contextlib.nullcontext()
    with lock:
        the_plan, _ = _make_plan(s, args, store, registry, loaded)
    if out:
        _write_plan(s, the_plan, out)
    if as_json:
        _print_json(ui, render.plan_json(the_plan))
    else:
        ui.print(render.plan_text(the_plan))
        _flush_warnings(s)
        if out:
            ui.print("")
            ui.print(f"Saved the plan to: {out}")
            ui.print("")
            ui.print("To perform exactly these actions, run the following command to apply:")
            ui.print(f'    bcdr apply "{out}"')
        elif the_plan.has_changes:
            ui.print("")
            ui.print(_RULE)
            ui.print("")
            ui.print(
                "Note: You didn't use the -out option to save this plan, so bcdr can't "
                'guarantee to take exactly these actions if you run "bcdr apply" now.'
            )
    if detailed and the_plan.has_changes:
        ctx.exit(EXIT_CHANGES)


@main.command()
@no_color_option
@var_options
@plan_options
@opt("auto-approve", is_flag=True, help="Apply without asking for approval.")
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

    s = _session(ctx)
    ui = s.use_ui(no_color)
    if args.var or args.var_file or args.target or args.replace:
        raise CliError(
            "Can't set variables, targets or replacements with a saved plan",
            "A saved plan already holds them. Make a new plan with these options instead.",
        )
    saved = _read_plan(s, planfile)
    registry = _registry(s)
    config = _load_config(s)
    store = _open_state(s)
    with store.lock("apply") as held:
        diags = check_plan_applicable(saved, store, config)
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
@click.pass_context
def drift(
    ctx: click.Context,
    no_color: bool,
    var: tuple[str, ...],
    var_file: tuple[str, ...],
    parallelism: int,
    as_json: bool,
) -> None:
    """Report what changed outside bcdr: exit 2 when something drifted, 0 when not."""
    s = _session(ctx)
    ui = s.use_ui(no_color)
    args = PlanArgs(var=var, var_file=var_file, parallelism=parallelism, refresh_only=True)
    registry = _registry(s)
    loaded = _load(s, args, registry)
    store = _open_state(s)
    with store.lock("drift"):
        the_plan, _ = _make_plan(s, args, store, registry, loaded)
    if as_json:
        _print_json(ui, {"resource_drift": [c.to_json() for c in the_plan.drift]})
    elif the_plan.drift:
        ui.print(render.drift_text(the_plan))
        n = len(the_plan.drift)
        ui.print("")
        ui.print(render.Text(f"Drift: {n} object{'s' if n != 1 else ''} changed.", style="bold"))
    else:
        ui.print("No drift. Your infrastructure still matches the state.")
    _flush_warnings(s)
    if the_plan.drift:
        ctx.exit(EXIT_CHANGES)


# -------------------------------------------------------------- reading state
def _sensitive_by_type(s: Session, types: set[str]) -> dict[str, list[str]]:
    try:
        registry = _registry(s)
    except Exception:  # noqa: BLE001 - without providers, hide nothing we cannot know
        return {}
    result = {}
    for t in types:
        schema = registry.schema(t)
        result[t] = schema.sensitive_attributes() if schema else []
    return result


@main.command()
@no_color_option
@opt("json", "as_json", is_flag=True, help="Print as JSON (Terraform's shape).")
@click.argument("planfile", required=False)
@click.pass_context
def show(ctx: click.Context, no_color: bool, as_json: bool, planfile: str | None) -> None:
    """Show a saved PLANFILE, or without one the resources and outputs in the state."""
    s = _session(ctx)
    ui = s.use_ui(no_color)
    if planfile:
        saved = _read_plan(s, planfile)
        if as_json:
            _print_json(ui, render.plan_json(saved))
        else:
            ui.print(render.plan_text(saved))
        return
    if not s.state_path.exists():
        if as_json:
            _print_json(ui, {"format_version": "1.0"})
        else:
            ui.print("No state.")
        return
    store = _open_state(s, create=False)
    records = store.instances()
    outputs = store.outputs()
    sensitive = _sensitive_by_type(s, {r.type for r in records})
    if as_json:
        _print_json(ui, render.state_json(records, outputs, sensitive))
        return
    if not records and not outputs:
        ui.print("The state file is empty. No resources are represented.")
        return
    for r in records:
        ui.print(render.state_instance_text(r, sensitive.get(r.type, [])))
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
    s = _session(ctx)
    ui = s.use_ui(no_color)
    outputs = _open_state(s, create=False).outputs() if s.state_path.exists() else {}
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
            if isinstance(value, dict | list) or value is None:
                raise CliError(
                    "Unsupported value for raw output",
                    f"The -raw option only supports strings, numbers, and boolean values, but "
                    f'output value "{name}" is {_json_type(value)!s}. Use the -json option for '
                    "complex values.",
                )
            ui.write(value if isinstance(value, str) else render.format_value(value))
        elif as_json:
            _print_json(ui, value)
        else:
            ui.print(render.SENSITIVE if sensitive else render.format_value(value))
        return
    if as_json:
        _print_json(
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
        _flush_warnings(s)
        return
    ui.print(render.outputs_text(outputs))


# ---------------------------------------------------------------- state verbs
@main.group("state", cls=click.Group)
def state_group() -> None:
    """Inspect and edit the state: list, show, rm, mv."""


def _matching(records: list[Any], address: str) -> list[Any]:
    """Records at ``address``: the instance itself, or every instance of a resource."""
    exact = [r for r in records if r.address == address]
    if exact:
        return exact
    return [r for r in records if f"{r.type}.{r.name}" == address]


def _check_address(address: str) -> None:
    from engine.addrs import InstanceAddr

    try:
        InstanceAddr.parse(address)
    except ValueError as exc:
        raise CliError(f"Invalid address {address!r}", str(exc)) from None


@state_group.command("list")
@click.argument("addresses", nargs=-1)
@click.pass_context
def state_list(ctx: click.Context, addresses: tuple[str, ...]) -> None:
    """List the instances in the state (only those at ADDRESSES when given)."""
    s = _session(ctx)
    ui = s.use_ui(True)
    if not s.state_path.exists():
        return
    records = _open_state(s, create=False).instances()
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
    s = _session(ctx)
    ui = s.use_ui(no_color)
    _check_address(address)
    record = _open_state(s, create=False).get(address)
    if record is None:
        raise CliError(
            f"No instance found for the given address: {address}",
            "Run `bcdr state list` to see the addresses in the state.",
        )
    sensitive = _sensitive_by_type(s, {record.type})
    ui.print(render.state_instance_text(record, sensitive.get(record.type, [])))


def _history(store: Any, operation: str, started: str, summary: dict[str, Any]) -> None:
    from state import utc_now

    store.record_history(operation, started, utc_now(), "ok", summary)


@state_group.command("rm")
@click.argument("addresses", nargs=-1, required=True)
@click.pass_context
def state_rm(ctx: click.Context, addresses: tuple[str, ...]) -> None:
    """Forget instances (the real objects stay); bcdr no longer manages them."""
    from state import utc_now

    s = _session(ctx)
    ui = s.use_ui(True)
    for a in addresses:
        _check_address(a)
    store = _open_state(s, create=False)
    started = utc_now()
    with store.lock("state-rm"):
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
        _history(store, "state-rm", started, {"removed": [r.address for r in targets]})
    for r in targets:
        ui.print(f"Removed {r.address}")
    ui.print(f"Successfully removed {len(targets)} resource instance(s).")


@state_group.command("mv")
@click.argument("source")
@click.argument("destination")
@click.pass_context
def state_mv(ctx: click.Context, source: str, destination: str) -> None:
    """Give an instance (or every instance of a resource) a new address in the state."""
    from engine.addrs import InstanceAddr
    from state import utc_now

    s = _session(ctx)
    ui = s.use_ui(True)
    _check_address(source)
    _check_address(destination)
    store = _open_state(s, create=False)
    started = utc_now()
    with store.lock("state-mv"):
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
        with store.transaction():
            for a, b in pairs:
                store.move(a, b)
        _history(store, "state-mv", started, {"moved": pairs})
    for a, b in pairs:
        ui.print(f'Move "{a}" to "{b}"')
    ui.print(f"Successfully moved {len(pairs)} object(s).")


# ------------------------------------------------------------ other verbs
@main.command("import")
@no_color_option
@var_options
@click.argument("address")
@click.argument("object_id", metavar="ID")
@click.pass_context
def import_cmd(
    ctx: click.Context,
    no_color: bool,
    var: tuple[str, ...],
    var_file: tuple[str, ...],
    address: str,
    object_id: str,
) -> None:
    """Bring an existing object with ID under management at ADDRESS (declared in config)."""
    from engine.importer import import_resource
    from state import utc_now

    s = _session(ctx)
    ui = s.use_ui(no_color)
    _check_address(address)
    registry = _registry(s)
    config, values = _load(s, PlanArgs(var=var, var_file=var_file), registry)
    store = _open_state(s)
    started = utc_now()
    with store.lock("import"):
        ui.print(f'{address}: Importing from ID "{object_id}"...')
        diags = import_resource(
            config, store, registry, values, address, object_id, working_dir=s.workdir
        )
        s.warnings.extend(diags.warnings())
        if diags.has_errors:
            raise DiagnosticsError(diags.errors())
        _history(store, "import", started, {"imported": [address], "id": object_id})
    ui.print(f"{address}: Import prepared!")
    ui.print("")
    ui.print(render.Text("Import successful!", style="bold green"))
    ui.print("")
    ui.print("The resources that were imported are shown above. These resources are now in")
    ui.print("your bcdr state and will henceforth be managed by bcdr.")
    _flush_warnings(s)


@main.command()
@click.pass_context
def graph(ctx: click.Context) -> None:
    """Print the dependency graph of the configuration and state in DOT (for Graphviz)."""
    from engine.graph import build_graph

    s = _session(ctx)
    ui = s.use_ui(True)
    config = _load_config(s)
    records = _open_state(s, create=False).instances() if s.state_path.exists() else []
    the_graph, diags = build_graph(config, records)
    s.warnings.extend(diags.warnings())
    if diags.has_errors:
        raise DiagnosticsError(diags.errors())
    ui.write(the_graph.to_dot().rstrip("\n") + "\n")
    _flush_warnings(s)


@main.command("force-unlock")
@no_color_option
@opt("force", is_flag=True, help="Do not ask for confirmation.")
@click.argument("lock_id")
@click.pass_context
def force_unlock(ctx: click.Context, no_color: bool, force: bool, lock_id: str) -> None:
    """Remove the state lock LOCK_ID left by a bcdr process that is gone."""
    s = _session(ctx)
    ui = s.use_ui(no_color)
    store = _open_state(s, create=False)
    if not force and not ui.ask(
        "Do you really want to force-unlock?",
        "bcdr will remove the lock on the state.\n"
        "This will allow local bcdr commands to modify this state, even though it\n"
        "may still be in use. Only 'yes' will be accepted to confirm.",
    ):
        raise CliError("force-unlock cancelled", "The lock was left in place.")
    store.force_unlock(lock_id)
    ui.print(render.Text("bcdr state has been successfully unlocked!", style="bold green"))
    ui.print("")
    ui.print("The state has been unlocked, and bcdr commands should now be able to")
    ui.print("obtain a new lock on the state.")


@main.command()
@no_color_option
@opt(
    "check", is_flag=True, help="Change nothing; exit 3 and list the files that are not formatted."
)
@opt("diff", is_flag=True, help="Print the changes as a diff.")
@opt(
    "list",
    "list_files",
    type=click.BOOL,
    default=True,
    metavar="BOOL",
    help="List the files whose formatting differs (-list=false to keep quiet).",
)
@click.argument("paths", nargs=-1)
@click.pass_context
def fmt(
    ctx: click.Context,
    no_color: bool,
    check: bool,
    diff: bool,
    list_files: bool,
    paths: tuple[str, ...],
) -> None:
    """Rewrite *.hcl files (in the working directory, or PATHS) in the canonical layout."""
    from engine.diagnostics import SourceRange
    from engine.fmt import format_source

    s = _session(ctx)
    ui = s.use_ui(no_color)
    files: list[Path] = []
    for p in paths or (".",):
        path = s.rel(p)
        if path.is_dir():
            files += sorted(path.glob("*.hcl"))
        elif path.is_file():
            files.append(path)
        else:
            raise CliError(f"No file or directory at {p}", "Give *.hcl files or directories.")
    problems, changed = [], []
    for f in files:
        name = str(f.relative_to(s.workdir)) if f.is_relative_to(s.workdir) else str(f)
        text = f.read_text(encoding="utf-8")
        try:
            new = format_source(text)
        except ValueError as exc:
            line = getattr(exc, "line", None) or _line_of(str(exc))
            problems.append(
                diag_error(
                    "Invalid syntax; this file cannot be formatted",
                    f"{str(exc).replace('<input>', name)}\n"
                    "Fix the syntax (bcdr validate shows it) and run fmt again.",
                    SourceRange(name, line) if line else None,
                )
            )
            continue
        if new == text:
            continue
        changed.append(name)
        if list_files:
            ui.print(name)
        if diff:
            ui.write(
                "".join(
                    difflib.unified_diff(
                        text.splitlines(keepends=True),
                        new.splitlines(keepends=True),
                        f"old/{name}",
                        f"new/{name}",
                    )
                )
            )
        if not check:
            tmp = f.with_name(f.name + ".tmp")
            tmp.write_text(new, encoding="utf-8")
            os.replace(tmp, f)
    if problems:
        raise DiagnosticsError(problems)
    if check and changed:
        ctx.exit(EXIT_FMT)


def _line_of(message: str) -> int | None:
    import re

    m = re.search(r"line (\d+)|<input>:(\d+)", message)
    return int(m.group(1) or m.group(2)) if m else None


@main.command()
@opt("json", "as_json", is_flag=True, help="Print the version as JSON.")
@click.pass_context
def version(ctx: click.Context, as_json: bool) -> None:
    """Print the bcdr version and the installed providers."""
    import platform as py
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    s = _session(ctx)
    ui = s.use_ui(True)
    try:
        v = dist_version("bcdr")
    except PackageNotFoundError:
        v = "unknown"
    providers: dict[str, list[str]] = {}
    with contextlib.suppress(Exception):
        for name, p in _registry(s).providers.items():
            providers[name] = sorted(p.schemas())
    if as_json:
        _print_json(
            ui, {"bcdr_version": v, "python_version": py.python_version(), "providers": providers}
        )
        return
    ui.print(f"bcdr v{v}")
    ui.print(f"on python {py.python_version()}")
    for name in sorted(providers):
        ui.print(f"+ provider {name} ({len(providers[name])} resource types)")


# ------------------------------------------------------- the platform's verbs
def home_option(f: Any) -> Any:
    return opt(
        "home",
        envvar="BCDR_FABRIC_HOME",
        metavar="DIR",
        help="The embedded platform's home (default .bcdr/fabric; env BCDR_FABRIC_HOME).",
    )(f)


def _platform(s: Session, home: str | None) -> tuple[Any, Path]:
    from engine.registry import load_platform

    try:
        platform = load_platform()
    except ImportError as exc:
        platform, why = None, str(exc)
    else:
        why = "no package registers the bcdr.platform entry point"
    if platform is None:
        raise CliError(
            "The embedded platform is not installed",
            f"This command acts on the embedded platform, which could not be loaded ({why}). "
            "Reinstall bcdr with its platform (make test or pip install -e .).",
        )
    return platform, (Path(home) if home else s.workdir / ".bcdr" / "fabric")


def _progress(ui: UI, bars: ProgressBars) -> Any:
    shown: dict[str, int] = {}

    def report(label: str, done: int, total: int) -> None:
        if bars.update(label, label, done, total):
            return
        bucket = 10 * done // total if total else 0
        if shown.get(label) != bucket:
            shown[label] = bucket
            ui.print(f"{label}: {done}/{total}")

    return report


@main.command()
@no_color_option
@home_option
@opt("host", default="127.0.0.1", show_default=True, help="Listen on.")
@opt("port", type=int, default=8443, show_default=True, help="Port to use.")
@click.pass_context
def serve(ctx: click.Context, no_color: bool, home: str | None, host: str, port: int) -> None:
    """Serve disk restore points over HTTP to holders of a valid SAS URL, until Ctrl-C."""
    s = _session(ctx)
    ui = s.use_ui(no_color)
    platform, home_dir = _platform(s, home)

    def ready(url: str) -> None:
        ui.print(f"Serving disk restore points at {url}")
        ui.print("Press Ctrl-C to stop.")

    try:
        platform.serve(home_dir, host, port, ready)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise CliError(
            f"Cannot listen on {host}:{port}",
            f"{exc}. Choose another port with -port, or stop what uses this one.",
        ) from None
    ui.print("Stopped.")


@main.command()
@no_color_option
@home_option
@opt(
    "sample",
    type=click.FloatRange(0, 100, min_open=True),
    default=100.0,
    show_default=True,
    metavar="PERCENT",
    help="Check only this percentage of the stored blocks, chosen at random.",
)
@click.pass_context
def verify(ctx: click.Context, no_color: bool, home: str | None, sample: float) -> None:
    """Re-read every stored block and check its hash; exit 1 when something is wrong."""
    s = _session(ctx)
    ui = s.use_ui(no_color)
    platform, home_dir = _platform(s, home)
    with ProgressBars(ui) as bars:
        result = platform.verify(home_dir, sample, _progress(ui, bars))
    blocks, size = result.get("blocks_checked", 0), result.get("bytes_checked", 0)
    problems = list(result.get("problems", []))
    ui.print(f"Checked {blocks} blocks ({render.human_bytes(size)}).")
    if problems:
        raise DiagnosticsError(
            [
                diag_error(
                    "Stored data failed verification",
                    f"{p}\nRestore points using it cannot be restored safely; take new ones.",
                )
                for p in problems
            ]
        )
    ui.print(render.Text("No problems found.", style="bold green"))


@main.command()
@no_color_option
@home_option
@click.pass_context
def gc(ctx: click.Context, no_color: bool, home: str | None) -> None:
    """Delete stored blocks that no restore point references any more."""
    s = _session(ctx)
    ui = s.use_ui(no_color)
    platform, home_dir = _platform(s, home)
    with ProgressBars(ui) as bars:
        result = platform.gc(home_dir, _progress(ui, bars))
    deleted, freed = result.get("blocks_deleted", 0), result.get("bytes_freed", 0)
    ui.print(f"Deleted {deleted} unreferenced blocks, freed {render.human_bytes(freed)}.")
