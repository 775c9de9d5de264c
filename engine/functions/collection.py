"""The collection and number functions: length, lookup, merge, concat, keys, flatten, ….

Always holds: a function here that can receive ``UNKNOWN`` (its name is in
``UNKNOWN_AWARE``) returns ``UNKNOWN`` when the answer depends on it, never an error;
maps are returned and iterated in sorted key order; sets are lists without duplicates.
"""

from __future__ import annotations

import json
from typing import Any

from engine.functions.args import FunctionError, as_number, as_string, graphemes, need
from engine.functions.lists import same_value
from engine.typeconv import as_set, type_name
from sdk.values import UNKNOWN, is_wholly_known


def f_length(value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(value, str):
        return len(graphemes(value))
    if isinstance(value, list | dict):
        return len(value)
    raise FunctionError(f"cannot take the length of a {type_name(value)}")


def f_lookup(mapping: Any, key: Any, *default: Any) -> Any:
    if len(default) > 1:
        raise FunctionError("lookup takes a map, a key and an optional default")
    if mapping is UNKNOWN or key is UNKNOWN:
        return UNKNOWN
    need(mapping, dict, "a map", "first argument")
    key = as_string(key, "key")
    if key in mapping:
        return mapping[key]
    if default:
        return default[0]
    raise FunctionError(
        f'the map has no key "{key}"', "give lookup a third argument as the default"
    )


def f_merge(*maps: Any) -> Any:
    out: dict[str, Any] = {}
    for m in maps:
        if m is UNKNOWN:
            return UNKNOWN
        if m is None:
            continue
        need(m, dict, "a map or object", "each argument")
        out.update(m)
    return out


def f_concat(*lists: Any) -> Any:
    out: list[Any] = []
    for lst in lists:
        if lst is UNKNOWN:
            return UNKNOWN
        need(lst, list, "a list", "each argument")
        out.extend(lst)
    return out


def f_keys(m: Any) -> Any:
    if m is UNKNOWN:
        return UNKNOWN
    need(m, dict, "a map")
    return sorted(m)


def f_values(m: Any) -> Any:
    if m is UNKNOWN:
        return UNKNOWN
    need(m, dict, "a map")
    return [m[k] for k in sorted(m)]


def f_contains(coll: Any, value: Any) -> Any:
    need(coll, list, "a list or set", "first argument")
    return any(same_value(v, value) for v in coll)


def f_element(lst: Any, index: Any) -> Any:
    if lst is UNKNOWN or index is UNKNOWN:
        return UNKNOWN
    need(lst, list, "a list", "first argument")
    i = int(as_number(index, "index"))
    if not lst:
        raise FunctionError("cannot use element() on an empty list")
    if i < 0:
        raise FunctionError("the index must not be negative")
    return lst[i % len(lst)]


def f_range(*args: Any) -> list[Any]:
    nums = [as_number(a) for a in args]
    if len(nums) == 1:
        start, stop, step = 0, nums[0], 1
    elif len(nums) == 2:
        start, stop = nums
        step = 1 if stop >= start else -1
    elif len(nums) == 3:
        start, stop, step = nums
    else:
        raise FunctionError("range takes one to three numbers")
    if step == 0:
        raise FunctionError("the step must not be zero")
    out: list[Any] = []
    x = start
    while (x < stop) if step > 0 else (x > stop):
        out.append(x)
        x += step
        if len(out) > 1024:
            raise FunctionError("range would make more than 1024 elements")
    return out


def f_min(*nums: Any) -> Any:
    if not nums:
        raise FunctionError("min needs at least one number (use min(list...) for a list)")
    return min(as_number(n) for n in nums)


def f_max(*nums: Any) -> Any:
    if not nums:
        raise FunctionError("max needs at least one number (use max(list...) for a list)")
    return max(as_number(n) for n in nums)


def f_coalesce(*args: Any) -> Any:
    for a in args:
        if a is UNKNOWN:
            return UNKNOWN
        if a is not None and a != "":
            return a
    raise FunctionError("no non-null, non-empty argument", "give coalesce a final default")


def f_flatten(lst: Any) -> Any:
    if lst is UNKNOWN:
        return UNKNOWN
    need(lst, list, "a list")
    out: list[Any] = []
    for v in lst:
        if v is UNKNOWN:
            return UNKNOWN
        if isinstance(v, list):
            flat = f_flatten(v)
            if flat is UNKNOWN:
                return UNKNOWN
            out.extend(flat)
        else:
            out.append(v)
    return out


def f_distinct(lst: Any) -> list[Any]:
    need(lst, list, "a list")
    out: list[Any] = []
    seen: set[str] = set()
    for v in lst:
        key = json.dumps(v, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def f_sort(lst: Any) -> list[str]:
    need(lst, list, "a list of strings")
    return sorted(as_string(v, "list element") for v in lst)


def f_zipmap(keys: Any, values: Any) -> Any:
    if keys is UNKNOWN or values is UNKNOWN:
        return UNKNOWN
    need(keys, list, "a list of keys", "first argument")
    need(values, list, "a list of values", "second argument")
    if len(keys) != len(values):
        raise FunctionError(f"{len(keys)} keys but {len(values)} values")
    if not is_wholly_known(keys):
        return UNKNOWN
    return {as_string(k, "key"): v for k, v in zip(keys, values, strict=True)}


def _unified(values: list[Any]) -> list[Any]:
    """Elements of one type, as Terraform unifies them: mixed with strings, numbers and
    bools become strings; numbers and bools together cannot be one type; lists unify their
    elements together (``[[1], ["x"]]`` is a list of lists of strings), and objects theirs
    attribute by attribute (or, with differing attributes, all together as maps)."""
    known = [v for v in values if v is not None and v is not UNKNOWN]
    kinds = {type_name(v) for v in known}
    if len(kinds) > 1 and not kinds <= {"string", "number", "bool"}:
        raise FunctionError(f"the elements must be of one type, not {' and '.join(sorted(kinds))}")
    if kinds == {"list"}:
        return _unified_within(values, [list(v) for v in known], list)
    if kinds <= {"object", "map"} and known:
        if len({frozenset(v) for v in known}) == 1:  # one set of attributes: each on its own
            names = sorted(known[0])
            columns = {k: iter(_unified([v[k] for v in known])) for k in names}
            rows = iter([{k: next(columns[k]) for k in names} for _ in known])
            return [v if v is None or v is UNKNOWN else next(rows) for v in values]
        return _unified_within(values, [dict(v) for v in known], dict)
    if len(kinds) <= 1:
        return values
    if "string" not in kinds:
        raise FunctionError("the elements must be of one type, not bool and number")
    return [v if v is None or v is UNKNOWN else as_string(v) for v in values]


def _unified_within(values: list[Any], known: list[Any], kind: type) -> list[Any]:
    """``values`` (lists, or maps) with the elements of all of ``known`` unified together."""
    flat = [x for v in known for x in (v.values() if kind is dict else v)]
    it = iter(_unified(flat))
    rows = iter(
        [{k: next(it) for k in v} if kind is dict else [next(it) for _ in v] for v in known]
    )
    return [v if v is None or v is UNKNOWN else next(rows) for v in values]


def f_tolist(value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    need(value, list, "a list or set")
    return _unified(list(value))


def f_toset(value: Any) -> Any:
    need(value, list, "a list or set")
    return as_set(_unified(value))


def f_tomap(value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    need(value, dict, "a map or object")
    keys = sorted(value)
    return dict(zip(keys, _unified([value[k] for k in keys]), strict=True))


def f_abs(n: Any) -> Any:
    return abs(as_number(n))
