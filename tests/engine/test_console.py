"""``bcdr console``: expressions against the configuration and the state, as Terraform's.

Real ``bcdr`` runs in a temporary folder: values come from the variables, locals,
functions and the state's resources; from a pipe the first error ends the run (exit 1);
the state is never written.
"""

from __future__ import annotations

from pathlib import Path

from state import lock_path
from tests.cli.conftest import run_in, write

SPEC = """
variable "prefix" {
  type    = string
  default = "dr"
}

variable "token" {
  type      = string
  default   = "s3cret"
  sensitive = true
}

locals {
  name = "${var.prefix}-web"
}

resource "bcdr_data" "seed" {
  input = local.name
}

resource "bcdr_data" "later" {
  count = 2
  input = "n${count.index}"
}
"""


def console(workdir: Path, text: str, *args: str):
    result = run_in(workdir, "console", "-no-color", *args, input=text)
    assert "Traceback" not in result.output
    return result


def test_the_console_sees_variables_locals_functions_and_the_state(tmp_path: Path) -> None:
    write(tmp_path, SPEC)
    applied = run_in(tmp_path, "apply", "-auto-approve", "-no-color", "-target=bcdr_data.seed")
    assert applied.exit_code == 0, applied.output
    out = console(
        tmp_path,
        "var.prefix\nlocal.name\nupper(bcdr_data.seed.output)\nlength(bcdr_data.seed.id) > 0\n",
        "-var=prefix=ops",
    )
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines() == ['"ops"', '"ops-web"', '"DR-WEB"', "true"]
    # the state holds what the apply made (prefix dr); the variable is this run's (ops)


def test_what_the_state_does_not_hold_is_known_after_apply(tmp_path: Path) -> None:
    write(tmp_path, SPEC)
    out = console(tmp_path, "bcdr_data.seed.output\n")
    assert out.exit_code == 0, out.output
    assert out.stdout.strip() == "(known after apply)"


def test_a_sensitive_value_is_not_printed(tmp_path: Path) -> None:
    write(tmp_path, SPEC)
    out = console(tmp_path, "var.token\nupper(var.token)\nlength(var.token)\n")
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines() == ["(sensitive value)"] * 3
    assert "s3cret" not in out.output and "S3CRET" not in out.output


def test_an_expression_may_span_lines_while_a_bracket_is_open(tmp_path: Path) -> None:
    write(tmp_path, SPEC)
    out = console(tmp_path, '{\n  a = "x)"\n  b = [1,\n 2]\n}\n\nexit\nvar.prefix\n')
    assert out.exit_code == 0, out.output
    assert out.stdout.split() == ["{", "a", "=", '"x)"', "b", "=", "[", "1,", "2,", "]", "}"]
    # "exit" ended the session: var.prefix was not evaluated


def test_from_a_pipe_the_first_error_ends_the_run_and_nothing_is_written(tmp_path: Path) -> None:
    write(tmp_path, SPEC)
    assert run_in(tmp_path, "apply", "-auto-approve", "-no-color").exit_code == 0
    state = tmp_path / ".bcdr" / "state.db"
    before = state.read_bytes()
    out = console(tmp_path, 'var.prefix\nvar.nope\n"never"\n')
    assert out.exit_code == 1, out.output
    assert out.stdout.splitlines() == ['"dr"']
    assert 'undeclared input variable "nope"' in out.output
    assert state.read_bytes() == before
    assert not lock_path(state).exists()  # the lock was let go


def test_a_broken_configuration_is_reported_before_any_expression(tmp_path: Path) -> None:
    write(tmp_path, 'resource "bcdr_data" "x" {\n  input = var.missing\n}\n')
    out = console(tmp_path, "1 + 1\n")
    assert out.exit_code == 1, out.output
    assert "on main.hcl line 2" in out.output
    assert "2" not in out.stdout
