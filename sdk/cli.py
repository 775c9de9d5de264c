"""The command line's contract between the engine and the commands a provider brings.

A provider package may add top-level commands to ``bcdr`` (the embedded platform adds
``platform``, ``serve``, ``verify`` and ``gc``): it registers click commands under the
entry-point group ``bcdr.commands`` (name = ``module:attribute``), and the engine mounts
each one lazily, loading its module only when the command runs or ``-help`` lists it.
Such a command reaches what the engine gives every command through ``context_of(ctx)``: the
working directory (``-chdir``), an ``Output`` for results, progress and JSON, and the
settings of the specs' provider blocks. It reports a user mistake by raising
``sdk.diagnostics.DiagnosticsError``; the engine prints it as every command's errors.

Options are spelt Terraform's way: ``-name``, ``-name=value`` and ``--name`` all mean one
option. Click reads an unknown ``-word`` as a cluster of one-letter options (``-version`` as
``-v`` ``-e`` …) and a flag given a value (``-auto-approve=true``) as a mistake.
``DashCommand`` and ``DashGroup`` look at the arguments first. Always holds: an unknown
single-dash option is reported by its whole name, with the closest known options; a flag
also takes Go's boolean spellings as ``-flag=true`` / ``-flag=false`` (as Terraform's flag
parser does); everything else is left to click unchanged. Importing this module imports
click and nothing else, so a mounted command's module stays cheap to load.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import click

from sdk.progress import Progress

_TRUE = {"1", "t", "true"}
_FALSE = {"0", "f", "false"}


def _options(command: click.Command, ctx: click.Context) -> dict[str, click.Option]:
    names: dict[str, click.Option] = {}
    for param in command.get_params(ctx):
        if isinstance(param, click.Option):
            for name in [*param.opts, *param.secondary_opts]:
                names[name] = param
    return names


def terraform_args(
    command: click.Command, ctx: click.Context, args: list[str], *, stop_at_positional: bool
) -> list[str]:
    """``args`` with flags' ``=true``/``=false`` resolved; unknown ``-words`` refused by name.

    ``stop_at_positional``: a group's options end at its subcommand's name.
    """
    known = _options(command, ctx)
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--" or not arg.startswith("-") or len(arg) == 1:
            out.append(arg)
            if arg == "--" or stop_at_positional and not arg.startswith("-"):
                return out + args[i:]
            continue
        name, eq, value = arg.partition("=")
        param = known.get(name)
        if param is None:
            if not name.startswith("--") and len(name) > 2:
                import difflib  # here: only a mistyped option needs it

                raise click.NoSuchOption(
                    name,
                    possibilities=difflib.get_close_matches(
                        name, [n for n in known if n[1] != "-"]
                    ),
                    ctx=ctx,
                )
            out.append(arg)
            continue
        if param.is_flag and not param.secondary_opts and eq:
            if value.lower() in _TRUE:
                out.append(name)
            elif value.lower() not in _FALSE:
                raise click.BadOptionUsage(
                    name, f"Invalid value for {name}: {value!r} is not true or false.", ctx
                )
            continue
        out.append(arg)
        if param.is_flag or param.count:
            continue
        if not eq:
            if i >= len(args):
                continue  # click says the value is missing
            value = args[i]  # the option's value, whatever it looks like
            out.append(value)
            i += 1
        ctx.meta.setdefault(_ORDER, []).append((param.name, value))
    return out


_ORDER = "sdk.cli.option_order"


def option_order(ctx: click.Context, names: Collection[str]) -> list[tuple[str, str]]:
    """The values of the options ``names`` (parameter names, e.g. ``var``, ``var_file``) in
    the order they were given on the command line, interleaved: ``-var-file=a -var x=1
    -var-file=b`` is ``[("var_file", "a"), ("var", "x=1"), ("var_file", "b")]``. Click
    keeps each option's values apart; an option given the Terraform way is recorded here
    as it is read."""
    return [(name, value) for name, value in ctx.meta.get(_ORDER, ()) if name in names]


class DashCommand(click.Command):
    """A command whose options are read the Terraform way (see the module docstring)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, terraform_args(self, ctx, args, stop_at_positional=False))


class DashGroup(click.Group):
    """A group whose own options are read the Terraform way, and so are its commands'."""

    command_class = DashCommand
    group_class = type

    def parse_args(self, ctx: click.Context, args: list[str]) -> Any:
        return super().parse_args(ctx, terraform_args(self, ctx, args, stop_at_positional=True))


def opt(flag: str, dest: str | None = None, **kw: Any) -> Any:
    """An option spelt Terraform's way (``-flag``) that also accepts ``--flag``."""
    return click.option(f"-{flag}", f"--{flag}", dest or flag.replace("-", "_"), **kw)


def no_color_option(f: Any) -> Any:
    """``-no-color``, which every command that prints takes."""
    return opt(
        "no-color",
        is_flag=True,
        help="Print without colour (also the default when output is not a terminal).",
    )(f)


# --------------------------------------------------------- what a command is given
class Output(Protocol):
    """Where a command's results go: stdout, with diagnostics and logs on stderr."""

    def print(self, text: str = "", *, err: bool = False, style: str | None = None) -> None:
        """A line (``style``: a rich style such as ``"bold green"``, shown only in colour)."""
        ...

    def write(self, raw: str) -> None:
        """Text exactly as given (JSON documents, file contents)."""
        ...

    def json(self, data: Any) -> None:
        """``data`` as an indented JSON document on stdout."""
        ...

    def progress(self) -> AbstractContextManager[Progress]:
        """A progress callback for long work, drawn as bars on a terminal and as lines
        elsewhere, until the ``with`` block ends."""
        ...


@dataclass(frozen=True)
class Setting:
    """An attribute of a provider block in the specs, evaluated: its value and where it is
    set (``main.hcl:3,1-19``), for errors about it."""

    value: Any
    where: str


class CommandContext(Protocol):
    """What the engine gives every command, mounted ones included."""

    @property
    def workdir(self) -> Path:
        """The working directory (``-chdir``, absolute)."""
        ...

    def rel(self, name: str) -> Path:
        """A path given on the command line, taken from the working directory."""
        ...

    def output(self, no_color: bool) -> Output:
        """The command's output (call once, with its ``-no-color``)."""
        ...

    def provider_setting(self, provider: str, attribute: str) -> Setting | None:
        """The evaluated ``attribute`` of the specs' ``provider "<provider>"`` block; None
        when there are no specs, no such block or it does not set the attribute. A spec
        that does not load or evaluate raises ``DiagnosticsError``."""
        ...

    def resource_ids(self, type_name: str) -> dict[str, str]:
        """The resources of type ``type_name`` in this working directory's state: address ->
        id (those with an id), read without changing anything; empty when there is no state
        yet. A state that cannot be read raises, as for every command."""
        ...


def context_of(ctx: click.Context) -> CommandContext:
    """The ``CommandContext`` of the running ``bcdr`` command."""
    return ctx.find_root().obj
