"""What ``bcdr schedule`` and ``bcdr backup`` share: the state's vaults and protected VMs,
times on the command line, and the protection service they act through.

A command acts on what this working directory's state holds: the vaults are its
``recovery_services_vault`` resources, the protected VMs its ``backup_protected_vm``
resources, named by address (``backup_protected_vm.web``). Always holds: an address the
state does not hold is an error listing those it does; a protected item's id (for one whose
resource was destroyed, its recovery points kept) is taken as it is; a time is RFC 3339 or
``YYYY-MM-DD HH:MM`` (UTC without an offset).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from providers.platform.cli.common import PROVIDER, fabric_home, fail
from sdk.cli import CommandContext, context_of

if TYPE_CHECKING:
    from core.protection import Protection

VAULT = "recovery_services_vault"
PROTECTED_VM = "backup_protected_vm"


class Moment(click.ParamType):
    """An instant: RFC 3339 (``2027-03-28T01:00:00Z``, ``…+02:00``) or ``YYYY-MM-DD HH:MM``
    (UTC)."""

    name = "TIME"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail(
                f"{value!r} is not a time: give RFC 3339 (2027-03-28T01:00:00Z) or "
                "YYYY-MM-DD HH:MM (UTC)",
                param,
                ctx,
            )
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


class Day(click.ParamType):
    """A date (``2027-06-30``: its start, 00:00 UTC) or a time as ``Moment`` reads it."""

    name = "DATE"

    def convert(self, value: Any, param: Any, ctx: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        if len(text) == 10:
            text += "T00:00:00Z"
        return Moment().convert(text, param, ctx)


@dataclass
class Scope:
    """The state's vaults and protected VMs, and where the platform lives."""

    c: CommandContext
    home: Any
    vaults: dict[str, str]  # address -> vault id
    items: dict[str, str]  # address -> protected item id
    _by_id: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_id = {id.lower(): address for address, id in self.items.items()}

    def address_of(self, item_id: str) -> str | None:
        """The address of a protected item's resource (None when the state has none)."""
        return self._by_id.get(item_id.lower())

    def shown(self, item_id: str) -> str:
        return self.address_of(item_id) or item_id

    def item_id(self, address: str) -> str:
        """The protected item an address (or an item id) names."""
        if address in self.items:
            return self.items[address]
        if address.startswith("/subscriptions/"):
            return address
        known = ", ".join(sorted(self.items)) or f"none: this state has no {PROTECTED_VM}"
        raise fail(
            f"No {PROTECTED_VM} {address!r} in the state",
            f"Give the address of a {PROTECTED_VM} resource (known: {known}), or the id of a "
            "protected item whose resource was destroyed.",
        )

    @contextmanager
    def protection(self) -> Iterator[Protection]:
        from providers.platform.backups import open_protection

        setting = self.c.provider_setting(PROVIDER, "serve_url")
        serve_url = setting.value if setting and isinstance(setting.value, str) else None
        with open_protection(self.home, serve_url) as p:
            yield p


def scope_of(ctx: click.Context, home: str | None) -> Scope:
    """The running command's scope: this state's vaults and protected VMs."""
    c = context_of(ctx)
    return Scope(c, fabric_home(c, home), c.resource_ids(VAULT), c.resource_ids(PROTECTED_VM))


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"
