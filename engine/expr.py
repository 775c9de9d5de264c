"""HCL expressions: bcdr's own expression tree, its references, and its evaluation.

``config.py`` turns the parser's tree into the nodes below; nothing else builds them from
text. Every node has a ``range`` (file:line). Evaluation yields plain Python values (see
``engine/values.py``). Always holds: an operation on ``UNKNOWN`` yields ``UNKNOWN`` (never
an exception), a user mistake is an ``EvalError`` carrying a ``SourceRange``, and nodes are
plain picklable objects (the parse cache stores them).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.addrs import ResourceAddr
from engine.diagnostics import SourceRange
from engine.functions import FUNCTIONS, LAZY_FUNCTIONS, PATH_FUNCTIONS, UNKNOWN_AWARE, FunctionError
from engine.typeconv import TypeConstraint, convert, parse_type, type_name
from engine.values import UNKNOWN, is_wholly_known

__all__ = [
    "EvalContext",
    "EvalError",
    "Expr",
    "Reference",
    "TypeConstraint",
    "convert",
    "evaluate",
    "literal",
    "parse_type",
    "references",
    "type_name",
]

_SPECIAL_ROOTS = {"var", "local", "count", "each", "path", "self"}


class EvalError(Exception):
    """A user mistake found while evaluating; the caller turns it into a Diagnostic."""

    def __init__(self, summary: str, detail: str = "", range: SourceRange | None = None):
        super().__init__(f"{range}: {summary}" if range else summary)
        self.summary = summary
        self.detail = detail
        self.range = range


@dataclass(frozen=True)
class Reference:
    """One traversal an expression makes (for graph edges)."""

    kind: str
    subject: ResourceAddr | str
    range: SourceRange


@dataclass
class EvalContext:
    variables: dict[str, Any]
    locals: Callable[[str], Any] | dict[str, Any]
    resources: Callable[[ResourceAddr], Any]
    count_index: int | None = None
    each_key: Any = None
    each_value: Any = None
    has_each: bool = False
    path_module: str = "."
    path_cwd: str = "."


class _Evaluator:
    __slots__ = ("ctx", "scope")

    def __init__(self, ctx: EvalContext, scope: dict[str, Any]):
        self.ctx = ctx
        self.scope = scope


# ---------------------------------------------------------------- nodes


class Expr:
    """Base of the expression tree. Subclasses implement ``_ev`` and ``_refs``."""

    range: SourceRange

    def _ev(self, e: _Evaluator) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _refs(self, out: list[Reference], bound: frozenset[str]) -> None:
        for child in self.children():
            child._refs(out, bound)

    def children(self) -> list[Expr]:
        return []

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "range")
        return f"{type(self).__name__}({fields})"


class Literal(Expr):
    def __init__(self, value: Any, range: SourceRange):
        self.value = value
        self.range = range

    def _ev(self, e: _Evaluator) -> Any:
        return self.value


class TemplateText(Literal):
    """A piece of literal text inside a template (as opposed to an interpolated literal)."""


class Template(Expr):
    """A string template: parts are expressions whose values are joined as strings."""

    def __init__(self, parts: list[Expr], range: SourceRange):
        self.parts = parts
        self.range = range

    def children(self) -> list[Expr]:
        return self.parts

    def _ev(self, e: _Evaluator) -> Any:
        if len(self.parts) == 1 and not isinstance(self.parts[0], TemplateText | TemplateDirective):
            return self.parts[0]._ev(e)  # "${x}" keeps x's type, as in Terraform
        return _join_parts(self.parts, e)


def _join_parts(parts: list[Expr], e: _Evaluator) -> Any:
    out: list[str] = []
    unknown = False
    for part in parts:
        value = part._ev(e)
        if value is UNKNOWN:
            unknown = True
            continue
        out.append(_to_template_string(value, part.range))
    return UNKNOWN if unknown else "".join(out)


def _to_template_string(value: Any, range: SourceRange) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_str(value)
    if value is None:
        raise EvalError(
            "Cannot include a null value in a string template",
            'use coalesce(value, "") or a conditional to give a default',
            range,
        )
    raise EvalError(
        f"Cannot include a {type_name(value)} in a string template",
        "only strings, numbers and bools can be interpolated; use join() or jsonencode()",
        range,
    )


def _number_str(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


class TemplateDirective(Expr):
    """Marker base for ``%{if}`` / ``%{for}`` parts (always produce strings)."""


class TemplateIf(TemplateDirective):
    def __init__(self, cond: Expr, then: list[Expr], otherwise: list[Expr], range: SourceRange):
        self.cond, self.then, self.otherwise, self.range = cond, then, otherwise, range

    def children(self) -> list[Expr]:
        return [self.cond, *self.then, *self.otherwise]

    def _ev(self, e: _Evaluator) -> Any:
        cond = self.cond._ev(e)
        if cond is UNKNOWN:
            return UNKNOWN
        if not isinstance(cond, bool):
            raise EvalError(
                f"The %{{if}} condition is a {type_name(cond)}, not a bool", "", self.cond.range
            )
        return _join_parts(self.then if cond else self.otherwise, e)


class TemplateFor(TemplateDirective):
    def __init__(
        self, key: str | None, value: str, coll: Expr, body: list[Expr], range: SourceRange
    ):
        self.key, self.value, self.coll, self.body, self.range = key, value, coll, body, range

    def children(self) -> list[Expr]:
        return [self.coll, *self.body]

    def _refs(self, out: list[Reference], bound: frozenset[str]) -> None:
        self.coll._refs(out, bound)
        inner = bound | {self.value} | ({self.key} if self.key else set())
        for part in self.body:
            part._refs(out, inner)

    def _ev(self, e: _Evaluator) -> Any:
        coll = self.coll._ev(e)
        if coll is UNKNOWN:
            return UNKNOWN
        pieces: list[str] = []
        unknown = False
        for k, v in _iterate(coll, self.coll.range):
            scope = dict(e.scope)
            scope[self.value] = v
            if self.key:
                scope[self.key] = k
            got = _join_parts(self.body, _Evaluator(e.ctx, scope))
            if got is UNKNOWN:
                unknown = True
            else:
                pieces.append(got)
        return UNKNOWN if unknown else "".join(pieces)


class TupleExpr(Expr):
    def __init__(self, items: list[Expr], range: SourceRange):
        self.items, self.range = items, range

    def children(self) -> list[Expr]:
        return self.items

    def _ev(self, e: _Evaluator) -> Any:
        return [item._ev(e) for item in self.items]


class ObjectExpr(Expr):
    def __init__(self, items: list[tuple[Expr, Expr]], range: SourceRange):
        self.items, self.range = items, range

    def children(self) -> list[Expr]:
        return [x for pair in self.items for x in pair]

    def _ev(self, e: _Evaluator) -> Any:
        out: dict[str, Any] = {}
        for key_expr, value_expr in self.items:
            key = key_expr._ev(e)
            if key is UNKNOWN:
                return UNKNOWN
            out[_key_string(key, key_expr.range)] = value_expr._ev(e)
        return out


def _key_string(key: Any, range: SourceRange) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, int | float) and not isinstance(key, bool):
        return _number_str(key)
    if isinstance(key, bool):
        return "true" if key else "false"
    raise EvalError(f"An object key must be a string, not a {type_name(key)}", "", range)


class Name(Expr):
    """A bare identifier: a for-expression local, or the root of a reference."""

    def __init__(self, name: str, range: SourceRange):
        self.name, self.range = name, range

    def _ev(self, e: _Evaluator) -> Any:
        if self.name in e.scope:
            return e.scope[self.name]
        if self.name == "each" and e.ctx.has_each:
            return {"key": e.ctx.each_key, "value": e.ctx.each_value}
        if self.name in _SPECIAL_ROOTS:
            raise EvalError(
                f'"{self.name}" must be followed by an attribute',
                f"write {self.name}.NAME",
                self.range,
            )
        raise EvalError(
            f'Unknown name "{self.name}"',
            "a reference is var.NAME, local.NAME, TYPE.NAME (a resource), count.index, "
            "each.key, each.value, path.module or a for-expression variable",
            self.range,
        )


class GetAttr(Expr):
    def __init__(self, obj: Expr, name: str, range: SourceRange):
        self.obj, self.name, self.range = obj, name, range

    def children(self) -> list[Expr]:
        return [self.obj]

    def _refs(self, out: list[Reference], bound: frozenset[str]) -> None:
        root = self.obj
        if isinstance(root, Name) and root.name not in bound:
            ref = _root_reference(root.name, self.name, self.range)
            if ref is not None:
                out.append(ref)
            return
        self.obj._refs(out, bound)

    def _ev(self, e: _Evaluator) -> Any:
        if isinstance(self.obj, Name) and self.obj.name not in e.scope:
            return _eval_root(self.obj.name, self.name, e, self.range)
        return _get_attr(self.obj._ev(e), self.name, self.range)


def _root_reference(root: str, attr: str, range: SourceRange) -> Reference | None:
    if root in ("var", "local", "count", "each", "path", "self"):
        return Reference(root, attr, range)
    return Reference("resource", ResourceAddr(root, attr), range)


def _eval_root(root: str, attr: str, e: _Evaluator, range: SourceRange) -> Any:
    ctx = e.ctx
    if root == "var":
        if attr not in ctx.variables:
            raise EvalError(
                f'Reference to undeclared input variable "{attr}"',
                f'declare it with variable "{attr}" {{}} or fix the name',
                range,
            )
        return ctx.variables[attr]
    if root == "local":
        try:
            if callable(ctx.locals):
                return ctx.locals(attr)
            return ctx.locals[attr]
        except KeyError:
            raise EvalError(
                f'Reference to undeclared local value "{attr}"',
                f"declare it in a locals {{}} block: {attr} = ...",
                range,
            ) from None
    if root == "count":
        if attr != "index":
            raise EvalError(f'"count.{attr}" is not valid', "the only one is count.index", range)
        if ctx.count_index is None:
            raise EvalError(
                '"count.index" used outside a resource with count',
                "count.index is only available in a resource that sets count",
                range,
            )
        return ctx.count_index
    if root == "each":
        if attr not in ("key", "value"):
            raise EvalError(f'"each.{attr}" is not valid', "use each.key or each.value", range)
        if not ctx.has_each:
            raise EvalError(
                f'"each.{attr}" used outside a resource with for_each',
                "each.key and each.value are only available in a resource that sets for_each",
                range,
            )
        return ctx.each_key if attr == "key" else ctx.each_value
    if root == "path":
        if attr == "module":
            return ctx.path_module
        if attr == "cwd":
            return ctx.path_cwd
        raise EvalError(f'"path.{attr}" is not valid', "use path.module or path.cwd", range)
    if root == "self":
        raise EvalError('"self" is not available here', "", range)
    addr = ResourceAddr(root, attr)
    try:
        return ctx.resources(addr)
    except KeyError:
        raise EvalError(
            f'Reference to undeclared resource "{addr}"',
            f'declare it with resource "{root}" "{attr}" {{ ... }} or fix the reference',
            range,
        ) from None


def _get_attr(obj: Any, name: str, range: SourceRange) -> Any:
    if obj is UNKNOWN:
        return UNKNOWN
    if isinstance(obj, dict):
        if name not in obj:
            keys = ", ".join(sorted(obj)[:20]) or "none"
            raise EvalError(
                f'This object has no attribute "{name}"', f"its attributes are: {keys}", range
            )
        return obj[name]
    if obj is None:
        raise EvalError(f'Cannot get attribute "{name}" of a null value', "", range)
    if isinstance(obj, list):
        raise EvalError(
            f'Cannot get attribute "{name}" of a list',
            f"use an index ([0].{name}) or a splat ([*].{name})",
            range,
        )
    raise EvalError(f'Cannot get attribute "{name}" of a {type_name(obj)}', "", range)


class Index(Expr):
    def __init__(self, obj: Expr, key: Expr, range: SourceRange):
        self.obj, self.key, self.range = obj, key, range

    def children(self) -> list[Expr]:
        return [self.obj, self.key]

    def _ev(self, e: _Evaluator) -> Any:
        return _index(self.obj._ev(e), self.key._ev(e), self.range)


def _index(obj: Any, key: Any, range: SourceRange) -> Any:
    if obj is UNKNOWN or key is UNKNOWN:
        return UNKNOWN
    if isinstance(obj, list):
        if isinstance(key, str):
            try:
                key = int(key)
            except ValueError:
                raise EvalError(f'A list index must be a number, not "{key}"', "", range) from None
        if (
            isinstance(key, bool)
            or not isinstance(key, int | float)
            or not math.isfinite(key)
            or key != int(key)
        ):
            raise EvalError(f"A list index must be a whole number, not {key!r}", "", range)
        i = int(key)
        if not 0 <= i < len(obj):
            raise EvalError(
                f"Index {i} is out of range for a list of {len(obj)} elements", "", range
            )
        return obj[i]
    if isinstance(obj, dict):
        k = _key_string(key, range)
        if k not in obj:
            keys = ", ".join(sorted(obj)[:20]) or "none"
            raise EvalError(f'This map has no key "{k}"', f"its keys are: {keys}", range)
        return obj[k]
    if obj is None:
        raise EvalError("Cannot index a null value", "", range)
    raise EvalError(f"Cannot index a {type_name(obj)}", "only lists and maps can be indexed", range)


class SplatItem(Expr):
    """The current element inside a splat's per-element traversal."""

    def __init__(self, range: SourceRange):
        self.range = range

    def _ev(self, e: _Evaluator) -> Any:
        return e.scope["\0splat"]


