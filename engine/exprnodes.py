"""The expression tree's base, its evaluation context, and the nodes that build values.

Holds ``Expr`` (every node: a ``range`` and its own ``_ev``/``_refs``), ``EvalError``,
``Reference``, ``EvalContext`` and the ``ExprEvaluator`` a node is evaluated with, then the
literal, template, tuple and object nodes. Marks (``sdk/values.py``): ``_walk`` gives a
value with its marks and only traversals call it; ``_ev`` gives a plain value, and a node
that reads a marked value marks the whole expression (``ExprEvaluator.marked``). Traversals
(names, attributes, indexes, splats) are in ``exprrefs.py``, operators and control nodes
in ``exprops.py``; callers use ``engine/expr.py``. Always holds: an operation on
``UNKNOWN`` yields ``UNKNOWN`` (never an exception), a user mistake is an ``EvalError``
carrying a ``SourceRange``, and nodes are plain picklable objects (the parse cache stores
them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from engine.numbers import format_number
from engine.typeconv import type_name
from sdk.addrs import ResourceAddr
from sdk.diagnostics import SourceRange
from sdk.values import UNKNOWN, unmark

SPECIAL_ROOTS = {"var", "local", "count", "each", "path", "bcdr", "terraform", "self"}
_INIT_ARGS: dict[type, tuple[str, ...]] = {}  # a node class's constructor arguments


class EvalError(Exception):
    """A user mistake found while evaluating; the caller turns it into a Diagnostic."""

    def __init__(self, summary: str, detail: str = "", range: SourceRange | None = None):
        super().__init__(f"{range}: {summary}" if range else summary)
        self.summary = summary
        self.detail = detail
        self.range = range


class Reference(NamedTuple):
    """One traversal an expression makes (for graph edges); a named tuple, as a check of
    the configuration makes one per reference."""

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
    #: ``bcdr.workspace`` (and ``terraform.workspace``): the selected workspace's name
    workspace: str = "default"
    #: while planning, ``timestamp()``, ``uuid()`` and ``bcrypt()`` are unknown (known after
    #: apply); ``plantimestamp()`` is ``plan_time`` (the time now when empty)
    planning: bool = False
    plan_time: str = ""
    #: ``self`` in a postcondition: the instance's planned (or new) object
    self_value: Any = None
    has_self: bool = False


class ExprEvaluator:
    """What a node is evaluated with: the context, the names bound by for/splat, and
    whether the expression read a sensitive value (``marked``, shared by nested scopes)."""

    __slots__ = ("ctx", "marks", "scope")

    def __init__(self, ctx: EvalContext, scope: dict[str, Any], marks: list[bool] | None = None):
        self.ctx = ctx
        self.scope = scope
        self.marks = marks if marks is not None else [False]

    @property
    def marked(self) -> bool:
        return self.marks[0]

    def inner(self, scope: dict[str, Any]) -> ExprEvaluator:
        """An evaluator for a nested scope that reports marks to this one."""
        return ExprEvaluator(self.ctx, scope, self.marks)

    def plain(self, value: Any) -> Any:
        """``value`` without marks; reading a marked value marks the expression."""
        if value is None or isinstance(value, str | int | float):  # no mark inside
            return value
        value, marked = unmark(value)
        if marked:
            self.marks[0] = True
        return value


class Expr:
    """Base of the expression tree. Subclasses implement ``_ev`` and ``_refs``."""

    range: SourceRange

    def _ev(self, e: ExprEvaluator) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _walk(self, e: ExprEvaluator) -> Any:
        """The value with its marks, for a traversal (``exprrefs.py``) to go into."""
        return self._ev(e)

    def _refs(self, out: list[Reference], bound: frozenset[str]) -> None:
        for child in self.children():
            child._refs(out, bound)

    def children(self) -> list[Expr]:
        return []

    def result_kind(self) -> str | None:
        """The primitive type (``string``, ``number`` or ``bool``) this expression always
        gives, known without evaluating it; None when knowing it takes evaluating (a
        reference, a collection, most function calls). A conditional unifies its result
        with the other branch's kind, so it never evaluates a branch it did not choose."""
        return None

    def __reduce__(self) -> tuple[type[Expr], tuple[Any, ...]]:
        """Pickled as the class and its constructor's arguments (every node's ``__init__``
        keeps each argument under its own name): the parse cache reads a node back with
        one call instead of building and filling an instance dict, more than a third
        faster."""
        cls = type(self)
        names = _INIT_ARGS.get(cls)
        if names is None:
            code = cls.__init__.__code__  # type: ignore[misc]
            names = _INIT_ARGS[cls] = code.co_varnames[1 : code.co_argcount]
        return cls, tuple([getattr(self, n) for n in names])

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "range")
        return f"{type(self).__name__}({fields})"


