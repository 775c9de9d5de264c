"""``bcdr platform disk write``/``disk export`` and ``recover-files``: a disk's bytes in and out.

Always holds: an export never overwrites a file; sizes on the command line take K, M and G.
"""

from __future__ import annotations

import re
from typing import Any

import click

from providers.platform.cli.common import fail, home_option, platform_of
from sdk.cli import DashCommand, DashGroup, no_color_option, opt
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


@click.group(cls=DashGroup)
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
    c, out, platform, home_dir = platform_of(ctx, no_color, home)
    done = platform.disk_write(home_dir, disk_id, offset, c.rel(input_))
    n = done["blocks"]
    out.print(
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
    c, out, platform, home_dir = platform_of(ctx, no_color, home)
    path = c.rel(output)
    if path.exists():
        raise fail(f"{output} exists already", "Remove it or give another --output.")
    with out.progress() as progress:
        done = platform.disk_export(home_dir, disk_id, path, progress)
    out.print(f"Exported {human_bytes(done['bytes'])} of {done['id']} to {output}.")
    out.print(f"sha256 {done['sha256']}")


@click.command(cls=DashCommand, name="recover-files")
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
    c, out, platform, home_dir = platform_of(ctx, no_color, home)
    with out.progress() as progress:
        done = platform.recover_files(home_dir, restore_point_id, c.rel(output), progress)
    for f in done["files"]:
        out.print(f"{f['path']}  {human_bytes(f['bytes'])}  sha256 {f['sha256']}")
    n = len(done["files"])
    out.print(f"Recovered {n} disk image{'s' if n != 1 else ''} of {done['id']} into {output}.")