class Splat(Expr):
    """``source[*].rest`` / ``source.*.rest``: ``each`` is evaluated with SplatItem bound."""

    def __init__(self, source: Expr, each: Expr, range: SourceRange):
        self.source, self.each, self.range = source, each, range

    def children(self) -> list[Expr]:
        return [self.source, self.each]

    def _ev(self, e: _Evaluator) -> Any:
        source = self.source._ev(e)
        if source is UNKNOWN:
            return UNKNOWN
        if source is None:
            return []
        items = source if isinstance(source, list) else [source]
        out = []
        for item in items:
            if item is UNKNOWN:
                out.append(UNKNOWN)
                continue
            scope = dict(e.scope)
            scope["\0splat"] = item
            out.append(self.each._ev(_Evaluator(e.ctx, scope)))
        return out


class FunctionCall(Expr):
    def __init__(self, name: str, args: list[Expr], expand: bool, range: SourceRange):
        self.name, self.args, self.expand, self.range = name, args, expand, range

    def children(self) -> list[Expr]:
        return self.args

    def _ev(self, e: _Evaluator) -> Any:
        fn = FUNCTIONS.get(self.name)
        if fn is None:
            raise EvalError(
                f'Call to unknown function "{self.name}"',
                "available functions: " + ", ".join(sorted(FUNCTIONS)),
                self.range,
            )
        if self.name in LAZY_FUNCTIONS:
            return self._lazy(e)
        args = [a._ev(e) for a in self.args]
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
        if self.name not in UNKNOWN_AWARE and not all(is_wholly_known(a) for a in args):
            return UNKNOWN
        try:
            if self.name in PATH_FUNCTIONS:
                return fn(*args, base=e.ctx.path_module)
            return fn(*args)
        except FunctionError as err:
            raise EvalError(f"{self.name}(): {err}", err.detail, self.range) from None
        except TypeError as err:
            if "positional argument" in str(err) or "argument" in str(err):
                raise EvalError(
                    f"{self.name}(): wrong number of arguments ({len(args)})", "", self.range
                ) from None
            raise

    def _lazy(self, e: _Evaluator) -> Any:
        if not self.args:
            raise EvalError(f"{self.name}() needs at least one argument", "", self.range)
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


