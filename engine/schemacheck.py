"""Generic checks of resource bodies against their provider's ``Schema``, and of a config.

``static_checks`` checks a whole configuration without evaluating it: resource types,
schemas, references to variables, locals and resources (and to attributes a type does not
have), function names and argument counts, lifecycle, cycles. What depends on the
configuration alone is made once per command by ``check_config`` (a ``ConfigChecks``, which
the command hands to ``validate`` and ``make_plan``); only the orphans of the state and the
cycles are looked at again with the state's records. For one body there are two
passes: ``check_body`` looks at the body as written (unknown attributes and blocks with the
closest valid name, computed-only attributes set, missing required ones, misused nested
blocks, a dynamic block of a type the schema has not, its content checked as the block it
makes); ``check_values`` looks at the evaluated values (types, with Terraform's
conversions but no bool for a string, the allowed values with the closest one, and the
attribute validators). Always holds: every finding is a diagnostic
with file:line and what to do; ``UNKNOWN`` values are never judged (they are checked again
at apply, when known); nothing here knows a particular resource type.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from engine.configmodel import DynamicBlock
from engine.expr import references
from engine.exprnodes import Expr
from engine.exprops import FunctionCall
from engine.exprrefs import GetAttr, Index, Name, Splat, SplatItem
from engine.functions import call_problem
from engine.graph import (
    Graph,
    body_exprs,
    cycle_diagnostics,
    reference_graph,
    resource_references,
)
from engine.providerconfig import check_references
from engine.typeconv import TypeConstraint, convert, parse_type
from sdk.addrs import ResourceAddr
from sdk.diagnostics import Diagnostic, Diagnostics, SourceRange, error
from sdk.values import UNKNOWN, is_wholly_known

if TYPE_CHECKING:
    from engine.configmodel import Body, Config
    from engine.registry import Registry
    from sdk import Schema


def suggest(name: str, choices: list[str]) -> str:
    """' Did you mean "x"?' for the closest choice, or ''."""
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f' Did you mean "{close[0]}"?' if close else ""


META_ARGUMENTS = ("count", "for_each", "depends_on")
META_BLOCKS = ("lifecycle",)


def check_body(
    schema: Schema, body: Body, address: str, where: SourceRange | None, *, meta: bool = False
) -> Diagnostics:
    """Static checks of a body as written (no evaluation). ``meta``: a resource's own body,
    where a misspelt meta-argument or ``lifecycle`` block gets its did-you-mean too."""
    diags = Diagnostics()
    attrs = schema.attributes
    for name, attr in body.attributes.items():
        spec = attrs.get(name)
        if spec is None:
            settable = _settable(attrs)
            meta_args = list(META_ARGUMENTS) if meta else []
            diags.append(
                error(
                    f'Unsupported argument "{name}"',
                    f"{attr.range}: {address} has no argument named {name}."
                    f"{suggest(name, settable + meta_args)} Valid arguments: {', '.join(settable)}",
                    attr.range,
                    address=address,
                )
            )
        elif spec.computed and not (spec.required or spec.optional):
            diags.append(
                error(
                    f'Cannot set computed attribute "{name}"',
                    f"{attr.range}: {address}.{name} is set by the provider after apply; "
                    "remove the line and refer to it from elsewhere instead",
                    attr.range,
                    address=address,
                )
            )
    seen_blocks: dict[str, int] = {}  # dynamic ones too: one may make a required block
    written: dict[str, int] = {}  # how many a dynamic block makes is known when evaluated
    for block in body.blocks:
        dynamic = isinstance(block, DynamicBlock)
        spec = attrs.get(block.type)
        if spec is None or spec.block is None:
            blocks = sorted(n for n, a in attrs.items() if a.block is not None)
            settable, meta_blocks = _settable(attrs), list(META_BLOCKS) if meta else []
            if dynamic:  # a meta block is refused when decoded: it is not one to offer
                meta_blocks = []
            made = "a dynamic block cannot make one" if dynamic else ""
            diags.append(
                error(
                    f'Unsupported block type "{block.type}"',
                    f"{block.range}: {address} has no block named {block.type}"
                    + (f", so {made}." if made else ".")
                    + f"{suggest(block.type, blocks + meta_blocks + settable)}"
                    + (
                        f" Valid blocks: {', '.join(blocks + meta_blocks)}"
                        if blocks + meta_blocks
                        else ""
                    ),
                    block.range,
                    address=address,
                )
            )
            continue
        labelled = block.labels is not None if dynamic else bool(block.labels)
        if labelled:
            what = "dynamic block label" if dynamic else f"label for {block.type}"
            diags.append(
                error(
                    f"Extraneous {what}",
                    f"{block.range}: blocks of type {block.type} take no labels; "
                    + ("remove labels = [...]" if dynamic else f"write {block.type} {{ ... }}"),
                    block.range,
                    address=address,
                )
            )
        seen_blocks[block.type] = seen_blocks.get(block.type, 0) + 1
        if not dynamic:
            written[block.type] = written.get(block.type, 0) + 1
            if spec.nesting != "list" and written[block.type] == 2:
                diags.append(
                    error(
                        f'Too many "{block.type}" blocks',
                        f"{block.range}: {address} takes at most one {block.type} block; "
                        "merge them into one",
                        block.range,
                        address=address,
                    )
                )
        inner = block.content if dynamic else block.body
        diags.extend(check_body(spec.block, inner, f"{address}.{block.type}", block.range))
    for name, spec in attrs.items():
        if spec.required and name not in body.attributes and name not in seen_blocks:
            desc = f" ({spec.description})" if spec.description else ""
            if spec.block is not None:
                summary = f'Missing required block "{name}"'
                todo = f"add a {name} {{ ... }} block"
            else:
                summary = f'Missing required argument "{name}"'
                todo = f"add {name} = ... to the block"
            diags.append(
                error(
                    summary,
                    f"{where}: {address} must set {name}{desc}; {todo}",
                    where,
                    address=address,
                )
            )
    return diags


def _settable(attrs: dict[str, Any]) -> list[str]:
    """The arguments a body may set, sorted (for the did-you-mean of a wrong one)."""
    return sorted(n for n, a in attrs.items() if a.required or a.optional)


@lru_cache(maxsize=256)
def _type(text: str) -> TypeConstraint:
    return parse_type(text)


def check_values(
    schema: Schema,
    values: dict[str, Any],
    ranges: dict[str, SourceRange],
    address: str,
    where: SourceRange | None,
) -> tuple[dict[str, Any], Diagnostics]:
    """Convert values to their declared types and run validators; returns converted values."""
    diags = Diagnostics()
    out: dict[str, Any] = {}
    for name, value in values.items():
        spec = schema.attributes.get(name)
        rng = ranges.get(name, where)
        if spec is None:
            out[name] = value
            continue
        if value is None and spec.required:
            diags.append(
                error(
                    f'Required argument "{name}" is null',
                    f"{rng}: {address}.{name} must have a value",
                    rng,
                    address=address,
                )
            )
        if spec.block is not None:
            out[name] = _check_block(spec, value, ranges, f"{address}.{name}", rng, diags)
            continue
        if isinstance(value, bool) and spec.type == "string":
            # Terraform would convert true to "true"; no string argument means a bool, so a
            # bool here is a mistake the user should see as one (`location = true`)
            diags.append(
                error(
                    f'Incorrect attribute value type for "{name}"',
                    f"{rng}: {address}.{name} must be a string, not a bool; "
                    f'write it in quotes: {name} = "..."',
                    rng,
                    address=address,
                )
            )
            out[name] = value
            continue
        try:
            out[name] = convert(value, _type(spec.type))
        except ValueError as err:
            diags.append(
                error(
                    f'Invalid value for "{name}"',
                    f"{rng}: {address}.{name} must be {spec.type}: {err}",
                    rng,
                    address=address,
                )
            )
            out[name] = value
            continue
        if spec.allowed:
            items = out[name] if isinstance(out[name], list) else [out[name]]
            problem = next(
                (p for v in items if isinstance(v, str) and (p := _not_allowed(spec, v))), None
            )
            if problem:
                diags.append(_invalid_value(name, problem, rng, address))
                continue
        if (
            spec.validators
            and value is not None
            and value is not UNKNOWN
            and is_wholly_known(out[name])
        ):
            for validator in spec.validators:
                problem = validator(out[name])
                if problem:
                    diags.append(_invalid_value(name, problem, rng, address))
    return out, diags


def _not_allowed(spec: Any, value: str) -> str | None:
    """Why ``value`` is not one of ``spec.allowed`` (with the closest one), or None."""
    norm = spec.normalize or (lambda v: v)
    choices = {norm(a): a for a in spec.allowed}
    if norm(value) in choices:
        return None
    close = difflib.get_close_matches(norm(value), list(choices), n=1, cutoff=0.6)
    hint = f' Did you mean "{choices[close[0]]}"?' if close else ""
    return f'"{value}" is not an allowed value.{hint} Use one of: {", ".join(spec.allowed)}'


def _check_block(
    spec: Any,
    value: Any,
    ranges: dict[str, SourceRange],
    address: str,
    rng: SourceRange | None,
    diags: Diagnostics,
) -> Any:
    if value is None or value is UNKNOWN:
        return value
    if spec.nesting == "list":
        if not isinstance(value, list):
            value = [value]
        items = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                diags.append(error(f"{address}[{i}] must be a block", "", rng, address=address))
                items.append(item)
                continue
            conv, sub = check_values(spec.block, item, {}, f"{address}[{i}]", rng)
            diags.extend(sub)
            items.append(conv)
        return items
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, dict):
        diags.append(error(f"{address} must be a block", "write it as a { ... } block", rng))
        return value
    conv, sub = check_values(spec.block, value, {}, address, rng)
    diags.extend(sub)
    return conv


# ------------------------------------------------------------------ whole configuration


@dataclass(frozen=True)
class ConfigChecks:
    """What the static checks found in one configuration against one registry's schemas,
    and its reference graph: made once per command (``check_config``) and handed to
    ``validate`` and then ``make_plan``, which check the same configuration."""

    config: Config
    registry: Registry
    findings: tuple[Diagnostic, ...]
    """Types, attribute names, references, function calls, lifecycle, in the order found."""
    graph: Graph
    """The configuration's resources and reference edges (no orphans)."""
    graph_findings: tuple[Diagnostic, ...]
    """References to undeclared resources found building ``graph``."""


