"""Body → declarations: the top-level blocks of one spec file decoded into ``FileParts``.

``decode_file`` parses a file's text (``engine/hcltree.py``) and checks each block:
resource (count, for_each, depends_on, lifecycle, its ``dynamic`` blocks through
``engine/dynamic.py``), variable (type, default, validation), locals, output, provider,
check (``engine/checks.py``), moved and removed (``engine/refactor.py``), import
(``engine/importblocks.py``) and the ``bcdr`` settings block (``engine/configsettings.py``);
conditions and ``replace_triggered_by`` are decoded by ``engine/conditions.py`` and
``engine/triggers.py``.
Always holds: every mistake is a diagnostic with file:line
and what to do, all of them collected (never an exception, never only the first);
a value that must be a literal is checked without evaluating any reference.
"""

from __future__ import annotations

import re
from typing import Any

from engine.checks import decode_check
from engine.conditions import decode_conditions
from engine.configmodel import (
    NOTSET,
    Block,
    Body,
    BodyAttribute,
    FileParts,
    Lifecycle,
    Local,
    Output,
    Resource,
    Validation,
    Variable,
)
from engine.configsettings import decode_settings
from engine.dynamic import decode_dynamic_blocks
from engine.expr import static_value, type_from_expr
from engine.exprnodes import EvalError, Expr, Literal, TupleExpr
from engine.exprrefs import GetAttr, Index, Name
from engine.graph import resource_references
from engine.importblocks import decode_import
from engine.providerconfig import decode_provider, decode_reference
from engine.refactor import decode_moved, decode_removed
from engine.schemacheck import META_BLOCKS, check_sites, suggest
from engine.triggers import decode_triggers
from engine.typeconv import TypeConstraint, convert
from sdk.addrs import ResourceAddr
from sdk.diagnostics import Diagnostic, SourceRange, error

_LABELS = {
    "provider": 1,
    "variable": 1,
    "locals": 0,
    "resource": 2,
    "output": 1,
    "check": 1,
    "moved": 0,
    "removed": 0,
    "import": 0,
    "bcdr": 0,
}
#: the blocks decoded by their own module: the decoder and the ``FileParts`` list it fills
_DECODERS = {
    "check": (decode_check, "checks"),
    "moved": (decode_moved, "moved"),
    "removed": (decode_removed, "removed"),
    "import": (decode_import, "imports"),
}
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# the lifecycle of every resource without a lifecycle block: one object (it is only read),
# so the parse cache holds it once a file
_NO_LIFECYCLE = Lifecycle()


