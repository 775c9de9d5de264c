"""The default plan any provider can use: planned state from configuration plus schema.

``plan_from_schema`` fills what the configuration leaves out: defaults for optional
arguments, the prior value of computed attributes on an in-place update, and ``UNKNOWN``
for computed attributes of a new object (create or replace). A change to a ``force_new``
argument is reported in ``requires_replace``. Always holds: the result depends only on the
schema, the prior state and the proposed values (no I/O), and an argument the configuration
sets is planned exactly as set.
"""

from __future__ import annotations

from typing import Any

from sdk import Attribute, PlanResponse, Schema
from sdk.values import UNKNOWN


def plan_from_schema(
    schema: Schema, prior: dict[str, Any] | None, proposed: dict[str, Any] | None
) -> PlanResponse:
    """Planned state for ``proposed`` against ``prior``; None proposed means delete."""
    if proposed is None:
        return PlanResponse(planned_state=None)
    planned = planned_values(schema, prior, proposed)
    replace: list[str] = []
    if prior is not None:
        replace = sorted(
            name
            for name, attr in schema.attributes.items()
            if attr.force_new and not _same(planned.get(name), prior.get(name))
        )
        if replace:
            planned = planned_values(schema, None, proposed)
    return PlanResponse(planned_state=planned, requires_replace=replace)


def planned_values(
    schema: Schema, prior: dict[str, Any] | None, proposed: dict[str, Any]
) -> dict[str, Any]:
    """Configuration values completed by defaults and computed values (prior or UNKNOWN)."""
    out: dict[str, Any] = {}
    for name, attr in schema.attributes.items():
        value = proposed.get(name)
        if attr.block is not None:
            out[name] = _plan_block(attr, None if prior is None else prior.get(name), value)
        elif value is not None:
            out[name] = value
        elif attr.computed:
            if prior is not None and name in prior and prior[name] is not None:
                out[name] = prior[name]
            elif attr.default is not None:
                out[name] = attr.default
            else:
                out[name] = UNKNOWN
        else:
            out[name] = attr.default
    return out


def _plan_block(attr: Attribute, prior: Any, value: Any) -> Any:
    assert attr.block is not None
    if value is UNKNOWN:
        return UNKNOWN
    if attr.nesting == "list":
        items = value or []
        priors = prior if isinstance(prior, list) else []
        return [
            planned_values(attr.block, priors[i] if i < len(priors) else None, item)
            for i, item in enumerate(items)
        ]
    if value is None:
        return None
    return planned_values(attr.block, prior if isinstance(prior, dict) else None, value)


def _same(a: Any, b: Any) -> bool:
    """Equal and wholly known: an unknown planned value counts as a change."""
    if a is UNKNOWN or b is UNKNOWN:
        return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b or (_num(a) and _num(b) and a == b)


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)
