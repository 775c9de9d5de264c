"""Operator and control nodes: function calls, unary and binary operators, conditionals
and for-expressions.

Always holds: an operator or call on ``UNKNOWN`` yields ``UNKNOWN`` (``==``/``!=`` only
when either side is not wholly known); a function sees ``UNKNOWN`` only when its name is
in ``UNKNOWN_AWARE``; ``try``/``can`` catch only ``EvalError`` (user mistakes), never
bugs, and never a call of an unknown function or with the wrong number of arguments
inside them (a mistake in the configuration, not a failure at run time); a function
that gives a new value on every call (``timestamp``, ``uuid``) is ``UNKNOWN`` while
planning; an operand that does not convert to its operator's type is an ``EvalError``
naming the side; a conditional never evaluates the branch it did not choose; a result
computed from a marked value is marked (``sensitive()`` marks, ``nonsensitive()`` unmarks), and
a conditional whose condition is unknown carries the marks of both branches.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from engine.exprnodes import (
    EvalContext,
    EvalError,
    Expr,
    ExprEvaluator,
    Reference,
    iterate,
    key_string,
)
from engine.functions import (
    CONTEXT_ARGS,
    FUNCTIONS,
    IMPURE_FUNCTIONS,
    LAZY_FUNCTIONS,
    MARK_FUNCTIONS,
    RESULT_KINDS,
    UNKNOWN_AWARE,
    FunctionError,
    call_problem,
)
from engine.numbers import arithmetic, compare, is_number
from engine.typeconv import TypeConstraint, convert, type_name, unify_kinds, value_kind
from sdk.diagnostics import SourceRange
from sdk.values import UNKNOWN, is_wholly_known


class FunctionCall(Expr):
    def __init__(self, name: str, args: list[Expr], expand: bool, range: SourceRange):
        self.name, self.args, self.expand, self.range = name, args, expand, range

    def children(self) -> list[Expr]:
        return self.args

    def result_kind(self) -> str | None:
        return RESULT_KINDS.get(self.name)

    def _ev(self, e: ExprEvaluator) -> Any:
        problem = call_problem(self.name, None if self.expand else len(self.args))
        if problem is not None:
            raise EvalError(*problem, self.range)
        fn = FUNCTIONS[self.name]
        if self.name in LAZY_FUNCTIONS:
            return self._lazy(e)
        if self.name in MARK_FUNCTIONS:
            return self._mark(e)
        if self.name in IMPURE_FUNCTIONS and e.ctx.planning:
            for a in self.args:  # a mistake in an argument is still one
                a._ev(e)
            return UNKNOWN  # a new value on every call: known after apply
        before, e.marks[0] = e.marks[0], False
        args = [a._ev(e) for a in self.args]
        secret_args, e.marks[0] = e.marks[0], before or e.marks[0]
        if self.expand and args:
            last = args.pop()
            if last is UNKNOWN:
                return UNKNOWN
            if not isinstance(last, list):
                raise EvalError(
                    f"The ... expansion needs a list, not a {type_name(last)}",
                    "",
                    self.args[-1].range,
                )
            args.extend(last)
            problem = call_problem(self.name, len(args))
            if problem is not None:
                raise EvalError(*problem, self.range)
        if self.name not in UNKNOWN_AWARE and not all(is_wholly_known(a) for a in args):
            return UNKNOWN
        try:
            wanted = CONTEXT_ARGS.get(self.name)
            if wanted:
                return fn(*args, **{k: _CONTEXT_VALUES[k](e.ctx) for k in wanted})
            return fn(*args)
        except FunctionError as err:
            if secret_args:  # its message could quote the secret
                raise EvalError(
                    f"{self.name}(): invalid sensitive argument",
                    "the reason is not shown, as it could hold the sensitive value",
                    self.range,
                ) from None
            raise EvalError(f"{self.name}(): {err}", err.detail, self.range) from None
        except TypeError as err:
            if "positional argument" in str(err) or "argument" in str(err):
                raise EvalError(
                    f"{self.name}(): wrong number of arguments ({len(args)})", "", self.range
                ) from None
            raise

    def _mark(self, e: ExprEvaluator) -> Any:
        if len(self.args) != 1 or self.expand:
            raise EvalError(f"{self.name}() takes exactly one argument", "", self.range)
        if self.name == "sensitive":
            e.marks[0] = True
            return self.args[0]._ev(e)
        own = ExprEvaluator(e.ctx, e.scope)  # its own marks, dropped
        value = self.args[0]._ev(own)
        if self.name == "issensitive":
            return UNKNOWN if value is UNKNOWN and not own.marked else own.marked
        return value

    def _lazy(self, e: ExprEvaluator) -> Any:
        if not self.args:
            raise EvalError(f"{self.name}() needs at least one argument", "", self.range)
        _refuse_static_problems(self.args)  # try and can hide what fails at run time only
        if self.name == "can":
            try:
                value = self.args[0]._ev(e)
            except EvalError:
                return False
            return UNKNOWN if not is_wholly_known(value) else True
        last: EvalError | None = None
        for arg in self.args:
            try:
                value = arg._ev(e)
            except EvalError as err:
                last = err
                continue
            return value
        assert last is not None
        raise EvalError(
            "try(): no argument could be evaluated",
            f"the last one failed with: {last.summary}",
            self.range,
        )


_CONTEXT_VALUES: dict[str, Callable[[EvalContext], Any]] = {
    "base": lambda ctx: os.path.join(ctx.path_cwd, ctx.path_module),  # module under cwd
    "plan_time": lambda ctx: ctx.plan_time,
}


def _refuse_static_problems(args: list[Expr]) -> None:
    """A call of an unknown function, or with the wrong number of arguments, inside
    ``try``/``can`` is a mistake in the configuration, not a failure to catch."""
    stack = list(args)
    while stack:
        node = stack.pop()
        if isinstance(node, FunctionCall):
            problem = call_problem(node.name, None if node.expand else len(node.args))
            if problem is not None:
                raise EvalError(*problem, node.range)
        stack.extend(node.children())


class Unary(Expr):
    def __init__(self, op: str, operand: Expr, range: SourceRange):
        self.op, self.operand, self.range = op, operand, range

    def children(self) -> list[Expr]:
        return [self.operand]

    def _ev(self, e: ExprEvaluator) -> Any:
        v = self.operand._ev(e)
        if v is UNKNOWN:
            return UNKNOWN
        if self.op == "!":
            return not _operand(v, "bool", "unary", self.operand.range)
        return arithmetic("-", 0, _operand(v, "number", "unary", self.operand.range))

    def result_kind(self) -> str | None:
        return "bool" if self.op == "!" else "number"


_KINDS = {"&&": "bool", "||": "bool"}  # every other operator but == and != takes numbers


class Binary(Expr):
    """An operator: ``==``/``!=`` compare without converting (``"5" == 5`` is false); every
    other operator converts its operands to its own type first (``"5" + 1`` is 6,
    ``"true" && true`` is true), with Terraform's error where one cannot be."""

    def __init__(self, op: str, left: Expr, right: Expr, range: SourceRange):
        self.op, self.left, self.right, self.range = op, left, right, range

    def children(self) -> list[Expr]:
        return [self.left, self.right]

    def result_kind(self) -> str | None:
        return "number" if self.op in ("+", "-", "*", "/", "%") else "bool"

    def _ev(self, e: ExprEvaluator) -> Any:
        a = self.left._ev(e)
        b = self.right._ev(e)
        op = self.op
        if op in ("==", "!="):
            if not (is_wholly_known(a) and is_wholly_known(b)):
                return UNKNOWN
            same = _equal(a, b)
            return same if op == "==" else not same
        kind = _KINDS.get(op, "number")
        x = UNKNOWN if a is UNKNOWN else _operand(a, kind, "left", self.left.range)
        y = UNKNOWN if b is UNKNOWN else _operand(b, kind, "right", self.right.range)
        if x is UNKNOWN or y is UNKNOWN:
            return UNKNOWN
        if op == "&&":
            return x and y
        if op == "||":
            return x or y
        if op in _ORDER:
            return _ORDER[op](compare(x, y))
        try:
            return arithmetic(op, x, y)
        except ZeroDivisionError:
            what = "Division" if op == "/" else "Modulo"
            raise EvalError(f"{what} by zero", "the right operand is 0", self.right.range) from None
        except OverflowError as err:
            raise EvalError("Invalid arithmetic", str(err), self.range) from None