def decode_file(text: str, filename: str) -> FileParts:
    from engine.hcltree import parse_body  # the parser, only when a file is not in the cache

    parts = FileParts()
    body, diags = parse_body(text, filename)
    parts.diagnostics.extend(diags)
    if body is None:
        parts.parsed = False
        return parts
    d = parts.diagnostics
    for attr in body.attributes.values():
        d.append(
            error(
                f'Unexpected argument "{attr.name}" at the top level',
                "a spec file holds blocks (resource, variable, locals, output, provider, "
                "check, moved, removed, import, bcdr); "
                "variable values belong in a *.auto.hcl file",
                attr.range,
            )
        )
    for block in body.blocks:
        want = _LABELS.get(block.type)
        if want is None:
            d.append(
                error(
                    f'Unknown block type "{block.type}"',
                    f"{suggest(block.type, list(_LABELS))} The top-level blocks are: ".lstrip()
                    + ", ".join(_LABELS),
                    block.range,
                )
            )
            continue
        if len(block.labels) != want:
            usage = {
                "provider": 'provider "NAME" { ... }',
                "variable": 'variable "NAME" { ... }',
                "locals": "locals { NAME = VALUE }",
                "resource": 'resource "TYPE" "NAME" { ... }',
                "output": 'output "NAME" { value = ... }',
                "check": 'check "NAME" { assert { ... } }',
                "moved": "moved { from = TYPE.OLD  to = TYPE.NEW }",
                "removed": "removed { from = TYPE.NAME  lifecycle { destroy = false } }",
                "import": 'import { to = TYPE.NAME  id = "ID" }',
                "bcdr": 'bcdr { backend "TYPE" { ... } }',
            }[block.type]
            problem = error(
                f"A {block.type} block needs {want} label{'s' if want != 1 else ''}, "
                f"found {len(block.labels)}",
                f"write {usage}",
                block.range,
            )
            d.append(problem)
            if block.type == "bcdr":
                parts.settings_problems.append(problem)
            continue
        bad = [lbl for lbl in block.labels if not _NAME_RE.match(lbl)]
        if bad:
            d.append(
                error(
                    f'Invalid name "{bad[0]}" in a {block.type} block',
                    "a name starts with a letter or _ and holds letters, digits, _ and -",
                    block.range,
                )
            )
            continue
        if block.type == "resource":
            parts.resources.append(_decode_resource(block, d))
        elif block.type == "variable":
            var = _decode_variable(block, d)
            if var is not None:
                parts.variables.append(var)
        elif block.type == "locals":
            for nested in block.body.blocks:
                d.append(error("A locals block holds only NAME = VALUE", "", nested.range))
            for attr in block.body.attributes.values():
                parts.locals.append(Local(attr.name, attr.expr, attr.range))
        elif block.type == "output":
            out = _decode_output(block, d)
            if out is not None:
                parts.outputs.append(out)
        elif block.type in _DECODERS:
            decode, field_name = _DECODERS[block.type]
            decoded = decode(block, d)
            if decoded is not None:
                getattr(parts, field_name).append(decoded)
        elif block.type == "bcdr":
            problems: list[Diagnostic] = []
            parts.backends.extend(decode_settings(block, problems))
            parts.settings_problems.extend(problems)
            d.extend(problems)
        else:
            parts.providers.append(decode_provider(block, d))
    return parts


def _static(attr: BodyAttribute, d: list[Diagnostic], what: str) -> Any:
    try:
        return static_value(attr.expr)
    except EvalError as err:
        d.append(error(what, f"{err.summary}: {err.detail}", err.range or attr.range))
        return NOTSET


def _static_of(
    attr: BodyAttribute, kind: type, d: list[Diagnostic], what: str, default: Any
) -> Any:
    value = _static(attr, d, what)
    if value is NOTSET:
        return default
    if not isinstance(value, kind):
        d.append(
            error(
                f'"{attr.name}" must be a {kind.__name__.replace("str", "string")}',
                f"{what}; found {value!r}",
                attr.range,
            )
        )
        return default
    return value


def _unexpected(body: Body, allowed: set[str], where: str, d: list[Diagnostic]) -> None:
    for name, attr in body.attributes.items():
        if name not in allowed:
            d.append(
                error(
                    f'Unsupported argument "{name}" in {where}',
                    f"{suggest(name, sorted(allowed))} Allowed here: ".lstrip()
                    + ", ".join(sorted(allowed)),
                    attr.range,
                )
            )


def _depends_on(attr: BodyAttribute, d: list[Diagnostic]) -> list[tuple[ResourceAddr, Any]]:
    out: list[tuple[ResourceAddr, SourceRange]] = []
    expr = attr.expr
    if not isinstance(expr, TupleExpr):
        d.append(
            error(
                "depends_on must be a list of resource references",
                "write depends_on = [TYPE.NAME, ...]",
                attr.range,
            )
        )
        return out
    for item in expr.items:
        if (
            isinstance(item, GetAttr)
            and isinstance(item.obj, Name)
            and item.obj.name not in ("var", "local", "count", "each", "path", "self")
        ):
            out.append((ResourceAddr(item.obj.name, item.name), item.range))
        else:
            shown = _traversal_path(item)
            shown = f'"{shown}"' if isinstance(item, Literal) else shown or "this entry"
            d.append(
                error(
                    f"Invalid depends_on entry {shown}",
                    "each entry must be a resource reference TYPE.NAME, without quotes, "
                    "attributes or index",
                    item.range,
                )
            )
    return out


