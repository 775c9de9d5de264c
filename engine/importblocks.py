"""``import { to = ADDR  id = "…" }`` blocks and ``bcdr plan -generate-config-out=FILE``.

As Terraform's (1.5+): an import block adopts an existing platform object at a resource
address during the plan. The plan reads the object (``engine/importer.read_object``),
takes it as the prior state of ``to``, and diffs the configuration against it, so the plan
shows ``# ADDR will be imported`` and any update the configuration asks for; the apply
writes the object to the state first (``engine/refactor.persist_refactoring``), then
applies the update. A block whose ``to`` the state already holds does nothing, so it may
stay after the apply. ``id`` is a string known at plan time: a literal, or an expression
of variables and functions. With ``-generate-config-out=FILE``, an import block whose
``to`` is not declared gets a resource block written into FILE (a new file), from the
object's arguments, and the plan goes on with it.

Always holds: nothing is written to the state by a plan; every problem names the block's
file:line; nothing here names a resource type.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.configmodel import Block, ImportBlock
from engine.expr import evaluate
from engine.exprnodes import EvalContext, EvalError
from engine.importer import fetch_object, read_object
from engine.plan import Imported
from engine.refactor import reference_address
from sdk.diagnostics import Diagnostic, Diagnostics, error
from sdk.values import UNKNOWN

if TYPE_CHECKING:
    from engine.configmodel import Config
    from engine.registry import Registry
    from sdk.schema import Schema
    from state.records import InstanceRecord

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def decode_import(block: Block, d: list[Diagnostic]) -> ImportBlock | None:
    for attr in block.body.attributes.values():
        if attr.name not in ("to", "id"):
            d.append(
                error(
                    f'Unsupported argument "{attr.name}" in an import block',
                    "an import block holds to and id",
                    attr.range,
                )
            )
    for nested in block.body.blocks:
        d.append(error(f'Unexpected block "{nested.type}" in an import block', "", nested.range))
    to, id_attr = block.body.attributes.get("to"), block.body.attributes.get("id")
    if to is None or id_attr is None:
        missing = "to" if to is None else "id"
        d.append(
            error(
                f'Missing "{missing}" in an import block',
                'write import { to = TYPE.NAME  id = "THE OBJECT\'S ID" }',
                block.range,
            )
        )
        return None
    addr = reference_address(to.expr)
    if addr is None:
        d.append(
            error(
                'Invalid "to" in an import block',
                'to is a resource (TYPE.NAME) or one of its instances (TYPE.NAME["k"]), '
                "written without quotes",
                to.range,
            )
        )
        return None
    return ImportBlock(str(addr), id_attr.expr, block.range)


class _Records:
    """What ``read_object`` asks of the state, over the plan's records (moves applied)."""

    def __init__(self, records: list[InstanceRecord]) -> None:
        self._by = {r.address: r for r in records}

    def get(self, address: str) -> InstanceRecord | None:
        return self._by.get(address)


def _id_of(config: Config, block: ImportBlock, variables: dict[str, Any], working_dir: Path) -> Any:
    ctx = EvalContext(
        variables=variables,
        locals={},
        resources=_no_resources,
        path_module=str(working_dir),
        path_cwd=str(working_dir),
        workspace=config.workspace,
    )
    return evaluate(block.id, ctx)


def _no_resources(addr: Any) -> Any:
    raise KeyError(addr)


def plan_imports(
    config: Config,
    records: list[InstanceRecord],
    registry: Registry,
    variables: dict[str, Any],
    working_dir: Path,
) -> tuple[list[InstanceRecord], list[Imported], Diagnostics]:
    """The records plus the objects the import blocks adopt, and what the plan records."""
    diags = Diagnostics()
    held = _Records(records)
    out = list(records)
    imported: list[Imported] = []
    seen: dict[str, ImportBlock] = {}
    for block in config.imports:
        other = seen.setdefault(block.to, block)
        if other is not block:
            diags.append(
                error(
                    "Duplicate import configuration",
                    f"{block.to} is imported at {other.range} already; keep one of them",
                    block.range,
                )
            )
            continue
        if held.get(block.to) is not None:
            continue  # imported before: the block may stay
        try:
            id = _id_of(config, block, variables, working_dir)
        except EvalError as err:
            diags.append(
                error(
                    "Invalid import id",
                    f"{err.summary}; the id must be known when the plan is made: a string, "
                    "or an expression of variables and functions",
                    err.range or block.range,
                )
            )
            continue
        if id is UNKNOWN or not isinstance(id, str) or not id:
            diags.append(
                error(
                    "Invalid import id",
                    "the id is not a non-empty string known at plan time",
                    block.range,
                )
            )
            continue
        record, sub = read_object(config, held, registry, block.to, id, where=block.range)
        diags.extend(sub)
        if record is None:
            continue
        out.append(record)
        held._by[record.address] = record
        imported.append(Imported(record.address, id, _record_json(record)))
    return out, imported, diags


