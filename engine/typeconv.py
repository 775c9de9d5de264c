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
import re
from dataclasses import dataclass, field
from typing import Any

from engine.numbers import exact, format_number, is_number, normalize, parse_number
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
    #: ``optional(T, default)``: attribute name and the default as JSON text (hashable)
    defaults: tuple[tuple[str, str], ...] = ()

    def default(self, name: str) -> Any:
        """The default of optional attribute ``name`` (``None`` when it has none)."""
        for k, text in self.defaults:
            if k == name:
                return json.loads(text)
        return None

    def __str__(self) -> str:
        if self.kind in ("list", "set", "map"):
            return f"{self.kind}({self.elem})"
        if self.kind == "object":
            given = dict(self.defaults)
            inner = ", ".join(
                f"{k} = {t}"
                if k not in self.optional
                else f"{k} = optional({t}, {given[k]})"
                if k in given
                else f"{k} = optional({t})"
                for k, t in self.attrs
            )
            return f"object({{{inner}}})"
        if self.kind == "tuple":
            return f"tuple([{', '.join(str(t) for t in self.elems)}])"
        return self.kind


_PRIMITIVES = {"string", "number", "bool", "any"}
_TOKEN_RE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_-]*|\$[0-9]+|[(){}\[\],=:])")


def parse_type(text: str, values: tuple[Any, ...] = ()) -> TypeConstraint:
    """Parse ``list(string)``, ``object({a = number, b = optional(bool, true)})`` …;
    ValueError. An ``optional`` default is written ``$N``, standing for ``values[N]``
    (the caller evaluated it)."""
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
            defaults: list[tuple[str, str]] = []
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
                        take()
                        defaults.append((key, _default(key, take(), attrs[-1][1], values)))
                    take(")")
                    optional.add(key)
                else:
                    attrs.append((key, one()))
                if tokens[i] == ",":
                    take()
            take("}")
            take(")")
            return TypeConstraint(
                "object",
                attrs=tuple(attrs),
                optional=frozenset(optional),
                defaults=tuple(defaults),
            )
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


def _default(name: str, token: str, t: TypeConstraint, values: tuple[Any, ...]) -> str:
    """An ``optional`` default, converted to its attribute's type, as JSON text."""
    if not token.startswith("$") or int(token[1:]) >= len(values):
        raise ValueError(f'the default of "{name}" must be a constant value')
    value = values[int(token[1:])]
    try:
        converted = convert(value, t)
    except ValueError as err:
        raise ValueError(f'the default of "{name}" does not fit {t}: {err}') from None
    return json.dumps(converted, sort_keys=True)


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
            return format_number(value)
    elif kind == "number":
        if is_number(value):  # an int as it is; a whole float becomes an int (2.0 is 2)
            return value if isinstance(value, int) else normalize(exact(value))
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
            if value.get(name) is not None:
                out_obj[name] = convert(value[name], at, sub)
            elif name in t.optional:  # absent or null: the default (nested ones too)
                out_obj[name] = convert(t.default(name), at, sub)
            elif name in value:
                out_obj[name] = None
            else:
                raise ValueError(f'attribute "{sub}" is required by type {t}')
        extra = sorted(set(value) - {n for n, _ in t.attrs})
        if extra:
            raise ValueError(f'unexpected attribute "{extra[0]}"{where}; type {t} has no such')
        return out_obj
    raise ValueError(f"expected {_article(t)}{where}, got {_article_value(value)}")


def value_kind(value: Any) -> str | None:
    """``string``, ``number`` or ``bool`` for a value of that type; None for null,
    unknown and collections."""
    if isinstance(value, str | int | float):
        return type_name(value)
    return None


def unify_kinds(a: str, b: str) -> str:
    """The primitive type two primitive types unify to, as Terraform's cty does: the type
    itself when they are one; ``string`` when either is a string (numbers and bools
    convert to strings); ValueError for a number and a bool, which have no common type."""
    if a == b:
        return a
    if "string" in (a, b):
        return "string"
    raise ValueError(f"{a} and {b} have no common type")


def _article(t: TypeConstraint) -> str:
    if t.kind in _PRIMITIVES:
        return f"a {t.kind}"
    return f"a value of type {t}"


def _article_value(value: Any) -> str:
    name = type_name(value)
    if isinstance(value, str):
        return f'the string "{value}"'
    return f"a {name}"


def _sort_key(v: Any) -> tuple[int, Any]:
    if isinstance(v, bool):
        return (0, v)
    if isinstance(v, int | float):
        return (1, v)
    if isinstance(v, str):
        return (2, v)
    return (3, json.dumps(v, sort_keys=True, default=str))


class SetValue(list):  # type: ignore[type-arg]
    """A set as an expression holds one: a ``list`` (everything that reads a list reads
    it), typed so that what needs a set (a resource's ``for_each``) can tell it from a
    list or tuple."""

    __slots__ = ()


def is_set(value: Any) -> bool:
    """True for a set made by ``toset``, a set function or a ``set(...)`` conversion."""
    return isinstance(value, SetValue)


def as_set(values: list[Any]) -> list[Any]:
    """A set as bcdr holds one: a list without duplicates, in a stable sorted order (a
    ``SetValue``)."""
    out: list[Any] = []
    seen: set[str] = set()
    for v in values:
        key = json.dumps(v, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return SetValue(sorted(out, key=_sort_key))