class Unary(Expr):
    def __init__(self, op: str, operand: Expr, range: SourceRange):
        self.op, self.operand, self.range = op, operand, range

    def children(self) -> list[Expr]:
        return [self.operand]

    def _ev(self, e: _Evaluator) -> Any:
        v = self.operand._ev(e)
        if v is UNKNOWN:
            return UNKNOWN
        if self.op == "!":
            if not isinstance(v, bool):
                raise EvalError(f"Cannot apply ! to a {type_name(v)}", "! needs a bool", self.range)
            return not v
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise EvalError(f"Cannot negate a {type_name(v)}", "- needs a number", self.range)
        return -v


_VERBS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "%": "take the modulo of"}


class Binary(Expr):
    def __init__(self, op: str, left: Expr, right: Expr, range: SourceRange):
        self.op, self.left, self.right, self.range = op, left, right, range

    def children(self) -> list[Expr]:
        return [self.left, self.right]

    def _ev(self, e: _Evaluator) -> Any:
        a = self.left._ev(e)
        b = self.right._ev(e)
        op = self.op
        if op in ("==", "!="):
            if not (is_wholly_known(a) and is_wholly_known(b)):
                return UNKNOWN
            same = _equal(a, b)
            return same if op == "==" else not same
        if a is UNKNOWN or b is UNKNOWN:
            return UNKNOWN
        if op in ("&&", "||"):
            for v, side in ((a, self.left), (b, self.right)):
                if not isinstance(v, bool):
                    raise EvalError(
                        f"The operands of {op} must be bools, not a {type_name(v)}", "", side.range
                    )
            return (a and b) if op == "&&" else (a or b)
        for v in (a, b):
            if isinstance(v, bool) or not isinstance(v, int | float):
                other = b if v is a else a
                if op in _VERBS:
                    what = f"cannot {_VERBS[op]} a {type_name(a)} and a {type_name(b)}"
                else:
                    what = f"cannot compare a {type_name(a)} and a {type_name(b)} with {op}"
                hint = ""
                if isinstance(v, str) and not isinstance(other, str):
                    hint = "convert with tonumber() if the string holds a number"
                raise EvalError(what[0].upper() + what[1:], hint, self.range)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            if b == 0:
                raise EvalError("Division by zero", "", self.range)
            q = a / b
            return int(q) if isinstance(a, int) and isinstance(b, int) and a % b == 0 else q
        if op == "%":
            if b == 0:
                raise EvalError("Modulo by zero", "", self.range)
            return a % b
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        if op == "<=":
            return a <= b
        if op == ">=":
            return a >= b
        raise AssertionError(op)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return a == b