def check_config(config: Config, registry: Registry) -> ConfigChecks:
    """The checks of the configuration alone (see ``ConfigChecks``)."""
    graph, refs = reference_graph(config)
    return ConfigChecks(
        config, registry, tuple(_config_checks(config, registry)), graph, tuple(refs)
    )


def static_checks(checks: ConfigChecks, records: list[Any]) -> tuple[Graph, Diagnostics]:
    """Types, attribute names, references, lifecycle, cycles: all without evaluation.

    The graph is the configuration's with the orphans of ``records`` (the state's) added,
    and the cycles are looked for in it."""
    graph = checks.graph.with_orphans(records)
    diags = Diagnostics([*checks.findings, *checks.graph_findings])
    diags.extend(cycle_diagnostics(graph, checks.config))
    return graph, diags


def _config_checks(config: Config, registry: Registry) -> Diagnostics:
    """What ``static_checks`` finds in the configuration alone, in the order it finds it."""
    diags = Diagnostics()
    known = registry.types()
    for addr, res in config.resources.items():
        schema = registry.schema(addr.type)
        if schema is None:
            diags.append(
                error(
                    f'Unknown resource type "{addr.type}"',
                    f"{res.range}: no installed provider serves {addr.type}."
                    f"{suggest(addr.type, known)} `bcdr init` lists the installed types.",
                    res.range,
                    address=str(addr),
                )
            )
            continue
        where = str(addr)
        diags.extend(check_body(schema, res.body, where, res.range, meta=True))
        ignore = res.lifecycle.ignore_changes
        if isinstance(ignore, list):
            for name in ignore:
                root = str(name).split(".")[0].split("[")[0]
                if root not in schema.attributes:
                    rng = res.lifecycle.range or res.range
                    diags.append(
                        error(
                            f'ignore_changes names unknown attribute "{name}"',
                            f"{rng}: {addr.type} has no attribute {root}."
                            f"{suggest(root, sorted(schema.attributes))}",
                            rng,
                            address=where,
                        )
                    )
        diags.extend(_check_refs(config, resource_references(res), where))
        diags.extend(_judge_sites(config, registry, check_sites(res), where))
    for prov in config.providers.values():
        where = f"provider.{prov.address}"
        diags.extend(_check_exprs(config, registry, body_exprs(prov.body), where))
    diags.extend(check_references(config, registry))
    for var in config.variables.values():
        for rule in var.validations:
            exprs = [rule.condition, rule.error_message]
            diags.extend(_check_exprs(config, registry, exprs, f"var.{var.name}"))
    for local in config.locals.values():
        diags.extend(_check_refs(config, references(local.expr), f"local.{local.name}"))
        diags.extend(_check_exprs(config, registry, [local.expr], f"local.{local.name}"))
    for out in config.outputs.values():
        exprs = [out.expr, *condition_exprs(out.preconditions)]
        refs = [r for e in exprs for r in references(e)]
        diags.extend(_check_refs(config, refs, f"output.{out.name}", True))
        diags.extend(_check_exprs(config, registry, exprs, f"output.{out.name}"))
        for dep, rng in out.depends_on:
            if dep not in config.resources:
                diags.append(_undeclared_resource(dep, rng, f"output.{out.name}"))
    for check in config.checks.values():
        exprs = condition_exprs(check.asserts)
        refs = [r for e in exprs for r in references(e)]
        diags.extend(_check_refs(config, refs, f"check.{check.name}", True))
        diags.extend(_check_exprs(config, registry, exprs, f"check.{check.name}"))
    return diags


