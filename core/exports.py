"""A core package's declared API, imported lazily (PEP 562).

A package's ``__init__`` names its API in ``_WHERE`` (name → defining module) and sets
``__getattr__ = lazy_exports(__name__, _WHERE)``. Always holds: a name is imported from its
defining module on first use and then kept in the package, so importing one module of a
package does not import the others; a name not in the API is an ``AttributeError``. The
names are those callers outside the package use; modules of the package import from their
sibling modules, never from its ``__init__``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, where: dict[str, str]) -> Callable[[str], Any]:
    """The module-level ``__getattr__`` of ``package`` for the names in ``where``."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
