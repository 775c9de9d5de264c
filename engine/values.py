"""Values that flow through the engine, and the one value that is not known yet.

Values are plain Python data: ``str``, ``int``/``float``, ``bool``, ``None`` (null),
``list`` and ``dict`` (sets are sorted, de-duplicated lists). A value that will only be
known after apply is the singleton ``UNKNOWN``; it may stand anywhere inside a list or
dict. Always holds: ``UNKNOWN`` is never written to state.
"""

from __future__ import annotations

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