def condition_exprs(conditions: list[Any]) -> list[Expr]:
    """The condition and error_message expressions of ``conditions``."""
    return [e for c in conditions for e in (c.condition, c.error_message)]


def _check_exprs(config: Config, registry: Registry, exprs: list[Expr], where: str) -> Diagnostics:
    """Without evaluating: calls of unknown functions or with the wrong number of arguments,
    and references to attributes a resource type does not have."""
    return _judge_sites(config, registry, _sites(exprs), where)


def check_sites(resource: Any) -> list[Expr]:
    """The nodes of a resource block the static checks judge (``Resource.check_sites``, made
    when the file is decoded; else made now and kept on it)."""
    cached = resource.check_sites
    if cached is None:
        exprs = body_exprs(resource.body)
        exprs.extend(e for e in (resource.count, resource.for_each) if e is not None)
        exprs.extend(resource.lifecycle.exprs())
        cached = resource.check_sites = _sites(exprs)
    return cached


def _sites(exprs: list[Expr]) -> list[Expr]:
    """Function calls and ``TYPE.NAME[...].ATTR`` traversals, every node visited depth
    first in source order: what ``_judge_sites`` looks at, found without any schema."""
    out: list[Expr] = []
    stack = list(reversed(exprs))
    while stack:
        node = stack.pop()
        stack.extend(reversed(node.children()))
        if isinstance(node, FunctionCall):
            out.append(node)
            continue
        if isinstance(node, GetAttr):
            if isinstance(node.obj, Name):
                continue  # a root (var.x, TYPE.NAME): no attribute of a resource
        elif not isinstance(node, Splat):
            continue
        target = _attribute_target(node)
        if target is not None and isinstance(target[1], GetAttr):
            if isinstance(target[1].obj, Name):
                out.append(node)
    return out


