"""The set functions: setunion, setintersection, setsubtract and setproduct.

Always holds: a set is a list without duplicates in bcdr's stable sorted order
(``typeconv.as_set``), and every function here returns one, except ``setproduct``,
which keeps the order of its arguments' elements (Terraform returns a list when given
lists); an argument that is not a list or set is a ``FunctionError``.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from engine.functions.args import FunctionError, need
from engine.typeconv import as_set


def _sets(args: tuple[Any, ...], name: str, least: int = 1) -> list[list[Any]]:
    if len(args) < least:
        raise FunctionError(f"{name} needs at least {least} sets")
    for a in args:
        need(a, list, "a set or list", "each argument")
    return list(args)


def _key(v: Any) -> str:
    return json.dumps(v, sort_keys=True)


def f_setunion(*sets: Any) -> list[Any]:
    return as_set([v for s in _sets(sets, "setunion") for v in s])


def f_setintersection(first: Any, *others: Any) -> list[Any]:
    sets = _sets((first, *others), "setintersection")
    keep = {_key(v) for v in sets[0]}
    for s in sets[1:]:
        keep &= {_key(v) for v in s}
    return as_set([v for v in sets[0] if _key(v) in keep])


def f_setsubtract(a: Any, b: Any) -> list[Any]:
    first, second = _sets((a, b), "setsubtract")
    drop = {_key(v) for v in second}
    return as_set([v for v in first if _key(v) not in drop])


def f_setproduct(*sets: Any) -> list[list[Any]]:
    lists = _sets(sets, "setproduct", least=2)
    return [list(combo) for combo in itertools.product(*lists)]
