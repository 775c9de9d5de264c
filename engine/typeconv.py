"""Type constraints (``list(string)``, ``object({...})``) and Terraform-like conversion.

``parse_type`` reads a constraint's text, ``convert`` makes a value fit one (a number
from ``"3"``, a set from a list), ``type_name`` names a value's type for messages. Always
holds: values are plain Python values (see ``sdk/values.py``); ``None`` and
``UNKNOWN`` pass through ``convert`` unchanged; a value that cannot fit is a
``ValueError`` saying where (``[0].name``) and why, never another exception. A
``TypeConstraint`` is a frozen, picklable value (the parse cache stores them).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from sdk.values import UNKNOWN


def type_name(value: Any) -> str:
    """The HCL name of a value's type, for messages: string, number, list, map, ..."""
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
            return number_str(value)
    elif kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return parse_number(value)
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
            return as_set(out) if kind == "set" else out
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


def parse_number(text: str) -> int | float:
    """A number from its text (``"3"`` → 3, ``" 2.5 "`` → 2.5); ValueError otherwise."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        f = float(text)
        if math.isnan(f) or math.isinf(f):
            raise ValueError(text) from None
        return f


def number_str(value: int | float) -> str:
    """A number as HCL prints it: whole floats without ``.0``."""
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


def as_set(values: list[Any]) -> list[Any]:
    """A set as bcdr holds one: a list without duplicates, in a stable sorted order."""
    out: list[Any] = []
    seen: set[str] = set()
    for v in values:
        key = json.dumps(v, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return sorted(out, key=_sort_key)
