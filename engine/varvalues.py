"""Input variable values: defaults, environment, ``*.auto.hcl``, ``-var-file`` and ``-var``.

Precedence, lowest first (as in Terraform): the variable's default, ``BCDR_VAR_<name>``
environment variables, ``*.auto.hcl`` and ``*.auto.hcl.json`` files of the spec directory
(sorted by name), then ``-var-file`` and ``-var`` in command-line order (the last wins). A
variable file whose name ends in ``.json`` is read as JSON (``engine.varfiles``). Always
holds: every returned value is converted to its variable's declared type and has passed its
validation blocks, or a diagnostic (with file:line and what to do) says why not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.config import load_attribute_file, parse_expression
from engine.configmodel import NOTSET, Config, Variable
from engine.expr import evaluate, evaluate_marked, static_value
from engine.exprnodes import EvalContext, EvalError
from engine.typeconv import convert
from engine.varfiles import is_json_var_file, read_json_var_file
from sdk.diagnostics import Diagnostics, SourceRange, error, warning
from sdk.values import UNKNOWN, mark

ENV_PREFIX = "BCDR_VAR_"


@dataclass
class _Given:
    value: Any
    source: str  # for messages: "main.auto.hcl:3", "-var", "BCDR_VAR_x", "the default"
    range: SourceRange | None


def _parse_cli_value(var: Variable | None, text: str, source: str) -> tuple[Any, str | None]:
    """A -var or environment value: a string unless the variable's type is not string."""
    if var is None or var.type is None or var.type.kind == "string":
        return text, None
    expr, diags = parse_expression(text, source)
    if expr is None or diags.has_errors:
        if var.type.kind in ("number", "bool"):
            return text, None  # let conversion explain what is wrong
        return None, f"{source}: the value of {var.name} is not a valid HCL expression"
    try:
        return static_value(expr), None
    except EvalError as err:
        if var.type.kind in ("number", "bool"):
            return text, None
        return None, f"{source}: {err.summary}"


