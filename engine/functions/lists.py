"""The list functions beyond the everyday ones: one, compact, index, slice, reverse, sum,
alltrue, anytrue, chunklist, coalescelist, matchkeys and transpose.

Always holds: lists are plain Python lists, maps dicts read in sorted key order; values
are compared as Terraform compares them (``1`` equals ``1.0``, a list by its elements);
a wrong argument (a missing item, a bad range, lists of different lengths) is a
``FunctionError`` saying what and which.
"""

from __future__ import annotations

import json
from typing import Any

from engine.functions.args import FunctionError, as_number, as_string, need
from engine.typeconv import TypeConstraint, convert


def same_value(a: Any, b: Any) -> bool:
    """Terraform's equality of two plain values (a bool is never a number)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) or (
        isinstance(a, int | float)
        and isinstance(b, int | float)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
        and a == b
    )


def f_one(lst: Any) -> Any:
    need(lst, list, "a list, set or tuple")
    if len(lst) > 1:
        raise FunctionError(
            f"the list has {len(lst)} elements; one() takes a list of zero or one",
            "use one() where at most one value is expected, or index the list",
        )
    return lst[0] if lst else None


def f_compact(lst: Any) -> list[str]:
    need(lst, list, "a list of strings")
    return [as_string(v, "list element") for v in lst if v is not None and v != ""]


def f_index(lst: Any, value: Any) -> int:
    need(lst, list, "a list or tuple", "first argument")
    for i, item in enumerate(lst):
        if same_value(item, value):
            return i
    raise FunctionError("item not found in the list", "check the value, or test with contains()")


def f_slice(lst: Any, start: Any, end: Any) -> list[Any]:
    need(lst, list, "a list or tuple", "first argument")
    first, last = as_number(start, "start index"), as_number(end, "end index")
    if first != int(first) or last != int(last):
        raise FunctionError("the indexes must be whole numbers")
    first, last = int(first), int(last)
    if first < 0:
        raise FunctionError("the start index must not be negative")
    if last > len(lst):
        raise FunctionError(f"the end index {last} is beyond the list's {len(lst)} elements")
    if first > last:
        raise FunctionError(f"the start index {first} is after the end index {last}")
    return lst[first:last]


def f_reverse(lst: Any) -> list[Any]:
    need(lst, list, "a list or tuple")
    return lst[::-1]


def f_sum(lst: Any) -> Any:
    need(lst, list, "a list or set of numbers")
    if not lst:
        raise FunctionError("cannot sum an empty list")
    total: Any = 0
    for v in lst:
        if v is None:
            raise FunctionError("the list holds a null, which cannot be summed")
        total += as_number(v, "list element")
    return total


def _bools(lst: Any) -> list[bool]:
    need(lst, list, "a list of bools")
    try:
        return [convert(v, TypeConstraint("bool")) is True for v in lst]
    except ValueError as err:
        raise FunctionError(f"the list must hold bools: {err}") from None


def f_alltrue(lst: Any) -> bool:
    return all(_bools(lst))


def f_anytrue(lst: Any) -> bool:
    return any(_bools(lst))


def f_chunklist(lst: Any, size: Any) -> list[list[Any]]:
    need(lst, list, "a list", "first argument")
    n = as_number(size, "size")
    if n < 0 or n != int(n):
        raise FunctionError("the size must be a whole number, not negative")
    n = int(n)
    if n == 0:
        return [list(lst)]
    return [lst[i : i + n] for i in range(0, len(lst), n)]


def f_coalescelist(*lists: Any) -> list[Any]:
    if not lists:
        raise FunctionError("coalescelist needs at least one list")
    for lst in lists:
        need(lst, list, "a list", "each argument")
        if lst:
            return lst
    raise FunctionError("all the lists are empty", "give coalescelist a final default list")


def f_matchkeys(values: Any, keys: Any, searchset: Any) -> list[Any]:
    need(values, list, "a list", "first argument")
    need(keys, list, "a list", "second argument")
    need(searchset, list, "a list", "third argument")
    if len(values) != len(keys):
        raise FunctionError(
            f"the values list has {len(values)} elements but the keys list {len(keys)}",
            "matchkeys takes values and keys of the same length",
        )
    pairs = zip(values, keys, strict=True)
    return [v for v, k in pairs if any(same_value(k, s) for s in searchset)]


def f_transpose(mapping: Any) -> dict[str, list[str]]:
    need(mapping, dict, "a map of lists of strings")
    out: dict[str, list[str]] = {}
    for key in sorted(mapping):
        values = mapping[key]
        need(values, list, "a list of strings", f'value of "{key}"')
        for v in values:
            out.setdefault(as_string(v, f'element of "{key}"'), []).append(key)
    return {k: out[k] for k in sorted(out)}
