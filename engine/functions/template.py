"""templatefile: a file read as a template (``${…}``, ``%{if}``, ``%{for}``, as in a
heredoc) and evaluated with the engine's own template evaluation.

Always holds: the template sees only the variables it is given (bare names, as in
Terraform: ``${name}``, not ``var.name``) and the functions, not the configuration;
``templatefile`` cannot be called from inside a template; a parse or evaluation mistake
in the template is a ``FunctionError`` naming the template file and the problem; a
file's parsed template is kept for the process's life (one parse per text).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from engine.functions.args import FunctionError, need
from engine.functions.encoding import f_file

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*\Z"  # compiled on first use


@lru_cache(maxsize=64)
def _parsed(text: str, filename: str) -> Any:
    from engine.exprops import FunctionCall
    from engine.hcltext import SyntaxProblem
    from engine.hcltree import parse_template

    try:
        expr = parse_template(text, filename)
    except SyntaxProblem as err:
        raise FunctionError(f"{filename}: {err.summary}", err.detail) from None
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, FunctionCall) and node.name == "templatefile":
            raise FunctionError(
                f"{filename}: templatefile cannot be called from inside a template",
                "render the inner template first and pass the result as a variable",
            )
        stack.extend(node.children())
    return expr


def _no_resources(addr: Any) -> Any:
    raise KeyError(addr)


def f_templatefile(path: Any, variables: Any, *, base: str = ".") -> Any:
    need(variables, dict, "a map or object of the template's variables", "second argument")
    for name in variables:
        if not re.match(_NAME, name):
            raise FunctionError(
                f'"{name}" cannot be a template variable name',
                "a name starts with a letter or _ and holds letters, digits, _ and -",
            )
    text = f_file(path, base=base)
    expr = _parsed(text, str(path))
    from engine.exprnodes import EvalContext, EvalError, ExprEvaluator

    ctx = EvalContext(variables={}, locals={}, resources=_no_resources, path_cwd=base)
    try:
        return expr._ev(ExprEvaluator(ctx, dict(variables)))
    except EvalError as err:
        detail = err.detail
        if err.summary.startswith("Unknown name"):
            given = ", ".join(sorted(variables)) or "none"
            detail = f"a template sees only the variables it is given ({given})"
        raise FunctionError(f"{err.range or path}: {err.summary}", detail) from None
