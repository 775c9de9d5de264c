"""Resource schemas → the JSON of ``terraform providers schema -json`` (format 1.0).

``provider_schemas_json`` gives ``{"format_version": "1.0", "provider_schemas": {source:
{"provider": …, "resource_schemas": {type: {"version", "block"}}}}}``. A block holds
``attributes`` and ``block_types`` (an attribute with a nested ``block`` is a block type,
``nesting_mode`` single or list) and a description. Always holds: an attribute carries
``type`` as Terraform's JSON type expression (``"string"``, ``["list", "string"]``,
``["object", {…}]``; ``any`` is ``"dynamic"``) and only the flags that are true among
required/optional/computed/sensitive, as Terraform omits false ones; every object's keys
are sorted, so the output is stable.
"""

from __future__ import annotations

from typing import Any

from engine.typeconv import TypeConstraint, parse_type
from sdk.schema import Attribute, Schema

FORMAT_VERSION = "1.0"
_FLAGS = ("required", "optional", "computed", "sensitive")


def type_json(t: TypeConstraint) -> Any:
    """Terraform's JSON form of a type constraint (cty's type JSON)."""
    if t.kind == "any":
        return "dynamic"
    if t.kind in ("list", "set", "map"):
        return [t.kind, type_json(t.elem or TypeConstraint("any"))]
    if t.kind == "object":
        shape: list[Any] = ["object", {k: type_json(v) for k, v in sorted(t.attrs)}]
        if t.optional:
            shape.append(sorted(t.optional))
        return shape
    if t.kind == "tuple":
        return ["tuple", [type_json(e) for e in t.elems]]
    return t.kind


def _attribute_json(a: Attribute) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type_json(parse_type(a.type))}
    if a.description:
        out["description"] = a.description
    out["description_kind"] = "plain"
    out.update({flag: True for flag in _FLAGS if getattr(a, flag)})
    return out


def _block_type_json(a: Attribute, block: Schema) -> dict[str, Any]:
    out: dict[str, Any] = {"nesting_mode": a.nesting or "single", "block": block_json(block)}
    if a.nesting == "list" and a.required:
        out["min_items"] = 1
    return out


def block_json(schema: Schema) -> dict[str, Any]:
    """A schema's block: its attributes, its nested blocks and its description."""
    out: dict[str, Any] = {}
    attributes = {n: a for n, a in sorted(schema.attributes.items()) if a.block is None}
    blocks = {n: a for n, a in sorted(schema.attributes.items()) if a.block is not None}
    if attributes:
        out["attributes"] = {n: _attribute_json(a) for n, a in attributes.items()}
    if blocks:
        out["block_types"] = {
            n: _block_type_json(a, a.block) for n, a in blocks.items() if a.block is not None
        }
    if schema.description:
        out["description"] = schema.description
    out["description_kind"] = "plain"
    return out


def schema_json(schema: Schema) -> dict[str, Any]:
    return {"version": schema.version, "block": block_json(schema)}


def provider_schemas_json(
    providers: dict[str, tuple[Schema | None, dict[str, Schema]]],
) -> dict[str, Any]:
    """``providers``: by source address, the provider block's schema (None: it takes no
    arguments) and the resource types' schemas."""
    return {
        "format_version": FORMAT_VERSION,
        "provider_schemas": {
            source: {
                "provider": schema_json(config or Schema({})),
                "resource_schemas": {t: schema_json(s) for t, s in sorted(types.items())},
            }
            for source, (config, types) in sorted(providers.items())
        },
    }