_ORDER: dict[str, Callable[[int], bool]] = {
    "<": lambda c: c < 0,
    ">": lambda c: c > 0,
    "<=": lambda c: c <= 0,
    ">=": lambda c: c >= 0,
}


def _operand(value: Any, kind: str, side: str, range: SourceRange) -> Any:
    """``value`` converted to an operator's type (``"5"`` to 5, ``"true"`` to true), or
    Terraform's "Invalid operand" error naming the side."""
    if value is None:
        raise EvalError(
            "Invalid operand",
            f"Unsuitable value for {side} operand: argument must not be null.",
            range,
        )
    try:
        return convert(value, TypeConstraint(kind))
    except ValueError:
        raise EvalError(
            "Invalid operand",
            f"Unsuitable value for {side} operand: a {kind} is required.",
            range,
        ) from None


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return compare(a, b) == 0
    if isinstance(a, list) and isinstance(b, list):  # a set read back from state is a list
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


class Conditional(Expr):
    """``c ? a : b``. Only the chosen branch is evaluated (``x == null ? "" : x.name``
    works), but the result has the type both branches unify to, as in Terraform, where the
    other branch's type is known without evaluating it (``result_kind``): a number or
    bool against a string becomes a string; a number against a bool is an error."""

    def __init__(self, cond: Expr, then: Expr, otherwise: Expr, range: SourceRange):
        self.cond, self.then, self.otherwise, self.range = cond, then, otherwise, range

    def children(self) -> list[Expr]:
        return [self.cond, self.then, self.otherwise]

    def _ev(self, e: ExprEvaluator) -> Any:
        c = self.cond._ev(e)
        if c is UNKNOWN:
            self._branch_marks(e)
            return UNKNOWN
        if c is None or not isinstance(c, bool) and c not in ("true", "false"):
            raise EvalError(
                f"The condition is a {type_name(c)}, not a bool",
                "a condition must be true or false (compare with == to make one)",
                self.cond.range,
            )
        then = c in (True, "true")
        chosen, other = (self.then, self.otherwise) if then else (self.otherwise, self.then)
        value = chosen._ev(e)
        other_kind = other.result_kind()  # never evaluated: it may fail where not chosen
        kind = value_kind(value)
        if kind is None or other_kind is None:
            return value
        try:
            unified = unify_kinds(kind, other_kind)
        except ValueError:
            t, f = (kind, other_kind) if then else (other_kind, kind)
            raise EvalError(
                "Inconsistent conditional result types",
                "The true and false result expressions must have consistent types. The "
                f"'true' value is {t}, but the 'false' value is {f}.",
                self.range,
            ) from None
        return value if unified == kind else convert(value, TypeConstraint(unified))

    def result_kind(self) -> str | None:
        a, b = self.then.result_kind(), self.otherwise.result_kind()
        try:
            return unify_kinds(a, b) if a is not None and b is not None else None
        except ValueError:
            return None

    def _branch_marks(self, e: ExprEvaluator) -> None:
        """Either branch may be the value: the unknown result carries the marks of both."""
        for branch in (self.then, self.otherwise):
            try:
                branch._ev(e)
            except EvalError:
                continue