def _record_json(record: InstanceRecord) -> dict[str, Any]:
    return {
        "address": record.address,
        "type": record.type,
        "name": record.name,
        "index_key": record.index_key,
        "provider": record.provider,
        "id": record.id,
        "attributes": record.attributes,
        "dependencies": list(record.dependencies),
        "schema_version": record.schema_version,
        "sensitive": list(record.sensitive),
    }


# ------------------------------------------------------------------ configuration generation
def generate_config(
    config: Config,
    registry: Registry,
    variables: dict[str, Any],
    working_dir: Path,
    out: Path,
) -> Diagnostics:
    """Write a resource block into ``out`` for each import block whose ``to`` is not
    declared, from the object's arguments (the providers configured). ``out`` must not
    exist: it is written whole, once."""
    diags = Diagnostics()
    wanted = [b for b in config.imports if _resource_of(b.to) not in config.resources]
    if not wanted:
        return diags
    if out.exists():
        diags.append(
            error(
                f"Target generated file already exists: {out.name}",
                "-generate-config-out writes a new file; give another name, or delete it",
            )
        )
        return diags
    blocks: list[str] = []
    for block in wanted:
        try:
            id = _id_of(config, block, variables, working_dir)
        except EvalError as err:
            diags.append(error("Invalid import id", err.summary, err.range or block.range))
            continue
        resource = _resource_of(block.to)
        type_name, name = resource.type, resource.name
        provider = registry.provider_for(type_name)
        schema = registry.schema(type_name)
        if provider is None or schema is None:
            diags.append(error(f'Unknown resource type "{type_name}"', "", block.range))
            continue
        attrs, sub = fetch_object(provider, type_name, block.to, id, block.range, None)
        diags.extend(sub)
        if attrs is None:
            continue
        blocks.append(
            f"# __generated__ by bcdr from the import block at {block.range}\n"
            f"# Please review these resources and move them into your main configuration.\n"
            f'resource "{type_name}" "{name}" {{\n{_body(attrs, schema, 2)}}}\n'
        )
    if diags.has_errors or not blocks:
        return diags
    from engine.fmt import format_source  # engine.fmt reads engine.config, which reads us

    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(format_source("\n".join(blocks), out.name), encoding="utf-8")
    tmp.replace(out)
    return diags


def _resource_of(address: str) -> Any:
    from sdk.addrs import InstanceAddr

    return InstanceAddr.parse(address).resource


def _body(values: dict[str, Any], schema: Schema, indent: int) -> str:
    pad = " " * indent
    lines: list[str] = []
    for key, attr in schema.attributes.items():
        if key == "id" or not (attr.required or attr.optional):
            continue  # computed only: the platform's to say
        value = values.get(key)
        if value is None or value is UNKNOWN or (attr.sensitive and value):
            if attr.required:
                lines.append(f"{pad}{key} = null # sensitive or unknown: set it")
            continue
        if attr.block is not None:
            items = [value] if attr.nesting == "single" else list(value)
            for item in items:
                lines.append(f"{pad}{key} {{\n{_body(item, attr.block, indent + 2)}{pad}}}")
            continue
        if value == attr.default or value in ([], {}):
            continue
        lines.append(f"{pad}{key} = {_literal(value, indent)}")
    return "".join(f"{line}\n" for line in lines)


def _literal(value: Any, indent: int) -> str:
    """``value`` as an HCL literal: strings escaped so no template is read into them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("${", "$${").replace("%{", "%%{")
    pad = " " * (indent + 2)
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        inner = ",\n".join(f"{pad}{_literal(v, indent + 2)}" for v in value)
        return f"[\n{inner},\n{' ' * indent}]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        rows = []
        for k, v in value.items():
            key = k if _IDENT.match(str(k)) else json.dumps(str(k))
            rows.append(f"{pad}{key} = {_literal(v, indent + 2)}")
        return "{\n" + "\n".join(rows) + f"\n{' ' * indent}}}"
    return json.dumps(str(value))
