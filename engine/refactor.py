"""Refactoring in the configuration: ``moved { from, to }`` and ``removed { from, lifecycle }``.

As Terraform's (resources and their instances; modules do not exist yet):

- ``moved`` renames objects in the prior state before the plan is made, so a renamed
  resource keeps its object (its id) instead of being destroyed and created again. ``from``
  and ``to`` are both a resource (every instance follows, keys kept) or both an instance,
  of the same type. Moves chain (``a → b`` and ``b → c`` move an object at ``a`` to ``c``);
  an instance's own statement wins over its resource's; a cycle is an error. A move whose
  ``from`` is still declared is an error; one whose ``to`` already has an object is skipped with a
  warning (Terraform's "Unresolved resource instance address changes"); one whose ``from``
  holds nothing does nothing, so the block may stay after the apply.
- ``removed { from = ADDR  lifecycle { destroy = false } }`` forgets the resource's objects
  without destroying them; with ``destroy = true`` (the default) they are destroyed, as if
  the block were absent. ``from`` must no longer be declared.

Always holds: every problem names the block's file:line and the fix; nothing here names a
resource type; the moves (``Move``) are applied to records in memory only: the applier
commits them to the state first, in one transaction, so a crash leaves either the old or
the new addresses, never half.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from engine.configmodel import Block, Moved, Removed
from engine.expr import static_value
from engine.exprnodes import SPECIAL_ROOTS, EvalError, Expr
from engine.exprrefs import GetAttr, Index, Name
from engine.plan import Move, Plan
from sdk.addrs import InstanceAddr, ResourceAddr
from sdk.diagnostics import Diagnostic, Diagnostics, error, warning

if TYPE_CHECKING:
    from engine.configmodel import Config
    from state import StateStore
    from state.records import InstanceRecord

_ADDRESS_USAGE = 'a resource (TYPE.NAME) or one of its instances (TYPE.NAME[0], TYPE.NAME["k"])'


# ---------------------------------------------------------------------------- decoding
def reference_address(expr: Expr) -> InstanceAddr | None:
    """``TYPE.NAME`` or ``TYPE.NAME[KEY]`` (a literal key); None for anything else."""
    key: Any = None
    keyed = False
    node = expr
    if isinstance(node, Index):
        try:
            key = static_value(node.key)
        except EvalError:
            return None
        if isinstance(key, bool) or not isinstance(key, int | str):
            return None
        keyed = True
        node = node.obj
    if not (isinstance(node, GetAttr) and isinstance(node.obj, Name)):
        return None
    if node.obj.name in SPECIAL_ROOTS:
        return None
    addr = InstanceAddr(ResourceAddr(node.obj.name, node.name), key)
    return addr if keyed or key is None else None


def _one_address(block: Block, name: str, d: list[Diagnostic]) -> InstanceAddr | None:
    attr = block.body.attributes.get(name)
    if attr is None:
        d.append(
            error(
                f'Missing "{name}" in a {block.type} block',
                f"write {name} = {_ADDRESS_USAGE}",
                block.range,
            )
        )
        return None
    addr = reference_address(attr.expr)
    if addr is None:
        d.append(
            error(
                f'Invalid "{name}" in a {block.type} block',
                f"{name} is {_ADDRESS_USAGE}, written without quotes",
                attr.range,
            )
        )
    return addr


def _only(block: Block, names: tuple[str, ...], blocks: tuple[str, ...], d: list[Diagnostic]):
    for attr in block.body.attributes.values():
        if attr.name not in names:
            d.append(
                error(
                    f'Unsupported argument "{attr.name}" in a {block.type} block',
                    f"a {block.type} block holds {', '.join(names)}"
                    + (f" and a {' / '.join(blocks)} block" if blocks else ""),
                    attr.range,
                )
            )
    for nested in block.body.blocks:
        if nested.type not in blocks:
            d.append(
                error(
                    f'Unexpected block "{nested.type}" in a {block.type} block',
                    f"a {block.type} block holds {', '.join(names)}"
                    + (f" and a {' / '.join(blocks)} block" if blocks else ""),
                    nested.range,
                )
            )


def decode_moved(block: Block, d: list[Diagnostic]) -> Moved | None:
    _only(block, ("from", "to"), (), d)
    src = _one_address(block, "from", d)
    dst = _one_address(block, "to", d)
    if src is None or dst is None:
        return None
    if (src.key is None) != (dst.key is None):
        d.append(
            error(
                "A moved block moves a resource to a resource, or an instance to an instance",
                f"from = {src} and to = {dst} differ; give both with an index, or neither",
                block.range,
            )
        )
        return None
    if src.resource.type != dst.resource.type:
        d.append(
            error(
                "Resource type mismatch in a moved block",
                f"{src} is a {src.resource.type}, {dst} a {dst.resource.type}: a move keeps "
                "the type. To change it, remove the old resource (a removed block with "
                "destroy = false) and import the object at the new one.",
                block.range,
            )
        )
        return None
    if src == dst:
        d.append(
            error(
                "A moved block moves an object to itself",
                f"from and to are both {src}",
                block.range,
            )
        )
        return None
    return Moved(str(src), str(dst), block.range)


def decode_removed(block: Block, d: list[Diagnostic]) -> Removed | None:
    _only(block, ("from",), ("lifecycle",), d)
    src = _one_address(block, "from", d)
    destroy = True
    for nested in block.body.blocks:
        if nested.type != "lifecycle":
            continue
        _only(nested, ("destroy",), (), d)
        attr = nested.body.attributes.get("destroy")
        if attr is None:
            continue
        try:
            value = static_value(attr.expr)
        except EvalError:
            value = None
        if not isinstance(value, bool):
            d.append(
                error("destroy must be true or false", "for example destroy = false", attr.range)
            )
            continue
        destroy = value
    if src is None:
        return None
    if src.key is not None:
        d.append(
            error(
                "A removed block names a resource, not one instance",
                f"write from = {src.resource}; to forget one instance, use `bcdr state rm '{src}'`",
                block.range,
            )
        )
        return None
    return Removed(str(src), destroy, block.range)


# ---------------------------------------------------------------------------- planning
def _declared(config: Config, addr: InstanceAddr) -> bool:
    return addr.resource in config.resources


def validate_refactoring(config: Config) -> Diagnostics:
    """The statements' problems that need the whole configuration (before any state)."""
    diags = Diagnostics()
    first: dict[str, Moved] = {}
    for m in config.moved:
        other = first.setdefault(m.src, m)
        if other is not m and other.dst != m.dst:
            diags.append(
                error(
                    "Ambiguous move statements",
                    f"{m.src} is moved to {other.dst} at {other.range} and to {m.dst} here; "
                    "keep one of them",
                    m.range,
                )
            )
    for m in config.moved:
        src = InstanceAddr.parse(m.src)
        if _declared(config, src) and src.key is None:
            where = config.resources[src.resource].range
            diags.append(
                error(
                    "Moved object still exists",
                    f"this moved block moves {src} to {m.dst}, but {src} is still declared "
                    f"at {where}. Rename that block to {InstanceAddr.parse(m.dst).resource} "
                    "(or remove the moved block).",
                    m.range,
                )
            )
    for r in config.removed:
        src = InstanceAddr.parse(r.src)
        if _declared(config, src):
            where = config.resources[src.resource].range
            diags.append(
                error(
                    "Removed resource still exists",
                    f"this removed block is for {src}, which is still declared at {where}. "
                    "Remove that resource block, or this removed block.",
                    r.range,
                )
            )
    return diags


