"""Evaluation glue shared by planner, applier and importer.

An ``Evaluator`` holds the values of resource instances known so far (planned values in a
plan, applied values during apply), resolves ``local.*`` lazily with a memo, expands
``count``/``for_each`` into instance keys and evaluates resource bodies (their dynamic
blocks expanded through ``engine/dynamic.py``), outputs and provider blocks with
``engine.expr``. Always holds: lookups are dict lookups (never scans
of the configuration), a resource whose instances are not known yet evaluates to
``UNKNOWN``, user mistakes come back as diagnostics with file:line, and marks are kept
where expressions read them: a sensitive variable is marked, a local computed from a
marked value is marked, an instance's values at its sensitive paths are marked, so that
everything computed from them is reported sensitive (``marked``, ``eval_expr``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.configmodel import Block, DynamicBlock
from engine.dynamic import count_problems, iterations
from engine.expr import evaluate, evaluate_marked
from engine.exprnodes import EvalContext, EvalError, Expr
from engine.graph import LocalIndex
from engine.typeconv import convert, is_set, parse_type, type_name
from sdk import ProviderContext
from sdk.addrs import InstanceKey, ResourceAddr
from sdk.diagnostics import Diagnostics, SourceRange, error
from sdk.values import UNKNOWN, is_wholly_known, mark, mark_paths

if TYPE_CHECKING:
    from engine.configmodel import Body, Config
    from engine.registry import Registry
    from sdk import Schema

_BUSY = object()


def eval_error(err: EvalError, address: str | None = None) -> Any:
    return error(err.summary, err.detail, err.range, address=address)


class Evaluator:
    """Values of resources known so far, and evaluation of expressions against them."""

    def __init__(
        self,
        config: Config,
        variables: dict[str, Any],
        working_dir: Path,
        *,
        plan_time: str = "",
        planning: bool = False,
    ) -> None:
        """``plan_time``: the plan's timestamp (``plantimestamp()``); ``planning``: whether
        ``timestamp()`` and other functions of a new value on every call are unknown."""
        self.config = config
        self.plan_time = plan_time or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.planning = planning
        self.variables = variables
        self.working_dir = working_dir
        self.instances: dict[ResourceAddr, dict[InstanceKey, Any]] = {}
        self.locals_index = LocalIndex(config)
        self._locals: dict[str, Any] = {}
        self._locals_lock = threading.RLock()  # apply evaluates on several threads
        sensitive = {n for n, v in config.variables.items() if v.sensitive}
        self._marked_vars = {n: mark(v) if n in sensitive else v for n, v in variables.items()}
        self._plain_context: EvalContext | None = None

    # ------------------------------------------------------------ values
    def set_instance(
        self, addr: ResourceAddr, key: InstanceKey, value: Any, sensitive: Iterable[str] = ()
    ) -> None:
        """Record an instance's value; the values at the ``sensitive`` paths are marked."""
        self.instances.setdefault(addr, {})[key] = mark_paths(value, sensitive)

    def expanded(self, addr: ResourceAddr) -> None:
        """The resource's instance keys are known: with none (``count = 0``) its value is an
        empty list or map, so ``r[0]`` is an invalid index at plan time, not unknown."""
        self.instances.setdefault(addr, {})

    def drop_instance(self, addr: ResourceAddr, key: InstanceKey) -> None:
        self.instances.get(addr, {}).pop(key, None)

    def resource_value(self, addr: ResourceAddr) -> Any:
        res = self.config.resources.get(addr)
        if res is None:
            raise KeyError(addr)
        inst = self.instances.get(addr)
        if inst is None:
            return UNKNOWN
        if res.count is not None:
            return [inst[k] for k in sorted(k for k in inst if isinstance(k, int))]
        if res.for_each is not None:
            return {k: inst[k] for k in sorted(k for k in inst if isinstance(k, str))}
        return inst.get(None, UNKNOWN)

    def local(self, name: str) -> Any:
        with self._locals_lock:
            return self._local(name)

    def _local(self, name: str) -> Any:
        cached = self._locals.get(name)
        if cached is _BUSY:
            local = self.config.locals[name]
            raise EvalError(
                f'Local value "{name}" refers to itself',
                f"{local.range}: break the cycle between local values",
                local.range,
            )
        if name in self._locals:
            return cached
        local = self.config.locals.get(name)
        if local is None:
            raise KeyError(name)
        self._locals[name] = _BUSY
        try:
            value, marked = evaluate_marked(local.expr, self.context())
        except BaseException:
            del self._locals[name]
            raise
        self._locals[name] = mark(value) if marked else value
        return self._locals[name]

    def forget_locals(self) -> None:
        self._locals.clear()

    def context(self, count_index: Any = None, each: tuple[Any, Any] | None = None) -> EvalContext:
        """The context to evaluate in; the one without ``count``/``each`` is made once (a
        context is read, never changed, and looks values up in this evaluator)."""
        if count_index is None and each is None:
            if self._plain_context is None:
                self._plain_context = self._context(None, None)
            return self._plain_context
        return self._context(count_index, each)

    def _context(self, count_index: Any, each: tuple[Any, Any] | None) -> EvalContext:
        return EvalContext(
            variables=self._marked_vars,
            locals=self.local,
            resources=self.resource_value,
            count_index=count_index,
            each_key=each[0] if each else None,
            each_value=each[1] if each else None,
            has_each=each is not None,
            path_module=".",
            path_cwd=str(self.working_dir),
            workspace=self.config.workspace,
            planning=self.planning,
            plan_time=self.plan_time,
        )

    def instance_context(self, resource: Any, key: InstanceKey, each_value: Any) -> EvalContext:
        if resource.count is not None:
            return self.context(count_index=key)
        if resource.for_each is not None:
            return self.context(each=(key, each_value))
        return self.context()

    # ------------------------------------------------------------ expansion
    def expand(
        self, resource: Any, *, unknown_ok: bool = False
    ) -> tuple[list[tuple[InstanceKey, Any]] | None, Diagnostics]:
        """Instance keys (with each.value) of a resource; None when they cannot be known
        (an error unless ``unknown_ok``: ``validate`` judges only a count it can know)."""
        diags = Diagnostics()
        if resource.count is None and resource.for_each is None:
            return [(None, None)], diags
        addr = str(resource.addr)
        if resource.count is not None:
            try:
                n = evaluate(resource.count, self.context())
            except EvalError as err:
                diags.append(eval_error(err, addr))
                return None, diags
            if n is UNKNOWN:
                if not unknown_ok:
                    diags.append(_unknown_repetition("count", resource))
                return None, diags
            if isinstance(n, str):
                try:
                    n = convert(n, parse_type("number"))
                except ValueError:
                    pass
            if isinstance(n, float) and n.is_integer():
                n = int(n)
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                diags.append(
                    error(
                        "Invalid count argument",
                        f"{resource.count.range}: count of {addr} must be a whole number "
                        f"of 0 or more, not {n!r}",
                        resource.count.range,
                        address=addr,
                    )
                )
                return None, diags
            return [(i, None) for i in range(n)], diags
        if resource.for_each is not None:
            try:
                value, marked = evaluate_marked(resource.for_each, self.context())
            except EvalError as err:
                diags.append(eval_error(err, addr))
                return None, diags
            rng = resource.for_each.range
            if marked:
                diags.append(
                    error(
                        "Invalid for_each argument",
                        f"{rng}: the for_each of {addr} is sensitive (computed from a "
                        "sensitive value), and instance keys are shown in every address. "
                        "Iterate over values that are not secret, or wrap the value in "
                        "nonsensitive() if its keys may be shown",
                        rng,
                        address=addr,
                    )
                )
                return None, diags
            if value is UNKNOWN or (isinstance(value, list) and not is_wholly_known(value)):
                if not unknown_ok:
                    diags.append(_unknown_repetition("for_each", resource))
                return None, diags
            if isinstance(value, dict):
                return [(str(k), value[k]) for k in sorted(value)], diags
            if is_set(value) and all(isinstance(v, str) for v in value):
                return [(v, v) for v in sorted(set(value))], diags
            diags.append(
                error(
                    "Invalid for_each argument",
                    f"{rng}: {for_each_problem(value)}",
                    rng,
                    address=addr,
                )
            )
            return None, diags

    # ------------------------------------------------------------ bodies
    def eval_body(
        self,
        body: Body,
        schema: Schema | None,
        ctx: EvalContext,
        address: str,
        marked: set[str] | None = None,
        scope: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any], dict[str, SourceRange], Diagnostics]:
        """Evaluate a body (nested blocks included, dynamic ones expanded) to values and
        per-attribute ranges.

        ``marked`` gets the names of the attributes and blocks whose value is sensitive;
        ``scope``: the iterators of the dynamic blocks around the body.
        """
        values: dict[str, Any] = {}
        ranges: dict[str, SourceRange] = {}
        diags = Diagnostics()
        marked = set() if marked is None else marked
        for name, attr in body.attributes.items():
            ranges[name] = attr.range
            try:
                values[name], sensitive = evaluate_marked(attr.expr, ctx, scope)
            except EvalError as err:
                diags.append(eval_error(err, address))
                values[name], sensitive = UNKNOWN, False
            if sensitive:
                marked.add(name)
        unknown: set[str] = set()  # block types a dynamic block made UNKNOWN
        made: dict[str, list[tuple[DynamicBlock, int]]] = {}
        for block in body.blocks:
            spec = schema.attributes.get(block.type) if schema else None
            sub_schema = spec.block if spec is not None else None
            ranges.setdefault(block.type, block.range)
            if isinstance(block, DynamicBlock):
                items, sub = iterations(block, ctx, scope or {}, address)
                diags.extend(sub)
                if items is None:
                    unknown.add(block.type)
                    continue
                made.setdefault(block.type, []).append((block, len(items)))
                bodies = [(block.content, {**(scope or {}), block.iterator: it}) for it in items]
            else:
                bodies = [(block.body, scope)]
            for inner_body, inner_scope in bodies:
                inner_marked: set[str] = set()
                inner, _, sub = self.eval_body(
                    inner_body, sub_schema, ctx, address, inner_marked, inner_scope
                )
                if inner_marked:
                    marked.add(block.type)
                diags.extend(sub)
                if spec is not None and spec.nesting == "list":
                    values.setdefault(block.type, []).append(inner)
                else:
                    values[block.type] = inner
        for kind in unknown:
            values[kind] = UNKNOWN  # as in Terraform: the whole list of blocks is unknown
        for kind, dyns in made.items():
            spec = schema.attributes.get(kind) if schema else None
            if spec is None or kind in unknown:
                continue
            count = sum(n for _, n in dyns)
            written = sum(1 for b in body.blocks if isinstance(b, Block) and b.type == kind)
            diags.extend(count_problems(kind, spec, count, written, dyns[-1][0].range, address))
        return values, ranges, diags

    def eval_expr(self, expr: Expr, address: str | None = None) -> tuple[Any, bool, Diagnostics]:
        """An expression's value, whether it is sensitive, and the diagnostics."""
        try:
            value, marked = evaluate_marked(expr, self.context())
            return value, marked, Diagnostics()
        except EvalError as err:
            return UNKNOWN, False, Diagnostics([eval_error(err, address)])


