"""Where the engine finds providers: Python entry points.

The engine never imports ``providers`` or ``core`` by name. Providers register under the
entry-point group ``bcdr.providers`` (a zero-argument factory returning a Provider); the
commands a provider package brings, under ``bcdr.commands`` (``engine.cli.mounting``); both
are read through ``engine.entrypoints``.
Always holds: a resource type belongs to exactly one provider, and a provider's schemas are
read once, when the registry is made.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only; no runtime import of providers
    from sdk import Provider, Schema


class Registry:
    """Providers by name and by the resource types they serve."""

    def __init__(self, providers: Iterable[Provider]) -> None:
        self.providers: dict[str, Provider] = {}
        self._by_type: dict[str, Provider] = {}
        self._schemas: dict[str, Schema] = {}  # read once: a plan asks for each body's
        for p in providers:
            if p.name in self.providers:
                raise RuntimeError(f"two providers are named {p.name!r}")
            self.providers[p.name] = p
            for type_name, schema in p.schemas().items():
                if type_name in self._by_type:
                    raise RuntimeError(f"resource type {type_name!r} is served twice")
                self._by_type[type_name] = p
                self._schemas[type_name] = schema

    def provider_for(self, type_name: str) -> Provider | None:
        return self._by_type.get(type_name)

    def schema(self, type_name: str) -> Schema | None:
        return self._schemas.get(type_name)

    def types(self) -> list[str]:
        return sorted(self._by_type)

    def close(self) -> None:
        for p in self.providers.values():
            p.close()


def load_registry() -> Registry:
    """Instantiate every installed provider (entry points ``bcdr.providers``)."""
    from engine.entrypoints import entry_points

    return Registry(ep.load()() for ep in entry_points("bcdr.providers"))
