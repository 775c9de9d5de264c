"""The ``bcdr`` group and what every command shares: session, options, loading, errors.

``BcdrGroup.invoke`` is the one place where failures become ``Error:`` output and an exit
code. Always holds: config, variable values and schema checks are all loaded and reported
together before any command opens the state; the state lives at ``.bcdr/state.db`` under
the working directory (``-chdir``, made absolute, so every path resolves from it as from
inside it), or where the backend that ``bcdr init`` recorded says (``CliContext.state``,
``engine.cli.backend``); what a command opened is closed when it ends.

It passes 400 lines on purpose: it is the one place that orders what every command shares
(the group's error handling, the session, the shared options, loading config, values, checks
and state, plan files); split, that order would be spread over modules that all import one
another.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from engine import render
from engine.ui import UI
from sdk.cli import DashGroup, Output, Setting, opt, option_order
from sdk.diagnostics import Diagnostic, Diagnostics, DiagnosticsError
from sdk.diagnostics import error as diag_error
from sdk.diagnostics import warning as diag_warning

if TYPE_CHECKING:
    from collections.abc import Iterator

    from engine.configmodel import Config
    from engine.plan import Plan
    from engine.registry import Registry
    from engine.schemacheck import ConfigChecks
    from state import StateBackend, StateStore

# Start-up: ``bcdr --help`` and ``bcdr version`` import this module, click and what the
# command modules import at their top, and nothing else (tests/cli/test_startup.py, the
# start-up row of bench/startup.py). So the command modules import the engine, the state,
# rich and the providers inside the functions that use them; a command group mounted
# lazily from an entry point keeps to the same rule in its module.
STATE_FILE = Path(".bcdr") / "state.db"
WORKSPACE_FILE = Path(".bcdr") / "environment"
WORKSPACE_ENV = "BCDR_WORKSPACE"
EXIT_ERROR, EXIT_CHANGES, EXIT_FMT = 1, 2, 3
#: stdout's reader went away (``bcdr state list | head -1``): 128 + SIGPIPE, the status a
#: shell reports for git, Terraform or any program the signal ends
EXIT_PIPE = 141
RULE = "─" * 77


class CliError(Exception):
    """A user-facing failure that is not about a place in a spec: summary plus what to do."""

    def __init__(self, summary: str, detail: str = "") -> None:
        super().__init__(summary)
        self.summary, self.detail = summary, detail


@dataclass
class CliContext:
    """What every command shares: the working directory, the UI and things to close."""

    workdir: Path
    ui: UI | None = None
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    warnings: list[Diagnostic] = field(default_factory=list)
    input: bool = True  # -input=false: never ask a question
    compact_warnings: bool = False
    json_errors: bool = False  # a -json command: a failure prints JSON diagnostics on stdout
    backend: Any = None  # the state's backend (engine.cli.backend.backend_of), once known
    locked: bool = False  # the state lock is held (lock_state)
    _loaded: Any = None  # (Config, Diagnostics) of the specs, loaded once per command

    def use_ui(self, no_color: bool) -> UI:
        self.ui = UI.create(no_color)
        return self.ui

    def output(self, no_color: bool) -> Output:
        """``sdk.cli.CommandContext.output``: the UI, for a command a provider brings."""
        from engine.cli.mounting import CommandOutput

        return CommandOutput(self.use_ui(no_color))

    def provider_setting(self, provider: str, attribute: str) -> Setting | None:
        from engine.cli.mounting import provider_setting

        return provider_setting(self.workdir, provider, attribute)

    def resource_ids(self, type_name: str) -> dict[str, str]:
        """``sdk.cli.CommandContext.resource_ids``: from a read-only copy of the state."""
        if not self.state.exists():
            return {}
        store = open_state(self, create=False, read_only=True)
        return {
            r.address: r.id
            for r in store.instances()
            if r.type == type_name and r.id and not r.address.startswith("data.")
        }

    @property
    def workspace(self) -> str:
        """The selected workspace: ``BCDR_WORKSPACE``, else what ``bcdr workspace select``
        recorded (``.bcdr/environment``), else ``default``."""
        from state.workspaces import DEFAULT, name_problem

        name = os.environ.get(WORKSPACE_ENV, "").strip()
        where = f"the {WORKSPACE_ENV} environment variable"
        if not name:
            try:
                name = (self.workdir / WORKSPACE_FILE).read_text(encoding="utf-8").strip()
            except FileNotFoundError:
                return DEFAULT
            except (OSError, UnicodeDecodeError) as exc:
                raise CliError(
                    f"Cannot read {WORKSPACE_FILE} ({exc})",
                    "run `bcdr workspace select NAME` to choose the workspace again.",
                ) from None
            where = str(WORKSPACE_FILE)
        problem = name_problem(name)
        if problem:
            raise CliError(f"Invalid workspace name in {where}", problem)
        return name

    @property
    def state_path(self) -> Path:
        """The local state file of the selected workspace (the state itself unless a backend
        block names another home): ``.bcdr/state.db``, ``.bcdr/workspaces/NAME/state.db``."""
        from state import LocalBackend

        return LocalBackend(self.workdir / STATE_FILE).workspace(self.workspace).path

    def loaded_config(self) -> tuple[Config, Diagnostics]:
        """The working directory's specs and their diagnostics, loaded once per command."""
        if self._loaded is None:
            from engine.config import load_config

            self._loaded = load_config(self.workdir)
            self._loaded[0].workspace = self.workspace
        return self._loaded

    def reload_config(self) -> None:
        """Read the specs again at the next ``loaded_config`` (a command wrote one)."""
        self._loaded = None

    @property
    def state(self) -> StateBackend:
        """Where the state lives (``engine.cli.backend``): the file, or a blob."""
        from engine.cli.backend import backend_of

        return backend_of(self)

    def state_where(self) -> str:
        """The state's place in messages (the file as the user would write its path)."""
        backend = self.state
        return self.shown(self.state_path) if not backend.remote else backend.where

    def source_lines(self) -> dict[str, list[str]]:
        lines: dict[str, list[str]] = {}
        for f in sorted(self.workdir.glob("*.hcl")):
            with contextlib.suppress(OSError, UnicodeDecodeError):
                lines[f.name] = f.read_text(encoding="utf-8").splitlines()
        return lines

    def rel(self, name: str) -> Path:
        return self.workdir / name

    def shown(self, path: Path) -> str:
        """``path`` as the user would write it: from the current directory when under it."""
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)


