"""``bcdr platform``: act on the embedded platform directly, the way ``az`` acts on Azure.

``list``, ``show``, ``disk write``, ``disk export``, ``vm power``, ``tag`` and ``delete``
change the platform outside any plan, so users can rehearse drift and recovery: each change
is one that ``bcdr drift`` and ``bcdr plan -refresh-only`` then report and ``bcdr apply``
puts back. Always holds: the platform is reached only through
``engine.registry.load_platform()`` (never the core), at the home that ``serve``, ``verify``
and ``gc`` use; only this module prints; paths given to ``--input``/``--output`` are relative
to the working directory (``-chdir``); nothing here prints a secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import click

from engine.cli.app import CliError, main, no_color_option, opt, print_json, session_of
from engine.cli.platform import _platform, home_option, platform_of
from engine.ui import ProgressBars
from sdk.units import human_bytes

_SIZE = re.compile(r"^(\d+)\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib)$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


class ByteCount(click.ParamType):
    """A byte count: a number, optionally with K, M or G (powers of 1024: 1MiB, 64K)."""

    name = "BYTES"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int):
            return value
        match = _SIZE.match(str(value).strip())
        if not match:
            self.fail(f"{value!r} is not a byte count: give e.g. 1048576, 64K or 1MiB", param, ctx)
        return int(match.group(1)) * _UNITS[match.group(2)[:1].lower()]


def _tags_text(tags: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))


@main.group(name="platform")
def platform_group() -> None:
    """Act on the embedded platform directly, like `az` on Azure (to rehearse drift and
    recovery). Each change shows in `bcdr drift`; `bcdr apply` puts it back."""


@platform_group.command(name="list")
@no_color_option
@home_option
@opt("type", "type_", metavar="TYPE", help="Only this type: disk, vm, group, collection, ...")
@opt("json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def list_cmd(
    ctx: click.Context, no_color: bool, home: str | None, type_: str | None, as_json: bool
) -> None:
    """List the platform's objects: id, type, region, state and tags."""
    _, ui, platform, home_dir = platform_of(ctx, no_color, home)
    items = platform.list_resources(home_dir, type_)
    if as_json:
        print_json(ui, items)
        return
    if not items:
        ui.print("No objects." if not type_ else f"No objects of type {type_}.")
        return
    for item in items:
        extra = [x for x in (item.get("summary"), _tags_text(item.get("tags") or {})) if x]
        if not item.get("in_inventory"):
            extra.append("not in the inventory")
        line = f"{item['id']}\n    {item.get('type_name') or item['type']}  {item['region']}"
        ui.print(line + ("  " + "; ".join(extra) if extra else ""))
    ui.print(f"{len(items)} object{'s' if len(items) != 1 else ''}.")


@platform_group.command()
@no_color_option
@home_option
@click.argument("id")
@click.pass_context
def show(ctx: click.Context, no_color: bool, home: str | None, id: str) -> None:
    """Show one object (as JSON): its properties and what the platform knows of it."""
    _, ui, platform, home_dir = platform_of(ctx, no_color, home)
    ui.write(json.dumps(platform.show(home_dir, id), indent=2) + "\n")


@platform_group.group()
def disk() -> None:
    """Guest I/O on a managed disk: write to it, export it."""


@disk.command(name="write")
@no_color_option
@home_option
@click.argument("disk_id")
@opt("offset", type=ByteCount(), required=True, help="Where to write, in bytes (or 1MiB, 64K).")
@opt("input", "input_", metavar="FILE", required=True, help="The bytes to write (a file).")
@click.pass_context
def disk_write(
    ctx: click.Context, no_color: bool, home: str | None, disk_id: str, offset: int, input_: str
) -> None:
    """Write a file's bytes into a disk at an offset, as its VM's guest would.

    The write is tracked, so the next restore point stores only the blocks it touched.
    """
    s, ui, platform, home_dir = platform_of(ctx, no_color, home)
    done = platform.disk_write(home_dir, disk_id, offset, s.rel(input_))
    n = done["blocks"]
    ui.print(
        f"Wrote {done['bytes']} bytes at offset {done['offset']} of {done['id']} "
        f"({n} block{'s' if n != 1 else ''} of 64 KiB changed)."
    )


@disk.command(name="export")
@no_color_option
@home_option
@click.argument("disk_id")
@opt("output", metavar="FILE", required=True, help="The new file (never overwritten).")
@click.pass_context
def disk_export(
    ctx: click.Context, no_color: bool, home: str | None, disk_id: str, output: str
) -> None:
    """Copy a disk's bytes into a new raw image file and print its sha256."""
    s, ui, platform, home_dir = platform_of(ctx, no_color, home)
    path = s.rel(output)
    if path.exists():
        raise CliError(f"{output} exists already", "Remove it or give another --output.")
    with ProgressBars(ui) as bars:
        done = platform.disk_export(home_dir, disk_id, path, bars.report)
    ui.print(f"Exported {human_bytes(done['bytes'])} of {done['id']} to {output}.")
    ui.print(f"sha256 {done['sha256']}")


@platform_group.group()
def vm() -> None:
    """Act on a virtual machine."""


@vm.command(name="power")
@no_color_option
@home_option
@click.argument("vm_id")
@click.argument("state", type=click.Choice(["running", "stopped"]))
@click.pass_context
def vm_power(ctx: click.Context, no_color: bool, home: str | None, vm_id: str, state: str) -> None:
    """Start (running) or stop (stopped) a VM."""
    _, ui, platform, home_dir = platform_of(ctx, no_color, home)
    done = platform.vm_power(home_dir, vm_id, state)
    if done["before"] == done["power_state"]:
        ui.print(f"{done['id']} is {state} already.")
    else:
        ui.print(f"{done['id']}: {done['before']} -> {done['power_state']}.")


