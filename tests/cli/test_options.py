"""Options spelt the Terraform way: ``-opt``, ``-opt=value`` and ``--opt`` for every option.

Also the options a Terraform user types without thinking: ``-version``, ``-input=false``,
``-compact-warnings``, ``fmt -recursive``, ``state mv -dry-run``, ``-auto-approve=true``.
"""

from __future__ import annotations

import click
import pytest

from engine.cli.app import main
from sdk.cli import terraform_args
from state import StateStore
from tests.cli.conftest import write

SPEC = """
resource "bcdr_data" "a" {
  input = "hello"
}

resource "bcdr_data" "b" {
  input = "${bcdr_data.a.output}-b"
}
"""


def _walk(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _walk(sub, (*path, name))


def _value_for(param: click.Option) -> tuple[str, object]:
    """A value to give the option on the command line, and what click makes of it."""
    if isinstance(param.type, click.Choice):
        return str(param.type.choices[0]), param.type.choices[0]
    if param.type is click.BOOL:
        return "false", "false"
    if isinstance(param.type, click.types._NumberRangeBase) or param.type is click.INT:
        return "3", "3"
    return "x", "x"


def _parse(command: click.Command, args: list[str]) -> dict:
    ctx = click.Context(command, info_name="bcdr")
    parser = command.make_parser(ctx)
    opts, _, _ = parser.parse_args(
        args=terraform_args(command, ctx, args, stop_at_positional=False)
    )
    return opts


def test_every_long_option_takes_all_three_spellings():
    checked = 0
    for path, command in _walk(main):
        for param in command.params:
            if not isinstance(param, click.Option) or param.name == "help":
                continue
            long = [o.lstrip("-") for o in param.opts if len(o.lstrip("-")) > 1]
            for name in long:
                if param.is_flag:
                    forms = {f"-{name}": True, f"--{name}": True, f"-{name}=true": True}
                    for spelling, want in forms.items():
                        got = _parse(command, [spelling]).get(param.name)
                        assert got == want, (path, spelling, got)
                    assert param.name not in _parse(command, [f"-{name}=false"]), (path, name)
                else:
                    raw, want = _value_for(param)
                    for args in ([f"-{name}", raw], [f"-{name}={raw}"], [f"--{name}", raw]):
                        got = _parse(command, args).get(param.name)
                        got = got[0] if param.multiple else got
                        assert got == want, (path, args, got)
                checked += 1
    assert checked > 80  # every command's options, not a few


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["-frobnicate"], "-frobnicate"),
        (["plan", "-lock-timeoutt=3s"], "-lock-timeoutt"),
        (["graph", "-type=plan"], "-type"),
        (["plan", "-no-colour"], "-no-colour"),
    ],
)
def test_an_unknown_single_dash_option_is_named_whole(bcdr, args, named):
    result = bcdr(*args)
    assert result.exit_code == 2
    assert f"No such option '{named}'" in result.output
    assert f"No such option '{named[:2]}'" not in result.output  # not read as -f -r -o …


def test_a_near_miss_suggests_the_option(bcdr):
    result = bcdr("plan", "-no-colr")
    assert "No such option '-no-colr'. Did you mean '-no-color'?" in result.output


def test_version_as_an_option_prints_what_the_version_command_prints(bcdr):
    wanted = bcdr("version").output
    assert wanted.startswith("bcdr v")
    for spelling in ("-version", "--version"):
        result = bcdr(spelling)
        assert result.exit_code == 0, result.output
        assert result.output == wanted


def test_a_flag_takes_go_booleans(bcdr, workdir):
    write(workdir, SPEC)
    refused = bcdr("apply", "-auto-approve=false", input="no\n")
    assert "Apply cancelled" in refused.output  # it asked
    applied = bcdr("apply", "-auto-approve=true")
    assert applied.exit_code == 0, applied.output
    assert "2 added" in applied.output
    wrong = bcdr("apply", "-auto-approve=perhaps")
    assert wrong.exit_code == 2
    assert "Invalid value for -auto-approve: 'perhaps' is not true or false." in wrong.output


def test_input_false_refuses_a_question_instead_of_asking(bcdr, workdir):
    write(workdir, SPEC)
    result = bcdr("apply", "-input=false", input="yes\n")
    assert result.exit_code == 1
    assert "Error: Plan file or -auto-approve required" in result.output
    assert not (workdir / ".bcdr" / "state.db").exists()  # refused before anything ran
    ok = bcdr("apply", "-input=false", "-auto-approve")
    assert ok.exit_code == 0, ok.output
    saved = bcdr("plan", "-input=false", "-destroy", "-out=gone.plan")
    assert saved.exit_code == 0, saved.output
    assert bcdr("apply", "-input=false", "gone.plan").exit_code == 0  # a saved plan asks nothing


def test_compact_warnings_are_one_line_each(bcdr, workdir):
    write(workdir, SPEC)
    full = bcdr("plan", "-target=bcdr_data.a")
    assert "The -target option is not for routine use" in full.output
    compact = bcdr("plan", "-target=bcdr_data.a", "-compact-warnings")
    assert compact.exit_code == 0, compact.output
    assert "Warnings:\n\n- Resource targeting is in effect\n" in compact.output
    assert "The -target option is not for routine use" not in compact.output
    assert "run bcdr without -compact-warnings" in compact.output


def test_fmt_recursive_formats_subfolders_but_not_hidden_ones(bcdr, workdir):
    messy = 'resource "bcdr_data" "x" {\n  input="a"\n}\n'
    for folder in (workdir, workdir / "modules" / "net", workdir / ".bcdr"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "main.hcl").write_text(messy)
    flat = bcdr("fmt", "-check")
    assert flat.exit_code == 3
    assert flat.output.split() == ["main.hcl"]
    result = bcdr("fmt", "-recursive")
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["main.hcl", "modules/net/main.hcl"]
    assert (workdir / "modules" / "net" / "main.hcl").read_text() == (
        'resource "bcdr_data" "x" {\n  input = "a"\n}\n'
    )
    assert (workdir / ".bcdr" / "main.hcl").read_text() == messy


def test_state_mv_dry_run_says_what_would_move_and_moves_nothing(bcdr, workdir):
    write(workdir, SPEC)
    assert bcdr("apply", "-auto-approve").exit_code == 0
    store = StateStore.open(workdir / ".bcdr" / "state.db")
    serial = store.serial
    store.close()
    result = bcdr("state", "mv", "-dry-run", "bcdr_data.a", "bcdr_data.c")
    assert result.exit_code == 0, result.output
    assert result.output == 'Would move "bcdr_data.a" to "bcdr_data.c"\n'
    assert bcdr("state", "list").output.split() == ["bcdr_data.a", "bcdr_data.b"]
    store = StateStore.open(workdir / ".bcdr" / "state.db")
    assert store.serial == serial
    store.close()