class _Cycle(Exception):
    pass


def _step(addr: InstanceAddr, moved: list[Moved]) -> tuple[Moved, InstanceAddr] | None:
    """The statement that moves ``addr`` (an instance statement before a resource one), and
    where it puts it."""
    for m in moved:
        if m.src == str(addr):
            return m, InstanceAddr.parse(m.dst)
    for m in moved:
        src = InstanceAddr.parse(m.src)
        if src.key is None and src.resource == addr.resource:
            return m, InstanceAddr(InstanceAddr.parse(m.dst).resource, addr.key)
    return None


def _follow(addr: InstanceAddr, moved: list[Moved]) -> tuple[InstanceAddr, Moved | None]:
    """Where the chain of statements puts an object at ``addr`` (``a → b``, ``b → c``: c),
    and the statement that moved it first; _Cycle when the chain comes back."""
    seen: list[Moved] = []
    while (step := _step(addr, moved)) is not None:
        statement, addr = step
        if statement in seen:
            raise _Cycle(seen)
        seen.append(statement)
    return addr, seen[0] if seen else None


def apply_moves(
    config: Config, records: list[InstanceRecord]
) -> tuple[list[InstanceRecord], list[Move], Diagnostics]:
    """The records with the moves applied (in memory), the moves made, the warnings."""
    diags = Diagnostics()
    if not config.moved:
        return records, [], diags
    for m in config.moved:  # a cycle is an error before any object is looked at
        try:
            _follow(InstanceAddr.parse(m.src), config.moved)
        except _Cycle as cycle:
            names = ", ".join(f"{c.src} → {c.dst} ({c.range})" for c in cycle.args[0])
            diags.append(
                error(
                    "Cyclic dependency in move statements",
                    f"these moves form a cycle: {names}; remove one of them",
                    m.range,
                )
            )
            return records, [], diags
    finals = [(r, *_follow(InstanceAddr.parse(r.address), config.moved)) for r in records]
    # an address is taken by an object that stays there, or by one moved there already
    taken = {r.address for r, final, statement in finals if statement is None}
    moves: list[Move] = []
    out: list[InstanceRecord] = []
    for r, final, statement in finals:
        dst = str(final)
        if statement is None:
            out.append(r)
            continue
        if dst in taken:
            diags.append(
                warning(
                    "Unresolved resource instance address changes",
                    f"a moved block asks to move {r.address} to {dst}, but {dst} already has "
                    f"an object, so {r.address} stays where it is; remove one of them "
                    f"(`bcdr state rm '{dst}'`) or the moved block",
                    statement.range,
                )
            )
            taken.add(r.address)
            out.append(r)
            continue
        taken.add(dst)
        moves.append(Move(r.address, dst))
        out.append(_renamed(r, dst))
    if not moves:
        return records, [], diags
    follow = {m.src: m.dst for m in moves}
    out = [
        dataclasses.replace(r, dependencies=[follow.get(x, x) for x in r.dependencies]) for r in out
    ]
    return out, moves, diags


