"""``lifecycle { replace_triggered_by = [ADDR, ADDR[KEY], ADDR.attr, ...] }``, as Terraform's.

``decode_triggers`` turns the list into ``Trigger``s of ``engine/configmodel.py``: each
entry is a reference to a managed resource (``TYPE.NAME``), optionally one instance of it
(an index that may use ``count.index``, ``each.key`` or ``each.value``) and an attribute
path after it. ``triggered`` tells the planner whether an instance is to be replaced: an
entry without a path fires when the referenced instance is planned to be created, updated
or replaced; one with a path fires when that attribute's planned value differs from the
prior one or is not known yet. Always holds: an entry that is not such a reference is an
error at its file:line; the referenced resources are dependencies (``Lifecycle.exprs``),
so their changes are planned before this resource's; nothing here knows a resource type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.configmodel import BodyAttribute, Trigger
from engine.expr import evaluate
from engine.exprnodes import SPECIAL_ROOTS, EvalContext, EvalError, Expr, Literal, TupleExpr
from engine.exprrefs import GetAttr, Index, Name
from engine.plan import Action
from sdk.addrs import ResourceAddr
from sdk.diagnostics import Diagnostic, error
from sdk.values import UNKNOWN

if TYPE_CHECKING:
    from engine.plan import Change

_FIRES = (Action.CREATE, Action.UPDATE, Action.DELETE_THEN_CREATE, Action.CREATE_THEN_DELETE)
_USAGE = (
    "each entry is a reference to a managed resource, one of its instances or one of its "
    "attributes, for example replace_triggered_by = [bcdr_data.a, bcdr_data.b.output]"
)


def decode_triggers(attr: BodyAttribute, where: str, d: list[Diagnostic]) -> list[Trigger]:
    if not isinstance(attr.expr, TupleExpr):
        d.append(error("replace_triggered_by must be a list of references", _USAGE, attr.range))
        return []
    out = []
    for item in attr.expr.items:
        trigger = _trigger(item)
        if trigger is None:
            d.append(
                error(
                    f"Invalid replace_triggered_by entry in {where}",
                    f"{item.range}: {_USAGE}",
                    item.range,
                )
            )
        else:
            out.append(trigger)
    return out


def _trigger(expr: Expr) -> Trigger | None:
    """The entry as a Trigger; None when it is not a reference to a resource."""
    steps: list[Expr] = []
    node = expr
    while isinstance(node, GetAttr | Index):
        if isinstance(node, GetAttr) and isinstance(node.obj, Name):
            break
        steps.append(node)
        node = node.obj
    if not (isinstance(node, GetAttr) and isinstance(node.obj, Name)):
        return None
    if node.obj.name in SPECIAL_ROOTS:
        return None
    steps.reverse()
    key: Expr | None = None
    if steps and isinstance(steps[0], Index):
        key = steps.pop(0).key  # type: ignore[attr-defined]
    path: list[str | int] = []
    for step in steps:
        if isinstance(step, GetAttr):
            path.append(step.name)
        elif isinstance(step.key, Literal) and isinstance(step.key.value, str | int):  # type: ignore[attr-defined]
            path.append(step.key.value)  # type: ignore[attr-defined]
        else:
            return None  # an attribute path is literal steps only
    return Trigger(ResourceAddr(node.obj.name, node.name), key, path, expr, expr.range)


def triggered(
    triggers: list[Trigger],
    ctx: EvalContext,
    planned: dict[str, Change],
    instances: Any,
) -> tuple[bool, list[Diagnostic]]:
    """Whether any trigger fires for the instance evaluated in ``ctx``; ``planned``: the
    changes planned so far by address; ``instances(addr)``: the instance addresses of a
    resource planned so far. Problems (a key that cannot be evaluated) are errors."""
    problems: list[Diagnostic] = []
    for t in triggers:
        if t.key is None:
            addresses = instances(t.resource)
        else:
            try:
                key = evaluate(t.key, ctx)
            except EvalError as err:
                problems.append(error(err.summary, err.detail, err.range or t.range))
                continue
            if key is UNKNOWN:
                return True, problems  # which instance is not known yet: as if it changed
            addresses = [str(t.resource.instance(key if isinstance(key, str) else int(key)))]
        for address in addresses:
            change = planned.get(address)
            if change is not None and _fires(change, t.path):
                return True, problems
    return False, problems


def _fires(change: Change, path: list[str | int]) -> bool:
    if change.action not in _FIRES:
        return False
    if not path:
        return True
    before, after = _at(change.before, path), _at(change.after, path)
    return after is UNKNOWN or before != after


def _at(value: Any, path: list[str | int]) -> Any:
    for step in path:
        if value is UNKNOWN:
            return UNKNOWN
        if isinstance(value, dict):
            value = value.get(str(step))
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        else:
            return None
    return value