class ForExpr(Expr):
    """``[for k, v in coll : value if cond]`` or ``{for k, v in coll : key => value...}``."""

    def __init__(
        self,
        key_var: str | None,
        value_var: str,
        coll: Expr,
        key: Expr | None,
        value: Expr,
        cond: Expr | None,
        grouping: bool,
        range: SourceRange,
    ):
        self.key_var, self.value_var, self.coll = key_var, value_var, coll
        self.key, self.value, self.cond, self.grouping = key, value, cond, grouping
        self.range = range

    def children(self) -> list[Expr]:
        return [x for x in (self.coll, self.key, self.value, self.cond) if x is not None]

    def _refs(self, out: list[Reference], bound: frozenset[str]) -> None:
        self.coll._refs(out, bound)
        inner = bound | {self.value_var} | ({self.key_var} if self.key_var else set())
        for x in (self.key, self.value, self.cond):
            if x is not None:
                x._refs(out, inner)

    def _ev(self, e: ExprEvaluator) -> Any:
        coll = self.coll._ev(e)
        if coll is UNKNOWN:
            return UNKNOWN
        as_object = self.key is not None
        out_list: list[Any] = []
        out_obj: dict[str, Any] = {}
        for k, v in iterate(coll, self.coll.range):
            scope = dict(e.scope)
            scope[self.value_var] = v
            if self.key_var:
                scope[self.key_var] = k
            inner = e.inner(scope)
            if self.cond is not None:
                c = self.cond._ev(inner)
                if c is UNKNOWN:
                    return UNKNOWN
                if not isinstance(c, bool):
                    raise EvalError(
                        f"The for-expression's if is a {type_name(c)}, not a bool",
                        "",
                        self.cond.range,
                    )
                if not c:
                    continue
            if not as_object:
                out_list.append(self.value._ev(inner))
                continue
            assert self.key is not None
            key = self.key._ev(inner)
            if key is UNKNOWN:
                return UNKNOWN
            key = key_string(key, self.key.range)
            value = self.value._ev(inner)
            if self.grouping:
                out_obj.setdefault(key, []).append(value)
            elif key in out_obj:
                raise EvalError(
                    f'Duplicate key "{key}" in a for-expression',
                    "add ... after the value to group values by key, or make keys unique",
                    self.key.range,
                )
            else:
                out_obj[key] = value
        return out_obj if as_object else out_list