def _judge_sites(config: Config, registry: Registry, sites: list[Expr], where: str) -> Diagnostics:
    diags = Diagnostics()
    for node in sites:
        if isinstance(node, FunctionCall):
            problem = call_problem(node.name, None if node.expand else len(node.args))
            if problem is not None:
                diags.append(error(*problem, node.range, address=where))
            continue
        target = _attribute_target(node)
        if target is not None:
            found = _check_attr_ref(config, registry, *target, where)
            if found is not None:
                diags.append(found)
    return diags


def _attribute_target(node: Expr) -> tuple[GetAttr, Expr, bool | None] | None:
    """For ``TYPE.NAME.ATTR``, ``TYPE.NAME[KEY].ATTR`` and ``TYPE.NAME[*].ATTR``: the node
    naming ATTR, the ``TYPE.NAME`` node, and whether it was indexed (None: a splat)."""
    if isinstance(node, Splat):
        step = node.each
        while isinstance(step, GetAttr | Index) and not isinstance(step.obj, SplatItem):
            step = step.obj
        if isinstance(step, GetAttr) and isinstance(step.obj, SplatItem):
            return step, node.source, None
        return None
    if not isinstance(node, GetAttr):
        return None
    if isinstance(node.obj, Index):
        return node, node.obj.obj, True
    return node, node.obj, False