def _renamed(record: InstanceRecord, address: str) -> InstanceRecord:
    addr = InstanceAddr.parse(address)
    return dataclasses.replace(record, address=address, name=addr.resource.name, index_key=addr.key)


def forgotten(config: Config, records: list[InstanceRecord]) -> list[str]:
    """The instances a ``removed { lifecycle { destroy = false } }`` block forgets."""
    keep = {InstanceAddr.parse(r.src).resource for r in config.removed if not r.destroy}
    return sorted(r.address for r in records if InstanceAddr.parse(r.address).resource in keep)


def persist_refactoring(plan: Plan, state: StateStore) -> int:
    """Commit the plan's moves, forgets and imports to the state, in one transaction, before any
    change is applied. A move already made (a run that stopped after this step) or whose
    object is gone is skipped, so applying the plan again converges. Returns how many
    imported objects were written."""
    if not plan.moves and not plan.forget and not plan.imports:
        return 0
    from state import InstanceRecord

    with state.transaction():
        for m in plan.moves:
            if state.get(m.src) is not None and state.get(m.dst) is None:
                state.move(m.src, m.dst)
        for address in plan.forget:
            if state.get(address) is not None:
                state.remove(address)
        written = 0
        for imported in plan.imports:  # import blocks: the object read at plan time
            if state.get(imported.address) is None:
                state.put(InstanceRecord(**imported.record))
                written += 1
    return written
