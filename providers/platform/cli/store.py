"""``bcdr verify`` and ``bcdr gc``: check every stored byte; delete what nothing references.

Always holds: verify exits 1 naming each problem and what to do; gc reports what it freed.
"""

from __future__ import annotations

import click

from providers.platform.cli.common import home_option, platform_of
from sdk.cli import DashCommand, no_color_option, opt
from sdk.diagnostics import DiagnosticsError
from sdk.diagnostics import error as diag_error
from sdk.units import human_bytes

# what each kind of verify problem is called, and what to do about it
_VERIFY_ADVICE = {
    "key": (
        "Stored data could not be verified: a key is not usable",
        "Enable or recover the key, then run bcdr verify again.",
    ),
    "index": (
        "The block index is damaged or out of date",
        "The packs hold everything it holds: rebuild it with bcdr verify -rebuild-index. "
        "Until then, restores from this store are refused.",
    ),
}
_DAMAGED = (
    "Stored data failed verification",
    "Restore points using it cannot be restored safely; take new ones.",
)


@click.command(cls=DashCommand)
@no_color_option
@home_option
@opt(
    "sample",
    type=click.FloatRange(0, 100, min_open=True),
    default=100.0,
    show_default=True,
    metavar="PERCENT",
    help="Check only this percentage of the stored blocks, chosen at random.",
)
@opt(
    "rebuild-index",
    is_flag=True,
    help="First rebuild each block store's index from its packs (a lost or damaged "
    "index.db), then verify.",
)
@click.pass_context
def verify(
    ctx: click.Context, no_color: bool, home: str | None, sample: float, rebuild_index: bool
) -> None:
    """Check every stored byte (blocks, packs, manifests, the index); exit 1 when something
    is wrong, naming the restore points affected."""
    _, out, platform, home_dir = platform_of(ctx, no_color, home)
    with out.progress() as progress:
        result = platform.verify(home_dir, sample, progress, rebuild_index)
    for done in result.get("rebuilt", []):
        kept = f"; the index it replaced is kept as {done['kept_as']}" if done["kept_as"] else ""
        out.print(
            f"Rebuilt the block index of {done['store_dir']} from {done['packs']} packs "
            f"({done['blocks']} blocks){kept}."
        )
    blocks, size = result.get("blocks_checked", 0), result.get("bytes_checked", 0)
    packs, manifests = result.get("packs_checked", 0), result.get("manifests_checked", 0)
    problems = list(result.get("problems", []))
    out.print(
        f"Checked {blocks} blocks ({human_bytes(size)}), {packs} packs and {manifests} manifests."
    )
    if result.get("legacy_objects"):
        out.print(
            f"{result['legacy_objects']} packs and manifests predate checksums (format 1): "
            "they were checked for everything but a checksum."
        )
    if problems:
        raise DiagnosticsError(
            [
                diag_error(title, f"{p['message']}\n{advice}")
                for p in problems
                for title, advice in [_VERIFY_ADVICE.get(p.get("what"), _DAMAGED)]
            ]
        )
    out.print("No problems found.", style="bold green")


@click.command(cls=DashCommand)
@no_color_option
@home_option
@click.pass_context
def gc(ctx: click.Context, no_color: bool, home: str | None) -> None:
    """Delete stored blocks that no restore point references any more, and what interrupted
    writes left behind."""
    _, out, platform, home_dir = platform_of(ctx, no_color, home)
    with out.progress() as progress:
        result = platform.gc(home_dir, progress)
    size = human_bytes
    deleted = result.get("blocks_deleted", 0)
    out.print(
        f"Deleted {deleted} unreferenced blocks, freed {size(result.get('block_bytes_freed', 0))}."
    )
    freed = [result.get("block_bytes_freed", 0)]
    if result.get("temp_files_deleted"):
        freed.append(result["temp_bytes_freed"])
        out.print(
            f"Deleted {result['temp_files_deleted']} temp files left by interrupted writes, "
            f"freed {size(result['temp_bytes_freed'])}."
        )
    if result.get("objects_deleted"):
        freed.append(result["object_bytes_freed"])
        out.print(
            f"Deleted {result['objects_deleted']} packs and manifests that no restore point "
            f"or index row names (written by interrupted runs), freed "
            f"{size(result['object_bytes_freed'])}."
        )
    if len(freed) > 1:
        out.print(f"Freed {size(result.get('bytes_freed', sum(freed)))} in all.")
