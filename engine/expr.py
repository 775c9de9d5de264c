"""HCL expressions: what the engine does with an expression tree (references, evaluation).

``engine/hcltree.py`` turns the parser's tree into the nodes (``exprnodes.py``,
``exprrefs.py``, ``exprops.py``; import each node from its module); nothing else builds
them from text. Every node has a ``range`` (file:line). Evaluation yields plain Python values (see
``sdk/values.py``), with ``evaluate_marked`` saying whether the value is sensitive.
Always holds: an operation on ``UNKNOWN`` yields ``UNKNOWN`` (never an exception), a user
mistake is an ``EvalError`` carrying a ``SourceRange``, and nodes are plain picklable
objects (the parse cache stores them).
"""

from __future__ import annotations

from typing import Any

from engine.exprnodes import (
    EvalContext,
    EvalError,
    Expr,
    ExprEvaluator,
    Literal,
    ObjectExpr,
    Reference,
    Template,
    TupleExpr,
)
from engine.exprops import FunctionCall
from engine.exprrefs import Name
from engine.typeconv import TypeConstraint, parse_type
from sdk.addrs import ResourceAddr
from sdk.diagnostics import SourceRange

__all__ = [
    "evaluate",
    "evaluate_marked",
    "literal",
    "references",
    "static_value",
    "type_from_expr",
]


def references(expr: Expr, bound: frozenset[str] = frozenset()) -> list[Reference]:
    """Every reference the expression makes, in source order (for-locals excluded, and
    the names in ``bound``: the iterators of the dynamic blocks around it)."""
    out: list[Reference] = []
    expr._refs(out, bound)
    return out


def evaluate(expr: Expr, ctx: EvalContext) -> Any:
    """Evaluate to plain Python values; raises EvalError on a user mistake."""
    return evaluate_marked(expr, ctx)[0]


def evaluate_marked(
    expr: Expr, ctx: EvalContext, scope: dict[str, Any] | None = None
) -> tuple[Any, bool]:
    """The plain value and whether it is sensitive (computed from a marked value).
    ``scope``: names bound around the expression (a dynamic block's iterators)."""
    e = ExprEvaluator(ctx, scope if scope is not None else {})
    try:
        return expr._ev(e), e.marked
    except RecursionError:
        raise EvalError("Expression is nested too deeply", "", expr.range) from None


def literal(value: Any, range: SourceRange) -> Expr:
    """Wrap a known value as an expression."""
    return Literal(value, range)


def static_value(expr: Expr) -> Any:
    """Evaluate an expression that may not refer to anything; EvalError otherwise."""
    refs = references(expr)
    if refs:
        raise EvalError(
            "This value must be a literal",
            f"it refers to {refs[0].kind} {refs[0].subject}; write a constant value here",
            refs[0].range,
        )
    empty = EvalContext(variables={}, locals={}, resources=_no_resources)
    return evaluate(expr, empty)


def _no_resources(addr: ResourceAddr) -> Any:
    raise KeyError(addr)


def type_from_expr(expr: Expr) -> TypeConstraint:
    """Read a type constraint (``list(string)``, ``object({...})``) from an expression."""
    values: list[Any] = []  # optional() defaults, written $N in the text
    text = _type_text(expr, values)
    try:
        return parse_type(text, tuple(values))
    except ValueError as err:
        raise EvalError(f"Invalid type: {err}", _TYPE_HINT, expr.range) from None


_TYPE_HINT = (
    "a type is string, number, bool, any, list(T), set(T), map(T), "
    "object({name = T, other = optional(T), more = optional(T, default)}) or tuple([T, ...])"
)


def _type_text(expr: Expr, values: list[Any]) -> str:
    """Render a type expression back to its canonical text, refusing anything else; an
    ``optional`` default is evaluated into ``values`` and written ``$N``."""
    if isinstance(expr, Name):
        return expr.name
    if isinstance(expr, FunctionCall):
        if expr.name == "optional" and len(expr.args) == 2:
            values.append(static_value(expr.args[1]))
            n = len(values) - 1  # before the attribute's type adds its own defaults
            return f"optional({_type_text(expr.args[0], values)}, ${n})"
        return f"{expr.name}({', '.join(_type_text(a, values) for a in expr.args)})"
    if isinstance(expr, TupleExpr):
        return "[" + ", ".join(_type_text(a, values) for a in expr.items) + "]"
    if isinstance(expr, ObjectExpr):
        parts = []
        for k, v in expr.items:
            if (
                not isinstance(k, Literal | Name)
                or isinstance(k, Literal)
                and not isinstance(k.value, str)
            ):
                raise EvalError("Invalid type: object attribute names must be names", "", k.range)
            key = k.value if isinstance(k, Literal) else k.name
            parts.append(f"{key} = {_type_text(v, values)}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(expr, Template) and len(expr.parts) == 1 and isinstance(expr.parts[0], Literal):
        # Terraform 0.11 wrote types as strings: "string", "list", "map"
        return str(expr.parts[0].value)
    if isinstance(expr, Literal) and isinstance(expr.value, str):
        return expr.value
    raise EvalError("Invalid type expression", _TYPE_HINT, expr.range)