# ------------------------------------------------------------------- the group
#: each built-in command and the module of ``engine.cli`` that defines it, imported when the
#: command runs (or ``-help`` lists them all): ``bcdr version`` loads none of the others
BUILTIN = {
    "init": "run",
    "validate": "run",
    "plan": "run",
    "apply": "run",
    "destroy": "run",
    "drift": "run",
    "show": "show",
    "output": "show",
    "state": "show",
    "import": "tools",
    "graph": "tools",
    "force-unlock": "tools",
    "fmt": "tools",
    "console": "console",
    "workspace": "workspace",
    "version": "tools",
    "providers": "providers",
}


class BcdrGroup(DashGroup):
    """Turns every failure into ``Error:`` output and an exit code; loads each built-in
    command's module on first use and mounts the commands that providers bring
    (``engine.cli.mounting``) beside them."""

    group_class = DashGroup

    def list_commands(self, ctx: click.Context) -> list[str]:
        from engine.cli.mounting import mounted_names

        return sorted({*self.commands, *BUILTIN, *mounted_names()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in BUILTIN:
            import importlib

            importlib.import_module(f"engine.cli.{BUILTIN[cmd_name]}")  # registers it
        command = self.commands.get(cmd_name)
        if command is None:
            from engine.cli.mounting import load_mounted

            command = load_mounted(cmd_name)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        # one command, one short-lived process holding tens of thousands of config and state
        # objects: collect young garbage less often (full scans of that heap are what made
        # plan time grow faster than the number of resources)
        gc.set_threshold(100_000, 50, 100)
        try:
            result = super().invoke(ctx)
        except click.exceptions.Exit as exc:
            _exit_if_output_lost(ctx, exc.exit_code)
            raise
        except (click.ClickException, click.Abort):
            raise
        except BrokenPipeError:  # written past the UI: the same as through it
            s = session_of(ctx)
            (s.ui or s.use_ui(False)).reader_gone("stdout")
            ctx.exit(EXIT_PIPE)
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
                    import traceback

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
        else:
            _exit_if_output_lost(ctx, 0)
            return result
        ctx.exit(EXIT_ERROR)


def _exit_if_output_lost(ctx: click.Context, code: int | None) -> None:
    """A command that would succeed exits 141 when stdout's reader went away; a failure keeps
    its own code. The command itself ran to its end (output went to nowhere)."""
    ui = session_of(ctx).ui
    if not code and ui is not None and "stdout" in ui.closed:
        ctx.exit(EXIT_PIPE)


def _state_error(exc: Exception) -> Diagnostic | None:
    try:
        from state import StateError
    except ImportError:
        return None
    if not isinstance(exc, StateError):
        return None
    first, _, rest = str(exc).partition("\n")
    return diag_error(first.rstrip(":. ") if rest else str(exc), rest.strip("\n"))


def session_of(ctx: click.Context) -> CliContext:
    return ctx.find_object(CliContext) or CliContext(Path("."))


def _report(ctx: click.Context, diagnostics: list[Diagnostic] | Diagnostics) -> None:
    s = session_of(ctx)
    ui = s.ui or s.use_ui(False)
    items = unique(list(s.warnings) + list(diagnostics))
    if s.json_errors:
        print_json(ui, render.diagnostics_json(items, s.source_lines()))
    else:
        ui.print(render.diagnostics_text(items, s.source_lines()), err=True)
    s.warnings.clear()


def flush_warnings(s: CliContext) -> None:
    if s.warnings and s.ui is not None:
        s.ui.print(warnings_text(s, unique(s.warnings)), err=True)
    s.warnings.clear()


def warnings_text(s: CliContext, warnings: list[Diagnostic]) -> Any:
    """Warnings in full, or with -compact-warnings one line each (Terraform's layout)."""
    if not s.compact_warnings:
        return render.diagnostics_text(warnings, s.source_lines())
    text = render.Text("Warnings:\n\n", style="bold yellow")
    for d in warnings:
        text.append(f"- {d.summary}\n")
        if d.range is not None:
            text.append(f"  on {d.range.filename} line {d.range.line}\n")
    text.append("\nTo see the full warning notes, run bcdr without -compact-warnings.\n")
    return text


CONTEXT = {"help_option_names": ["-h", "-help", "--help"], "max_content_width": 100}


@click.group(cls=BcdrGroup, context_settings=CONTEXT)
@opt(
    "chdir",
    type=click.Path(file_okay=False, exists=True),
    default=".",
    help="Work in this directory instead of the current one (specs, .bcdr/ and plan files).",
)
@click.option(
    "-version",
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, _, value: _version_and_exit(ctx) if value else None,
    help="Print the version and the installed providers (like `bcdr version`).",
)
@click.pass_context
def main(ctx: click.Context, chdir: str) -> None:
    """bcdr: declarative backup and disaster recovery, in the style of Terraform.

    Write specs in *.hcl files, run `bcdr plan` to see what would change and
    `bcdr apply` to make it so.
    """
    # like Terraform, which changes into the folder before running the command: every path
    # (the specs' own, .bcdr/, and paths given on the command line) is taken from there, so
    # the folder is made absolute before anything joins a relative path to it
    session = CliContext(Path(os.path.abspath(chdir)))
    ctx.obj = session
    ctx.call_on_close(session.stack.close)


def _version_and_exit(ctx: click.Context) -> None:
    """``bcdr -version``: Terraform's alias of ``bcdr version``."""
    if ctx.obj is None:
        ctx.obj = CliContext(Path(os.path.abspath(".")))
        ctx.call_on_close(ctx.obj.stack.close)
    command = (
        ctx.command.get_command(ctx, "version") if isinstance(ctx.command, click.Group) else None
    )
    if command is not None:
        ctx.invoke(command, as_json=False)
    ctx.exit(0)


# ------------------------------------------------------------ shared options
def var_options(f: Any) -> Any:
    f = opt(
        "var-file",
        multiple=True,
        metavar="FILE",
        help="Read variable values from a file: NAME = VALUE lines, or one JSON object if it "
        "ends in .json (repeatable; with -var, applied in command-line order).",
    )(f)
    return opt(
        "var",
        multiple=True,
        metavar="NAME=VALUE",
        help="Set a variable (repeatable; with -var-file, the last given wins).",
    )(f)


def _session_flag(name: str, help: str, **kw: Any) -> Any:
    """An option that sets ``CliContext.<name>`` (no parameter of its own in the command)."""

    def store(ctx: click.Context, _: Any, value: Any) -> None:
        setattr(session_of(ctx), name, value)

    return opt(name.replace("_", "-"), expose_value=False, callback=store, help=help, **kw)


def input_option(f: Any) -> Any:
    return _session_flag(
        "input",
        "Ask questions when needed (-input=false for automation: a question that would be "
        "asked is an error instead; bcdr never asks for variable values).",
        type=click.BOOL,
        default=True,
        metavar="BOOL",
    )(f)


def compact_warnings_option(f: Any) -> Any:
    return _session_flag(
        "compact_warnings", "Show warnings as one line each (full notes with errors).", is_flag=True
    )(f)


def plan_options(f: Any) -> Any:
    options = [
        input_option,
        compact_warnings_option,
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
    return lock_timeout_option(f)


class Duration(click.ParamType):
    """A duration as Terraform writes it: ``0s``, ``10s``, ``2m``, ``1m30s``, ``500ms``, ``1h``."""

    name = "duration"
    _UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        if isinstance(value, int | float):
            return float(value)
        text = str(value).strip()
        if text == "0":
            return 0.0
        parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
        if not parts or "".join(n + u for n, u in parts) != text:
            self.fail(
                f"{value!r} is not a duration: write a number with a unit, such as 10s, 2m "
                "or 1m30s (units ms, s, m, h).",
                param,
                ctx,
            )
        return sum(float(n) * self._UNITS[u] for n, u in parts)


def lock_timeout_option(f: Any) -> Any:
    return opt(
        "lock-timeout",
        type=Duration(),
        default="0s",
        metavar="DURATION",
        help="Wait up to DURATION (10s, 2m) for a state lock another run holds; default 0s.",
    )(f)


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
    lock_timeout: float = 0.0


# ------------------------------------------------------------------- loading
def registry_of(s: CliContext) -> Registry:
    from engine.registry import load_registry

    registry = load_registry()
    s.stack.callback(registry.close)
    return registry


def open_state(s: CliContext, *, create: bool = True, read_only: bool = False) -> StateStore:
    """The state of the working directory, closed when the command ends.

    ``read_only``: a copy in memory that writes nothing (plan, drift, history); with
    ``create`` and no state yet, an empty state bound to "no state yet". A remote state
    opened without the lock (show, output, state list) is such a copy too.
    """
    backend = s.state
    if not create and not backend.exists():
        raise CliError(
            f"No state found in {s.state_where()}",
            "Run `bcdr init` and `bcdr apply` in this directory first, or use -chdir DIR.",
        )
    # keys from BCDR_STATE_KEY & co
    from engine.cli.sensitive import warn_plaintext

    read_only = read_only or (backend.remote and not s.locked)
    store = backend.open(create=create, read_only=read_only)
    s.stack.callback(store.close)
    s.stack.callback(warn_plaintext, s, store)  # runs first: the stack unwinds in reverse
    return store


@contextlib.contextmanager
def lock_state(s: CliContext, operation: str, timeout: float = 0.0) -> Iterator[Any]:
    """Hold the state lock for the block (waiting up to ``timeout`` s for a live holder).

    A lock whose holder is provably dead is cleared with a warning saying whose it was.
    """
    from state import cleared_message

    where = s.state_where() if s.state.remote else str(s.state_path)

    def note(holder: Any) -> None:
        s.warnings.append(
            diag_warning("Removed a stale state lock", cleared_message(where, holder))
        )

    with s.state.holding(operation, timeout=timeout, on_cleared=note) as held:
        s.locked = True
        try:
            yield held
        finally:
            s.locked = False


def keep_backup(s: CliContext, store: StateStore) -> None:
    """Refresh the state's backup after a successful run; a failure is only a warning."""
    from state import StateError

    try:
        s.state.backup(store)
    except StateError as exc:
        s.warnings.append(diag_warning("The state's backup was not refreshed", str(exc)))


def load_config_checked(s: CliContext) -> Config:
    if not s.workdir.is_dir():
        raise CliError(f"No such directory: {s.shown(s.workdir)}", "Check the -chdir option.")
    config, diags = s.loaded_config()
    s.warnings.extend(diags.warnings())
    if diags.has_errors:
        raise DiagnosticsError(diags.errors())
    if not config.files:
        raise CliError(
            f"No configuration files in {s.shown(s.workdir)}",
            "bcdr reads every *.hcl file of the working directory. Create main.hcl, or "
            "use -chdir DIR to point at the directory with your specs.",
        )
    return config


def _var_order(s: CliContext, args: PlanArgs) -> list[tuple[str, str]] | None:
    """``-var`` and ``-var-file`` in command-line order, as Terraform applies them (the last
    wins); None where the command line is not at hand (then files apply before -var)."""
    ctx = click.get_current_context(silent=True)
    given = option_order(ctx, ("var", "var_file")) if ctx is not None else []
    if [v for n, v in given if n == "var"] != list(args.var) or [
        v for n, v in given if n == "var_file"
    ] != list(args.var_file):
        return None  # PlanArgs not from this command line
    return [("var", v) if n == "var" else ("var-file", str(s.rel(v))) for n, v in given]


def load(
    s: CliContext, args: PlanArgs, registry: Registry
) -> tuple[Config, dict[str, Any], ConfigChecks]:
    """Config, variable values and the config's static checks (``ConfigChecks``, for
    ``make_plan_checked``), checked against the schemas before any state is touched.

    All problems are reported together: config, variable values and schema checks.
    """
    from engine.planner import validate
    from engine.schemacheck import check_config
    from engine.varvalues import collect_variable_values
    from sdk.values import UNKNOWN

    config = load_config_checked(s)
    values, diags = collect_variable_values(
        config,
        cli_vars=list(args.var),
        var_files=[s.rel(f) for f in args.var_file],
        environ=os.environ,
        ordered=_var_order(s, args),
    )
    errors = list(diags.errors())
    s.warnings.extend(diags.warnings())
    checks = check_config(config, registry)
    known = {n: values.get(n, UNKNOWN) for n in config.variables}
    checked = validate(config, registry, known, checks)
    errors += checked.errors()
    s.warnings.extend(checked.warnings())
    if errors:
        raise DiagnosticsError(errors)
    return config, values, checks


def unique(diags: list[Diagnostic]) -> list[Diagnostic]:
    """Drop repeats of a finding (same severity, summary and place), keeping the first.

    The instances of a ``count`` or ``for_each`` resource share their block's lines, but a
    finding about each (``prevent_destroy`` of ``a[0]`` and of ``a[1]``) is its own.
    """
    seen: set[tuple[Any, ...]] = set()
    out = []
    for d in diags:
        one = d.address if d.range is None or "[" in (d.address or "") else None
        key = (d.severity, d.summary, d.range, one)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def make_plan_checked(
    s: CliContext,
    args: PlanArgs,
    store: Any,
    registry: Any,
    loaded: tuple[Any, dict[str, Any], Any],
) -> tuple[Plan, Any]:
    from engine.planner import PlanOptions, make_plan

    config, values, checks = loaded
    mode = "destroy" if args.destroy else "refresh-only" if args.refresh_only else "normal"
    options = PlanOptions(
        mode=mode,
        refresh=args.refresh,
        targets=list(args.target),
        replace=list(args.replace),
        parallelism=args.parallelism,
    )
    plan, diags = make_plan(
        config, store, registry, values, options, working_dir=s.workdir, checks=checks
    )
    s.warnings.extend(d for d in diags if not d.is_error)
    if args.target:
        s.warnings.append(
            diag_warning(
                "Resource targeting is in effect",
                "You are creating a plan with the -target option, which means that the result "
                "of this plan may not represent all of the changes requested by the current "
                "configuration.\n\nThe -target option is not for routine use: it is for "
                "recovering from errors or mistakes. Run a plan without it afterwards.",
            )
        )
    if diags.has_errors:
        raise DiagnosticsError(diags.errors())
    return plan, config


def read_plan(s: CliContext, name: str) -> Plan:
    """A saved plan; one sealed with the state key is opened with the configured key."""
    import json

    from engine.cli.sensitive import open_plan_data
    from engine.plan import Plan

    path = s.rel(name)
    try:
        data = open_plan_data(json.loads(path.read_text(encoding="utf-8")), name)
        return Plan.from_json(data)
    except FileNotFoundError:
        raise CliError(f"No plan file at {name}", "Make one with `bcdr plan -out FILE`.") from None
    except (OSError, ValueError, KeyError, TypeError, StopIteration) as exc:
        raise CliError(
            f"{name} is not a bcdr plan file",
            f"It could not be read ({exc}). Make a new one with `bcdr plan -out FILE`.",
        ) from None


def write_plan(s: CliContext, plan: Plan, name: str, config: Any = None) -> None:
    """Save a plan: sealed with the state key when one is configured (EXT-4)."""
    from engine.cli.sensitive import plan_file_text

    path = s.rel(name)
    tmp = path.with_name(path.name + ".tmp")
    text = plan_file_text(s, plan, name, config)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CliError(
            "Failed to write plan file",
            f"Cannot write {name}: {exc.strerror}. Give -out a file in a folder that exists "
            "and that you can write to.",
        ) from None


def print_json(ui: UI, data: Any) -> None:
    import json

    ui.write(json.dumps(data, sort_keys=False) + "\n")


def check_address(address: str) -> None:
    from sdk.addrs import InstanceAddr

    try:
        InstanceAddr.parse(address)
    except ValueError as exc:
        raise CliError(f"Invalid address {address!r}", str(exc)) from None


def record_history(store: Any, operation: str, started: str, summary: dict[str, Any]) -> None:
    from state import utc_now

    store.record_history(operation, started, utc_now(), "ok", summary)
