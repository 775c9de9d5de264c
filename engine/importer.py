"""``bcdr import ADDR ID`` and ``import`` blocks: bring an existing platform object under
bcdr's management.

The address must name a resource (and, for ``count``/``for_each``, an instance key) that the
configuration declares and the state does not yet hold; the provider looks the object up
by its id, the engine reads it back and saves it with the resource's direct dependencies.
``read_object`` reads it without writing (an ``import`` block's plan, ``engine/importblocks.py``).
Always holds: nothing is written unless the provider found the object; a refusal is a
diagnostic saying what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.evaluate import configure_providers
from engine.graph import build_graph
from sdk import ImportRequest, ReadRequest
from sdk.addrs import InstanceAddr
from sdk.diagnostics import Diagnostics, error
from sdk.values import is_wholly_known
from state import InstanceRecord, sensitive_paths

if TYPE_CHECKING:
    from engine.configmodel import Config
    from engine.registry import Registry


def import_resource(
    config: Config,
    state: Any,
    registry: Registry,
    variables: dict[str, Any],
    address: str,
    id: str,
    *,
    working_dir: Path,
) -> Diagnostics:
    """Import object ``id`` as ``address``; diagnostics say why not when refused."""
    diags = configure_providers(config, registry, variables, working_dir)
    if diags.has_errors:
        return diags
    record, sub = read_object(config, state, registry, address, id)
    diags.extend(sub)
    if record is not None and not diags.has_errors:
        state.put(record)
    return diags


def read_object(
    config: Config, state: Any, registry: Registry, address: str, id: str, where: Any = None
) -> tuple[InstanceRecord | None, Diagnostics]:
    """The record object ``id`` would have at ``address`` (the providers configured), read
    from the platform; nothing is written. ``where``: the source range to blame (an import
    block's), else the resource block's."""
    blame = None if where is not None else address  # an import block is not the resource
    try:
        inst = InstanceAddr.parse(address)
    except ValueError as err:
        return None, Diagnostics([error("Invalid import address", str(err), where)])
    res = config.resources.get(inst.resource)
    if res is None:
        return None, Diagnostics(
            [
                error(
                    f"{inst.resource} is not in the configuration"
                    if where is None
                    else f"Configuration for import target {inst.resource} does not exist",
                    f'add a resource "{inst.type}" "{inst.name}" {{ ... }} block for it to '
                    "the *.hcl files first, then import (or let `bcdr plan "
                    "-generate-config-out=FILE` write one from an import block)",
                    where,
                    address=blame,
                )
            ]
        )
    repeated = res.count is not None or res.for_each is not None
    if repeated and inst.key is None:
        return None, Diagnostics(
            [
                error(
                    f"{address} has count or for_each: name one instance",
                    f'for example {inst.resource}[0] or {inst.resource}["key"]',
                    where or res.range,
                    address=blame,
                )
            ]
        )
    if not repeated and inst.key is not None:
        return None, Diagnostics(
            [
                error(
                    f"{inst.resource} has no count or for_each",
                    "drop the [index]",
                    where or res.range,
                )
            ]
        )
    if state.get(str(inst)) is not None:
        return None, Diagnostics(
            [
                error(
                    f"{inst} is already managed by bcdr",
                    "it is in the state already; to import another object there, first "
                    f"run: bcdr state rm {inst}",
                    where,
                    address=blame,
                )
            ]
        )
    provider = registry.provider_for(inst.type, res.provider)
    if provider is None:
        return None, Diagnostics(
            [error(f'Unknown resource type "{inst.type}"', "", where or res.range)]
        )
    attrs, diags = fetch_object(provider, inst.type, str(inst), id, where, blame)
    if attrs is None or not is_wholly_known(attrs):
        return None, diags
    graph, _ = build_graph(config, [])
    schema = registry.schema(inst.type)
    record = InstanceRecord(
        address=str(inst),
        type=inst.type,
        name=inst.name,
        index_key=inst.key,
        provider=res.provider or provider.name,
        id=str(attrs.get("id", id)),
        attributes=attrs,
        dependencies=[str(d) for d in graph.dependencies(inst.resource)],
        schema_version=schema.version if schema else 0,
        sensitive=sensitive_paths(schema) if schema else [],
    )
    return record, diags


def fetch_object(
    provider: Any, type_name: str, address: str, id: str, where: Any, blame: str | None
) -> tuple[dict[str, Any] | None, Diagnostics]:
    """The object ``id`` as the provider finds and reads it back (None, with why, when it
    does not): what ``bcdr import``, an import block and ``-generate-config-out`` share."""
    diags = Diagnostics()
    resp = provider.import_resource(ImportRequest(type_name, address, id))
    diags.extend(resp.diagnostics)
    if resp.diagnostics.has_errors or resp.state is None:
        if not diags.has_errors:
            diags.append(error(f"Object {id} was not found", "check the id", where, address=blame))
        return None, diags
    read = provider.read(ReadRequest(type_name, address, id, resp.state))
    diags.extend(read.diagnostics)
    attrs = read.new_state if read.new_state is not None else resp.state
    return (None if diags.has_errors else attrs), diags