class Conditional(Expr):
    def __init__(self, cond: Expr, then: Expr, otherwise: Expr, range: SourceRange):
        self.cond, self.then, self.otherwise, self.range = cond, then, otherwise, range

    def children(self) -> list[Expr]:
        return [self.cond, self.then, self.otherwise]

    def _ev(self, e: _Evaluator) -> Any:
        c = self.cond._ev(e)
        if c is UNKNOWN:
            return UNKNOWN
        if not isinstance(c, bool):
            raise EvalError(
                f"The condition is a {type_name(c)}, not a bool",
                "a condition must be true or false (compare with == to make one)",
                self.cond.range,
            )
        return self.then._ev(e) if c else self.otherwise._ev(e)


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

    def _ev(self, e: _Evaluator) -> Any:
        coll = self.coll._ev(e)
        if coll is UNKNOWN:
            return UNKNOWN
        as_object = self.key is not None
        out_list: list[Any] = []
        out_obj: dict[str, Any] = {}
        for k, v in _iterate(coll, self.coll.range):
            scope = dict(e.scope)
            scope[self.value_var] = v
            if self.key_var:
                scope[self.key_var] = k
            inner = _Evaluator(e.ctx, scope)
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
            key = _key_string(key, self.key.range)
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


def _iterate(coll: Any, range: SourceRange) -> list[tuple[Any, Any]]:
    if isinstance(coll, list):
        return list(enumerate(coll))
    if isinstance(coll, dict):
        return [(k, coll[k]) for k in sorted(coll)]
    if coll is None:
        raise EvalError("Cannot iterate over a null value", "", range)
    raise EvalError(f"Cannot iterate over a {type_name(coll)}", "use a list or a map", range)


