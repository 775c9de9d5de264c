"""The everyday HCL functions, and type constraints with Terraform-like conversion.

Each function is a plain Python function over plain values, registered in ``FUNCTIONS``.
Always holds: a function never sees ``UNKNOWN`` unless its name is in ``UNKNOWN_AWARE``
(``expr.py`` returns ``UNKNOWN`` for it otherwise); a user mistake is a ``FunctionError``
(``expr.py`` adds the call's file:line); ``try`` and ``can`` are evaluated lazily by
``expr.py`` and the entries here only complete the registry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.values import UNKNOWN, is_wholly_known


class FunctionError(ValueError):
    """A user mistake in a function call (bad argument)."""

    def __init__(self, summary: str, detail: str = ""):
        super().__init__(summary)
        self.detail = detail


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if value is UNKNOWN:
        return "unknown value"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


# ---------------------------------------------------------------- type constraints


@dataclass(frozen=True)
class TypeConstraint:
    """``kind`` is string/number/bool/any/list/set/map/object/tuple."""

    kind: str
    elem: TypeConstraint | None = None
    attrs: tuple[tuple[str, TypeConstraint], ...] = ()
    optional: frozenset[str] = field(default_factory=frozenset)
    elems: tuple[TypeConstraint, ...] = ()

    def __str__(self) -> str:
        if self.kind in ("list", "set", "map"):
            return f"{self.kind}({self.elem})"
        if self.kind == "object":
            inner = ", ".join(
                f"{k} = optional({t})" if k in self.optional else f"{k} = {t}"
                for k, t in self.attrs
            )
            return f"object({{{inner}}})"
        if self.kind == "tuple":
            return f"tuple([{', '.join(str(t) for t in self.elems)}])"
        return self.kind


_PRIMITIVES = {"string", "number", "bool", "any"}
_TOKEN_RE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_-]*|[(){}\[\],=:])")


def parse_type(text: str) -> TypeConstraint:
    """Parse ``list(string)``, ``object({a = number, b = optional(bool)})`` …; ValueError."""
    tokens: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise ValueError(f"unexpected {text[pos:].strip()[:10]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    tokens.append("")
    i = 0

    def take(expected: str | None = None) -> str:
        nonlocal i
        tok = tokens[i]
        if expected is not None and tok != expected:
            raise ValueError(f"expected {expected!r}, found {tok or 'the end'!r}")
        i += 1
        return tok

    def one() -> TypeConstraint:
        name = take()
        if name in _PRIMITIVES:
            return TypeConstraint(name)
        if name in ("list", "set", "map"):
            if tokens[i] != "(":  # old style bare "list"/"map"
                return TypeConstraint(name, TypeConstraint("any"))
            take("(")
            elem = one()
            take(")")
            return TypeConstraint(name, elem)
        if name == "object":
            take("(")
            take("{")
            attrs: list[tuple[str, TypeConstraint]] = []
            optional: set[str] = set()
            while tokens[i] != "}":
                key = take()
                if tokens[i] not in ("=", ":"):
                    raise ValueError(f"expected = after {key!r}")
                take()
                if tokens[i] == "optional":
                    take()
                    take("(")
                    attrs.append((key, one()))
                    if tokens[i] == ",":
                        raise ValueError("optional() defaults are not supported")
                    take(")")
                    optional.add(key)
                else:
                    attrs.append((key, one()))
                if tokens[i] == ",":
                    take()
            take("}")
            take(")")
            return TypeConstraint("object", attrs=tuple(attrs), optional=frozenset(optional))
        if name == "tuple":
            take("(")
            take("[")
            elems: list[TypeConstraint] = []
            while tokens[i] != "]":
                elems.append(one())
                if tokens[i] == ",":
                    take()
            take("]")
            take(")")
            return TypeConstraint("tuple", elems=tuple(elems))
        raise ValueError(f"unknown type {name or 'nothing'!r}")

    result = one()
    if tokens[i] != "":
        raise ValueError(f"unexpected {tokens[i]!r} after the type")
    return result


def convert(value: Any, t: TypeConstraint | None, path: str = "") -> Any:
    """Convert ``value`` to type ``t`` as Terraform would; ValueError saying where and why."""
    if t is None or t.kind == "any" or value is None or value is UNKNOWN:
        return value
    where = f" at {path}" if path else ""
    kind = t.kind
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return _num_str(value)
    elif kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return _parse_number(value)
            except ValueError:
                raise ValueError(f'expected a number{where}, got the string "{value}"') from None
    elif kind == "bool":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
    elif kind in ("list", "set", "tuple"):
        if isinstance(value, list):
            if kind == "tuple":
                if len(value) != len(t.elems):
                    raise ValueError(
                        f"expected a tuple of {len(t.elems)} elements{where}, got {len(value)}"
                    )
                pairs = zip(value, t.elems, strict=True)
                return [convert(v, et, f"{path}[{i}]") for i, (v, et) in enumerate(pairs)]
            out = [convert(v, t.elem, f"{path}[{i}]") for i, v in enumerate(value)]
            return _as_set(out) if kind == "set" else out
    elif kind in ("map", "object") and isinstance(value, dict):
        if kind == "map":
            return {k: convert(v, t.elem, f'{path}["{k}"]') for k, v in value.items()}
        out_obj: dict[str, Any] = {}
        for name, at in t.attrs:
            sub = f"{path}.{name}" if path else name
            if name in value:
                out_obj[name] = convert(value[name], at, sub)
            elif name in t.optional:
                out_obj[name] = None
            else:
                raise ValueError(f'attribute "{sub}" is required by type {t}')
        extra = sorted(set(value) - {n for n, _ in t.attrs})
        if extra:
            raise ValueError(f'unexpected attribute "{extra[0]}"{where}; type {t} has no such')
        return out_obj
    raise ValueError(f"expected {_article(t)}{where}, got {_article_value(value)}")


def _article(t: TypeConstraint) -> str:
    if t.kind in _PRIMITIVES:
        return f"a {t.kind}"
    return f"a value of type {t}"


def _article_value(value: Any) -> str:
    name = type_name(value)
    if isinstance(value, str):
        return f'the string "{value}"'
    return f"a {name}"


def _parse_number(text: str) -> int | float:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        f = float(text)
        if math.isnan(f) or math.isinf(f):
            raise ValueError(text) from None
        return f


def _num_str(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


def _sort_key(v: Any) -> tuple[int, Any]:
    if isinstance(v, bool):
        return (0, v)
    if isinstance(v, int | float):
        return (1, v)
    if isinstance(v, str):
        return (2, v)
    return (3, json.dumps(v, sort_keys=True, default=str))


def _as_set(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    seen: set[str] = set()
    for v in values:
        key = json.dumps(v, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return sorted(out, key=_sort_key)


# ---------------------------------------------------------------- helpers


def _need(value: Any, kind: type | tuple[type, ...], what: str, arg: str = "argument") -> None:
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise FunctionError(f"the {arg} must be {what}, not a bool")
    if not isinstance(value, kind):
        raise FunctionError(f"the {arg} must be {what}, not a {type_name(value)}")


def _number(value: Any, arg: str = "argument") -> int | float:
    if isinstance(value, str):
        try:
            return _parse_number(value)
        except ValueError:
            raise FunctionError(f'the {arg} must be a number, not "{value}"') from None
    _need(value, (int, float), "a number", arg)
    return value


def _string(value: Any, arg: str = "argument") -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _num_str(value)
    _need(value, str, "a string", arg)
    return value


# ---------------------------------------------------------------- collection functions


def f_length(value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(value, str | list | dict):
        return len(value)
    raise FunctionError(f"cannot take the length of a {type_name(value)}")


def f_lookup(mapping: Any, key: Any, *default: Any) -> Any:
    if len(default) > 1:
        raise FunctionError("lookup takes a map, a key and an optional default")
    if mapping is UNKNOWN or key is UNKNOWN:
        return UNKNOWN
    _need(mapping, dict, "a map", "first argument")
    key = _string(key, "key")
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
        _need(m, dict, "a map or object", "each argument")
        out.update(m)
    return out


def f_concat(*lists: Any) -> Any:
    out: list[Any] = []
    for lst in lists:
        if lst is UNKNOWN:
            return UNKNOWN
        _need(lst, list, "a list", "each argument")
        out.extend(lst)
    return out


def f_keys(m: Any) -> Any:
    if m is UNKNOWN:
        return UNKNOWN
    _need(m, dict, "a map")
    return sorted(m)


def f_values(m: Any) -> Any:
    if m is UNKNOWN:
        return UNKNOWN
    _need(m, dict, "a map")
    return [m[k] for k in sorted(m)]


def f_contains(coll: Any, value: Any) -> Any:
    _need(coll, list, "a list or set", "first argument")
    return any(json.dumps(v, sort_keys=True) == json.dumps(value, sort_keys=True) for v in coll)


def f_element(lst: Any, index: Any) -> Any:
    if lst is UNKNOWN or index is UNKNOWN:
        return UNKNOWN
    _need(lst, list, "a list", "first argument")
    i = int(_number(index, "index"))
    if not lst:
        raise FunctionError("cannot use element() on an empty list")
    if i < 0:
        raise FunctionError("the index must not be negative")
    return lst[i % len(lst)]


def f_range(*args: Any) -> list[Any]:
    nums = [_number(a) for a in args]
    if len(nums) == 1:
        start, stop, step = 0, nums[0], 1
    elif len(nums) == 2:
        start, stop, step = nums[0], nums[1], 1
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
    return min(_number(n) for n in nums)


def f_max(*nums: Any) -> Any:
    if not nums:
        raise FunctionError("max needs at least one number (use max(list...) for a list)")
    return max(_number(n) for n in nums)


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
    _need(lst, list, "a list")
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
    _need(lst, list, "a list")
    out: list[Any] = []
    seen: set[str] = set()
    for v in lst:
        key = json.dumps(v, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def f_sort(lst: Any) -> list[str]:
    _need(lst, list, "a list of strings")
    return sorted(_string(v, "list element") for v in lst)


def f_zipmap(keys: Any, values: Any) -> Any:
    if keys is UNKNOWN or values is UNKNOWN:
        return UNKNOWN
    _need(keys, list, "a list of keys", "first argument")
    _need(values, list, "a list of values", "second argument")
    if len(keys) != len(values):
        raise FunctionError(f"{len(keys)} keys but {len(values)} values")
    if not is_wholly_known(keys):
        return UNKNOWN
    return {_string(k, "key"): v for k, v in zip(keys, values, strict=True)}


def f_tolist(value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    _need(value, list, "a list or set")
    return list(value)


def f_toset(value: Any) -> Any:
    _need(value, list, "a list or set")
    return _as_set(value)


def f_tomap(value: Any) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    _need(value, dict, "a map or object")
    return dict(value)


# ---------------------------------------------------------------- string functions


def f_join(sep: Any, lst: Any) -> str:
    _need(sep, str, "a string", "separator")
    _need(lst, list, "a list of strings", "second argument")
    return sep.join(_string(v, "list element") for v in lst)


def f_split(sep: Any, text: Any) -> list[str]:
    _need(sep, str, "a string", "separator")
    text = _string(text, "second argument")
    if text == "":
        return [""]
    return text.split(sep) if sep else list(text)


def f_replace(text: Any, search: Any, repl: Any) -> str:
    text, search, repl = _string(text), _string(search), _string(repl)
    if len(search) > 1 and search.startswith("/") and search.endswith("/"):
        try:
            pattern = re.compile(search[1:-1])
        except re.error as err:
            raise FunctionError(f"invalid regular expression {search}: {err}") from None
        return pattern.sub(re.sub(r"\$(\d+)", r"\\\1", repl), text)
    return text.replace(search, repl)


def f_substr(text: Any, offset: Any, length: Any) -> str:
    text = _string(text)
    off, n = int(_number(offset, "offset")), int(_number(length, "length"))
    if off < 0:
        off = max(0, len(text) + off)
    return text[off:] if n == -1 else text[off : off + n]


_FORMAT_RE = re.compile(r"%(?:(%)|([-+ #0]*)(\d+)?(?:\.(\d+))?([a-zA-Z]))")


def f_format(spec: Any, *args: Any) -> str:
    _need(spec, str, "a format string", "first argument")
    it = iter(args)
    count = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal count
        if m.group(1):
            return "%"
        flags, width, prec, verb = m.group(2) or "", m.group(3), m.group(4), m.group(5)
        try:
            value = next(it)
        except StopIteration:
            raise FunctionError(f"not enough arguments for {m.group(0)!r} in the format") from None
        count += 1
        if verb == "v":
            text = value if isinstance(value, str) else f_jsonencode(value)
        elif verb == "s":
            text = _string(value, f"argument {count}")
        elif verb == "q":
            text = json.dumps(_string(value, f"argument {count}"), ensure_ascii=False)
        elif verb == "t":
            _need(value, bool, "a bool", f"argument {count}")
            text = "true" if value else "false"
        elif verb in "dbxXoeEfgG":
            num = _number(value, f"argument {count}")
            if verb in "dbxXo":
                if num != int(num):
                    raise FunctionError(f"%{verb} needs a whole number, not {num}")
                num = int(num)
            py = f"%{flags}{width or ''}{'.' + prec if prec is not None else ''}{verb}"
            if verb == "b":
                text = format(num, "b")
            else:
                return py % num
        else:
            raise FunctionError(f"unsupported format verb %{verb}")
        if prec is not None:
            text = text[: int(prec)]
        if width:
            text = text.ljust(int(width)) if "-" in flags else text.rjust(int(width))
        return text

    out = _FORMAT_RE.sub(repl, spec)
    if next(it, _END) is not _END:
        raise FunctionError(f"too many arguments for the format {spec!r}")
    return out


_END = object()


def f_file(path: Any, *, base: str = ".") -> str:
    path = _string(path, "path")
    full = Path(base) / path
    try:
        return full.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FunctionError(f'no file "{path}"', f"looked for {full}; check the path") from None
    except (OSError, UnicodeDecodeError) as err:
        raise FunctionError(f'cannot read "{path}": {err}') from None


def f_fileexists(path: Any, *, base: str = ".") -> bool:
    return (Path(base) / _string(path, "path")).is_file()


def f_jsonencode(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def f_jsondecode(text: Any) -> Any:
    _need(text, str, "a string")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise FunctionError(f"invalid JSON: {err}") from None


def f_tostring(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list | dict):
        raise FunctionError(f"cannot convert a {type_name(value)} to a string")
    return _string(value)


def f_tonumber(value: Any) -> Any:
    if value is None:
        return None
    return _number(value)


def f_tobool(value: Any) -> Any:
    try:
        return convert(value, TypeConstraint("bool"))
    except ValueError as err:
        raise FunctionError(str(err)) from None


def f_abs(n: Any) -> Any:
    return abs(_number(n))


def f_base64decode(text: Any) -> str:
    try:
        return base64.b64decode(_string(text), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as err:
        raise FunctionError(f"invalid base64: {err}") from None


def _try_placeholder(*args: Any) -> Any:
    return args[0]


def _can_placeholder(*args: Any) -> bool:
    return True


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": f_abs,
    "base64decode": f_base64decode,
    "base64encode": lambda s: base64.b64encode(_string(s).encode()).decode(),
    "can": _can_placeholder,
    "ceil": lambda n: math.ceil(_number(n)),
    "coalesce": f_coalesce,
    "concat": f_concat,
    "contains": f_contains,
    "distinct": f_distinct,
    "element": f_element,
    "endswith": lambda s, suffix: _string(s).endswith(_string(suffix)),
    "file": f_file,
    "fileexists": f_fileexists,
    "flatten": f_flatten,
    "floor": lambda n: math.floor(_number(n)),
    "format": f_format,
    "join": f_join,
    "jsondecode": f_jsondecode,
    "jsonencode": f_jsonencode,
    "keys": f_keys,
    "length": f_length,
    "lookup": f_lookup,
    "lower": lambda s: _string(s).lower(),
    "max": f_max,
    "merge": f_merge,
    "min": f_min,
    "range": f_range,
    "replace": f_replace,
    "sha256": lambda s: hashlib.sha256(_string(s).encode()).hexdigest(),
    "sort": f_sort,
    "split": f_split,
    "startswith": lambda s, prefix: _string(s).startswith(_string(prefix)),
    "substr": f_substr,
    "tobool": f_tobool,
    "tolist": f_tolist,
    "tomap": f_tomap,
    "tonumber": f_tonumber,
    "toset": f_toset,
    "tostring": f_tostring,
    "trimspace": lambda s: _string(s).strip(),
    "try": _try_placeholder,
    "upper": lambda s: _string(s).upper(),
    "values": f_values,
    "zipmap": f_zipmap,
}

#: evaluated by expr.py argument by argument (errors are caught)
LAZY_FUNCTIONS = frozenset({"try", "can"})
#: called with ``base=path.module``
PATH_FUNCTIONS = frozenset({"file", "fileexists"})
#: called even when an argument holds UNKNOWN; they handle it themselves
UNKNOWN_AWARE = frozenset(
    {
        "length",
        "lookup",
        "merge",
        "concat",
        "keys",
        "values",
        "element",
        "coalesce",
        "flatten",
        "zipmap",
        "tolist",
        "tomap",
    }
)
