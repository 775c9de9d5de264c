"""``dynamic`` blocks: nested blocks made from a collection, as Terraform makes them.

``dynamic "TYPE" { for_each = COLLECTION, iterator = NAME, content { ... } }`` in a
resource's body stands for one ``TYPE`` block per element of ``COLLECTION``, each with the
body of ``content``, in which ``NAME.key`` and ``NAME.value`` are the element's key and
value (``NAME`` is ``TYPE`` unless ``iterator`` says otherwise). ``decode_dynamic_blocks``
turns each written ``dynamic`` block of a body (in nested blocks and in ``content`` too)
into a ``DynamicBlock`` when the file is decoded, so the parse cache holds the decoded
form; ``scoped_exprs`` gives every expression of a body with the iterator names bound
around it (for references and static checks); ``iterations`` evaluates a block's
``for_each`` into (key, value) pairs; ``count_problems`` judges how many blocks came out.

Always holds: a malformed ``dynamic`` block is a diagnostic with file:line and what to
write, found without evaluating anything; a ``for_each`` known only after apply makes the
whole list of those blocks ``UNKNOWN`` (never a guess at its length); a sensitive
``for_each`` is refused, as the number and keys of the blocks would show it; an iterator is
seen only inside its own ``content`` (an inner dynamic block sees the outer ones too).
Nothing here knows a resource type: what a block type takes comes from the schema.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from engine.configmodel import Block, Body, DynamicBlock
from engine.expr import evaluate_marked
from engine.exprnodes import EvalContext, EvalError, Expr, Literal, Template
from engine.exprrefs import Name
from engine.typeconv import type_name
from sdk.diagnostics import Diagnostic, Diagnostics, SourceRange, error
from sdk.values import UNKNOWN

_ARGUMENTS = ("for_each", "iterator", "labels")
_USAGE = 'dynamic "BLOCK_TYPE" { for_each = COLLECTION, content { ... } }'


def decode_dynamic_blocks(
    body: Body, d: list[Diagnostic], where: str, meta: Iterable[str] = ()
) -> Body:
    """``body`` with each ``dynamic`` block (at any depth) as a ``DynamicBlock``; each
    malformed one is left out with a diagnostic in ``d``. ``meta``: the block types of this
    level that only the engine reads (``lifecycle``), which no dynamic block may make."""
    blocks: list[Block | DynamicBlock] = []
    changed = False
    for block in body.blocks:
        if isinstance(block, Block) and block.type == "dynamic":
            changed = True
            dyn = _decode_one(block, d, where, tuple(meta))
            if dyn is not None:
                blocks.append(dyn)
            continue
        if isinstance(block, Block):
            inner = decode_dynamic_blocks(block.body, d, f"{where}.{block.type}")
            if inner is not block.body:
                changed = True
                block = Block(block.type, block.labels, inner, block.range)
        blocks.append(block)
    return Body(body.attributes, blocks, body.range) if changed else body


def _decode_one(
    block: Block, d: list[Diagnostic], where: str, meta: tuple[str, ...]
) -> DynamicBlock | None:
    rng = block.range
    if len(block.labels) != 1:
        d.append(
            error(
                f"A dynamic block needs 1 label, found {len(block.labels)}",
                f"{rng}: the label names the type of block to make; write {_USAGE}",
                rng,
                address=where,
            )
        )
        return None
    kind = block.labels[0]
    if kind in meta:
        d.append(
            error(
                f'Unsupported block type "{kind}" in a dynamic block',
                f"{rng}: {kind} is a meta-argument block, read before any expression is "
                f"evaluated, so a dynamic block cannot make it; write {kind} {{ ... }} itself",
                rng,
                address=where,
            )
        )
        return None
    here = f'dynamic "{kind}" of {where}'
    body = block.body
    ok = True
    for name, attr in body.attributes.items():
        if name not in _ARGUMENTS:
            ok = False
            d.append(
                error(
                    f'Unsupported argument "{name}" in a dynamic block',
                    f"{attr.range}: {here} takes for_each, iterator, labels and one content "
                    f"block; the arguments of each {kind} block go inside content {{ ... }}."
                    + _closest(name, _ARGUMENTS),
                    attr.range,
                    address=where,
                )
            )
    contents: list[Block] = []
    for nested in body.blocks:
        if isinstance(nested, Block) and nested.type == "content" and not nested.labels:
            contents.append(nested)
            continue
        ok = False
        d.append(
            error(
                f'Unsupported block type "{nested.type}" in a dynamic block',
                f"{nested.range}: {here} holds one content {{ ... }} block (without labels); "
                "put nested blocks, dynamic ones too, inside it."
                + _closest(nested.type, ("content",)),
                nested.range,
                address=where,
            )
        )
    for_each = body.attributes.get("for_each")
    if for_each is None:
        ok = False
        d.append(
            error(
                'Missing required argument "for_each"',
                f"{rng}: {here} must set for_each to the list, set, map or object whose "
                f"elements the {kind} blocks are made from",
                rng,
                address=where,
            )
        )
    if not contents:
        ok = False
        d.append(
            error(
                "Missing dynamic content block",
                f'{rng}: {here} must have a nested block of type "content" to describe the '
                f"body of each generated block: content {{ ... }}",
                rng,
                address=where,
            )
        )
    elif len(contents) > 1:
        ok = False
        d.append(
            error(
                "Extraneous dynamic content block",
                f"{contents[1].range}: only one content block is allowed in each dynamic "
                f"block; the first is at {contents[0].range}",
                contents[1].range,
                address=where,
            )
        )
    iterator = kind
    attr = body.attributes.get("iterator")
    if attr is not None:
        name = _iterator_name(attr.expr)
        if name is None:
            ok = False
            quoted = _literal_text(attr.expr)
            hint = (
                f"write iterator = {quoted} without quotes" if quoted else "write iterator = NAME"
            )
            d.append(
                error(
                    "Invalid dynamic iterator name",
                    f"{attr.range}: the iterator of {here} must be a single variable name; " + hint,
                    attr.range,
                    address=where,
                )
            )
        else:
            iterator = name
    if not ok or for_each is None:
        return None
    content = decode_dynamic_blocks(contents[0].body, d, f"{where}.{kind}")
    labels = body.attributes.get("labels")
    return DynamicBlock(
        kind, for_each.expr, iterator, labels.expr if labels else None, content, rng
    )


def _closest(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f' Did you mean "{close[0]}"?' if close else ""


def _iterator_name(expr: Expr) -> str | None:
    return expr.name if isinstance(expr, Name) else None


def _literal_text(expr: Expr) -> str | None:
    """The text of a quoted name (``"rule"``), for the hint to drop the quotes."""
    if isinstance(expr, Template) and len(expr.parts) == 1:
        expr = expr.parts[0]
    if isinstance(expr, Literal) and isinstance(expr.value, str) and expr.value.isidentifier():
        return expr.value
    return None


def scoped_exprs(
    body: Body, bound: frozenset[str] = frozenset()
) -> list[tuple[Expr, frozenset[str]]]:
    """Every expression of ``body`` (attributes first, then nested blocks in order), each
    with the iterator names bound where it is written."""
    out = [(attr.expr, bound) for attr in body.attributes.values()]
    for block in body.blocks:
        if isinstance(block, DynamicBlock):
            out.append((block.for_each, bound))
            inner = bound | {block.iterator}
            if block.labels is not None:
                out.append((block.labels, inner))
            out.extend(scoped_exprs(block.content, inner))
        else:
            out.extend(scoped_exprs(block.body, bound))
    return out


def iterations(
    block: DynamicBlock, ctx: EvalContext, scope: dict[str, Any], address: str
) -> tuple[list[dict[str, Any]] | None, Diagnostics]:
    """The iterator's value (``{"key": ..., "value": ...}``) for each block to make, in
    order: a list's or a set's by position, a map's or an object's by sorted key. None
    when the blocks cannot be known (``for_each`` known only after apply, or an error)."""
    diags = Diagnostics()
    expr = block.for_each
    rng = expr.range
    try:
        value, marked = evaluate_marked(expr, ctx, scope)
    except EvalError as err:
        diags.append(error(err.summary, err.detail, err.range, address=address))
        return None, diags
    here = f'the for_each of dynamic "{block.type}" in {address}'
    if marked:
        diags.append(
            error(
                "Invalid dynamic for_each value",
                f"{rng}: {here} is sensitive (computed from a sensitive value), and the "
                "number and keys of the blocks made from it would show it. Iterate over "
                "values that are not secret, or wrap the value in nonsensitive() if its "
                "length and keys may be shown",
                rng,
                address=address,
            )
        )
        return None, diags
    if value is UNKNOWN:
        return None, diags
    if isinstance(value, list):
        return [{"key": i, "value": v} for i, v in enumerate(value)], diags
    if isinstance(value, dict):
        return [{"key": k, "value": value[k]} for k in sorted(value)], diags
    what = "a null value" if value is None else f"a {type_name(value)} value"
    diags.append(
        error(
            "Invalid dynamic for_each value",
            f"{rng}: cannot use {what} in {here}. An iterable collection is required: a "
            "list, a set, a map or an object",
            rng,
            address=address,
        )
    )
    return None, diags


def count_problems(
    kind: str,
    spec: Any,
    made: int,
    written: int,
    rng: SourceRange,
    address: str,
) -> list[Diagnostic]:
    """What is wrong with ``made`` dynamic plus ``written`` literal blocks of type ``kind``
    (``spec``: its schema attribute): more than one of a single block, or none of a
    required one."""
    total = made + written
    if spec.nesting != "list" and total > 1:
        return [
            error(
                f'Too many "{kind}" blocks',
                f"{rng}: {address} takes at most one {kind} block, and this dynamic block "
                f"makes {made}{f' beside {written} written' if written else ''}; give it a "
                "for_each of at most one element",
                rng,
                address=address,
            )
        ]
    if spec.required and total == 0:
        return [
            error(
                f'Insufficient "{kind}" blocks',
                f"{rng}: {address} needs a {kind} block, and this dynamic block's for_each "
                "is empty",
                rng,
                address=address,
            )
        ]
    return []