def _traversal_path(expr: Expr) -> str | None:
    if isinstance(expr, Name):
        return expr.name
    if isinstance(expr, GetAttr):
        base = _traversal_path(expr.obj)
        return None if base is None else f"{base}.{expr.name}"
    if isinstance(expr, Index) and isinstance(expr.key, Literal):
        base = _traversal_path(expr.obj)
        key = expr.key.value
        return None if base is None else f"{base}[{key!r}]".replace("'", '"')
    if isinstance(expr, Literal) and isinstance(expr.value, str):
        return expr.value
    return None


def _decode_lifecycle(block: Block, addr: ResourceAddr, d: list[Diagnostic]) -> Lifecycle:
    life = Lifecycle(range=block.range)
    body = block.body
    _unexpected(
        body,
        {"prevent_destroy", "create_before_destroy", "ignore_changes", "replace_triggered_by"},
        "a lifecycle block",
        d,
    )
    kinds = ("precondition", "postcondition")
    for nested in body.blocks:
        if nested.type not in kinds:
            detail = (
                "lifecycle is read before any expression is evaluated, so a dynamic block "
                "cannot make its parts; write its arguments as literals"
                if nested.type == "dynamic"
                else "a lifecycle block holds precondition and postcondition blocks"
            )
            d.append(error(f'Unexpected block "{nested.type}" in lifecycle', detail, nested.range))
    found = decode_conditions(body.blocks, kinds, str(addr), d)
    life.preconditions, life.postconditions = found["precondition"], found["postcondition"]
    if "replace_triggered_by" in body.attributes:
        triggers = body.attributes["replace_triggered_by"]
        life.replace_triggered_by = decode_triggers(triggers, str(addr), d)
    if "prevent_destroy" in body.attributes:
        life.prevent_destroy = _static_of(
            body.attributes["prevent_destroy"], bool, d, "lifecycle", False
        )
    if "create_before_destroy" in body.attributes:
        life.create_before_destroy = _static_of(
            body.attributes["create_before_destroy"], bool, d, "lifecycle", False
        )
    attr = body.attributes.get("ignore_changes")
    if attr is not None:
        expr = attr.expr
        if (
            isinstance(expr, Name)
            and expr.name == "all"
            or (isinstance(expr, Literal) and expr.value == "all")
        ):
            life.ignore_changes = "all"
        elif isinstance(expr, TupleExpr):
            paths = []
            for item in expr.items:
                path = _traversal_path(item)
                if path is None:
                    d.append(
                        error(
                            "Invalid ignore_changes entry",
                            "list attribute names, for example ignore_changes = [tags]",
                            item.range,
                        )
                    )
                else:
                    paths.append(path)
            life.ignore_changes = paths
        else:
            d.append(
                error(
                    "ignore_changes must be a list of attribute names or all",
                    "for example ignore_changes = [tags] or ignore_changes = all",
                    attr.range,
                )
            )
    return life


def _decode_resource(block: Block, d: list[Diagnostic]) -> Resource:
    addr = ResourceAddr(block.labels[0], block.labels[1])
    attrs = dict(block.body.attributes)
    count = attrs.pop("count", None)
    for_each = attrs.pop("for_each", None)
    dep = attrs.pop("depends_on", None)
    provider = attrs.pop("provider", None)
    if count is not None and for_each is not None:
        d.append(
            error(
                f'Resource "{addr}" sets both count and for_each',
                "use one of them: count for N copies, for_each for one per map key",
                for_each.range,
            )
        )
    lifecycle = _NO_LIFECYCLE
    blocks = []
    seen_life: Block | None = None
    for nested in block.body.blocks:
        if nested.type != "lifecycle":
            blocks.append(nested)
            continue
        if seen_life is not None:
            d.append(
                error(
                    f'Resource "{addr}" has more than one lifecycle block',
                    f"merge it into the one at {seen_life.range}",
                    nested.range,
                )
            )
            continue
        seen_life = nested
        lifecycle = _decode_lifecycle(nested, addr, d)
    body = decode_dynamic_blocks(Body(attrs, blocks, block.body.range), d, str(addr), META_BLOCKS)
    resource = Resource(
        addr=addr,
        body=body,
        count=count.expr if count else None,
        for_each=for_each.expr if for_each else None,
        depends_on=_depends_on(dep, d) if dep else [],
        lifecycle=lifecycle,
        range=block.range,
        provider=decode_reference(provider, d) if provider else None,
        provider_range=provider.range if provider else None,
    )
    resource_references(resource)  # made once here, kept by the parse cache
    check_sites(resource)
    return resource


