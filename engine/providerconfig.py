"""Provider configurations: ``provider "NAME" { alias = "west" … }`` and the
``provider = NAME.ALIAS`` meta-argument of resources, as Terraform's.

A provider block without ``alias`` configures the provider's default instance; one with
``alias`` a second instance (``engine.registry.Registry.aliased``), which resources choose
with ``provider = platform.west``; a resource without the argument uses the default one.
Its objects are recorded with that address (``InstanceRecord.provider``), so refreshing
and destroying them use the same configuration even after the resource block is gone.

Always holds: every mistake names its file and line: an alias that is not a name, two
blocks for one address, a reference in quotes, a provider that does not serve the
resource's type, an alias no block declares.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from engine.configmodel import Block, Body, BodyAttribute, ProviderBlock
from engine.exprnodes import Literal
from engine.exprrefs import GetAttr, Name
from sdk.diagnostics import Diagnostic, Diagnostics, SourceRange, error

if TYPE_CHECKING:
    from engine.configmodel import Config
    from engine.registry import Registry

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def decode_provider(block: Block, d: list[Diagnostic]) -> ProviderBlock:
    """A provider block, its ``alias`` taken out of the body the provider is given."""
    attrs = dict(block.body.attributes)
    alias_attr = attrs.pop("alias", None)
    alias = None
    if alias_attr is not None:
        expr = alias_attr.expr
        value = expr.value if isinstance(expr, Literal) else None
        if not isinstance(value, str) or not _NAME.match(value):
            d.append(
                error(
                    "Invalid provider configuration alias",
                    'an alias is a name written as a string, for example alias = "west"',
                    alias_attr.range,
                )
            )
        else:
            alias = value
    body = Body(attrs, list(block.body.blocks), block.body.range)
    return ProviderBlock(block.labels[0], body, block.range, alias)


def decode_reference(attr: BodyAttribute, d: list[Diagnostic]) -> str | None:
    """A resource's ``provider = NAME`` or ``NAME.ALIAS``: the address, or None (with an
    error) when it is not one."""
    expr = attr.expr
    if isinstance(expr, Name):
        return expr.name
    if isinstance(expr, GetAttr) and isinstance(expr.obj, Name):
        return f"{expr.obj.name}.{expr.name}"
    d.append(
        error(
            "Invalid provider reference",
            "provider names a provider configuration, written without quotes: "
            "provider = platform.west",
            attr.range,
        )
    )
    return None


def duplicate(p: ProviderBlock, first: SourceRange) -> Diagnostic:
    what = f'"{p.address}"' if p.alias else f'"{p.name}" (the default, without alias)'
    return error(
        "Duplicate provider configuration",
        f"A provider configuration for {what} was already given at {first}. Merge the two, "
        f'or give this one another alias = "NAME" (and provider = {p.name}.NAME on the '
        "resources it is for).",
        p.range,
    )


def check_references(config: Config, registry: Registry) -> Diagnostics:
    """Each resource's ``provider`` serves its type and is configured."""
    diags = Diagnostics()
    for addr, res in config.resources.items():
        if not res.provider:
            continue
        name, _, alias = res.provider.partition(".")
        serving = registry.provider_for(addr.type)
        if serving is None:
            continue  # an unknown type is reported on its own
        if name != serving.name:
            diags.append(
                error(
                    f'Invalid provider "{name}" for {addr}',
                    f"{addr.type} is served by the {serving.name} provider: write provider = "
                    f"{serving.name} or {serving.name}.ALIAS",
                    res.provider_range,
                )
            )
        elif alias and res.provider not in config.providers:
            declared = [a for a in config.providers if a.startswith(f"{name}.")]
            diags.append(
                error(
                    f'Reference to undeclared provider configuration "{res.provider}"',
                    f'declare it with provider "{name}" {{ alias = "{alias}" … }}'
                    + (f"; declared: {', '.join(sorted(declared))}" if declared else ""),
                    res.provider_range,
                )
            )
    return diags