# ---------------------------------------------------------------- public API


def references(expr: Expr) -> list[Reference]:
    """Every reference the expression makes, in source order (for-locals excluded)."""
    out: list[Reference] = []
    expr._refs(out, frozenset())
    return out


def evaluate(expr: Expr, ctx: EvalContext) -> Any:
    """Evaluate to plain Python values; raises EvalError on a user mistake."""
    try:
        return expr._ev(_Evaluator(ctx, {}))
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
    text = _type_text(expr)
    try:
        return parse_type(text)
    except ValueError as err:
        raise EvalError(f"Invalid type: {err}", _TYPE_HINT, expr.range) from None


_TYPE_HINT = (
    "a type is string, number, bool, any, list(T), set(T), map(T), "
    "object({name = T, other = optional(T)}) or tuple([T, ...])"
)


def _type_text(expr: Expr) -> str:
    """Render a type expression back to its canonical text, refusing anything else."""
    if isinstance(expr, Name):
        return expr.name
    if isinstance(expr, FunctionCall):
        return f"{expr.name}({', '.join(_type_text(a) for a in expr.args)})"
    if isinstance(expr, TupleExpr):
        return "[" + ", ".join(_type_text(a) for a in expr.items) + "]"
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
            parts.append(f"{key} = {_type_text(v)}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(expr, Template) and len(expr.parts) == 1 and isinstance(expr.parts[0], Literal):
        # Terraform 0.11 wrote types as strings: "string", "list", "map"
        return str(expr.parts[0].value)
    if isinstance(expr, Literal) and isinstance(expr.value, str):
        return expr.value
    raise EvalError("Invalid type expression", _TYPE_HINT, expr.range)