def _unknown_repetition(kind: str, resource: Any) -> Any:
    expr = resource.count if kind == "count" else resource.for_each
    return error(
        f"Invalid {kind} argument",
        f"{expr.range}: the {kind} of {resource.addr} depends on values known only after "
        f"apply, so bcdr cannot tell how many instances to plan. Apply the resources it "
        f"depends on first with -target, or use values known at plan time",
        expr.range,
        address=str(resource.addr),
    )


def configure_providers(
    config: Config, registry: Registry, variables: dict[str, Any], working_dir: Path
) -> Diagnostics:
    """Evaluate each provider block and hand it to its provider (``ProviderContext``): the
    default instance of each installed provider, and an instance per ``alias``."""
    diags = Diagnostics()
    ev = Evaluator(config, variables, working_dir)
    targets: list[tuple[str, Any, Any]] = []  # (address, provider, block or None)
    for address, block in config.providers.items():
        if block.name not in registry.providers:
            diags.append(
                error(
                    f'Unknown provider "{block.name}"',
                    f"{block.range}: no installed provider is named {block.name}; installed: "
                    f"{', '.join(sorted(registry.providers)) or 'none'}",
                    block.range,
                )
            )
        elif block.alias:
            aliased = registry.aliased(block.name, block.alias)
            if aliased is None:
                diags.append(
                    error(
                        f'Provider "{block.name}" cannot be configured twice',
                        f"{block.range}: this installation of {block.name} makes no second "
                        "instance; drop the alias block",
                        block.range,
                    )
                )
            else:
                targets.append((address, aliased, block))
    for name, provider in registry.providers.items():
        targets.append((name, provider, config.providers.get(name)))
    for address, provider, block in targets:
        values: dict[str, Any] = {}
        rng = None
        if block is not None:
            rng = block.range
            values, _, sub = ev.eval_body(block.body, None, ev.context(), f"provider.{address}")
            diags.extend(sub)
        ctx = ProviderContext(
            working_dir=working_dir,
            data_dir=working_dir / ".bcdr",
            config=values,
            config_range=rng,
        )
        diags.extend(provider.configure(ctx))
    return diags


def for_each_problem(value: Any) -> str:
    """Why a known ``for_each`` value that is neither a map nor a set of strings is
    refused, in Terraform's words, with the fix for a list (``toset``)."""
    if value is None:
        return 'The given "for_each" argument value is null. A map, or set of strings is allowed.'
    if is_set(value):
        kinds = {type_name(v) for v in value}
        given = f"set of {kinds.pop() if len(kinds) == 1 else 'dynamic'}"
    else:
        given = "tuple" if isinstance(value, list) else type_name(value)
    fix = (
        " Convert a list of strings to a set with toset(...), e.g. for_each = toset(var.names)."
        if isinstance(value, list)
        else ""
    )
    return (
        'The given "for_each" argument value is unsuitable: the "for_each" argument must be a '
        f"map, or set of strings, and you have provided a value of type {given}.{fix}"
    )
