"""Resource addresses: small frozen value objects (``type.name`` and ``type.name[key]``).

Always holds: addresses are immutable and hashable; ``parse(str(a)) == a``; parsing is
pure, so the parses of a text are one shared object.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_ADDR_RE = re.compile(rf"^(?P<type>{_NAME})\.(?P<name>{_NAME})(?:\[(?P<key>[^\]]+)\])?$")

InstanceKey = int | str | None


class ResourceAddr(NamedTuple):
    """A resource block: ``type.name``.

    A named tuple, not a dataclass: it is the key of every per-resource table of a plan
    (configuration, graph, instances known so far), and a tuple hashes, compares and
    orders (by type, then name) without calling Python code."""

    type: str
    name: str

    def __str__(self) -> str:
        return f"{self.type}.{self.name}"

    def instance(self, key: InstanceKey = None) -> InstanceAddr:
        return InstanceAddr(self, key)

    @classmethod
    def parse(cls, text: str) -> ResourceAddr:
        addr = InstanceAddr.parse(text)
        if addr.key is not None:
            raise ValueError(f"{text!r} names an instance, not a resource")
        return addr.resource


@dataclass(frozen=True)
class InstanceAddr:
    """One instance of a resource: no key, a ``count`` index or a ``for_each`` key."""

    resource: ResourceAddr
    key: InstanceKey = None

    @property
    def type(self) -> str:
        return self.resource.type

    @property
    def name(self) -> str:
        return self.resource.name

    def __str__(self) -> str:
        if self.key is None:
            return str(self.resource)
        if isinstance(self.key, int):
            return f"{self.resource}[{self.key}]"
        return f"{self.resource}[{json.dumps(self.key)}]"

    def sort_key(self) -> tuple[str, str, int, int, str]:
        if self.key is None:
            return (self.type, self.name, 0, 0, "")
        if isinstance(self.key, int):
            return (self.type, self.name, 1, self.key, "")
        return (self.type, self.name, 2, 0, self.key)

    def __lt__(self, other: InstanceAddr) -> bool:
        return self.sort_key() < other.sort_key()

    @classmethod
    def parse(cls, text: str) -> InstanceAddr:
        """Parse ``type.name``, ``type.name[0]`` or ``type.name["key"]``; ValueError if not."""
        return _parse_instance(text)


@lru_cache(maxsize=1 << 16)
def _parse_instance(text: str) -> InstanceAddr:
    """``InstanceAddr.parse``, memoised: a parse is pure and its result immutable, and a
    plan parses each address of the state several times (one text, one object)."""
    m = _ADDR_RE.match(text.strip())
    if not m:
        raise ValueError(
            f"{text!r} is not a resource address; expected TYPE.NAME, TYPE.NAME[0] "
            'or TYPE.NAME["key"]'
        )
    raw = m.group("key")
    key: InstanceKey = None
    if raw is not None:
        raw = raw.strip()
        if raw.lstrip("-").isdigit():
            key = int(raw)
        elif len(raw) >= 2 and raw[0] == raw[-1] == '"':
            key = json.loads(raw)
        else:
            raise ValueError(f"{text!r}: an index is a number or a quoted string")
    return InstanceAddr(ResourceAddr(m.group("type"), m.group("name")), key)
