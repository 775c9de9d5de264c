"""``bcdr providers``: the installed providers; ``schema -json`` their schemas, ``docs`` their
reference pages.

Always holds: ``schema -json`` prints only JSON on stdout, in the shape of ``terraform
providers schema -json`` (format 1.0), for every installed provider; a provider's source
address is ``<distribution>/<name>`` (``bcdr/platform``), as bcdr has no registry host.
``docs`` writes each page atomically (a temporary file renamed over it), rewrites only the
pages whose text changed, and removes only pages it generated itself (those that start
with ``resource_docs.GENERATED``) whose type is gone: a hand-written file is never touched.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from engine.cli.app import CliContext, CliError, main, print_json, registry_of, session_of
from sdk.cli import opt

if TYPE_CHECKING:
    from sdk.schema import Schema


def _sources() -> dict[str, str]:
    from engine.entrypoints import entry_points

    return {
        ep.name: f"{ep.dist.name if ep.dist else 'bcdr'}/{ep.name}"
        for ep in entry_points("bcdr.providers")
    }


@main.group(invoke_without_command=True)
@click.pass_context
def providers(ctx: click.Context) -> None:
    """List the installed providers and their resource types; `schema -json`, `docs`."""
    if ctx.invoked_subcommand is not None:
        return
    s = session_of(ctx)
    ui = s.use_ui(True)
    sources = _sources()
    ui.print("Providers installed:")
    for name, p in sorted(registry_of(s).providers.items()):
        ui.print(f"- provider[{sources.get(name, name)}]: {', '.join(sorted(p.schemas()))}")


@providers.command()
@opt("json", "as_json", is_flag=True, help="Print the schemas as JSON (required).")
@click.pass_context
def schema(ctx: click.Context, as_json: bool) -> None:
    """Print the schemas of the installed providers' resource types (Terraform's shape)."""
    from engine.render.schemas import provider_schemas_json

    if not as_json:
        raise CliError("The -json flag is required", "Run `bcdr providers schema -json`.")
    s = session_of(ctx)
    ui = s.use_ui(True)
    print_json(ui, provider_schemas_json(_schemas(s)))


@providers.command()
@opt(
    "out",
    default="docs/resources",
    show_default=True,
    metavar="DIR",
    help="The folder to write the pages into (made if missing; relative to -chdir).",
)
@click.pass_context
def docs(ctx: click.Context, out: str) -> None:
    """Write a Markdown reference page per resource type, and an index, from the schemas.

    Each page gives the type's description, example, arguments (nested blocks as
    sub-tables), computed attributes and the platform rules it enforces. Pages of types
    that no longer exist are removed; other files in DIR are left alone.
    """
    from engine.render.resource_docs import resource_pages

    s = session_of(ctx)
    ui = s.use_ui(True)
    folder = s.rel(out)
    written, same, removed = _write_pages(folder, resource_pages(_schemas(s)))
    ui.print(
        f"{out}: {written} page{'s' * (written != 1)} written, {same} unchanged, {removed} removed."
    )


def _schemas(s: CliContext) -> dict[str, tuple[Schema | None, dict[str, Schema]]]:
    """By source address: each installed provider's block schema and its types' schemas."""
    sources = _sources()
    return {
        sources.get(name, name): (getattr(p, "config_schema", None), p.schemas())
        for name, p in registry_of(s).providers.items()
    }


def _write_pages(folder: Path, pages: dict[str, str]) -> tuple[int, int, int]:
    """Write ``pages`` into ``folder``; remove the generated pages not among them.
    Returns (written, unchanged, removed)."""
    from engine.render.resource_docs import GENERATED

    written = same = removed = 0
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in sorted(pages.items()):
            path = folder / name
            if _read(path) == text:
                same += 1
                continue
            tmp = path.with_name(f".{name}.tmp")
            try:
                with open(tmp, "w", encoding="utf-8", newline="\n") as f:
                    f.write(text)
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
            written += 1
        for path in sorted(folder.glob("*.md")):
            if path.name not in pages and (_read(path) or "").startswith(GENERATED):
                path.unlink()
                removed += 1
    except OSError as exc:
        raise CliError(
            f"Cannot write the reference pages into {folder}",
            f"{exc.strerror or exc}. Give -out a folder you can write to.",
        ) from None
    return written, same, removed


def _read(path: Path) -> str | None:
    """A file's text, or None when it cannot be read as UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
