"""Other verbs: import, graph, force-unlock, fmt, version.

Always holds: ``fmt -check`` rewrites nothing and exits 3 when a file is not formatted;
``graph`` prints only DOT on stdout; ``force-unlock`` asks first unless ``-force`` and
touches only the lock (the lock file, or the state blob's lease and holder metadata),
never the state.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from engine import render
from engine.cli.app import (
    EXIT_FMT,
    CliError,
    PlanArgs,
    check_address,
    flush_warnings,
    input_option,
    keep_backup,
    load,
    load_config_checked,
    lock_state,
    lock_timeout_option,
    main,
    open_state,
    print_json,
    record_history,
    registry_of,
    session_of,
    var_options,
)
from sdk.cli import no_color_option, opt
from sdk.diagnostics import DiagnosticsError
from sdk.diagnostics import error as diag_error


# ------------------------------------------------------------ other verbs
@main.command("import")
@no_color_option
@input_option
@var_options
@lock_timeout_option
@click.argument("address")
@click.argument("object_id", metavar="ID")
@click.pass_context
def import_cmd(
    ctx: click.Context,
    no_color: bool,
    var: tuple[str, ...],
    var_file: tuple[str, ...],
    lock_timeout: float,
    address: str,
    object_id: str,
) -> None:
    """Bring an existing object with ID under management at ADDRESS (declared in config)."""
    from engine.importer import import_resource
    from state import utc_now

    s = session_of(ctx)
    ui = s.use_ui(no_color)
    check_address(address)
    started = utc_now()
    with lock_state(s, "import", lock_timeout):
        registry = registry_of(s)
        config, values, _ = load(s, PlanArgs(var=var, var_file=var_file), registry)
        store = open_state(s)
        ui.print(f'{address}: Importing from ID "{object_id}"...')
        diags = import_resource(
            config, store, registry, values, address, object_id, working_dir=s.workdir
        )
        s.warnings.extend(diags.warnings())
        if diags.has_errors:
            raise DiagnosticsError(diags.errors())
        record_history(store, "import", started, {"imported": [address], "id": object_id})
        keep_backup(s, store)
    ui.print(f"{address}: Import prepared!")
    ui.print("")
    ui.print(render.Text("Import successful!", style="bold green"))
    ui.print("")
    ui.print("The resources that were imported are shown above. These resources are now in")
    ui.print("your bcdr state and will henceforth be managed by bcdr.")
    flush_warnings(s)


@main.command()
@click.pass_context
def graph(ctx: click.Context) -> None:
    """Print the dependency graph of the configuration and state in DOT (for Graphviz)."""
    from engine.graph import build_graph

    s = session_of(ctx)
    ui = s.use_ui(True)
    config = load_config_checked(s)
    records = open_state(s, create=False).instances() if s.state.exists() else []
    the_graph, diags = build_graph(config, records)
    s.warnings.extend(diags.warnings())
    if diags.has_errors:
        raise DiagnosticsError(diags.errors())
    ui.write(the_graph.to_dot().rstrip("\n") + "\n")
    flush_warnings(s)


@main.command("force-unlock")
@no_color_option
@opt("force", is_flag=True, help="Do not ask for confirmation.")
@click.argument("lock_id")
@click.pass_context
def force_unlock(ctx: click.Context, no_color: bool, force: bool, lock_id: str) -> None:
    """Remove the state lock LOCK_ID left by a bcdr process that is gone."""
    s = session_of(ctx)
    ui = s.use_ui(no_color)
    if not force and not ui.ask(
        "Do you really want to force-unlock?",
        "bcdr will remove the lock on the state.\n"
        "This will allow local bcdr commands to modify this state, even though it\n"
        "may still be in use. Only 'yes' will be accepted to confirm.",
    ):
        raise CliError("force-unlock cancelled", "The lock was left in place.")
    s.state.force_unlock(lock_id)  # the lock only (file or lease): works on a damaged state
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
@opt("recursive", is_flag=True, help="Also format the *.hcl files of subdirectories.")
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
    recursive: bool,
    list_files: bool,
    paths: tuple[str, ...],
) -> None:
    """Rewrite *.hcl files (in the working directory, or PATHS) in the canonical layout."""
    from engine.fmt import format_source
    from sdk.diagnostics import SourceRange

    s = session_of(ctx)
    ui = s.use_ui(no_color)
    files: list[Path] = []
    for p in paths or (".",):
        path = s.rel(p)
        if path.is_dir():
            files += _hcl_files(path, recursive)
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
            import difflib

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


def _hcl_files(folder: Path, recursive: bool) -> list[Path]:
    """The folder's *.hcl files; with ``recursive`` its subfolders' too, except hidden ones
    (``.bcdr/``), as ``terraform fmt -recursive`` skips ``.terraform/``."""
    found = sorted(folder.glob("*.hcl"))
    if recursive:
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            if not sub.name.startswith("."):
                found += _hcl_files(sub, recursive)
    return found


def _line_of(message: str) -> int | None:
    import re

    m = re.search(r"line (\d+)|<input>:(\d+)", message)
    return int(m.group(1) or m.group(2)) if m else None


#: Go's names for machines, as in Terraform's ``linux_amd64``
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "i686": "386"}


def _machine() -> str:
    """``platform.machine()`` without importing ``platform`` (its regexes cost a start-up)."""
    import os

    uname = getattr(os, "uname", None)
    if uname is None:  # not a POSIX system
        import platform

        return platform.machine().lower()
    return uname().machine.lower()


@main.command()
@opt("json", "as_json", is_flag=True, help="Print the version as JSON.")
@click.pass_context
def version(ctx: click.Context, as_json: bool) -> None:
    """Print the bcdr version and the installed providers with their versions."""
    import sys

    from engine.entrypoints import entry_points, own_version

    s = session_of(ctx)
    ui = s.use_ui(True)
    v = own_version() or "unknown"
    machine = _machine()
    where = f"{sys.platform}_{_ARCH.get(machine, machine)}"
    python = ".".join(map(str, sys.version_info[:3]))  # platform.python_version()'s text
    # each provider by its entry point's name (the name its provider block uses) and the
    # version of the distribution that installs it: no provider is loaded, so this works
    # whatever a provider's code does
    dists = {ep.name: ep.dist.version if ep.dist else v for ep in entry_points("bcdr.providers")}
    selections = dict(sorted(dists.items()))
    if as_json:  # Terraform's shape: terraform_version, platform, provider_selections
        print_json(
            ui,
            {
                "bcdr_version": v,
                "platform": where,
                "python_version": python,
                "provider_selections": selections,
            },
        )
        return
    ui.print(f"bcdr v{v}")
    ui.print(f"on {where} (python {python})")
    for name, provider_version in selections.items():
        ui.print(f"+ provider {name} v{provider_version}")
