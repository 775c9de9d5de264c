"""SAS read access to disk restore points: grants, tokens and the HTTP endpoint.

Its API is the names below (``core.exports`` says how they load).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.exports import lazy_exports

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


__getattr__ = lazy_exports(__name__, _WHERE)


__all__ = [
    "Access",
    "GrantFacts",
    "MAX_DURATION_SECONDS",
    "SasServer",
    "grant_problems",
    "make_server",
    "tls_context",
]
