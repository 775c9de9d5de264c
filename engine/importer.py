"""``bcdr import ADDR ID``: bring an existing platform object under bcdr's management.

The address must name a resource (and, for ``count``/``for_each``, an instance key) that the
configuration declares and the state does not yet hold; the provider looks the object up
by its id, the engine reads it back and saves it with the resource's direct dependencies.
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
    try:
        inst = InstanceAddr.parse(address)
    except ValueError as err:
        return Diagnostics([error("Invalid import address", str(err))])
    res = config.resources.get(inst.resource)
    if res is None:
        return Diagnostics(
            [
                error(
                    f"{inst.resource} is not in the configuration",
                    f'add a resource "{inst.type}" "{inst.name}" {{ ... }} block for it to '
                    "the *.hcl files first, then import",
                    address=address,
                )
            ]
        )
    repeated = res.count is not None or res.for_each is not None
    if repeated and inst.key is None:
        return Diagnostics(
            [
                error(
                    f"{address} has count or for_each: name one instance",
                    f'for example {inst.resource}[0] or {inst.resource}["key"]',
                    res.range,
                    address=address,
                )
            ]
        )
    if not repeated and inst.key is not None:
        return Diagnostics(
            [error(f"{inst.resource} has no count or for_each", "drop the [index]", res.range)]
        )
    if state.get(str(inst)) is not None:
        return Diagnostics(
            [
                error(
                    f"{inst} is already managed by bcdr",
                    "it is in the state already; to import another object there, first "
                    f"run: bcdr state rm {inst}",
                    address=str(inst),
                )
            ]
        )
    provider = registry.provider_for(inst.type)
    if provider is None:
        return Diagnostics([error(f'Unknown resource type "{inst.type}"', "", res.range)])
    diags = configure_providers(config, registry, variables, working_dir)
    if diags.has_errors:
        return diags
    resp = provider.import_resource(ImportRequest(inst.type, str(inst), id))
    diags.extend(resp.diagnostics)
    if resp.diagnostics.has_errors or resp.state is None:
        if not diags.has_errors:
            diags.append(error(f"Object {id} was not found", "check the id", address=str(inst)))
        return diags
    read = provider.read(ReadRequest(inst.type, str(inst), id, resp.state))
    diags.extend(read.diagnostics)
    attrs = read.new_state if read.new_state is not None else resp.state
    if diags.has_errors or not is_wholly_known(attrs):
        return diags
    graph, _ = build_graph(config, [])
    schema = registry.schema(inst.type)
    state.put(
        InstanceRecord(
            address=str(inst),
            type=inst.type,
            name=inst.name,
            index_key=inst.key,
            provider=provider.name,
            id=str(attrs.get("id", id)),
            attributes=attrs,
            dependencies=[str(d) for d in graph.dependencies(inst.resource)],
            schema_version=schema.version if schema else 0,
            sensitive=sensitive_paths(schema) if schema else [],
        )
    )
    return diags
