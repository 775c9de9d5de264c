"""Traversal nodes: names, attribute access, indexing and splats, and what they refer to.

``GetAttr`` on a bare root (``var.x``, ``local.y``, ``TYPE.NAME``, ``count.index``,
``each.key``, ``path.module``) is a reference: ``_refs`` reports it for graph edges and
``_ev`` resolves it through the ``EvalContext``. Always holds: a reference to something
undeclared, or an attribute, key or index that is not there, is an ``EvalError`` that
says what exists; traversing ``UNKNOWN`` yields ``UNKNOWN``; traversing into a marked value
yields a marked value, and a traversal hands its parent a plain value (``_ev``) after
marking the expression when what it reached holds a mark.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from engine.exprnodes import SPECIAL_ROOTS, EvalError, Expr, ExprEvaluator, Reference, key_string
from engine.typeconv import type_name
from sdk.addrs import ResourceAddr
from sdk.diagnostics import SourceRange
from sdk.values import UNKNOWN, Sensitive, mark


class Name(Expr):
    """A bare identifier: a for-expression local, or the root of a reference."""

    def __init__(self, name: str, range: SourceRange):
        self.name, self.range = name, range

    def _ev(self, e: ExprEvaluator) -> Any:
        if self.name in e.scope:
            return e.scope[self.name]
        if self.name == "each" and e.ctx.has_each:
            return {"key": e.ctx.each_key, "value": e.ctx.each_value}
        if self.name in SPECIAL_ROOTS:
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

    def _ev(self, e: ExprEvaluator) -> Any:
        return e.plain(self._walk(e))

    def _walk(self, e: ExprEvaluator) -> Any:
        if isinstance(self.obj, Name) and self.obj.name not in e.scope:
            return _eval_root(self.obj.name, self.name, e, self.range)
        obj = self.obj._walk(e)
        if isinstance(obj, Sensitive):
            with _quiet(self.range):
                return mark(_get_attr(obj.value, self.name, self.range))
        return _get_attr(obj, self.name, self.range)


def _root_reference(root: str, attr: str, range: SourceRange) -> Reference | None:
    if root in SPECIAL_ROOTS:
        return Reference(root, attr, range)
    return Reference("resource", ResourceAddr(root, attr), range)


def _eval_root(root: str, attr: str, e: ExprEvaluator, range: SourceRange) -> Any:
    ctx = e.ctx
    if root not in SPECIAL_ROOTS:
        return _resource_root(root, attr, ctx, range)
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
    if root in ("bcdr", "terraform"):
        if attr == "workspace":
            return ctx.workspace
        raise EvalError(f'"{root}.{attr}" is not valid', f"the only one is {root}.workspace", range)
    if ctx.has_self:  # the last of SPECIAL_ROOTS
        return _get_attr(ctx.self_value, attr, range)
    raise EvalError(
        '"self" is not available here', "self is used in a resource's postcondition", range
    )


def _resource_root(root: str, attr: str, ctx: Any, range: SourceRange) -> Any:
    """``TYPE.NAME``: the resource's value known so far."""
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
                "Unsupported attribute",
                f'This object has no attribute named "{name}"; its attributes are: {keys}',
                range,
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

    def _ev(self, e: ExprEvaluator) -> Any:
        return e.plain(self._walk(e))

    def _walk(self, e: ExprEvaluator) -> Any:
        obj = self.obj._walk(e)
        before, e.marks[0] = e.marks[0], False
        key = self.key._ev(e)
        secret_key, e.marks[0] = e.marks[0], before or e.marks[0]
        if isinstance(obj, Sensitive):
            with _quiet(self.range):
                return mark(_index(obj.value, key, self.range))
        if secret_key:
            with _quiet(self.range):
                return _index(obj, key, self.range)
        return _index(obj, key, self.range)


@contextmanager
def _quiet(range: SourceRange) -> Iterator[None]:
    """A traversal of a sensitive value that fails says so without quoting keys or values."""
    try:
        yield
    except EvalError:
        raise EvalError(
            "Invalid traversal of a sensitive value",
            "the key or attribute is not there; the details are not shown, as they could "
            "hold the sensitive value",
            range,
        ) from None


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
            if not obj:
                detail = (
                    f"index {i}: the list has no elements (a resource with count = 0 has no "
                    "instances); check the count, or guard the reference with length(...) > 0"
                )
            else:
                detail = (
                    f"index {i} is out of range for a list of {len(obj)} elements; "
                    f"valid indexes are 0 to {len(obj) - 1}"
                )
            raise EvalError("Invalid index", detail, range)
        return obj[i]
    if isinstance(obj, dict):
        k = key_string(key, range)
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

    def _ev(self, e: ExprEvaluator) -> Any:
        return e.plain(self._walk(e))

    def _walk(self, e: ExprEvaluator) -> Any:
        return e.scope["\0splat"]


class Splat(Expr):
    """``source[*].rest`` / ``source.*.rest``: ``each`` is evaluated with SplatItem bound."""

    def __init__(self, source: Expr, each: Expr, range: SourceRange):
        self.source, self.each, self.range = source, each, range

    def children(self) -> list[Expr]:
        return [self.source, self.each]

    def _ev(self, e: ExprEvaluator) -> Any:
        return e.plain(self._walk(e))

    def _walk(self, e: ExprEvaluator) -> Any:
        source = self.source._walk(e)
        if isinstance(source, Sensitive):
            return mark(self._each(source.value, e))
        return self._each(source, e)

    def _each(self, source: Any, e: ExprEvaluator) -> Any:
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
            out.append(self.each._walk(e.inner(scope)))
        return out
