"""SAS read access to disk restore points: grants, tokens and the HTTP endpoint.

The names below are this package's API, the names callers outside it use; they are
imported from their modules on first use (PEP 562), so importing one module of the
package does not import them all. Modules of this package import from their sibling
modules, never from here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.access.grants import Access
    from core.access.rules import MAX_DURATION_SECONDS, GrantFacts, grant_problems
    from core.access.server import SasServer, make_server, tls_context

_WHERE = {
    "Access": "core.access.grants",
    "GrantFacts": "core.access.rules",
    "MAX_DURATION_SECONDS": "core.access.rules",
    "SasServer": "core.access.server",
    "grant_problems": "core.access.rules",
    "make_server": "core.access.server",
    "tls_context": "core.access.server",
}


def __getattr__(name: str) -> Any:
    """The API's names, from their modules on first use (then cached in this module)."""
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


__all__ = [
    "Access",
    "GrantFacts",
    "MAX_DURATION_SECONDS",
    "SasServer",
    "grant_problems",
    "make_server",
    "tls_context",
]