def _check_attr_ref(
    config: Config,
    registry: Registry,
    node: GetAttr,
    inner: Expr,
    indexed: bool | None,
    where: str,
) -> Diagnostic | None:
    """ATTR must be in the type's schema (arguments, blocks and computed attributes alike)."""
    if not (isinstance(inner, GetAttr) and isinstance(inner.obj, Name)):
        return None
    addr = ResourceAddr(inner.obj.name, inner.name)
    res = config.resources.get(addr)
    schema = registry.schema(addr.type) if res is not None else None
    if schema is None or node.name in schema.attributes:
        return None
    repeated = res.count is not None or res.for_each is not None
    if indexed is not None and indexed != repeated:
        return None  # r.key of a for_each resource is a key, not an attribute
    step = {True: "[...]", False: "", None: "[*]"}[indexed]
    return error(
        "Unsupported attribute",
        f"{node.range}: {where} refers to {addr}{step}.{node.name}, "
        f"but {addr.type} has no attribute named {node.name}."
        f"{suggest(node.name, sorted(schema.attributes))}",
        node.range,
        address=where,
    )


def _undeclared_resource(dep: ResourceAddr, rng: Any, where: str) -> Any:
    return error(
        f'Reference to undeclared resource "{dep}"',
        f'{rng}: {where} refers to {dep}; declare it with resource "{dep.type}" '
        f'"{dep.name}" {{ ... }} or fix the reference',
        rng,
    )


def _check_refs(config: Config, refs: Iterable[Any], where: str, resources: bool = False):
    diags = Diagnostics()
    for ref in refs:
        if ref.kind == "var" and ref.subject not in config.variables:
            declared = sorted(config.variables)
            diags.append(
                error(
                    f'Reference to undeclared input variable "{ref.subject}"',
                    f"{ref.range}: {where} uses var.{ref.subject}.{suggest(ref.subject, declared)}"
                    f' Declare it with variable "{ref.subject}" {{}} or fix the name',
                    ref.range,
                )
            )
        elif ref.kind == "local" and ref.subject not in config.locals:
            declared = sorted(config.locals)
            diags.append(
                error(
                    f'Reference to undeclared local value "{ref.subject}"',
                    f"{ref.range}: {where} uses local.{ref.subject}."
                    f"{suggest(ref.subject, declared)} Declare it in a locals {{}} block",
                    ref.range,
                )
            )
        elif resources and ref.kind == "resource" and ref.subject not in config.resources:
            diags.append(_undeclared_resource(ref.subject, ref.range, where))
    return diags


def keep_ignored(lifecycle: Any, schema: Any, values: dict[str, Any], prior: Any) -> None:
    """lifecycle.ignore_changes: keep the prior value of those arguments (in place)."""
    ignore = lifecycle.ignore_changes
    if prior is None or not ignore:
        return
    names = (
        [n for n, a in schema.attributes.items() if a.required or a.optional]
        if ignore == "all"
        else [str(n).split(".")[0].split("[")[0] for n in ignore]
    )
    for name in names:
        values[name] = prior.get(name)


def _invalid_value(name: str, problem: str, rng: SourceRange | None, address: str) -> Diagnostic:
    return error(
        f'Invalid value for "{name}"', f"{rng}: {address}.{name}: {problem}", rng, address=address
    )
