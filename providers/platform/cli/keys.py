"""``bcdr platform whoami``, ``subscription create|list``, ``key enable|disable`` and
``recover``/``purge`` of soft-deleted key vaults, keys and secrets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from providers.platform.cli.common import home_option, platform_of
from sdk.cli import DashCommand, DashGroup, Output, no_color_option, opt


@click.command(cls=DashCommand)
@no_color_option
@home_option
@opt("json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def whoami(ctx: click.Context, no_color: bool, home: str | None, as_json: bool) -> None:
    """Print your object id (the principal access policies name), the restore service's, and
    the tenant with its subscriptions."""
    _, out, platform, home_dir = platform_of(ctx, no_color, home)
    me = platform.whoami(home_dir)
    if as_json:
        out.json(me)
        return
    out.print(f"object id        {me['object_id']}  (current-user in an access_policy)")
    out.print(f"tenant           {me['tenant_id']}")
    out.print(f"subscription     {me['subscription']}  (the default)")
    out.print(f"restore service  {me['restore_service_principal']}")
    subs = me.get("subscriptions") or []
    out.print(f"\nTenant {me['tenant_id']}: {_count(len(subs), 'subscription')}")
    _print_subscriptions(out, subs)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _print_subscriptions(out: Output, subs: list[dict[str, Any]]) -> None:
    for sub in subs:
        extra = "  (default)" if sub.get("is_default") else ""
        out.print(f"  {sub['id']}  {sub.get('name') or '-':<16}  {sub['created_at']}{extra}")


@click.group(cls=DashGroup)
def subscription() -> None:
    """The tenant's subscriptions: add one (to restore or replicate into), list them."""


@subscription.command(name="create")
@no_color_option
@home_option
@opt("id", "sub_id", metavar="UUID", help="The subscription id (default: a new uuid).")
@opt("name", metavar="NAME", help="A display name (letters, digits, '.', '_', '-').")
@opt("json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def subscription_create(
    ctx: click.Context,
    no_color: bool,
    home: str | None,
    sub_id: str | None,
    name: str | None,
    as_json: bool,
) -> None:
    """Add a subscription to the tenant; specs then name it in `subscription` or
    `target_subscription`."""
    _, out, platform, home_dir = platform_of(ctx, no_color, home)
    made = platform.subscription_create(home_dir, sub_id, name)
    if as_json:
        out.json(made)
        return
    named = f" ({made['name']})" if made.get("name") else ""
    out.print(f"Created subscription {made['id']}{named} in tenant {made['tenant_id']}.")


@subscription.command(name="list")
@no_color_option
@home_option
@opt("json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def subscription_list(ctx: click.Context, no_color: bool, home: str | None, as_json: bool) -> None:
    """List the tenant's subscriptions, the default one first."""
    _, out, platform, home_dir = platform_of(ctx, no_color, home)
    subs = platform.subscription_list(home_dir)
    if as_json:
        out.json(subs)
        return
    _print_subscriptions(out, subs)
    out.print(f"{_count(len(subs), 'subscription')}.")


@click.group(cls=DashGroup)
def key() -> None:
    """Enable or disable a key vault key."""


def _key_vault_verb(action: str, doc: str, argument: str, said: Callable[[dict], str]) -> Any:
    """A command that runs ``platform.key_vault(action)`` on its one id argument and prints
    ``said(result)``."""

    @no_color_option
    @home_option
    @click.argument(argument)
    @click.pass_context
    def command(ctx: click.Context, no_color: bool, home: str | None, **ids: str) -> None:
        _, out, platform, home_dir = platform_of(ctx, no_color, home)
        out.print(said(platform.key_vault(home_dir, action, ids[argument])))

    command.__doc__ = doc
    return command


def _key_state(action: str) -> Any:
    return _key_vault_verb(
        action,
        f"{action.capitalize()} a key (a disabled key refuses every use).",
        "key_id",
        lambda done: f"{done['id']}: {'enabled' if done['enabled'] else 'disabled'}.",
    )


key.command(name="enable")(_key_state("enable"))
key.command(name="disable")(_key_state("disable"))


def _vault_verb(action: str, doc: str) -> Any:
    past = f"{action}{'d' if action.endswith('e') else 'ed'}"
    return _key_vault_verb(action, doc, "id", lambda done: f"{done['id']}: {past}.")


recover = click.command(cls=DashCommand, name="recover")(
    _vault_verb("recover", "Recover a soft-deleted key vault, key or secret.")
)
purge = click.command(cls=DashCommand, name="purge")(
    _vault_verb(
        "purge",
        "Purge a soft-deleted key vault, key or secret for good (refused under purge "
        "protection until its retention ends).",
    )
)
