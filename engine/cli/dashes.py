"""Options spelt Terraform's way: ``-name``, ``-name=value`` and ``--name`` all mean one option.

Click reads an unknown ``-word`` as a cluster of one-letter options (``-version`` as ``-v``
``-e`` …) and a flag given a value (``-auto-approve=true``) as a mistake. ``DashCommand`` and
``DashGroup`` look at the arguments first. Always holds: an unknown single-dash option is
reported by its whole name, with the closest known options; a flag also takes Go's boolean
spellings as ``-flag=true`` / ``-flag=false`` (as Terraform's flag parser does); everything
else is left to click unchanged.
"""

from __future__ import annotations

import difflib
from typing import Any

import click

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
        if not param.is_flag and not param.count and not eq and i < len(args):
            out.append(args[i])  # the option's value, whatever it looks like
            i += 1
    return out


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
