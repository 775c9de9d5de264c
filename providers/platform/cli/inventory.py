"""``bcdr platform list``, ``show``, ``vm power``, ``vm extensions``, ``tag`` and ``delete``.

Each change is one that ``bcdr drift`` and ``bcdr plan -refresh-only`` then report and
``bcdr apply`` puts back.
"""

from __future__ import annotations

from typing import Any

import click

from providers.platform.cli.common import fabric_home, home_option, platform_of, verbs
from sdk.cli import DashCommand, DashGroup, context_of, no_color_option, opt
from sdk.units import human_bytes


def _tags_text(tags: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))


@click.command(cls=DashCommand, name="list")
@no_color_option
@home_option
@opt("type", "type_", metavar="TYPE", help="Only this type: disk, vm, group, collection, ...")
@opt("json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def list_cmd(
    ctx: click.Context, no_color: bool, home: str | None, type_: str | None, as_json: bool
) -> None:
    """List the platform's objects: id, type, region, state and tags."""
    _, out, platform, home_dir = platform_of(ctx, no_color, home)
    items = platform.list_resources(home_dir, type_)
    if as_json:
        out.json(items)
        return
    if not items:
        out.print("No objects." if not type_ else f"No objects of type {type_}.")
        return
    for item in items:
        extra = [x for x in (item.get("summary"), _tags_text(item.get("tags") or {})) if x]
        if not item.get("in_inventory"):
            extra.append("not in the inventory")
        line = f"{item['id']}\n    {item.get('type_name') or item['type']}  {item['region']}"
        out.print(line + ("  " + "; ".join(extra) if extra else ""))
    out.print(f"{len(items)} object{'s' if len(items) != 1 else ''}.")


@click.command(cls=DashCommand)
@no_color_option
@home_option
@click.argument("id")
@click.pass_context
def show(ctx: click.Context, no_color: bool, home: str | None, id: str) -> None:
    """Show one object (as JSON): its properties and what the platform knows of it."""
    import json  # here: -help loads this module

    _, out, platform, home_dir = platform_of(ctx, no_color, home)
    out.write(json.dumps(platform.show(home_dir, id), indent=2) + "\n")


@click.group(cls=DashGroup)
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
    _, out, platform, home_dir = platform_of(ctx, no_color, home)
    done = platform.vm_power(home_dir, vm_id, state)
    if done["before"] == done["power_state"]:
        out.print(f"{done['id']} is {state} already.")
    else:
        out.print(f"{done['id']}: {done['before']} -> {done['power_state']}.")


@vm.command(name="extensions", cls=DashCommand)
@no_color_option
@home_option
@opt("json", "as_json", is_flag=True, help="Print JSON.")
@click.argument("vm_id")
@click.pass_context
def vm_extensions(
    ctx: click.Context, no_color: bool, home: str | None, as_json: bool, vm_id: str
) -> None:
    """List the extensions installed on a VM: publisher, type, handler version and state
    (the VMSnapshot extension arrives with its first scheduled backup)."""
    from providers.platform.backups import extension_json, open_protection

    c = context_of(ctx)
    out = c.output(no_color)
    with open_protection(fabric_home(c, home)) as p:
        found = [extension_json(e) for e in p.extensions(vm_id)]
    if as_json:
        out.json(found)
        return
    for e in found:
        out.print(
            f"{e['name']}  {e['publisher']}  {e['type']} {e['type_handler_version']}  "
            f"{e['state']}  (installed {e['installed_at']})"
        )
    out.print(f"{len(found)} extension{'s' if len(found) != 1 else ''}.")


def _parse_tags(pairs: tuple[str, ...]) -> dict[str, str | None]:
    tags: dict[str, str | None] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.UsageError(f"{pair!r} is not KEY=VALUE (KEY= removes the tag)")
        tags[key] = value if value else None
    return tags


@click.command(cls=DashCommand)
@no_color_option
@home_option
@click.argument("id")
@click.argument("tags", nargs=-1, required=True, metavar="KEY=VALUE...")
@click.pass_context
def tag(
    ctx: click.Context, no_color: bool, home: str | None, id: str, tags: tuple[str, ...]
) -> None:
    """Set tags on an object (KEY=VALUE, several allowed); KEY= removes a tag."""
    c = context_of(ctx)
    out = c.output(no_color)
    wanted = _parse_tags(tags)
    platform, home_dir = verbs(), fabric_home(c, home)
    done = platform.tag(home_dir, id, wanted)
    out.print(f"Tags of {done['id']}: {_tags_text(done['tags']) or '(none)'}")


@click.command(cls=DashCommand)
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
    _, out, platform, home_dir = platform_of(ctx, no_color, home)
    with out.progress() as progress:
        done = platform.delete(home_dir, id, progress)
    for gone in done["deleted"]:
        if done.get("soft"):
            out.print(f"Soft-deleted {gone} (recover it with: bcdr platform recover ID)")
        else:
            out.print(f"Deleted {gone}")
    if done.get("bytes_freed"):
        out.print(f"Freed {human_bytes(done['bytes_freed'])} of stored blocks.")
