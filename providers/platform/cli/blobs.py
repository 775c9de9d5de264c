"""``bcdr platform blob list|get|put|delete``: the blobs of a storage container, directly.

A container is named by its id (``storage_container.<label>.id``). Blobs are data, not
attributes of a resource, so these commands never show in ``bcdr drift``.
"""

from __future__ import annotations

import sys

import click

from providers.platform.cli.common import fail, home_option, platform_of
from sdk.cli import DashCommand, DashGroup, no_color_option, opt
from sdk.units import human_bytes


@click.group(cls=DashGroup)
def blob() -> None:
    """List, read, write and delete the blobs of a storage container (by its id)."""


@blob.command(name="list", cls=DashCommand)
@no_color_option
@home_option
@opt("prefix", default="", metavar="PREFIX", help="Only blobs whose names start with PREFIX.")
@opt("json", "as_json", is_flag=True, help="Print JSON.")
@click.argument("container_id")
@click.pass_context
def list_cmd(
    ctx: click.Context,
    no_color: bool,
    home: str | None,
    prefix: str,
    as_json: bool,
    container_id: str,
) -> None:
    """List a container's blobs: name, size and when each was written."""
    _, out, platform, home_dir = platform_of(ctx, no_color, home)
    items = platform.blob_list(home_dir, container_id, prefix)
    if as_json:
        out.json(items)
        return
    for item in items:
        out.print(f"{item['name']}  {human_bytes(item['size'])}  {item['last_modified']}")
    out.print(f"{len(items)} blob{'s' if len(items) != 1 else ''}.")


@blob.command(name="get", cls=DashCommand)
@no_color_option
@home_option
@opt("out", "output", metavar="FILE", help="Write the blob to FILE (new; default: stdout).")
@click.argument("container_id")
@click.argument("name")
@click.pass_context
def get_cmd(
    ctx: click.Context,
    no_color: bool,
    home: str | None,
    output: str | None,
    container_id: str,
    name: str,
) -> None:
    """Read a blob: to FILE with -out, else to stdout."""
    c, out, platform, home_dir = platform_of(ctx, no_color, home)
    path = c.rel(output) if output else None
    if path is not None and path.exists():
        raise fail(f"{output} exists already", "Remove it or give another -out.")
    data = platform.blob_get(home_dir, container_id, name)
    if path is None:
        stdout = sys.stdout.buffer  # the bytes as they are, not text
        stdout.write(data)
        stdout.flush()
        return
    path.write_bytes(data)
    out.print(f"Wrote {human_bytes(len(data))} of blob {name} to {output}.")


@blob.command(name="put", cls=DashCommand)
@no_color_option
@home_option
@click.argument("container_id")
@click.argument("name")
@click.argument("file")
@click.pass_context
def put_cmd(
    ctx: click.Context, no_color: bool, home: str | None, container_id: str, name: str, file: str
) -> None:
    """Write FILE as blob NAME (whole; replaces a blob of that name)."""
    c, out, platform, home_dir = platform_of(ctx, no_color, home)
    done = platform.blob_put(home_dir, container_id, name, c.rel(file))
    out.print(f"Put blob {done['name']} ({human_bytes(done['size'])}).")


@blob.command(name="delete", cls=DashCommand)
@no_color_option
@home_option
@click.argument("container_id")
@click.argument("name")
@click.pass_context
def delete_cmd(
    ctx: click.Context, no_color: bool, home: str | None, container_id: str, name: str
) -> None:
    """Delete blob NAME."""
    _, out, platform, home_dir = platform_of(ctx, no_color, home)
    platform.blob_delete(home_dir, container_id, name)
    out.print(f"Deleted blob {name}.")