class Literal(Expr):
    def __init__(self, value: Any, range: SourceRange):
        self.value = value
        self.range = range

    def _ev(self, e: ExprEvaluator) -> Any:
        return self.value

    def result_kind(self) -> str | None:
        return type_name(self.value) if isinstance(self.value, str | int | float) else None


class TemplateText(Literal):
    """A piece of literal text inside a template (as opposed to an interpolated literal)."""


class Template(Expr):
    """A string template: parts are expressions whose values are joined as strings."""

    def __init__(self, parts: list[Expr], range: SourceRange):
        self.parts = parts
        self.range = range

    def children(self) -> list[Expr]:
        return self.parts

    def _ev(self, e: ExprEvaluator) -> Any:
        if len(self.parts) == 1 and not isinstance(self.parts[0], TemplateText | TemplateDirective):
            return self.parts[0]._ev(e)  # "${x}" keeps x's type, as in Terraform
        return join_parts(self.parts, e)

    def result_kind(self) -> str | None:
        if len(self.parts) == 1 and not isinstance(self.parts[0], TemplateText | TemplateDirective):
            return self.parts[0].result_kind()
        return "string"


def join_parts(parts: list[Expr], e: ExprEvaluator) -> Any:
    """A template's parts joined as one string; ``UNKNOWN`` if any part is unknown."""
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
        return format_number(value)
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


class TemplateDirective(Expr):
    """Marker base for ``%{if}`` / ``%{for}`` parts (always produce strings)."""


class TemplateIf(TemplateDirective):
    def __init__(self, cond: Expr, then: list[Expr], otherwise: list[Expr], range: SourceRange):
        self.cond, self.then, self.otherwise, self.range = cond, then, otherwise, range

    def children(self) -> list[Expr]:
        return [self.cond, *self.then, *self.otherwise]

    def _ev(self, e: ExprEvaluator) -> Any:
        cond = self.cond._ev(e)
        if cond is UNKNOWN:
            return UNKNOWN
        if not isinstance(cond, bool):
            raise EvalError(
                f"The %{{if}} condition is a {type_name(cond)}, not a bool", "", self.cond.range
            )
        return join_parts(self.then if cond else self.otherwise, e)


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

    def _ev(self, e: ExprEvaluator) -> Any:
        coll = self.coll._ev(e)
        if coll is UNKNOWN:
            return UNKNOWN
        pieces: list[str] = []
        unknown = False
        for k, v in iterate(coll, self.coll.range):
            scope = dict(e.scope)
            scope[self.value] = v
            if self.key:
                scope[self.key] = k
            got = join_parts(self.body, e.inner(scope))
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

    def _ev(self, e: ExprEvaluator) -> Any:
        return [item._ev(e) for item in self.items]


class ObjectExpr(Expr):
    def __init__(self, items: list[tuple[Expr, Expr]], range: SourceRange):
        self.items, self.range = items, range

    def children(self) -> list[Expr]:
        return [x for pair in self.items for x in pair]

    def _ev(self, e: ExprEvaluator) -> Any:
        out: dict[str, Any] = {}
        for key_expr, value_expr in self.items:
            key = key_expr._ev(e)
            if key is UNKNOWN:
                return UNKNOWN
            out[key_string(key, key_expr.range)] = value_expr._ev(e)
        return out


def key_string(key: Any, range: SourceRange) -> str:
    """An object key as a string (numbers and bools as HCL prints them)."""
    if isinstance(key, str):
        return key
    if isinstance(key, int | float) and not isinstance(key, bool):
        return format_number(key)
    if isinstance(key, bool):
        return "true" if key else "false"
    raise EvalError(f"An object key must be a string, not a {type_name(key)}", "", range)


def iterate(coll: Any, range: SourceRange) -> list[tuple[Any, Any]]:
    """(key, value) pairs of a list (by index) or a map (by sorted key), for ``for``."""
    if isinstance(coll, list):
        return list(enumerate(coll))
    if isinstance(coll, dict):
        return [(k, coll[k]) for k in sorted(coll)]
    if coll is None:
        raise EvalError("Cannot iterate over a null value", "", range)
    raise EvalError(f"Cannot iterate over a {type_name(coll)}", "use a list or a map", range)
