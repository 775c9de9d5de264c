"""Where the engine finds providers: Python entry points.

The engine never imports ``providers`` or ``core`` by name. Providers register under the
entry-point group ``bcdr.providers`` (a zero-argument factory returning a Provider); the
commands a provider package brings, under ``bcdr.commands`` (``engine.cli.mounting``); both
are read through ``engine.entrypoints``.
A provider configured twice (``provider "platform" { alias = "west" }``) gets a second
instance, made by the same factory when first asked (``aliased``); an instance is named
by its configuration address: ``platform``, ``platform.west`` (``provider_for``).
Always holds: a resource type belongs to exactly one provider, and a provider's schemas are
read once, when the registry is made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only; no runtime import of providers
    from sdk import Provider, Schema


class Registry:
    """Providers by name and by the resource types they serve."""

    def __init__(
        self,
        providers: Iterable[Provider],
        factories: dict[str, Callable[[], Provider]] | None = None,
    ) -> None:
        self.providers: dict[str, Provider] = {}
        self._by_type: dict[str, Provider] = {}
        self._schemas: dict[str, Schema] = {}  # read once: a plan asks for each body's
        self._factories = dict(factories or {})
        self._aliases: dict[str, Provider] = {}  # "platform.west" -> its own instance
        for p in providers:
            if p.name in self.providers:
                raise RuntimeError(f"two providers are named {p.name!r}")
            self.providers[p.name] = p
            for type_name, schema in p.schemas().items():
                if type_name in self._by_type:
                    raise RuntimeError(f"resource type {type_name!r} is served twice")
                self._by_type[type_name] = p
                self._schemas[type_name] = schema

    def provider_for(self, type_name: str, address: str | None = None) -> Provider | None:
        """The provider serving ``type_name``: the instance of configuration ``address``
        (``platform.west``) when it names an alias, else the default one; None when none
        serves it, or the alias was not configured."""
        p = self._by_type.get(type_name)
        if p is None or not address or "." not in address:
            return p
        return self._aliases.get(address)

    def aliased(self, name: str, alias: str) -> Provider | None:
        """Provider ``name``'s instance for ``alias`` (made on first use); None when the
        provider is not installed or cannot make a second instance."""
        address = f"{name}.{alias}"
        if address not in self._aliases:
            factory = self._factories.get(name)
            if factory is None:
                return None
            self._aliases[address] = factory()
        return self._aliases[address]

    def schema(self, type_name: str) -> Schema | None:
        return self._schemas.get(type_name)

    def types(self) -> list[str]:
        return sorted(self._by_type)

    def close(self) -> None:
        for p in [*self.providers.values(), *self._aliases.values()]:
            p.close()


def load_registry() -> Registry:
    """Instantiate every installed provider (entry points ``bcdr.providers``)."""
    from engine.entrypoints import entry_points

    factories = [ep.load() for ep in entry_points("bcdr.providers")]
    providers = [f() for f in factories]
    return Registry(providers, {p.name: f for p, f in zip(providers, factories, strict=True)})
