"""Values that flow through the engine, the one value that is not known yet, and marks.

Values are plain Python data: ``str``, ``int``/``float``, ``bool``, ``None`` (null),
``list`` and ``dict`` (sets are sorted, de-duplicated lists). A value that will only be
known after apply is the singleton ``UNKNOWN``; it may stand anywhere inside a list or
dict. A value marked sensitive (Terraform's ``sensitive`` mark) is wrapped in
``Sensitive``; marks live only in what an expression reads (variables, locals, resource
instances known so far) and are carried by traversals, while every other node sees plain
values and tells its caller that it read a marked one (``engine/exprnodes.py``). Always
holds: ``UNKNOWN`` is never written to state, and no ``Sensitive`` leaves the evaluator
(plans, state and providers get plain values plus the paths that are sensitive).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class _Unknown:
    """The type of ``UNKNOWN``: a value that is known only after apply."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("an unknown value has no truth value yet")


UNKNOWN = _Unknown()


def is_unknown(value: Any) -> bool:
    """True when ``value`` itself is ``UNKNOWN`` (not looking inside)."""
    return value is UNKNOWN


def is_wholly_known(value: Any) -> bool:
    """True when no ``UNKNOWN`` stands anywhere inside ``value``."""
    if value is UNKNOWN:
        return False
    if isinstance(value, dict):
        return all(is_wholly_known(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(is_wholly_known(v) for v in value)
    return True


def unknown_mask(value: Any) -> Any:
    """Terraform's ``after_unknown``: ``True`` where unknown, same shape elsewhere.

    Known scalars become ``False``; dicts and lists keep their shape.
    """
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return {k: unknown_mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [unknown_mask(v) for v in value]
    return False


def strip_unknown(value: Any) -> Any:
    """Replace every ``UNKNOWN`` by ``None`` (for JSON, next to ``unknown_mask``)."""
    if value is UNKNOWN:
        return None
    if isinstance(value, dict):
        return {k: strip_unknown(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strip_unknown(v) for v in value]
    return value


def apply_mask(value: Any, mask: Any) -> Any:
    """Inverse of ``strip_unknown``+``unknown_mask``: put ``UNKNOWN`` back where masked."""
    if mask is True:
        return UNKNOWN
    if isinstance(mask, dict) and isinstance(value, dict):
        return {k: apply_mask(v, mask.get(k, False)) for k, v in value.items()}
    if isinstance(mask, list) and isinstance(value, list):
        return [apply_mask(v, mask[i] if i < len(mask) else False) for i, v in enumerate(value)]
    return value


class Sensitive:
    """A mark: the value inside is sensitive, and so is everything computed from it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:  # never show the value
        return "Sensitive(...)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sensitive) and other.value == self.value

    __hash__ = None  # type: ignore[assignment]


def mark(value: Any) -> Sensitive:
    """``value`` marked sensitive (a marked value is not marked twice)."""
    return value if isinstance(value, Sensitive) else Sensitive(value)


def unmark(value: Any) -> tuple[Any, bool]:
    """``value`` with every mark in it removed, and whether it held one (``value`` itself,
    not a copy, when it held none)."""
    if not has_mark(value):
        return value, False
    return _strip(value), True


def has_mark(value: Any) -> bool:
    """True when a mark stands anywhere inside ``value``."""
    if isinstance(value, Sensitive):
        return True
    if isinstance(value, dict):
        return any(has_mark(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_mark(v) for v in value)
    return False


def _strip(value: Any) -> Any:
    if isinstance(value, Sensitive):
        return _strip(value.value)
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strip(v) for v in value]
    return value


def mark_paths(value: Any, paths: Iterable[str]) -> Any:
    """``value`` with the values at dotted ``paths`` marked (``*``: each list element).

    The paths are those a state seals (``secret``, ``network.password``,
    ``members.*.token``); a path that is not there marks nothing.
    """
    for path in paths:
        value = _mark_at(value, path.split("."))
    return value


def _mark_at(value: Any, parts: list[str]) -> Any:
    if not parts:
        return mark(value)
    head, rest = parts[0], parts[1:]
    if isinstance(value, Sensitive):
        return value
    if head == "*" and isinstance(value, list):
        return [_mark_at(v, rest) for v in value]
    if isinstance(value, dict) and head in value:
        return {**value, head: _mark_at(value[head], rest)}
    return value