def _parse_tags(pairs: tuple[str, ...]) -> dict[str, str | None]:
    tags: dict[str, str | None] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.UsageError(f"{pair!r} is not KEY=VALUE (KEY= removes the tag)")
        tags[key] = value if value else None
    return tags


@platform_group.command()
@no_color_option
@home_option
@click.argument("id")
@click.argument("tags", nargs=-1, required=True, metavar="KEY=VALUE...")
@click.pass_context
def tag(
    ctx: click.Context, no_color: bool, home: str | None, id: str, tags: tuple[str, ...]
) -> None:
    """Set tags on an object (KEY=VALUE, several allowed); KEY= removes a tag."""
    s = session_of(ctx)
    ui = s.use_ui(no_color)
    wanted = _parse_tags(tags)
    platform, home_dir = _platform(s, home)
    done = platform.tag(home_dir, id, wanted)
    ui.print(f"Tags of {done['id']}: {_tags_text(done['tags']) or '(none)'}")


@platform_group.command()
@no_color_option
@home_option
@click.argument("id")
@click.pass_context
def delete(ctx: click.Context, no_color: bool, home: str | None, id: str) -> None:
    """Delete a disk, VM, resource group, collection or restore point (no undo), or
    soft-delete a key vault, key or secret (`bcdr platform recover` brings it back).

    A collection goes with its restore points; a disk attached to a VM and a group that is
    not empty are refused.
    """
    _, ui, platform, home_dir = platform_of(ctx, no_color, home)
    with ProgressBars(ui) as bars:
        done = platform.delete(home_dir, id, bars.report)
    for gone in done["deleted"]:
        if done.get("soft"):
            ui.print(f"Soft-deleted {gone} (recover it with: bcdr platform recover ID)")
        else:
            ui.print(f"Deleted {gone}")
    if done.get("bytes_freed"):
        ui.print(f"Freed {human_bytes(done['bytes_freed'])} of stored blocks.")


# -- key vaults and file-level recovery ---------------------------------------------------------
@platform_group.command()
@no_color_option
@home_option
@opt("json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def whoami(ctx: click.Context, no_color: bool, home: str | None, as_json: bool) -> None:
    """Print your object id (the principal access policies name), the restore service's, and
    the tenant with its subscriptions."""
    _, ui, platform, home_dir = platform_of(ctx, no_color, home)
    me = platform.whoami(home_dir)
    if as_json:
        print_json(ui, me)
        return
    ui.print(f"object id        {me['object_id']}  (current-user in an access_policy)")
    ui.print(f"tenant           {me['tenant_id']}")
    ui.print(f"subscription     {me['subscription']}  (the default)")
    ui.print(f"restore service  {me['restore_service_principal']}")
    subs = me.get("subscriptions") or []
    ui.print(f"\nTenant {me['tenant_id']}: {_count(len(subs), 'subscription')}")
    _print_subscriptions(ui, subs)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _print_subscriptions(ui: Any, subs: list[dict[str, Any]]) -> None:
    for sub in subs:
        extra = "  (default)" if sub.get("is_default") else ""
        ui.print(f"  {sub['id']}  {sub.get('name') or '-':<16}  {sub['created_at']}{extra}")


@platform_group.group()
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
    _, ui, platform, home_dir = platform_of(ctx, no_color, home)
    made = platform.subscription_create(home_dir, sub_id, name)
    if as_json:
        print_json(ui, made)
        return
    named = f" ({made['name']})" if made.get("name") else ""
    ui.print(f"Created subscription {made['id']}{named} in tenant {made['tenant_id']}.")


@subscription.command(name="list")
@no_color_option
@home_option
@opt("json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def subscription_list(ctx: click.Context, no_color: bool, home: str | None, as_json: bool) -> None:
    """List the tenant's subscriptions, the default one first."""
    _, ui, platform, home_dir = platform_of(ctx, no_color, home)
    subs = platform.subscription_list(home_dir)
    if as_json:
        print_json(ui, subs)
        return
    _print_subscriptions(ui, subs)
    ui.print(f"{_count(len(subs), 'subscription')}.")


@platform_group.group()
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
        _, ui, platform, home_dir = platform_of(ctx, no_color, home)
        ui.print(said(platform.key_vault(home_dir, action, ids[argument])))

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


platform_group.command(name="recover")(
    _vault_verb("recover", "Recover a soft-deleted key vault, key or secret.")
)
platform_group.command(name="purge")(
    _vault_verb(
        "purge",
        "Purge a soft-deleted key vault, key or secret for good (refused under purge "
        "protection until its retention ends).",
    )
)


@platform_group.command(name="recover-files")
@no_color_option
@home_option
@click.argument("restore_point_id")
@opt("output", metavar="DIR", required=True, help="Folder for the disk images (made if missing).")
@click.pass_context
def recover_files(
    ctx: click.Context, no_color: bool, home: str | None, restore_point_id: str, output: str
) -> None:
    """File-level recovery: write a restore point's disk images into DIR, to mount and copy
    files from. Refused for a VM with encrypted disks (rule REP-7)."""
    s, ui, platform, home_dir = platform_of(ctx, no_color, home)
    with ProgressBars(ui) as bars:
        done = platform.recover_files(home_dir, restore_point_id, s.rel(output), bars.report)
    for f in done["files"]:
        ui.print(f"{f['path']}  {human_bytes(f['bytes'])}  sha256 {f['sha256']}")
    n = len(done["files"])
    ui.print(f"Recovered {n} disk image{'s' if n != 1 else ''} of {done['id']} into {output}.")