def collect_variable_values(
    config: Config,
    *,
    cli_vars: list[str],
    var_files: list[Path],
    environ: Mapping[str, str],
    ordered: list[tuple[str, str]] | None = None,
) -> tuple[dict[str, Any], Diagnostics]:
    """Resolve every declared variable's value; see the module docstring for precedence.

    ``ordered`` (optional) gives ``("var", "name=value")`` and ``("var-file", path)`` in
    command-line order; without it all ``var_files`` apply before all ``cli_vars``.
    """
    diags = Diagnostics()
    given: dict[str, _Given] = {}
    decl = config.variables

    for name, var in decl.items():
        if var.default is not NOTSET:
            given[name] = _Given(var.default, "the default", var.range)

    for key in sorted(environ):
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :]
        if name not in decl:
            continue  # like Terraform: stray environment variables are ignored
        value, problem = _parse_cli_value(decl[name], environ[key], key)
        if problem:
            diags.append(error(problem, f"fix or unset the environment variable {key}"))
            continue
        given[name] = _Given(value, f"environment variable {key}", None)

    def set_from_file(name: str, value: Any, where: SourceRange, display: str) -> None:
        if name not in decl:
            diags.append(
                warning(
                    f'Value for undeclared variable "{name}"',
                    f"{display} sets {name}, but no variable block declares it; "
                    f'declare it with variable "{name}" {{}} or remove the line',
                    where,
                )
            )
            return
        given[name] = _Given(value, str(where), where)

    def from_file(path: Path, display: str) -> None:
        if is_json_var_file(path):
            entries, json_diags = read_json_var_file(path, display)
            diags.extend(json_diags)
            for name, value, where in entries:
                set_from_file(name, value, where, display)
            return
        attrs, file_diags = load_attribute_file(path, display)
        diags.extend(file_diags)
        for name, attr in attrs.items():
            if name not in decl:
                set_from_file(name, None, attr.range, display)
                continue
            try:
                value = static_value(attr.expr)
            except EvalError as err:
                diags.append(
                    error(
                        f'The value of "{name}" must be a literal value',
                        f"{err.summary}; variable files cannot refer to other values",
                        attr.range,
                    )
                )
                continue
            set_from_file(name, value, attr.range, display)

    for fname in config.var_files:
        from_file(config.dir / fname, fname)

    def from_cli(item: str) -> None:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            diags.append(
                error(
                    f"Invalid -var option {item!r}",
                    "write -var 'NAME=VALUE', for example -var 'region=westeurope'",
                )
            )
            return
        if name not in decl:
            diags.append(
                error(
                    f'Value for undeclared variable "{name}"',
                    f"-var sets {name}, but no variable block declares it; declare it with "
                    f'variable "{name}" {{}} or fix the name',
                )
            )
            return
        value, problem = _parse_cli_value(decl[name], text, f"-var {name}")
        if problem:
            diags.append(error(problem, f'for example -var \'{name}=["a", "b"]\' or {{a = "b"}}'))
            return
        given[name] = _Given(value, f"-var {name}", None)

    steps = ordered
    if steps is None:
        steps = [("var-file", str(p)) for p in var_files] + [("var", v) for v in cli_vars]
    for kind, arg in steps:
        if kind == "var-file":
            from_file(Path(arg), str(arg))
        else:
            from_cli(arg)

    values: dict[str, Any] = {}
    for name, var in decl.items():
        got = given.get(name)
        if got is None:
            diags.append(
                error(
                    f'No value for required variable "{name}"',
                    f"the variable declared at {var.range} has no default; pass "
                    f"-var '{name}=...', set {ENV_PREFIX}{name}, or put {name} = ... in a "
                    "*.auto.hcl file",
                    var.range,
                )
            )
            continue
        if got.value is None and not var.nullable:
            diags.append(
                error(
                    f'Variable "{name}" must not be null',
                    f"the value from {got.source} is null, and the variable says "
                    "nullable = false; give it a value",
                    got.range or var.range,
                )
            )
            continue
        try:
            values[name] = convert(got.value, var.type)
        except ValueError as err:
            shown = "" if var.sensitive else f" ({err})"
            diags.append(
                error(
                    f'Invalid value for variable "{name}"',
                    f"the value from {got.source} is not a {var.type}{shown}; "
                    f"variable declared at {var.range}",
                    got.range or var.range,
                )
            )
    _validate(config, values, diags)
    return values, diags


def _validate(config: Config, values: dict[str, Any], diags: Diagnostics) -> None:
    sensitive = {n for n, v in config.variables.items() if v.sensitive}
    ctx = EvalContext(
        variables={n: mark(v) if n in sensitive else v for n, v in values.items()},
        locals={},
        resources=_no_resources,
        path_module=str(config.dir),
        path_cwd=str(Path.cwd()),
    )
    for name, var in config.variables.items():
        if name not in values:
            continue
        for v in var.validations:
            try:
                ok = evaluate(v.condition, ctx)
            except EvalError as err:
                diags.append(
                    error(
                        f'Validation of variable "{name}" failed to evaluate: {err.summary}',
                        err.detail,
                        err.range or v.range,
                    )
                )
                continue
            if ok is UNKNOWN:
                continue
            if not isinstance(ok, bool):
                diags.append(
                    error(
                        f'The validation condition of variable "{name}" is not a bool',
                        "a condition must be true or false",
                        v.condition.range,
                    )
                )
                continue
            if ok:
                continue
            try:
                message, marked = evaluate_marked(v.error_message, ctx)
            except EvalError as err:
                message, marked = (
                    f"(the error_message could not be evaluated: {err.summary})",
                    False,
                )
            if marked:
                message = "(the error_message is computed from a sensitive value, so not shown)"
            diags.append(
                error(
                    f'Invalid value for variable "{name}"',
                    f"{message} (validation at {v.range}; variable declared at {var.range})",
                    v.range,
                )
            )


def _no_resources(addr: Any) -> Any:
    raise KeyError(addr)
