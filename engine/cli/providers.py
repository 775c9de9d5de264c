"""``bcdr providers``: the installed providers; ``bcdr providers schema -json`` their schemas.

Always holds: ``schema -json`` prints only JSON on stdout, in the shape of ``terraform
providers schema -json`` (format 1.0), for every installed provider; a provider's source
address is ``<distribution>/<name>`` (``bcdr/platform``), as bcdr has no registry host.
"""

from __future__ import annotations

import click

from engine.cli.app import (
    CliError,
    main,
    print_json,
    registry_of,
    session_of,
)
from sdk.cli import opt


def _sources() -> dict[str, str]:
    from importlib.metadata import entry_points

    return {
        ep.name: f"{ep.dist.name if ep.dist else 'bcdr'}/{ep.name}"
        for ep in entry_points(group="bcdr.providers")
    }


@main.group(invoke_without_command=True)
@click.pass_context
def providers(ctx: click.Context) -> None:
    """List the installed providers and their resource types; `providers schema -json`."""
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
    sources = _sources()
    print_json(
        ui,
        provider_schemas_json(
            {
                sources.get(name, name): (getattr(p, "config_schema", None), p.schemas())
                for name, p in registry_of(s).providers.items()
            }
        ),
    )
