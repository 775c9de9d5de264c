"""Where the engine finds providers and the embedded platform: Python entry points.

The engine never imports ``providers`` or ``core`` by name. Providers register under the
entry-point group ``bcdr.providers`` (a zero-argument factory returning a Provider); the
platform's domain verbs (``serve``, ``verify``, ``gc``, ``platform ...``) under
``bcdr.platform``.
Always holds: a resource type belongs to exactly one provider.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the protocol's types only; no runtime import of providers
    from sdk import Provider, Schema

Progress = Callable[[str, int, int], None]


class Platform(Protocol):
    """Domain verbs that act on the embedded platform directly (not through a plan)."""

    def serve(
        self,
        home: Path,
        host: str,
        port: int,
        on_ready: Callable[[str], None],
        cert: Path | None = None,
        key: Path | None = None,
    ) -> None:
        """Serve granted disk restore points over HTTP (HTTPS with ``cert``) until interrupted;
        access lines go to the ``core.access.server`` logger."""
        ...

    def verify(
        self,
        home: Path,
        sample_percent: float,
        progress: Progress | None,
        rebuild_index: bool = False,
    ) -> dict[str, Any]:
        """Check stored data (rebuilding the block index first if asked): {"blocks_checked",
        "bytes_checked", "rebuilt": [...], "problems": [...]}."""
        ...

    def gc(self, home: Path, progress: Progress | None) -> dict[str, Any]:
        """Delete unreferenced blocks and leftovers of interrupted writes: {"blocks_deleted",
        "bytes_freed", "temp_files_deleted", ...}."""
        ...

    # ``bcdr platform``: act on the platform directly. Each change is one that a refresh
    # (``bcdr drift``, ``plan -refresh-only``) reports and ``bcdr apply`` reconciles.
    def list_resources(self, home: Path, type: str | None = None) -> list[dict[str, Any]]:
        """Objects: [{"id", "type", "region", "tags", "in_inventory", "summary"}], by id."""
        ...

    def show(self, home: Path, id: str) -> dict[str, Any]:
        """One object as plain data (no secrets); an unknown id is a user error."""
        ...

    def disk_write(self, home: Path, disk_id: str, offset: int, source: Path) -> dict[str, Any]:
        """A guest write of the file ``source`` at ``offset``: {"id", "bytes", "blocks", ...}."""
        ...

    def disk_export(
        self, home: Path, disk_id: str, output: Path, progress: Progress | None
    ) -> dict[str, Any]:
        """Copy a disk into the new file ``output`` (never overwritten): {"bytes", "sha256"}."""
        ...

    def vm_power(self, home: Path, vm_id: str, power_state: str) -> dict[str, Any]:
        """Set a VM's power state (running, stopped): {"id", "before", "power_state"}."""
        ...

    def tag(self, home: Path, id: str, tags: dict[str, str | None]) -> dict[str, Any]:
        """Set tags (None removes one): {"id", "before", "tags"}."""
        ...

    def delete(self, home: Path, id: str, progress: Progress | None) -> dict[str, Any]:
        """Delete a disk, VM, group, collection or restore point: {"deleted", "bytes_freed"}."""
        ...

    def whoami(self, home: Path) -> dict[str, Any]:
        """The current user's principal: {"object_id", "tenant_id", "subscription", ...}."""
        ...

    def subscription_create(
        self, home: Path, id: str | None = None, name: str | None = None
    ) -> dict[str, Any]:
        """A new subscription: {"id", "name", "created_at", "is_default", "tenant_id"}."""
        ...

    def subscription_list(self, home: Path) -> list[dict[str, Any]]:
        """The tenant's subscriptions: [{"id", "name", "created_at", "is_default"}]."""
        ...

    def key_vault(self, home: Path, action: str, id: str) -> dict[str, Any]:
        """enable/disable a key; delete (soft), recover or purge a vault, key or secret."""
        ...

    def recover_files(
        self, home: Path, restore_point_id: str, output: Path, progress: Progress | None
    ) -> dict[str, Any]:
        """A restore point's disk images as files in ``output``: {"files": [...]}."""
        ...


class Registry:
    """Providers by name and by the resource types they serve."""

    def __init__(self, providers: Iterable[Provider]) -> None:
        self.providers: dict[str, Provider] = {}
        self._by_type: dict[str, Provider] = {}
        for p in providers:
            if p.name in self.providers:
                raise RuntimeError(f"two providers are named {p.name!r}")
            self.providers[p.name] = p
            for type_name in p.schemas():
                if type_name in self._by_type:
                    raise RuntimeError(f"resource type {type_name!r} is served twice")
                self._by_type[type_name] = p

    def provider_for(self, type_name: str) -> Provider | None:
        return self._by_type.get(type_name)

    def schema(self, type_name: str) -> Schema | None:
        p = self._by_type.get(type_name)
        return p.schemas()[type_name] if p else None

    def types(self) -> list[str]:
        return sorted(self._by_type)

    def close(self) -> None:
        for p in self.providers.values():
            p.close()


def load_registry() -> Registry:
    """Instantiate every installed provider (entry points ``bcdr.providers``)."""
    return Registry(ep.load()() for ep in entry_points(group="bcdr.providers"))


def load_platform() -> Platform | None:
    """The embedded platform's domain verbs, if installed."""
    eps = list(entry_points(group="bcdr.platform"))
    return eps[0].load()() if eps else None