def _decode_variable(block: Block, d: list[Diagnostic]) -> Variable | None:
    name = block.labels[0]
    body = block.body
    where = f'variable "{name}"'
    _unexpected(body, {"type", "default", "description", "sensitive", "nullable"}, where, d)
    type_: TypeConstraint | None = None
    if "type" in body.attributes:
        try:
            type_ = type_from_expr(body.attributes["type"].expr)
        except EvalError as err:
            d.append(error(f"{where}: {err.summary}", err.detail, err.range))
    default: Any = NOTSET
    if "default" in body.attributes:
        attr = body.attributes["default"]
        default = _static(attr, d, f"{where}: the default must be a literal value")
        if default is not NOTSET and type_ is not None:
            try:
                default = convert(default, type_)
            except ValueError as err:
                d.append(
                    error(
                        f"{where}: the default does not match type {type_}",
                        f"{err}; fix the default or the type",
                        attr.range,
                    )
                )
    desc = body.attributes.get("description")
    sens = body.attributes.get("sensitive")
    null = body.attributes.get("nullable")
    validations = []
    for nested in body.blocks:
        if nested.type != "validation":
            d.append(
                error(
                    f'Unexpected block "{nested.type}" in {where}',
                    "only validation blocks go here",
                    nested.range,
                )
            )
            continue
        cond = nested.body.attributes.get("condition")
        msg = nested.body.attributes.get("error_message")
        if cond is None or msg is None:
            d.append(
                error(
                    f"A validation block in {where} needs condition and error_message",
                    'write validation { condition = ..., error_message = "..." }',
                    nested.range,
                )
            )
            continue
        validations.append(Validation(cond.expr, msg.expr, nested.range))
    return Variable(
        name=name,
        type=type_,
        default=default,
        description=_static_of(desc, str, d, where, "") if desc else "",
        sensitive=_static_of(sens, bool, d, where, False) if sens else False,
        nullable=_static_of(null, bool, d, where, True) if null else True,
        validations=validations,
        range=block.range,
    )


def _decode_output(block: Block, d: list[Diagnostic]) -> Output | None:
    name = block.labels[0]
    body = block.body
    where = f'output "{name}"'
    _unexpected(body, {"value", "sensitive", "description", "depends_on"}, where, d)
    for nested in body.blocks:
        if nested.type != "precondition":
            d.append(
                error(
                    f'Unexpected block "{nested.type}" in {where}',
                    "only precondition blocks go here",
                    nested.range,
                )
            )
    preconditions = decode_conditions(body.blocks, ("precondition",), where, d)["precondition"]
    value = body.attributes.get("value")
    if value is None:
        d.append(
            error(f"{where} has no value", "write value = EXPRESSION in the block", block.range)
        )
        return None
    desc = body.attributes.get("description")
    sens = body.attributes.get("sensitive")
    dep = body.attributes.get("depends_on")
    return Output(
        name=name,
        expr=value.expr,
        sensitive=_static_of(sens, bool, d, where, False) if sens else False,
        description=_static_of(desc, str, d, where, "") if desc else "",
        depends_on=_depends_on(dep, d) if dep else [],
        range=block.range,
        preconditions=preconditions,
    )
